//! `jellycell-lsp run` beside Python `jellycell run` 1.4.0 on the same notebook in the same
//! run: a cold run of 50 trivial cells, a fully cached run, and our per-cell overhead above
//! the kernel's own execute time (the runner's execution phase minus the sum of each cell's
//! execute round trip as the kernel client measured it), beside a bare `Kernel::execute`
//! loop over the same 50 sources for reference.
//!
//! Both tools use the Python environment jellycell is installed in (its ipykernel, and
//! `jellycell` importable in the kernel, so our prelude defines `jc` there too). The
//! jellycell executable is `JELLYCELL_BENCH_JELLYCELL`, else
//! `<repo>/target/jellycell-py/bin/jellycell`; without it the comparison is skipped and only
//! our figures are printed (then the kernel comes from `target/py`). Prints a markdown
//! table. Run with `cargo bench --bench run_vs_jellycell`.

#![allow(clippy::print_stdout, clippy::print_stderr)] // the report is this program's output

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use jellycell_lsp::analysis::workspace::Workspace;
use jellycell_lsp::cache::Store;
use jellycell_lsp::kernel::{Kernel, KernelOptions, SpecSearch};
use jellycell_lsp::project::Project;
use jellycell_lsp::run::{Parameters, RunEvent, RunOptions, execute_plan, plan_run};
use support::kernel_environment;

const CELLS: usize = 50;
const COLD_SAMPLES: usize = 3;
const CACHED_SAMPLES: usize = 5;
const OVERHEAD_SAMPLES: usize = 5;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn notebook() -> String {
    (0..CELLS)
        .map(|cell| format!("# %% tags=[\"name=c{cell}\"]\nx{cell} = {cell}\n\n"))
        .collect()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

fn timed(command: &mut Command) -> Duration {
    let started = Instant::now();
    let output = command.output().expect("command runs");
    let elapsed = started.elapsed();
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}

fn main() {
    let jellycell = std::env::var_os("JELLYCELL_BENCH_JELLYCELL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/jellycell-py/bin/jellycell"));
    let jellycell = jellycell.is_file().then_some(jellycell);
    let bin = match &jellycell {
        Some(jellycell) => jellycell
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        None => {
            eprintln!("jellycell not found; measuring jellycell-lsp alone with target/py");
            repo().join("target/py/bin")
        }
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"bench\"\n").expect("toml");
    std::fs::create_dir_all(root.join("notebooks")).expect("mkdir");
    std::fs::write(root.join("notebooks/bench.py"), notebook()).expect("notebook");
    let ours = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"));
        command.args(args).current_dir(root);
        kernel_environment(&mut command, &bin);
        command
    };
    let theirs = |args: &[&str]| {
        let mut command = Command::new(jellycell.clone().unwrap_or_default());
        command.args(args).current_dir(root);
        kernel_environment(&mut command, &bin);
        command
    };
    let clear = || {
        let _ = std::fs::remove_dir_all(root.join(".jellycell"));
        let _ = std::fs::remove_dir_all(root.join("manuscripts"));
    };

    // Cold: no cache at all, both tools alternating.
    let mut cold_ours = Vec::new();
    let mut cold_theirs = Vec::new();
    for _ in 0..COLD_SAMPLES {
        clear();
        cold_ours.push(timed(&mut ours(&["run", "notebooks/bench.py", "--json"])));
        if jellycell.is_some() {
            clear();
            cold_theirs.push(timed(&mut theirs(&["--json", "run", "notebooks/bench.py"])));
        }
    }
    // Fully cached: both caches filled.
    clear();
    timed(&mut ours(&["run", "notebooks/bench.py", "--json"]));
    if jellycell.is_some() {
        timed(&mut theirs(&["--json", "run", "notebooks/bench.py"]));
    }
    let mut cached_ours = Vec::new();
    let mut cached_theirs = Vec::new();
    for _ in 0..CACHED_SAMPLES {
        cached_ours.push(timed(&mut ours(&["run", "notebooks/bench.py", "--json"])));
        if jellycell.is_some() {
            cached_theirs.push(timed(&mut theirs(&["--json", "run", "notebooks/bench.py"])));
        }
    }

    let (runner, kernel_time, raw) = overhead(root, &bin);
    let per_cell = |phase: Duration| phase / CELLS as u32;
    let overhead_per_cell = per_cell(runner.saturating_sub(kernel_time));

    println!("| measurement | jellycell-lsp | jellycell 1.4.0 | ratio |");
    println!("|---|---|---|---|");
    let row = |name: &str, ours: Vec<Duration>, theirs: Vec<Duration>| {
        let ours = median(ours);
        if theirs.is_empty() {
            println!("| {name} | {} | – | – |", ms(ours));
        } else {
            let theirs = median(theirs);
            println!(
                "| {name} | {} | {} | {:.1}× faster |",
                ms(ours),
                ms(theirs),
                theirs.as_secs_f64() / ours.as_secs_f64()
            );
        }
    };
    row(
        &format!("cold run, {CELLS} trivial cells (median of {COLD_SAMPLES})"),
        cold_ours,
        cold_theirs,
    );
    row(
        &format!("fully cached run (median of {CACHED_SAMPLES})"),
        cached_ours,
        cached_theirs,
    );
    println!(
        "| per-cell overhead above the kernel's execute time (median of {OVERHEAD_SAMPLES} runs) | {:.3} ms | – | – |",
        overhead_per_cell.as_secs_f64() * 1000.0
    );
    println!(
        "| per cell: runner phase / its kernel execute time / bare `Kernel::execute` loop | {} / {} / {} | – | – |",
        ms(per_cell(runner)),
        ms(per_cell(kernel_time)),
        ms(per_cell(raw))
    );
}

/// The runner's execution phase (first cell started → last cell finished, all 50 cells
/// missing), the sum of its cells' kernel execute times, and the same 50 sources sent with
/// bare `Kernel::execute` on a kernel from the same environment. The first two come from the
/// run with the median overhead; the third is a median over alternating samples.
fn overhead(root: &Path, bin: &Path) -> (Duration, Duration, Duration) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let search = SpecSearch {
        data_dirs: vec![bin.parent().unwrap_or(bin).join("share/jupyter")],
        path: vec![bin.to_path_buf()],
    };
    let path = root.join("notebooks/bench.py");
    let project = Project::discover(&path);
    let (workspace, _) = Workspace::load(project, std::slice::from_ref(&path));
    let file = workspace.file_index(&path).expect("notebook loaded");
    let store = Store::open(&workspace.project);
    let options = RunOptions {
        keep_going: false,
        search: search.clone(),
        runtime_dir: None,
        server: None,
    };
    let sources: Vec<String> = (0..CELLS)
        .map(|cell| format!("x{cell} = {cell}\n"))
        .collect();
    let mut runner_samples = Vec::new();
    let mut raw_samples = Vec::new();
    for _ in 0..OVERHEAD_SAMPLES {
        // Cold, as a first run is: no manifest exists for any key. (Forcing re-runs over
        // existing manifests instead measures ext4's writeback on rename-over-existing,
        // about 1.5 ms per file with the default `auto_da_alloc`.)
        let _ = std::fs::remove_dir_all(root.join(".jellycell/cache/jellycell-lsp/manifests"));
        let plan = plan_run(&workspace, file, &Parameters::default(), false, &store);
        assert!(plan.cells.iter().all(|cell| cell.hit.is_none()));
        let mut first: Option<Instant> = None;
        let mut last: Option<Instant> = None;
        let report = runtime
            .block_on(execute_plan(
                &workspace.project,
                &plan,
                &store,
                &options,
                &mut |event| match event {
                    RunEvent::CellStarted { .. } => {
                        first.get_or_insert_with(Instant::now);
                    }
                    RunEvent::CellFinished { .. } => last = Some(Instant::now()),
                    RunEvent::KernelStarting { .. } | RunEvent::CellOutputs { .. } => {}
                },
            ))
            .expect("run");
        assert_eq!(report.cells.len(), CELLS);
        let kernel_time: Duration = report.cells.iter().map(|cell| cell.kernel_time).sum();
        if let (Some(first), Some(last)) = (first, last) {
            runner_samples.push((last - first, kernel_time));
        }

        let raw = runtime.block_on(async {
            let kernel = Kernel::start_named(
                "python3",
                search.clone(),
                KernelOptions::new(root.to_path_buf()),
            )
            .await
            .expect("kernel starts");
            let started = Instant::now();
            for source in &sources {
                kernel
                    .execute(source.clone(), Some(Duration::from_secs(600)))
                    .await;
            }
            let elapsed = started.elapsed();
            let _ = kernel.shutdown().await;
            elapsed
        });
        raw_samples.push(raw);
    }
    runner_samples.sort_by_key(|(phase, kernel_time)| phase.saturating_sub(*kernel_time));
    let (phase, kernel_time) = runner_samples[runner_samples.len() / 2];
    (phase, kernel_time, median(raw_samples))
}

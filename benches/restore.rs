//! State restore (issue #21) beside Python `jellycell run` and `papermill`, in one run.
//!
//! A notebook whose first cell takes 5 s (`time.sleep(5)`, then a list of 10**6 integers
//! and a small dict) and whose last cell prints from both. After editing only the last
//! cell: `jellycell-lsp run` skips the slow cell and restores its values (the report's
//! run phase, which begins once the kernel is up, should stay under 0.5 s); `jellycell
//! run` fails with `NameError`; `papermill` re-runs everything. Then a fully cached run of
//! each tool, and the throughput of restoring a 100 MB list (100 000 random 1000-byte
//! strings) into a fresh kernel.
//!
//! Tools come from `JELLYCELL_BENCH_BIN` (a Python environment's `bin/`), else the folder
//! of `JELLYCELL_TEST_PYTHON`, else `<repo>/target/py/bin`: its `python3` kernel, `jellycell`, `papermill` and `jupytext`.
//! A missing peer is skipped with a message. Prints a markdown table. Run with
//! `cargo bench --bench restore`.

#![allow(clippy::print_stdout, clippy::print_stderr)] // the report is this program's output

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::kernel_environment;

const SLOW: &str = r#"# %% tags=["jc.step", "name=slow"]
import time
time.sleep(5)
numbers = list(range(10**6))
lookup = {"a": 1, "b": 2, "c": 3}

# %% tags=["jc.step", "name=report"]
print(sum(numbers), lookup["b"])
"#;

const EDITED_PRINT: &str = "print(sum(numbers), lookup[\"b\"], \"edited\")";

const BIG: &str = r#"# %% tags=["jc.step", "name=make"]
import os
blob = [os.urandom(1000) for _ in range(100_000)]

# %% tags=["jc.step", "name=use"]
print(len(blob))
"#;

const CACHED_SAMPLES: usize = 5;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Tools {
    bin: PathBuf,
}

impl Tools {
    fn tool(&self, name: &str) -> Option<PathBuf> {
        let path = self.bin.join(name);
        path.is_file().then_some(path)
    }

    fn command(&self, program: &Path, root: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command.args(args).current_dir(root);
        kernel_environment(&mut command, &self.bin);
        command
    }
}

fn timed(mut command: Command) -> (Duration, Output) {
    let started = Instant::now();
    let output = command.output().expect("command runs");
    (started.elapsed(), output)
}

fn succeeded(what: &str, (elapsed, output): (Duration, Output)) -> (Duration, Output) {
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (elapsed, output)
}

fn report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("run --json prints a report")
}

fn cell<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["cells"]
        .as_array()
        .and_then(|cells| cells.iter().find(|cell| cell["name"] == name))
        .expect("cell in report")
}

fn ms(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("jellycell.toml"),
        "[project]\nname = \"bench\"\n",
    )
    .expect("toml");
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap_or(dir.path())).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

fn main() {
    let tools = Tools {
        bin: std::env::var_os("JELLYCELL_BENCH_BIN")
            .map(PathBuf::from)
            .or_else(|| {
                let python = PathBuf::from(std::env::var_os("JELLYCELL_TEST_PYTHON")?);
                python.parent().map(Path::to_path_buf)
            })
            .unwrap_or_else(|| repo().join("target/py/bin")),
    };
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_jellycell-lsp"));
    let notebook = "notebooks/slow.py";
    let dir = project(&[(notebook, SLOW)]);
    let root = dir.path();
    let edited = SLOW.replace("print(sum(numbers), lookup[\"b\"])", EDITED_PRINT);
    println!("load average at start: {}", support::load());
    println!();
    println!("| measurement | jellycell-lsp | peer | note |");
    println!("|---|---|---|---|");

    // Cold, then only the last cell edited.
    let (cold, _) = succeeded(
        "cold run",
        timed(tools.command(&ours, root, &["run", notebook, "--json"])),
    );
    std::fs::write(root.join(notebook), &edited).expect("edit");
    let (wall, output) = succeeded(
        "edited run",
        timed(tools.command(&ours, root, &["run", notebook, "--json"])),
    );
    let edited_report = report(&output);
    let after_kernel =
        Duration::from_millis(edited_report["total_duration_ms"].as_u64().unwrap_or(0));
    let last = cell(&edited_report, "report");
    assert_eq!(cell(&edited_report, "slow")["status"], "cached");
    assert_eq!(last["status"], "ok", "{edited_report}");
    let restored: Vec<&str> = last["restored"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|name| name["name"].as_str())
        .collect();
    let replayed = last["replayed"].as_array().map_or(0, Vec::len);
    // The same run phase for a last cell that reads nothing: the prelude (importing
    // jellycell when the kernel has it), the helper and a trivial cell.
    std::fs::write(
        root.join(notebook),
        SLOW.replace(
            "print(sum(numbers), lookup[\"b\"])",
            "print(\"nothing read\")",
        ),
    )
    .expect("edit");
    let (_, output) = succeeded(
        "baseline run",
        timed(tools.command(&ours, root, &["run", notebook, "--json"])),
    );
    let baseline_report = report(&output);
    assert!(cell(&baseline_report, "report")["restored"] == serde_json::json!([]));
    let baseline =
        Duration::from_millis(baseline_report["total_duration_ms"].as_u64().unwrap_or(0));

    let mut jellycell_note = "jellycell not installed: skipped".to_string();
    let mut jellycell_edited = None;
    if let Some(jellycell) = tools.tool("jellycell") {
        std::fs::write(root.join(notebook), SLOW).expect("restore text");
        succeeded(
            "jellycell cold run",
            timed(tools.command(&jellycell, root, &["--json", "run", notebook])),
        );
        std::fs::write(root.join(notebook), &edited).expect("edit");
        let (elapsed, output) =
            timed(tools.command(&jellycell, root, &["--json", "run", notebook]));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        jellycell_note = if !output.status.success() && text.contains("NameError") {
            "jellycell 1.4.0: fails with NameError".to_string()
        } else {
            format!("jellycell 1.4.0: exit {:?}", output.status.code())
        };
        jellycell_edited = Some(elapsed);
    }
    println!(
        "| edit the last cell, run: wall time | {} | {} | {jellycell_note} |",
        ms(wall),
        jellycell_edited.map_or("–".into(), ms)
    );
    println!(
        "| … of which after the kernel started (prelude, restore, cell) | {} | – | restored {}; {replayed} replayed; goal < 500 ms |",
        ms(after_kernel),
        restored.join(", ")
    );
    println!(
        "| … the same for a last cell that reads nothing (prelude, cell) | {} | – | the restore costs the difference, {} |",
        ms(baseline),
        ms(after_kernel.saturating_sub(baseline))
    );
    match (tools.tool("papermill"), tools.tool("jupytext")) {
        (Some(papermill), Some(jupytext)) => {
            succeeded(
                "jupytext",
                timed(tools.command(
                    &jupytext,
                    root,
                    &["--to", "ipynb", "-o", "slow.ipynb", notebook],
                )),
            );
            let (elapsed, _) = succeeded(
                "papermill",
                timed(tools.command(
                    &papermill,
                    root,
                    &[
                        "-k",
                        "python3",
                        "--no-progress-bar",
                        "slow.ipynb",
                        "out.ipynb",
                    ],
                )),
            );
            println!(
                "| edit the last cell, run (papermill re-runs everything) | {} | {} | papermill 2.7 |",
                ms(wall),
                ms(elapsed)
            );
        }
        _ => eprintln!("papermill or jupytext not installed: papermill skipped"),
    }
    println!(
        "| cold run (for reference) | {} | – | the 5 s cell runs |",
        ms(cold)
    );

    // Fully cached: the original text, which both caches hold.
    std::fs::write(root.join(notebook), SLOW).expect("restore text");
    let mut cached_ours = Vec::new();
    let mut cached_theirs = Vec::new();
    for _ in 0..CACHED_SAMPLES {
        let (elapsed, _) = succeeded(
            "cached run",
            timed(tools.command(&ours, root, &["run", notebook, "--json"])),
        );
        cached_ours.push(elapsed);
        if let Some(jellycell) = tools.tool("jellycell") {
            let (elapsed, _) = succeeded(
                "jellycell cached run",
                timed(tools.command(&jellycell, root, &["--json", "run", notebook])),
            );
            cached_theirs.push(elapsed);
        }
    }
    let ours_cached = median(cached_ours);
    if cached_theirs.is_empty() {
        println!(
            "| fully cached run (median of {CACHED_SAMPLES}) | {} | – | – |",
            ms(ours_cached)
        );
    } else {
        let theirs = median(cached_theirs);
        println!(
            "| fully cached run (median of {CACHED_SAMPLES}) | {:.1} ms | {} | {:.0}× faster than jellycell run |",
            ours_cached.as_secs_f64() * 1000.0,
            ms(theirs),
            theirs.as_secs_f64() / ours_cached.as_secs_f64()
        );
    }

    // Restore throughput: a 100 MB list restored into a fresh kernel, against a run of the
    // same shape whose cell reads nothing (prelude, helper, cell).
    let big = project(&[("notebooks/big.py", BIG)]);
    let big_root = big.path();
    succeeded(
        "big cold run",
        timed(tools.command(&ours, big_root, &["run", "notebooks/big.py", "--json"])),
    );
    let phase = |text: &str| {
        std::fs::write(big_root.join("notebooks/big.py"), text).expect("edit");
        let (_, output) = succeeded(
            "big run",
            timed(tools.command(&ours, big_root, &["run", "notebooks/big.py", "--json"])),
        );
        report(&output)
    };
    let restoring = phase(&BIG.replace("print(len(blob))", "print(len(blob), 1)"));
    assert_eq!(
        cell(&restoring, "use")["restored"][0]["name"],
        "blob",
        "{restoring}"
    );
    let baseline = phase(&BIG.replace("print(len(blob))", "print(2)"));
    let millis = |report: &Value| report["total_duration_ms"].as_u64().unwrap_or(0);
    let listed = Command::new(&ours)
        .args(["cache", "list", "--json"])
        .current_dir(big_root)
        .output()
        .expect("cache list");
    let listed: Value = serde_json::from_slice(&listed.stdout).expect("cache list JSON");
    let bytes: u64 = listed["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["snapshot_bytes"].as_u64())
        .max()
        .unwrap_or(0);
    let restore_ms = millis(&restoring).saturating_sub(millis(&baseline)).max(1);
    println!(
        "| restore a {:.0} MB list into a fresh kernel | {} ms ({:.0} MB/s) | – | run phase {} ms vs {} ms without the restore |",
        bytes as f64 / 1e6,
        restore_ms,
        bytes as f64 / 1e6 / (restore_ms as f64 / 1000.0),
        millis(&restoring),
        millis(&baseline)
    );
    println!();
    println!("load average at end: {}", support::load());
}

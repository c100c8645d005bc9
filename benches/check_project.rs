//! Benchmark (figures, not pass/fail): `jellycell-lsp --check` over a generated project of
//! 200 notebooks × 50 cells, beside Python `jellycell --json lint` on the same project in
//! the same run, and `--check` on one notebook: each cold (no check cache), warm (the
//! cache of the previous run) and, for the whole project, with `--no-cache`.
//!
//! Run: `cargo bench --bench check_project`. Python jellycell is taken from
//! `JELLYCELL_BENCH_JELLYCELL`, else `target/jellycell-py/bin/jellycell`
//! (`python3 -m venv target/jellycell-py && target/jellycell-py/bin/pip install jellycell==1.4.0`);
//! without it only our figures are printed.

#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const NOTEBOOKS: usize = 200;
const CELLS: usize = 50;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    generate_project(root);
    // Files written a moment ago are "racy" for the cache (their stamps are checked by
    // content too); a real project's notebooks were not all written in the last 2 s.
    std::thread::sleep(Duration::from_millis(2500));
    let ours = env!("CARGO_BIN_EXE_jellycell-lsp");
    let one = root.join("notebooks/nb000.py");
    let cache = root.join(".jellycell/cache/jellycell-lsp/check");
    let whole = || {
        run(Command::new(ours)
            .args(["--check", "--format", "json"])
            .current_dir(root))
    };
    let single = || {
        run(Command::new(ours)
            .args(["--check", "--format", "json"])
            .arg(&one)
            .current_dir(root))
    };
    let forget = || {
        let _ = std::fs::remove_dir_all(&cache);
    };

    let lines: usize = std::fs::read_dir(root.join("notebooks"))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
                .map(|text| text.lines().count())
                .sum()
        })
        .unwrap_or(0);

    let uncached = time_runs(5, || {
        run(Command::new(ours)
            .args(["--check", "--format", "json", "--no-cache"])
            .current_dir(root))
    });
    let cold = time_cold(5, forget, whole);
    let warm = time_runs(20, whole);
    let edited_notebook = root.join("notebooks/nb100.py");
    let edit = || {
        let mut text = std::fs::read_to_string(&edited_notebook).expect("read notebook");
        text.push_str("# edited\n");
        std::fs::write(&edited_notebook, text).expect("write notebook");
    };
    whole();
    let edited = time_cold(10, edit, whole);
    let one_cold = time_cold(10, forget, single);
    let one_warm = time_runs(20, single);

    println!(
        "Project: {NOTEBOOKS} notebooks × {CELLS} cells ({lines} lines), machine: {} cores",
        cores()
    );
    println!();
    println!("| command | runs | median | min |");
    println!("|---|---|---|---|");
    row(
        "jellycell-lsp --check --no-cache (whole project)",
        &uncached,
    );
    row(
        "jellycell-lsp --check (whole project, cold: no cache)",
        &cold,
    );
    row("jellycell-lsp --check (whole project, warm)", &warm);
    row(
        "jellycell-lsp --check (whole project, warm, one notebook edited since)",
        &edited,
    );
    row(
        "jellycell-lsp --check notebooks/nb000.py (one notebook, cold: no cache)",
        &one_cold,
    );
    row(
        "jellycell-lsp --check notebooks/nb000.py (one notebook, warm)",
        &one_warm,
    );
    match jellycell() {
        Some(jellycell) => {
            let theirs = time_runs(3, || {
                run(Command::new(&jellycell)
                    .args(["--json", "lint"])
                    .current_dir(root))
            });
            row("jellycell --json lint (1.4.0, whole project)", &theirs);
            println!();
            let ratio =
                |ours: &[Duration]| median(&theirs).as_secs_f64() / median(ours).as_secs_f64();
            println!(
                "Whole project, median wall time: jellycell-lsp is {:.0}× faster warm, {:.1}× cold, {:.1}× with --no-cache.",
                ratio(&warm),
                ratio(&cold),
                ratio(&uncached)
            );
        }
        None => println!("\n(jellycell not found: set JELLYCELL_BENCH_JELLYCELL to compare)"),
    }
}

/// Times `body` after `reset` (a cache removed, a file edited) each run; the reset is
/// not timed.
fn time_cold(runs: usize, reset: impl Fn(), body: impl Fn()) -> Vec<Duration> {
    (0..runs)
        .map(|_| {
            reset();
            let start = Instant::now();
            body();
            start.elapsed()
        })
        .collect()
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |count| count.get())
}

fn jellycell() -> Option<PathBuf> {
    let candidate = std::env::var_os("JELLYCELL_BENCH_JELLYCELL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/jellycell-py/bin/jellycell")
        });
    candidate.exists().then_some(candidate)
}

fn run(command: &mut Command) {
    let output = command.output().expect("command runs");
    // Exit 1 means findings; only 2 (usage or I/O failure) is a broken benchmark.
    assert!(
        output.status.code() != Some(2),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn time_runs(runs: usize, mut body: impl FnMut()) -> Vec<Duration> {
    body(); // warm the file cache
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            body();
            start.elapsed()
        })
        .collect()
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn row(label: &str, times: &[Duration]) {
    let min = times.iter().min().copied().unwrap_or_default();
    println!(
        "| `{label}` | {} | {:.1} ms | {:.1} ms |",
        times.len(),
        median(times).as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3
    );
}

/// A jellycell project whose notebooks look like real ones: named load/step/figure cells
/// with deps, literal jc.save/jc.load paths, markdown between, and a few magics.
fn generate_project(root: &Path) {
    std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"bench\"\n")
        .expect("write config");
    for folder in ["notebooks", "data", "artifacts", "site", "manuscripts"] {
        std::fs::create_dir_all(root.join(folder)).expect("create folder");
    }
    for notebook in 0..NOTEBOOKS {
        let mut text = String::from("# /// script\n# dependencies = [\"pandas\"]\n# ///\n\n");
        for cell in 0..CELLS {
            let name = format!("n{notebook}c{cell}");
            match cell % 5 {
                0 => text.push_str(&format!(
                    "# %% [markdown]\n# ## Section {cell}\n#\n# Some prose about the data.\n\n"
                )),
                1 => text.push_str(&format!(
                    "# %% tags=[\"jc.load\", \"name={name}\"]\nimport json\n\nrows = [{{\"k\": {cell}, \"v\": {notebook}}}]\njc.save(rows, \"artifacts/{name}.json\")\n\n"
                )),
                2 => text.push_str(&format!(
                    "# %% tags=[\"jc.step\", \"name={name}\", \"deps=n{notebook}c{}\"]\nrows = jc.load(\"artifacts/n{notebook}c{}.json\")\ntotal = sum(row[\"v\"] for row in rows)\nprint(f\"total: {{total}}\")\n\n",
                    cell - 1,
                    cell - 1
                )),
                3 => text.push_str(&format!(
                    "# %% tags=[\"jc.figure\", \"name={name}\"]\n# %matplotlib inline\nimport matplotlib.pyplot as plt\n\nfig, ax = plt.subplots()\nax.plot([1, 2, 3])\njc.figure(\"artifacts/{name}.png\")\n\n"
                )),
                _ => text.push_str(&format!(
                    "# %% tags=[\"jc.step\", \"name={name}\"]\ndef helper_{cell}(x):\n    \"\"\"Double x.\"\"\"\n    return x * 2\n\nvalues = [helper_{cell}(i) for i in range(10)]\n\n"
                )),
            }
        }
        std::fs::write(root.join(format!("notebooks/nb{notebook:03}.py")), text)
            .expect("write notebook");
    }
}

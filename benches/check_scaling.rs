//! Benchmark (figures, not pass/fail): how `jellycell-lsp --check` scales, beside
//! `ruff check --no-cache` on the same files in the same run.
//!
//! Run: `cargo bench --bench check_scaling`. Generated projects (the notebook shape of
//! `check_project`: markdown, load/step/figure cells with deps, literal saves and loads,
//! magics): one notebook of 500 / 2,000 / 8,000 / 16,000 cells, and 20 / 200 / 2,000
//! notebooks of 50 cells, and one notebook (`--check notebooks/nb0000.py`) of each of the
//! three projects; then #14's pathological inputs: one notebook of 100,000 bare
//! `# %%` lines, one cell with 100,000 unclosed `(`, and a folder of 10,000 small
//! notebooks checked as a folder (`--check --no-cache notebooks`) and as the project.
//! Each figure is the median of 3 runs (1 for the pathological ones) of `--no-cache`,
//! cold (the check cache removed first, so it is also written) and warm, and the peak RSS
//! of one more cold run and of ruff's (`/usr/bin/time -f %M`; `?` without it). The
//! environment hints (`missing-import`, `jc-without-jellycell`: they start Python to ask
//! the kernel's environment) are off, as ruff has none, except in the row that says
//! `hints on`. ruff is
//! `JELLYCELL_BENCH_RUFF`, else `ruff` on PATH, else `target/py/bin/ruff`; skipped with a
//! message when missing. `JELLYCELL_BENCH_SERVER` names another build of ours (for
//! before/after figures in one sitting). Prints markdown tables and the load average.

#![allow(clippy::print_stdout)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn ours() -> String {
    std::env::var("JELLYCELL_BENCH_SERVER")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_jellycell-lsp").to_string())
}

fn ruff() -> Option<PathBuf> {
    let candidates = [
        // A path is taken from where the bench started: ruff runs in the project's folder.
        std::env::var_os("JELLYCELL_BENCH_RUFF").map(|ruff| {
            let ruff = PathBuf::from(ruff);
            match ruff.components().count() {
                1 => ruff,
                _ => std::path::absolute(&ruff).unwrap_or(ruff),
            }
        }),
        Some(PathBuf::from("ruff")),
        Some(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/target/py/bin/ruff"
        ))),
        Some(PathBuf::from("/work/main/target/py/bin/ruff")),
    ];
    candidates.into_iter().flatten().find(|candidate| {
        Command::new(candidate)
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success())
    })
}

fn project(root: &Path) {
    std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"bench\"\n").expect("config");
    for folder in ["notebooks", "data", "artifacts", "site", "manuscripts"] {
        std::fs::create_dir_all(root.join(folder)).expect("folders");
    }
}

/// A notebook of `cells` cells in `check_project`'s shape.
fn notebook(notebook: usize, cells: usize) -> String {
    let mut text = String::from("# /// script\n# dependencies = [\"pandas\"]\n# ///\n\n");
    for cell in 0..cells {
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
    text
}

fn seconds(command: &mut Command) -> Duration {
    let started = Instant::now();
    let output = command.output().expect("run the command");
    let elapsed = started.elapsed();
    if output.status.code().is_none_or(|code| code > 1) {
        panic!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    elapsed
}

fn median(runs: usize, mut once: impl FnMut() -> Duration) -> Duration {
    let mut samples: Vec<Duration> = (0..runs).map(|_| once()).collect();
    samples.sort();
    samples[samples.len() / 2]
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

struct Figures {
    no_cache: Duration,
    cold: Duration,
    warm: Duration,
    ruff: Option<Duration>,
    /// Peak RSS in KiB of a cold check and of ruff.
    rss: Option<u64>,
    ruff_rss: Option<u64>,
}

/// The environment hints start Python; ruff has nothing like them.
const NO_HINTS: [&str; 2] = ["--ignore", "missing-import,jc-without-jellycell"];

/// The peak RSS (KiB) of `command`, run under `/usr/bin/time -f %M`.
fn peak_rss(command: &Command) -> Option<u64> {
    let mut timed = Command::new("/usr/bin/time");
    timed.args(["-f", "%M"]).arg(command.get_program());
    timed.args(command.get_args());
    if let Some(dir) = command.get_current_dir() {
        timed.current_dir(dir);
    }
    let output = timed.output().ok()?;
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("?".to_string(), |kib| {
        format!("{:.0} MiB", kib as f64 / 1024.0)
    })
}

/// `--check` of `args` in `root`: `--no-cache`, cold, warm; ruff over the notebooks.
fn measure(root: &Path, args: &[&str], runs: usize, ruff: Option<&Path>) -> Figures {
    measure_hints(root, args, runs, ruff, false)
}

fn measure_hints(
    root: &Path,
    args: &[&str],
    runs: usize,
    ruff: Option<&Path>,
    hints: bool,
) -> Figures {
    let check = |extra: &[&str]| {
        let mut command = Command::new(ours());
        command.arg("--check").args(extra);
        if !hints {
            command.args(NO_HINTS);
        }
        command.args(args).current_dir(root);
        command
    };
    let cache = root.join(".jellycell/cache/jellycell-lsp/check");
    let no_cache = median(runs, || seconds(&mut check(&["--no-cache"])));
    let cold = median(runs, || {
        let _ = std::fs::remove_dir_all(&cache);
        seconds(&mut check(&[]))
    });
    let warm = median(runs, || seconds(&mut check(&[])));
    let _ = std::fs::remove_dir_all(&cache);
    let rss = peak_rss(&check(&[]));
    let ruff_command = |ruff: &Path| {
        let mut command = Command::new(ruff);
        command
            .args(["check", "--no-cache", "--quiet", "--exit-zero", "notebooks"])
            .current_dir(root);
        command
    };
    let ruff_time = ruff.map(|ruff| median(runs, || seconds(&mut ruff_command(ruff))));
    Figures {
        no_cache,
        cold,
        warm,
        ruff: ruff_time,
        rss,
        ruff_rss: ruff.and_then(|ruff| peak_rss(&ruff_command(ruff))),
    }
}

fn row(label: &str, figures: &Figures) -> String {
    let ruff = figures.ruff.map_or("(no ruff)".to_string(), millis);
    let ratio = figures.ruff.map_or(String::new(), |ruff| {
        format!(
            "{:.2}×",
            figures.cold.as_secs_f64() / ruff.as_secs_f64().max(1e-9)
        )
    });
    let ruff_rss = if figures.ruff.is_some() {
        mib(figures.ruff_rss)
    } else {
        String::new()
    };
    format!(
        "| {label} | {} | {} | {} | {ruff} | {ratio} | {} | {ruff_rss} |",
        millis(figures.no_cache),
        millis(figures.cold),
        millis(figures.warm),
        mib(figures.rss)
    )
}

fn main() {
    let ruff = ruff();
    if ruff.is_none() {
        println!(
            "ruff not found (JELLYCELL_BENCH_RUFF, PATH, target/py/bin): its column is left empty"
        );
    }
    let ruff = ruff.as_deref();
    let load_before = support::load();
    let mut rows = Vec::new();
    for cells in [500, 2_000, 8_000, 16_000] {
        let dir = tempfile::tempdir().expect("temp dir");
        project(dir.path());
        std::fs::write(dir.path().join("notebooks/nb.py"), notebook(0, cells)).expect("write");
        std::thread::sleep(Duration::from_millis(2500));
        rows.push(row(
            &format!("1 notebook × {cells} cells"),
            &measure(dir.path(), &[], 3, ruff),
        ));
    }
    for notebooks in [20, 200, 1_000, 2_000] {
        let dir = tempfile::tempdir().expect("temp dir");
        project(dir.path());
        for index in 0..notebooks {
            std::fs::write(
                dir.path().join(format!("notebooks/nb{index:04}.py")),
                notebook(index, 50),
            )
            .expect("write");
        }
        std::thread::sleep(Duration::from_millis(2500));
        rows.push(row(
            &format!("{notebooks} notebooks × 50 cells"),
            &measure(dir.path(), &[], 3, ruff),
        ));
        rows.push(row(
            &format!("one notebook of the {notebooks} (`--check notebooks/nb0000.py`)"),
            &measure(dir.path(), &["notebooks/nb0000.py"], 3, None),
        ));
        if notebooks == 200 {
            rows.push(row(
                "200 notebooks × 50 cells, hints on",
                &measure_hints(dir.path(), &[], 3, None, true),
            ));
        }
    }

    let bare = tempfile::tempdir().expect("temp dir");
    project(bare.path());
    std::fs::write(
        bare.path().join("notebooks/nb.py"),
        "# %%\n".repeat(100_000),
    )
    .expect("write");
    let parens = tempfile::tempdir().expect("temp dir");
    project(parens.path());
    std::fs::write(
        parens.path().join("notebooks/nb.py"),
        format!("# %%\nx = {}\n", "(".repeat(100_000)),
    )
    .expect("write");
    let folder = tempfile::tempdir().expect("temp dir");
    project(folder.path());
    for index in 0..10_000 {
        std::fs::write(
            folder.path().join(format!("notebooks/nb{index:05}.py")),
            "# %%\nx = 1\n\n# %%\ny = x + 1\n\n# %%\nprint(y)\n",
        )
        .expect("write");
    }
    std::thread::sleep(Duration::from_millis(2500));
    let pathological = [
        row(
            "100,000 bare `# %%` cells",
            &measure(bare.path(), &[], 1, ruff),
        ),
        row(
            "100,000 unclosed `(` in one cell",
            &measure(parens.path(), &[], 1, ruff),
        ),
        row(
            "10,000 notebooks as a folder (`--check notebooks`)",
            &measure(folder.path(), &["notebooks"], 1, ruff),
        ),
        row(
            "10,000 notebooks as the project (`--check`)",
            &measure(folder.path(), &[], 1, None),
        ),
    ];
    let findings = Command::new(ours())
        .args(["--check", "--no-cache", "--format", "json"])
        .current_dir(parens.path())
        .output()
        .map(|output| {
            String::from_utf8_lossy(&output.stdout)
                .matches("\"rule\"")
                .count()
        })
        .unwrap_or(0);

    println!(
        "`--check` scaling ({}); load average before {load_before}, after {}",
        ours(),
        support::load()
    );
    println!();
    println!(
        "| input | `--no-cache` | cold | warm | `ruff check --no-cache` | cold ÷ ruff | peak RSS, cold | ruff's |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for row in rows.iter().chain(&pathological) {
        println!("{row}");
    }
    println!();
    println!("findings reported for the 100,000 unclosed `(`: {findings}");
}

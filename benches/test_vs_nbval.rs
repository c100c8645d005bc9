//! Benchmark (not a test): `jellycell-lsp test` on a generated 50-cell py:percent notebook
//! paired with its `.ipynb` (the reference, executed by nbclient), beside
//! `pytest --nbval` (nbval 0.11.0) on that same `.ipynb`, alternating in the same run.
//! Both start one kernel and run every cell; the figures are whole-command wall times.
//!
//! Python: `JELLYCELL_BENCH_PYTHON`, else `target/py/bin/python3` (with nbval, pytest,
//! nbclient and jupytext). Run: `cargo bench --bench test_vs_nbval`.

#![allow(clippy::print_stdout)]

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const CELLS: usize = 50;
const RUNS: usize = 5;

fn notebook() -> String {
    let mut text = String::new();
    for index in 0..CELLS {
        let body = match index % 3 {
            0 => format!("x{index} = sum(range({index} * 100))\nprint(\"x{index} =\", x{index})\n"),
            1 => format!("y{index} = [i * i for i in range({index})]\nlen(y{index})\n"),
            _ => format!(
                "from IPython.display import display\ndisplay({{\"text/plain\": \"cell {index}\", \"text/html\": \"<b>{index}</b>\"}}, raw=True)\n"
            ),
        };
        text.push_str(&format!("# %% tags=[\"name=c{index}\"]\n{body}\n"));
    }
    text
}

fn main() {
    let python = std::env::var_os("JELLYCELL_BENCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/py/bin/python3"));
    let bin_dir = python.parent().map(PathBuf::from).unwrap_or_default();
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"bench\"\n").expect("write");
    std::fs::create_dir_all(root.join("notebooks")).expect("mkdir");
    std::fs::write(
        root.join("notebooks/jupytext.toml"),
        "formats = \"ipynb,py:percent\"\n",
    )
    .expect("write");
    let py = root.join("notebooks/bench.py");
    let ipynb = root.join("notebooks/bench.ipynb");
    std::fs::write(&py, notebook()).expect("write");
    let made = Command::new(&python)
        .args([
            "-c",
            "import sys, jupytext, nbformat, nbclient\nnb = jupytext.read(sys.argv[1])\n\
             nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}\n\
             nbclient.NotebookClient(nb, kernel_name='python3').execute()\nnbformat.write(nb, sys.argv[2])\n",
        ])
        .arg(&py)
        .arg(&ipynb)
        .current_dir(root)
        .output()
        .expect("python runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );

    let ours = || {
        let mut command = support::server();
        command
            .args(["test", "notebooks/bench.py"])
            .current_dir(root);
        support::kernel_environment(&mut command, &bin_dir);
        let started = Instant::now();
        let output = command.output().expect("the binary runs");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
        started.elapsed()
    };
    let nbval = || {
        let mut command = Command::new(&python);
        command
            .args(["-m", "pytest", "-q", "--nbval", "-p", "no:cacheprovider"])
            .arg(&ipynb)
            .current_dir(root);
        support::kernel_environment(&mut command, &bin_dir);
        let started = Instant::now();
        let output = command.output().expect("pytest runs");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
        started.elapsed()
    };
    let load = |when: &str| {
        let uptime = Command::new("uptime")
            .output()
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string());
        println!("load {when}: {}", uptime.unwrap_or_default());
    };
    load("before");
    ours();
    nbval();
    let (mut ours_times, mut nbval_times): (Vec<Duration>, Vec<Duration>) =
        (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        ours_times.push(ours());
        nbval_times.push(nbval());
    }
    load("after");
    let ours_stats = support::Stats::of(ours_times);
    let nbval_stats = support::Stats::of(nbval_times);
    println!(
        "{CELLS}-cell notebook, {RUNS} alternating runs after one warm-up each:\n  jellycell-lsp test   p50 {} max {}\n  pytest --nbval       p50 {} max {}\n  ratio (nbval / ours, p50) {:.2}",
        support::millis(ours_stats.p50),
        support::millis(ours_stats.max),
        support::millis(nbval_stats.p50),
        support::millis(nbval_stats.max),
        nbval_stats.p50.as_secs_f64() / ours_stats.p50.as_secs_f64().max(1e-9)
    );
}

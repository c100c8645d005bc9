//! Benchmark (not a test): `read_percent` on a generated ~20k-line py:percent notebook,
//! against `jupytext.reads` on the same text in the same run.
//!
//! Python: `JELLYCELL_BENCH_PYTHON`, else `target/py/bin/python3`, else `python3`.
//! Run: `cargo bench --bench parse_percent`.

#![allow(clippy::print_stdout)]

mod support;

use std::time::{Duration, Instant};

use jellycell_lsp::format::percent::read_percent;
use support::jupytext;

/// Runs of ours (a few ms each, so many: the median then shrugs off load spikes on a
/// shared machine) and of jupytext (about half a second each).
const RUNS: usize = 51;
const PYTHON_RUNS: usize = 9;

fn notebook(target_lines: usize) -> String {
    let mut text = String::from(
        "# ---\n# jupyter:\n#   kernelspec:\n#     display_name: Python 3\n#     language: python\n#     name: python3\n# ---\n\n",
    );
    let mut cell: usize = 0;
    let mut lines = text.lines().count();
    while lines < target_lines {
        cell += 1;
        let chunk = format!(
            "# %% [markdown]\n# ## Section {cell}\n#\n# Some *markdown* text about step {cell}.\n\n\
             # %% Step {cell} tags=[\"jc.step\", \"name=step{cell}\", \"deps=step{prev}\"]\n\
             # %matplotlib inline\nimport numpy as np\nx{cell} = np.arange({cell})\n\
             doc = \"\"\"\n# %% not a marker inside a string\n\"\"\"\n# a normal comment\n\
             for i in range(3):\n    print(i, x{cell}.sum())\n\n\
             def f{cell}(a, b=2):\n    return a + b\n\n\n",
            prev = cell.saturating_sub(1)
        );
        lines += chunk.bytes().filter(|b| *b == b'\n').count();
        text.push_str(&chunk);
    }
    text
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let text = notebook(20_000);
    let lines = text.lines().count();
    let megabytes = text.len() as f64 / 1e6;
    let notebook = read_percent(&text);
    let cells = notebook.cells.len();
    let samples = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let notebook = read_percent(std::hint::black_box(&text));
            std::hint::black_box(&notebook);
            start.elapsed()
        })
        .collect();
    let ours = median(samples).as_secs_f64();

    let dir = std::env::temp_dir().join(format!("jellycell-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("bench.py");
    let theirs = std::fs::write(&path, &text)
        .map_err(|e| e.to_string())
        .and_then(|()| jupytext::reads_seconds(&path, "py:percent", PYTHON_RUNS));
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "parse_percent: {lines} lines, {cells} cells, {megabytes:.2} MB; median of {RUNS} runs (ours), {PYTHON_RUNS} (jupytext)"
    );
    println!();
    println!("| input | read_percent | jupytext.reads | ratio |");
    println!("|---|---|---|---|");
    match theirs {
        Ok(theirs) => println!(
            "| {lines} lines / {cells} cells | {:.2} ms ({:.1} MB/s) | {:.1} ms ({:.2} MB/s) | {:.0}× faster |",
            ours * 1e3,
            megabytes / ours,
            theirs * 1e3,
            megabytes / theirs,
            theirs / ours
        ),
        Err(why) => {
            println!(
                "| {lines} lines / {cells} cells | {:.2} ms ({:.1} MB/s) | n/a | n/a |",
                ours * 1e3,
                megabytes / ours
            );
            println!();
            println!("jupytext not measured: {why}");
        }
    }
}

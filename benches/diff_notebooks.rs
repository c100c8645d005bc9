//! Benchmark (not a test): `diff` of a generated 2,000-cell notebook pair with 20 edits
//! (sources edited, cells inserted, deleted and moved, outputs changed), the core diff on
//! the two `.ipynb` sides, and `nbdiff` (nbdime) on the same pair in the same run when it
//! is installed in the bench Python.
//!
//! Python: `JELLYCELL_BENCH_PYTHON`, else `target/py/bin/python3`.
//! Run: `cargo bench --bench diff_notebooks`.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use jellycell_lsp::format::{NotebookFormat, read};
use jellycell_lsp::review::{DiffOptions, Side, diff_notebooks, ops};
use serde_json::{Value, json};

const CELLS: usize = 2_000;
const RUNS: usize = 21;

fn cell(index: usize, edited: bool) -> Value {
    let source = format!(
        "x{index} = compute({index})\nfor i in range(3):\n    print(i, x{index}{})\n",
        if edited { " + 1" } else { "" }
    );
    json!({"cell_type": "code", "metadata": {}, "source": source, "execution_count": index,
        "outputs": [{"output_type": "stream", "name": "stdout", "text": format!("0 {index}\n1 {index}\n")}]})
}

fn pair() -> (String, String) {
    let old: Vec<Value> = (0..CELLS).map(|index| cell(index, false)).collect();
    let mut new = old.clone();
    for k in 0..5 {
        new[100 + k * 300] = cell(100 + k * 300, true);
    }
    for k in 0..5 {
        new[150 + k * 300]["outputs"][0]["text"] = json!("changed\n");
    }
    for k in 0..4 {
        new.remove(200 + k * 300);
    }
    for k in 0..4 {
        new.insert(250 + k * 300, cell(90_000 + k, false));
    }
    let moved = new.remove(10);
    new.insert(1_900, moved);
    let moved = new.remove(20);
    new.insert(1_800, moved);
    let notebook = |cells: Vec<Value>| {
        json!({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}).to_string()
    };
    (notebook(old), notebook(new))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let (old_text, new_text) = pair();
    let old = Side::from_ipynb("old.ipynb", read(&old_text, NotebookFormat::Ipynb));
    let new = Side::from_ipynb("new.ipynb", read(&new_text, NotebookFormat::Ipynb));
    let options = DiffOptions::default();
    let diff = diff_notebooks(&old, &new, options);
    let changed = diff.cells.iter().filter(|step| step.is_change()).count();
    let core = median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(diff_notebooks(&old, &new, options));
                start.elapsed()
            })
            .collect(),
    );
    let with_json = median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                let diff = diff_notebooks(&old, &new, options);
                std::hint::black_box(ops::document(&old, &new, &diff, options).to_string());
                start.elapsed()
            })
            .collect(),
    );
    let parse = median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(read(&old_text, NotebookFormat::Ipynb));
                std::hint::black_box(read(&new_text, NotebookFormat::Ipynb));
                start.elapsed()
            })
            .collect(),
    );
    println!("diff_notebooks: {CELLS} cells, {changed} changed steps");
    println!("  align + compare (median of {RUNS}): {core:?}");
    println!("  + nbdime JSON document:             {with_json:?}");
    println!("  reading both .ipynb:                {parse:?}");

    let python = std::env::var_os("JELLYCELL_BENCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/py/bin/python3"));
    let nbdiff = python.with_file_name("nbdiff");
    if !nbdiff.exists() {
        println!(
            "  nbdiff: not installed beside {} (pip install nbdime==4.0.4)",
            python.display()
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("jellycell-diff-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let (old_path, new_path) = (dir.join("old.ipynb"), dir.join("new.ipynb"));
    let _ = std::fs::write(&old_path, &old_text);
    let _ = std::fs::write(&new_path, &new_text);
    let mut times = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let status = Command::new(&nbdiff).arg(&old_path).arg(&new_path).output();
        times.push(start.elapsed());
        if status.is_err() {
            println!("  nbdiff: could not run");
            return;
        }
    }
    println!(
        "  nbdiff (median of 3, process included): {:?}",
        median(times)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

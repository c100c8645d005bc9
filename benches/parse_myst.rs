//! Benchmark (not a test): reading `.md` notebooks (`format::read`, which decides the
//! format and reads MyST or jupytext's plain markdown) and light scripts, against
//! `jupytext.reads` on the same texts in the same run: a MyST notebook with one
//! 20,000-line markdown cell, a 2,000-cell MyST notebook, and a scaling row (1×, 4×, 16×
//! the same notebook) for MyST, md:markdown and py:light, where linear reading keeps the
//! time per MB flat.
//!
//! Python: `JELLYCELL_BENCH_PYTHON`, else `target/py/bin/python3`, else `python3`.
//! Run: `cargo bench --bench parse_myst`.

#![allow(clippy::print_stdout)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use jellycell_lsp::format::{self, NotebookFormat};
use support::jupytext;

/// Runs per input: the median then shrugs off load spikes on a shared machine.
const RUNS: usize = 7;
const PYTHON_RUNS: usize = 3;

const MYST_HEADER: &str = "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\nkernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n---\n\n";
const MARKDOWN_HEADER: &str = "---\njupyter:\n  jupytext:\n    text_representation:\n      extension: .md\n      format_name: markdown\n---\n\n";
const LIGHT_HEADER: &str = "# ---\n# jupyter:\n#   jupytext:\n#     text_representation:\n#       extension: .py\n#       format_name: light\n# ---\n\n";

/// A MyST notebook whose one markdown cell has `lines` lines.
fn long_markdown_cell(lines: usize) -> String {
    let mut text = String::from(MYST_HEADER);
    text.push_str("```{code-cell} ipython3\nx = 1\n```\n\n");
    for line in 0..lines {
        text.push_str(&format!(
            "Line {line} of a long paragraph with *emphasis*, `code` and a [link](#x).\n"
        ));
    }
    text
}

/// A MyST notebook of `cells` cells: markdown with a heading and a list, code with tags.
fn myst_cells(cells: usize) -> String {
    let mut text = String::from(MYST_HEADER);
    for cell in 0..cells / 2 {
        text.push_str(&format!(
            "## Section {cell}\n\nSome *markdown* about step {cell}:\n\n- one\n- two\n\n\
             ```{{code-cell}} ipython3\n:tags: [jc.step, name=step{cell}]\n\nx{cell} = {cell}\n\
             for i in range(3):\n    print(i)\n```\n\n+++\n\n"
        ));
    }
    text
}

/// An md:markdown notebook of `cells` cells.
fn markdown_cells(cells: usize) -> String {
    let mut text = String::from(MARKDOWN_HEADER);
    for cell in 0..cells / 2 {
        text.push_str(&format!(
            "## Section {cell}\n\nSome *markdown* about step {cell}.\n\n\
             ```python tags=[\"jc.step\"]\nx{cell} = {cell}\nfor i in range(3):\n    print(i)\n```\n\n"
        ));
    }
    text
}

/// A py:light notebook of `cells` cells.
fn light_cells(cells: usize) -> String {
    let mut text = String::from(LIGHT_HEADER);
    for cell in 0..cells / 2 {
        text.push_str(&format!(
            "# ## Section {cell}\n# Some *markdown* about step {cell}.\n\n\
             # + tags=[\"jc.step\"]\nx{cell} = {cell}\n\nfor i in range(3):\n    print(i)\n# -\n\n"
        ));
    }
    text
}

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64()
}

fn ours(text: &str, file_type: NotebookFormat) -> (f64, usize) {
    let cells = format::read(text, file_type).cells.len();
    let samples = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let notebook = format::read(std::hint::black_box(text), file_type);
            std::hint::black_box(&notebook);
            start.elapsed()
        })
        .collect();
    (median(samples), cells)
}

fn row(label: &str, text: &str, file_type: NotebookFormat, fmt: &str, dir: &Path) {
    let (seconds, cells) = ours(text, file_type);
    let megabytes = text.len() as f64 / 1e6;
    let lines = text.lines().count();
    let path = dir.join(if file_type == NotebookFormat::Percent {
        "bench.py"
    } else {
        "bench.md"
    });
    let theirs = std::fs::write(&path, text)
        .map_err(|e| e.to_string())
        .and_then(|()| jupytext::reads_seconds(&path, fmt, PYTHON_RUNS));
    let (their_cell, ratio) = match theirs {
        Ok(theirs) => (
            format!("{:.1} ms", theirs * 1e3),
            format!("{:.1}×", theirs / seconds),
        ),
        Err(why) => (format!("n/a ({why})"), "n/a".into()),
    };
    println!(
        "| {label} | {lines} lines / {cells} cells / {megabytes:.2} MB | {:.2} ms ({:.2} ms/MB) | {their_cell} | {ratio} |",
        seconds * 1e3,
        seconds * 1e3 / megabytes,
    );
}

fn main() {
    let dir = std::env::temp_dir().join(format!("jellycell-bench-myst-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    println!(
        "parse_myst: median of {RUNS} runs (ours, format::read), {PYTHON_RUNS} (jupytext.reads)"
    );
    println!();
    println!("| input | size | ours | jupytext.reads | jupytext / ours |");
    println!("|---|---|---|---|---|");
    let md = NotebookFormat::Myst;
    row(
        "MyST, one 20,000-line markdown cell",
        &long_markdown_cell(20_000),
        md,
        "md:myst",
        &dir,
    );
    row("MyST, 2,000 cells", &myst_cells(2_000), md, "md:myst", &dir);
    for scale in [1, 4, 16] {
        let label = format!("MyST, {scale}× (250 cells each)");
        row(&label, &myst_cells(250 * scale), md, "md:myst", &dir);
    }
    for scale in [1, 4, 16] {
        let label = format!("md:markdown, {scale}× (250 cells each)");
        row(
            &label,
            &markdown_cells(250 * scale),
            md,
            "md:markdown",
            &dir,
        );
    }
    for scale in [1, 4, 16] {
        let label = format!("py:light, {scale}× (250 cells each)");
        let text = light_cells(250 * scale);
        row(&label, &text, NotebookFormat::Percent, "py:light", &dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

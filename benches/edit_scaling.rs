//! Benchmark (figures, not pass/fail): a one-character edit → its diagnostics, as the
//! notebook and the project grow, beside ruff's language server on the same code in the
//! same run.
//!
//! Run: `cargo bench --bench edit_scaling`. One py:percent notebook and the same cells as
//! MyST (`JELLYCELL_BENCH_CELLS`, default `500,2000,8000,16000` cells; markdown every 10
//! cells, named steps with deps, saves and loads, `lsp_latency`'s shape), each in a fresh
//! project with a fresh server; then projects of 20 / 200 / 2,000 notebooks of 50 cells
//! (`JELLYCELL_BENCH_NOTEBOOKS`) with one of them open. Each row: warm-up edits for 2 s
//! and at least 5 (`support::time_settled`: the server's environment probe at open, a
//! Python process, is over by then; `JELLYCELL_BENCH_SETTLE_MS` sets it), then
//! 40 timed ones (20 at 8,000 cells and more, so that a loaded machine finishes the run
//! in about a quarter of an hour; `JELLYCELL_BENCH_RUNS` sets the count, and
//! `JELLYCELL_BENCH_FORMATS=percent` keeps only those rows, e.g. for a profile) (the body
//! of a code cell in the middle, `* 2` → `* 3`, ...), each sent
//! after the previous one's `publishDiagnostics` for its version arrived; p50 / p95 /
//! min / max. `ruff server` (`JELLYCELL_BENCH_RUFF`, else `ruff` on PATH, else
//! `target/py/bin/ruff`) gets the py:percent text as one `.py` and the same edits; the
//! ratio column is our p50 over ruff's, and the last one the server's `VmRSS` / `VmHWM` after
//! the edits. `JELLYCELL_BENCH_RUFF=none` leaves ruff out. Prints `/proc/loadavg` before and after: the
//! machine may be shared, so compare rows of one run (and the ratio), not runs.

#![allow(clippy::print_stdout)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use support::{Client, Stats, millis, position};

const WARMUP: usize = 5;
const RUNS: usize = 40;
/// Timed edits at 8,000 cells and more: those rows dominate the run on a loaded machine.
const RUNS_LARGE: usize = 20;

/// Timed edits for a notebook of `cells` cells (`JELLYCELL_BENCH_RUNS` overrides).
fn runs_for(cells: usize) -> usize {
    std::env::var("JELLYCELL_BENCH_RUNS")
        .ok()
        .and_then(|runs| runs.trim().parse().ok())
        .unwrap_or(if cells >= 8000 { RUNS_LARGE } else { RUNS })
}

/// Whether the rows of `format` (`percent`, `myst`, `ruff`) are wanted:
/// `JELLYCELL_BENCH_FORMATS` lists them (all by default; a profile wants one).
fn wanted(format: &str) -> bool {
    std::env::var("JELLYCELL_BENCH_FORMATS").map_or(true, |formats| {
        formats.split(',').any(|wanted| wanted.trim() == format)
    })
}

/// (tags of a code cell, or `None` for markdown; the body), cell names prefixed `prefix`.
fn cells_of(cells: usize, prefix: &str) -> Vec<(Option<String>, String)> {
    (0..cells)
        .map(|i| {
            if i % 10 == 0 {
                return (
                    None,
                    format!("## Section {i}\n\nSome prose about part {i}.\n"),
                );
            }
            let deps = if i % 10 == 1 {
                String::new()
            } else {
                format!(", \"deps={prefix}c{}\"", i - 1)
            };
            let mut body = format!("value_{i} = {i} * 2\n");
            if i % 5 == 0 {
                body.push_str(&format!(
                    "jc.save(value_{i}, \"artifacts/{prefix}v{i}.json\")\n"
                ));
            } else if i % 5 == 3 {
                body.push_str(&format!(
                    "loaded = jc.load(\"artifacts/{prefix}v{}.json\")\n",
                    i - 3
                ));
            }
            body.push_str("for item in range(3):\n    print(item)\n");
            (
                Some(format!("\"jc.step\", \"name={prefix}c{i}\"{deps}")),
                body,
            )
        })
        .collect()
}

fn percent(cells: usize, prefix: &str) -> String {
    let mut text = String::from("# /// script\n# dependencies = [\"pandas\"]\n# ///\n\n");
    for (header, body) in cells_of(cells, prefix) {
        match header {
            None => {
                text.push_str("# %% [markdown]\n");
                for line in body.lines() {
                    text.push_str(&format!("# {line}\n").replace("# \n", "#\n"));
                }
                text.push('\n');
            }
            Some(tags) => text.push_str(&format!("# %% tags=[{tags}]\n{body}\n")),
        }
    }
    text
}

/// The same cells as MyST, with the header jupytext writes (it reads a `.md` as MyST
/// only when `text_representation` names the extension too).
fn myst(cells: usize) -> String {
    let mut text = String::from(
        "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n    format_version: 0.13\nkernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n---\n\n",
    );
    for (header, body) in cells_of(cells, "") {
        match header {
            None => text.push_str(&format!("+++\n\n{body}\n")),
            Some(tags) => text.push_str(&format!(
                "```{{code-cell}} ipython3\n:tags: [{tags}]\n\n{body}```\n\n"
            )),
        }
    }
    text
}

fn ruff() -> Option<PathBuf> {
    if std::env::var_os("JELLYCELL_BENCH_RUFF").is_some_and(|ruff| ruff == "none") {
        return None;
    }
    let candidates = [
        std::env::var_os("JELLYCELL_BENCH_RUFF").map(PathBuf::from),
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

/// One open document on one server, edited at one place.
struct Session {
    client: Client<Value>,
    uri: String,
    version: i32,
}

impl Session {
    fn open(mut command: Command, root: &Path, path: &Path, text: &str) -> Session {
        let mut client: Client<Value> = Client::spawn(&mut command);
        client.initialize(
            root,
            json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}}),
        );
        let uri = client.open(path, text);
        let mut session = Session {
            client,
            uri,
            version: 1,
        };
        session.diagnostics();
        session
    }

    fn diagnostics(&mut self) {
        let (uri, version) = (self.uri.clone(), self.version);
        self.client.wait(|message| {
            message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri.as_str()
                && message["params"]["version"] == version
        });
    }

    fn edit(&mut self, at: &Value, index: usize) {
        self.version += 1;
        let character = at["character"].as_u64().unwrap_or(0);
        self.client.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": self.uri, "version": self.version},
                "contentChanges": [{
                    "range": {"start": at, "end": {"line": at["line"], "character": character + 1}},
                    "text": format!("{}", 2 + index % 7),
                }],
            }),
        );
        self.diagnostics();
    }

    fn timed_edits(mut self, text: &str, needle: &str, runs: usize) -> Stats {
        let at = position(text, needle, needle.len());
        let stats = support::time_settled(WARMUP, runs, |index| self.edit(&at, index));
        self.client.shutdown();
        stats
    }

    /// [`Session::timed_edits`], and the server's resident and peak memory after them
    /// (`VmRSS`, `VmHWM` in KiB; `None` under a profiler wrapper, which is the child).
    fn timed_edits_and_memory(
        mut self,
        text: &str,
        needle: &str,
        runs: usize,
    ) -> (Stats, Option<(u64, u64)>) {
        let at = position(text, needle, needle.len());
        let stats = support::time_settled(WARMUP, runs, |index| self.edit(&at, index));
        let wrapped = std::env::var_os("JELLYCELL_BENCH_WRAP").is_some_and(|wrap| !wrap.is_empty());
        let memory = if wrapped {
            None
        } else {
            memory_kib(self.client.child.id())
        };
        self.client.shutdown();
        (stats, memory)
    }
}

/// `VmRSS` and `VmHWM` of process `pid`, in KiB.
fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|line| line.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn mib((rss, peak): (u64, u64)) -> String {
    format!(
        "{:.1} / {:.1} MiB",
        rss as f64 / 1024.0,
        peak as f64 / 1024.0
    )
}

/// The edit's figures for `text` at `notebooks/<name>` in a fresh project (with `others`
/// on disk beside it).
fn ours_on(
    name: &str,
    text: &str,
    needle: &str,
    others: &[(String, String)],
    runs: usize,
) -> (Stats, Option<(u64, u64)>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    project(root);
    for (other, other_text) in others {
        std::fs::write(root.join("notebooks").join(other), other_text).expect("notebook");
    }
    let path = root.join("notebooks").join(name);
    std::fs::write(&path, text).expect("notebook");
    Session::open(support::server(), root, &path, text).timed_edits_and_memory(text, needle, runs)
}

fn ruff_on(ruff: &Path, text: &str, needle: &str, runs: usize) -> Stats {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let path = root.join("nb.py");
    std::fs::write(&path, text).expect("file");
    let mut command = Command::new(ruff);
    command.arg("server");
    Session::open(command, root, &path, text).timed_edits(text, needle, runs)
}

fn spread(stats: &Stats) -> String {
    format!(
        "{} / {} / {} / {}",
        millis(stats.p50),
        millis(stats.p95),
        millis(stats.min),
        millis(stats.max)
    )
}

fn ratio(ours: &Stats, peer: Option<&Stats>) -> String {
    peer.map_or("—".into(), |peer| {
        format!(
            "{:.2}×",
            ours.p50.as_secs_f64() / peer.p50.as_secs_f64().max(1e-9)
        )
    })
}

fn sizes(variable: &str, default: &str) -> Vec<usize> {
    std::env::var(variable)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .filter_map(|size| size.trim().parse().ok())
        .collect()
}

fn main() {
    let ruff = ruff();
    let load_before = support::load();
    let mut rows: Vec<String> = Vec::new();
    for cells in sizes("JELLYCELL_BENCH_CELLS", "500,2000,8000,16000") {
        let middle = cells / 2 + 1;
        let needle = format!("value_{middle} = {middle} * ");
        let text = percent(cells, "");
        let runs = runs_for(cells);
        let peer = ruff
            .as_deref()
            .filter(|_| wanted("ruff"))
            .map(|ruff| ruff_on(ruff, &text, &needle, runs));
        let ours_percent = wanted("percent").then(|| ours_on("nb.py", &text, &needle, &[], runs));
        let ours_myst = wanted("myst").then(|| ours_on("nb.md", &myst(cells), &needle, &[], runs));
        let memory = ours_percent.as_ref().and_then(|(_, memory)| *memory);
        let (percent_row, myst_row) = (
            ours_percent.as_ref().map(|(stats, _)| stats),
            ours_myst.as_ref().map(|(stats, _)| stats),
        );
        rows.push(format!(
            "| {cells} cells ({runs} edits) | {} | {} | {} | {} | {} | {} |",
            percent_row.map_or("—".into(), spread),
            myst_row.map_or("—".into(), spread),
            peer.as_ref().map_or("—".into(), spread),
            percent_row.map_or("—".into(), |ours| ratio(ours, peer.as_ref())),
            myst_row.map_or("—".into(), |myst| ratio(myst, percent_row)),
            memory.map_or("—".into(), mib),
        ));
    }
    let mut project_rows: Vec<String> = Vec::new();
    for notebooks in sizes("JELLYCELL_BENCH_NOTEBOOKS", "20,200,2000") {
        let others: Vec<(String, String)> = (1..notebooks)
            .map(|k| (format!("nb{k:04}.py"), percent(50, &format!("n{k}_"))))
            .collect();
        let needle = "value_26 = 26 * ";
        let text = percent(50, "n0_");
        let runs = runs_for(50);
        let peer = ruff
            .as_deref()
            .filter(|_| wanted("ruff"))
            .map(|ruff| ruff_on(ruff, &text, needle, runs));
        let (ours, memory) = ours_on("nb0000.py", &text, needle, &others, runs);
        project_rows.push(format!(
            "| {notebooks} notebooks × 50 cells | {} | {} | {} | {} |",
            spread(&ours),
            peer.as_ref().map_or("—".into(), spread),
            ratio(&ours, peer.as_ref()),
            memory.map_or("—".into(), mib),
        ));
    }
    println!(
        "edit → diagnostics over stdio (release build), warm-up edits for {} ms (at least {WARMUP}) + {RUNS} timed edits per row ({RUNS_LARGE} at 8,000 cells and more, unless JELLYCELL_BENCH_RUNS says); load (1/5/15 min) before {load_before}, after {}",
        support::settle().as_millis(),
        support::load()
    );
    if ruff.is_none() {
        println!("ruff not found: its columns are empty");
    }
    println!();
    println!(
        "| notebook | py:percent p50 / p95 / min / max | MyST p50 / p95 / min / max | ruff server (same code as .py) | percent ÷ ruff (p50) | MyST ÷ percent (p50) | server after the py:percent edits, VmRSS / VmHWM |"
    );
    println!("|---|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    println!();
    println!(
        "| project (one notebook open) | ours p50 / p95 / min / max | ruff server (the open notebook) | ours ÷ ruff (p50) | server after the edits, VmRSS / VmHWM |"
    );
    println!("|---|---|---|---|---|");
    for row in project_rows {
        println!("{row}");
    }
}

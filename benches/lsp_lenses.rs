//! Benchmark (figures, not pass/fail): code lenses, inlay hints, symbols and folding at
//! 500 / 2,000 / 8,000 / 16,000 cells in a project where every code cell has a result,
//! over real stdio against the release binary.
//!
//! Run: `cargo bench --bench lsp_lenses` (`JELLYCELL_BENCH_CELLS` picks the sizes,
//! `JELLYCELL_BENCH_SERVER` another build for before/after figures). For each size a
//! fresh project's py:percent notebook (markdown every 10 cells, steps chained by
//! `deps=` within a section) is run by `jellycell-lsp run` with the test venv's kernel
//! (`JELLYCELL_TEST_PYTHON`'s folder, else `target/py`), so every code cell has a real
//! manifest; then a fresh server opens it and times (3 warm-up, 20 timed each): the first
//! diagnostics after `didOpen`; `codeLens` of the document (and its size); resolving the
//! lenses of a 60-line visible range (all of them, as a client does for what it shows;
//! nothing when the lenses came resolved); `inlayHint` over those 60 lines and over the
//! whole document; `documentSymbol`; `foldingRange`; and after a one-character edit (a
//! new snapshot, so the memoised keys start over) the first `inlayHint` of the range.
//! Then the pathological notebook of #14 (100,000 bare `# %%` lines, never run): first
//! diagnostics, `codeLens`, resolving one range's lenses, `inlayHint` of the whole
//! document and `documentSymbol`, once each. Prints markdown tables and `uptime`'s load
//! before and after (the machine is shared: compare rows of one run, not runs).

#![allow(clippy::print_stdout)]

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Client, Stats, millis};

const WARMUP: usize = 3;
const RUNS: usize = 20;
const VISIBLE_LINES: usize = 60;

/// A py:percent notebook of `cells` cells: markdown every 10, the others steps whose
/// `deps=` chain them within their section.
fn notebook(cells: usize) -> String {
    let mut text = String::new();
    for i in 0..cells {
        if i % 10 == 0 {
            text.push_str(&format!(
                "# %% [markdown]\n# ## Section {i}\n#\n# Some prose about part {i}.\n\n"
            ));
            continue;
        }
        let deps = if i % 10 == 1 {
            String::new()
        } else {
            format!(", \"deps=c{}\"", i - 1)
        };
        text.push_str(&format!(
            "# %% tags=[\"jc.step\", \"name=c{i}\"{deps}]\nvalue_{i} = {i} * 2\nvalue_{i}\n\n"
        ));
    }
    text
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "?".into())
}

fn server() -> std::process::Command {
    let server = std::env::var("JELLYCELL_BENCH_SERVER")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_jellycell-lsp").to_string());
    std::process::Command::new(server)
}

/// The folder of the Python that has ipykernel.
fn python_bin() -> PathBuf {
    std::env::var("JELLYCELL_TEST_PYTHON")
        .ok()
        .and_then(|python| Path::new(&python).parent().map(Path::to_path_buf))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/py/bin"))
}

/// A project whose notebook `text` was run, so every code cell has a manifest.
fn ran_project(text: &str) -> (tempfile::TempDir, PathBuf, Duration) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"bench\"\n").expect("config");
    std::fs::create_dir_all(root.join("notebooks")).expect("folders");
    let path = root.join("notebooks/nb.py");
    std::fs::write(&path, text).expect("notebook");
    let started = Instant::now();
    let mut run = server();
    run.args(["run", "notebooks/nb.py"]).current_dir(root);
    support::kernel_environment(&mut run, &python_bin());
    run.env_remove("PYTHONPATH");
    let output = run.output().expect("run the notebook");
    assert!(
        output.status.success(),
        "run failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (dir, path, started.elapsed())
}

struct Session {
    client: Client<Value>,
    uri: String,
    version: i32,
}

impl Session {
    fn open(root: &Path, path: &Path, text: &str) -> (Session, Duration) {
        let mut client: Client<Value> = Client::spawn(&mut server());
        client.initialize(
            root,
            json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}}),
        );
        let opened = Instant::now();
        let uri = client.open(path, text);
        let mut session = Session {
            client,
            uri,
            version: 1,
        };
        session.diagnostics();
        (session, opened.elapsed())
    }

    fn diagnostics(&mut self) {
        let (uri, version) = (self.uri.clone(), self.version);
        self.client.wait(|message| {
            message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri.as_str()
                && message["params"]["version"] == version
        });
    }

    fn request(&mut self, method: &str, extra: Value) -> Value {
        let mut params = json!({"textDocument": {"uri": self.uri}});
        if let (Some(params), Some(extra)) = (params.as_object_mut(), extra.as_object()) {
            params.extend(extra.clone());
        }
        self.client.call(method, params)
    }

    /// Resolves every unresolved lens on lines `first..first + VISIBLE_LINES`.
    fn resolve_visible(&mut self, lenses: &Value, first: usize) -> usize {
        let mut resolved = 0;
        for lens in lenses["result"].as_array().into_iter().flatten() {
            let line = lens["range"]["start"]["line"].as_u64().unwrap_or(0) as usize;
            if lens.get("command").is_some() || line < first || line >= first + VISIBLE_LINES {
                continue;
            }
            let answer = self.client.call("codeLens/resolve", lens.clone());
            assert!(
                answer["result"]["command"]["title"].is_string(),
                "resolved: {answer}"
            );
            resolved += 1;
        }
        resolved
    }
}

struct Row {
    cells: usize,
    run: Duration,
    first: Duration,
    lens: Stats,
    lens_bytes: usize,
    resolve: Stats,
    resolved: usize,
    hint: Stats,
    hint_all: Stats,
    symbols: Stats,
    folding: Stats,
    hint_after_edit: Duration,
}

fn range(first: usize, last: usize) -> Value {
    json!({"range": {"start": {"line": first, "character": 0}, "end": {"line": last, "character": 0}}})
}

fn measure(cells: usize) -> Row {
    let text = notebook(cells);
    let (dir, path, run) = ran_project(&text);
    let (mut session, first) = Session::open(dir.path(), &path, &text);
    let lines = text.lines().count();
    let middle = lines / 2;
    let mut lens_bytes = 0;
    let mut lenses = Value::Null;
    let lens = support::time(WARMUP, RUNS, |_| {
        lenses = session.request("textDocument/codeLens", json!({}));
        lens_bytes = lenses["result"].to_string().len();
    });
    let mut resolved = 0;
    let resolve = support::time(WARMUP, RUNS, |_| {
        resolved = session.resolve_visible(&lenses, middle);
    });
    let visible = range(middle, middle + VISIBLE_LINES);
    let hint = support::time(WARMUP, RUNS, |_| {
        session.request("textDocument/inlayHint", visible.clone());
    });
    let whole = range(0, lines);
    let hint_all = support::time(WARMUP, RUNS, |_| {
        session.request("textDocument/inlayHint", whole.clone());
    });
    let symbols = support::time(WARMUP, RUNS, |_| {
        session.request("textDocument/documentSymbol", json!({}));
    });
    let folding = support::time(WARMUP, RUNS, |_| {
        session.request("textDocument/foldingRange", json!({}));
    });
    // A blank line appended: a new snapshot whose cells' keys did not change.
    session.version += 1;
    session.client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": session.uri, "version": session.version},
            "contentChanges": [{"range": range(lines, lines)["range"], "text": "\n"}],
        }),
    );
    session.diagnostics();
    let started = Instant::now();
    session.request("textDocument/inlayHint", visible);
    let hint_after_edit = started.elapsed();
    session.client.shutdown();
    Row {
        cells,
        run,
        first,
        lens,
        lens_bytes,
        resolve,
        resolved,
        hint,
        hint_all,
        symbols,
        folding,
        hint_after_edit,
    }
}

fn stats(stats: &Stats) -> String {
    format!("{} / {}", millis(stats.p50), millis(stats.p95))
}

fn main() {
    let sizes: Vec<usize> = std::env::var("JELLYCELL_BENCH_CELLS")
        .unwrap_or_else(|_| "500,2000,8000,16000".into())
        .split(',')
        .filter_map(|size| size.trim().parse().ok())
        .collect();
    let load_before = load();
    let rows: Vec<Row> = sizes.iter().map(|&cells| measure(cells)).collect();
    let load_after = load();
    println!(
        "lenses, hints, symbols over stdio (release build), every code cell cached; load average before {load_before}, after {load_after}"
    );
    println!(
        "p50 / p95 of {RUNS} after {WARMUP} warm-up; the visible range is {VISIBLE_LINES} lines in the middle"
    );
    println!();
    println!(
        "| cells | run | first diagnostics | codeLens | its size | resolve visible (lenses) | inlayHint visible | inlayHint whole | documentSymbol | foldingRange | inlayHint after an edit |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for row in &rows {
        println!(
            "| {} | {:.1} s | {} | {} | {:.0} KiB | {} ({}) | {} | {} | {} | {} | {} |",
            row.cells,
            row.run.as_secs_f64(),
            millis(row.first),
            stats(&row.lens),
            row.lens_bytes as f64 / 1024.0,
            stats(&row.resolve),
            row.resolved,
            stats(&row.hint),
            stats(&row.hint_all),
            stats(&row.symbols),
            stats(&row.folding),
            millis(row.hint_after_edit),
        );
    }
    bare();
}

/// The 100,000 bare `# %%` lines of #14, in a project that never ran.
fn bare() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"bench\"\n").expect("config");
    std::fs::create_dir_all(root.join("notebooks")).expect("folders");
    let path = root.join("notebooks/bare.py");
    let text = "# %%\n".repeat(100_000);
    std::fs::write(&path, &text).expect("notebook");
    let (mut session, first) = Session::open(root, &path, &text);
    let once = |session: &mut Session, method: &str, extra: Value| {
        let started = Instant::now();
        let answer = session.request(method, extra);
        (started.elapsed(), answer)
    };
    let (lens, lenses) = once(&mut session, "textDocument/codeLens", json!({}));
    let lens_bytes = lenses["result"].to_string().len();
    let started = Instant::now();
    let resolved = session.resolve_visible(&lenses, 50_000);
    let resolve = started.elapsed();
    let (hint, _) = once(&mut session, "textDocument/inlayHint", range(0, 100_000));
    let (symbols, _) = once(&mut session, "textDocument/documentSymbol", json!({}));
    session.client.shutdown();
    println!();
    println!(
        "| 100,000 bare `# %%` lines (load after: {}) | once |",
        load()
    );
    println!("|---|---|");
    println!("| first diagnostics after didOpen | {} |", millis(first));
    println!(
        "| codeLens (document) | {} ({:.0} KiB) |",
        millis(lens),
        lens_bytes as f64 / 1024.0
    );
    println!(
        "| resolve the lenses of {VISIBLE_LINES} lines ({resolved}) | {} |",
        millis(resolve)
    );
    println!("| inlayHint (whole document) | {} |", millis(hint));
    println!("| documentSymbol | {} |", millis(symbols));
}

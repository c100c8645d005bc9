//! Benchmark (figures, not pass/fail): how the language server's answers scale with the
//! size of one notebook, over real stdio against the release binary.
//!
//! Run: `cargo bench --bench lsp_scaling`. For each size (`JELLYCELL_BENCH_CELLS`,
//! default `500,2000,8000,16000` cells) a fresh server on a fresh project opens one
//! py:percent notebook (the same generator as `lsp_latency`: markdown every 10 cells,
//! named steps with deps, saves and loads) and one MyST notebook of the same cells, and
//! times: the first diagnostics after `didOpen`; a one-character edit of a cell body in
//! the middle → its `publishDiagnostics` (5 warm-up or more, 40 timed); `codeLens` (whole
//! document), `inlayHint` over a visible range of 60 lines in the middle and
//! `documentSymbol` (3 warm-up or more, 20 timed; every warm-up lasts at least
//! `JELLYCELL_BENCH_SETTLE_MS`, default 2 s, so the server's one-time work after opening
//! is not timed). Then the pathological notebook of #14:
//! 100,000 bare `# %%` lines, first diagnostics, one `codeLens`, one `inlayHint` over the
//! whole document. `JELLYCELL_BENCH_FORMATS` (default `percent,myst,bare`) picks the
//! notebooks. Prints markdown tables with p50/p95/max and `uptime`'s load before and
//! after (the machine is shared: compare rows of one run, not runs).

#![allow(clippy::print_stdout)]

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Client, Stats, millis, position};

/// The py:percent notebook of `cells` cells (`lsp_latency`'s shape).
fn percent(cells: usize) -> String {
    let mut text = String::from("# /// script\n# dependencies = [\"pandas\"]\n# ///\n\n");
    for (header, body) in cells_of(cells) {
        match header {
            None => {
                text.push_str("# %% [markdown]\n");
                for line in body.lines() {
                    text.push_str(&format!("# {line}\n").replace("# \n", "#\n"));
                }
                text.push('\n');
            }
            Some(tags) => {
                text.push_str(&format!("# %% tags=[{tags}]\n{body}\n"));
            }
        }
    }
    text
}

/// The same cells as a MyST notebook.
fn myst(cells: usize) -> String {
    let mut text = String::from(
        "---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n  name: python3\n  display_name: Python 3\n---\n\n",
    );
    for (header, body) in cells_of(cells) {
        match header {
            None => text.push_str(&format!("+++\n\n{body}\n")),
            Some(tags) => {
                text.push_str(&format!(
                    "```{{code-cell}} ipython3\n:tags: [{tags}]\n\n{body}```\n\n"
                ));
            }
        }
    }
    text
}

/// (tags of a code cell, or `None` for markdown; the body).
fn cells_of(cells: usize) -> Vec<(Option<String>, String)> {
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
                format!(", \"deps=c{}\"", i - 1)
            };
            let mut body = format!("value_{i} = {i} * 2\n");
            if i % 5 == 0 {
                body.push_str(&format!("jc.save(value_{i}, \"artifacts/v{i}.json\")\n"));
            } else if i % 5 == 3 {
                body.push_str(&format!(
                    "loaded = jc.load(\"artifacts/v{}.json\")\n",
                    i - 3
                ));
            }
            body.push_str("for item in range(3):\n    print(item)\n");
            (Some(format!("\"jc.step\", \"name=c{i}\"{deps}")), body)
        })
        .collect()
}

/// A fresh project with `text` at `notebooks/<name>`, its server initialised.
struct Session {
    _dir: tempfile::TempDir,
    client: Client<Value>,
    uri: String,
    version: i32,
}

impl Session {
    fn open(name: &str, text: &str) -> (Session, Duration) {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"bench\"\n")
            .expect("config");
        for folder in ["notebooks", "data", "artifacts", "site", "manuscripts"] {
            std::fs::create_dir_all(root.join(folder)).expect("folders");
        }
        let path = root.join("notebooks").join(name);
        std::fs::write(&path, text).expect("notebook");
        let mut client: Client<Value> = Client::spawn(&mut support::server());
        client.initialize(
            root,
            json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}}),
        );
        let opened = Instant::now();
        let uri = client.open(&path, text);
        let mut session = Session {
            _dir: dir,
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

    /// Replaces one character at `at` and waits for the diagnostics of the new version.
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

    fn request(&mut self, method: &str, extra: Value) -> Value {
        let mut params = json!({"textDocument": {"uri": self.uri}});
        if let (Some(params), Some(extra)) = (params.as_object_mut(), extra.as_object()) {
            params.extend(extra.clone());
        }
        self.client.call(method, params)
    }
}

struct Row {
    label: String,
    first: Duration,
    edit: Stats,
    lens: Stats,
    hint: Stats,
    symbols: Stats,
}

fn measure(label: String, name: &str, text: &str, cells: usize) -> Row {
    let (mut session, first) = Session::open(name, text);
    // The body of a code cell in the middle of the notebook.
    let middle_cell = cells / 2 + 1;
    let needle = format!("value_{middle_cell} = {middle_cell} * ");
    let edit_at = position(text, &needle, needle.len());
    let edit = support::time_settled(5, 40, |index| session.edit(&edit_at, index));
    let middle = text.lines().count() / 2;
    let lens = support::time_settled(3, 20, |_| {
        session.request("textDocument/codeLens", json!({}));
    });
    let range = json!({"range": {"start": {"line": middle, "character": 0}, "end": {"line": middle + 60, "character": 0}}});
    let hint = support::time_settled(3, 20, |_| {
        session.request("textDocument/inlayHint", range.clone());
    });
    let symbols = support::time_settled(3, 20, |_| {
        session.request("textDocument/documentSymbol", json!({}));
    });
    session.client.shutdown();
    Row {
        label,
        first,
        edit,
        lens,
        hint,
        symbols,
    }
}

fn stats(stats: &Stats) -> String {
    format!(
        "{} / {} / {}",
        millis(stats.p50),
        millis(stats.p95),
        millis(stats.max)
    )
}

fn main() {
    let sizes: Vec<usize> = std::env::var("JELLYCELL_BENCH_CELLS")
        .unwrap_or_else(|_| "500,2000,8000,16000".into())
        .split(',')
        .filter_map(|size| size.trim().parse().ok())
        .collect();
    let load_before = support::load();
    let mut rows = Vec::new();
    let formats =
        std::env::var("JELLYCELL_BENCH_FORMATS").unwrap_or_else(|_| "percent,myst,bare".into());
    for &cells in &sizes {
        if formats.contains("percent") {
            let text = percent(cells);
            rows.push(measure(
                format!("py:percent, {cells} cells"),
                "nb.py",
                &text,
                cells,
            ));
        }
        if formats.contains("myst") {
            let text = myst(cells);
            rows.push(measure(
                format!("MyST, {cells} cells"),
                "nb.md",
                &text,
                cells,
            ));
        }
    }
    if !rows.is_empty() {
        print_rows(&load_before, &rows);
    }
    if !formats.contains("bare") {
        return;
    }

    let bare = "# %%\n".repeat(100_000);
    let (mut session, bare_first) = Session::open("bare.py", &bare);
    let started = Instant::now();
    session.request("textDocument/codeLens", json!({}));
    let bare_lens = started.elapsed();
    let whole = json!({"range": {"start": {"line": 0, "character": 0}, "end": {"line": 100_000, "character": 0}}});
    let started = Instant::now();
    session.request("textDocument/inlayHint", whole);
    let bare_hint = started.elapsed();
    // `# %%` → `# %%x`: no longer a marker, so two cells become one.
    let started = Instant::now();
    session.version += 1;
    let at = json!({"line": 50_000, "character": 4});
    session.client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": session.uri, "version": session.version},
            "contentChanges": [{"range": {"start": at, "end": at}, "text": "x"}],
        }),
    );
    session.diagnostics();
    let bare_edit = started.elapsed();
    session.client.shutdown();
    println!("load average after: {}", support::load());

    println!();
    println!("| 100,000 bare `# %%` lines | once |");
    println!("|---|---|");
    println!(
        "| first diagnostics after didOpen | {} |",
        millis(bare_first)
    );
    println!("| codeLens (document) | {} |", millis(bare_lens));
    println!("| inlayHint (whole document) | {} |", millis(bare_hint));
    println!(
        "| one-character edit → diagnostics | {} |",
        millis(bare_edit)
    );
}

fn print_rows(load_before: &str, rows: &[Row]) {
    let load_after = support::load();
    println!(
        "jellycell-lsp scaling over stdio (release build); load average before {load_before}, after {load_after}"
    );
    println!();
    println!(
        "| notebook | first diagnostics | edit → diagnostics p50 / p95 / max | codeLens (document) | inlayHint (60 lines) | documentSymbol |"
    );
    println!("|---|---|---|---|---|---|");
    for row in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            row.label,
            millis(row.first),
            stats(&row.edit),
            stats(&row.lens),
            stats(&row.hint),
            stats(&row.symbols)
        );
    }
}

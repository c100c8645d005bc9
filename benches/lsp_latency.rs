//! Benchmark (figures, not pass/fail): language-server latency over real stdio against
//! the release binary, on a generated 2,000-cell py:percent notebook, and resident memory
//! with 20 such notebooks open.
//!
//! Run: `cargo bench --bench lsp_latency` (`JELLYCELL_BENCH_SERVER` names another build of
//! ours, for before/after figures in one sitting). For each request kind: warm-up requests for 2 s
//! and at least 20 (`support::time_settled`: the environment probe the server starts at
//! open is over by then), then 200 timed ones, each sent only after the previous answer (no pipelining); prints
//! p50/p95/min/max as a markdown table, with `/proc/loadavg` before and after (the
//! machine may be shared: the spread and the load say how far to trust the figures). `didChange → publishDiagnostics` is the time from
//! sending an edit of one cell's body to receiving the diagnostics for that version.
//! Memory is the server's VmRSS from `/proc/<pid>/status`: right after `initialize` is
//! answered (before `initialized` starts reading the project), and after 20 notebooks
//! (one project, 40,000 cells) are open and each answered a pull `textDocument/diagnostic`
//! (so every rebuild their opening caused is done; no sleeping to let it settle).

#![allow(clippy::print_stdout)]

mod support;

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};
use support::{Client, Message, Stats, millis, position};

const CELLS: usize = 2000;
const NOTEBOOKS: usize = 20;
const WARMUP: usize = 20;
const RUNS: usize = 200;

/// A notebook of `CELLS` cells: a markdown heading every 10 cells, code cells named
/// `n{k}_c{i}` that depend on the previous one, save and load artifacts.
fn notebook(k: usize) -> String {
    let mut text = String::from("# /// script\n# dependencies = [\"pandas\"]\n# ///\n\n");
    for i in 0..CELLS {
        if i % 10 == 0 {
            text.push_str(&format!(
                "# %% [markdown]\n# ## Section {i}\n#\n# Some prose about part {i}.\n\n"
            ));
            continue;
        }
        let deps = if i % 10 == 1 {
            String::new()
        } else {
            format!(", \"deps=n{k}_c{}\"", i - 1)
        };
        text.push_str(&format!(
            "# %% tags=[\"jc.step\", \"name=n{k}_c{i}\"{deps}]\n"
        ));
        text.push_str(&format!("value_{i} = {i} * 2\n"));
        if i % 5 == 0 {
            text.push_str(&format!(
                "jc.save(value_{i}, \"artifacts/n{k}/v{i}.json\")\n"
            ));
        } else if i % 5 == 3 {
            text.push_str(&format!(
                "loaded = jc.load(\"artifacts/n{k}/v{}.json\")\n",
                i - 3
            ));
        }
        text.push_str("for item in range(3):\n    print(item)\n\n");
    }
    text
}

fn time(once: impl FnMut(usize)) -> Stats {
    support::time_settled(WARMUP, RUNS, once)
}

/// The server's pid: the child itself, or the server a profiler wrapper started.
fn server_pid(child: u32) -> u32 {
    if std::env::var_os("JELLYCELL_BENCH_WRAP").is_none() {
        return child;
    }
    for _ in 0..50 {
        let children = std::fs::read_to_string(format!("/proc/{child}/task/{child}/children"))
            .unwrap_or_default();
        if let Some(pid) = children.split_whitespace().find_map(|pid| pid.parse().ok()) {
            return pid;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"bench\"\n").expect("config");
    for folder in ["notebooks", "data", "artifacts", "site", "manuscripts"] {
        std::fs::create_dir_all(root.join(folder)).expect("folders");
    }
    // Only the first notebook is on disk at first, so the latency figures are for one
    // 2,000-cell notebook; the others are opened (and so join the project) afterwards.
    let texts: Vec<String> = (0..NOTEBOOKS).map(notebook).collect();
    let first_path = root.join("notebooks/nb00.py");
    std::fs::write(&first_path, &texts[0]).expect("notebook");

    let load_before = support::load();
    let mut client = spawn();
    let pid = server_pid(client.child.id());
    let root_uri = support::uri(root);
    client.call(
        "initialize",
        json!({
            "processId": std::process::id(),
            "rootUri": root_uri,
            "workspaceFolders": [{"uri": root_uri, "name": "bench"}],
            "capabilities": {"general": {"positionEncodings": ["utf-8", "utf-16"]}},
        }),
    );
    let rss_idle = rss_kib(pid);
    client.notify("initialized", json!({}));
    let text = &texts[0];
    let opened = Instant::now();
    let uri = client.open(&first_path, text);
    client.diagnostics(&uri, 1);
    let first_diagnostics = opened.elapsed();

    // Edit the body of a cell in the middle: `value_1001 = 1001 * 2` → `* 3`, `* 4`, ...
    let edit_at = position(text, "value_1001 = 1001 * ", "value_1001 = 1001 * ".len());
    let mut version = 1;
    let did_change = time(|index| {
        version += 1;
        let digit = format!("{}", 2 + index % 7);
        client.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{
                    "range": {"start": edit_at, "end": {"line": edit_at["line"], "character": edit_at["character"].as_u64().unwrap_or(0) + 1}},
                    "text": digit,
                }],
            }),
        );
        client.diagnostics(&uri, version);
    });

    let tags_at = position(text, "\"deps=n0_c1502\"", 6);
    let completion = time(|_| {
        client.call(
            "textDocument/completion",
            json!({"textDocument": {"uri": uri}, "position": tags_at}),
        );
    });
    let hover_at = position(text, "\"deps=n0_c1202\"", 8);
    let hover = time(|_| {
        client.call(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": hover_at}),
        );
    });
    let symbols = time(|_| {
        client.call(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri}}),
        );
    });

    let rss_one = rss_kib(pid);
    let opened_all = Instant::now();
    let mut uris = vec![uri.clone()];
    for (k, text) in texts.iter().enumerate().skip(1) {
        let path = root.join(format!("notebooks/nb{k:02}.py"));
        std::fs::write(&path, text).expect("notebook");
        let uri = client.open(&path, text);
        client.diagnostics(&uri, 1);
        uris.push(uri);
    }
    let open_all = opened_all.elapsed();
    // The same edit with all 20 notebooks open in the project (50 timed edits).
    let mut crowded = Vec::new();
    for index in 0..50 {
        version += 1;
        let digit = format!("{}", 2 + index % 7);
        let start = Instant::now();
        client.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{
                    "range": {"start": edit_at, "end": {"line": edit_at["line"], "character": edit_at["character"].as_u64().unwrap_or(0) + 1}},
                    "text": digit,
                }],
            }),
        );
        client.diagnostics(&uri, version);
        crowded.push(start.elapsed());
    }
    let crowded = Stats::of(crowded);
    // Every notebook's findings for its current version: the rebuilds that opening the
    // others caused are done before memory is read.
    for uri in &uris {
        client.call(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": uri}}),
        );
    }
    let rss_all = rss_kib(pid);
    let load_after = support::load();

    let lines = text.lines().count();
    println!(
        "jellycell-lsp latency over stdio (release build), one notebook of {CELLS} cells ({lines} lines, {} KiB)",
        text.len() / 1024
    );
    println!(
        "warm-up for {} ms (at least {WARMUP}) + {RUNS} timed requests per kind, sequential; first diagnostics after didOpen: {}",
        support::settle().as_millis(),
        millis(first_diagnostics)
    );
    println!("load (1/5/15 min) before: {load_before}; after: {load_after}");
    println!();
    println!("| request | p50 | p95 | min | max |");
    println!("|---|---|---|---|---|");
    for (name, stats) in [
        ("didChange → publishDiagnostics", &did_change),
        ("completion (deps= in a header)", &completion),
        ("hover (deps name)", &hover),
        ("documentSymbol", &symbols),
    ] {
        println!(
            "| {name} | {} | {} | {} | {} |",
            millis(stats.p50),
            millis(stats.p95),
            millis(stats.min),
            millis(stats.max)
        );
    }
    println!(
        "| didChange → publishDiagnostics, {NOTEBOOKS} notebooks open (50 edits) | {} | {} | {} | {} |",
        millis(crowded.p50),
        millis(crowded.p95),
        millis(crowded.min),
        millis(crowded.max)
    );
    println!();
    let mib = |kib: Option<u64>| {
        kib.map_or("?".to_string(), |kib| {
            format!("{:.1} MiB", kib as f64 / 1024.0)
        })
    };
    println!("| resident memory (VmRSS) | value |");
    println!("|---|---|");
    println!("| idle, after initialize | {} |", mib(rss_idle));
    println!("| 1 notebook open ({CELLS} cells) | {} |", mib(rss_one));
    println!(
        "| {NOTEBOOKS} notebooks open ({} cells, one project) | {} |",
        NOTEBOOKS * CELLS,
        mib(rss_all)
    );
    println!(
        "| time to open and diagnose the other {} | {} |",
        NOTEBOOKS - 1,
        millis(open_all)
    );
    client.shutdown();
}

/// What the client needs of a server message. Results and diagnostics are parsed but
/// not kept (`IgnoredAny`): the figures are the server's, not a JSON DOM's.
#[derive(Deserialize)]
struct Envelope {
    id: Option<i64>,
    method: Option<String>,
    params: Option<NotificationParams>,
    error: Option<Value>,
    #[allow(dead_code)]
    result: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct NotificationParams {
    uri: Option<String>,
    version: Option<i32>,
    #[allow(dead_code)]
    diagnostics: Option<IgnoredAny>,
    /// A `$/progress` value.
    value: Option<ProgressValue>,
}

#[derive(Deserialize)]
struct ProgressValue {
    kind: Option<String>,
}

impl Message for Envelope {
    fn request_id(&self) -> Option<Value> {
        self.method.as_ref()?;
        self.id.map(Value::from)
    }

    fn response_id(&self) -> Option<i64> {
        if self.method.is_some() {
            return None;
        }
        self.id
    }

    fn error(&self) -> Option<String> {
        self.error.as_ref().map(Value::to_string)
    }

    fn ends_progress(&self) -> bool {
        self.method.as_deref() == Some("$/progress")
            && self
                .params
                .as_ref()
                .and_then(|params| params.value.as_ref())
                .is_some_and(|value| value.kind.as_deref() == Some("end"))
    }
}

/// The server (`support::server`: `JELLYCELL_BENCH_SERVER` names another build, and
/// `JELLYCELL_BENCH_WRAP="heaptrack -o /tmp/lsp"` runs it under a profiler; set
/// `MALLOC_ARENA_MAX=2` too, or the server's re-execution (`lsp/arenas.rs`) escapes it,
/// and build with `--no-default-features`: heaptrack sees only glibc's malloc).
fn spawn() -> Client<Envelope> {
    Client::spawn(&mut support::server())
}

trait Diagnosed {
    /// Waits for the diagnostics of `uri` at `version`.
    fn diagnostics(&mut self, uri: &str, version: i32);
}

impl Diagnosed for Client<Envelope> {
    fn diagnostics(&mut self, uri: &str, version: i32) {
        self.wait(|envelope| {
            envelope.method.as_deref() == Some("textDocument/publishDiagnostics")
                && envelope.params.as_ref().is_some_and(|params| {
                    params.uri.as_deref() == Some(uri) && params.version == Some(version)
                })
        });
    }
}

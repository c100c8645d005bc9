//! Benchmark (figures, not pass/fail): language-server latency over real stdio against
//! the release binary, on a generated 2,000-cell py:percent notebook, and resident memory
//! with 20 such notebooks open.
//!
//! Run: `cargo bench --bench lsp_latency`. For each request kind: 20 warm-up requests,
//! then 200 timed ones, each sent only after the previous answer (no pipelining); prints
//! p50/p95/max as a markdown table. `didChange → publishDiagnostics` is the time from
//! sending an edit of one cell's body to receiving the diagnostics for that version.
//! Memory is the server's VmRSS from `/proc/<pid>/status` after 20 notebooks (one
//! project, 40,000 cells) are open and diagnosed.

#![allow(clippy::print_stdout)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

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

struct Stats {
    p50: Duration,
    p95: Duration,
    max: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Stats {
        p50: at(0.50),
        p95: at(0.95),
        max: samples[samples.len() - 1],
    }
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

/// Line and column of the first `needle` in `text`, shifted right by `shift`.
fn position(text: &str, needle: &str, shift: usize) -> Value {
    let at = text.find(needle).expect("needle in generated text");
    let before = &text[..at];
    json!({
        "line": before.matches('\n').count(),
        "character": before.rsplit('\n').next().map_or(0, str::len) + shift,
    })
}

fn time<F: FnMut(usize)>(mut once: F) -> Stats {
    for index in 0..WARMUP {
        once(index);
    }
    let samples = (0..RUNS)
        .map(|index| {
            let start = Instant::now();
            once(WARMUP + index);
            start.elapsed()
        })
        .collect();
    stats(samples)
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

    let mut client = Client::spawn();
    let pid = server_pid(client.child.id());
    let root_uri = uri(root);
    client.call(
        "initialize",
        json!({
            "processId": std::process::id(),
            "rootUri": root_uri,
            "workspaceFolders": [{"uri": root_uri, "name": "bench"}],
            "capabilities": {"general": {"positionEncodings": ["utf-8", "utf-16"]}},
        }),
    );
    client.notify("initialized", json!({}));
    std::thread::sleep(Duration::from_millis(200));
    let rss_idle = rss_kib(pid);
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
    for (k, text) in texts.iter().enumerate().skip(1) {
        let path = root.join(format!("notebooks/nb{k:02}.py"));
        std::fs::write(&path, text).expect("notebook");
        let uri = client.open(&path, text);
        client.diagnostics(&uri, 1);
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
    let crowded = stats(crowded);
    // Let the re-lint of the notebooks opened earlier settle before reading memory.
    std::thread::sleep(Duration::from_millis(500));
    let rss_all = rss_kib(pid);

    let lines = text.lines().count();
    println!(
        "jellycell-lsp latency over stdio (release build), one notebook of {CELLS} cells ({lines} lines, {} KiB)",
        text.len() / 1024
    );
    println!(
        "{WARMUP} warm-up + {RUNS} timed requests per kind, sequential; first diagnostics after didOpen: {}",
        millis(first_diagnostics)
    );
    println!();
    println!("| request | p50 | p95 | max |");
    println!("|---|---|---|---|");
    for (name, stats) in [
        ("didChange → publishDiagnostics", &did_change),
        ("completion (deps= in a header)", &completion),
        ("hover (deps name)", &hover),
        ("documentSymbol", &symbols),
    ] {
        println!(
            "| {name} | {} | {} | {} |",
            millis(stats.p50),
            millis(stats.p95),
            millis(stats.max)
        );
    }
    println!(
        "| didChange → publishDiagnostics, {NOTEBOOKS} notebooks open (50 edits) | {} | {} | {} |",
        millis(crowded.p50),
        millis(crowded.p95),
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
    client.call("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    let _ = client.child.wait();
}

fn uri(path: &Path) -> String {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file://{}", path.display())
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
}

/// A minimal LSP client over the server's stdio with Content-Length framing.
struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Envelope>,
    next_id: i64,
}

impl Client {
    fn spawn() -> Client {
        // `JELLYCELL_BENCH_WRAP="heaptrack -o /tmp/lsp"` runs the server under a profiler;
        // set `MALLOC_ARENA_MAX=2` too, or the server's re-execution (`lsp/arenas.rs`)
        // escapes it.
        let server = env!("CARGO_BIN_EXE_jellycell-lsp");
        let wrap = std::env::var("JELLYCELL_BENCH_WRAP").unwrap_or_default();
        let mut words: Vec<&str> = wrap.split_whitespace().collect();
        words.push(server);
        let mut child = Command::new(words[0])
            .args(&words[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn jellycell-lsp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(value) = line.strip_prefix("Content-Length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                match serde_json::from_slice::<Envelope>(&body) {
                    Ok(envelope) => {
                        if sender.send(envelope).is_err() {
                            return;
                        }
                    }
                    Err(error) => panic!("bad message from the server: {error}"),
                }
            }
        });
        Client {
            child,
            stdin,
            incoming,
            next_id: 1,
        }
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn next(&mut self) -> Envelope {
        let envelope = self
            .incoming
            .recv_timeout(Duration::from_secs(60))
            .expect("the server answered within 60 s");
        if let (Some(id), Some(_)) = (envelope.id, &envelope.method) {
            // A server→client request: answer null.
            self.send(&json!({"jsonrpc": "2.0", "id": id, "result": null}));
        }
        envelope
    }

    fn call(&mut self, method: &str, params: Value) {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let envelope = self.next();
            if envelope.method.is_none() && envelope.id == Some(id) {
                assert!(
                    envelope.error.is_none(),
                    "{method} failed: {:?}",
                    envelope.error
                );
                return;
            }
        }
    }

    fn open(&mut self, path: &Path, text: &str) -> String {
        let uri = uri(path);
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
        );
        uri
    }

    /// Waits for the diagnostics of `uri` at `version`.
    fn diagnostics(&mut self, uri: &str, version: i32) {
        loop {
            let envelope = self.next();
            if envelope.method.as_deref() == Some("textDocument/publishDiagnostics")
                && let Some(params) = envelope.params
                && params.uri.as_deref() == Some(uri)
                && params.version == Some(version)
            {
                return;
            }
        }
    }
}

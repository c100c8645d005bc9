//! Benchmark (figures, not pass/fail): hover, completion and code lens latency over real stdio
//! against the release binary while a cell runs for 30 seconds in the server's kernel,
//! beside the same requests with the kernel idle, in the same run. Target: p95 ≤ 10 ms
//! while the cell runs.
//!
//! Run: `cargo bench --bench lsp_during_run`. The notebook is generated: 498 named cells
//! with deps (as `lsp_latency`'s), cached first with `jellycell.runAbove`, then a cell
//! that sleeps 40 s and one that busy-loops 40 s (printing now and then). For each kind
//! (hover, completion, code lenses): 20 warm-up requests, then 200 timed ones, each sent
//! 20 ms after the previous answer; with the kernel idle, while the sleeping cell runs,
//! and while the busy cell runs (each interrupted after its measurement).
//! Python: `JELLYCELL_BENCH_PYTHON`, else `target/py/bin/python3` (needs ipykernel); its
//! folder goes first on the server's PATH so the `python3` kernel is found there.

#![allow(clippy::print_stdout)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CELLS: usize = 500;
const WARMUP: usize = 20;
const RUNS: usize = 200;
const SLOW_SECONDS: u64 = 40;
const PACE: Duration = Duration::from_millis(20);

/// `CELLS - 2` small cells, then a cell that sleeps and one that busy-loops (printing now
/// and then, so the kernel holds a core and streams output), each for `SLOW_SECONDS`.
fn notebook() -> String {
    let mut text = String::new();
    for i in 0..CELLS - 2 {
        let deps = if i == 0 {
            String::new()
        } else {
            format!(", \"deps=c{}\"", i - 1)
        };
        text.push_str(&format!(
            "# %% tags=[\"jc.step\", \"name=c{i}\"{deps}]\nvalue_{i} = {i} * 2\nfor item in range(3):\n    print(item)\n\n"
        ));
    }
    text.push_str(&format!(
        "# %% tags=[\"jc.step\", \"name=sleeping\"]\nimport time\ntime.sleep({SLOW_SECONDS})\n\n"
    ));
    text.push_str(&format!(
        "# %% tags=[\"jc.step\", \"name=busy\"]\nimport time\nend = time.time() + {SLOW_SECONDS}\nticks = 0\nwhile time.time() < end:\n    ticks += 1\n    if ticks % 200000 == 0:\n        print(ticks)\n"
    ));
    text
}

fn python() -> PathBuf {
    std::env::var_os("JELLYCELL_BENCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/py/bin/python3"))
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

fn position(text: &str, needle: &str, shift: usize) -> Value {
    let at = text.find(needle).expect("needle in generated text");
    let before = &text[..at];
    json!({
        "line": before.matches('\n').count(),
        "character": before.rsplit('\n').next().map_or(0, str::len) + shift,
    })
}

/// Requests are paced (one every [`PACE`]) so that the timed ones spread over seconds of
/// the cell's run rather than a burst at its start.
fn time(client: &mut Client, method: &str, params: &Value) -> Stats {
    for _ in 0..WARMUP {
        client.call(method, params.clone());
    }
    let samples = (0..RUNS)
        .map(|_| {
            std::thread::sleep(PACE);
            let start = Instant::now();
            client.call(method, params.clone());
            start.elapsed()
        })
        .collect();
    stats(samples)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".to_string())
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"bench\"\n").expect("config");
    std::fs::create_dir_all(root.join("notebooks")).expect("folders");
    let text = notebook();
    let path = root.join("notebooks/slow.py");
    std::fs::write(&path, &text).expect("notebook");

    let mut client = Client::spawn(&python());
    let root_uri = uri(root);
    client.call(
        "initialize",
        json!({
            "processId": std::process::id(),
            "rootUri": root_uri,
            "workspaceFolders": [{"uri": root_uri, "name": "bench"}],
            "capabilities": {
                "general": {"positionEncodings": ["utf-8", "utf-16"]},
                "window": {"workDoneProgress": true},
                "workspace": {"codeLens": {"refreshSupport": true}},
            },
        }),
    );
    client.notify("initialized", json!({}));
    let uri = client.open(&path, &text);
    client.wait(|message| message["method"] == "textDocument/publishDiagnostics");

    let hover = (
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position(&text, "\"deps=c302\"", 8)}),
    );
    let completion = (
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": position(&text, "\"deps=c402\"", 6)}),
    );
    let lens = (
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    // Cache every cell above the slow ones, so that lenses show real statuses.
    let cached_in = Instant::now();
    client.call(
        "workspace/executeCommand",
        json!({"command": "jellycell.runAbove", "arguments": [{"uri": uri, "cell": CELLS - 2}]}),
    );
    client.wait_run_end();
    let cached_in = cached_in.elapsed();
    let kinds = [&hover, &completion, &lens];
    let idle: Vec<Stats> = kinds
        .iter()
        .map(|(method, params)| time(&mut client, method, params))
        .collect();
    let mut phases = Vec::new();
    for (cell, what) in [(CELLS - 2, "sleeping cell"), (CELLS - 1, "busy cell")] {
        client.call(
            "workspace/executeCommand",
            json!({"command": "jellycell.runCell", "arguments": [{"uri": uri, "cell": cell}]}),
        );
        client.wait_running(&uri);
        let since = Instant::now();
        let figures: Vec<Stats> = kinds
            .iter()
            .map(|(method, params)| time(&mut client, method, params))
            .collect();
        let measured_for = since.elapsed();
        assert!(
            client.progress_ended.is_none() && measured_for < Duration::from_secs(SLOW_SECONDS),
            "the {what} ended before the measurement did"
        );
        client.call(
            "workspace/executeCommand",
            json!({"command": "jellycell.interrupt", "arguments": [{"uri": uri}]}),
        );
        client.wait_run_end();
        phases.push((what, figures, measured_for));
    }

    println!(
        "jellycell-lsp hover, completion and code lenses over stdio (release build) while a {SLOW_SECONDS} s cell runs in the server's kernel; notebook of {CELLS} cells"
    );
    println!(
        "runAbove cached the {} cells above the slow ones in {:.1} s (kernel start included)",
        CELLS - 2,
        cached_in.as_secs_f64()
    );
    println!(
        "{WARMUP} warm-up + {RUNS} timed requests per kind, sequential, {} ms apart; {}; load average {}",
        PACE.as_millis(),
        phases
            .iter()
            .map(|(what, _, took)| format!(
                "{what} measured over {:.1} s of its run",
                took.as_secs_f64()
            ))
            .collect::<Vec<_>>()
            .join(", "),
        load_average()
    );
    println!();
    println!("| request | kernel | p50 | p95 | max |");
    println!("|---|---|---|---|---|");
    let names = [
        "hover (deps name)",
        "completion (deps= in a header)",
        "codeLens (500 cells, 498 cached)",
    ];
    for (index, name) in names.iter().enumerate() {
        let mut rows = vec![("idle", &idle[index])];
        for (what, figures, _) in &phases {
            rows.push((what, &figures[index]));
        }
        for (state, stats) in rows {
            println!(
                "| {name} | {state} | {} | {} | {} |",
                millis(stats.p50),
                millis(stats.p95),
                millis(stats.max)
            );
        }
    }
    client.call("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    let _ = client.child.wait();
}

fn uri(path: &Path) -> String {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file://{}", path.display())
}

/// A minimal LSP client over the server's stdio with Content-Length framing; answers
/// server→client requests with `null` and notes the end of the run's progress.
struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
    progress_ended: Option<Instant>,
}

impl Client {
    fn spawn(python: &Path) -> Client {
        let bin = python.parent().map(Path::to_path_buf).unwrap_or_default();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![bin.clone()];
        dirs.extend(std::env::split_paths(&path));
        let mut command = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"));
        command
            .env("PATH", std::env::join_paths(dirs).unwrap_or(path))
            .env_remove("JUPYTER_PATH")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(venv) = bin.parent() {
            command.env("VIRTUAL_ENV", venv);
        }
        let mut child = command.spawn().expect("spawn jellycell-lsp");
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
                let Ok(message) = serde_json::from_slice::<Value>(&body) else {
                    return;
                };
                if sender.send(message).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            incoming,
            next_id: 1,
            progress_ended: None,
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

    fn next(&mut self) -> Value {
        let message = self
            .incoming
            .recv_timeout(Duration::from_secs(60))
            .expect("the server answered within 60 s");
        if message.get("id").is_some() && message.get("method").is_some() {
            let id = message["id"].clone();
            self.send(&json!({"jsonrpc": "2.0", "id": id, "result": null}));
        }
        if message["method"] == "$/progress" && message["params"]["value"]["kind"] == "end" {
            self.progress_ended = Some(Instant::now());
        }
        message
    }

    fn wait(&mut self, accept: impl Fn(&Value) -> bool) -> Value {
        loop {
            let message = self.next();
            if accept(&message) {
                return message;
            }
        }
    }

    /// Waits for the end of the current run's progress.
    fn wait_run_end(&mut self) {
        if self.progress_ended.take().is_some() {
            return;
        }
        self.wait(|message| {
            message["method"] == "$/progress" && message["params"]["value"]["kind"] == "end"
        });
        self.progress_ended = None;
    }

    /// Waits until the lens says a cell is executing (the kernel is up and busy).
    fn wait_running(&mut self, uri: &str) {
        let started = Instant::now();
        loop {
            let lenses = self.call(
                "textDocument/codeLens",
                json!({"textDocument": {"uri": uri}}),
            );
            let running = lenses
                .as_array()
                .into_iter()
                .flatten()
                .any(|lens| lens["command"]["title"] == "⟳ running…");
            if running {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the cell never started"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let response = self.wait(|message| message.get("method").is_none() && message["id"] == id);
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    fn open(&mut self, path: &Path, text: &str) -> String {
        let uri = uri(path);
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
        );
        uri
    }
}

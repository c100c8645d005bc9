//! Shared by the language-server benches: a minimal LSP client over the release binary's
//! stdio (Content-Length framing, server→client requests answered with `null`), the
//! kernel environment a bench's server or run needs, and the p50/p95/max figures.
//!
//! Each bench includes it with `mod support;` and uses the parts it needs. Not a bench
//! target itself: cargo only discovers `benches/*.rs` and `benches/*/main.rs`.

#![allow(dead_code)]

pub mod jupytext;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// p50, p95 and max of a set of timings.
pub struct Stats {
    pub p50: Duration,
    pub p95: Duration,
    pub max: Duration,
    pub min: Duration,
}

impl Stats {
    pub fn of(mut samples: Vec<Duration>) -> Stats {
        samples.sort();
        let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
        Stats {
            p50: at(0.50),
            p95: at(0.95),
            max: samples[samples.len() - 1],
            min: samples[0],
        }
    }
}

/// `warmup` untimed calls of `once`, then the figures of `runs` timed ones; `once` gets
/// the call's index (warm-ups included).
pub fn time(warmup: usize, runs: usize, mut once: impl FnMut(usize)) -> Stats {
    for index in 0..warmup {
        once(index);
    }
    timed(warmup, runs, once)
}

/// The figures of `runs` timed calls of `once`, the first with index `first`.
fn timed(first: usize, runs: usize, mut once: impl FnMut(usize)) -> Stats {
    let samples = (0..runs)
        .map(|run| {
            let start = Instant::now();
            once(first + run);
            start.elapsed()
        })
        .collect();
    Stats::of(samples)
}

/// [`time`] with the warm-up lasting at least [`settle`] as well: for a server just
/// started, whose one-time work after opening a notebook (the environment probe, a Python
/// process checking its imports) shares the 2-core machine with the first edits. The
/// figures are then those of editing, not of the second after opening.
pub fn time_settled(warmup: usize, runs: usize, mut once: impl FnMut(usize)) -> Stats {
    let started = Instant::now();
    let mut index = 0;
    while index < warmup || started.elapsed() < settle() {
        once(index);
        index += 1;
    }
    timed(index, runs, once)
}

/// How long [`time_settled`] warms up at least: `JELLYCELL_BENCH_SETTLE_MS`, else 2 s.
pub fn settle() -> Duration {
    let millis = std::env::var("JELLYCELL_BENCH_SETTLE_MS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(2000);
    Duration::from_millis(millis)
}

pub fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

/// The LSP position of the first `needle` in `text`, shifted right by `shift` bytes.
pub fn position(text: &str, needle: &str, shift: usize) -> Value {
    let at = text.find(needle).expect("needle in the generated text");
    let before = &text[..at];
    json!({
        "line": before.matches('\n').count(),
        "character": before.rsplit('\n').next().map_or(0, str::len) + shift,
    })
}

pub fn uri(path: &Path) -> String {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file://{}", path.display())
}

/// The server binary `jellycell-lsp` this bench was built with, or `JELLYCELL_BENCH_SERVER`
/// (another build, for before/after figures), under `JELLYCELL_BENCH_WRAP` when set
/// (`perf record -g -o /tmp/lsp.data`); no arguments yet.
pub fn server() -> Command {
    let server = std::env::var("JELLYCELL_BENCH_SERVER")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_jellycell-lsp").to_string());
    let wrap = std::env::var("JELLYCELL_BENCH_WRAP").unwrap_or_default();
    let mut words: Vec<&str> = wrap.split_whitespace().collect();
    words.push(&server);
    let mut command = Command::new(words[0]);
    command.args(&words[1..]);
    command
}

/// How long to wait for one message: `JELLYCELL_BENCH_TIMEOUT` seconds, else 60 (a
/// server under valgrind opens a 16,000-cell notebook in minutes).
fn answer_timeout() -> Duration {
    let seconds = std::env::var("JELLYCELL_BENCH_TIMEOUT")
        .ok()
        .and_then(|seconds| seconds.trim().parse().ok())
        .unwrap_or(60);
    Duration::from_secs(seconds)
}

/// The three load averages of `/proc/loadavg`, printed beside every figure.
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "?".into())
}

/// The `bin` folder of the Python that has ipykernel: `JELLYCELL_TEST_PYTHON`'s, else
/// `target/py/bin`.
pub fn python_bin() -> std::path::PathBuf {
    std::env::var("JELLYCELL_TEST_PYTHON")
        .ok()
        .and_then(|python| Path::new(&python).parent().map(Path::to_path_buf))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/py/bin"))
}

/// The Python environment whose `bin` is given first on PATH and as VIRTUAL_ENV, so the
/// `python3` kernel is found there; no JUPYTER_PATH from the caller's shell.
pub fn kernel_environment(command: &mut Command, bin: &Path) {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin.to_path_buf()];
    dirs.extend(std::env::split_paths(&path));
    command.env("PATH", std::env::join_paths(dirs).unwrap_or(path));
    if let Some(prefix) = bin.parent() {
        command.env("VIRTUAL_ENV", prefix);
    }
    command.env_remove("JUPYTER_PATH");
}

/// A one-notebook project in a temporary folder whose notebook `notebooks/NAME` was run by
/// `jellycell-lsp run` with the test venv's kernel ([`python_bin`]), so every cell has a result.
pub struct RanProject {
    pub dir: tempfile::TempDir,
    pub path: std::path::PathBuf,
    pub run_time: Duration,
}

pub fn ran_project(name: &str, text: &str) -> RanProject {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"bench\"\n").expect("config");
    std::fs::create_dir_all(root.join("notebooks")).expect("folders");
    let relative = format!("notebooks/{name}");
    let path = root.join(&relative);
    std::fs::write(&path, text).expect("notebook");
    let started = Instant::now();
    let mut run = server();
    run.args(["run", &relative]).current_dir(root);
    kernel_environment(&mut run, &python_bin());
    run.env_remove("PYTHONPATH");
    let output = run.output().expect("run the notebook");
    assert!(
        output.status.success(),
        "run failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    RanProject {
        dir,
        path,
        run_time: started.elapsed(),
    }
}

/// What the client needs to read of a server message; a bench picks the representation
/// (a `Value`, or a typed envelope that skips what it does not keep).
pub trait Message: DeserializeOwned + Send + 'static {
    /// The id of a server→client request (answered with `null`).
    fn request_id(&self) -> Option<Value>;
    /// The id this message answers, if it is a response.
    fn response_id(&self) -> Option<i64>;
    /// The error of a failed response, as text.
    fn error(&self) -> Option<String>;
    /// Whether this is the `end` of a work-done progress.
    fn ends_progress(&self) -> bool;
}

impl Message for Value {
    fn request_id(&self) -> Option<Value> {
        self.get("method")?;
        self.get("id").cloned()
    }

    fn response_id(&self) -> Option<i64> {
        if self.get("method").is_some() {
            return None;
        }
        self.get("id")?.as_i64()
    }

    fn error(&self) -> Option<String> {
        self.get("error").map(|_| self.to_string())
    }

    fn ends_progress(&self) -> bool {
        self["method"] == "$/progress" && self["params"]["value"]["kind"] == "end"
    }
}

/// A minimal LSP client over a spawned server's stdio; notes when a progress ends.
pub struct Client<M: Message> {
    pub child: Child,
    stdin: ChildStdin,
    incoming: Receiver<M>,
    next_id: i64,
    /// When the latest work-done progress ended, until a bench takes it.
    pub progress_ended: Option<Instant>,
}

impl<M: Message> Client<M> {
    /// Spawns `command` with piped stdin/stdout (stderr inherited) and reads its
    /// messages on a thread.
    pub fn spawn(command: &mut Command) -> Client<M> {
        let mut child = command
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
            // One buffer for every body: a new one per answer of 400 KiB was freed to
            // the system and faulted in again each time, ~3 ms on a 2-core VM that the
            // figures charged to the server (and the server's threads waited behind).
            let mut body = Vec::new();
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
                body.clear();
                body.resize(length, 0);
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                match serde_json::from_slice::<M>(&body) {
                    Ok(message) => {
                        if sender.send(message).is_err() {
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
            progress_ended: None,
        }
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The next message from the server; a request is answered with `null` first.
    pub fn next(&mut self) -> M {
        let message = self
            .incoming
            .recv_timeout(answer_timeout())
            .expect("the server answered in time (JELLYCELL_BENCH_TIMEOUT, default 60 s)");
        if let Some(id) = message.request_id() {
            self.send(&json!({"jsonrpc": "2.0", "id": id, "result": null}));
        }
        if message.ends_progress() {
            self.progress_ended = Some(Instant::now());
        }
        message
    }

    /// Reads messages until one is accepted, and returns it.
    pub fn wait(&mut self, accept: impl Fn(&M) -> bool) -> M {
        loop {
            let message = self.next();
            if accept(&message) {
                return message;
            }
        }
    }

    /// Sends a request and returns its response (panics if it failed).
    pub fn call(&mut self, method: &str, params: Value) -> M {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let response = self.wait(|message| message.response_id() == Some(id));
        if let Some(error) = response.error() {
            panic!("{method} failed: {error}");
        }
        response
    }

    /// `initialize` with `rootUri` and one workspace folder at `root`, then `initialized`.
    pub fn initialize(&mut self, root: &Path, capabilities: Value) {
        let root_uri = uri(root);
        self.call(
            "initialize",
            json!({
                "processId": std::process::id(),
                "rootUri": root_uri,
                "workspaceFolders": [{"uri": root_uri, "name": "bench"}],
                "capabilities": capabilities,
            }),
        );
        self.notify("initialized", json!({}));
    }

    /// `didOpen` of `path` at version 1; returns its URI.
    pub fn open(&mut self, path: &Path, text: &str) -> String {
        let uri = uri(path);
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
        );
        uri
    }

    /// `shutdown`, `exit`, and waits for the server to end.
    pub fn shutdown(mut self) {
        self.call("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let _ = self.child.wait();
    }
}

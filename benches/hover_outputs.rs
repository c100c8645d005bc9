//! Benchmark (figures, not pass/fail): hover latency over real stdio when the hover shows
//! a cell's cached outputs, against the release binary.
//!
//! A project whose notebook has a chain of 200 cells (each `deps=` the one before, so
//! the last cell's key needs 200 keys), a cell printing 10,000 lines, one displaying a
//! 40 KiB PNG (inlined as a `data:` URI), one showing HTML (which starts the preview
//! server on the first hover, before the timed ones), all run by `jellycell-lsp run` with
//! the test venv's ipykernel (`target/py`, as the tests provision it). Then per case 20
//! warm-up and 200 timed hovers, sequential; p50/p95/max as a markdown table. The stale
//! case edits the last chain cell first, so its hover finds the older manifest.
//!
//! Run: `cargo bench --bench hover_outputs`.

#![allow(clippy::print_stdout)] // the report is this program's output

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CHAIN: usize = 200;
const WARMUP: usize = 20;
const RUNS: usize = 200;

fn notebook() -> String {
    let mut text = String::new();
    for i in 0..CHAIN {
        let deps = if i == 0 {
            String::new()
        } else {
            format!(", \"deps=c{}\"", i - 1)
        };
        text.push_str(&format!(
            "# %% tags=[\"jc.step\", \"name=c{i}\"{deps}]\nx{i} = {i}\nprint(\"cell {i}\")\n\n"
        ));
    }
    text.push_str(
        "# %% tags=[\"jc.step\", \"name=long\"]\nfor i in range(10000):\n    print(f\"row {i}\")\n\n\
         # %% tags=[\"jc.step\", \"name=picture\"]\nimport base64, os\n\
         display({\"image/png\": base64.b64encode(b\"\\x89PNG\\r\\n\\x1a\\n\" + os.urandom(40000)).decode()}, raw=True)\n\n\
         # %% tags=[\"jc.step\", \"name=table\"]\nfrom IPython.display import HTML\n\
         HTML(\"<table>\" + \"<tr><td>1</td></tr>\" * 500 + \"</table>\")\n",
    );
    text
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"bench\"\n").expect("config");
    std::fs::create_dir_all(root.join("notebooks")).expect("folders");
    let path = root.join("notebooks/hover.py");
    let text = notebook();
    std::fs::write(&path, &text).expect("notebook");

    let started = Instant::now();
    let mut run = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"));
    run.args(["run", "notebooks/hover.py"]).current_dir(root);
    kernel_environment(&mut run);
    let output = run.output().expect("run the notebook");
    assert!(
        output.status.success(),
        "run failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let run_time = started.elapsed();

    let mut client = Client::spawn();
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
    let uri = client.open(&path, &text);

    let last = format!("print(\"cell {}\")", CHAIN - 1);
    let mut rows = Vec::new();
    for (name, needle) in [
        ("cached print, end of a 200-cell deps chain", last.as_str()),
        ("10,000 printed lines (cut to 40)", "print(f\"row"),
        ("40 KiB PNG, inlined", "display({"),
        ("HTML, preview link", "HTML(\"<table>\""),
    ] {
        let at = position(&text, needle, 2);
        let mut size = 0;
        let stats = time(|| {
            size = client.hover(&uri, &at);
        });
        rows.push((name.to_string(), stats, size));
    }
    // Edit the last chain cell: its hover now shows the older outputs as stale.
    let edited = text.replace(&last, &format!("print(\"cell {} edited\")", CHAIN - 1));
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    let at = position(&edited, "edited", 0);
    let mut size = 0;
    let stats = time(|| {
        size = client.hover(&uri, &at);
    });
    rows.push(("stale cell (edited after its run)".to_string(), stats, size));

    println!(
        "hover with cached outputs over stdio (release build); the notebook ({} cells) ran in {:.1} s",
        CHAIN + 3,
        run_time.as_secs_f64()
    );
    println!("{WARMUP} warm-up + {RUNS} timed hovers per case, sequential");
    println!();
    println!("| hover on | p50 | p95 | max | hover size |");
    println!("|---|---|---|---|---|");
    for (name, stats, size) in rows {
        println!(
            "| {name} | {} | {} | {} | {:.1} KiB |",
            millis(stats.0),
            millis(stats.1),
            millis(stats.2),
            size as f64 / 1024.0
        );
    }
    client.call("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    let _ = client.child.wait();
}

/// The test venv's `bin/` first on PATH, so the run finds its ipykernel.
fn kernel_environment(command: &mut Command) {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/py/bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin.clone()];
    dirs.extend(std::env::split_paths(&path));
    command.env("PATH", std::env::join_paths(dirs).unwrap_or(path));
    if let Some(venv) = bin.parent() {
        command.env("VIRTUAL_ENV", venv);
    }
    command.env_remove("JUPYTER_PATH");
    command.env_remove("PYTHONPATH");
}

/// (p50, p95, max) of `RUNS` timed calls after `WARMUP` untimed ones.
fn time(mut once: impl FnMut()) -> (Duration, Duration, Duration) {
    for _ in 0..WARMUP {
        once();
    }
    let mut samples: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            once();
            start.elapsed()
        })
        .collect();
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.95), samples[samples.len() - 1])
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

fn position(text: &str, needle: &str, shift: usize) -> Value {
    let at = text.find(needle).expect("needle in the notebook");
    let before = &text[..at];
    json!({
        "line": before.matches('\n').count(),
        "character": before.rsplit('\n').next().map_or(0, str::len) + shift,
    })
}

fn uri(path: &Path) -> String {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file://{}", path.display())
}

/// A minimal LSP client over the server's stdio with Content-Length framing.
struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
}

impl Client {
    fn spawn() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
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

    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self
                .incoming
                .recv_timeout(Duration::from_secs(60))
                .expect("the server answered within 60 s");
            if let (Some(request), Some(_)) = (message.get("id"), message.get("method")) {
                let request = request.clone();
                self.send(&json!({"jsonrpc": "2.0", "id": request, "result": null}));
                continue;
            }
            if message.get("id") == Some(&json!(id)) {
                assert!(message.get("error").is_none(), "{method} failed: {message}");
                return message.get("result").cloned().unwrap_or(Value::Null);
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

    /// One hover; returns the size of its Markdown.
    fn hover(&mut self, uri: &str, at: &Value) -> usize {
        let result = self.call(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": at}),
        );
        result["contents"]["value"].as_str().map_or(0, str::len)
    }
}

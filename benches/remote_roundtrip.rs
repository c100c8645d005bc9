//! Remote kernel round trip: our `Kernel` on a loopback Jupyter Server beside a Python
//! websocket client (tornado's, the one jupyter_server itself ships, speaking the legacy
//! JSON framing with jupyter_client's `Session` messages) on the same server in the same
//! run; then a 50-cell `jellycell-lsp run --force` with a local kernel and with `--server`.
//!
//! The round trip is `execute("pass")` → `execute_reply` and iopub `idle`, median of 50
//! after 5 warm-ups. The server is started by tests/support/servers.rs (Jupyter Server
//! 2.21 from `target/py`). Prints markdown tables. Run with
//! `cargo bench --bench remote_roundtrip`.

#![allow(clippy::print_stdout, clippy::print_stderr)] // the report is this program's output

#[path = "../tests/support/servers.rs"]
mod servers;

/// What servers.rs needs from the test support: the venv's `bin/`.
mod python {
    use std::path::PathBuf;

    pub fn python_bin_dir() -> PathBuf {
        std::env::var_os("JELLYCELL_BENCH_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/py/bin/python3")
            })
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default()
    }
}

use std::process::Command;
use std::time::{Duration, Instant};

use jellycell_lsp::kernel::{ExecutionStatus, Kernel, RemoteServer};
use servers::{Engine, Server};

const WARMUPS: usize = 5;
const RUNS: usize = 50;
const CELLS: usize = 50;
const RUN_REPEATS: usize = 3;

const PYTHON_CLIENT: &str = r#"
import json, statistics, sys, time
from jupyter_client.session import Session
from tornado.httpclient import HTTPRequest
from tornado.ioloop import IOLoop
from tornado.websocket import websocket_connect
import urllib.request

base, token, warmups, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
headers = {"Authorization": "token " + token, "Content-Type": "application/json"}

def rest(method, path, body=None):
    request = urllib.request.Request(base + path, method=method, headers=headers,
                                     data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(request) as response:
        text = response.read()
        return json.loads(text) if text else None

async def main():
    kernel = rest("POST", "api/kernels", {"name": "python3", "path": ""})
    session = Session(username="bench")
    url = base.replace("http", "ws", 1) + "api/kernels/%s/channels?session_id=%s" % (kernel["id"], session.session)
    socket = await websocket_connect(HTTPRequest(url, headers=headers))
    async def execute():
        message = session.msg("execute_request", {"code": "pass", "silent": False,
            "store_history": True, "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
        message["channel"] = "shell"
        began = time.perf_counter()
        await socket.write_message(json.dumps(message, default=str))
        reply = idle = False
        while not (reply and idle):
            incoming = json.loads(await socket.read_message())
            if incoming["parent_header"].get("msg_id") != message["header"]["msg_id"]:
                continue
            if incoming["msg_type"] == "execute_reply":
                reply = True
            if incoming["msg_type"] == "status" and incoming["content"]["execution_state"] == "idle":
                idle = True
        return time.perf_counter() - began
    for _ in range(warmups):
        await execute()
    times = [await execute() for _ in range(runs)]
    socket.close()
    rest("DELETE", "api/kernels/" + kernel["id"])
    print(json.dumps({"times": times}))

IOLoop.current().run_sync(main)
"#;

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

fn row(name: &str, times: &mut [Duration]) {
    let mid = median(times);
    println!(
        "| {name} | {} | {} | {} |",
        millis(mid),
        millis(times[0]),
        millis(times[times.len() - 1])
    );
}

async fn ours(server: &Server) -> (Vec<Duration>, &'static str) {
    let mut remote = RemoteServer::from_env(&server.url, "JELLYCELL_BENCH_NO_SUCH_VAR", "python3");
    remote.token = Some(server.token.clone());
    let kernel = Kernel::start_remote(remote, Duration::from_secs(5))
        .await
        .expect("a remote kernel starts");
    let framing = kernel
        .remote_details()
        .await
        .map_or("?", |(_, framing)| framing);
    for _ in 0..WARMUPS {
        kernel.execute("pass", None).await;
    }
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let began = Instant::now();
        let result = kernel.execute("pass", None).await;
        times.push(began.elapsed());
        assert_eq!(result.status, ExecutionStatus::Ok, "{result:?}");
    }
    let _ = kernel.shutdown().await;
    (times, framing)
}

fn python_client(server: &Server) -> Option<Vec<Duration>> {
    let python = python::python_bin_dir().join("python3");
    let output = Command::new(python)
        .args(["-c", PYTHON_CLIENT, &server.url, &server.token])
        .args([WARMUPS.to_string(), RUNS.to_string()])
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!(
            "the Python client failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    let figures: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    figures["times"].as_array().map(|times| {
        times
            .iter()
            .filter_map(serde_json::Value::as_f64)
            .map(Duration::from_secs_f64)
            .collect()
    })
}

/// Wall time of `run --force` of a 50-cell notebook, local or on `server`.
fn run_times(project: &std::path::Path, server: Option<&Server>) -> Vec<Duration> {
    let bin = python::python_bin_dir();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin.clone()];
    dirs.extend(std::env::split_paths(&path));
    (0..RUN_REPEATS)
        .map(|_| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"));
            command
                .args(["run", "notebooks/cells.py", "--force", "--json"])
                .current_dir(project)
                .env("PATH", std::env::join_paths(&dirs).unwrap_or_default())
                .env("VIRTUAL_ENV", bin.parent().unwrap_or(&bin));
            if let Some(server) = server {
                command
                    .args(["--server", &server.url])
                    .env("JUPYTER_TOKEN", &server.token);
            }
            let began = Instant::now();
            let output = command.output().expect("the binary runs");
            let elapsed = began.elapsed();
            assert!(
                output.status.success(),
                "run failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            elapsed
        })
        .collect()
}

fn main() {
    let project = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        project.path().join("jellycell.toml"),
        "[project]\nname = \"bench\"\n",
    )
    .expect("write config");
    std::fs::create_dir_all(project.path().join("notebooks")).expect("mkdir");
    let cells: String = (0..CELLS)
        .map(|cell| format!("# %%\nx{cell} = {cell}\nprint(x{cell})\n\n"))
        .collect();
    std::fs::write(project.path().join("notebooks/cells.py"), cells).expect("write notebook");

    let server = Server::start(Engine::JupyterServer, project.path(), None);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (mut times, framing) = runtime.block_on(ours(&server));
    println!("server: Jupyter Server on {} (loopback)", server.url);
    println!();
    println!("| client | execute round trip (median) | (min) | (max) |");
    println!("|---|---|---|---|");
    row(
        &format!("jellycell-lsp `Kernel` over the websocket ({framing})"),
        &mut times,
    );
    match python_client(&server) {
        Some(mut times) if !times.is_empty() => row(
            "Python: tornado websocket + jupyter_client `Session` (legacy JSON)",
            &mut times,
        ),
        _ => eprintln!("the Python client reported no figures"),
    }
    println!();
    println!(
        "| {CELLS}-cell `run --force` | wall time (median of {RUN_REPEATS}) | (min) | (max) |"
    );
    println!("|---|---|---|---|");
    row(
        "local kernel (ZeroMQ)",
        &mut run_times(project.path(), None),
    );
    row(
        "remote kernel (--server, loopback)",
        &mut run_times(project.path(), Some(&server)),
    );
}

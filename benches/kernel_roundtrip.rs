//! Kernel round trip: our `Kernel` against Python's jupyter_client, same ipykernel, same run.
//!
//! Measures start-to-ready (spawn → kernel_info answered on shell and iopub) and the median
//! wall time of `execute("pass")` (request → reply and iopub idle) over 50 runs after 5
//! warm-ups, then has jupyter_client's `BlockingKernelClient` do the same. Prints a markdown
//! table. Python: `JELLYCELL_BENCH_PYTHON`, else `target/py/bin/python3` (needs ipykernel and
//! jupyter_client). Run with `cargo bench --bench kernel_roundtrip`.

#![allow(clippy::print_stdout, clippy::print_stderr)] // the report is this program's output

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use jellycell_lsp::kernel::{ExecutionStatus, Kernel, KernelOptions, KernelSpec};

const WARMUPS: usize = 5;
const RUNS: usize = 50;
const STARTS: usize = 3;

const PYTHON_BENCH: &str = r#"
import json, statistics, sys, time
from jupyter_client import KernelManager

warmups, runs, starts = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

def start():
    began = time.perf_counter()
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    return manager, client, time.perf_counter() - began

def execute(client):
    began = time.perf_counter()
    msg_id = client.execute("pass")
    while client.get_shell_msg(timeout=10)["parent_header"].get("msg_id") != msg_id:
        pass
    while True:
        message = client.get_iopub_msg(timeout=10)
        if (message["parent_header"].get("msg_id") == msg_id
                and message["msg_type"] == "status"
                and message["content"]["execution_state"] == "idle"):
            return time.perf_counter() - began

ready = []
for index in range(starts):
    manager, client, elapsed = start()
    ready.append(elapsed)
    if index < starts - 1:
        client.stop_channels()
        manager.shutdown_kernel(now=False)
for _ in range(warmups):
    execute(client)
times = [execute(client) for _ in range(runs)]
client.stop_channels()
manager.shutdown_kernel(now=False)
print(json.dumps({"ready": ready, "times": times}))
"#;

fn python() -> PathBuf {
    std::env::var_os("JELLYCELL_BENCH_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/py/bin/python3"))
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

struct Figures {
    ready: Vec<Duration>,
    times: Vec<Duration>,
}

async fn rust_figures(python: &Path) -> Figures {
    let spec = KernelSpec::ipykernel(python);
    let options = KernelOptions::new(std::env::temp_dir());
    let mut ready = Vec::new();
    let mut kernel = None;
    for _ in 0..STARTS {
        if let Some(previous) = kernel.take() {
            let previous: Kernel = previous;
            let _ = previous.shutdown().await;
        }
        let began = Instant::now();
        let started = Kernel::start(spec.clone(), options.clone())
            .await
            .unwrap_or_else(|error| panic!("kernel start failed: {error}"));
        ready.push(began.elapsed());
        kernel = Some(started);
    }
    let Some(kernel) = kernel else {
        panic!("no kernel started");
    };
    for _ in 0..WARMUPS {
        kernel.execute("pass", None).await;
    }
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let began = Instant::now();
        let result = kernel.execute("pass", None).await;
        times.push(began.elapsed());
        assert_eq!(result.status, ExecutionStatus::Ok, "{result:?}");
    }
    let _ = kernel.shutdown().await;
    Figures { ready, times }
}

fn python_figures(python: &Path) -> Result<Figures, String> {
    let script = std::env::temp_dir().join(format!("jellycell-bench-{}.py", std::process::id()));
    std::fs::write(&script, PYTHON_BENCH).map_err(|error| error.to_string())?;
    let output = Command::new(python)
        .arg(&script)
        .args([WARMUPS.to_string(), RUNS.to_string(), STARTS.to_string()])
        .env("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        .output()
        .map_err(|error| format!("{}: {error}", python.display()))?;
    let _ = std::fs::remove_file(&script);
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|error| error.to_string())?;
    let seconds = |key: &str| -> Vec<Duration> {
        report[key]
            .as_array()
            .map(|values| {
                values
                    .iter()
                    .filter_map(serde_json::Value::as_f64)
                    .map(Duration::from_secs_f64)
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(Figures {
        ready: seconds("ready"),
        times: seconds("times"),
    })
}

fn main() {
    let python = python();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let mut rust = runtime.block_on(rust_figures(&python));
    let python_result = python_figures(&python);

    println!("kernel: ipykernel via {}", python.display());
    println!(
        "start-to-ready over {STARTS} starts; execute(\"pass\") → reply + iopub idle, median of {RUNS} after {WARMUPS} warm-ups\n"
    );
    println!(
        "| client | start-to-ready (median) | start-to-ready (min) | execute round trip (median) | (min) | (max) |"
    );
    println!("|---|---|---|---|---|---|");
    let row = |name: &str, figures: &mut Figures| {
        let min_ready = figures.ready.iter().min().copied().unwrap_or_default();
        let min = figures.times.iter().min().copied().unwrap_or_default();
        let max = figures.times.iter().max().copied().unwrap_or_default();
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            millis(median(&mut figures.ready)),
            millis(min_ready),
            millis(median(&mut figures.times)),
            millis(min),
            millis(max)
        );
    };
    row("jellycell-lsp `Kernel` (Rust)", &mut rust);
    match python_result {
        Ok(mut figures) if !figures.times.is_empty() && !figures.ready.is_empty() => {
            row(
                "jupyter_client `BlockingKernelClient` (Python)",
                &mut figures,
            );
        }
        Ok(_) => eprintln!("the Python benchmark reported no figures"),
        Err(error) => eprintln!("the Python benchmark failed: {error}"),
    }
}

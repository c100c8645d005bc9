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

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Client, Message, Stats, millis, position};

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

/// Requests are paced (one every [`PACE`]) so that the timed ones spread over seconds of
/// the cell's run rather than a burst at its start.
fn time(client: &mut Client<Value>, method: &str, params: &Value) -> Stats {
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
    Stats::of(samples)
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"bench\"\n").expect("config");
    std::fs::create_dir_all(root.join("notebooks")).expect("folders");
    let text = notebook();
    let path = root.join("notebooks/slow.py");
    std::fs::write(&path, &text).expect("notebook");

    let mut server = support::server();
    if let Some(bin) = python().parent() {
        support::kernel_environment(&mut server, bin);
    }
    let mut client: Client<Value> = Client::spawn(&mut server);
    client.initialize(
        root,
        json!({
            "general": {"positionEncodings": ["utf-8", "utf-16"]},
            "window": {"workDoneProgress": true},
            "workspace": {"codeLens": {"refreshSupport": true}},
        }),
    );
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
    wait_run_end(&mut client);
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
        wait_running(&mut client, &uri);
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
        wait_run_end(&mut client);
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
        support::load()
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
    client.shutdown();
}

/// Waits for the end of the current run's progress.
fn wait_run_end(client: &mut Client<Value>) {
    if client.progress_ended.take().is_some() {
        return;
    }
    client.wait(Message::ends_progress);
    client.progress_ended = None;
}

/// Waits until the lens says a cell is executing (the kernel is up and busy).
fn wait_running(client: &mut Client<Value>, uri: &str) {
    let started = Instant::now();
    loop {
        let lenses = client.call(
            "textDocument/codeLens",
            json!({"textDocument": {"uri": uri}}),
        );
        let running = lenses["result"]
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

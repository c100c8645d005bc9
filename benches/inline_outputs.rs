//! Benchmark (figures, not pass/fail): latency of the inline outputs over real stdio on a
//! 2,000-cell notebook with every cell cached, against the release binary:
//! `textDocument/inlayHint` for a visible range (60 lines, as an editor asks) at the top,
//! the middle and the end of the notebook and for the whole notebook, and
//! `jellycell/cellOutputs` for a value and an image cell; a hover of the same cell is the
//! peer measured in the same run (the load of the machine moves both).
//!
//! The cells cycle through a value (`execute_result`), two printed lines and a small PNG
//! display, all run first by `jellycell-lsp run` with the test venv's ipykernel
//! (`target/py`, as the tests provision it). Then per case 20 warm-up and 200 timed
//! requests, sequential; p50/p95/max as a markdown table.
//!
//! Run: `cargo bench --bench inline_outputs`.

#![allow(clippy::print_stdout)] // the report is this program's output

mod support;

use serde_json::{Value, json};
use support::{Client, millis, position};

const CELLS: usize = 2000;
const WARMUP: usize = 20;
const RUNS: usize = 200;
/// The lines an editor window shows.
const VISIBLE: usize = 60;
/// A 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

fn notebook() -> String {
    let mut text = String::from(
        "# %% tags=[\"jc.setup\"]\nimport base64\nfrom IPython.display import Image, display\n\n",
    );
    for i in 0..CELLS {
        let body = match i % 3 {
            0 => format!("v{i} = {i} * 2\nv{i}"),
            1 => format!("print(\"line a {i}\")\nprint(\"line b\")"),
            _ => format!("display(Image(data=base64.b64decode(\"{PNG}\")))"),
        };
        text.push_str(&format!(
            "# %% tags=[\"jc.step\", \"name=c{i}\"]\n{body}\n\n"
        ));
    }
    text
}

fn main() {
    let text = notebook();
    let project = support::ran_project("inline.py", &text);
    let (root, path, run_time) = (project.dir.path(), &project.path, project.run_time);

    let mut client: Client<Value> = Client::spawn(&mut support::server());
    client.initialize(
        root,
        json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}}),
    );
    let uri = client.open(path, &text);
    let lines = text.lines().count();

    let mut rows = Vec::new();
    for (name, first) in [
        ("inlayHint, 60 visible lines at the top", 0),
        ("inlayHint, 60 visible lines in the middle", lines / 2),
        ("inlayHint, 60 visible lines at the end", lines - VISIBLE),
    ] {
        let mut count = 0;
        let stats = support::time(WARMUP, RUNS, |_| {
            count = hints(&mut client, &uri, first, first + VISIBLE);
        });
        rows.push((name.to_string(), stats, format!("{count} hints")));
    }
    let mut count = 0;
    let stats = support::time(WARMUP, RUNS, |_| {
        count = hints(&mut client, &uri, 0, lines);
    });
    rows.push((
        format!("inlayHint, the whole notebook ({lines} lines)"),
        stats,
        format!("{count} hints"),
    ));
    let middle = CELLS / 2 / 3 * 3;
    for (name, cell) in [
        ("cellOutputs, a value cell in the middle", middle + 1),
        (
            "cellOutputs, an image cell in the middle (base64)",
            middle + 3,
        ),
    ] {
        let mut size = 0;
        let stats = support::time(WARMUP, RUNS, |_| {
            let response = client.call("jellycell/cellOutputs", json!({"uri": uri, "cell": cell}));
            size = response["result"].to_string().len();
        });
        rows.push((name.to_string(), stats, format!("{size} B")));
    }
    let at = position(&text, &format!("v{middle} = "), 0);
    let mut size = 0;
    let stats = support::time(WARMUP, RUNS, |_| {
        let response = client.call(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": at}),
        );
        size = response["result"]["contents"]["value"]
            .as_str()
            .map_or(0, str::len);
    });
    rows.push((
        "peer: hover on the same value cell".to_string(),
        stats,
        format!("{size} B"),
    ));

    println!(
        "inline outputs over stdio (release build); the notebook ({CELLS} cells + setup) ran in {:.1} s",
        run_time.as_secs_f64()
    );
    println!("{WARMUP} warm-up + {RUNS} timed requests per case, sequential");
    println!();
    println!("| request | p50 | p95 | max | answer |");
    println!("|---|---|---|---|---|");
    for (name, stats, answer) in rows {
        println!(
            "| {name} | {} | {} | {} | {answer} |",
            millis(stats.p50),
            millis(stats.p95),
            millis(stats.max),
        );
    }
    client.shutdown();
}

/// The inlay hints of lines `first..last`; returns how many.
fn hints(client: &mut Client<Value>, uri: &str, first: usize, last: usize) -> usize {
    let response = client.call(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": uri},
               "range": {"start": {"line": first, "character": 0}, "end": {"line": last, "character": 0}}}),
    );
    response["result"].as_array().map_or(0, Vec::len)
}

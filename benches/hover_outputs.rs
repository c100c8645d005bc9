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

mod support;

use serde_json::{Value, json};
use support::{Client, millis, position};

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
    let text = notebook();
    let project = support::ran_project("hover.py", &text);
    let (root, path, run_time) = (project.dir.path(), &project.path, project.run_time);

    let mut client: Client<Value> = Client::spawn(&mut support::server());
    client.initialize(
        root,
        json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}}),
    );
    let uri = client.open(path, &text);

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
        let stats = support::time(WARMUP, RUNS, |_| {
            size = hover(&mut client, &uri, &at);
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
    let stats = support::time(WARMUP, RUNS, |_| {
        size = hover(&mut client, &uri, &at);
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
            millis(stats.p50),
            millis(stats.p95),
            millis(stats.max),
            size as f64 / 1024.0
        );
    }
    client.shutdown();
}

/// One hover; returns the size of its Markdown.
fn hover(client: &mut Client<Value>, uri: &str, at: &Value) -> usize {
    let response = client.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": at}),
    );
    response["result"]["contents"]["value"]
        .as_str()
        .map_or(0, str::len)
}

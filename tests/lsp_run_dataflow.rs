//! The editor follows the dataflow of its notebooks, over the real binary's stdio with a
//! real ipykernel: *Run with deps* on a cell that `jc.load`s what a stale cell of another
//! notebook writes runs that producer first, in that notebook's own kernel; hover on a
//! stale cell says which input changed (`data` from `make2`) as soon as the producer is
//! edited in its buffer.

mod support;

use serde_json::{Value, json};
use support::lsp::{LspClient, position_of, project, uri};
use support::project::{configure_kernel_env, jellycell_stub};

fn capabilities() -> Value {
    json!({
        "window": {"workDoneProgress": true},
        "workspace": {"codeLens": {"refreshSupport": true}},
        "textDocument": {"publishDiagnostics": {}, "hover": {"contentFormat": ["markdown"]}}
    })
}

/// Runs `command` on cell `cell` of `uri` with the progress token `token`; the progress
/// values of that run, from `begin` to `end`.
fn run(client: &mut LspClient, command: &str, uri: &str, cell: usize, token: &str) -> Vec<Value> {
    client.call(
        "workspace/executeCommand",
        json!({
            "command": command,
            "arguments": [{"uri": uri, "cell": cell}],
            "workDoneToken": token
        }),
    );
    let mut values = Vec::new();
    loop {
        let next = client.wait_for("$/progress", |params| params["token"] == token);
        values.push(next["value"].clone());
        if next["value"]["kind"] == "end" {
            return values;
        }
    }
}

fn messages(progress: &[Value]) -> Vec<String> {
    progress
        .iter()
        .filter_map(|value| value["message"].as_str().map(str::to_string))
        .collect()
}

/// The status lens title of the cell whose header is on line 0 of `uri`.
fn status(client: &mut LspClient, uri: &str) -> String {
    let lenses = client.call(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    lenses
        .as_array()
        .into_iter()
        .flatten()
        .find(|lens| lens["range"]["start"]["line"] == 0)
        .and_then(|lens| lens["command"]["title"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// What `artifacts/means.json` holds: `(mean, pid of the kernel that wrote it)`.
fn means(dir: &std::path::Path) -> (i64, i64) {
    let text = std::fs::read_to_string(dir.join("artifacts/means.json")).expect("means.json");
    let value: Value = serde_json::from_str(&text).expect("json");
    (
        value["mean"].as_i64().unwrap_or(-1),
        value["pid"].as_i64().unwrap_or(-1),
    )
}

const PREP: &str = r#"# %% tags=["jc.step", "name=means"]
import os
jc.save({"mean": 2, "pid": os.getpid()}, "artifacts/means.json")
"#;

const REPORT: &str = r#"# %% tags=["jc.step", "name=show"]
means = jc.load("artifacts/means.json")
print(means["mean"])
"#;

#[test]
fn run_with_deps_runs_a_stale_producer_of_another_notebook_first_in_its_own_kernel() {
    let dir = project(&format!(
        "//- jellycell.toml\n[project]\nname = \"p\"\n//- artifacts/.keep\n\n//- notebooks/prep.py\n{PREP}//- notebooks/report.py\n{REPORT}"
    ));
    let stub = jellycell_stub();
    let stub_path = stub.path().to_path_buf();
    let mut client = LspClient::spawn_with(move |command| {
        configure_kernel_env(command);
        command.env("PYTHONPATH", &stub_path);
    });
    client.initialize(dir.path(), capabilities());
    let prep = client.open(&dir.path().join("notebooks/prep.py"), "python", PREP);
    let report = client.open(&dir.path().join("notebooks/report.py"), "python", REPORT);

    // Nothing ran yet: the producer runs first, then the consumer.
    let first = run(&mut client, "jellycell.runWithDeps", &report, 0, "first");
    let said = messages(&first);
    assert!(
        said.iter()
            .any(|message| message.contains("running notebooks/prep.py first")),
        "{said:?}"
    );
    assert!(
        said.iter()
            .any(|message| message.contains("cell 0 (show): ok")),
        "{said:?}"
    );
    let (mean, prep_kernel) = means(dir.path());
    assert_eq!(mean, 2);
    assert!(status(&mut client, &prep).starts_with("✓ cached"));
    assert!(status(&mut client, &report).starts_with("✓ cached"));

    // Edit the producer in its buffer (not saved): the consumer's run with deps runs the
    // edited producer, in the same (warm) kernel of prep.py.
    let edited = PREP.replace("\"mean\": 2", "\"mean\": 5");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": prep, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    let second = run(&mut client, "jellycell.runWithDeps", &report, 0, "second");
    let said = messages(&second);
    assert!(
        said.iter()
            .any(|message| message.contains("running notebooks/prep.py first")),
        "{said:?}"
    );
    assert_eq!(
        means(dir.path()),
        (5, prep_kernel),
        "prep.py's own kernel ran it"
    );
    assert!(status(&mut client, &prep).starts_with("✓ cached"));
    assert!(status(&mut client, &report).starts_with("✓ cached"));
    let hover = client.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": report}, "position": position_of(REPORT, "print", 1)}),
    );
    let shown = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(shown.contains("\n5\n") || shown.contains("5\n"), "{shown}");

    // Both current now: only the cell itself runs, nothing upstream.
    let third = run(&mut client, "jellycell.runWithDeps", &report, 0, "third");
    let said = messages(&third);
    assert!(
        !said.iter().any(|message| message.contains("first")),
        "{said:?}"
    );
    assert_eq!(client.shutdown(), Some(0));
}

const MAKE_USE: &str = r#"# %% tags=["jc.step", "name=make2"]
data = [1, 2, 3]

# %% tags=["jc.step", "name=use2"]
print(sum(data))
"#;

#[test]
fn hover_on_a_stale_cell_names_the_input_that_changed_in_the_buffer() {
    let dir = project(&format!(
        "//- jellycell.toml\n[project]\nname = \"p\"\n//- notebooks/b.py\n{MAKE_USE}"
    ));
    let mut client = LspClient::spawn_with(configure_kernel_env);
    client.initialize(dir.path(), capabilities());
    let path = dir.path().join("notebooks/b.py");
    let b = client.open(&path, "python", MAKE_USE);
    assert_eq!(b, uri(&path));
    client.call(
        "workspace/executeCommand",
        json!({"command": "jellycell.runAll", "arguments": [{"uri": b}], "workDoneToken": "all"}),
    );
    loop {
        let next = client.wait_for("$/progress", |params| params["token"] == "all");
        if next["value"]["kind"] == "end" {
            break;
        }
    }
    let hover_use = |client: &mut LspClient, text: &str| -> String {
        let answer = client.call(
            "textDocument/hover",
            json!({"textDocument": {"uri": b}, "position": position_of(text, "print", 1)}),
        );
        answer["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let fresh = hover_use(&mut client, MAKE_USE);
    assert!(fresh.contains("cached"), "{fresh}");
    assert!(!fresh.contains("changed since"), "{fresh}");

    // Edit only the producer, in the buffer: the consumer is stale, and says why.
    let edited = MAKE_USE.replace("[1, 2, 3]", "[10, 20, 30]");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": b, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    let stale = hover_use(&mut client, &edited);
    assert!(stale.contains("stale"), "{stale}");
    assert!(
        stale.contains("changed since: `data` from `make2` changed"),
        "{stale}"
    );
    assert!(!stale.contains("the cell's code changed"), "{stale}");
    assert_eq!(client.shutdown(), Some(0));
}

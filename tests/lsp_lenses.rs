//! Code lenses, their `codeLens/resolve`, inlay hints, symbols and folding over the real
//! binary's stdio: a hundred thousand cells answered (not hanging: the speed is in
//! `benches/lsp_lenses.rs`), unresolved lenses that resolve to the cell's commands and
//! carry no URI, a resolve for an older version of the buffer or for a buffer closed
//! (and reopened) since that runs nothing, and statuses memoised per snapshot that
//! follow a run and an upstream edit.

mod support;

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use support::lsp::{LspClient, project};
use support::project::configure_kernel_env;

fn lenses(client: &mut LspClient, uri: &str) -> Vec<Value> {
    call_within(
        client,
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    )
    .as_array()
    .cloned()
    .unwrap_or_default()
}

/// A request's result, waited for longer than the usual bound: a hundred thousand cells'
/// answers are tens of megabytes, parsed here by a debug build on a shared machine. The
/// bound is about not hanging; the speed is measured in the bench.
fn call_within(client: &mut LspClient, method: &str, params: Value) -> Value {
    let id = client.send_request(method, params);
    let response = client
        .try_wait_message(Duration::from_secs(600), |message| {
            message.get("method").is_none() && message["id"] == id
        })
        .unwrap_or_else(|| panic!("no answer to {method} within 10 minutes"));
    assert!(response.get("error").is_none(), "{method}: {response}");
    response["result"].clone()
}

fn range(start: u64, end: u64) -> Value {
    json!({"start": {"line": start, "character": 0}, "end": {"line": end, "character": 0}})
}

/// The resolved lens (`command` filled in) of `lens`.
fn resolve(client: &mut LspClient, lens: &Value) -> Value {
    client.call("codeLens/resolve", lens.clone())
}

/// `(line, title, command, cell)` of resolved lenses.
fn described(lenses: &[Value]) -> Vec<(u64, String, String, Value)> {
    lenses
        .iter()
        .map(|lens| {
            (
                lens["range"]["start"]["line"].as_u64().unwrap_or(u64::MAX),
                lens["command"]["title"].as_str().unwrap_or("").to_string(),
                lens["command"]["command"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                lens["command"]["arguments"][0]["cell"].clone(),
            )
        })
        .collect()
}

#[test]
fn a_hundred_thousand_cells_answer_lenses_hints_symbols_folding_and_diagnostics() {
    let text = "# %%\n".repeat(100_000);
    let dir = project(&format!(
        "//- jellycell.toml\n[project]\nname = \"p\"\n//- notebooks/nb.py\n{text}"
    ));
    let path = dir.path().join("notebooks/nb.py");
    let (mut client, initialized) = LspClient::start(dir.path(), json!({}));
    assert_eq!(
        initialized["capabilities"]["codeLensProvider"]["resolveProvider"],
        true
    );
    let uri = client.open(&path, "python", &text);
    client.diagnostics(&uri);

    let all = lenses(&mut client, &uri);
    // Status, Run, Run with deps on each cell, Run above on all but the first, Run all on it.
    assert_eq!(all.len(), 400_000);
    assert!(all.iter().all(|lens| lens.get("command").is_none()));
    let middle: Vec<Value> = all
        .iter()
        .filter(|lens| lens["range"]["start"]["line"] == 50_000)
        .map(|lens| resolve(&mut client, lens))
        .collect();
    assert_eq!(
        described(&middle),
        [
            (50_000, "○ not run", "jellycell.openPreview"),
            (50_000, "▶ Run", "jellycell.runCell"),
            (50_000, "▶ Run with deps", "jellycell.runWithDeps"),
            (50_000, "Run above", "jellycell.runAbove"),
        ]
        .map(|(line, title, command)| (
            line,
            title.to_string(),
            command.to_string(),
            json!(50_000)
        ))
    );
    let first = resolve(&mut client, &all[3]);
    assert_eq!(first["command"]["title"], "▶▶ Run all");

    let whole = call_within(
        &mut client,
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": uri}, "range": range(0, 100_000)}),
    );
    assert_eq!(whole.as_array().map(Vec::len), Some(100_000));
    let visible = client.call(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": uri}, "range": range(70_000, 70_039)}),
    );
    let lines: Vec<u64> = visible
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|hint| hint["position"]["line"].as_u64())
        .collect();
    assert_eq!(lines, (70_000..=70_039).collect::<Vec<u64>>());

    let symbols = call_within(
        &mut client,
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(symbols.as_array().map(Vec::len), Some(100_000));
    let folding = call_within(
        &mut client,
        "textDocument/foldingRange",
        json!({"textDocument": {"uri": uri}}),
    );
    // One-line cells fold nothing.
    assert_eq!(folding, json!([]));
    client.shutdown();
}

const TWO_CELLS: &str = "# %%\nx = 1\n\n# %%\ny = 2\n";

/// A server that sends every lens unresolved (`lensesResolvedUpTo: 0`) and can ask for a
/// lens refresh, with `notebooks/nb.py` (holding `text`) open and its diagnostics in:
/// (the project, the client, the notebook's URI).
fn unresolved_lenses_session(text: &str) -> (tempfile::TempDir, LspClient, String) {
    let dir = project(&format!(
        "//- jellycell.toml\n[project]\nname = \"p\"\n//- notebooks/nb.py\n{text}"
    ));
    let path = dir.path().join("notebooks/nb.py");
    let mut client = LspClient::spawn(&[]);
    client.initialize_with_options(
        dir.path(),
        json!({"workspace": {"codeLens": {"refreshSupport": true}}}),
        json!({"lensesResolvedUpTo": 0}),
    );
    let uri = client.open(&path, "python", text);
    client.diagnostics(&uri);
    (dir, client, uri)
}

#[test]
fn a_resolve_for_an_older_version_runs_nothing_and_asks_for_new_lenses() {
    let text = TWO_CELLS;
    let (_project, mut client, uri) = unresolved_lenses_session(text);
    let before = lenses(&mut client, &uri);
    assert_eq!(before.len(), 8);
    assert!(before.iter().all(|lens| lens.get("command").is_none()));
    // Four small numbers, not the buffer's URI (which 400,000 lenses would repeat).
    for lens in &before {
        let data = lens["data"].as_array().cloned().unwrap_or_default();
        assert!(data.len() == 4 && data.iter().all(Value::is_u64), "{lens}");
    }
    assert!(!Value::Array(before.clone()).to_string().contains("nb.py"));
    assert_eq!(
        before[4],
        json!({
            "range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 4}},
            "data": [0, 1, 1, 0],
        })
    );
    let second_run = before
        .iter()
        .find(|lens| lens["range"]["start"]["line"] == 3 && lens["data"][3] == 1)
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        described(&[resolve(&mut client, &second_run)]),
        [(
            3,
            "▶ Run".to_string(),
            "jellycell.runCell".to_string(),
            json!(1)
        )]
    );

    // A cell inserted above: cell 1 is now `x = 1`, the lens's cell is cell 2.
    let edited = format!("# %%\nw = 0\n\n{text}");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    client.diagnostics(&uri);
    client.discard("workspace/codeLens/refresh");
    let stale = resolve(&mut client, &second_run);
    assert!(stale.get("command").is_none(), "{stale}");
    assert_eq!(stale["data"], second_run["data"]);
    client.wait_for("workspace/codeLens/refresh", |_| true);
    let after = lenses(&mut client, &uri);
    assert_eq!(after.len(), 12);
    assert!(after.iter().all(|lens| lens["data"][1] == 2));

    // Data that is not ours, or names a cell that is gone, comes back as it was.
    for data in [
        json!("x"),
        json!([0, 2, 99, 0]),
        json!([7, 2, 0, 0]),
        json!([0, 2, 0, 9]),
    ] {
        let lens = json!({"range": range(0, 0), "data": data});
        let answer = resolve(&mut client, &lens);
        assert!(answer.get("command").is_none(), "{answer}");
    }
    client.shutdown();
}

#[test]
fn a_resolve_for_a_closed_buffer_runs_nothing_even_once_it_is_reopened() {
    let text = TWO_CELLS;
    let (dir, mut client, uri) = unresolved_lenses_session(text);
    let path = dir.path().join("notebooks/nb.py");
    let before = lenses(&mut client, &uri);
    let second_run = before
        .iter()
        .find(|lens| lens["range"]["start"]["line"] == 3 && lens["data"][3] == 1)
        .cloned()
        .unwrap_or_default();

    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    let closed = resolve(&mut client, &second_run);
    assert!(closed.get("command").is_none(), "{closed}");

    // Reopened at version 1 (versions start over) with a cell inserted above: the old
    // lens's version matches, its cell does not.
    let edited = format!("# %%\nw = 0\n\n{text}");
    client.open(&path, "python", &edited);
    client.diagnostics(&uri);
    let reopened = resolve(&mut client, &second_run);
    assert!(reopened.get("command").is_none(), "{reopened}");
    let after = lenses(&mut client, &uri);
    assert_eq!(after.len(), 12);
    assert!(
        after
            .iter()
            .all(|lens| lens["data"][0] != second_run["data"][0])
    );
    let fresh = after
        .iter()
        .find(|lens| lens["range"]["start"]["line"] == 6 && lens["data"][3] == 1)
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        described(&[resolve(&mut client, &fresh)]),
        [(
            6,
            "▶ Run".to_string(),
            "jellycell.runCell".to_string(),
            json!(2)
        )]
    );
    client.shutdown();
}

/// Moves the mtime of the store's manifests folder an hour back: the memo trusts a
/// settled folder only (a write in the same clock tick as a read would be missed).
fn settle_manifests(root: &std::path::Path) {
    let folder = root.join(".jellycell/cache/jellycell-lsp/manifests");
    let handle = std::fs::File::open(&folder).expect("the manifests folder");
    handle
        .set_modified(SystemTime::now() - Duration::from_secs(3600))
        .expect("set the folder's mtime");
}

#[test]
fn memoised_statuses_follow_a_run_and_an_upstream_edit() {
    let text = "# %% tags=[\"jc.step\", \"name=a\"]\na = 1\n\n# %% tags=[\"jc.step\", \"name=b\", \"deps=a\"]\nb = a + 1\n\n# %% tags=[\"jc.step\", \"name=c\"]\nc = 3\n";
    let dir = project(&format!(
        "//- jellycell.toml\n[project]\nname = \"p\"\n//- notebooks/nb.py\n{text}"
    ));
    let path = dir.path().join("notebooks/nb.py");
    for resolved_up_to in [500, 0] {
        let _ = std::fs::remove_dir_all(dir.path().join(".jellycell"));
        let mut client = LspClient::spawn_with(configure_kernel_env);
        client.initialize_with_options(
            dir.path(),
            json!({"window": {"workDoneProgress": true}}),
            json!({"lensesResolvedUpTo": resolved_up_to}),
        );
        let uri = client.open(&path, "python", text);
        client.diagnostics(&uri);
        let statuses = |client: &mut LspClient| -> Vec<String> {
            let all = lenses(client, &uri);
            all.iter()
                .filter(|lens| {
                    lens["command"]["command"] == "jellycell.openPreview" || lens["data"][3] == 0
                })
                .map(|lens| match lens.get("command") {
                    Some(_) => lens.clone(),
                    None => resolve(client, lens),
                })
                .map(|lens| lens["command"]["title"].as_str().unwrap_or("").to_string())
                .map(|title| title.split(" · ").next().unwrap_or("").to_string())
                .collect()
        };
        run(&mut client, &uri, "jellycell.runWithDeps", 3);
        settle_manifests(dir.path());
        // Twice on the same snapshot: the second answer comes from the memo.
        for _ in 0..2 {
            assert_eq!(
                statuses(&mut client),
                ["✓ cached", "✓ cached", "○ not run"],
                "lensesResolvedUpTo {resolved_up_to}"
            );
        }
        // A run writes a manifest: the memo of this snapshot no longer holds.
        run(&mut client, &uri, "jellycell.runCell", 6);
        assert_eq!(
            statuses(&mut client),
            ["✓ cached", "✓ cached", "✓ cached"],
            "lensesResolvedUpTo {resolved_up_to}"
        );
        settle_manifests(dir.path());
        assert_eq!(statuses(&mut client), ["✓ cached", "✓ cached", "✓ cached"]);
        // An edit of `a` changes b's key too.
        let edited = text.replace("a = 1", "a = 10");
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]}),
        );
        client.diagnostics(&uri);
        assert_eq!(
            statuses(&mut client),
            ["● stale", "● stale", "✓ cached"],
            "lensesResolvedUpTo {resolved_up_to}"
        );
        client.shutdown();
    }
}

/// Runs `command` on the cell whose header is on `line` and waits for the run's end.
fn run(client: &mut LspClient, uri: &str, command: &str, line: u64) {
    client.call(
        "workspace/executeCommand",
        json!({"command": command, "arguments": [{"uri": uri, "line": line}]}),
    );
    let begin = client.wait_for("$/progress", |params| params["value"]["kind"] == "begin");
    let token = begin["token"].clone();
    client.wait_for("$/progress", |params| {
        params["token"] == token && params["value"]["kind"] == "end"
    });
}

/// A memoised `cached` holds only while the result's blobs are there: deleting them (which
/// changes no manifest) turns the lens `stale` at the next request, as the store's own
/// status check would.
#[test]
fn a_memoised_result_whose_blobs_were_deleted_is_not_shown_cached() {
    let text = "# %% tags=[\"jc.step\", \"name=a\"]\nprint(\"from a\")\n";
    let dir = project(&format!(
        "//- jellycell.toml\n[project]\nname = \"p\"\n//- notebooks/nb.py\n{text}"
    ));
    let path = dir.path().join("notebooks/nb.py");
    let mut client = LspClient::spawn_with(configure_kernel_env);
    client.initialize_with_options(
        dir.path(),
        json!({"window": {"workDoneProgress": true}}),
        json!({}),
    );
    let uri = client.open(&path, "python", text);
    client.diagnostics(&uri);
    let status = |client: &mut LspClient| -> String {
        let title = lenses(client, &uri)[0]["command"]["title"]
            .as_str()
            .unwrap_or("")
            .to_string();
        title.split(" · ").next().unwrap_or("").to_string()
    };
    run(&mut client, &uri, "jellycell.runCell", 0);
    settle_manifests(dir.path());
    assert_eq!(status(&mut client), "✓ cached");
    assert_eq!(status(&mut client), "✓ cached", "the memo's answer");
    let blobs = dir.path().join(".jellycell/cache/jellycell-lsp/blobs");
    std::fs::remove_dir_all(&blobs).expect("the run wrote blobs");
    assert_eq!(status(&mut client), "● stale");
    client.shutdown();
}

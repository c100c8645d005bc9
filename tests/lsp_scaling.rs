//! Answers that stay proportional to what was asked, over real stdio: inlay hints only
//! for the requested lines, and notebooks of pathological size (twenty thousand cells, a
//! hundred thousand unclosed brackets) answered, with repeated findings collapsed.
//! Speed itself is measured in `benches/lsp_scaling.rs`; these check the answers.

mod support;

use serde_json::{Value, json};
use support::lsp::{LspClient, project};

fn labels_and_lines(hints: &Value) -> Vec<(u64, String)> {
    hints
        .as_array()
        .into_iter()
        .flatten()
        .map(|hint| {
            (
                hint["position"]["line"].as_u64().unwrap_or(u64::MAX),
                hint["label"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn inlay_hints(client: &mut LspClient, uri: &str, start: u64, end: u64) -> Value {
    client.call(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": uri},
               "range": {"start": {"line": start, "character": 0}, "end": {"line": end, "character": 0}}}),
    )
}

#[test]
fn inlay_hints_cover_only_the_requested_lines() {
    let text = "# %%\nx = 1\n\n# %% [markdown]\n# prose\n\n# %% tags=[\"jc.setup\"]\ny = 2\n\n# %%\nz = 3\n";
    let dir = project(&format!(
        "//- jellycell.toml\n[project]\nname = \"p\"\n//- notebooks/nb.py\n{text}"
    ));
    let path = dir.path().join("notebooks/nb.py");
    let (mut client, _) = LspClient::start(dir.path(), json!({}));
    let uri = client.open(&path, "python", text);
    client.diagnostics(&uri);

    let all = labels_and_lines(&inlay_hints(&mut client, &uri, 0, 11));
    assert_eq!(
        all,
        [
            (0, "○ not run".to_string()),
            (6, "setup".to_string()),
            (9, "○ not run".to_string())
        ]
    );
    assert_eq!(
        labels_and_lines(&inlay_hints(&mut client, &uri, 5, 8)),
        [(6, "setup".to_string())],
        "a range holding one header gets that header's hint"
    );
    assert_eq!(
        labels_and_lines(&inlay_hints(&mut client, &uri, 9, 9)),
        [(9, "○ not run".to_string())],
        "a one-line range includes its line"
    );
    assert!(labels_and_lines(&inlay_hints(&mut client, &uri, 1, 5)).is_empty());
    assert!(labels_and_lines(&inlay_hints(&mut client, &uri, 40, 50)).is_empty());
    assert!(labels_and_lines(&inlay_hints(&mut client, &uri, 8, 2)).is_empty());
    client.shutdown();
}

#[test]
fn a_hundred_thousand_unclosed_brackets_are_one_diagnostic() {
    let text = format!("# %%\nx = {}\n\n# %%\ny = 1\n", "(".repeat(100_000));
    let dir = project(&format!(
        "//- jellycell.toml\n[project]\nname = \"p\"\n//- notebooks/nb.py\n{text}"
    ));
    let path = dir.path().join("notebooks/nb.py");
    let (mut client, _) = LspClient::start(dir.path(), json!({}));
    let uri = client.open(&path, "python", &text);
    let diagnostics = client.diagnostics(&uri);
    let syntax: Vec<&Value> = diagnostics
        .iter()
        .filter(|diagnostic| diagnostic["code"] == "python-syntax-error")
        .collect();
    assert_eq!(syntax.len(), 1, "{syntax:?}");
    assert_eq!(
        syntax[0]["range"]["start"],
        json!({"line": 1, "character": 4})
    );
    let message = syntax[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("nor were the 99999 brackets opened after it"),
        "{message}"
    );
    client.shutdown();
}

#[test]
fn twenty_thousand_cells_get_every_lens_and_the_visible_hints() {
    let text = "# %%\n".repeat(20_000);
    let dir = project(&format!(
        "//- jellycell.toml\n[project]\nname = \"p\"\n//- notebooks/nb.py\n{text}"
    ));
    let path = dir.path().join("notebooks/nb.py");
    let (mut client, _) = LspClient::start(dir.path(), json!({}));
    let uri = client.open(&path, "python", &text);
    client.diagnostics(&uri);
    let lenses = client.call(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    // Above 500 code cells the lenses come unresolved (`data` = [document, version,
    // cell, lens]); each status lens resolves to the cell's status.
    let status_lenses: Vec<&Value> = lenses
        .as_array()
        .into_iter()
        .flatten()
        .filter(|lens| lens.get("command").is_none() && lens["data"][3] == 0)
        .collect();
    assert_eq!(status_lenses.len(), 20_000);
    let resolved = client.call("codeLens/resolve", status_lenses[12_345].clone());
    assert_eq!(resolved["command"]["title"], "○ not run");
    assert_eq!(resolved["command"]["arguments"][0]["cell"], 12_345);
    let hints = labels_and_lines(&inlay_hints(&mut client, &uri, 10_000, 10_009));
    assert_eq!(hints.len(), 10);
    assert_eq!(hints[0], (10_000, "○ not run".to_string()));
    client.shutdown();
}

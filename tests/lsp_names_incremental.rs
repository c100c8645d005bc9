//! `undefined-name` and `use-before-define` as the editor keeps them across edits (the
//! server re-checks only the cells an edit touched and the readers of the names it
//! changed): over real stdio, each edit's published diagnostics are the ones a fresh open
//! of the same text gets, in a second server.

mod support;

use serde_json::{Value, json};
use support::lsp::{LspClient, project, uri};

const NOTEBOOK: &str = "# %% tags=[\"jc.step\", \"name=first\"]\ntotal = 1\n\n# %% tags=[\"jc.step\", \"name=second\"]\nprint(total)\n\n# %% tags=[\"jc.step\", \"name=third\"]\nprint(late)\n\n# %% tags=[\"jc.step\", \"name=fourth\"]\nlate = 2\n\n# %%\nprint(other)\n";

/// (rule, line, message) of every names finding, sorted.
fn names_findings(diagnostics: &[Value]) -> Vec<(String, u64, String)> {
    let mut found: Vec<(String, u64, String)> = diagnostics
        .iter()
        .filter(|d| d["code"] == "undefined-name" || d["code"] == "use-before-define")
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["range"]["start"]["line"].as_u64().unwrap_or(u64::MAX),
                d["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    found.sort();
    found
}

fn start(root: &std::path::Path) -> LspClient {
    let (client, _) = LspClient::start(root, json!({"general": {"positionEncodings": ["utf-16"]}}));
    client
}

/// The diagnostics a fresh server publishes when it opens `text`.
fn fresh(root: &std::path::Path, text: &str) -> Vec<(String, u64, String)> {
    let mut client = start(root);
    let uri = client.open(&root.join("notebooks/a.py"), "python", text);
    let published = client.diagnostics(&uri);
    client.shutdown();
    names_findings(&published)
}

/// Replaces line `line` of `text` (and of the buffer) with `new_line` (with its newline;
/// empty deletes the line), as version `version`; returns the published diagnostics.
fn replace_line(
    client: &mut LspClient,
    uri: &str,
    text: &mut String,
    version: i64,
    line: usize,
    new_line: &str,
) -> Vec<(String, u64, String)> {
    client.replace_line(uri, text, version, line, new_line);
    let params = client.wait_for("textDocument/publishDiagnostics", |params| {
        params["uri"] == uri && params["version"] == version
    });
    names_findings(params["diagnostics"].as_array().map_or(&[], Vec::as_slice))
}

#[test]
fn every_edit_publishes_the_names_findings_of_a_fresh_open() {
    let dir = project(&format!(
        "//- jellycell.toml\n[project]\nname = \"t\"\n//- notebooks/a.py\n{NOTEBOOK}"
    ));
    let root = dir.path();
    let mut client = start(root);
    let uri = uri(&root.join("notebooks/a.py"));
    client.open(&root.join("notebooks/a.py"), "python", NOTEBOOK);
    let opened = names_findings(&client.diagnostics(&uri));
    assert_eq!(
        opened
            .iter()
            .map(|(rule, line, _)| (rule.as_str(), *line))
            .collect::<Vec<_>>(),
        [("undefined-name", 13), ("use-before-define", 7)],
        "{opened:?}"
    );
    assert!(opened[1].2.contains("'fourth'"), "{opened:?}");

    let mut text = NOTEBOOK.to_string();
    // (line, new text): a definition another cell reads lost and regained, a body edit
    // that moves the findings below it, the definer of a use-before-define renamed, a
    // cell marker added and removed, the definition moved above its reader.
    let edits: [(usize, &str); 8] = [
        (1, "totals = 1\n"),
        (1, "total = 1 + 1\n"),
        (2, "\n\n\n"),
        (11, "# %% tags=[\"jc.step\", \"name=renamed\"]\n"),
        (4, "print(total)\n# %%\n"),
        (5, ""),
        (1, "total = 1\nother = 3\n"),
        (3, "late = 0\n"),
    ];
    for (version, (line, new_line)) in edits.into_iter().enumerate() {
        let published = replace_line(
            &mut client,
            &uri,
            &mut text,
            version as i64 + 2,
            line,
            new_line,
        );
        assert_eq!(
            published,
            fresh(root, &text),
            "after edit {version}: {text:?}"
        );
    }
    assert_eq!(fresh(root, &text), Vec::new(), "{text:?}");
    client.shutdown();
}

//! The server reads a project's settings again when `jellycell-lsp.toml` or
//! `pyproject.toml` at its root is created, changed or deleted (reported through
//! `workspace/didChangeWatchedFiles`, over real stdio), without a restart.

mod support;

use serde_json::{Value, json};
use support::lsp::{LspClient, fixture_copy, uri};

fn unknown_deps(diagnostics: &[Value]) -> usize {
    diagnostics
        .iter()
        .filter(|diagnostic| diagnostic["code"] == "unknown-dep")
        .count()
}

fn notify_changed(client: &mut LspClient, path: &std::path::Path, typ: u32) {
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(path), "type": typ}]}),
    );
}

/// The LSP fixture project with `notebooks/report.py` open and its one `unknown-dep`
/// published: (the project, the client, the notebook's URI, its text).
fn report_opened() -> (tempfile::TempDir, LspClient, String, String) {
    let root = fixture_copy("project");
    let (mut client, _) = LspClient::start(
        root.path(),
        json!({"general": {"positionEncodings": ["utf-16"]}}),
    );
    let report = root.path().join("notebooks/report.py");
    let text = std::fs::read_to_string(&report).expect("fixture notebook");
    let report_uri = client.open(&report, "python", &text);
    client.diagnostics_matching(&report_uri, |diagnostics| unknown_deps(diagnostics) == 1);
    (root, client, report_uri, text)
}

const CREATED: u32 = 1;
const CHANGED: u32 = 2;
const DELETED: u32 = 3;

#[test]
fn lint_settings_in_our_files_apply_when_they_change_on_disk() {
    let (root, mut client, report_uri, _) = report_opened();

    let own = root.path().join("jellycell-lsp.toml");
    std::fs::write(&own, "[lint]\nignore = [\"unknown-dep\"]\n").expect("write settings");
    notify_changed(&mut client, &own, CREATED);
    client.diagnostics_matching(&report_uri, |diagnostics| unknown_deps(diagnostics) == 0);

    // Without our own file, pyproject.toml's [tool.jellycell-lsp] is read: here it makes the
    // rule a warning.
    std::fs::remove_file(&own).expect("remove settings");
    let pyproject = root.path().join("pyproject.toml");
    std::fs::write(
        &pyproject,
        "[project]\nname = \"p\"\n[tool.jellycell-lsp.lint.severity]\nunknown-dep = \"warning\"\n",
    )
    .expect("write pyproject");
    notify_changed(&mut client, &own, DELETED);
    notify_changed(&mut client, &pyproject, CREATED);
    let warned = client.diagnostics_matching(&report_uri, |diagnostics| {
        diagnostics
            .iter()
            .any(|diagnostic| diagnostic["code"] == "unknown-dep" && diagnostic["severity"] == 2)
    });
    assert_eq!(unknown_deps(&warned), 1, "{warned:?}");

    std::fs::write(&pyproject, "[project]\nname = \"p\"\n").expect("rewrite pyproject");
    notify_changed(&mut client, &pyproject, CHANGED);
    let back = client.diagnostics_matching(&report_uri, |diagnostics| {
        diagnostics
            .iter()
            .any(|diagnostic| diagnostic["code"] == "unknown-dep" && diagnostic["severity"] == 1)
    });
    assert_eq!(unknown_deps(&back), 1, "{back:?}");
}

/// Only the files at a project's root are its settings: the same file in a sub-folder
/// changes nothing.
#[test]
fn a_settings_file_below_the_root_is_not_read() {
    let (root, mut client, report_uri, text) = report_opened();

    let nested = root.path().join("notebooks/jellycell-lsp.toml");
    std::fs::write(&nested, "[lint]\nignore = [\"unknown-dep\"]\n").expect("write settings");
    notify_changed(&mut client, &nested, CREATED);
    // An edit makes the server publish again; the finding is still there.
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": report_uri, "version": 2},
            "contentChanges": [{"text": format!("{text}\n")}],
        }),
    );
    let after = client.wait_for("textDocument/publishDiagnostics", |params| {
        params["uri"] == report_uri.as_str() && params["version"] == 2
    });
    let after = after["diagnostics"].as_array().cloned().unwrap_or_default();
    assert_eq!(unknown_deps(&after), 1, "{after:?}");
}

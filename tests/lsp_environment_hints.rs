//! The environment hints in the editor, over stdio with a real venv: `missing-import` and
//! `jc-without-jellycell` are published after open, with the messages, severities,
//! codes and places `--check` gives; installing the package with the command the hint
//! names (real pip, from PyPI) and saving makes it go; `[lint] ignore` is honoured; an
//! import added while typing is asked about and reported; and once `[run] server` runs
//! the kernels on a Jupyter server, there are none. Every step waits for a
//! `publishDiagnostics` that shows it (no sleeps).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use support::lsp::{LspClient, uri};
use support::project::TestProject;
use support::python::python;

const HINTS: [&str; 2] = ["missing-import", "jc-without-jellycell"];

const NOTEBOOK: &str = "# /// script\n# dependencies = [\"six\"]\n# ///\n\n\
# %% tags=[\"jc.step\", \"name=a\"]\nimport json\nimport six\n\
rows = jc.load(\"data/rows.csv\")\n";

fn make_venv(root: &Path, with_pip: bool) -> PathBuf {
    let mut command = Command::new(python());
    command.args(["-m", "venv"]);
    if !with_pip {
        command.arg("--without-pip");
    }
    let status = command
        .arg(root.join(".venv"))
        .status()
        .expect("python runs");
    assert!(status.success(), "python -m venv failed");
    root.join(".venv/bin/python")
}

fn start(project: &TestProject) -> LspClient {
    let root = project.root().to_path_buf();
    let mut client = LspClient::spawn_with(|command| {
        command.current_dir(&root).env_remove("VIRTUAL_ENV");
    });
    client.initialize(project.root(), json!({}));
    client
}

fn hints_in(diagnostics: &[Value]) -> Vec<Value> {
    diagnostics
        .iter()
        .filter(|d| HINTS.iter().any(|rule| d["code"] == *rule))
        .cloned()
        .collect()
}

fn mentions(diagnostics: &[Value], rule: &str, text: &str) -> bool {
    hints_in(diagnostics)
        .iter()
        .any(|d| d["code"] == rule && d["message"].as_str().unwrap_or_default().contains(text))
}

/// `(rule, severity, 0-based line, 0-based column, message)` of `--check`'s hints.
fn check_hints(project: &TestProject) -> Vec<(String, i64, u64, u64, String)> {
    let output = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
        .args([
            "--check",
            "--format",
            "json",
            "--no-cache",
            "notebooks/a.py",
        ])
        .current_dir(project.root())
        .env_remove("VIRTUAL_ENV")
        .output()
        .expect("the binary runs");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "no JSON ({error}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let severity = |name: &str| match name {
        "error" => 1,
        "warning" => 2,
        "info" => 3,
        _ => 4,
    };
    report["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| HINTS.iter().any(|rule| d["rule"] == *rule))
        .map(|d| {
            (
                d["rule"].as_str().unwrap_or_default().to_string(),
                severity(d["severity"].as_str().unwrap_or_default()),
                d["line"].as_u64().unwrap_or_default() - 1,
                d["column"].as_u64().unwrap_or_default() - 1,
                d["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn as_check_hints(diagnostics: &[Value]) -> Vec<(String, i64, u64, u64, String)> {
    hints_in(diagnostics)
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["severity"].as_i64().unwrap_or_default(),
                d["range"]["start"]["line"].as_u64().unwrap_or_default(),
                d["range"]["start"]["character"]
                    .as_u64()
                    .unwrap_or_default(),
                d["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The install command a hint names: the text between its last pair of backticks.
fn install_command(message: &str) -> Vec<String> {
    let quoted = message
        .rsplit('`')
        .nth(1)
        .unwrap_or_else(|| panic!("no `command` in {message:?}"));
    quoted.split_whitespace().map(str::to_string).collect()
}

fn notify_changed(client: &mut LspClient, path: &Path) {
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(path), "type": 2}]}),
    );
}

#[test]
fn a_missing_package_is_hinted_after_open_and_goes_after_installing_it_and_saving() {
    let project = TestProject::new(&[("notebooks/a.py", NOTEBOOK)]);
    let venv_python = make_venv(project.root(), true);
    let mut client = start(&project);
    let uri = client.open(&project.path("notebooks/a.py"), "python", NOTEBOOK);

    let opened = client.diagnostics_matching(&uri, |diagnostics| {
        mentions(diagnostics, "missing-import", "\"six\"")
            && mentions(diagnostics, "jc-without-jellycell", "jc.load")
    });
    let in_editor = as_check_hints(&opened);
    assert_eq!(
        in_editor,
        check_hints(&project),
        "the editor's hints are --check's"
    );
    assert_eq!(in_editor.len(), 2, "{in_editor:?}");
    let six = &in_editor[0].4;
    assert!(
        six.contains(&format!("(project venv {})", venv_python.display())),
        "{six}"
    );

    // Install with the command the hint names, then save: the hint goes, the other stays.
    let command = install_command(six);
    assert_eq!(command[0], venv_python.display().to_string(), "{command:?}");
    let installed = Command::new(&command[0])
        .args(&command[1..])
        .args(["--quiet", "--disable-pip-version-check"])
        .output()
        .expect("pip runs");
    assert!(
        installed.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&installed.stderr)
    );
    client.discard("textDocument/publishDiagnostics");
    client.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );
    let saved = client.diagnostics_matching(&uri, |diagnostics| {
        !mentions(diagnostics, "missing-import", "six")
            && mentions(diagnostics, "jc-without-jellycell", "jc.load")
    });
    assert_eq!(hints_in(&saved).len(), 1, "{saved:?}");

    // `[lint] ignore` turns the other off, as for every rule.
    project.write(
        "jellycell.toml",
        "[project]\nname = \"t\"\n[lint]\nignore = [\"jc-without-jellycell\"]\n",
    );
    client.discard("textDocument/publishDiagnostics");
    notify_changed(&mut client, &project.path("jellycell.toml"));
    client.diagnostics_matching(&uri, |diagnostics| hints_in(diagnostics).is_empty());
    client.shutdown();
}

#[test]
fn an_import_typed_in_is_asked_about_and_a_remote_kernel_gets_no_hints() {
    let text = "# %% tags=[\"jc.step\", \"name=a\"]\nimport json\nimport hint_probe_module\n";
    let project = TestProject::new(&[("notebooks/a.py", text)]);
    make_venv(project.root(), false);
    let mut client = start(&project);
    let uri = client.open(&project.path("notebooks/a.py"), "python", text);
    client.diagnostics_matching(&uri, |diagnostics| {
        mentions(diagnostics, "missing-import", "\"hint_probe_module\"")
    });

    // A new import while typing: asked of the environment in the background.
    client.discard("textDocument/publishDiagnostics");
    let line = text.lines().count();
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{
                "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}},
                "text": "import typed_probe_module\n",
            }],
        }),
    );
    let typed = client.diagnostics_matching(&uri, |diagnostics| {
        mentions(diagnostics, "missing-import", "\"typed_probe_module\"")
            && mentions(diagnostics, "missing-import", "\"hint_probe_module\"")
    });
    let at = hints_in(&typed)
        .into_iter()
        .find(|d| {
            d["message"]
                .as_str()
                .unwrap_or_default()
                .contains("typed_probe")
        })
        .expect("the typed import's hint");
    assert_eq!(at["range"]["start"]["line"], line);
    assert_eq!(at["range"]["start"]["character"], "import ".len());

    // The kernels run on a Jupyter server: this machine's Python is not theirs.
    project.write(
        "jellycell.toml",
        "[project]\nname = \"t\"\n[run]\nserver = \"http://127.0.0.1:9/\"\n",
    );
    client.discard("textDocument/publishDiagnostics");
    notify_changed(&mut client, &project.path("jellycell.toml"));
    client.diagnostics_matching(&uri, |diagnostics| hints_in(diagnostics).is_empty());
    client.shutdown();
}

/// The editor's hints in `--check`'s order (by place).
fn sorted_hints(diagnostics: &[Value]) -> Vec<(String, i64, u64, u64, String)> {
    let mut hints = as_check_hints(diagnostics);
    hints.sort_by_key(|(_, _, line, column, _)| (*line, *column));
    hints
}

/// The editor keeps each cell's imports and scans only the cells an edit changed: after
/// each edit of a 30-cell notebook (an import added to a middle cell, a body edit, lines
/// and a cell inserted above, the import removed, a `jc.*` call added and removed) the
/// published hints are the ones `--check` gives for the same text, places included.
#[test]
fn edits_across_the_cells_give_the_hints_check_gives_for_the_same_text() {
    let mut text = String::new();
    for index in 0..30 {
        text.push_str(&format!("# %% tags=[\"jc.step\", \"name=c{index}\"]\n"));
        if index == 1 {
            text.push_str("import json\nimport hint_probe_module\n");
        }
        text.push_str(&format!("v{index} = {index}\n\n"));
    }
    let project = TestProject::new(&[("notebooks/a.py", &text)]);
    make_venv(project.root(), false);
    let mut client = start(&project);
    let uri = client.open(&project.path("notebooks/a.py"), "python", &text);
    let expected = check_hints(&project);
    assert_eq!(expected.len(), 1, "{expected:?}");
    client.diagnostics_matching(&uri, |diagnostics| sorted_hints(diagnostics) == expected);

    let line_of = |text: &str, needle: &str| {
        text.lines()
            .position(|line| line == needle)
            .unwrap_or_else(|| panic!("no line {needle:?}"))
    };
    // (the line to replace, its new text, how many hints `--check` gives then)
    let edits: [(&str, &str, usize); 7] = [
        ("v15 = 15", "import middle_probe_module\nv15 = 15\n", 2),
        ("v20 = 20", "v20 = 21\n", 2),
        ("v3 = 3", "v3 = 3\n\n\n", 2),
        (
            "v12 = 12",
            "v12 = 12\n\n# %% tags=[\"jc.step\", \"name=new\"]\nimport json, middle_probe_module\n",
            2,
        ),
        ("import middle_probe_module", "", 2),
        ("v7 = 7", "v7 = 7\njc.save(v7, \"artifacts/v7.json\")\n", 3),
        ("jc.save(v7, \"artifacts/v7.json\")", "", 2),
    ];
    for (version, (needle, new_line, count)) in edits.into_iter().enumerate() {
        let line = line_of(&text, needle);
        client.discard("textDocument/publishDiagnostics");
        client.replace_line(&uri, &mut text, version as i64 + 2, line, new_line);
        project.write("notebooks/a.py", &text);
        let expected = check_hints(&project);
        assert_eq!(expected.len(), count, "after {needle:?}: {expected:?}");
        client.diagnostics_matching(&uri, |diagnostics| sorted_hints(diagnostics) == expected);
    }
    client.shutdown();
}

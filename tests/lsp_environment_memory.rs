//! The editor's environment hints use `--check`'s memory (`check/environments.json`):
//! over stdio, with a real venv whose interpreters log each start
//! (`support::counted_python`), a notebook opened after a check whose environment did not
//! change gets its hints without starting a process; installing the module and saving
//! asks again and the hint goes. Every step waits for a `publishDiagnostics` that shows
//! it; the only wait is for the venv's files to be 2 s old, so that the check's answers
//! are trusted (a property of file times, not of the load).

mod support;

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use support::counted_python::{counted_venv, site_packages, starts};
use support::lsp::LspClient;
use support::project::TestProject;

const NOTEBOOK: &str = "# %% tags=[\"jc.step\", \"name=a\"]\nimport json\n\
import memo_probe_module\nrows = jc.load(\"data/rows.csv\")\n";

fn mentions(diagnostics: &[Value], rule: &str, text: &str) -> bool {
    diagnostics
        .iter()
        .any(|d| d["code"] == rule && d["message"].as_str().unwrap_or_default().contains(text))
}

fn check(project: &TestProject) -> usize {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
        .args(["--check", "--format", "json", "notebooks/a.py"])
        .current_dir(project.root())
        .env_remove("VIRTUAL_ENV")
        .output()
        .expect("the binary runs");
    support::hints::environment_hints(&output).len()
}

#[test]
fn a_notebook_opened_after_a_check_starts_no_process() {
    let project = TestProject::new(&[("notebooks/a.py", NOTEBOOK)]);
    let outside = tempfile::tempdir().expect("temp dir");
    let log = outside.path().join("starts.log");
    let venv = project.path(".venv");
    counted_venv(&venv, &log, false);
    let settled = SystemTime::now() + Duration::from_millis(2_100);
    while let Ok(left) = settled.duration_since(SystemTime::now()) {
        std::thread::sleep(left);
    }
    assert_eq!(check(&project), 2, "the module and jellycell");
    let before = starts(&log);
    assert!(before >= 1);

    let root = project.root().to_path_buf();
    let mut client = LspClient::spawn_with(|command| {
        command.current_dir(&root).env_remove("VIRTUAL_ENV");
    });
    client.initialize(project.root(), json!({}));
    let uri = client.open(&project.path("notebooks/a.py"), "python", NOTEBOOK);
    client.diagnostics_matching(&uri, |diagnostics| {
        mentions(diagnostics, "missing-import", "\"memo_probe_module\"")
            && mentions(diagnostics, "jc-without-jellycell", "jc.load")
    });
    assert_eq!(starts(&log), before, "answered from the check's memory");

    std::fs::write(site_packages(&venv).join("memo_probe_module.py"), "")
        .expect("install a module");
    client.discard("textDocument/publishDiagnostics");
    client.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );
    client.diagnostics_matching(&uri, |diagnostics| {
        !mentions(diagnostics, "missing-import", "memo_probe_module")
            && mentions(diagnostics, "jc-without-jellycell", "jc.load")
    });
    assert!(starts(&log) > before, "asked again");
    client.shutdown();
}

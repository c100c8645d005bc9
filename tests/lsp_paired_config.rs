//! `paired-out-of-sync` in the editor follows the jupytext config files on disk: the
//! server keeps each parsed `jupytext.toml` / `pyproject.toml` while its stamp holds
//! (`lint::rules::paired_config`), and a config rewritten on disk (by another program,
//! no notification) changes the finding at the next edit. Over real stdio; every step
//! waits for the published diagnostics of that edit's version.

mod support;

use serde_json::{Value, json};
use support::lsp::{LspClient, uri};
use support::project::TestProject;

const NOTEBOOK: &str = "# %% tags=[\"jc.step\", \"name=a\"]\nvalue = 1\n";

fn paired(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .filter(|d| d["code"] == "paired-out-of-sync")
        .map(|d| d["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Types one more `1` at the end of line 1 (as version `version`) and returns the
/// `paired-out-of-sync` messages published for that version.
fn type_one(client: &mut LspClient, uri: &str, version: i64) -> Vec<String> {
    let column = "value = ".len() + version as usize - 1;
    client.change(uri, version, (1, column), (1, column), "1");
    let params = client.wait_for("textDocument/publishDiagnostics", |params| {
        params["uri"] == uri && params["version"] == version
    });
    paired(params["diagnostics"].as_array().map_or(&[], Vec::as_slice))
}

fn check_config_followed(config: &str, pairing: &str, not_pairing: &str) {
    let project = TestProject::new(&[("notebooks/a.py", NOTEBOOK), (config, pairing)]);
    let (mut client, _) = LspClient::start(project.root(), json!({}));
    let path = project.path("notebooks/a.py");
    client.open(&path, "python", NOTEBOOK);
    let uri = uri(&path);
    let opened = paired(&client.diagnostics(&uri));
    assert!(
        opened.len() == 1 && opened[0].contains("a.ipynb, which does not exist"),
        "{opened:?}"
    );
    // Still paired: the parsed config is reused.
    assert_eq!(type_one(&mut client, &uri, 2), opened);

    project.write(config, not_pairing);
    assert_eq!(type_one(&mut client, &uri, 3), Vec::<String>::new());
    assert_eq!(type_one(&mut client, &uri, 4), Vec::<String>::new());

    project.write(config, pairing);
    assert_eq!(type_one(&mut client, &uri, 5), opened);

    std::fs::remove_file(project.path(config)).expect("remove the config");
    assert_eq!(type_one(&mut client, &uri, 6), Vec::<String>::new());
    client.shutdown();
}

#[test]
fn a_jupytext_toml_changed_on_disk_changes_the_paired_finding_at_the_next_edit() {
    check_config_followed(
        "notebooks/jupytext.toml",
        "formats = \"ipynb,py:percent\"\n",
        "formats = \"py:percent\"\n",
    );
}

#[test]
fn a_pyproject_toml_changed_on_disk_changes_the_paired_finding_at_the_next_edit() {
    // In the notebooks' folder, not at the root: the root's is a settings file, whose
    // change reloads the project anyway.
    check_config_followed(
        "notebooks/pyproject.toml",
        "[tool.jupytext]\nformats = [\"ipynb\", \"py:percent\"]\n",
        "[tool.jupytext]\nformats = \"md:myst,py:percent\"\n",
    );
}

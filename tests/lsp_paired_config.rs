//! `paired-out-of-sync` in the editor follows the jupytext config files and the paired
//! `.ipynb` on disk: the server keeps each parsed `jupytext.toml` / `pyproject.toml`
//! (`lint::rules::paired_config`) and each read `.ipynb` (`lint::rules::paired_ipynb`)
//! while its stamp holds, and a file rewritten on disk (by another program, no
//! notification) changes the finding at the next edit. Over real stdio; every step waits
//! for the published diagnostics of that edit's version.

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

fn ipynb(source: &str) -> String {
    json!({
        "cells": [{
            "cell_type": "code",
            "execution_count": null,
            "metadata": {"tags": ["jc.step", "name=a"]},
            "outputs": [],
            "source": source,
        }],
        "metadata": {"jupytext": {"formats": "ipynb,py:percent"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    })
    .to_string()
}

#[test]
fn the_paired_ipynb_rewritten_on_disk_is_read_again_at_the_next_edit() {
    let project = TestProject::new(&[
        ("notebooks/a.py", NOTEBOOK),
        (
            "notebooks/jupytext.toml",
            "formats = \"ipynb,py:percent\"\n",
        ),
        ("notebooks/a.ipynb", &ipynb("value = 1")),
    ]);
    let (mut client, _) = LspClient::start(project.root(), json!({}));
    let path = project.path("notebooks/a.py");
    client.open(&path, "python", NOTEBOOK);
    let uri = uri(&path);
    assert_eq!(paired(&client.diagnostics(&uri)), Vec::<String>::new());

    let differs = type_one(&mut client, &uri, 2);
    assert!(
        differs.len() == 1 && differs[0].contains("cell 0 has a different source in a.ipynb"),
        "{differs:?}"
    );
    // The `.ipynb` as it was is reused: the same finding.
    assert_eq!(type_one(&mut client, &uri, 3), differs);

    // Rewritten (as `sync` or Jupyter would) to what the buffer will hold after the edit.
    project.write("notebooks/a.ipynb", &ipynb("value = 1111"));
    assert_eq!(type_one(&mut client, &uri, 4), Vec::<String>::new());

    project.write("notebooks/a.ipynb", "{ not json");
    let broken = type_one(&mut client, &uri, 5);
    assert!(
        broken.len() == 1 && broken[0].contains("the paired a.ipynb cannot be read"),
        "{broken:?}"
    );

    std::fs::remove_file(project.path("notebooks/a.ipynb")).expect("remove the ipynb");
    let missing = type_one(&mut client, &uri, 6);
    assert!(
        missing.len() == 1 && missing[0].contains("a.ipynb, which does not exist"),
        "{missing:?}"
    );
    client.shutdown();
}

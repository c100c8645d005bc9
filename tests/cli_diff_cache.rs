//! `jellycell-lsp diff` of two git revisions of a percent notebook whose outputs come from
//! our cache: each revision is run with a real ipykernel, and a cell whose source stays
//! the same but whose upstream cell changed shows its output change (read by each side's
//! own cache key) with no source hunk; a revision that never ran has no result.

mod support;

use serde_json::Value;
use support::git::git;
use support::project::TestProject;

const NOTEBOOK: &str = "notebooks/nb.py";

/// Version `x` of the notebook: only the upstream cell's value changes between versions.
fn version(x: u32) -> String {
    format!(
        "# %% tags=[\"name=setup\"]\nx = {x}\n\n# %% tags=[\"name=show\"]\nprint(\"x is\", x)\n"
    )
}

fn commit_and_run(project: &TestProject, x: u32) {
    project.write(NOTEBOOK, &version(x));
    git(project.root(), &["add", NOTEBOOK]);
    git(project.root(), &["commit", "-qm", &format!("x = {x}")]);
    let (code, report) = project.run(NOTEBOOK, &[]);
    assert_eq!(code, 0, "{report}");
}

fn diff(project: &TestProject, args: &[&str]) -> (Option<i32>, String) {
    let mut all = vec!["diff"];
    all.extend_from_slice(args);
    let output = project
        .command(&all)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

#[test]
fn an_output_only_change_is_read_from_the_cache_by_each_sides_key() {
    let project = TestProject::new(&[]);
    git(project.root(), &["init", "-q"]);
    commit_and_run(&project, 1);
    commit_and_run(&project, 2);

    let (code, shown) = diff(&project, &["HEAD~1:notebooks/nb.py", NOTEBOOK]);
    assert_eq!(code, Some(1), "{shown}");
    assert!(
        shown.starts_with("diff HEAD~1:notebooks/nb.py notebooks/nb.py (outputs: cache, cache)"),
        "{shown}"
    );
    assert!(
        shown.contains("@@ cell 1 \"setup\" (code) @@ modified\n  line 1:\n-x = 1\n+x = 2\n"),
        "{shown}"
    );
    assert!(
        shown.contains(
            "@@ cell 2 \"show\" (code) @@ modified\n  output 1 text:\n  line 1:\n-x is 1\n+x is 2\n"
        ),
        "the show cell has no source hunk, only its output change: {shown}"
    );

    // The same change as nbdime ops: the show cell's outputs are patched, its source not.
    let (_, json) = diff(
        &project,
        &["--format", "json", "HEAD~1:notebooks/nb.py", NOTEBOOK],
    );
    let document: Value = serde_json::from_str(&json).expect("JSON on stdout");
    let cells = document["diff"]
        .as_array()
        .and_then(|ops| ops.iter().find(|op| op["key"] == "cells"))
        .and_then(|op| op["diff"].as_array())
        .unwrap_or_else(|| panic!("a patch of the cells: {document}"));
    let show = cells
        .iter()
        .find(|op| op["key"] == 1 && op["op"] == "patch")
        .and_then(|op| op["diff"].as_array())
        .unwrap_or_else(|| panic!("a patch of cell 2: {document}"));
    let keys: Vec<&str> = show.iter().filter_map(|op| op["key"].as_str()).collect();
    assert_eq!(keys, ["outputs"], "{document}");

    // git's external driver reads both sides from the cache the same way.
    project.write(".gitattributes", "*.py diff=jellycell\n");
    git(
        project.root(),
        &[
            "config",
            "diff.jellycell.command",
            &format!("{} diff --color never", env!("CARGO_BIN_EXE_jellycell-lsp")),
        ],
    );
    let log = String::from_utf8_lossy(
        &git(
            project.root(),
            &["log", "-1", "-p", "--ext-diff", "--format="],
        )
        .stdout,
    )
    .into_owned();
    assert!(log.contains("-x is 1\n+x is 2\n"), "{log}");

    // An edit never run: the new side has no result for the cell whose key it changed.
    project.write(NOTEBOOK, &version(3));
    let (code, shown) = diff(&project, &["HEAD:notebooks/nb.py", NOTEBOOK]);
    assert_eq!(code, Some(1), "{shown}");
    assert!(
        shown.contains(
            "@@ cell 2 \"show\" (code) @@ modified\n  outputs: the new side has no result\n"
        ),
        "{shown}"
    );
    let (_, reversed) = diff(&project, &[NOTEBOOK, "HEAD:notebooks/nb.py"]);
    assert!(
        reversed.contains("  outputs: the old side has no result\n"),
        "{reversed}"
    );
}

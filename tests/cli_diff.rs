//! `jellycell-lsp diff` through the real binary: text against ipynb, moved and renamed
//! cells, output-only changes, git revisions and the git external diff driver in a real
//! repository, and a checker that applies the JSON ops to the old notebook's view and
//! gets the new one.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use jellycell_lsp::format::NotebookFormat;
use jellycell_lsp::review::{DiffOptions, Side, ops};
use serde_json::{Value, json};
use support::git::git;

const BIN: &str = env!("CARGO_BIN_EXE_jellycell-lsp");

const OLD: &str = "# %%\na = 1\n\n# %% tags=[\"name=load\"]\ndf = load()\n\n# %%\nprint(a)\n";
const NEW: &str = "# %%\na = 2\n\n# %%\nimport os\n\n# %% tags=[\"name=load\"]\ndf = load()\n";

fn diff(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("diff")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn ipynb(cells: Value) -> String {
    json!({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}).to_string()
}

fn code(source: &str, outputs: Value) -> Value {
    json!({"cell_type": "code", "metadata": {}, "source": source, "execution_count": 1, "outputs": outputs})
}

fn stream(text: &str) -> Value {
    json!({"output_type": "stream", "name": "stdout", "text": text})
}

#[test]
fn a_percent_notebook_diffs_against_its_earlier_ipynb() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("old.py"), OLD).unwrap();
    std::fs::write(dir.path().join("new.py"), NEW).unwrap();
    let export = Command::new(BIN)
        .args(["export", "old.py", "--to", "ipynb", "-o", "old.ipynb"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(export.status.success());
    let changed = diff(dir.path(), &["old.ipynb", "new.py"]);
    assert_eq!(changed.status.code(), Some(1), "{changed:?}");
    let text = stdout(&changed);
    assert!(
        text.contains("@@ cell 1 (code) @@ modified\n  line 1:\n-a = 1\n+a = 2\n"),
        "{text}"
    );
    assert!(
        text.contains("@@ cell 2 (code) @@ added\n+import os\n"),
        "{text}"
    );
    assert!(
        text.contains("@@ cell 3 (code) @@ removed\n-print(a)\n"),
        "{text}"
    );
    let same = diff(dir.path(), &["old.ipynb", "old.py"]);
    assert_eq!(same.status.code(), Some(0), "{}", stdout(&same));
    assert!(stdout(&same).is_empty());
    let stat = diff(dir.path(), &["--stat", "old.py", "new.py"]);
    assert!(
        stdout(&stat).contains(" 3 cells changed: 1 modified, 1 added, 1 removed, 0 moved"),
        "{}",
        stdout(&stat)
    );
}

#[test]
fn a_moved_and_a_renamed_cell_show_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let old = "# %% tags=[\"name=load\"]\ndf = load()\n\n# %%\na = 1\n\n# %%\nprint(a)\n";
    let new = "# %%\nprint(a)\n\n# %% tags=[\"name=read_data\"]\ndf = load()\n\n# %%\na = 1\n";
    std::fs::write(dir.path().join("old.py"), old).unwrap();
    std::fs::write(dir.path().join("new.py"), new).unwrap();
    let output = diff(dir.path(), &["old.py", "new.py"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("@@ cell 1 (code) @@ moved from cell 3\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "@@ cell 2 \"read_data\" (code) @@ modified\n  metadata tags: [\"name=load\"] → [\"name=read_data\"]\n@@"
        ),
        "a rename changes the tags, not the source: {text}"
    );
    assert!(
        text.contains("@@ cell 3 (code) @@ moved to cell 1\n"),
        "{text}"
    );
}

#[test]
fn an_output_only_change_in_ipynb_shows_the_output_diff() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.ipynb"),
        ipynb(json!([code("print(x)", json!([stream("1\n")]))])),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.ipynb"),
        ipynb(json!([code("print(x)", json!([stream("2\n")]))])),
    )
    .unwrap();
    let output = diff(dir.path(), &["a.ipynb", "b.ipynb"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains("output 1 text:\n  line 1:\n-1\n+2\n"),
        "{text}"
    );
}

#[test]
fn a_missing_file_is_trouble_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = diff(dir.path(), &["nothing.py", "nothing_either.py"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nothing.py"));
}

/// Applies nbdime ops to `base`.
fn apply(base: &Value, ops: &[Value]) -> Value {
    match base {
        Value::Object(map) => {
            let mut map = map.clone();
            for op in ops {
                let key = op["key"]
                    .as_str()
                    .expect("mapping keys are strings")
                    .to_string();
                match op["op"].as_str() {
                    Some("add" | "replace") => {
                        map.insert(key, op["value"].clone());
                    }
                    Some("remove") => {
                        map.remove(&key);
                    }
                    Some("patch") => {
                        let patched = apply(&map[&key], op["diff"].as_array().unwrap());
                        map.insert(key, patched);
                    }
                    other => panic!("{other:?} on a mapping"),
                }
            }
            Value::Object(map)
        }
        Value::Array(items) => Value::Array(apply_sequence(items, ops)),
        Value::String(text) => {
            let lines: Vec<Value> = text.split_inclusive('\n').map(|line| json!(line)).collect();
            let patched = apply_sequence(&lines, ops);
            Value::String(patched.iter().filter_map(Value::as_str).collect())
        }
        other => panic!("ops on {other}"),
    }
}

fn apply_sequence(items: &[Value], ops: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    let mut skip_until = 0;
    for index in 0..=items.len() {
        for op in ops.iter().filter(|op| op["key"] == index) {
            match op["op"].as_str() {
                Some("addrange") => out.extend(op["valuelist"].as_array().unwrap().iter().cloned()),
                Some("removerange") => skip_until = index + op["length"].as_u64().unwrap() as usize,
                Some("patch") => {}
                other => panic!("{other:?} on a sequence"),
            }
        }
        if index == items.len() || index < skip_until {
            continue;
        }
        match ops
            .iter()
            .find(|op| op["key"] == index && op["op"] == "patch")
        {
            Some(op) => out.push(apply(&items[index], op["diff"].as_array().unwrap())),
            None => out.push(items[index].clone()),
        }
    }
    out
}

fn check_ops_apply(dir: &Path, old: (&str, &str), new: (&str, &str)) {
    std::fs::write(dir.join(old.0), old.1).unwrap();
    std::fs::write(dir.join(new.0), new.1).unwrap();
    let output = diff(dir, &["--format", "json", old.0, new.0]);
    let document: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(document["schema_version"], 1);
    let side = |(name, text): (&str, &str)| {
        let format = if name.ends_with(".ipynb") {
            NotebookFormat::Ipynb
        } else {
            NotebookFormat::Percent
        };
        Side::load(name, &dir.join(name), text.to_string(), format)
    };
    let options = DiffOptions::default();
    let old_view = ops::notebook_view(&side(old), options);
    let new_view = ops::notebook_view(&side(new), options);
    let patched = apply(&old_view, document["diff"].as_array().unwrap());
    assert_eq!(patched, new_view, "ops: {}", document["diff"]);
}

#[test]
fn the_json_ops_patch_old_into_new() {
    let dir = tempfile::tempdir().unwrap();
    check_ops_apply(dir.path(), ("old.py", OLD), ("new.py", NEW));
    let moved_and_edited =
        "# %%\nprint(a)\n\n# %%\na = 1\nb = 2\n\n# %% tags=[\"name=load\"]\ndf = load()\n";
    check_ops_apply(dir.path(), ("old.py", OLD), ("moved.py", moved_and_edited));
    let image = |data: &str| json!({"output_type": "display_data", "metadata": {}, "data": {"image/png": data, "text/plain": "<Figure>"}});
    let before = ipynb(json!([
        code("x", json!([stream("1\n2\n"), image("AAAA")])),
        {"cell_type": "markdown", "metadata": {}, "source": "# Title\ntext"},
        code("y", json!([])),
    ]));
    let after = ipynb(json!([
        {"cell_type": "markdown", "metadata": {"tags": ["intro"]}, "source": "# Title\nmore text"},
        code("x", json!([stream("1\n3\n"), image("BBBB"), stream("extra\n")])),
        {"cell_type": "code", "metadata": {}, "source": "y", "execution_count": null, "outputs": []},
        code("z = 3", json!([stream("3\n")])),
    ]));
    check_ops_apply(
        dir.path(),
        ("before.ipynb", &before),
        ("after.ipynb", &after),
    );
}

fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    std::fs::write(dir.path().join("nb.py"), OLD).unwrap();
    git(dir.path(), &["add", "nb.py"]);
    git(dir.path(), &["commit", "-qm", "first"]);
    std::fs::write(dir.path().join("nb.py"), NEW).unwrap();
    dir
}

#[test]
fn a_git_revision_is_read_through_git() {
    let dir = repository();
    let output = diff(dir.path(), &["HEAD:nb.py", "nb.py"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let text = stdout(&output);
    assert!(text.starts_with("diff HEAD:nb.py nb.py"), "{text}");
    assert!(text.contains("-a = 1\n+a = 2\n"), "{text}");
    let missing = diff(dir.path(), &["HEAD:absent.py", "nb.py"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn git_diff_and_log_use_the_driver() {
    let dir = repository();
    std::fs::write(
        dir.path().join(".gitattributes"),
        "*.py diff=jellycell\n*.ipynb diff=jellycell\n",
    )
    .unwrap();
    git(
        dir.path(),
        &[
            "config",
            "diff.jellycell.command",
            &format!("{BIN} diff --color never"),
        ],
    );
    let shown = stdout(&git(dir.path(), &["diff"]));
    assert!(shown.contains("diff a/nb.py b/nb.py"), "{shown}");
    assert!(
        shown.contains("@@ cell 1 (code) @@ modified\n  line 1:\n-a = 1\n+a = 2\n"),
        "{shown}"
    );
    git(dir.path(), &["commit", "-qam", "second"]);
    let log = stdout(&git(dir.path(), &["log", "-p", "--ext-diff"]));
    assert!(
        log.contains("@@ cell 2 (code) @@ added\n+import os\n"),
        "{log}"
    );
    assert!(
        log.contains("@@ cell 1 (code) @@ added\n+a = 1\n"),
        "the first commit diffs against /dev/null: {log}"
    );
}

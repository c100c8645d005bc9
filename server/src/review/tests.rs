//! Notebook diffs of small percent and ipynb notebooks.

use serde_json::json;

use super::*;
use crate::format::{NotebookFormat, read};

fn percent(text: &str) -> Side {
    Side::without_outputs("test.py", read(text, NotebookFormat::Percent))
}

fn ipynb(cells: serde_json::Value) -> Side {
    let text = json!({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells});
    Side::from_ipynb("test.ipynb", read(&text.to_string(), NotebookFormat::Ipynb))
}

fn changes(diff: &NotebookDiff) -> Vec<Change> {
    diff.cells
        .iter()
        .map(|cell| cell.change)
        .filter(|c| *c != Change::Unchanged)
        .collect()
}

const BASE: &str = "# %%\na = 1\n\n# %% tags=[\"name=load\"]\ndf = load()\n\n# %%\nprint(a)\n";

#[test]
fn an_identical_notebook_has_no_changes() {
    let diff = diff_notebooks(&percent(BASE), &percent(BASE), DiffOptions::default());
    assert!(diff.is_empty());
}

#[test]
fn an_inserted_cell_is_added() {
    let new = BASE.replace("# %%\nprint(a)", "# %%\nimport os\n\n# %%\nprint(a)");
    let diff = diff_notebooks(&percent(BASE), &percent(&new), DiffOptions::default());
    assert_eq!(changes(&diff), [Change::Added]);
    assert_eq!(
        diff.cells
            .iter()
            .find(|c| c.is_change())
            .and_then(|c| c.new),
        Some(2)
    );
}

#[test]
fn a_deleted_cell_is_removed() {
    let new = BASE.replace("# %%\na = 1\n\n", "");
    let diff = diff_notebooks(&percent(BASE), &percent(&new), DiffOptions::default());
    assert_eq!(changes(&diff), [Change::Removed]);
}

#[test]
fn a_moved_cell_is_moved_away_and_here() {
    let new = "# %% tags=[\"name=load\"]\ndf = load()\n\n# %%\na = 1\n\n# %%\nprint(a)\n";
    let diff = diff_notebooks(&percent(BASE), &percent(new), DiffOptions::default());
    let found = changes(&diff);
    assert!(
        found == [Change::MovedHere(1), Change::MovedAway(0)]
            || found == [Change::MovedAway(0), Change::MovedHere(1)]
            || found == [Change::MovedHere(0), Change::MovedAway(1)]
            || found == [Change::MovedAway(1), Change::MovedHere(0)],
        "{found:?}"
    );
}

#[test]
fn a_renamed_cell_pairs_by_source_and_shows_its_tags_change() {
    let new = BASE.replace("name=load", "name=read_data");
    let diff = diff_notebooks(&percent(BASE), &percent(&new), DiffOptions::default());
    assert_eq!(changes(&diff), [Change::Modified]);
    let cell = diff.cells.iter().find(|c| c.is_change()).unwrap();
    assert!(cell.source.is_empty());
    assert_eq!(cell.metadata[0].key, "tags");
}

#[test]
fn an_edited_cell_has_source_hunks() {
    let new = BASE.replace("print(a)", "print(a + 1)");
    let diff = diff_notebooks(&percent(BASE), &percent(&new), DiffOptions::default());
    assert_eq!(changes(&diff), [Change::Modified]);
    let cell = diff.cells.iter().find(|c| c.is_change()).unwrap();
    assert_eq!(cell.source[0].removed, ["print(a)"]);
    assert_eq!(cell.source[0].added, ["print(a + 1)"]);
}

#[test]
fn an_output_only_change_is_a_modified_cell_with_output_changes() {
    let cell = |text: &str, count: i64| {
        json!([{"cell_type": "code", "id": "c1", "metadata": {}, "source": "print(x)",
            "execution_count": count,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": text}]}])
    };
    let diff = diff_notebooks(
        &ipynb(cell("1\n", 1)),
        &ipynb(cell("2\n", 7)),
        DiffOptions::default(),
    );
    assert_eq!(changes(&diff), [Change::Modified]);
    let step = diff.cells.iter().find(|c| c.is_change()).unwrap();
    assert!(step.source.is_empty());
    assert!(matches!(&step.outputs, OutputsDiff::Changed(list) if list.len() == 1));
}

#[test]
fn a_new_execution_count_alone_is_hidden_unless_volatile() {
    let cell = |count: i64| {
        json!([{"cell_type": "code", "metadata": {"execution": {"iopub.status.idle": format!("t{count}")}},
            "source": "x", "execution_count": count,
            "outputs": [{"output_type": "execute_result", "execution_count": count,
                "metadata": {}, "data": {"text/plain": "1"}}]}])
    };
    let quiet = diff_notebooks(&ipynb(cell(1)), &ipynb(cell(2)), DiffOptions::default());
    assert!(quiet.is_empty());
    let loud = diff_notebooks(
        &ipynb(cell(1)),
        &ipynb(cell(2)),
        DiffOptions { volatile: true },
    );
    assert!(!loud.is_empty());
}

#[test]
fn a_side_without_a_result_is_said_so() {
    let ran = json!([{"cell_type": "code", "metadata": {}, "source": "x", "execution_count": 1,
        "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\n"}]}]);
    let never = json!([{"cell_type": "code", "metadata": {}, "source": "x",
        "execution_count": null, "outputs": []}]);
    let diff = diff_notebooks(&ipynb(never), &ipynb(ran), DiffOptions::default());
    assert_eq!(diff.cells[0].outputs, OutputsDiff::OldHasNoResult);
}

//! `paired-out-of-sync`: the jupytext pairing guard. A text notebook paired with an
//! `.ipynb` (jupytext `formats` in its own header, `[tool.jupytext] formats` in the
//! nearest `pyproject.toml`, or `formats` in the nearest `jupytext.toml`) must have the
//! same cells as that `.ipynb`; the first differing cell is reported with the command
//! that brings the two back in sync.
//!
//! Pairings are read in their simple form (`"ipynb,py:percent"`, a list of such
//! entries): the `.ipynb` sits beside the text file with the same stem. Prefixed forms
//! (`notebooks///ipynb`) are not followed.

use std::path::Path;

use serde_json::Value;

use super::{paired_config, paired_ipynb};
use crate::analysis::workspace::NotebookFile;
use crate::format::{CellType, Notebook, NotebookFormat};
use crate::lint::Finding;
use crate::text::Span;

pub fn findings(file: &NotebookFile) -> Vec<Finding> {
    if file.format == NotebookFormat::Ipynb || !is_paired_with_ipynb(file) {
        return Vec::new();
    }
    let paired = file.path.with_extension("ipynb");
    let paired_name = paired
        .file_name()
        .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
    let file_name = file
        .path
        .file_name()
        .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
    let sync_hint = format!("run `jellycell-lsp sync {file_name}` (or `--check --fix`)");
    let Some(read) = paired_ipynb::cells(&paired) else {
        return vec![
            Finding::new(
                "paired-out-of-sync",
                Some(Span::at(0)),
                format!(
                    "this notebook is paired with {paired_name}, which does not exist; {sync_hint}"
                ),
            )
            .with_sync_fix(),
        ];
    };
    let theirs = match read {
        Ok(cells) => cells,
        Err(problem) => {
            return vec![Finding::new(
                "paired-out-of-sync",
                Some(Span::at(0)),
                format!("the paired {paired_name} cannot be read ({problem}); {sync_hint}"),
            )];
        }
    };
    let ours = &file.notebook.cells;
    for index in 0..ours.len().max(theirs.len()) {
        let message = match (ours.get(index), theirs.get(index)) {
            (Some(a), Some((kind, source))) if a.cell_type == *kind && a.source == *source => {
                continue;
            }
            (Some(a), Some((kind, _))) if a.cell_type != *kind => format!(
                "cell {index} is {} here but {} in {paired_name}",
                describe(a.cell_type),
                describe(*kind)
            ),
            (Some(_), Some(_)) => format!("cell {index} has a different source in {paired_name}"),
            (Some(_), None) => format!(
                "{paired_name} has only {} cells; cell {index} is missing there",
                theirs.len()
            ),
            (None, Some(_)) => format!(
                "{paired_name} has {} cells, this notebook {}",
                theirs.len(),
                ours.len()
            ),
            (None, None) => continue,
        };
        let span = ours
            .get(index)
            .or(ours.last())
            .map(|cell| {
                cell.spans
                    .header
                    .unwrap_or(Span::at(cell.spans.whole.start))
            })
            .unwrap_or_default();
        return vec![
            Finding::new(
                "paired-out-of-sync",
                Some(span),
                format!("{message}; {sync_hint}"),
            )
            .with_sync_fix(),
        ];
    }
    Vec::new()
}

fn describe(cell_type: CellType) -> &'static str {
    match cell_type {
        CellType::Code => "a code cell",
        CellType::Markdown => "a markdown cell",
        CellType::Raw => "a raw cell",
    }
}

/// Whether any of jupytext's three places pairs this notebook with an `.ipynb`.
fn is_paired_with_ipynb(file: &NotebookFile) -> bool {
    header_pairs_with_ipynb(&file.notebook)
        || folder_pairs_with_ipynb(file.path.parent().unwrap_or(Path::new(".")))
}

/// Whether the notebook's own header (jupytext `formats`) pairs it with an `.ipynb`.
pub fn header_pairs_with_ipynb(notebook: &Notebook) -> bool {
    notebook
        .metadata
        .get("jupytext")
        .and_then(|jupytext| jupytext.get("formats"))
        .is_some_and(formats_include_ipynb)
}

/// Whether the nearest `jupytext.toml` (else `pyproject.toml`'s `[tool.jupytext]`) from
/// `folder` up pairs the notebooks in `folder` with `.ipynb` files.
pub fn folder_pairs_with_ipynb(folder: &Path) -> bool {
    if let Some(formats) = nearest_config(folder, "jupytext.toml", &["formats"]) {
        return formats_include_ipynb(&formats);
    }
    nearest_config(folder, "pyproject.toml", &["tool", "jupytext", "formats"])
        .is_some_and(|formats| formats_include_ipynb(&formats))
}

/// The `formats` of the nearest `jupytext.toml` (else `pyproject.toml`'s
/// `[tool.jupytext]`) from `folder` up, as JSON (a string or a list of strings).
pub fn folder_formats(folder: &Path) -> Option<Value> {
    nearest_config(folder, "jupytext.toml", &["formats"])
        .or_else(|| nearest_config(folder, "pyproject.toml", &["tool", "jupytext", "formats"]))
}

/// `"ipynb,py:percent"` or `["ipynb", "py:percent"]` with a plain `ipynb` entry.
fn formats_include_ipynb(formats: &Value) -> bool {
    let entries: Vec<String> = match formats {
        Value::String(text) => text.split(',').map(str::to_string).collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .flat_map(|item| item.split(',').map(str::to_string).collect::<Vec<_>>())
            .collect(),
        _ => Vec::new(),
    };
    entries
        .iter()
        .any(|entry| entry.trim() == "ipynb" || entry.trim() == ".ipynb")
}

/// The value at `keys` in the nearest `file_name` walking up from `folder`, as JSON
/// (`None` when that file does not parse or lacks `keys`). Parsed files are kept by
/// stamp (`paired_config`): the editor asks on every lint.
fn nearest_config(folder: &Path, file_name: &str, keys: &[&str]) -> Option<Value> {
    let mut current = Some(folder);
    while let Some(dir) = current {
        let found = paired_config::with_config(&dir.join(file_name), |document| {
            let mut item = document.as_item();
            for key in keys {
                item = item.get(key)?;
            }
            toml_value_to_json(item)
        });
        if let Some(value) = found {
            return value.flatten();
        }
        current = dir.parent();
    }
    None
}

fn toml_value_to_json(item: &toml_edit::Item) -> Option<Value> {
    let value = item.as_value()?;
    if let Some(text) = value.as_str() {
        return Some(Value::String(text.to_string()));
    }
    let array = value.as_array()?;
    Some(Value::Array(
        array
            .iter()
            .filter_map(|entry| entry.as_str().map(|text| Value::String(text.to_string())))
            .collect(),
    ))
}

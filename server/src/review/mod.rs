//! Reviewing notebooks like code: a cell-level diff of two notebooks with their outputs.
//!
//! `align` pairs the cells, `lines` diffs text, `outputs` compares outputs, `side` loads
//! one side's outputs (its `.ipynb` outputs, or our cache by its cells' current keys) and
//! `ops` writes the diff in nbdime's op vocabulary. The terminal form lives in the CLI.
//! Volatile noise (execution counts, Jupyter's timing metadata) is hidden unless
//! [`DiffOptions::volatile`] is set.

pub mod align;
pub mod lines;
pub mod ops;
pub mod outputs;
pub mod side;

use serde_json::{Map, Value};

use crate::format::{CellType, Notebook, PlacedCell};
use align::{Aligned, CellIdentity};
use lines::Hunk;
use outputs::OutputChange;

pub use side::{CellOutputs, OutputOrigin, Side};

/// Cell metadata keys that change on every run or are only formatting hints.
const VOLATILE_METADATA: &[&str] = &["execution", "ExecuteTime", "lines_to_next_cell"];

#[derive(Debug, Clone, Copy, Default)]
pub struct DiffOptions {
    /// Compare execution counts and timing metadata too.
    pub volatile: bool,
}

/// How one aligned step changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Unchanged,
    Modified,
    Added,
    Removed,
    /// The old cell moved to new position `.0` (shown where it was).
    MovedAway(usize),
    /// The new cell came from old position `.0` (compared with it).
    MovedHere(usize),
}

/// One changed metadata key.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataChange {
    pub key: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// What happened to a code cell's outputs.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputsDiff {
    /// Not a code cell on a compared side, or equal outputs.
    Same,
    Changed(Vec<OutputChange>),
    /// The old side has no result for this cell (the new side may).
    OldHasNoResult,
    NewHasNoResult,
    NeitherHasAResult,
}

/// One step of the notebook diff.
#[derive(Debug, Clone, PartialEq)]
pub struct CellDiff {
    pub change: Change,
    pub old: Option<usize>,
    pub new: Option<usize>,
    pub source: Vec<Hunk>,
    pub metadata: Vec<MetadataChange>,
    pub outputs: OutputsDiff,
}

impl CellDiff {
    /// Whether the step shows any difference.
    pub fn is_change(&self) -> bool {
        self.change != Change::Unchanged
    }
}

/// The whole diff: every step of the alignment, unchanged ones included.
#[derive(Debug, Clone, PartialEq)]
pub struct NotebookDiff {
    pub cells: Vec<CellDiff>,
}

impl NotebookDiff {
    pub fn is_empty(&self) -> bool {
        !self.cells.iter().any(CellDiff::is_change)
    }
}

/// The identity the aligner uses for cell `index` of `side`.
fn identity(side: &Side, index: usize) -> CellIdentity<'_> {
    let cell = &side.notebook.cells[index];
    CellIdentity {
        cell_type: cell.cell_type,
        name: cell.spec.name.as_deref(),
        key: side.keys.get(index).and_then(Option::as_deref),
        source: &cell.source,
    }
}

/// Diffs `old` against `new`.
pub fn diff_notebooks(old: &Side, new: &Side, options: DiffOptions) -> NotebookDiff {
    let old_ids: Vec<_> = (0..old.notebook.cells.len())
        .map(|i| identity(old, i))
        .collect();
    let new_ids: Vec<_> = (0..new.notebook.cells.len())
        .map(|j| identity(new, j))
        .collect();
    let cells = align::align(&old_ids, &new_ids)
        .into_iter()
        .map(|step| match step {
            Aligned::Pair { old: i, new: j } => {
                let mut diff = compare(old, i, new, j, options);
                diff.change = if diff.source.is_empty()
                    && diff.metadata.is_empty()
                    && matches!(
                        diff.outputs,
                        OutputsDiff::Same | OutputsDiff::NeitherHasAResult
                    ) {
                    Change::Unchanged
                } else {
                    Change::Modified
                };
                diff
            }
            Aligned::Removed { old: i, moved_to } => CellDiff {
                change: moved_to.map_or(Change::Removed, Change::MovedAway),
                old: Some(i),
                new: None,
                source: Vec::new(),
                metadata: Vec::new(),
                outputs: OutputsDiff::Same,
            },
            Aligned::Added { new: j, moved_from } => match moved_from {
                Some(i) => CellDiff {
                    change: Change::MovedHere(i),
                    ..compare(old, i, new, j, options)
                },
                None => CellDiff {
                    change: Change::Added,
                    old: None,
                    new: Some(j),
                    source: Vec::new(),
                    metadata: Vec::new(),
                    outputs: OutputsDiff::Same,
                },
            },
        })
        .collect();
    NotebookDiff { cells }
}

/// The differences between old cell `i` and new cell `j`.
fn compare(old: &Side, i: usize, new: &Side, j: usize, options: DiffOptions) -> CellDiff {
    let (old_cell, new_cell) = (old.notebook.cells.at(i), new.notebook.cells.at(j));
    CellDiff {
        change: Change::Modified,
        old: Some(i),
        new: Some(j),
        source: lines::diff_lines(&old_cell.source, &new_cell.source),
        metadata: metadata_changes(
            &compared_metadata(old_cell, options),
            &compared_metadata(new_cell, options),
        ),
        outputs: compare_outputs(old, i, new, j, options),
    }
}

fn compare_outputs(
    old: &Side,
    i: usize,
    new: &Side,
    j: usize,
    options: DiffOptions,
) -> OutputsDiff {
    match (old.outputs_of(i), new.outputs_of(j)) {
        (CellOutputs::Recorded(a), CellOutputs::Recorded(b)) => {
            let a: Vec<Value> = a
                .iter()
                .map(|o| outputs::normalize(o, options.volatile))
                .collect();
            let b: Vec<Value> = b
                .iter()
                .map(|o| outputs::normalize(o, options.volatile))
                .collect();
            let changes = outputs::diff_outputs(&a, &b);
            if changes.is_empty() {
                OutputsDiff::Same
            } else {
                OutputsDiff::Changed(changes)
            }
        }
        (CellOutputs::NoResult, CellOutputs::Recorded(_)) => OutputsDiff::OldHasNoResult,
        (CellOutputs::Recorded(_), CellOutputs::NoResult) => OutputsDiff::NewHasNoResult,
        (CellOutputs::NoResult, CellOutputs::NoResult) => OutputsDiff::NeitherHasAResult,
        _ => OutputsDiff::Same,
    }
}

/// A cell's metadata as compared: volatile keys left out unless asked for.
pub fn compared_metadata(cell: PlacedCell<'_>, options: DiffOptions) -> Map<String, Value> {
    cell.metadata
        .iter()
        .filter(|(key, _)| options.volatile || !VOLATILE_METADATA.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

fn metadata_changes(old: &Map<String, Value>, new: &Map<String, Value>) -> Vec<MetadataChange> {
    let mut changes: Vec<MetadataChange> = old
        .iter()
        .filter(|(key, value)| new.get(*key) != Some(value))
        .map(|(key, value)| MetadataChange {
            key: key.clone(),
            old: Some(value.clone()),
            new: new.get(key).cloned(),
        })
        .collect();
    changes.extend(
        new.iter()
            .filter(|(key, _)| !old.contains_key(*key))
            .map(|(key, value)| MetadataChange {
                key: key.clone(),
                old: None,
                new: Some(value.clone()),
            }),
    );
    changes
}

/// A cell's display name: its `name=`, else `cell N` (1-based position).
pub fn cell_label(notebook: &Notebook, index: usize) -> String {
    let cell = &notebook.cells[index];
    let kind = match cell.cell_type {
        CellType::Code => "code",
        CellType::Markdown => "markdown",
        CellType::Raw => "raw",
    };
    match cell.spec.name.as_deref() {
        Some(name) => format!("cell {} \"{name}\" ({kind})", index + 1),
        None => format!("cell {} ({kind})", index + 1),
    }
}

#[cfg(test)]
mod tests;

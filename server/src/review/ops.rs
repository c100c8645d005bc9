//! The diff as JSON in nbdime's op vocabulary, applicable to [`notebook_view`] of the old
//! side to give the view of the new side.
//!
//! Ops: `add`/`remove`/`replace` on a mapping key, `patch` (a nested diff) on a key or an
//! index, `addrange` (insert `valuelist` before base index `key`) and `removerange`
//! (`length` items from `key`) on a sequence. Sequence keys are indices into the *old*
//! sequence, sorted, an `addrange` before the other op at the same key. Strings (sources,
//! stream text, text outputs) are patched as sequences of lines with their line endings,
//! as nbdime does. A code cell's `outputs` key is present only when its side has a result,
//! so a side without one shows as `add`/`remove` of `outputs`.

use serde_json::{Map, Value, json};

use super::lines::Hunk;
use super::outputs::{self, OutputChange, ValueChange};
use super::{CellDiff, CellOutputs, Change, DiffOptions, NotebookDiff, OutputsDiff, Side};

/// The version of the JSON document; bumped when a field changes meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// What the ops apply to: `{"cells": [{cell_type, source, metadata[, outputs]}]}` with
/// volatile parts left out as in the diff.
pub fn notebook_view(side: &Side, options: DiffOptions) -> Value {
    let cells: Vec<Value> = (0..side.notebook.cells.len())
        .map(|index| cell_view(side, index, options))
        .collect();
    json!({ "cells": cells })
}

fn cell_view(side: &Side, index: usize, options: DiffOptions) -> Value {
    let cell = side.notebook.cells.at(index);
    let mut view = Map::new();
    view.insert("cell_type".into(), cell.cell_type.as_str().into());
    view.insert("source".into(), cell.source.clone().into());
    view.insert(
        "metadata".into(),
        Value::Object(super::compared_metadata(cell, options)),
    );
    if let CellOutputs::Recorded(recorded) = side.outputs_of(index) {
        view.insert("outputs".into(), normalized(recorded, options));
    }
    Value::Object(view)
}

fn normalized(recorded: &[Value], options: DiffOptions) -> Value {
    Value::Array(
        recorded
            .iter()
            .map(|output| outputs::normalize(output, options.volatile))
            .collect(),
    )
}

/// The whole JSON document for `diff --format json`.
pub fn document(old: &Side, new: &Side, diff: &NotebookDiff, options: DiffOptions) -> Value {
    let side_info = |side: &Side| {
        json!({
            "label": side.label,
            "format": side.notebook.format.name(),
            "outputs": side.origin.as_str(),
        })
    };
    let summary: Vec<Value> = diff
        .cells
        .iter()
        .filter(|step| step.is_change())
        .map(|step| {
            let (change, other) = match step.change {
                Change::Modified => ("modified", None),
                Change::Added => ("added", None),
                Change::Removed => ("removed", None),
                Change::MovedAway(to) => ("moved_away", Some(to)),
                Change::MovedHere(from) => ("moved_here", Some(from)),
                Change::Unchanged => ("unchanged", None),
            };
            let mut entry = json!({ "change": change, "old": step.old, "new": step.new });
            if let Some(other) = other {
                entry["other"] = other.into();
            }
            if let Some(note) = outputs_note(&step.outputs) {
                entry["outputs"] = note.into();
            }
            entry
        })
        .collect();
    json!({
        "schema_version": SCHEMA_VERSION,
        "old": side_info(old),
        "new": side_info(new),
        "diff": notebook_ops(old, new, diff, options),
        "cells": summary,
    })
}

fn outputs_note(outputs: &OutputsDiff) -> Option<&'static str> {
    match outputs {
        OutputsDiff::Same => None,
        OutputsDiff::Changed(_) => Some("changed"),
        OutputsDiff::OldHasNoResult => Some("old side has no result"),
        OutputsDiff::NewHasNoResult => Some("new side has no result"),
        OutputsDiff::NeitherHasAResult => Some("neither side has a result"),
    }
}

/// The ops on the notebook view: one `patch` of `cells`, or none.
pub fn notebook_ops(
    old: &Side,
    new: &Side,
    diff: &NotebookDiff,
    options: DiffOptions,
) -> Vec<Value> {
    let old_len = old.notebook.cells.len();
    // Where an added cell goes: before the old cell of the next step that has one.
    let mut next_old = vec![old_len; diff.cells.len()];
    let mut following = old_len;
    for (index, step) in diff.cells.iter().enumerate().rev() {
        next_old[index] = following;
        if let Some(i) = step.old
            && !matches!(step.change, Change::MovedHere(_))
        {
            following = i;
        }
    }
    let mut ops: Vec<Value> = Vec::new();
    for (index, step) in diff.cells.iter().enumerate() {
        match step.change {
            Change::Unchanged => {}
            Change::Removed | Change::MovedAway(_) => {
                let i = step.old.unwrap_or_default();
                push_removal(&mut ops, i);
            }
            Change::Added | Change::MovedHere(_) => {
                let j = step.new.unwrap_or_default();
                push_addition(&mut ops, next_old[index], cell_view(new, j, options));
            }
            Change::Modified => {
                let (i, j) = (step.old.unwrap_or_default(), step.new.unwrap_or_default());
                let cell_ops = cell_patch(step, new, j, options);
                if !cell_ops.is_empty() {
                    ops.push(json!({"op": "patch", "key": i, "diff": cell_ops}));
                }
            }
        }
    }
    if ops.is_empty() {
        Vec::new()
    } else {
        vec![json!({"op": "patch", "key": "cells", "diff": ops})]
    }
}

/// Extends a `removerange` ending at `i`, or starts one.
fn push_removal(ops: &mut Vec<Value>, i: usize) {
    if let Some(last) = ops.last_mut()
        && last["op"] == "removerange"
        && last["key"]
            .as_u64()
            .zip(last["length"].as_u64())
            .map(|(key, length)| key + length)
            == Some(i as u64)
    {
        let length = last["length"].as_u64().unwrap_or_default();
        last["length"] = (length + 1).into();
        return;
    }
    ops.push(json!({"op": "removerange", "key": i, "length": 1}));
}

/// Extends an `addrange` at `key`, or starts one before any other op at `key`.
fn push_addition(ops: &mut Vec<Value>, key: usize, value: Value) {
    if let Some(last) = ops.last_mut()
        && last["op"] == "addrange"
        && last["key"] == key
        && let Some(list) = last["valuelist"].as_array_mut()
    {
        list.push(value);
        return;
    }
    let at = ops
        .iter()
        .rposition(|op| op["key"].as_u64().is_some_and(|other| other < key as u64))
        .map_or(0, |position| position + 1);
    ops.insert(
        at,
        json!({"op": "addrange", "key": key, "valuelist": [value]}),
    );
}

fn cell_patch(step: &CellDiff, new: &Side, j: usize, options: DiffOptions) -> Vec<Value> {
    let mut ops = Vec::new();
    if !step.metadata.is_empty() {
        let diff: Vec<Value> = step
            .metadata
            .iter()
            .map(|change| match (&change.old, &change.new) {
                (None, Some(value)) => json!({"op": "add", "key": change.key, "value": value}),
                (Some(_), None) => json!({"op": "remove", "key": change.key}),
                (_, value) => json!({"op": "replace", "key": change.key, "value": value}),
            })
            .collect();
        ops.push(json!({"op": "patch", "key": "metadata", "diff": diff}));
    }
    match &step.outputs {
        OutputsDiff::Changed(changes) => {
            ops.push(json!({"op": "patch", "key": "outputs", "diff": output_ops(changes, new, j, options)}));
        }
        OutputsDiff::OldHasNoResult => {
            if let CellOutputs::Recorded(recorded) = new.outputs_of(j) {
                ops.push(
                    json!({"op": "add", "key": "outputs", "value": normalized(recorded, options)}),
                );
            }
        }
        OutputsDiff::NewHasNoResult => ops.push(json!({"op": "remove", "key": "outputs"})),
        OutputsDiff::Same | OutputsDiff::NeitherHasAResult => {}
    }
    if !step.source.is_empty() {
        ops.push(json!({"op": "patch", "key": "source", "diff": line_ops(&step.source)}));
    }
    ops.sort_by(|a, b| a["key"].as_str().cmp(&b["key"].as_str()));
    ops
}

/// Line ops of hunks, on the old text's lines.
fn line_ops(hunks: &[Hunk]) -> Vec<Value> {
    let mut ops = Vec::new();
    for hunk in hunks {
        if !hunk.added.is_empty() {
            ops.push(json!({"op": "addrange", "key": hunk.old_start, "valuelist": hunk.added}));
        }
        if !hunk.removed.is_empty() {
            ops.push(
                json!({"op": "removerange", "key": hunk.old_start, "length": hunk.removed.len()}),
            );
        }
    }
    ops
}

fn output_ops(changes: &[OutputChange], new: &Side, j: usize, options: DiffOptions) -> Vec<Value> {
    let new_outputs = match new.outputs_of(j) {
        CellOutputs::Recorded(recorded) => recorded.as_slice(),
        _ => &[],
    };
    let mut ops: Vec<(usize, bool, Value)> = changes
        .iter()
        .map(|change| match change {
            OutputChange::Added { new: k, before } => {
                let value = new_outputs
                    .get(*k)
                    .map(|output| outputs::normalize(output, options.volatile))
                    .unwrap_or(Value::Null);
                (
                    *before,
                    false,
                    json!({"op": "addrange", "key": before, "valuelist": [value]}),
                )
            }
            OutputChange::Removed { old } => (
                *old,
                true,
                json!({"op": "removerange", "key": old, "length": 1}),
            ),
            OutputChange::Changed { old, keys, .. } => {
                let mut top: Vec<Value> = Vec::new();
                let mut data: Vec<Value> = Vec::new();
                for key_change in keys {
                    let op = match &key_change.change {
                        ValueChange::Added(value) => {
                            json!({"op": "add", "key": key_change.key, "value": value})
                        }
                        ValueChange::Removed(_) => json!({"op": "remove", "key": key_change.key}),
                        ValueChange::Text(hunks) => {
                            json!({"op": "patch", "key": key_change.key, "diff": line_ops(hunks)})
                        }
                        ValueChange::Replaced { new, .. } => {
                            json!({"op": "replace", "key": key_change.key, "value": new})
                        }
                    };
                    if key_change.key.contains('/') {
                        data.push(op);
                    } else {
                        top.push(op);
                    }
                }
                if !data.is_empty() {
                    top.push(json!({"op": "patch", "key": "data", "diff": data}));
                }
                (*old, true, json!({"op": "patch", "key": old, "diff": top}))
            }
        })
        .collect();
    ops.sort_by_key(|(key, not_add, _)| (*key, *not_add));
    let mut merged: Vec<Value> = Vec::new();
    for (_, _, op) in ops {
        if op["op"] == "addrange"
            && let Some(last) = merged.last_mut()
            && last["op"] == "addrange"
            && last["key"] == op["key"]
            && let (Some(list), Some(more)) =
                (last["valuelist"].as_array_mut(), op["valuelist"].as_array())
        {
            list.extend(more.iter().cloned());
            continue;
        }
        merged.push(op);
    }
    merged
}

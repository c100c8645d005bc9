//! A notebook's graph facts after an edit, taken from its facts before the edit for
//! every cell the edit did not touch (shared: their spans are relative to their cells,
//! so only the cells' starts move), computed only for the cells around it.
//!
//! A cell's facts depend on its text (header, tags, spec), its analysis and its ordinal;
//! their spans are relative to the cell's start. A cell whose whole span lies outside the
//! changed bytes, with the same cell before it in the old reading (its spans moved) and
//! the same analysis (`Arc`), has the old facts: the same `Arc` when its ordinal is the
//! same, so an edit copies no other cell's facts.

use std::sync::Arc;

use crate::analysis::graph::{CellFacts, NotebookFacts};
use crate::analysis::workspace::{NotebookFile, cell_facts, facts};
use crate::format::PlacedCell;
use crate::format::cell_window::CellWindow;
use crate::text::changed::ChangedBytes;
use crate::text::chunk_list::ChunkListBuilder;

/// The facts of `file`, reusing `previous_facts` (those of `previous`, an earlier reading
/// of the same notebook) where the cells did not change.
pub fn facts_reusing(
    file: &NotebookFile,
    previous: &NotebookFile,
    previous_facts: &NotebookFacts,
) -> NotebookFacts {
    let (old_cells, new_cells) = (&previous.notebook.cells, &file.notebook.cells);
    if previous_facts.cells.len() != old_cells.len() || previous.relative != file.relative {
        return facts(file);
    }
    if let Some(window) = file.window_since(previous) {
        let CellWindow {
            prefix,
            old_stop,
            new_stop,
            ..
        } = window;
        return facts_around(file, previous_facts, prefix, old_stop, new_stop);
    }
    let ChangedBytes {
        start,
        old_end,
        new_end,
    } = ChangedBytes::between(previous.text.as_bytes(), file.text.as_bytes());
    // Only offsets at or after the change are moved (those of cells after it).
    let moved = |offset: usize| offset.saturating_sub(old_end) + new_end;
    let same_analysis = |old_ordinal: usize, new_ordinal: usize| match (
        previous.analyses.get(old_ordinal).and_then(Option::as_ref),
        file.analyses.get(new_ordinal).and_then(Option::as_ref),
    ) {
        (None, None) => true,
        (Some(old), Some(new)) => Arc::ptr_eq(old, new),
        _ => false,
    };
    let prefix = old_cells
        .iter()
        .zip(new_cells)
        .enumerate()
        .take_while(|(ordinal, (old, new))| {
            new.spans.whole.end <= start && *old == *new && same_analysis(*ordinal, *ordinal)
        })
        .count();
    let room = old_cells.len().min(new_cells.len()) - prefix;
    let suffix = (0..room)
        .take_while(|&back| {
            let old_ordinal = old_cells.len() - 1 - back;
            let new_ordinal = new_cells.len() - 1 - back;
            let (old, new) = (old_cells.at(old_ordinal), new_cells.at(new_ordinal));
            old.spans.whole.start >= old_end
                && moved_cell_equals(old, new, moved)
                && same_analysis(old_ordinal, new_ordinal)
        })
        .count();
    facts_around(
        file,
        previous_facts,
        prefix,
        old_cells.len() - suffix,
        new_cells.len() - suffix,
    )
}

/// The facts of `file` whose cells before `prefix`, and from `new_stop` on (the old
/// reading's from `old_stop` on), are the old reading's cells with the same analyses:
/// theirs are `previous_facts`' (renumbered when cells came or went), only the cells in
/// between are computed.
fn facts_around(
    file: &NotebookFile,
    previous_facts: &NotebookFacts,
    prefix: usize,
    old_stop: usize,
    new_stop: usize,
) -> NotebookFacts {
    let new_cells = &file.notebook.cells;
    let old_cells = &previous_facts.cells;
    let mut cells = ChunkListBuilder::with_capacity(new_cells.len());
    cells.extend_from(old_cells, 0..prefix);
    for (ordinal, cell) in new_cells.iter().enumerate().take(new_stop).skip(prefix) {
        cells.push(Arc::new(cell_facts(file, ordinal, cell)));
    }
    if old_stop == new_stop {
        // Every cell after the edit keeps its ordinal: the chunks are shared.
        cells.extend_from(old_cells, old_stop..old_cells.len());
    } else {
        for (facts, ordinal) in old_cells.iter().skip(old_stop).zip(new_stop..) {
            cells.push(Arc::new(CellFacts {
                ordinal,
                ..CellFacts::clone(facts)
            }));
        }
    }
    let cells = cells.finish();
    let starts = new_cells.starts().to_vec();
    NotebookFacts::with_starts(file.relative.clone(), cells, starts)
}

/// Whether `new` is `old` with its spans moved by `moved`.
fn moved_cell_equals(
    old: PlacedCell<'_>,
    new: PlacedCell<'_>,
    moved: impl Fn(usize) -> usize,
) -> bool {
    new.spans == old.spans.moved(moved)
        && (new.shares_content(old)
            || (new.cell_type == old.cell_type
                && new.source == old.source
                && new.metadata == old.metadata
                && new.spec == old.spec))
}

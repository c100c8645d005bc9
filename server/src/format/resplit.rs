//! Re-reading a notebook after an edit by reading only the cells around it.
//!
//! A cell is read from its marker to the next cell's marker and nothing else (the
//! readers start every cell afresh), so an edit can only move cell boundaries inside the
//! cells it touched. [`reread_after_edit`] reads the first cell (the header and what
//! precedes the first marker, which set how the rest is read) followed by a window of
//! cells around the changed bytes, one untouched cell on each side, checks that the
//! window's edges still fall where they did (the untouched cell after it still starts
//! at its marker, the first cell and the notebook metadata came out the same), and
//! splices the window's cells between the untouched ones, whose offsets are moved by
//! the edit's length. What it cannot prove local (the header, a code fence or a
//! PEP-723 marker in the window, a PEP-723 block past the first cell: readings that look
//! at the whole file) it leaves to a full read: `None`.

use crate::format::cell_window::CellWindow;
use crate::format::{Cell, Cells, Notebook, NotebookFormat, Problem, read_without_originals};
use crate::text::Span;
use crate::text::changed::ChangedBytes;

/// The notebook `new_text` reads as, built from `old` (read from `old_text` without
/// originals, in `format`), with the cells it read again; `None` when only a full read
/// can tell.
pub fn reread_after_edit(
    old_text: &str,
    old: &Notebook,
    new_text: &str,
    format: NotebookFormat,
    change: Option<ChangedBytes>,
) -> Option<(Notebook, CellWindow)> {
    let fenced_markers = match format {
        NotebookFormat::Percent => false,
        NotebookFormat::Myst => true,
        _ => return None,
    };
    if old.format != format || old.cells.len() < 3 || (fenced_markers && !says_myst(old)) {
        return None;
    }
    let change = change
        .filter(|change| change.fits(old_text.len(), new_text.len()))
        .unwrap_or_else(|| ChangedBytes::between(old_text.as_bytes(), new_text.as_bytes()));
    let cells = &old.cells;
    let first_end = cells.at(0).spans.whole.end;
    // The cell holding the first changed byte, and one more before it (its end, trailing
    // blank lines included, depends on what follows it).
    // Cells are in text order: found by bisection, not by a walk over every cell.
    let last_starting_by = |offset: usize| {
        cells
            .starts()
            .partition_point(|&start| start <= offset)
            .checked_sub(1)
    };
    let touched_first = last_starting_by(change.start)?;
    let window_first = touched_first.checked_sub(1)?;
    if window_first == 0 {
        return None;
    }
    // The cell holding the last changed byte (an insertion right before a marker touches
    // that marker's cell), and the untouched cell after it that must still start there.
    let touched_last = last_starting_by(change.old_end)?;
    let anchor = touched_last + 1;
    let to_end = anchor >= cells.len();

    let old_start = cells.starts()[window_first];
    let old_stop = if to_end {
        old_text.len()
    } else {
        cells.at(anchor).spans.whole.end
    };
    let new_stop = change.moved(old_stop)?;
    let old_window = old_text.get(old_start..old_stop)?;
    let new_window = new_text.get(old_start..new_stop)?;
    if !fenced_markers
        && [old_window, new_window]
            .iter()
            .any(|text| reads_globally(text))
    {
        return None;
    }
    // A block's reading depends on what precedes it (`position_ok`, its problems), and
    // its problems come first: a block or block problem past the first cell is left to a
    // full read.
    let block_past_first_cell = old
        .pep723
        .as_ref()
        .is_some_and(|block| block.span.end > first_end);
    let block_problem_past_first_cell = old
        .problems
        .iter()
        .any(|problem| problem.code.starts_with("pep723") && problem.span.end > first_end);
    if block_past_first_cell || block_problem_past_first_cell {
        return None;
    }

    let mut composed = String::with_capacity(first_end + new_window.len());
    composed.push_str(new_text.get(..first_end)?);
    composed.push_str(new_window);
    let read = read_without_originals(&composed, format);
    if read.format != old.format
        || read.metadata != old.metadata
        || read.pep723 != old.pep723
        || read.cells.first() != cells.first()
    {
        return None;
    }
    // Offsets in `composed` past the first cell are `old_start` later in the new text.
    let window_offset = old_start - first_end;
    let mut window: Vec<Cell> = read
        .cells
        .iter()
        .skip(1)
        .map(|cell| {
            let mut cell = cell.to_cell();
            cell.spans = cell.spans.moved(|offset| offset + window_offset);
            cell
        })
        .collect();
    if !to_end {
        let anchor_cell = window.pop()?;
        let expected = change.moved(cells.starts()[anchor])?;
        let header = cells.at(anchor).spans.header.and_then(|span| {
            Some(Span::new(
                change.moved(span.start)?,
                change.moved(span.end)?,
            ))
        });
        if anchor_cell.spans.whole.start != expected || anchor_cell.spans.header != header {
            return None;
        }
    }

    let new_stop = window_first + window.len();
    // Every offset of the cells from the anchor on lies past the change (the anchor
    // starts after it).
    let delta = change.new_end.wrapping_sub(change.old_end);
    let suffix = if to_end { cells.len() } else { anchor };
    let notebook_cells = Cells::spliced(cells, window_first, window, suffix, delta);
    let cell_window = CellWindow {
        prefix: window_first,
        old_stop: if to_end { cells.len() } else { anchor },
        new_stop,
        change,
    };

    // Problems belong to the cell their start lies in: the window's come from the new
    // reading, the others are the old ones, moved when they lie after the edit.
    let anchor_start = if to_end {
        old_text.len()
    } else {
        cells.starts()[anchor]
    };
    let new_anchor_start = change.moved(anchor_start)?;
    if old
        .problems
        .iter()
        .any(|problem| problem.span.start < old_start && problem.span.end > old_start)
    {
        return None;
    }
    let window_problems = read.problems.into_iter().filter_map(|mut problem| {
        let start = problem.span.start.checked_sub(first_end)? + old_start;
        problem.span = Span::new(start, problem.span.end - first_end + old_start);
        (start < new_anchor_start || to_end).then_some(problem)
    });
    let mut problems: Vec<Problem> = Vec::with_capacity(old.problems.len());
    for problem in &old.problems {
        if problem.span.start < old_start {
            problems.push(problem.clone());
        } else if problem.span.start >= anchor_start && !to_end {
            let mut problem = problem.clone();
            problem.span = Span::new(
                change.moved(problem.span.start)?,
                change.moved(problem.span.end)?,
            );
            problems.push(problem);
        }
    }
    problems.extend(window_problems);
    sort_problems(&mut problems);

    let pep723 = old.pep723.clone();
    let notebook = Notebook {
        format: old.format,
        metadata: old.metadata.clone(),
        cells: notebook_cells,
        pep723,
        preamble: old.preamble.clone(),
        trailer: if to_end {
            read.trailer
        } else {
            old.trailer.clone()
        },
        problems,
    };
    Some((notebook, cell_window))
}

/// Problems in text order (the readers list some kinds first; which does not matter to
/// anyone, since findings are sorted by position).
pub fn sort_problems(problems: &mut [Problem]) {
    problems.sort_by(|a, b| {
        (a.span.start, a.span.end, a.code, &a.message).cmp(&(
            b.span.start,
            b.span.end,
            b.code,
            &b.message,
        ))
    });
}

/// Whether the notebook's header names MyST: else the format is guessed from the whole
/// text (`format::detect`), which an edit anywhere can change. The preamble (the front
/// matter) read alone comes out as MyST only when it says so itself.
fn says_myst(notebook: &Notebook) -> bool {
    crate::format::read(&notebook.preamble.text, NotebookFormat::Myst).format
        == NotebookFormat::Myst
}

/// Whether py:percent text holds what jupytext reads with the whole file in view: a code
/// fence (an opening fence counts only when a closing one follows, anywhere below) or a
/// PEP-723 block marker (the first block anywhere is the notebook's).
fn reads_globally(text: &str) -> bool {
    text.contains("```") || text.contains("~~~") || text.contains("///")
}

#[cfg(test)]
#[path = "resplit_tests.rs"]
mod tests;

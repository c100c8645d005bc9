//! Which cells an edit touched, as the re-read after it found them
//! (`resplit::reread_after_edit`): what is kept per cell (analyses, graph facts, the lint
//! memos) is then carried over for every other cell without comparing every cell of both
//! readings, so an edit costs the cells it touched, not the notebook.

use std::ops::Range;

use crate::text::changed::ChangedBytes;

/// How a reading of a notebook relates to the reading before an edit. Its cells before
/// `prefix` are the old reading's: the same contents (`Cell::shares_content`) and the
/// same spans. Its cells from `new_stop` on are the old reading's from `old_stop` on: the
/// same contents, their spans moved by the change. Only the cells in between were read
/// again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellWindow {
    pub prefix: usize,
    pub old_stop: usize,
    pub new_stop: usize,
    /// The bytes the edit replaced; every span of a cell after the window lies past it.
    pub change: ChangedBytes,
}

impl CellWindow {
    /// The new reading's cells that were read again.
    pub fn read_again(&self) -> Range<usize> {
        self.prefix..self.new_stop
    }

    /// The old ordinal of `new`, a new cell outside the window.
    pub fn old_ordinal(&self, new: usize) -> usize {
        if new < self.prefix {
            new
        } else {
            new - self.new_stop + self.old_stop
        }
    }

    /// The window that also takes in every cell after it (when what the cells after it
    /// carry cannot be kept: an edit that changed what their analyses saw).
    pub fn to_the_end(self, old_len: usize, new_len: usize) -> CellWindow {
        CellWindow {
            old_stop: old_len,
            new_stop: new_len,
            ..self
        }
    }
}

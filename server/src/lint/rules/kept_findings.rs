//! Findings kept per cell across readings of one notebook (the lint memos): each cell's
//! findings with the body offset their spans were computed at, so that an edit above a
//! cell moves them with its body instead of computing them again.

use std::collections::BTreeMap;

use crate::format::Cells;
use crate::format::cell_window::CellWindow;
use crate::lint::Finding;
use crate::text::Span;

/// The findings of the cells that have any, by ordinal.
#[derive(Debug, Default)]
pub struct KeptFindings {
    cells: BTreeMap<usize, CellFindings>,
}

#[derive(Debug)]
struct CellFindings {
    body_start: usize,
    findings: Vec<Finding>,
}

impl KeptFindings {
    /// Keeps `findings` (none: forgets) for the cell at `ordinal`, its body at `body_start`.
    pub fn set(&mut self, ordinal: usize, body_start: usize, findings: Vec<Finding>) {
        if findings.is_empty() {
            self.cells.remove(&ordinal);
        } else {
            let kept = CellFindings {
                body_start,
                findings,
            };
            self.cells.insert(ordinal, kept);
        }
    }

    /// Forgets the old cells of `window` and renumbers those after it as the new
    /// reading numbers them; the cells read again are then `set`.
    pub fn splice(&mut self, window: &CellWindow) {
        let mut after = self.cells.split_off(&window.prefix);
        let kept_after = after.split_off(&window.old_stop);
        drop(after);
        if window.new_stop == window.old_stop {
            self.cells.extend(kept_after);
        } else {
            self.cells.extend(
                kept_after
                    .into_iter()
                    .map(|(ordinal, kept)| (ordinal - window.old_stop + window.new_stop, kept)),
            );
        }
    }

    /// Every kept finding in ordinal order, spans moved to where `cells` (the reading the
    /// findings are for) put the bodies.
    pub fn all(&mut self, cells: &Cells) -> Vec<Finding> {
        let mut all = Vec::new();
        for (ordinal, kept) in &mut self.cells {
            let Some(cell) = cells.get(*ordinal) else {
                continue;
            };
            let body_start = cell.spans.body.start;
            if body_start != kept.body_start {
                for finding in &mut kept.findings {
                    finding.span = finding
                        .span
                        .map(|span| moved(span, kept.body_start, body_start));
                }
                kept.body_start = body_start;
            }
            all.extend(kept.findings.iter().cloned());
        }
        all
    }
}

/// `span`, computed when the cell's body started at `from`, for a body now at `to`.
fn moved(span: Span, from: usize, to: usize) -> Span {
    let shift = |offset: usize| (offset + to).saturating_sub(from);
    Span::new(shift(span.start), shift(span.end))
}

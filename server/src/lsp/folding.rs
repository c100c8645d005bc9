//! Folding ranges: one per cell, from its header (or first line) to its last content line.

use tower_lsp_server::ls_types::{FoldingRange, FoldingRangeKind};

use super::positions::Positions;
use super::state::Snapshot;

pub fn folding_ranges(snapshot: &Snapshot) -> Option<Vec<FoldingRange>> {
    let file = snapshot.file()?;
    // Cells in text order: lines found walking forward.
    let mut lines = Positions::of(snapshot);
    let ranges = file
        .notebook
        .cells
        .iter()
        .filter_map(|cell| {
            let start = lines.line(cell.spans.whole.start);
            let last = cell
                .spans
                .body
                .end
                .max(cell.spans.header.map_or(0, |header| header.end));
            // The body ends after its last line break; fold up to the line before it.
            let end_offset = if last > cell.spans.whole.start
                && file.text.as_bytes().get(last - 1) == Some(&b'\n')
            {
                last - 1
            } else {
                last
            };
            let end = lines.line(end_offset);
            (end > start).then(|| FoldingRange {
                start_line: start,
                end_line: end,
                kind: Some(FoldingRangeKind::Region),
                ..FoldingRange::default()
            })
        })
        .collect();
    Some(ranges)
}

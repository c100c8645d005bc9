//! Folding ranges: one per cell, from its header (or first line) to its last content line.

use tower_lsp_server::ls_types::{FoldingRange, FoldingRangeKind};

use super::state::Snapshot;

pub fn folding_ranges(snapshot: &Snapshot) -> Option<Vec<FoldingRange>> {
    let file = snapshot.file()?;
    let document = &snapshot.document;
    let encoding = snapshot.encoding;
    let ranges = file
        .notebook
        .cells
        .iter()
        .filter_map(|cell| {
            let start = document
                .offset_to_position(cell.spans.whole.start, encoding)
                .line;
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
            let end = document.offset_to_position(end_offset, encoding).line;
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

//! `textDocument/inlayHint`: a short status at the end of each code cell's header
//! (`✓ 1.2s`, `● stale`, `✗ ValueError`, `○ not run`, `setup`, `⟳ running`, `… queued`).
//! Off with `initializationOptions.inlayHints = false`.

use tower_lsp_server::ls_types::{InlayHint, InlayHintLabel, Range};

use super::cell_views::{CellView, cell_views_within};
use super::runs::Queued;
use super::state::Snapshot;
use super::{Core, convert};
use crate::cache::CellStatus;
use crate::render::time_text::duration;
use crate::text::Span;

pub fn inlay_hints(core: &Core, snapshot: &Snapshot, range: Range) -> Option<Vec<InlayHint>> {
    // The bytes of the requested lines, whole: only the cells whose header ends there.
    let document = &snapshot.document;
    let line = |line: u32| document.line_start(line as usize);
    let start = line(range.start.line).unwrap_or(document.len_bytes());
    let end = range
        .end
        .line
        .checked_add(1)
        .and_then(line)
        .unwrap_or(usize::MAX);
    let views = cell_views_within(core, snapshot, Some(Span::new(start, end.max(start))))?;
    let hints = views
        .iter()
        .filter_map(|view| {
            let end = convert::range(&snapshot.document, view.header, snapshot.encoding).end;
            (range.start.line <= end.line && end.line <= range.end.line).then(|| InlayHint {
                position: end,
                label: InlayHintLabel::String(label(view)),
                kind: None,
                text_edits: None,
                tooltip: None,
                padding_left: Some(true),
                padding_right: None,
                data: None,
            })
        })
        .collect();
    Some(hints)
}

fn label(view: &CellView) -> String {
    match view.queued {
        Some(Queued::Running) => return "⟳ running".to_string(),
        Some(Queued::Waiting) => return "… queued".to_string(),
        None => {}
    }
    match view.status {
        CellStatus::Cached => match view.duration_ms {
            Some(milliseconds) => format!("✓ {}", duration(milliseconds)),
            None => "✓".to_string(),
        },
        CellStatus::Error => match &view.error {
            Some(error) => format!("✗ {}", error.ename),
            None => "✗ error".to_string(),
        },
        CellStatus::Stale => "● stale".to_string(),
        CellStatus::New => "○ not run".to_string(),
        CellStatus::Setup => "setup".to_string(),
        CellStatus::Note => "note".to_string(),
    }
}

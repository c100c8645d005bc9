//! `textDocument/inlayHint`: a short status at the end of each code cell's header
//! (`✓ 1.2s`, `● stale`, `✗ ValueError`, `○ not run`, `setup`, `⟳ running`, `… queued`),
//! and the cell's inline output at the end of its last line: a one-line summary of what
//! its cached run produced (`→ 42`, `→ DataFrame 150×5`, `→ ✗ NameError: …`,
//! `→ 🖼 figure`; `render::output_summary`), `→ ● stale · …` when the outputs are from
//! an older version of the cell. Off with `initializationOptions.inlayHints = false`
//! (all) or `inlineOutputs = false` (the outputs only). Only the cells in the requested
//! range are summed up, so a long notebook costs what its visible part does.

use tower_lsp_server::ls_types::{InlayHint, InlayHintLabel, InlayHintTooltip, Range};

use super::Core;
use super::cell_views::{CellView, cell_views_in};
use super::positions::Positions;
use super::runs::Queued;
use super::state::Snapshot;
use crate::analysis::graph::CellRef;
use crate::analysis::workspace::NotebookFile;
use crate::cache::{CellStatus, cell_outputs};
use crate::render::output_summary::output_summary;
use crate::render::time_text::duration;

pub fn inlay_hints(core: &Core, snapshot: &Snapshot, range: Range) -> Option<Vec<InlayHint>> {
    // Only the cells that overlap the range: their keys and manifests, no others.
    let file = snapshot.file()?;
    let document = &snapshot.document;
    let first = document
        .line_start(range.start.line as usize)
        .unwrap_or(document.len_bytes());
    let last = document
        .line_start(range.end.line as usize + 1)
        .unwrap_or(document.len_bytes());
    // Cells are in text order: the overlapping ones are a run found by bisection.
    let cells = &file.notebook.cells;
    let from = cells.partition_point(|cell| cell.spans.whole.end < first);
    let to = cells.partition_point(|cell| cell.spans.whole.start <= last);
    let views = cell_views_in(core, snapshot, from..to.max(from))?;
    let visible = |line: u32| range.start.line <= line && line <= range.end.line;
    let inline_outputs = core.flags().inline_outputs;
    let mut positions = Positions::of(snapshot);
    let mut hints = Vec::new();
    for view in &views {
        let end = positions.position(view.header.end);
        if visible(end.line) {
            hints.push(hint(end, label(view), None));
        }
        if !inline_outputs {
            continue;
        }
        let Some(last) = last_line_end(file, view.ordinal) else {
            continue;
        };
        let position = positions.position(last);
        if visible(position.line)
            && let Some(summary) = summary(core, snapshot, view)
        {
            let tooltip = format!(
                "jellycell: the cached outputs of cell {} (hover the cell for all of them)",
                view.ordinal
            );
            hints.push(hint(position, format!("→ {summary}"), Some(tooltip)));
        }
    }
    Some(hints)
}

fn hint(
    position: tower_lsp_server::ls_types::Position,
    label: String,
    tooltip: Option<String>,
) -> InlayHint {
    InlayHint {
        position,
        label: InlayHintLabel::String(label),
        kind: None,
        text_edits: None,
        tooltip: tooltip.map(InlayHintTooltip::String),
        padding_left: Some(true),
        padding_right: None,
        data: None,
    }
}

/// The byte offset of the end of cell `ordinal`'s last non-blank line (of its header, or
/// its first line, when its body is empty): where its inline output goes.
pub fn last_line_end(file: &NotebookFile, ordinal: usize) -> Option<usize> {
    let cell = file.notebook.cells.get(ordinal)?;
    let body = cell.spans.body;
    let trimmed = file.text.get(body.start..body.end)?.trim_end();
    if !trimmed.is_empty() {
        return Some(body.start + trimmed.len());
    }
    Some(match cell.spans.header {
        Some(header) => header.end,
        None => {
            let start = cell.spans.whole.start;
            file.text[start..]
                .find('\n')
                .map_or(file.text.len(), |newline| start + newline)
        }
    })
}

/// The summary of the outputs the cell's hover would show; `None` without any.
fn summary(core: &Core, snapshot: &Snapshot, view: &CellView) -> Option<String> {
    let workspace = snapshot.workspace.as_ref()?;
    let store = core.runs.store_for(&workspace.project);
    match view.status {
        // Memoised with the status: the entry holds only while its blobs are intact.
        CellStatus::Cached | CellStatus::Error => view
            .entry
            .outputs_summary
            .get_or_init(|| {
                let manifest = store.manifest(view.key.as_deref()?)?;
                output_summary(&manifest.outputs, store.blobs())
            })
            .clone(),
        CellStatus::Stale => {
            let cell = CellRef {
                notebook: snapshot.file_index,
                ordinal: view.ordinal,
            };
            let older = cell_outputs(workspace, cell, &store).and_then(|(_, manifest)| manifest);
            Some(
                match older.and_then(|manifest| output_summary(&manifest.outputs, store.blobs())) {
                    Some(summary) => format!("● stale · {summary}"),
                    None => "● stale".to_string(),
                },
            )
        }
        CellStatus::New | CellStatus::Setup | CellStatus::Note => None,
    }
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

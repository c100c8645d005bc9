//! What code lenses, inlay hints and `cell-error` diagnostics show of each code cell: its
//! status (DESIGN contract 5, computed from the current keys and the store on every
//! request, never stored), the summary of its manifest, and its place in the run queue.

use std::sync::Arc;

use super::Core;
use super::runs::Queued;
use super::state::Snapshot;
use crate::cache::manifest::parse_utc;
use crate::cache::{
    CellStatus, KeyContext, Manifest, OutputRecord, Store, cell_states_and_manifests,
};
use crate::format::CellType;
use crate::format::tags::CellKind;
use crate::text::Span;

/// The error a cell's current manifest recorded.
#[derive(Debug, Clone)]
pub struct CellErrorView {
    pub ename: String,
    pub evalue: String,
    pub traceback: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct CellView {
    pub ordinal: usize,
    /// The header line (or the cell's first line when it has no header).
    pub header: Span,
    pub status: CellStatus,
    /// From the current key's manifest.
    pub duration_ms: Option<u64>,
    /// Seconds since the epoch, from the current key's manifest.
    pub executed_at: Option<u64>,
    pub error: Option<CellErrorView>,
    pub queued: Option<Queued>,
}

/// Whether nothing was ever run in the snapshot's project (no manifests folder).
pub fn never_run(core: &Core, snapshot: &Snapshot) -> bool {
    snapshot.workspace.as_ref().is_none_or(|workspace| {
        !core
            .runs
            .store_for(&workspace.project)
            .manifests_dir()
            .is_dir()
    })
}

/// Every code cell of the snapshot's notebook, in order; `None` when the buffer is not a
/// notebook or moved on since the analysis (spans would not fit).
pub fn cell_views(core: &Core, snapshot: &Snapshot) -> Option<Vec<CellView>> {
    if !snapshot.current {
        return None;
    }
    let workspace = snapshot.workspace.as_ref()?;
    let file = snapshot.file()?;
    let store: Arc<Store> = core.runs.store_for(&workspace.project);
    let queue = core.runs.queue_view(&file.path);
    // Nothing was ever run in this project: no key needs computing.
    let never_run = never_run(core, snapshot);
    let states: Vec<(usize, CellStatus, Option<Manifest>)> = if never_run {
        file.notebook
            .cells
            .iter()
            .enumerate()
            .filter(|(_, cell)| cell.cell_type == CellType::Code)
            .map(|(ordinal, cell)| {
                let status = match cell.spec.kind {
                    CellKind::Setup => CellStatus::Setup,
                    CellKind::Note => CellStatus::Note,
                    _ => CellStatus::New,
                };
                (ordinal, status, None)
            })
            .collect()
    } else {
        let mut keys = KeyContext::new(workspace, None, &store);
        cell_states_and_manifests(&mut keys, workspace, snapshot.file_index, &store)
            .into_iter()
            .map(|(state, manifest)| (state.ordinal, state.status, manifest))
            .collect()
    };
    let views = states
        .into_iter()
        .filter_map(|(ordinal, status, manifest)| {
            let cell = file.notebook.cells.get(ordinal)?;
            let header = cell.spans.header.unwrap_or_else(|| {
                let start = cell.spans.whole.start;
                let end = file.text[start..]
                    .find('\n')
                    .map_or(file.text.len(), |newline| start + newline);
                Span::new(start, end)
            });
            let error = manifest.as_ref().and_then(|manifest| {
                manifest.outputs.iter().find_map(|output| match output {
                    OutputRecord::Error {
                        ename,
                        evalue,
                        traceback,
                    } => Some(CellErrorView {
                        ename: ename.clone(),
                        evalue: evalue.clone(),
                        traceback: traceback.clone(),
                    }),
                    _ => None,
                })
            });
            Some(CellView {
                ordinal,
                header,
                status,
                duration_ms: manifest.as_ref().map(|manifest| manifest.duration_ms),
                executed_at: manifest
                    .as_ref()
                    .and_then(|manifest| parse_utc(&manifest.executed_at)),
                error,
                queued: queue.state_of(ordinal),
            })
        })
        .collect();
    Some(views)
}

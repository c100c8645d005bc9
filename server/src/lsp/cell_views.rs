//! What code lenses, inlay hints and `cell-error` diagnostics show of each code cell: its
//! status (DESIGN contract 5, computed from the current keys and the store on every
//! request, never stored), the summary of its manifest, and its place in the run queue.

use std::sync::Arc;

use super::Core;
use super::runs::Queued;
use super::state::Snapshot;
use super::unsaved;
use crate::cache::manifest::parse_utc;
use crate::cache::{
    CellStatus, KeyContext, Manifest, OutputRecord, Store, cell_states_and_manifests_where,
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
    /// The cell's current cache key (`None` for setup and note cells, and before any run).
    pub key: Option<String>,
}

/// Whether nothing was ever run in the snapshot's project (no manifests folder).
pub fn never_run(core: &Core, snapshot: &Snapshot) -> bool {
    let scratch = unsaved::scratch_workspace(core, snapshot);
    scratch
        .as_ref()
        .or(snapshot.workspace.as_ref())
        .is_none_or(|workspace| {
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
    cell_views_where(core, snapshot, |_| true)
}

/// The header line of a cell (its first line when it has no header).
fn header_of(text: &str, cell: &crate::format::Cell) -> Span {
    cell.spans.header.unwrap_or_else(|| {
        let start = cell.spans.whole.start;
        let end = text[start..]
            .find('\n')
            .map_or(text.len(), |newline| start + newline);
        Span::new(start, end)
    })
}

/// [`cell_views`] of the code cells whose ordinal `keep` accepts (inlay hints ask for the
/// visible ones: a long notebook then costs what its visible part does).
pub fn cell_views_where(
    core: &Core,
    snapshot: &Snapshot,
    keep: impl Fn(usize) -> bool,
) -> Option<Vec<CellView>> {
    // A buffer that runs in a scratch folder shows what its runs there cached (that
    // workspace is built from the snapshot's own text: current by construction).
    let scratch = unsaved::scratch_workspace(core, snapshot);
    if !snapshot.current && scratch.is_none() {
        return None;
    }
    let (workspace, file_index) = match &scratch {
        Some(scratch) => (scratch, 0),
        None => (snapshot.workspace.as_ref()?, snapshot.file_index),
    };
    let file = workspace.files.get(file_index)?;
    let store: Arc<Store> = core.runs.store_for(&workspace.project);
    let queue_path = match &scratch {
        // Its runs are queued under the buffer's own path (commands.rs).
        Some(_) => core
            .state
            .document(&snapshot.uri)
            .and_then(|open| open.path)
            .unwrap_or_else(|| file.path.clone()),
        None => file.path.clone(),
    };
    let queue = core.runs.queue_view(&queue_path);
    // Nothing was ever run in this project: no key needs computing.
    let never_run = !store.manifests_dir().is_dir();
    type State = (usize, CellStatus, Option<String>, Option<Manifest>);
    let states: Vec<State> = if never_run {
        file.notebook
            .cells
            .iter()
            .enumerate()
            .filter(|(ordinal, cell)| cell.cell_type == CellType::Code && keep(*ordinal))
            .map(|(ordinal, cell)| {
                let status = match cell.spec.kind {
                    CellKind::Setup => CellStatus::Setup,
                    CellKind::Note => CellStatus::Note,
                    _ => CellStatus::New,
                };
                (ordinal, status, None, None)
            })
            .collect()
    } else {
        let mut keys = KeyContext::new(workspace, None, &store);
        cell_states_and_manifests_where(&mut keys, workspace, file_index, &store, keep)
            .into_iter()
            .map(|(state, manifest)| (state.ordinal, state.status, state.key, manifest))
            .collect()
    };
    let views = states
        .into_iter()
        .filter_map(|(ordinal, status, key, manifest)| {
            let cell = file.notebook.cells.get(ordinal)?;
            let header = header_of(&file.text, cell);
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
                key,
            })
        })
        .collect();
    Some(views)
}

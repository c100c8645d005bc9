//! What code lenses, inlay hints and `cell-error` diagnostics show of each code cell: its
//! status (DESIGN contract 5, computed from the current keys and the store, never
//! stored; memoised per snapshot by `cell_keys.rs`), the summary of its manifest, and its
//! place in the run queue.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use super::Core;
use super::cell_keys::CellEntry;
pub use super::cell_keys::CellErrorView;
use super::runs::Queued;
use super::state::Snapshot;
use super::unsaved;
use crate::analysis::workspace::Workspace;
use crate::cache::manifest::parse_utc;
use crate::cache::{CellStatus, KeyContext, OutputRecord, Store, cell_states_and_manifests_where};
use crate::format::CellType;
use crate::format::tags::CellKind;
use crate::text::Span;

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
    /// What the view was made from (the memo's entry, where there is a memo).
    pub entry: Arc<CellEntry>,
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
    cell_views_in(core, snapshot, 0..usize::MAX)
}

/// The header line of a cell (its first line when it has no header).
pub fn header_of(text: &str, cell: crate::format::PlacedCell<'_>) -> Span {
    cell.spans.header.unwrap_or_else(|| {
        let start = cell.spans.whole.start;
        let end = text[start..]
            .find('\n')
            .map_or(text.len(), |newline| start + newline);
        Span::new(start, end)
    })
}

/// [`cell_views`] of the code cells whose ordinals are in `ordinals` (inlay hints ask for
/// the visible ones, a lens resolve for one: a long notebook then costs what its visible
/// part does).
pub fn cell_views_in(
    core: &Core,
    snapshot: &Snapshot,
    ordinals: Range<usize>,
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
    let end = ordinals.end.min(file.notebook.cells.len());
    let code: Vec<usize> = (ordinals.start.min(end)..end)
        .filter(|&ordinal| file.notebook.cells[ordinal].cell_type == CellType::Code)
        .collect();
    // Nothing was ever run in this project: no key needs computing.
    let entries: Vec<Arc<CellEntry>> = if !store.manifests_dir().is_dir() {
        code.iter()
            .map(|&ordinal| Arc::new(unrun_entry(file, ordinal)))
            .collect()
    } else if scratch.is_some() {
        // Built for this request: nothing to share with the next one.
        compute_entries(workspace, file_index, &store, &code)
            .into_iter()
            .map(Arc::new)
            .collect()
    } else {
        core.cell_keys.entries(
            &snapshot.uri,
            workspace,
            file_index,
            &store,
            &code,
            |missing| compute_entries(workspace, file_index, &store, missing),
        )
    };
    let views = entries
        .into_iter()
        .filter_map(|entry| {
            let cell = file.notebook.cells.get(entry.ordinal)?;
            Some(CellView {
                ordinal: entry.ordinal,
                header: header_of(&file.text, cell),
                status: entry.status,
                duration_ms: entry.duration_ms,
                executed_at: entry.executed_at,
                error: entry.error.clone(),
                queued: queue.state_of(entry.ordinal),
                key: entry.key.clone(),
                entry: entry.clone(),
            })
        })
        .collect();
    Some(views)
}

/// A code cell's entry in a project that never ran.
fn unrun_entry(file: &crate::analysis::workspace::NotebookFile, ordinal: usize) -> CellEntry {
    let status = match file.notebook.cells.get(ordinal).map(|cell| cell.spec.kind) {
        Some(CellKind::Setup) => CellStatus::Setup,
        Some(CellKind::Note) => CellStatus::Note,
        _ => CellStatus::New,
    };
    CellEntry {
        ordinal,
        status,
        key: None,
        duration_ms: None,
        executed_at: None,
        error: None,
        blobs: Vec::new(),
        outputs_summary: OnceLock::new(),
    }
}

/// The entries of the code cells `ordinals` (sorted), their keys from one key context.
fn compute_entries(
    workspace: &Workspace,
    file_index: usize,
    store: &Store,
    ordinals: &[usize],
) -> Vec<CellEntry> {
    let mut keys = KeyContext::new(workspace, None, store);
    let wanted = |ordinal: usize| ordinals.binary_search(&ordinal).is_ok();
    cell_states_and_manifests_where(&mut keys, workspace, file_index, store, wanted)
        .into_iter()
        .map(|(state, manifest)| {
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
            CellEntry {
                ordinal: state.ordinal,
                status: state.status,
                key: state.key,
                duration_ms: manifest.as_ref().map(|manifest| manifest.duration_ms),
                executed_at: manifest
                    .as_ref()
                    .and_then(|manifest| parse_utc(&manifest.executed_at)),
                error,
                blobs: manifest.as_ref().map_or_else(Vec::new, |manifest| {
                    manifest
                        .blobs()
                        .into_iter()
                        .map(|blob| (blob.to_string(), manifest.blob_sizes.get(blob).copied()))
                        .collect()
                }),
                outputs_summary: OnceLock::new(),
            }
        })
        .collect()
}

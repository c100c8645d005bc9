//! Cell status (DESIGN contract 5), computed from the current keys and the store, never
//! stored: what code lenses, hovers and `warn-on-large-cell-output` read, and for one
//! cell the manifest whose outputs a hover shows (`cell_outputs`).

use crate::analysis::graph::CellRef;
use crate::analysis::workspace::Workspace;
use crate::cache::key::{Injection, KeyContext};
use crate::cache::manifest::{Manifest, ManifestStatus};
use crate::cache::store::Store;
use crate::format::tags::{self, CellKind};
use crate::format::{Cell, CellType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellStatus {
    /// A manifest with status ok exists for the current key.
    Cached,
    /// The current key's manifest recorded an error.
    Error,
    /// No manifest for the current key, but an older one for this notebook + cell.
    Stale,
    /// Never run.
    New,
    /// A `jc.setup` cell: always runs, never cached.
    Setup,
    /// A `jc.note` code cell: never runs.
    Note,
}

impl CellStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CellStatus::Cached => "cached",
            CellStatus::Error => "error",
            CellStatus::Stale => "stale",
            CellStatus::New => "new",
            CellStatus::Setup => "setup",
            CellStatus::Note => "note",
        }
    }
}

/// The status of one code cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellState {
    pub ordinal: usize,
    /// `name=`, else `<stem>:<ordinal>`.
    pub name: String,
    pub status: CellStatus,
    /// The current key (`None` for setup and note cells).
    pub key: Option<String>,
}

/// The status of every code cell of notebook `file`, in order (markdown and raw cells are
/// left out). Keys are computed without injected parameters.
pub fn cell_statuses(workspace: &Workspace, file: usize, store: &Store) -> Vec<CellState> {
    cell_statuses_with(
        &mut KeyContext::new(workspace, None, store),
        workspace,
        file,
        store,
    )
}

/// [`cell_statuses`] with a key context (for parameters, or to share memoised keys).
pub fn cell_statuses_with(
    keys: &mut KeyContext<'_>,
    workspace: &Workspace,
    file: usize,
    store: &Store,
) -> Vec<CellState> {
    cell_states_and_manifests(keys, workspace, file, store)
        .into_iter()
        .map(|(state, _)| state)
        .collect()
}

/// [`cell_statuses_with`], each cell with the manifest of its current key when one exists
/// (read once: callers that show its duration or error need not read it again).
pub fn cell_states_and_manifests(
    keys: &mut KeyContext<'_>,
    workspace: &Workspace,
    file: usize,
    store: &Store,
) -> Vec<(CellState, Option<Manifest>)> {
    let Some(notebook) = workspace.files.get(file) else {
        return Vec::new();
    };
    let stem = notebook.stem().to_string();
    notebook
        .notebook
        .cells
        .iter()
        .enumerate()
        .filter(|(_, cell)| cell.cell_type == CellType::Code)
        .map(|(ordinal, cell)| {
            let name = tags::cell_name(&cell.spec, &stem, ordinal);
            let cell_ref = CellRef {
                notebook: file,
                ordinal,
            };
            let (status, key, manifest) =
                state_of(keys, &notebook.relative, &name, cell, cell_ref, store);
            let state = CellState {
                ordinal,
                name,
                status,
                key,
            };
            (state, manifest)
        })
        .collect()
}

/// The status of one code cell, its current key, and the current key's manifest when
/// there is one (cached or error).
fn state_of(
    keys: &mut KeyContext<'_>,
    relative: &str,
    name: &str,
    cell: &Cell,
    cell_ref: CellRef,
    store: &Store,
) -> (CellStatus, Option<String>, Option<Manifest>) {
    match cell.spec.kind {
        CellKind::Setup => (CellStatus::Setup, None, None),
        CellKind::Note => (CellStatus::Note, None, None),
        _ => {
            let key = keys.key(cell_ref);
            match key.as_deref().and_then(|key| store.manifest(key)) {
                Some(manifest) if manifest.status == ManifestStatus::Ok => {
                    (CellStatus::Cached, key, Some(manifest))
                }
                Some(manifest) => (CellStatus::Error, key, Some(manifest)),
                None => match store.latest_for(relative, name) {
                    // Read by `cell_outputs` only: statuses need not parse it.
                    Some(_) => (CellStatus::Stale, key, None),
                    None => (CellStatus::New, key, None),
                },
            }
        }
    }
}

/// What a hover shows for one code cell: its state and the manifest of the outputs to
/// show, the current key's or, for a stale cell, the newest older one for this notebook
/// and cell name. `None` for markdown and raw cells.
pub fn cell_outputs(
    workspace: &Workspace,
    cell: CellRef,
    store: &Store,
) -> Option<(CellState, Option<Manifest>)> {
    let notebook = workspace.files.get(cell.notebook)?;
    let source = notebook.notebook.cells.get(cell.ordinal)?;
    if source.cell_type != CellType::Code {
        return None;
    }
    let name = tags::cell_name(&source.spec, notebook.stem(), cell.ordinal);
    let mut keys = KeyContext::new(workspace, None, store);
    let (status, key, mut manifest) =
        state_of(&mut keys, &notebook.relative, &name, source, cell, store);
    if status == CellStatus::Stale {
        manifest = store
            .latest_for(&notebook.relative, &name)
            .and_then(|older| store.manifest(&older));
    }
    let state = CellState {
        ordinal: cell.ordinal,
        name,
        status,
        key,
    };
    Some((state, manifest))
}

/// Per code cell with a manifest for its current key: (ordinal, total bytes of its output
/// blobs). For `warn-on-large-cell-output`.
pub fn output_sizes(workspace: &Workspace, file: usize, store: &Store) -> Vec<(usize, u64)> {
    let mut keys = KeyContext::new(workspace, None, store);
    let Some(notebook) = workspace.files.get(file) else {
        return Vec::new();
    };
    (0..notebook.notebook.cells.len())
        .filter_map(|ordinal| {
            let key = keys.key(CellRef {
                notebook: file,
                ordinal,
            })?;
            let manifest = store.manifest(&key)?;
            let total = manifest
                .blobs()
                .iter()
                .filter_map(|blob| store.blobs().size(blob))
                .sum();
            Some((ordinal, total))
        })
        .collect()
}

/// Per cell (by ordinal) of notebook `file`: the nbformat outputs stored for its current
/// key, or `None` when there are none. For `export --to ipynb`.
pub fn outputs_by_current_key(
    workspace: &Workspace,
    file: usize,
    store: &Store,
    injection: Option<Injection>,
) -> Vec<Option<(Vec<serde_json::Value>, Option<u32>)>> {
    let mut keys = KeyContext::new(workspace, injection, store);
    let Some(notebook) = workspace.files.get(file) else {
        return Vec::new();
    };
    (0..notebook.notebook.cells.len())
        .map(|ordinal| {
            let key = keys.key(CellRef {
                notebook: file,
                ordinal,
            })?;
            let manifest = store.manifest(&key)?;
            let outputs = manifest.nbformat_outputs(store.blobs()).ok()?;
            let count = manifest.outputs.iter().find_map(|output| match output {
                crate::cache::manifest::OutputRecord::ExecuteResult {
                    execution_count, ..
                } => *execution_count,
                _ => None,
            });
            Some((outputs, count))
        })
        .collect()
}

//! Cell status (DESIGN contract 5), computed from the current keys and the store, never
//! stored: what code lenses, hovers and `warn-on-large-cell-output` read, and for one
//! cell the manifest whose outputs a hover shows (`cell_outputs`).

use crate::analysis::graph::CellRef;
use crate::analysis::workspace::Workspace;
use crate::cache::key::{Injection, KeyContext};
use crate::cache::manifest::{Manifest, ManifestStatus};
use crate::cache::store::Store;
use crate::format::tags::{self, CellKind};
use crate::format::{CellType, PlacedCell};

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
    cell_states_and_manifests_where(keys, workspace, file, store, |_| true)
}

/// [`cell_states_and_manifests`] of the code cells whose ordinal `keep` accepts only (the
/// visible ones, for inlay hints): the others' keys and manifests are never looked at.
pub fn cell_states_and_manifests_where(
    keys: &mut KeyContext<'_>,
    workspace: &Workspace,
    file: usize,
    store: &Store,
    keep: impl Fn(usize) -> bool,
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
        .filter(|(ordinal, cell)| cell.cell_type == CellType::Code && keep(*ordinal))
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
    cell: PlacedCell<'_>,
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
    let state = CellState {
        ordinal: cell.ordinal,
        name,
        status,
        key,
    };
    if status == CellStatus::Stale {
        manifest = shown_manifest(store, &notebook.relative, &state);
    }
    Some((state, manifest))
}

/// The manifest whose outputs a hover shows for a cell in `state` (of the notebook at
/// `relative`): the current key's for a cached or failed cell, the newest older one of
/// this notebook and cell name for a stale one, none otherwise.
pub fn shown_manifest(store: &Store, relative: &str, state: &CellState) -> Option<Manifest> {
    match state.status {
        CellStatus::Cached | CellStatus::Error => {
            state.key.as_deref().and_then(|key| store.manifest(key))
        }
        CellStatus::Stale => store
            .latest_for(relative, &state.name)
            .and_then(|older| store.manifest(&older)),
        _ => None,
    }
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
    let Some(notebook) = workspace.files.get(file) else {
        return Vec::new();
    };
    // Nothing was ever run in this project: no key needs computing.
    if !store.manifests_dir().is_dir() {
        return vec![None; notebook.notebook.cells.len()];
    }
    let mut keys = KeyContext::new(workspace, injection, store);
    (0..notebook.notebook.cells.len())
        .map(|ordinal| {
            let key = keys.key(CellRef {
                notebook: file,
                ordinal,
            })?;
            let manifest = store.verified_manifest(&key)?;
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

/// For a `stale` cell: what differs between its current key inputs and the older manifest
/// whose outputs are shown, in words (`` `data` from `make2` changed ``, `the cell's code
/// changed`). Empty when nothing recorded tells (a v1 manifest, an unknown input).
pub fn what_changed(
    workspace: &Workspace,
    cell: CellRef,
    store: &Store,
    older: &Manifest,
) -> Vec<String> {
    let Some(current) = KeyContext::new(workspace, None, store).inputs(cell) else {
        return Vec::new();
    };
    let mut changes = Vec::new();
    if current.source_hash() != older.source_hash {
        changes.push("the cell's code changed".to_string());
    }
    for input in &current.inputs {
        let before = older.inputs.iter().find(|old| old.name == input.name);
        match before {
            Some(old) if old.key == input.key && old.from_cell == input.from_cell => {}
            Some(old) if old.from_cell != input.from_cell => changes.push(format!(
                "`{}` now comes from `{}` (was `{}`)",
                input.name, input.from_cell, old.from_cell
            )),
            _ => changes.push(format!(
                "`{}` from `{}` changed",
                input.name, input.from_cell
            )),
        }
    }
    for load in &current.loads {
        let same = older
            .loads
            .iter()
            .any(|old| old.path == load.path && old.content == load.content);
        if !same {
            changes.push(format!("`{}` changed", load.path));
        }
    }
    if current.setup_hashes != older.setup_hashes {
        changes.push("a setup cell above changed".to_string());
    }
    if current.env_hash != older.env_hash {
        changes.push("the environment changed".to_string());
    }
    if current.params_hash() != older.params_hash {
        changes.push("the parameters changed".to_string());
    }
    if changes.is_empty() && older.key_version != crate::cache::key::KEY_VERSION {
        changes.push("the cache format changed (an older version ran it)".to_string());
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::workspace::NotebookInput;
    use crate::cache::manifest::{InputRecord, LoadRecord, MANIFEST_SCHEMA_VERSION};

    const NOTEBOOK: &str = "# %% tags=[\"name=make2\"]\ndata = [1, 2, 3]\n\n# %% tags=[\"name=use2\"]\nprint(sum(data))\n";

    fn workspace(text: &str) -> Workspace {
        let root = std::path::PathBuf::from("/nonexistent-jellycell-project");
        let project = crate::project::Project::without_config(&root);
        Workspace::build(
            project,
            vec![NotebookInput {
                path: root.join("notebooks/b.py"),
                text: text.to_string(),
            }],
        )
    }

    #[test]
    fn a_stale_cell_says_which_variable_changed_and_where_it_came_from() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let store = Store::at(dir.path().to_path_buf());
        let use2 = CellRef {
            notebook: 0,
            ordinal: 1,
        };
        let before = workspace(NOTEBOOK);
        let inputs = KeyContext::new(&before, None, &store)
            .inputs(use2)
            .expect("use2 has a key");
        let older = Manifest {
            schema_version: MANIFEST_SCHEMA_VERSION,
            cache_key: inputs.key(),
            notebook: "notebooks/b.py".into(),
            cell: 1,
            cell_id: "b:1".into(),
            cell_name: Some("use2".into()),
            name: "use2".into(),
            kind: "step".into(),
            kernel: inputs.kernel.clone(),
            key_version: crate::cache::key::KEY_VERSION.into(),
            source_hash: inputs.source_hash(),
            dep_keys: inputs.dep_keys.clone(),
            setup_hashes: inputs.setup_hashes.clone(),
            env_hash: inputs.env_hash.clone(),
            params_hash: None,
            executed_at: "2026-01-01T00:00:00.000000Z".into(),
            duration_ms: 1,
            blob_sizes: Default::default(),
            snapshots: Vec::new(),
            unsnapshotted: Vec::new(),
            status: ManifestStatus::Ok,
            outputs: Vec::new(),
            artifacts: Vec::new(),
            inputs: inputs.inputs.iter().map(InputRecord::from).collect(),
            loads: inputs.loads.iter().map(LoadRecord::from).collect(),
        };
        assert_eq!(older.inputs[0].from_cell, "make2");
        let after = workspace(&NOTEBOOK.replace("[1, 2, 3]", "[10, 20, 30]"));
        assert_eq!(
            what_changed(&after, use2, &store, &older),
            ["`data` from `make2` changed"]
        );
        assert!(what_changed(&before, use2, &store, &older).is_empty());
    }
}

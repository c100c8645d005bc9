//! Each code cell's status, key and manifest summary, computed once per snapshot: code
//! lenses, their `codeLens/resolve`, inlay hints and `cell-error` diagnostics read the
//! same cells again and again (a client resolves lens after lens, scrolls, asks for
//! hints on every redraw), and a key needs the keys of everything the cell reads.
//!
//! The memo of a buffer is valid for one analysed workspace (the same `Arc`: any edit of
//! the buffer or of another notebook of the project builds a new one) and one state of
//! the cache: the `manifests/` folder's mtime (every manifest write or removal, by any
//! process, renames into that folder) and the lockfile's stamp (part of every key). An
//! mtime younger than two seconds does not prove an unchanged folder (one clock tick can
//! hold two writes), so the memo is then bypassed: answers are computed as if there were
//! none, and nothing is kept until the folder settles. Cells are filled in as requests
//! need them, so a long notebook costs what its visible part does. A remembered result
//! still has its blobs' existence and sizes checked on every use, as a status from the
//! store would (deleting a blob changes no manifest). The entry also keeps the summary
//! of a cached cell's outputs once an inlay hint made it (a manifest read and parsed per
//! visible cell per redraw otherwise).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, SystemTime};

use tower_lsp_server::ls_types::Uri;

use crate::analysis::workspace::Workspace;
use crate::cache::{CellStatus, Store};

/// A folder's mtime proves nothing until it is this old (see the header).
const SETTLE: Duration = Duration::from_secs(2);

/// The error a cell's current manifest recorded.
#[derive(Debug, Clone)]
pub struct CellErrorView {
    pub ename: String,
    pub evalue: String,
    pub traceback: Vec<String>,
}

/// What the store says of one code cell under its current key.
#[derive(Debug, Clone)]
pub struct CellEntry {
    pub ordinal: usize,
    pub status: CellStatus,
    /// The cell's current cache key (`None` for setup and note cells, and before any run).
    pub key: Option<String>,
    /// From the current key's manifest.
    pub duration_ms: Option<u64>,
    /// Seconds since the epoch, from the current key's manifest.
    pub executed_at: Option<u64>,
    pub error: Option<CellErrorView>,
    /// The current key's blobs with their recorded sizes: a memoised entry holds only while
    /// they are all there (a blob deleted or truncated by hand must not stay `cached`).
    pub blobs: Vec<(String, Option<u64>)>,
    /// The inline-output summary of a cached or failed cell (inlay hints), made from its
    /// manifest and blobs the first time a hint needs it: it holds as long as the entry.
    pub outputs_summary: OnceLock<Option<String>>,
}

impl CellEntry {
    fn blobs_intact(&self, store: &Store) -> bool {
        store.blobs_intact(self.blobs.iter().map(|(blob, size)| (blob.as_str(), *size)))
    }
}

/// What the cache looked like when a memo was filled.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CacheStamp {
    manifests: Option<SystemTime>,
    lockfiles: [Option<(SystemTime, u64)>; 2],
}

impl CacheStamp {
    /// The cache's stamp now, or `None` when the manifests folder changed too recently
    /// for its mtime to prove anything.
    fn now(store: &Store, root: &Path) -> Option<CacheStamp> {
        let manifests = std::fs::metadata(store.manifests_dir())
            .and_then(|meta| meta.modified())
            .ok();
        if let Some(time) = manifests
            && time.elapsed().map_or(true, |age| age <= SETTLE)
        {
            return None;
        }
        let lockfile = |name: &str| {
            let meta = std::fs::metadata(root.join(name)).ok()?;
            Some((meta.modified().ok()?, meta.len()))
        };
        Some(CacheStamp {
            manifests,
            lockfiles: [lockfile("uv.lock"), lockfile("poetry.lock")],
        })
    }
}

struct Memo {
    workspace: Weak<Workspace>,
    file_index: usize,
    stamp: CacheStamp,
    /// By ordinal; `None` until a request needed the cell.
    cells: Vec<Option<Arc<CellEntry>>>,
}

/// The memos of the open buffers (one each, replaced when it no longer fits).
#[derive(Default)]
pub struct CellKeys {
    memos: Mutex<HashMap<Uri, Memo>>,
}

impl CellKeys {
    /// The entries of the code cells among `ordinals` (in order), from the memo where it
    /// fits `workspace` and the cache as it is now; `compute` fills in the others (one
    /// call with every missing ordinal, so their keys share one key context).
    pub fn entries(
        &self,
        uri: &Uri,
        workspace: &Arc<Workspace>,
        file_index: usize,
        store: &Store,
        ordinals: &[usize],
        compute: impl FnOnce(&[usize]) -> Vec<CellEntry>,
    ) -> Vec<Arc<CellEntry>> {
        let Some(stamp) = CacheStamp::now(store, &workspace.project.root) else {
            return compute(ordinals).into_iter().map(Arc::new).collect();
        };
        let cells = workspace
            .files
            .get(file_index)
            .map_or(0, |file| file.notebook.cells.len());
        let mut known: Vec<Option<Arc<CellEntry>>> = Vec::with_capacity(ordinals.len());
        let mut missing = Vec::new();
        {
            let mut memos = lock(&self.memos);
            let memo = memos.entry(uri.clone()).or_insert_with(|| Memo {
                workspace: Weak::new(),
                file_index,
                stamp: stamp.clone(),
                cells: Vec::new(),
            });
            let fits = memo.workspace.ptr_eq(&Arc::downgrade(workspace))
                && memo.file_index == file_index
                && memo.stamp == stamp;
            if !fits {
                *memo = Memo {
                    workspace: Arc::downgrade(workspace),
                    file_index,
                    stamp,
                    cells: vec![None; cells],
                };
            }
            for &ordinal in ordinals {
                let entry = memo
                    .cells
                    .get(ordinal)
                    .cloned()
                    .flatten()
                    .filter(|entry| entry.blobs_intact(store));
                if entry.is_none() {
                    missing.push(ordinal);
                }
                known.push(entry);
            }
        }
        if missing.is_empty() {
            return known.into_iter().flatten().collect();
        }
        let computed: Vec<Arc<CellEntry>> = compute(&missing).into_iter().map(Arc::new).collect();
        {
            let mut memos = lock(&self.memos);
            if let Some(memo) = memos.get_mut(uri)
                && memo.workspace.ptr_eq(&Arc::downgrade(workspace))
            {
                for entry in &computed {
                    if let Some(slot) = memo.cells.get_mut(entry.ordinal) {
                        *slot = Some(entry.clone());
                    }
                }
            }
        }
        // Merge by ordinal: `known` and `computed` are both in `ordinals`' order.
        let mut computed = computed.into_iter().peekable();
        let mut merged = Vec::with_capacity(ordinals.len());
        for (ordinal, entry) in ordinals.iter().zip(known) {
            match entry {
                Some(entry) => merged.push(entry),
                None => {
                    if computed.peek().is_some_and(|next| next.ordinal == *ordinal) {
                        merged.extend(computed.next());
                    }
                }
            }
        }
        merged
    }

    /// Forgets the memo of a closed buffer.
    pub fn forget(&self, uri: &Uri) {
        lock(&self.memos).remove(uri);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

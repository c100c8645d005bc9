//! Live with other processes: a `jellycell-lsp run` in a terminal writes manifests, and the
//! open notebooks' lenses, hints and `cell-error` diagnostics follow without an edit.
//!
//! A poll, not the `notify` crate: once a second, one `stat` of each known store's
//! `manifests/` folder (its mtime moves whenever a manifest is written or removed, since
//! manifests are renamed into place). That costs nothing measurable, needs no inotify
//! watch (whose per-user limit editors already strain) and works on network file
//! systems, and a one-second delay is well within what a terminal run needs. The mtime is
//! coarse (one clock tick), so a folder changed less than two seconds ago counts as
//! changed again on the next poll: a write in the same tick as a poll is never missed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::Core;
use super::runs::{refresh_diagnostics, refresh_views};

const POLL: Duration = Duration::from_secs(1);
const SETTLE: Duration = Duration::from_secs(2);

/// Starts the poll (once, from `initialized`).
pub fn start(core: &Arc<Core>) {
    let core = Arc::downgrade(core);
    tokio::spawn(async move {
        let mut seen: HashMap<PathBuf, Option<SystemTime>> = HashMap::new();
        loop {
            tokio::time::sleep(POLL).await;
            let Some(core) = core.upgrade() else { return };
            let stores = core.runs.stores();
            let stamps = tokio::task::spawn_blocking(move || {
                stores
                    .into_iter()
                    .map(|(root, store)| {
                        let modified = std::fs::metadata(store.manifests_dir())
                            .and_then(|meta| meta.modified())
                            .ok();
                        (root, modified)
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .unwrap_or_default();
            for (root, modified) in stamps {
                let previous = seen.insert(root.clone(), modified);
                let fresh = modified
                    .and_then(|time| time.elapsed().ok())
                    .is_some_and(|age| age < SETTLE);
                let changed = match previous {
                    None => false,
                    Some(previous) => previous != modified || fresh,
                };
                let open = core.state.open_in_project(&root);
                if changed && let Some(first) = open.first() {
                    refresh_views(&core, first);
                    for uri in &open {
                        refresh_diagnostics(&core, uri);
                    }
                }
            }
        }
    });
}

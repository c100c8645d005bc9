//! One output store (`cache::Store`) per cache folder, shared by every handler of the
//! server, so that the scan of the manifests a store caches is shared too. The server's
//! stores never open the sled index (`Store::open_unindexed`): an editor stays open for
//! hours and must neither hold its lock nor create it in a folder where it only reads.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::cache::Store;
use crate::project::Project;

#[derive(Default)]
pub(crate) struct Stores {
    open: Mutex<HashMap<PathBuf, Arc<Store>>>,
}

impl Stores {
    /// The store of `project` (opening it reads and creates nothing).
    pub fn of(&self, project: &Project) -> Arc<Store> {
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(project.lsp_cache_dir())
            .or_insert_with(|| Arc::new(Store::open_unindexed(project)))
            .clone()
    }
}

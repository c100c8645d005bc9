//! One output store (`cache::Store`) per cache folder, shared by every handler of the
//! server: a second `Store` on the same folder in this process would find the sled index
//! locked by the first and fall back to scanning manifests.

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
    /// The store of `project` (opening it reads nothing; the index opens on first use).
    pub fn of(&self, project: &Project) -> Arc<Store> {
        let dir = project.lsp_cache_dir();
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(dir.clone())
            .or_insert_with(|| Arc::new(Store::at(dir)))
            .clone()
    }
}

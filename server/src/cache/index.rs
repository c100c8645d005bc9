//! The sled index (DESIGN contract 4): notebook + cell name → the latest manifest key,
//! and artifact path → the key of the cell that last wrote it.
//!
//! Derived from the manifest files and rebuildable from them at any time. sled locks its
//! directory for one process, so [`Index::open`] reports a held lock as
//! [`IndexError::Locked`]; callers then read the manifests directly (see `store.rs`)
//! instead of failing.

use std::path::Path;

use crate::cache::manifest::Manifest;

/// Why the index could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("the index is held by another process")]
    Locked,
    #[error("the index is corrupt: {0}")]
    Corrupt(String),
    #[error("the index cannot be opened: {0}")]
    Other(String),
}

pub struct Index {
    db: sled::Db,
    latest: sled::Tree,
    producers: sled::Tree,
    /// Keys of the manifests recorded, so a sync reads only new files.
    files: sled::Tree,
}

/// `executed_at \0 key`: values compare by time, so the newest wins.
fn entry(manifest: &Manifest) -> Vec<u8> {
    format!("{}\0{}", manifest.executed_at, manifest.cache_key).into_bytes()
}

fn key_of(value: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(value).ok()?;
    text.split_once('\0').map(|(_, key)| key.to_string())
}

fn cell_slot(notebook: &str, name: &str) -> Vec<u8> {
    format!("{notebook}\0{name}").into_bytes()
}

impl Index {
    /// Opens (creating) the index in `dir`. A corrupt index is removed and recreated
    /// empty (it is derived; manifests not yet recorded are synced in by the store). An
    /// index locked by another process is never touched.
    pub fn open(dir: &Path) -> Result<Index, IndexError> {
        match Index::try_open(dir) {
            Err(IndexError::Corrupt(_)) if dir.exists() => {
                let _ = std::fs::remove_dir_all(dir);
                Index::try_open(dir)
            }
            other => other,
        }
    }

    fn try_open(dir: &Path) -> Result<Index, IndexError> {
        let db = sled::Config::new()
            .path(dir)
            .flush_every_ms(Some(200))
            .open()
            .map_err(|error| match &error {
                sled::Error::Io(io) if is_lock_error(io) => IndexError::Locked,
                sled::Error::Corruption { .. } | sled::Error::Unsupported(_) => {
                    IndexError::Corrupt(error.to_string())
                }
                _ => IndexError::Other(error.to_string()),
            })?;
        let tree = |name: &str| {
            db.open_tree(name)
                .map_err(|error| IndexError::Other(error.to_string()))
        };
        Ok(Index {
            latest: tree("latest")?,
            producers: tree("producers")?,
            files: tree("files")?,
            db,
        })
    }

    /// Records an executed cell: it becomes the latest for its notebook + name (unless a
    /// newer one is there) and the producer of its artifacts.
    pub fn record(&self, manifest: &Manifest) {
        let value = entry(manifest);
        let newer = |slot: &sled::Tree, key: Vec<u8>| {
            let _ = slot.fetch_and_update(key, |old| match old {
                Some(old) if old > value.as_slice() => Some(old.to_vec()),
                _ => Some(value.clone()),
            });
        };
        let _ = self.files.insert(manifest.cache_key.as_bytes(), &[][..]);
        newer(&self.latest, cell_slot(&manifest.notebook, &manifest.name));
        for artifact in &manifest.artifacts {
            newer(&self.producers, artifact.path.clone().into_bytes());
        }
    }

    /// The newest manifest key for the cell `name` of `notebook`.
    pub fn latest(&self, notebook: &str, name: &str) -> Option<String> {
        let value = self.latest.get(cell_slot(notebook, name)).ok()??;
        key_of(&value)
    }

    /// The key of the newest cell that wrote `path`.
    pub fn producer(&self, path: &str) -> Option<String> {
        let value = self.producers.get(path.as_bytes()).ok()??;
        key_of(&value)
    }

    /// Whether the manifest `key` has been recorded.
    pub fn knows(&self, key: &str) -> bool {
        self.files.contains_key(key.as_bytes()).unwrap_or(false)
    }

    /// Empties the index and records `manifests`; returns how many.
    pub fn rebuild<'a>(&self, manifests: impl IntoIterator<Item = &'a Manifest>) -> usize {
        let _ = self.latest.clear();
        let _ = self.producers.clear();
        let _ = self.files.clear();
        let mut count = 0;
        for manifest in manifests {
            self.record(manifest);
            count += 1;
        }
        self.flush();
        count
    }

    pub fn flush(&self) {
        let _ = self.db.flush();
    }
}

fn is_lock_error(error: &std::io::Error) -> bool {
    // fs2's try_lock_exclusive fails with EWOULDBLOCK; sled words it "could not acquire lock".
    error.kind() == std::io::ErrorKind::WouldBlock
        || error.to_string().contains("lock")
        || error.raw_os_error() == Some(11)
}

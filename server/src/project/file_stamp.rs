//! What `stat` says identifies one version of a file (modification time, length, inode),
//! and [`StampedCache`], for caches that re-read a file only when it changed: a rename
//! over it changes the inode, an edit in place the time and usually the length.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl FileStamp {
    pub fn of(meta: &std::fs::Metadata) -> FileStamp {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        FileStamp {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode,
        }
    }
}

/// What was read from files, each value kept with its file's stamp at the time: valid
/// while the file still has that stamp. Starts over when `limit` entries are held.
#[derive(Debug)]
pub struct StampedCache<K, T> {
    entries: Mutex<HashMap<K, (FileStamp, T)>>,
    limit: usize,
}

impl<K: Eq + Hash, T: Clone> StampedCache<K, T> {
    pub fn new(limit: usize) -> Self {
        StampedCache {
            entries: Mutex::new(HashMap::new()),
            limit,
        }
    }

    /// The value read for `key` when its file had `stamp`, if it is kept.
    pub fn get<Q>(&self, key: &Q, stamp: FileStamp) -> Option<T>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        match self.lock().get(key) {
            Some((kept, value)) if *kept == stamp => Some(value.clone()),
            _ => None,
        }
    }

    pub fn insert(&self, key: K, stamp: FileStamp, value: T) {
        let mut entries = self.lock();
        if entries.len() >= self.limit {
            entries.clear();
        }
        entries.insert(key, (stamp, value));
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, (FileStamp, T)>> {
        // A panic while the map was held leaves whole entries: each insert is one call.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_kept_for_its_stamp_only_and_the_cache_starts_over_when_full() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let stamp_of = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write");
            FileStamp::of(&std::fs::metadata(&path).expect("stat"))
        };
        let (a, b) = (stamp_of("a", "one"), stamp_of("b", "three"));
        let cache: StampedCache<String, u32> = StampedCache::new(2);
        cache.insert("a".into(), a, 1);
        assert_eq!(cache.get("a", a), Some(1));
        assert_eq!(cache.get("a", b), None, "another version of the file");
        cache.insert("b".into(), b, 2);
        cache.insert("c".into(), b, 3);
        assert_eq!((cache.get("a", a), cache.get("c", b)), (None, Some(3)));
        cache.clear();
        assert_eq!(cache.get("c", b), None);
    }
}

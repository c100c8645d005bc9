//! The store (DESIGN contract 4): `<cache>/jellycell-lsp/` holding `manifests/<key>.json`,
//! `blobs/<aa>/<hex>` and the derived sled index in `index/`.
//!
//! The files are the truth: a manifest is written (atomically) only after every blob it
//! names, so a reader never sees a manifest with missing outputs. The index is opened
//! lazily and only when needed; when another process holds it, queries scan the manifests
//! instead, and a process that holds it picks up manifests written by others by syncing
//! from the directory when its modification time changes. Nothing of jellycell's own
//! (`manifests/`, `blobs/`, `state.db` one level up) is read or written.
//!
//! Nothing damaged is served: a manifest must parse, record the key its file is named by
//! and name only blob names; its blobs must exist with the recorded sizes, and readers of
//! outputs check their hashes too. Damage is a miss with one warning (`damage`), and
//! `verify` checks the whole store for `cache verify`.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use crate::cache::blobs::{BlobStore, is_blob_name, write_atomically};
use crate::cache::damage::{Damage, sorted, warn_once};
use crate::cache::index::{Index, IndexError};
use crate::cache::manifest::{Manifest, ManifestStatus};
use crate::project::Project;
use crate::project::file_stamp::{FileStamp, StampedCache};

/// How long after a failed open (lock held elsewhere) the index is tried again.
const INDEX_RETRY: Duration = Duration::from_secs(1);

/// How old a folder's mtime must be before an unchanged mtime proves an unchanged folder.
const MTIME_SETTLE: Duration = Duration::from_secs(2);

/// Unreferenced blobs and temporary files younger than this are kept by `prune`: a run in
/// another process may have written them and not yet its manifest.
pub const GARBAGE_GRACE: Duration = Duration::from_secs(3600);

pub struct Store {
    root: PathBuf,
    manifests_dir: PathBuf,
    blobs: BlobStore,
    index: Mutex<IndexSlot>,
    scan: Mutex<Option<ScanCache>>,
    /// False for a long-lived reader that must never hold sled's lock (see
    /// [`Store::open_unindexed`]).
    use_index: bool,
    /// Parsed manifests by key, with the file's stamp when read: a status query of a
    /// notebook reads every current manifest, and a `stat` is much cheaper than a parse.
    parsed: StampedCache<String, Manifest>,
}

/// How many parsed manifests a store keeps before it starts over.
const PARSED_LIMIT: usize = 20_000;

#[derive(Default)]
struct IndexSlot {
    index: Option<Index>,
    last_attempt: Option<Instant>,
    /// The manifests directory's mtime when the index last synced from it.
    synced_at: Option<SystemTime>,
}

/// Latest manifest per notebook + name, from a scan, valid while the directory is unchanged.
///
/// While the folder keeps changing (a run writing a manifest per cell), a refresh parses
/// only the manifests it has not seen; once the folder's mtime has settled, one full scan
/// picks up what that cannot see (a manifest rewritten under the same key).
#[derive(Default)]
struct ScanCache {
    modified: Option<SystemTime>,
    /// When the refresh began: a folder mtime well before it proves it saw every write.
    started: Option<SystemTime>,
    /// Whether the last refresh was a full scan (not only the manifests not seen before).
    complete: bool,
    /// The manifest keys parsed so far.
    seen: HashSet<String>,
    latest: HashMap<(String, String), (String, String)>,
}

impl ScanCache {
    fn record(&mut self, manifest: Manifest) {
        let slot = (manifest.notebook, manifest.name);
        let newer = self
            .latest
            .get(&slot)
            .is_none_or(|(executed_at, _)| *executed_at < manifest.executed_at);
        if newer {
            self.latest
                .insert(slot, (manifest.executed_at, manifest.cache_key));
        }
    }
}

impl Store {
    /// The store of `project` (nothing is created until something is written).
    pub fn open(project: &Project) -> Store {
        Store::at(project.lsp_cache_dir())
    }

    pub fn at(root: PathBuf) -> Store {
        Store {
            manifests_dir: root.join("manifests"),
            blobs: BlobStore::new(root.join("blobs")),
            root,
            index: Mutex::new(IndexSlot::default()),
            scan: Mutex::new(None),
            use_index: true,
            parsed: StampedCache::new(PARSED_LIMIT),
        }
    }

    /// The store of `project` for a process that stays up for hours (the language
    /// server): it never opens the sled index, whose lock would otherwise be held for as
    /// long as the editor is open and make `cache rebuild-index` in a terminal fail. It
    /// reads and writes the same files; lookups scan the manifests, cached per folder
    /// modification time.
    pub fn open_unindexed(project: &Project) -> Store {
        Store {
            use_index: false,
            ..Store::at(project.lsp_cache_dir())
        }
    }

    /// The folder of the manifests (its modification time changes whenever a manifest
    /// is written or removed, by any process).
    pub fn manifests_dir(&self) -> &Path {
        &self.manifests_dir
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    pub fn manifest_path(&self, key: &str) -> PathBuf {
        self.manifests_dir.join(format!("{key}.json"))
    }

    /// The manifest for `key` when it can be served: it parses, records `key` itself and
    /// names only blob names, and every blob it names exists with the recorded size (the
    /// cheap checks, a `stat` per blob). Damage is a miss, with one warning naming the file.
    pub fn manifest(&self, key: &str) -> Option<Manifest> {
        let manifest = self.read_manifest(key)?;
        match self.missing_or_truncated_blob(&manifest) {
            Some(damage) => {
                warn_once(&damage);
                None
            }
            None => Some(manifest),
        }
    }

    /// [`Store::manifest`], and every output blob's content hashes to its name:
    /// for the readers of outputs (a run's hits, export, the preview page).
    pub fn verified_manifest(&self, key: &str) -> Option<Manifest> {
        let manifest = self.manifest(key)?;
        // Outputs are hashed here; value snapshots (large) only have their size checked
        // by `manifest`, and are hashed as a stream when a restore reads them.
        for blob in manifest.output_blobs() {
            if let Err(error) = self.blobs.verify(blob) {
                warn_once(&Damage::new(&self.blobs.path(blob), error.to_string()));
                return None;
            }
        }
        Some(manifest)
    }

    /// The manifest for `key` if its file parses and is consistent with its name (blobs
    /// are not looked at): what listings and the index read.
    fn read_manifest(&self, key: &str) -> Option<Manifest> {
        match self.check_manifest(key) {
            Ok(manifest) => manifest,
            Err(damage) => {
                warn_once(&damage);
                None
            }
        }
    }

    /// `Ok(None)` when there is no manifest for `key`, `Err` when its file is damaged.
    fn check_manifest(&self, key: &str) -> Result<Option<Manifest>, Damage> {
        let path = self.manifest_path(key);
        let Ok(meta) = std::fs::metadata(&path) else {
            return Ok(None);
        };
        let stamp = FileStamp::of(&meta);
        if let Some(manifest) = self.parsed.get(key, stamp) {
            return Ok(Some(manifest));
        }
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(Damage::new(&path, format!("cannot read it: {error}"))),
        };
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|error| Damage::new(&path, format!("not a manifest: {error}")))?;
        if let Some(problem) = manifest.inconsistency(key) {
            return Err(Damage::new(&path, problem));
        }
        self.parsed.insert(key.to_string(), stamp, manifest.clone());
        Ok(Some(manifest))
    }

    /// The first blob of `manifest` that is missing or not the size it recorded.
    fn missing_or_truncated_blob(&self, manifest: &Manifest) -> Option<Damage> {
        let blobs = manifest.blobs();
        let recorded = blobs
            .iter()
            .map(|blob| (*blob, manifest.blob_sizes.get(*blob).copied()));
        self.first_damaged_blob(recorded)
    }

    /// Whether every blob of `blobs` (names with the sizes their manifest recorded) is
    /// still there at that size: [`Store::manifest`]'s cheap check, for a memo of statuses
    /// that keeps its answers across requests.
    pub fn blobs_intact<'a>(
        &self,
        blobs: impl IntoIterator<Item = (&'a str, Option<u64>)>,
    ) -> bool {
        self.first_damaged_blob(blobs).is_none()
    }

    fn first_damaged_blob<'a>(
        &self,
        blobs: impl IntoIterator<Item = (&'a str, Option<u64>)>,
    ) -> Option<Damage> {
        blobs.into_iter().find_map(|(blob, recorded)| {
            let path = self.blobs.path(blob);
            match (self.blobs.size(blob), recorded) {
                (None, _) => Some(Damage::new(&path, "the blob is missing")),
                (Some(size), Some(recorded)) if size != recorded => Some(Damage::new(
                    &path,
                    format!("the blob has {size} bytes, the manifest recorded {recorded}"),
                )),
                _ => None,
            }
        })
    }

    /// Checks every manifest and blob of the store in full (`cache verify`): manifests that
    /// do not parse or do not match their name, blobs that are missing, of the wrong size
    /// or do not hash to their name, and the manifests that name those. Nothing is changed.
    pub fn verify(&self) -> Vec<Damage> {
        let mut damages = Vec::new();
        let mut blob_damage: HashMap<String, Damage> = HashMap::new();
        walk_files(self.blobs.dir(), &mut |path: &Path| {
            let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
                return;
            };
            if name.starts_with('.') {
                return;
            }
            if !is_blob_name(name) {
                damages.push(Damage::new(
                    path,
                    "not a blob name (64 lowercase hex characters)",
                ));
                return;
            }
            if let Err(error) = self.blobs.get(name) {
                let damage = Damage::new(path, error.to_string());
                blob_damage.insert(name.to_string(), damage.clone());
                damages.push(damage);
            }
        });
        if let Ok(entries) = std::fs::read_dir(&self.manifests_dir) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(key) = name.to_str().and_then(|name| name.strip_suffix(".json")) else {
                    continue;
                };
                let manifest = match self.check_manifest(key) {
                    Ok(Some(manifest)) => manifest,
                    Ok(None) => continue,
                    Err(damage) => {
                        damages.push(damage);
                        continue;
                    }
                };
                let path = self.manifest_path(key);
                let broken = manifest.blobs().into_iter().find_map(|blob| {
                    if let Some(damage) = blob_damage.get(blob) {
                        return Some(format!("its blob {} is damaged", damage.path.display()));
                    }
                    self.missing_or_truncated_blob(&manifest)
                        .map(|damage| format!("{}: {}", damage.path.display(), damage.problem))
                });
                if let Some(problem) = broken {
                    damages.push(Damage::new(&path, problem));
                }
            }
        }
        sorted(damages)
    }

    /// Removes the damaged files `verify` found. Returns how many were removed.
    pub fn remove_damaged(&self, damages: &[Damage]) -> io::Result<usize> {
        let mut removed = 0;
        for damage in damages {
            match std::fs::remove_file(&damage.path) {
                Ok(()) => removed += 1,
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => {
                    return Err(io::Error::new(
                        error.kind(),
                        format!("cannot remove {}: {error}", damage.path.display()),
                    ));
                }
            }
        }
        self.parsed.clear();
        if let Ok(mut scan) = self.scan.lock() {
            *scan = None;
        }
        Ok(removed)
    }

    /// A hit: a manifest with status ok for `key`.
    pub fn is_hit(&self, key: &str) -> Option<Manifest> {
        self.manifest(key)
            .filter(|manifest| manifest.status == ManifestStatus::Ok)
    }

    /// Writes `manifest` (its blobs must be stored already) and records it in the index
    /// when this process can hold it.
    pub fn put_manifest(&self, manifest: &Manifest) -> io::Result<()> {
        let mut manifest = manifest.clone();
        let blobs: Vec<String> = manifest.blobs().into_iter().map(str::to_string).collect();
        for blob in blobs {
            let size = self.blobs.size(&blob).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("blob {} is not stored", self.blobs.path(&blob).display()),
                )
            })?;
            manifest.blob_sizes.insert(blob, size);
        }
        let manifest = &manifest;
        let mut text = serde_json::to_string_pretty(manifest).map_err(io::Error::other)?;
        text.push('\n');
        write_atomically(&self.manifest_path(&manifest.cache_key), text.as_bytes())?;
        // Recorded without a sync from the folder: writes stay cheap, and the next query
        // syncs whatever else changed.
        if let Ok(mut slot) = self.index.lock()
            && let Some(index) = self.index_in(&mut slot, false)
        {
            index.record(manifest);
        }
        Ok(())
    }

    /// The newest manifest key for the cell `name` of `notebook` whose file still exists.
    pub fn latest_for(&self, notebook: &str, name: &str) -> Option<String> {
        if let Ok(mut slot) = self.index.lock()
            && let Some(index) = self.index_in(&mut slot, true)
        {
            return index
                .latest(notebook, name)
                .filter(|key| self.manifest_path(key).is_file());
        }
        let mut scan = self.scan.lock().ok()?;
        let modified = modified(&self.manifests_dir);
        let settled = settled(modified);
        // A partial refresh is enough while the folder changes; once it has settled, one
        // full scan also sees a manifest rewritten under a key already seen.
        let valid = scan.as_ref().is_some_and(|cache| {
            // No folder yet: nothing to scan until it appears (its mtime then differs).
            cache.modified == modified
                && (modified.is_none() || settled || scanned_after(cache, modified))
                && (cache.complete || !settled)
        });
        if !valid {
            let started = Some(SystemTime::now());
            let partial = match scan.take() {
                Some(cache) if !settled => self.scan_new_manifests(cache),
                _ => None,
            };
            let complete = partial.is_none();
            let mut cache = partial
                .or_else(|| self.scan_new_manifests(ScanCache::default()))
                .unwrap_or_default();
            cache.complete = complete;
            cache.started = started;
            cache.modified = modified;
            *scan = Some(cache);
        }
        scan.as_ref()?
            .latest
            .get(&(notebook.to_string(), name.to_string()))
            .map(|(_, key)| key.clone())
    }

    /// The index, opened (or re-tried) and, with `sync`, synced with the directory; `None`
    /// while another process holds it.
    fn index_in<'a>(&self, slot: &'a mut IndexSlot, sync: bool) -> Option<&'a Index> {
        if !self.use_index {
            return None;
        }
        if slot.index.is_none() {
            let due = slot
                .last_attempt
                .is_none_or(|attempt| attempt.elapsed() >= INDEX_RETRY);
            if !due {
                return None;
            }
            slot.last_attempt = Some(Instant::now());
            match Index::open(&self.root.join("index")) {
                Ok(index) => {
                    slot.index = Some(index);
                    slot.synced_at = None;
                }
                Err(_) => return None,
            }
        }
        let modified = modified(&self.manifests_dir);
        if sync && !(settled(modified) && modified == slot.synced_at) {
            if let Some(index) = &slot.index {
                self.sync(index);
            }
            slot.synced_at = modified;
        }
        slot.index.as_ref()
    }

    /// Records manifests the index has not seen (written by another process).
    fn sync(&self, index: &Index) {
        let Ok(entries) = std::fs::read_dir(&self.manifests_dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(key) = name.to_str().and_then(|name| name.strip_suffix(".json")) else {
                continue;
            };
            if index.knows(key) {
                continue;
            }
            if let Some(manifest) = self.read_manifest(key) {
                index.record(&manifest);
            }
        }
    }

    /// `cache` with the manifests written since it was built; `None` when one it has seen
    /// is gone (removed or pruned), which needs a full scan.
    fn scan_new_manifests(&self, mut cache: ScanCache) -> Option<ScanCache> {
        let entries = std::fs::read_dir(&self.manifests_dir).ok()?;
        let mut still_there = 0;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(key) = name.to_str().and_then(|name| name.strip_suffix(".json")) else {
                continue;
            };
            if cache.seen.contains(key) {
                still_there += 1;
            } else if let Some(manifest) = self.read_manifest(key) {
                still_there += 1;
                cache.seen.insert(key.to_string());
                cache.record(manifest);
            }
        }
        (still_there == cache.seen.len()).then_some(cache)
    }

    /// Every manifest that parses, in no particular order.
    pub fn manifests(&self) -> Vec<Manifest> {
        let Ok(entries) = std::fs::read_dir(&self.manifests_dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name();
                let key = name.to_str()?.strip_suffix(".json")?.to_string();
                self.read_manifest(&key)
            })
            .collect()
    }

    /// Rebuilds the index from the manifests: `Ok(count)`, or `Err` when another process
    /// holds it (that process syncs itself from the files).
    pub fn rebuild_index(&self) -> Result<usize, IndexError> {
        let manifests = self.manifests();
        let mut slot = self
            .index
            .lock()
            .map_err(|_| IndexError::Other("poisoned".into()))?;
        if slot.index.is_none() {
            slot.index = Some(Index::open(&self.root.join("index"))?);
        }
        let index = slot.index.as_ref().ok_or(IndexError::Locked)?;
        let count = index.rebuild(&manifests);
        slot.synced_at = modified(&self.manifests_dir);
        Ok(count)
    }

    /// Flushes the index, if this process holds it.
    pub fn flush(&self) {
        if let Ok(slot) = self.index.lock()
            && let Some(index) = &slot.index
        {
            index.flush();
        }
    }

    /// Removes every manifest and blob (and the index unless another process holds it).
    /// Returns (manifests, blobs) removed.
    pub fn clear(&self) -> io::Result<(usize, usize)> {
        let manifests = count_files(&self.manifests_dir);
        let blobs = count_files(self.blobs.dir());
        remove_dir(&self.manifests_dir)?;
        remove_dir(self.blobs.dir())?;
        let mut slot = self
            .index
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?;
        slot.index = None;
        let index_dir = self.root.join("index");
        if let Ok(index) = Index::open(&index_dir) {
            drop(index);
            remove_dir(&index_dir)?;
        }
        if let Ok(mut scan) = self.scan.lock() {
            *scan = None;
        }
        Ok((manifests, blobs))
    }

    /// Deletes the manifest for `key`.
    pub fn remove_manifest(&self, key: &str) -> io::Result<()> {
        match std::fs::remove_file(self.manifest_path(key)) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }

    /// Removes blobs no manifest refers to and stray temporary files, both only when older
    /// than [`GARBAGE_GRACE`]. Returns how many files were (or would be) removed.
    pub fn collect_garbage(&self, dry_run: bool) -> usize {
        let referenced: HashSet<String> = self
            .manifests()
            .iter()
            .flat_map(|manifest| manifest.blobs().into_iter().map(str::to_string))
            .collect();
        let mut removed = 0;
        let mut visit = |path: &Path| {
            let name = path
                .file_name()
                .and_then(|name| name.to_str())
                .unwrap_or("");
            let garbage =
                name.ends_with(".tmp") || (!name.starts_with('.') && !referenced.contains(name));
            let old = std::fs::metadata(path)
                .and_then(|meta| meta.modified())
                .ok()
                .and_then(|time| time.elapsed().ok())
                .is_some_and(|age| age >= GARBAGE_GRACE);
            if garbage && old {
                removed += 1;
                if !dry_run {
                    let _ = std::fs::remove_file(path);
                }
            }
        };
        walk_files(self.blobs.dir(), &mut visit);
        if let Ok(entries) = std::fs::read_dir(&self.manifests_dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|extension| extension == "tmp") {
                    visit(&path);
                }
            }
        }
        removed
    }
}

/// Whether an mtime is old enough that an unchanged value proves an unchanged folder:
/// file-system timestamps are coarse (ext4 advances them once per clock tick), so a folder
/// changed moments ago may change again under the same mtime.
fn settled(modified: Option<SystemTime>) -> bool {
    modified.is_some_and(|time| time.elapsed().is_ok_and(|age| age > MTIME_SETTLE))
}

/// Whether a scan began more than a clock tick after the folder last changed: a write
/// after the scan began would then have moved the mtime. Without it, a folder changed in
/// the last two seconds is scanned again on every query, once per cell of a notebook.
fn scanned_after(cache: &ScanCache, modified: Option<SystemTime>) -> bool {
    const TICK: Duration = Duration::from_millis(50);
    modified.is_some_and(|modified| {
        cache
            .started
            .and_then(|started| started.duration_since(modified).ok())
            .is_some_and(|gap| gap > TICK)
    })
}

fn modified(dir: &Path) -> Option<SystemTime> {
    std::fs::metadata(dir).and_then(|meta| meta.modified()).ok()
}

fn walk_files(dir: &Path, visit: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => walk_files(&path, visit),
            Ok(kind) if kind.is_file() => visit(&path),
            _ => {}
        }
    }
}

fn count_files(dir: &Path) -> usize {
    let mut count = 0;
    walk_files(dir, &mut |_| count += 1);
    count
}

fn remove_dir(dir: &Path) -> io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::manifest::OutputRecord;

    fn manifest(store: &Store, key: &str, name: &str, executed_at: &str) -> Manifest {
        Manifest {
            schema_version: 1,
            cache_key: key.into(),
            notebook: "notebooks/n.py".into(),
            cell: 0,
            cell_id: "n:0".into(),
            cell_name: Some(name.into()),
            name: name.into(),
            kind: "step".into(),
            kernel: "python3".into(),
            key_version: crate::cache::key::KEY_VERSION.into(),
            source_hash: String::new(),
            dep_keys: Vec::new(),
            setup_hashes: Vec::new(),
            env_hash: String::new(),
            params_hash: None,
            executed_at: executed_at.into(),
            duration_ms: 1,
            status: ManifestStatus::Ok,
            outputs: vec![OutputRecord::Stream {
                name: "stdout".into(),
                blob: store.blobs().put(key.as_bytes()).unwrap_or_default(),
            }],
            artifacts: Vec::new(),
            blob_sizes: Default::default(),
            snapshots: Vec::new(),
            unsnapshotted: Vec::new(),
            inputs: Vec::new(),
            loads: Vec::new(),
        }
    }

    #[test]
    fn a_store_without_the_index_sees_new_and_removed_manifests_while_the_folder_changes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store {
            use_index: false,
            ..Store::at(dir.path().to_path_buf())
        };
        let (old, new) = ("a".repeat(64), "b".repeat(64));
        store
            .put_manifest(&manifest(&store, &old, "c", "2026-01-01T00:00:00.000000Z"))
            .unwrap();
        assert_eq!(store.latest_for("notebooks/n.py", "c"), Some(old.clone()));
        // Written moments later: the folder's mtime has not settled, the scan is partial.
        store
            .put_manifest(&manifest(&store, &new, "c", "2026-01-02T00:00:00.000000Z"))
            .unwrap();
        assert_eq!(store.latest_for("notebooks/n.py", "c"), Some(new.clone()));
        store.remove_manifest(&new).unwrap();
        assert_eq!(store.latest_for("notebooks/n.py", "c"), Some(old));
        assert_eq!(store.latest_for("notebooks/n.py", "other"), None);
    }

    #[test]
    fn a_rewritten_or_removed_manifest_is_read_again_not_served_from_memory() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().to_path_buf());
        let mut first = manifest(&store, "k", "a", "2026-01-01T00:00:00.000000Z");
        store.put_manifest(&first).unwrap();
        assert_eq!(store.manifest("k").map(|m| m.duration_ms), Some(1));
        first.duration_ms = 2;
        // Another process (another store) rewrites it.
        let other = Store::at(dir.path().to_path_buf());
        other.put_manifest(&first).unwrap();
        assert_eq!(store.manifest("k").map(|m| m.duration_ms), Some(2));
        other.remove_manifest("k").unwrap();
        assert!(store.manifest("k").is_none());
    }

    #[test]
    fn an_unindexed_reader_sees_writes_made_moments_after_its_last_scan() {
        let dir = tempfile::tempdir().unwrap();
        let writer = Store::at(dir.path().to_path_buf());
        let reader = Store {
            use_index: false,
            ..Store::at(dir.path().to_path_buf())
        };
        assert_eq!(reader.latest_for("notebooks/n.py", "a"), None);
        for (key, at) in [
            ("k1", "2026-01-01T00:00:00.000000Z"),
            ("k2", "2026-01-02T00:00:00.000000Z"),
            ("k3", "2026-01-03T00:00:00.000000Z"),
        ] {
            writer
                .put_manifest(&manifest(&writer, key, "a", at))
                .unwrap();
            assert_eq!(
                reader.latest_for("notebooks/n.py", "a").as_deref(),
                Some(key)
            );
        }
        // It never opens (or creates) the index, so it never takes sled's lock.
        let alone_dir = tempfile::tempdir().unwrap();
        let alone = Store {
            use_index: false,
            ..Store::at(alone_dir.path().to_path_buf())
        };
        alone
            .put_manifest(&manifest(&alone, "k4", "b", "2026-01-04T00:00:00.000000Z"))
            .unwrap();
        assert_eq!(
            alone.latest_for("notebooks/n.py", "b").as_deref(),
            Some("k4")
        );
        assert!(!alone_dir.path().join("index").exists());
    }

    #[test]
    fn a_second_store_without_the_index_still_reads_and_writes_and_the_holder_syncs() {
        let dir = tempfile::tempdir().unwrap();
        let holder = Store::at(dir.path().to_path_buf());
        holder
            .put_manifest(&manifest(&holder, "k1", "a", "2026-01-01T00:00:00.000000Z"))
            .unwrap();
        assert_eq!(
            holder.latest_for("notebooks/n.py", "a").as_deref(),
            Some("k1")
        );

        // sled's lock is per open file, so a second store in this process cannot take it.
        let other = Store::at(dir.path().to_path_buf());
        assert!(Index::open(&dir.path().join("index")).is_err());
        assert_eq!(
            other.latest_for("notebooks/n.py", "a").as_deref(),
            Some("k1")
        );
        other
            .put_manifest(&manifest(&other, "k2", "a", "2026-02-01T00:00:00.000000Z"))
            .unwrap();
        assert_eq!(
            other.latest_for("notebooks/n.py", "a").as_deref(),
            Some("k2")
        );
        assert!(other.is_hit("k2").is_some());

        // The holder learns of the other store's manifest from the folder.
        assert_eq!(
            holder.latest_for("notebooks/n.py", "a").as_deref(),
            Some("k2")
        );
        assert_eq!(holder.rebuild_index().ok(), Some(2));
        assert!(matches!(other.rebuild_index(), Err(IndexError::Locked)));
    }
}

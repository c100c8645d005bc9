//! Artifact detection: `artifacts/` is snapshotted (path → size, mtime) before and after
//! each executed cell; every new or changed file is recorded with its blake3 and size,
//! whoever wrote it (as jellycell does). Only regular files count (a symlink counts as
//! the regular file it leads to): a FIFO, a socket or a device a cell leaves there (or a
//! link to `/dev/zero`) is never opened, so it can neither hang the run nor fill memory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::cache::manifest::ArtifactRecord;

/// Size and modification time of every file under a folder.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Snapshot {
    files: HashMap<PathBuf, (u64, Option<SystemTime>)>,
}

/// Snapshots every file under `dir` (an absent folder is empty).
pub fn snapshot(dir: &Path) -> Snapshot {
    let mut snapshot = Snapshot::default();
    walk(dir, &mut snapshot.files);
    snapshot
}

fn walk(dir: &Path, files: &mut HashMap<PathBuf, (u64, Option<SystemTime>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(&entry.path(), files);
        } else if let Ok(meta) = std::fs::metadata(entry.path())
            && meta.is_file()
        {
            files.insert(entry.path(), (meta.len(), meta.modified().ok()));
        }
    }
}

/// The files new or changed between `before` and `after`, as records with paths relative
/// to `root`, sorted by path.
pub fn changed(root: &Path, before: &Snapshot, after: &Snapshot) -> Vec<ArtifactRecord> {
    let mut records: Vec<ArtifactRecord> = after
        .files
        .iter()
        .filter(|(path, state)| before.files.get(*path) != Some(state))
        .filter_map(|(path, _)| {
            let (blake3, size) = hash_regular_file(path)?;
            let relative = path.strip_prefix(root).unwrap_or(path);
            Some(ArtifactRecord {
                path: relative
                    .components()
                    .map(|part| part.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
                blake3,
                size,
            })
        })
        .collect();
    records.sort_by(|a, b| a.path.cmp(&b.path));
    records
}

/// blake3 and size of the regular file at `path`, read in chunks (a large artifact is
/// never held in memory); `None` when it is no longer a regular file.
fn hash_regular_file(path: &Path) -> Option<(String, u64)> {
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    let mut hasher = blake3::Hasher::new();
    let size = std::io::copy(&mut std::io::BufReader::new(file), &mut hasher).ok()?;
    Some((hasher.finalize().to_hex().to_string(), size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_and_changed_files_are_recorded() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("artifacts");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("same.txt"), "a").unwrap();
        std::fs::write(dir.join("grow.txt"), "a").unwrap();
        let before = snapshot(&dir);
        std::fs::write(dir.join("grow.txt"), "ab").unwrap();
        std::fs::write(dir.join("sub/new.json"), "{}").unwrap();
        let records = changed(root.path(), &before, &snapshot(&dir));
        let paths: Vec<&str> = records.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["artifacts/grow.txt", "artifacts/sub/new.json"]);
        assert_eq!(records[1].size, 2);
        assert_eq!(records[1].blake3, blake3::hash(b"{}").to_hex().to_string());
    }

    #[test]
    fn fifos_and_links_to_devices_are_never_opened() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        let before = snapshot(&dir);
        let made = std::process::Command::new("mkfifo")
            .arg(dir.join("pipe"))
            .status()
            .unwrap();
        assert!(made.success());
        std::os::unix::fs::symlink("/dev/zero", dir.join("zeros")).unwrap();
        std::fs::write(root.path().join("outside.txt"), "x").unwrap();
        std::os::unix::fs::symlink(root.path().join("outside.txt"), dir.join("link.txt")).unwrap();
        let records = changed(root.path(), &before, &snapshot(&dir));
        let paths: Vec<&str> = records.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["artifacts/link.txt"]);
    }
}

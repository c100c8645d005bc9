//! The state of the files a remembered answer about an environment was read from (its
//! witnesses), taken when the answer was asked. A file's state is its identity
//! (modification and change time, inode, size; of the link and of what it points to); a
//! folder's is the names it holds (hidden ones left out: no module name starts with a
//! dot, and `.jellycell/` or an editor's swap file come and go), as the interpreter listed
//! them before answering, so an entry that appears or vanishes at any moment after is
//! seen, whatever the clock; a path may also be witnessed absent. The answer still holds
//! while every witness is as it was, and no witnessed file had changed within
//! [`RACY_NANOS`] before the question (a file rewritten in place in the same tick of the
//! file system's clock could keep its times).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// How close to the question a witness's change makes the answer unsettled (asked again
/// next time): 2 s, the coarsest clock of a common file system (FAT), as the check cache.
const RACY_NANOS: u64 = 2_000_000_000;

/// One state of one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileState {
    /// `[mtime, ctime, inode, size]` of the path itself (not followed) and of what it
    /// resolves to, when it is a link.
    File {
        link: [u64; 4],
        target: Option<[u64; 4]>,
    },
    /// A digest of the names a folder holds.
    Folder { names: String },
}

impl FileState {
    /// The state of `path` now; `None` when it does not exist.
    pub fn of(path: &Path) -> Option<FileState> {
        let metadata = std::fs::metadata(path).ok()?;
        if metadata.is_dir() {
            let names = std::fs::read_dir(path)
                .ok()?
                .flatten()
                .filter_map(|entry| entry.file_name().into_string().ok());
            return Some(FileState::Folder {
                names: names_digest(names),
            });
        }
        let link = std::fs::symlink_metadata(path).ok()?;
        let target = link.file_type().is_symlink().then(|| identity(&metadata));
        Some(FileState::File {
            link: identity(&link),
            target,
        })
    }

    /// A folder holding `names` (as listed; hidden ones are left out here).
    pub fn folder(names: impl IntoIterator<Item = String>) -> FileState {
        FileState::Folder {
            names: names_digest(names),
        }
    }

    /// The latest modification or change time of a file, in ns since the epoch.
    fn latest_change(&self) -> u64 {
        match self {
            FileState::File { link, target } => {
                let [mtime, ctime, ..] = *link;
                let own = mtime.max(ctime);
                target.map_or(own, |[mtime, ctime, ..]| own.max(mtime).max(ctime))
            }
            FileState::Folder { .. } => 0,
        }
    }
}

fn names_digest(names: impl IntoIterator<Item = String>) -> String {
    let mut names: Vec<String> = names
        .into_iter()
        .filter(|name| !name.starts_with('.'))
        .collect();
    names.sort();
    let mut hasher = blake3::Hasher::new();
    for name in &names {
        hasher.update(&(name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
    }
    hasher.finalize().to_hex()[..32].to_string()
}

#[cfg(unix)]
fn identity(metadata: &std::fs::Metadata) -> [u64; 4] {
    use std::os::unix::fs::MetadataExt;
    let nanos = |seconds: i64, nanos: i64| {
        (seconds.max(0) as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(nanos.max(0) as u64)
    };
    [
        nanos(metadata.mtime(), metadata.mtime_nsec()),
        nanos(metadata.ctime(), metadata.ctime_nsec()),
        metadata.ino(),
        metadata.len(),
    ]
}

#[cfg(not(unix))]
fn identity(metadata: &std::fs::Metadata) -> [u64; 4] {
    let modified = nanos_since_epoch(metadata.modified().ok());
    [modified, modified, 0, metadata.len()]
}

fn nanos_since_epoch(time: Option<SystemTime>) -> u64 {
    time.and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_nanos() as u64)
}

/// The witnesses of one answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witnesses {
    /// When the question was asked (ns since the epoch), before anything was read.
    asked_at: u64,
    files: Vec<(PathBuf, Option<FileState>)>,
}

/// The moment a question is asked, to pass to [`Witnesses::take`] once it is answered.
#[derive(Debug, Clone, Copy)]
pub struct Asked(u64);

impl Asked {
    pub fn now() -> Asked {
        Asked(nanos_since_epoch(Some(SystemTime::now())))
    }
}

impl Witnesses {
    /// The state now of `paths` (duplicates once), for an answer asked at `asked`; a
    /// folder of `listed` has the names given there (what the interpreter saw).
    pub fn take(
        asked: Asked,
        paths: impl IntoIterator<Item = PathBuf>,
        listed: &BTreeMap<PathBuf, Vec<String>>,
    ) -> Witnesses {
        let mut files: Vec<(PathBuf, Option<FileState>)> = Vec::new();
        for path in paths {
            if !files.iter().any(|(known, _)| *known == path) {
                let state = match listed.get(&path) {
                    Some(names) => Some(FileState::folder(names.iter().cloned())),
                    None => FileState::of(&path),
                };
                files.push((path, state));
            }
        }
        Witnesses {
            asked_at: asked.0,
            files,
        }
    }

    /// When the question was asked (ns since the epoch).
    pub fn asked_at(&self) -> u64 {
        self.asked_at
    }

    /// Whether the answer they witness still holds: every file as it was, none changed
    /// within [`RACY_NANOS`] before the question.
    pub fn hold(&self) -> bool {
        let settled_before = self.asked_at.saturating_sub(RACY_NANOS);
        self.files.iter().all(|(path, state)| {
            let settled = state
                .as_ref()
                .is_none_or(|state| state.latest_change() < settled_before);
            settled && FileState::of(path) == *state
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long_ago(path: &Path) {
        let old = UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        std::fs::File::open(path)
            .and_then(|file| file.set_modified(old))
            .unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_change_an_appearance_or_a_removal_breaks_them() {
        let folder = tempfile::tempdir().unwrap();
        let file = folder.path().join("python");
        let absent = folder.path().join("site-packages");
        std::fs::write(&file, "a").unwrap();
        let none = BTreeMap::new();
        // Asked at the file's own change time, not the process clock's now: the file
        // system's times and a (faked or skewed) clock need not agree.
        let changed = {
            use std::os::unix::fs::MetadataExt;
            let meta = std::fs::metadata(&file).unwrap();
            u64::try_from(meta.ctime()).unwrap() * 1_000_000_000
                + u64::try_from(meta.ctime_nsec()).unwrap()
        };
        let taken = Witnesses::take(Asked(changed), [file.clone(), absent.clone()], &none);
        assert_eq!(taken.files.len(), 2);
        assert!(!taken.hold(), "changed just before the question: unsettled");

        // ctime cannot be set back: pretend the question was asked later.
        let later = |witnesses: Witnesses| Witnesses {
            asked_at: witnesses.asked_at + 3 * RACY_NANOS,
            files: witnesses.files,
        };
        long_ago(&file);
        let paths = [file.clone(), absent.clone()];
        let settled = later(Witnesses::take(Asked::now(), paths, &none));
        assert!(settled.hold());
        std::fs::create_dir(&absent).unwrap();
        assert!(!settled.hold(), "a folder that appeared");
        std::fs::remove_dir(&absent).unwrap();
        assert!(settled.hold());
        std::fs::write(&file, "bb").unwrap();
        assert!(!settled.hold(), "a rewritten file");
        let settled = later(Witnesses::take(Asked::now(), [file.clone()], &none));
        std::fs::remove_file(&file).unwrap();
        assert!(!settled.hold(), "a removed file");
    }

    #[test]
    fn a_folder_is_the_names_it_holds_as_listed_before_the_answer() {
        let folder = tempfile::tempdir().unwrap();
        let site = folder.path().join("site-packages");
        std::fs::create_dir(&site).unwrap();
        std::fs::write(site.join("six.py"), "").unwrap();
        let listed = BTreeMap::from([(site.clone(), vec!["six.py".to_string()])]);
        let taken = Witnesses::take(Asked::now(), [site.clone()], &listed);
        assert!(taken.hold(), "a folder's names need no settling");
        std::fs::create_dir(site.join(".cache")).unwrap();
        assert!(taken.hold(), "hidden entries are left out");
        std::fs::write(site.join("six.py"), "changed").unwrap();
        assert!(
            taken.hold(),
            "a module's content does not change what imports"
        );
        std::fs::write(site.join("toolz.py"), "").unwrap();
        assert!(!taken.hold(), "a module that appeared");
        // Listed before an entry the answer may have seen: asked again.
        let stale = BTreeMap::from([(site.clone(), vec!["six.py".to_string()])]);
        assert!(!Witnesses::take(Asked::now(), [site], &stale).hold());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_pointed_elsewhere_breaks_them() {
        let folder = tempfile::tempdir().unwrap();
        let (one, two, link) = (
            folder.path().join("python3.11"),
            folder.path().join("python3.12"),
            folder.path().join("python"),
        );
        std::fs::write(&one, "1").unwrap();
        std::fs::write(&two, "2").unwrap();
        std::os::unix::fs::symlink(&one, &link).unwrap();
        let before = FileState::of(&link);
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(&two, &link).unwrap();
        assert_ne!(FileState::of(&link), before);
    }
}

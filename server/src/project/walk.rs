//! Walking a folder of notebooks: every regular file under it, in name order per folder,
//! hidden names and `__pycache__` skipped. Symlinks are followed only while they resolve
//! inside the project root (or the folder asked for), and each folder is entered once,
//! by device and inode, so `ln -s . notebooks/a` neither repeats a notebook nor makes the
//! walk exponential. A file reached twice (itself and a symlink to it) is listed once,
//! by its own name when the walk saw it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The regular files under `folder` (see the module header), as paths through `folder`.
pub fn files_under(folder: &Path, root: &Path) -> Vec<PathBuf> {
    let bases: Vec<PathBuf> = [root, folder]
        .iter()
        .filter_map(|base| base.canonicalize().ok())
        .collect();
    let mut walk = Walk {
        bases,
        entered: HashSet::new(),
        found: Vec::new(),
    };
    walk.enter(folder);
    // One path per file, its own name preferred over a link's.
    let mut chosen: std::collections::HashMap<FolderId, usize> = std::collections::HashMap::new();
    for (index, (_, id, is_link)) in walk.found.iter().enumerate() {
        match chosen.get(id) {
            Some(&kept) if !walk.found[kept].2 || *is_link => {}
            _ => {
                chosen.insert(id.clone(), index);
            }
        }
    }
    let mut kept: Vec<usize> = chosen.into_values().collect();
    kept.sort_unstable();
    kept.into_iter()
        .map(|index| walk.found[index].0.clone())
        .collect()
}

struct Walk {
    /// Where a symlink may lead.
    bases: Vec<PathBuf>,
    /// The folders entered, by identity.
    entered: HashSet<FolderId>,
    /// Every file seen: its path, identity, and whether it was reached through a link.
    found: Vec<(PathBuf, FolderId, bool)>,
}

impl Walk {
    fn enter(&mut self, folder: &Path) {
        let Ok(metadata) = std::fs::metadata(folder) else {
            return;
        };
        if !self.entered.insert(FolderId::of(folder, &metadata)) {
            return;
        }
        let Ok(entries) = std::fs::read_dir(folder) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "__pycache__" {
                continue;
            }
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let is_link = kind.is_symlink();
            if is_link && !self.leads_inside(&path) {
                continue;
            }
            // A symlink's target decides what it is.
            let Ok(target) = (if is_link {
                std::fs::metadata(&path)
            } else {
                entry.metadata()
            }) else {
                continue;
            };
            if target.is_dir() {
                self.enter(&path);
            } else if target.is_file() {
                let id = FolderId::of(&path, &target);
                self.found.push((path, id, is_link));
            }
        }
    }

    fn leads_inside(&self, link: &Path) -> bool {
        link.canonicalize()
            .is_ok_and(|target| self.bases.iter().any(|base| target.starts_with(base)))
    }
}

/// A folder's (or file's) identity: device and inode on Unix, the canonical path elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum FolderId {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg_attr(unix, allow(dead_code))]
    Path(PathBuf),
}

impl FolderId {
    fn of(folder: &Path, metadata: &std::fs::Metadata) -> FolderId {
        #[cfg(unix)]
        {
            let _ = folder;
            use std::os::unix::fs::MetadataExt;
            FolderId::Inode(metadata.dev(), metadata.ino())
        }
        #[cfg(not(unix))]
        {
            let _ = metadata;
            FolderId::Path(
                folder
                    .canonicalize()
                    .unwrap_or_else(|_| folder.to_path_buf()),
            )
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn loops_are_entered_once_and_links_out_of_the_project_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("far.py"), "").unwrap();
        let notebooks = dir.path().join("notebooks");
        std::fs::create_dir_all(notebooks.join("sub")).unwrap();
        std::fs::write(notebooks.join("a.py"), "").unwrap();
        std::fs::write(notebooks.join("sub/b.py"), "").unwrap();
        symlink(".", notebooks.join("loop1")).unwrap();
        symlink("..", notebooks.join("sub/loop2")).unwrap();
        symlink(outside.path(), notebooks.join("out")).unwrap();
        symlink("/dev/zero", notebooks.join("z.py")).unwrap();
        symlink("sub/b.py", notebooks.join("c.py")).unwrap();
        let found: Vec<String> = files_under(&notebooks, dir.path())
            .iter()
            .map(|path| path.strip_prefix(&notebooks).unwrap().display().to_string())
            .collect();
        assert_eq!(found, vec!["a.py", "sub/b.py"]);
    }
}

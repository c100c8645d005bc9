//! The last commit as the record of the last sync, for a pairing `sync` has no record of
//! (a fresh clone, a CI runner, a pre-commit hook on another machine), where jupytext would
//! fall back to modification times, which a checkout sets at random. When every file of the
//! pairing is in `HEAD` and `HEAD`'s versions hold the same cells, the pair was in sync at
//! that commit, so a side whose cells differ from `HEAD`'s is one that changed since. Each
//! file is read with `git show HEAD:./<name>` from its own folder; no git, no repository,
//! no commit yet or a file not in it means no record.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::format::{self, NotebookFormat};

use super::record::cells_hash;

/// The cells hash of each of `files` (path, format) at `HEAD`, when every one is there and
/// they all hold the same cells; `None` otherwise.
pub(crate) fn in_sync_at_head(files: &[(&Path, NotebookFormat)]) -> Option<Vec<String>> {
    let mut hashes = Vec::with_capacity(files.len());
    for (path, format) in files {
        let text = at_head(path)?;
        let notebook = format::read(&text, *format);
        if *format == NotebookFormat::Ipynb && !notebook.problems.is_empty() {
            return None;
        }
        hashes.push(cells_hash(&notebook));
    }
    let agree = hashes.windows(2).all(|pair| pair[0] == pair[1]);
    (agree && !hashes.is_empty()).then_some(hashes)
}

/// The text of `path` in `HEAD`'s tree, as git stores it.
fn at_head(path: &Path) -> Option<String> {
    let absolute = std::path::absolute(path).ok()?;
    let folder = absolute.parent()?;
    let name = absolute.file_name()?.to_str()?;
    let output = Command::new("git")
        .arg("-C")
        .arg(folder)
        .args(["show", &format!("HEAD:./{name}")])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout).ok()
}

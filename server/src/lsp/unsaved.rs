//! Where a buffer runs when it is not a notebook on disk: an untitled buffer (a URI that is
//! not `file:`), or a file that does not exist (deleted, or never saved) outside any
//! project, or one directly in the filesystem root. Such a buffer runs in a scratch folder
//! of its own under the temp dir — the kernel's working directory and the root of its
//! cache — never at `/`, and the folder is removed when the server exits. A file inside a
//! project runs in the project even when it is not on disk; a file on disk outside any
//! project runs in its own folder.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use tower_lsp_server::ls_types::Uri;

use super::Core;
use super::state::Snapshot;
use crate::analysis::workspace::{
    NotebookFile, Workspace, looks_like_notebook, notebook_format_of,
};
use crate::format::NotebookFormat;
use crate::kernel::CleanupAtExit;
use crate::project::{Project, find_config};

/// A scratch folder for one buffer.
pub(crate) struct Scratch {
    pub root: PathBuf,
    /// The notebook's path inside it (its name as the buffer's, `.py` when it has none).
    pub path: PathBuf,
}

/// The scratch folder `uri` runs in, or `None` when it runs where it is (`path`: the
/// buffer's file, for `file:` URIs).
pub(crate) fn scratch_for(uri: &Uri, path: Option<&Path>) -> Option<Scratch> {
    if let Some(path) = path {
        let folder = path.parent()?;
        if find_config(folder).is_some() {
            return None;
        }
        let at_root = folder.parent().is_none();
        if path.is_file() && !at_root {
            return None;
        }
    }
    let root = std::env::temp_dir().join(format!(
        "jellycell-unsaved-{}",
        &blake3::hash(uri.as_str().as_bytes()).to_hex()[..16]
    ));
    let path = root.join(file_name(uri));
    Some(Scratch { root, path })
}

/// The last segment of the URI's path, made safe as a file name, with `.py` unless it
/// already names a notebook format.
fn file_name(uri: &Uri) -> String {
    let last = uri.path().as_str().rsplit('/').next().unwrap_or_default();
    let mut name: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name_path = Path::new(&name);
    if !matches!(
        notebook_format_of(name_path),
        Some(NotebookFormat::Percent | NotebookFormat::Myst)
    ) {
        if name.trim_matches(['.', '_']).is_empty() {
            name = "untitled".to_string();
        }
        name.push_str(".py");
    }
    name
}

/// Scratch roots created by this server (each removed at exit).
static PREPARED: LazyLock<Mutex<HashSet<PathBuf>>> = LazyLock::new(Default::default);

/// Creates the scratch folder (0700) once; true the first time, so the caller says so.
pub(crate) fn prepare(scratch: &Scratch) -> std::io::Result<bool> {
    let mut prepared = PREPARED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if prepared.contains(&scratch.root) && scratch.root.is_dir() {
        return Ok(false);
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.recursive(true).create(&scratch.root)?;
    if prepared.insert(scratch.root.clone()) {
        // Lives as long as the process: the folder goes at exit.
        std::mem::forget(CleanupAtExit::directory(scratch.root.clone()));
    }
    Ok(true)
}

/// A workspace of just this buffer's `text`, rooted at the scratch folder.
pub(crate) fn workspace(scratch: &Scratch, text: String) -> Workspace {
    let project = Project::without_config(&scratch.root);
    let format = notebook_format_of(&scratch.path).unwrap_or(NotebookFormat::Percent);
    let file = NotebookFile::new(&project, scratch.path.clone(), text, format);
    Workspace::from_files(project, vec![file])
}

/// For a buffer that runs in a scratch folder: a workspace of its snapshot's text rooted
/// there (its one file at index 0), whose keys and store are the ones its runs use, for
/// the lenses, hints and hover to read; `None` when it runs where it is.
pub(crate) fn scratch_workspace(core: &Core, snapshot: &Snapshot) -> Option<Arc<Workspace>> {
    if snapshot
        .workspace
        .as_ref()
        .is_some_and(|own| own.project.config_path.is_some())
    {
        // In a project: runs there (the cheap answer, asked on every lens request).
        return None;
    }
    let path = core
        .state
        .document(&snapshot.uri)
        .and_then(|open| open.path);
    let scratch = scratch_for(&snapshot.uri, path.as_deref())?;
    let text = snapshot.document.text();
    // An untitled buffer has no analysis of its own: the same test as for files.
    if snapshot.workspace.is_none() && !looks_like_notebook(&scratch.path, &text) {
        return None;
    }
    Some(Arc::new(workspace(&scratch, text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> Uri {
        text.parse().expect("uri")
    }

    #[test]
    fn untitled_buffers_and_files_at_the_root_run_in_a_scratch_folder() {
        let untitled = scratch_for(&uri("untitled:Untitled-1"), None).expect("scratch");
        assert!(untitled.root.starts_with(std::env::temp_dir()));
        assert_eq!(
            untitled.path.file_name().and_then(|n| n.to_str()),
            Some("Untitled-1.py")
        );
        let gone = Path::new("/jellycell-test-surely-absent/nb.md");
        let scratch = scratch_for(
            &uri("file:///jellycell-test-surely-absent/nb.md"),
            Some(gone),
        )
        .expect("scratch");
        assert_eq!(
            scratch.path.file_name().and_then(|n| n.to_str()),
            Some("nb.md")
        );
        assert!(scratch_for(&uri("file:///x.py"), Some(Path::new("/x.py"))).is_some());
    }

    #[test]
    fn a_file_on_disk_or_in_a_project_runs_where_it_is() {
        let dir = tempfile::tempdir().expect("tempdir");
        let on_disk = dir.path().join("nb.py");
        std::fs::write(&on_disk, "# %%\n").expect("write");
        assert!(scratch_for(&uri("file:///nb.py"), Some(&on_disk)).is_none());
        std::fs::write(dir.path().join("jellycell.toml"), "[project]\n").expect("write");
        let deleted = dir.path().join("gone/nb.py");
        assert!(scratch_for(&uri("file:///gone/nb.py"), Some(&deleted)).is_none());
    }
}

//! A remote kernel does not see the project's disk: before a cell, the `jc.load` inputs it
//! reads that exist locally are uploaded to the server (once per content and kernel);
//! after it, the server's artifacts that are new or changed since before the cell are
//! fetched into the local artifacts folder, where artifact detection records them as it
//! does for a local kernel. The server's root stands for the project root
//! (docs/kernel.md, "Remote kernels").

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::cache::key::KeyInputs;
use crate::kernel::{FileStamp, RemoteFiles};
use crate::project::Project;
use crate::run::report::CellError;

/// The server's artifacts before a cell.
pub(super) type Listing = BTreeMap<String, FileStamp>;

/// The artifacts folder relative to the project root, with `/`.
pub(super) fn artifacts_folder(project: &Project) -> String {
    let dir = project.artifacts_dir();
    relative(&project.root, &dir)
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|part| part.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Uploads each `jc.load` input of `inputs` that exists locally and was not uploaded with
/// this content yet (`uploaded`: path → blake3).
pub(super) async fn upload_loads(
    files: &RemoteFiles,
    project: &Project,
    inputs: &KeyInputs,
    uploaded: &mut HashMap<String, String>,
) -> Result<(), CellError> {
    for load in &inputs.loads {
        let local = project.root.join(&load.path);
        let Ok(bytes) = std::fs::read(&local) else {
            // Not on our disk: a producer writes it on the server, or it is missing there too.
            continue;
        };
        let hash = blake3::hash(&bytes).to_hex().to_string();
        if uploaded.get(&load.path) == Some(&hash) {
            continue;
        }
        files
            .upload(&load.path, &bytes)
            .await
            .map_err(|problem| remote_error(format!("{}: {problem}", load.path)))?;
        uploaded.insert(load.path.clone(), hash);
    }
    Ok(())
}

/// Lists the server's artifacts folder.
pub(super) async fn list(files: &RemoteFiles, folder: &str) -> Result<Listing, CellError> {
    files.list(folder).await.map_err(remote_error)
}

/// Fetches every server artifact new or changed since `before` into the project; returns
/// their paths. The local copy of a fetched file is what `jc.load` later uploads again only
/// if it changes, so `uploaded` learns it.
pub(super) async fn fetch_changed(
    files: &RemoteFiles,
    project: &Project,
    folder: &str,
    before: &Listing,
    uploaded: &mut HashMap<String, String>,
) -> Result<Vec<String>, CellError> {
    let after = list(files, folder).await?;
    let mut fetched = Vec::new();
    for (path, stamp) in &after {
        if before.get(path) == Some(stamp) {
            continue;
        }
        let bytes = files.download(path).await.map_err(remote_error)?;
        let local = project.root.join(path);
        let written = local
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&local, &bytes));
        if let Err(problem) = written {
            return Err(remote_error(format!(
                "{}: the artifact fetched from the server could not be written: {problem}",
                local.display()
            )));
        }
        uploaded.insert(path.clone(), blake3::hash(&bytes).to_hex().to_string());
        fetched.push(path.clone());
    }
    Ok(fetched)
}

fn remote_error(evalue: String) -> CellError {
    CellError {
        ename: "RemoteFileError".into(),
        evalue,
        traceback: Vec::new(),
    }
}

//! What each file of a pairing held the last time `sync` left the pair in sync: one hash
//! of the cells (type and source, in order) per file, kept in
//! `<cache>/jellycell-lsp/sync/<hash of the paths>.json`. With it, `sync` knows which
//! sides changed since, so it can refuse when both did; outputs and metadata are not in
//! the hash, so running the `.ipynb` in Jupyter is not a change. Without it (a fresh
//! clone, a cleared cache) the last commit stands in (`committed`), else `sync` decides by
//! modification time, as `jupytext --sync` does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::format::Notebook;
use crate::project::Project;

/// The hash of a notebook's cells.
pub(crate) fn cells_hash(notebook: &Notebook) -> String {
    let mut hasher = blake3::Hasher::new();
    for cell in &notebook.cells {
        hasher.update(cell.cell_type.as_str().as_bytes());
        hasher.update(&[0]);
        hasher.update(&(cell.source.len() as u64).to_le_bytes());
        hasher.update(cell.source.as_bytes());
    }
    hasher.finalize().to_hex().to_string()
}

/// The record of one pairing: file path (as shown) → cells hash.
pub(crate) struct SyncRecord {
    file: PathBuf,
}

impl SyncRecord {
    /// The record of the pairing of `paths` in `project`.
    pub fn of(project: &Project, paths: &[&Path]) -> SyncRecord {
        let mut hasher = blake3::Hasher::new();
        for path in paths {
            hasher.update(key_of(project, path).as_bytes());
            hasher.update(&[0]);
        }
        let name = format!("{}.json", &hasher.finalize().to_hex()[..32]);
        SyncRecord {
            file: project.lsp_cache_dir().join("sync").join(name),
        }
    }

    /// The hashes recorded, by path key; `None` when there is no (readable) record.
    pub fn load(&self) -> Option<BTreeMap<String, String>> {
        let text = std::fs::read_to_string(&self.file).ok()?;
        let value: Value = serde_json::from_str(&text).ok()?;
        let files = value.get("files")?.as_object()?;
        Some(
            files
                .iter()
                .filter_map(|(key, hash)| Some((key.clone(), hash.as_str()?.to_string())))
                .collect(),
        )
    }

    /// Records `hashes` (path → cells hash). A record that cannot be written only costs
    /// the next sync its conflict check, so failures are ignored.
    pub fn save(&self, project: &Project, hashes: &[(&Path, String)]) {
        let files: serde_json::Map<String, Value> = hashes
            .iter()
            .map(|(path, hash)| (key_of(project, path), Value::String(hash.clone())))
            .collect();
        let record = json!({"schema_version": 1, "files": files});
        if let Some(folder) = self.file.parent() {
            let _ = std::fs::create_dir_all(folder);
        }
        let _ = crate::cli::files::write_atomically(&self.file, &format!("{record}\n"));
    }

    /// The recorded hash of `path` in `recorded`.
    pub fn hash_of<'a>(
        project: &Project,
        recorded: &'a BTreeMap<String, String>,
        path: &Path,
    ) -> Option<&'a String> {
        recorded.get(&key_of(project, path))
    }
}

/// `path` relative to the project root with `/` separators (absolute when outside it).
fn key_of(project: &Project, path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let relative = project
        .relative_path(&absolute)
        .unwrap_or_else(|| absolute.clone());
    relative
        .components()
        .map(|component| component.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

//! The `.ipynb` side of a pairing as `paired-out-of-sync` compares it (each cell's type and
//! source), read once per version of the file: the editor lints a notebook on every
//! keystroke, and an `.ipynb` with its outputs can be megabytes of JSON. A file is read
//! again when its stamp (modification time, length, inode) changed, so a `sync` or a save
//! from Jupyter is seen by the next lint.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use crate::format::{self, CellType, NotebookFormat};
use crate::project::file_stamp::FileStamp;

/// How many `.ipynb` files are kept before the cache starts over (only their sources are).
const LIMIT: usize = 256;

/// A paired `.ipynb` as read: its cells, or why it cannot be read.
pub type PairedCells = Result<Arc<Vec<(CellType, String)>>, String>;

static READ: LazyLock<Mutex<HashMap<PathBuf, (FileStamp, PairedCells)>>> =
    LazyLock::new(Mutex::default);

/// The cells of the `.ipynb` at `path`; `None` when there is no file there (or it cannot
/// be read), `Some(Err(problem))` when it is not a notebook jupytext would read.
pub fn cells(path: &Path) -> Option<PairedCells> {
    let meta = std::fs::metadata(path).ok().filter(|meta| meta.is_file())?;
    let stamp = FileStamp::of(&meta);
    let mut read = READ.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((known, cells)) = read.get(path)
        && *known == stamp
    {
        return Some(cells.clone());
    }
    let text = std::fs::read_to_string(path).ok()?;
    let notebook = format::read(&text, NotebookFormat::Ipynb);
    let cells = match notebook.problems.first() {
        Some(problem) => Err(problem.message.clone()),
        None => Ok(Arc::new(
            notebook
                .cells
                .iter()
                .map(|cell| (cell.cell_type, cell.source.clone()))
                .collect(),
        )),
    };
    if read.len() >= LIMIT {
        read.clear();
    }
    read.insert(path.to_path_buf(), (stamp, cells.clone()));
    Some(cells)
}

//! The `.ipynb` side of a pairing as `paired-out-of-sync` compares it (each cell's type and
//! source), read once per version of the file: the editor lints a notebook on every
//! keystroke, and an `.ipynb` with its outputs can be megabytes of JSON. A file is read
//! again when its stamp (modification time, length, inode) changed, so a `sync` or a save
//! from Jupyter is seen by the next lint.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use crate::format::{self, CellType, NotebookFormat};
use crate::project::file_stamp::{FileStamp, StampedCache};

/// How many `.ipynb` files are kept before the cache starts over (only their sources are).
const LIMIT: usize = 256;

/// A paired `.ipynb` as read: its cells, or why it cannot be read.
pub type PairedCells = Result<Arc<Vec<(CellType, String)>>, String>;

static READ: LazyLock<StampedCache<PathBuf, PairedCells>> =
    LazyLock::new(|| StampedCache::new(LIMIT));

/// The cells of the `.ipynb` at `path`; `None` when there is no file there (or it cannot
/// be read), `Some(Err(problem))` when it is not a notebook jupytext would read.
pub fn cells(path: &Path) -> Option<PairedCells> {
    let meta = std::fs::metadata(path).ok().filter(|meta| meta.is_file())?;
    let stamp = FileStamp::of(&meta);
    if let Some(cells) = READ.get(path, stamp) {
        return Some(cells);
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
    READ.insert(path.to_path_buf(), stamp, cells.clone());
    Some(cells)
}

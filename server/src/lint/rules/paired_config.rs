//! The jupytext config files `paired-out-of-sync` looks up (`jupytext.toml`,
//! `pyproject.toml`), parsed once per version of each file: the editor lints a notebook
//! on every keystroke, and a `stat` is much cheaper than reading and parsing a
//! `pyproject.toml`. A file is read again when its stamp (modification time, length,
//! inode) changed, so a config edited on disk is seen by the next lint, whoever wrote it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use toml_edit::DocumentMut;

use crate::project::file_stamp::{FileStamp, StampedCache};

/// How many parsed files are kept before the cache starts over.
const LIMIT: usize = 4096;

/// Parsed config files by path (`None`: the file does not parse).
static PARSED: LazyLock<StampedCache<PathBuf, Arc<Option<DocumentMut>>>> =
    LazyLock::new(|| StampedCache::new(LIMIT));

/// What `f` gives for the TOML document at `path`: `None` when there is no file there
/// (or it cannot be read), `Some(None)` when it does not parse, else `Some(f(document))`.
pub fn with_config<T>(path: &Path, f: impl FnOnce(&DocumentMut) -> T) -> Option<Option<T>> {
    let meta = std::fs::metadata(path).ok().filter(|meta| meta.is_file())?;
    let stamp = FileStamp::of(&meta);
    if let Some(document) = PARSED.get(path, stamp) {
        return Some(document.as_ref().as_ref().map(f));
    }
    let text = std::fs::read_to_string(path).ok()?;
    let document = Arc::new(text.parse::<DocumentMut>().ok());
    PARSED.insert(path.to_path_buf(), stamp, document.clone());
    Some(document.as_ref().as_ref().map(f))
}

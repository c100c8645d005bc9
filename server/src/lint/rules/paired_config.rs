//! The jupytext config files `paired-out-of-sync` looks up (`jupytext.toml`,
//! `pyproject.toml`), parsed once per version of each file: the editor lints a notebook
//! on every keystroke, and a `stat` is much cheaper than reading and parsing a
//! `pyproject.toml`. A file is read again when its stamp (modification time, length,
//! inode) changed, so a config edited on disk is seen by the next lint, whoever wrote it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use toml_edit::DocumentMut;

use crate::project::file_stamp::FileStamp;

/// How many parsed files are kept before the cache starts over.
const LIMIT: usize = 4096;

/// A config file as last read: its stamp then, and its document (`None`: it does not
/// parse).
type Parsed = (FileStamp, Option<DocumentMut>);

/// Parsed config files by path.
static PARSED: LazyLock<Mutex<HashMap<PathBuf, Parsed>>> = LazyLock::new(Mutex::default);

/// What `f` gives for the TOML document at `path`: `None` when there is no file there
/// (or it cannot be read), `Some(None)` when it does not parse, else `Some(f(document))`.
pub fn with_config<T>(path: &Path, f: impl FnOnce(&DocumentMut) -> T) -> Option<Option<T>> {
    let meta = std::fs::metadata(path).ok().filter(|meta| meta.is_file())?;
    let stamp = FileStamp::of(&meta);
    let mut parsed = PARSED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((known, document)) = parsed.get(path)
        && *known == stamp
    {
        return Some(document.as_ref().map(f));
    }
    let text = std::fs::read_to_string(path).ok()?;
    let document = text.parse::<DocumentMut>().ok();
    let answer = document.as_ref().map(f);
    if parsed.len() >= LIMIT {
        parsed.clear();
    }
    parsed.insert(path.to_path_buf(), (stamp, document));
    Some(answer)
}

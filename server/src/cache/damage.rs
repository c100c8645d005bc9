//! Damage found in the store, said once: a manifest that does not parse or does not match
//! its file name, a blob that is missing, truncated or no longer hashes to its name. Each
//! is treated as a miss (the cell runs again); this file only words the warning and makes
//! sure one damaged file gives one line on stderr per process, not one per status query.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// What was wrong with one file of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    pub path: PathBuf,
    pub problem: String,
}

impl Damage {
    pub fn new(path: &Path, problem: impl Into<String>) -> Damage {
        Damage {
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }
}

/// Writes `jellycell-lsp: warning: cache: PATH is damaged (...)` to stderr, once per
/// version of the file (a file damaged again after a repair is said again).
pub fn warn_once(damage: &Damage) {
    static SAID: Mutex<Vec<(PathBuf, Option<SystemTime>, u64)>> = Mutex::new(Vec::new());
    let meta = std::fs::metadata(&damage.path).ok();
    let version = (
        damage.path.clone(),
        meta.as_ref().and_then(|meta| meta.modified().ok()),
        meta.as_ref().map_or(0, std::fs::Metadata::len),
    );
    if let Ok(mut said) = SAID.lock() {
        if said.contains(&version) {
            return;
        }
        said.push(version);
    }
    let _ = writeln!(
        std::io::stderr(),
        "jellycell-lsp: warning: cache: {} is damaged ({}); the cell will run again \
         (`jellycell-lsp cache verify --fix` removes damaged files)",
        damage.path.display(),
        damage.problem
    );
}

/// Damaged files of a whole store, deduplicated, in path order.
pub fn sorted(damages: Vec<Damage>) -> Vec<Damage> {
    let mut seen = HashSet::new();
    let mut damages: Vec<Damage> = damages
        .into_iter()
        .filter(|damage| seen.insert(damage.path.clone()))
        .collect();
    damages.sort_by(|a, b| a.path.cmp(&b.path));
    damages
}

//! Shared support for the integration tests: real Python provisioning, fixture paths.

#![allow(dead_code)]

pub mod counted_python;
pub mod editors;
pub mod git;
pub mod hints;
pub mod jellycell;
pub mod lsp;
pub mod nvim;
pub mod outputs;
pub mod preview;
pub mod process;
pub mod project;
pub mod python;
pub mod servers;
pub mod slow_relay;

use std::path::{Path, PathBuf};

/// The repository root (where `Cargo.toml` is).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A path under `fixtures/`.
pub fn fixture(relative: &str) -> PathBuf {
    repo_root().join("fixtures").join(relative)
}

/// Copies the folder `from` (recursively) into `to`, creating it.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read fixture dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy fixture file");
        }
    }
}

//! Shared support for the integration tests: real Python provisioning, fixture paths.

#![allow(dead_code)]

pub mod editors;
pub mod lsp;
pub mod outputs;
pub mod project;
pub mod python;

use std::path::{Path, PathBuf};

/// The repository root (where `Cargo.toml` is).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A path under `fixtures/`.
pub fn fixture(relative: &str) -> PathBuf {
    repo_root().join("fixtures").join(relative)
}

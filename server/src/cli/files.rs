//! File writes shared by the commands that change files (`export`, `run --output`,
//! `--check --fix`).
//!
//! Only a regular file (or a path that does not exist yet) is replaced atomically: a
//! rename over `/dev/null` or a FIFO would put a regular file in its place, so those are
//! written into directly, and a directory is refused.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Whether `a` and `b` are the same existing file (through links and `..`).
pub(super) fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Writes `text` to the output `path` of a command: atomically over a regular file (a
/// symlink's target is replaced, the link kept) or a new path, straight into anything
/// else (a device, a FIFO), and never over a directory.
pub(super) fn write_output(path: &Path, text: &str) -> Result<(), String> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return write_atomically(path, text);
        }
        Err(error) => return Err(format!("cannot write {}: {error}", path.display())),
    };
    if metadata.is_dir() {
        return Err(format!(
            "{} is a directory; pass -o with a file path (or -o - for stdout)",
            path.display()
        ));
    }
    if metadata.is_file() {
        let target: PathBuf = match std::fs::symlink_metadata(path) {
            Ok(link) if link.file_type().is_symlink() => {
                path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
            }
            _ => path.to_path_buf(),
        };
        return write_atomically(&target, text);
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()).and_then(|()| file.flush()))
        .map_err(|error| format!("cannot write {}: {error}", path.display()))
}

/// Writes `text` to a temporary file beside `path`, then renames it into place, so a
/// reader never sees half a file and a failure leaves the old file intact.
pub(super) fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| format!("{} is not a file path", path.display()))?;
    let temporary = directory.join(format!(
        ".{}.{}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    // Keep the mode of a file being replaced (an executable notebook stays executable).
    let permissions = std::fs::metadata(path)
        .ok()
        .map(|metadata| metadata.permissions());
    let result = std::fs::write(&temporary, text)
        .and_then(|()| match permissions {
            Some(permissions) => std::fs::set_permissions(&temporary, permissions),
            None => Ok(()),
        })
        .and_then(|()| std::fs::rename(&temporary, path));
    result.map_err(|error| {
        let _ = std::fs::remove_file(&temporary);
        format!("cannot write {}: {error}", path.display())
    })
}

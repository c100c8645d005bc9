//! Reading a notebook's text without trusting the path: only regular files are opened (a
//! FIFO would block forever, `/dev/zero` never ends), at most `[lint] max_file_mb` is
//! read, and text that is not UTF-8 is an error with the offset of its first bad byte.
//! Every error says what is wrong with the file, so a command can report it as a finding
//! on that file instead of stopping.

use std::io::Read;
use std::path::Path;

/// Why a notebook's text could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The file system refused (missing, permission denied, …).
    Io(std::io::Error),
    /// A directory, FIFO, socket or device: the kind, in words.
    NotRegular(&'static str),
    /// Larger than the limit (bytes).
    TooLarge { limit: u64 },
    /// Not UTF-8: the offset of the first invalid byte, and the text read lossily (so a
    /// line and column can be given for the offset).
    NotUtf8 { offset: usize, lossy: String },
}

impl ReadError {
    /// What is wrong, without the path (a finding on the file says it).
    pub fn describe(&self) -> String {
        match self {
            ReadError::Io(error) => format!("cannot read this file: {error}"),
            ReadError::NotRegular(kind) => format!(
                "this is a {kind}, not a regular file; notebooks are read only from regular files"
            ),
            ReadError::TooLarge { limit } => format!(
                "this file is larger than [lint] max_file_mb ({} MB) and was not read; raise \
                 max_file_mb in jellycell.toml to read it",
                limit >> 20
            ),
            ReadError::NotUtf8 { offset, .. } => format!(
                "this file is not valid UTF-8 (the first invalid byte is at byte offset \
                 {offset}); save it as UTF-8"
            ),
        }
    }

    /// `path: what is wrong`, for an error message.
    pub fn message(&self, path: &Path) -> String {
        match self {
            ReadError::Io(error) => format!("cannot read {}: {error}", path.display()),
            other => format!("{}: {}", path.display(), other.describe()),
        }
    }

    /// Where in the file the problem is (0 but for invalid UTF-8).
    pub fn offset(&self) -> usize {
        match self {
            ReadError::NotUtf8 { offset, .. } => *offset,
            _ => 0,
        }
    }

    /// The text that was read, lossily (empty but for invalid UTF-8).
    pub fn lossy_text(&self) -> &str {
        match self {
            ReadError::NotUtf8 { lossy, .. } => lossy,
            _ => "",
        }
    }
}

/// The UTF-8 text of the regular file at `path` (symlinks followed), at most `limit` bytes.
pub fn read_text_file(path: &Path, limit: u64) -> Result<String, ReadError> {
    let metadata = std::fs::metadata(path).map_err(ReadError::Io)?;
    if !metadata.is_file() {
        return Err(ReadError::NotRegular(kind_of(&metadata.file_type())));
    }
    if metadata.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    // A file that grows after the `stat` (or lies about its size) is still capped.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    String::from_utf8(bytes).map_err(|error| ReadError::NotUtf8 {
        offset: error.utf8_error().valid_up_to(),
        lossy: String::from_utf8_lossy(error.as_bytes()).into_owned(),
    })
}

fn kind_of(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "FIFO (named pipe)";
        }
        if kind.is_char_device() {
            return "character device";
        }
        if kind.is_block_device() {
            return "block device";
        }
        if kind.is_socket() {
            return "socket";
        }
    }
    if kind.is_dir() {
        "directory"
    } else {
        "special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_folders_are_refused_without_being_opened() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_text_file(Path::new("/dev/zero"), 1 << 20),
            Err(ReadError::NotRegular("character device"))
        ));
        assert!(matches!(
            read_text_file(dir.path(), 1 << 20),
            Err(ReadError::NotRegular("directory"))
        ));
    }

    #[test]
    fn large_files_and_invalid_utf8_are_errors_with_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.py");
        std::fs::write(&big, vec![b'x'; 2048]).unwrap();
        assert!(matches!(
            read_text_file(&big, 1024),
            Err(ReadError::TooLarge { limit: 1024 })
        ));
        let bad = dir.path().join("bad.py");
        std::fs::write(&bad, b"# %%\nx = 1\n\xff\n").unwrap();
        let error = read_text_file(&bad, 1024).unwrap_err();
        assert_eq!(error.offset(), 11);
        assert!(
            error.describe().contains("byte offset 11"),
            "{}",
            error.describe()
        );
        assert_eq!(read_text_file(&big, 4096).unwrap().len(), 2048);
    }
}

//! Output blobs, content-addressed by blake3: `blobs/<first two hex>/<64 hex>`.
//!
//! Owns how a MIME value becomes bytes and back: base64 `image/*` (except SVG) and
//! `application/pdf` are stored decoded, strings as UTF-8, other JSON values serialised;
//! the manifest records which (`as`), so export rebuilds the exact value. Every write goes
//! through a temporary file and a rename; an existing blob is rewritten only when its
//! content no longer hashes to its name (damaged).
//!
//! A blob name is exactly 64 lowercase hex characters: anything else (a `../` path from a
//! hand-edited manifest) never reaches the filesystem. Every read checks the content
//! against its name, so a damaged blob is an error, never a garbled output.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a MIME value was turned into the stored bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// A string, stored as UTF-8.
    Text,
    /// A base64 string, stored decoded.
    Base64,
    /// A non-string JSON value, stored serialised.
    Json,
}

/// A stored MIME value: its blob and how to read it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    pub blob: String,
    #[serde(rename = "as")]
    pub encoding: Encoding,
}

/// The blob directory of a store.
#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
}

impl BlobStore {
    pub fn new(dir: PathBuf) -> BlobStore {
        BlobStore { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the blob `hex` lives (callers pass a name [`is_blob_name`] accepts; the
    /// reading methods below check it themselves).
    pub fn path(&self, hex: &str) -> PathBuf {
        let prefix = hex.get(..2).unwrap_or("00");
        self.dir.join(prefix).join(hex)
    }

    /// Stores `bytes` (once) and returns their blake3 hex. A blob already there is kept
    /// unless it is damaged, which a run thereby repairs.
    pub fn put(&self, bytes: &[u8]) -> io::Result<String> {
        let hex = blake3::hash(bytes).to_hex().to_string();
        let path = self.path(&hex);
        let intact = std::fs::metadata(&path)
            .is_ok_and(|meta| meta.is_file() && meta.len() == bytes.len() as u64)
            && std::fs::read(&path).is_ok_and(|stored| stored == bytes);
        if !intact {
            write_atomically(&path, bytes)?;
        }
        Ok(hex)
    }

    /// Moves the file at `written` (inside the blob directory, so the rename stays on one
    /// file system) into the store as a blob, without reading it into memory: the way a
    /// kernel hands over a pickled value. Returns its blake3 hex and size.
    pub fn adopt(&self, written: &Path) -> io::Result<(String, u64)> {
        let mut hasher = blake3::Hasher::new();
        let file = std::fs::File::open(written)?;
        hasher.update_reader(file)?;
        let hex = hasher.finalize().to_hex().to_string();
        let size = std::fs::metadata(written)?.len();
        let path = self.path(&hex);
        if path.exists() {
            std::fs::remove_file(written)?;
        } else {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::rename(written, &path)?;
        }
        Ok((hex, size))
    }

    /// The bytes of blob `hex`, checked against their name: an invalid name, a missing
    /// blob and content that does not hash to the name are errors naming the file.
    pub fn get(&self, hex: &str) -> io::Result<Vec<u8>> {
        let path = self.checked_path(hex)?;
        let bytes = std::fs::read(&path).map_err(|error| {
            io::Error::new(error.kind(), format!("{}: {error}", path.display()))
        })?;
        if blake3::hash(&bytes).to_hex().as_str() != hex {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is damaged: its content does not hash to its name",
                    path.display()
                ),
            ));
        }
        Ok(bytes)
    }

    /// Whether blob `hex` still hashes to its name, read as a stream (snapshots can be
    /// hundreds of megabytes, so never into memory); errors name the file.
    pub fn verify(&self, hex: &str) -> io::Result<()> {
        let path = self.checked_path(hex)?;
        let file = std::fs::File::open(&path).map_err(|error| {
            io::Error::new(error.kind(), format!("{}: {error}", path.display()))
        })?;
        let mut hasher = blake3::Hasher::new();
        hasher.update_reader(file)?;
        if hasher.finalize().to_hex().as_str() != hex {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is damaged: its content does not hash to its name",
                    path.display()
                ),
            ));
        }
        Ok(())
    }

    pub fn exists(&self, hex: &str) -> bool {
        is_blob_name(hex) && self.path(hex).is_file()
    }

    /// The size of blob `hex`, if it exists (and the name is a blob name).
    pub fn size(&self, hex: &str) -> Option<u64> {
        if !is_blob_name(hex) {
            return None;
        }
        std::fs::metadata(self.path(hex))
            .ok()
            .filter(std::fs::Metadata::is_file)
            .map(|meta| meta.len())
    }

    /// The path of blob `hex`, or an error when `hex` is not a blob name.
    fn checked_path(&self, hex: &str) -> io::Result<PathBuf> {
        if is_blob_name(hex) {
            Ok(self.path(hex))
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{hex:?} is not a blob name (64 lowercase hex characters)"),
            ))
        }
    }

    /// Stores one MIME value.
    pub fn put_mime(&self, mime: &str, value: &Value) -> io::Result<BlobRef> {
        let (bytes, encoding) = match value {
            Value::String(text) if is_binary_mime(mime) => match base64_decode(text) {
                Some(bytes) => (bytes, Encoding::Base64),
                None => (text.as_bytes().to_vec(), Encoding::Text),
            },
            Value::String(text) => (text.as_bytes().to_vec(), Encoding::Text),
            // nbformat allows multiline strings as lists of lines.
            Value::Array(lines) if !is_json_mime(mime) && lines.iter().all(Value::is_string) => {
                let text: String = lines.iter().filter_map(Value::as_str).collect();
                (text.into_bytes(), Encoding::Text)
            }
            other => (other.to_string().into_bytes(), Encoding::Json),
        };
        Ok(BlobRef {
            blob: self.put(&bytes)?,
            encoding,
        })
    }

    /// Reads a MIME value back as the kernel sent it (base64 again for binary types).
    pub fn get_mime(&self, reference: &BlobRef) -> io::Result<Value> {
        let bytes = self.get(&reference.blob)?;
        Ok(match reference.encoding {
            Encoding::Text => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
            Encoding::Base64 => Value::String(base64_encode(&bytes)),
            Encoding::Json => serde_json::from_slice(&bytes)
                .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?,
        })
    }
}

/// Whether `name` is a blob name: exactly 64 lowercase hex characters (a blake3 hex).
pub fn is_blob_name(name: &str) -> bool {
    name.len() == 64
        && name
            .bytes()
            .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_binary_mime(mime: &str) -> bool {
    (mime.starts_with("image/") && mime != "image/svg+xml") || mime == "application/pdf"
}

fn is_json_mime(mime: &str) -> bool {
    mime == "application/json" || mime.ends_with("+json")
}

/// Writes `bytes` to a fresh temporary file beside `path`, then renames it into place:
/// a reader (or a process killed mid-write) never leaves half a file at `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = std::fs::write(&temporary, bytes).and_then(|()| std::fs::rename(&temporary, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for index in 0..4 {
            if index <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * index)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 (whitespace ignored, padding optional); `None` if it is not base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut buffer = 0u32;
    let mut bits = 0;
    let mut padding = 0;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        if padding > 0 {
            return None;
        }
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    (bits < 6 && padding <= 2).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base64_round_trips() {
        for bytes in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"foob",
            b"\x89PNG\r\n\x1a\n\0\xff",
        ] {
            let encoded = base64_encode(bytes);
            assert_eq!(base64_decode(&encoded).as_deref(), Some(bytes), "{encoded}");
        }
        assert_eq!(base64_encode(b"foob"), "Zm9vYg==");
        assert_eq!(base64_decode("Zm9v\nYg=="), Some(b"foob".to_vec()));
        assert_eq!(base64_decode("not base64!"), None);
    }

    #[test]
    fn images_are_stored_decoded_and_values_come_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path().join("blobs"));
        let png = json!(base64_encode(b"\x89PNG fake"));
        let reference = store.put_mime("image/png", &png).unwrap();
        assert_eq!(reference.encoding, Encoding::Base64);
        assert_eq!(store.get(&reference.blob).unwrap(), b"\x89PNG fake");
        assert_eq!(store.get_mime(&reference).unwrap(), png);
        let data = json!({"a": [1, 2]});
        let reference = store.put_mime("application/json", &data).unwrap();
        assert_eq!(store.get_mime(&reference).unwrap(), data);
        let text = json!("<b>x</b>");
        let reference = store.put_mime("text/html", &text).unwrap();
        assert_eq!(store.get_mime(&reference).unwrap(), text);
        assert!(
            store
                .path(&reference.blob)
                .starts_with(dir.path().join("blobs"))
        );
    }

    #[test]
    fn names_that_are_not_64_lowercase_hex_never_reach_the_filesystem() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        let store = BlobStore::new(dir.path().join("blobs"));
        for name in [
            "../secret",
            "../../secret",
            &"A".repeat(64),
            &"a".repeat(63),
            "",
        ] {
            assert!(store.get(name).is_err(), "{name}");
            assert!(!store.exists(name), "{name}");
            assert_eq!(store.size(name), None, "{name}");
        }
        assert!(is_blob_name(&blake3::hash(b"x").to_hex()));
    }

    #[test]
    fn a_damaged_blob_is_an_error_and_storing_its_bytes_again_repairs_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path().join("blobs"));
        let hex = store.put(b"hello").unwrap();
        std::fs::write(store.path(&hex), b"hellO").unwrap();
        let error = store.get(&hex).unwrap_err();
        assert!(error.to_string().contains("damaged"), "{error}");
        assert_eq!(store.put(b"hello").unwrap(), hex);
        assert_eq!(store.get(&hex).unwrap(), b"hello");
    }
}

//! A cell's cached outputs as plain data for editor plugins that draw them
//! (`jellycell/cellOutputs`, `docs/lsp.md`): streams and text as strings (ANSI removed),
//! errors with their traceback, each MIME value of a bundle as text, as JSON (`+json`
//! types, such as scrapbook's `application/scrapbook.scrap.json+json` scraps), or, for
//! binary types, as base64 under a size cap and as a preview URL when a preview runs.
//!
//! Texts are cut at a cap (`truncated` says so): a plugin shows the head of an output,
//! never megabytes of it.

use std::collections::BTreeMap;
use std::io::Read;

use serde::Serialize;
use serde_json::Value;

use crate::cache::OutputRecord;
use crate::cache::blobs::{BlobRef, BlobStore, Encoding, base64_encode};
use crate::kernel::strip_ansi;
use crate::render::blob_extension;

/// How much of each output is returned.
#[derive(Debug, Clone, Copy)]
pub struct DataLimits {
    /// Bytes of one text (stream, `text/*`, serialised JSON) read and returned.
    pub text_bytes: usize,
    /// The largest binary value returned as base64; `0`: never (URLs only).
    pub inline_bytes: usize,
}

impl Default for DataLimits {
    fn default() -> DataLimits {
        DataLimits {
            text_bytes: 64 * 1024,
            inline_bytes: 1024 * 1024,
        }
    }
}

/// One output.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputData {
    Stream {
        name: String,
        text: String,
        truncated: bool,
    },
    DisplayData {
        data: BTreeMap<String, MimeData>,
    },
    ExecuteResult {
        data: BTreeMap<String, MimeData>,
        #[serde(rename = "executionCount", skip_serializing_if = "Option::is_none")]
        execution_count: Option<u32>,
    },
    Error {
        ename: String,
        evalue: String,
        /// ANSI colours removed, one entry per frame as the kernel sent it.
        traceback: Vec<String>,
    },
}

/// One MIME value of a bundle; which fields are set depends on the type.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct MimeData {
    /// Text types (and SVG).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `application/json` and `+json` types, parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// Binary types (images, PDF), when within the size cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    /// The value on the preview server, when one runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Size of the stored value.
    pub bytes: u64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// `outputs` as data; `blob_origin` is the preview's `http://127.0.0.1:PORT` when one runs.
pub fn outputs_data(
    outputs: &[OutputRecord],
    blobs: &BlobStore,
    blob_origin: Option<&str>,
    limits: &DataLimits,
) -> Vec<OutputData> {
    outputs
        .iter()
        .map(|output| match output {
            OutputRecord::Stream { name, blob } => {
                let (text, truncated) = read_text(blobs, blob, limits.text_bytes);
                OutputData::Stream {
                    name: name.clone(),
                    text: strip_ansi(&text),
                    truncated,
                }
            }
            OutputRecord::DisplayData { data, .. } => OutputData::DisplayData {
                data: bundle(data, blobs, blob_origin, limits),
            },
            OutputRecord::ExecuteResult {
                data,
                execution_count,
                ..
            } => OutputData::ExecuteResult {
                data: bundle(data, blobs, blob_origin, limits),
                execution_count: *execution_count,
            },
            OutputRecord::Error {
                ename,
                evalue,
                traceback,
            } => OutputData::Error {
                ename: ename.clone(),
                evalue: strip_ansi(evalue),
                traceback: traceback.iter().map(|frame| strip_ansi(frame)).collect(),
            },
        })
        .collect()
}

fn bundle(
    data: &BTreeMap<String, BlobRef>,
    blobs: &BlobStore,
    blob_origin: Option<&str>,
    limits: &DataLimits,
) -> BTreeMap<String, MimeData> {
    data.iter()
        .map(|(mime, reference)| {
            let bytes = blobs.size(&reference.blob).unwrap_or(0);
            let url = blob_origin.and_then(|origin| {
                blob_extension(mime).map(|extension| {
                    format!(
                        "{}/blob/{}.{extension}",
                        origin.trim_end_matches('/'),
                        reference.blob
                    )
                })
            });
            let mut value = MimeData {
                bytes,
                url,
                ..MimeData::default()
            };
            match reference.encoding {
                Encoding::Base64 => {
                    if bytes as usize <= limits.inline_bytes
                        && let Ok(raw) = blobs.get(&reference.blob)
                    {
                        value.base64 = Some(base64_encode(&raw));
                    }
                }
                Encoding::Json => {
                    let (text, truncated) = read_text(blobs, &reference.blob, limits.text_bytes);
                    match serde_json::from_str(&text) {
                        Ok(json) if !truncated => value.json = Some(json),
                        _ => {
                            value.text = Some(text);
                            value.truncated = truncated;
                        }
                    }
                }
                Encoding::Text => {
                    let (text, truncated) = read_text(blobs, &reference.blob, limits.text_bytes);
                    value.text = Some(if mime.starts_with("text/") {
                        strip_ansi(&text)
                    } else {
                        text
                    });
                    value.truncated = truncated;
                }
            }
            (mime.clone(), value)
        })
        .collect()
}

/// The first `limit` bytes of a blob as text (never splitting a character), and whether
/// there was more.
fn read_text(blobs: &BlobStore, hex: &str, limit: usize) -> (String, bool) {
    let mut bytes = Vec::new();
    if let Ok(file) = std::fs::File::open(blobs.path(hex)) {
        let _ = file.take(limit as u64 + 1).read_to_end(&mut bytes);
    }
    let truncated = bytes.len() > limit;
    bytes.truncate(limit);
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let valid = error.utf8_error().valid_up_to();
            let mut bytes = error.into_bytes();
            // A character cut by the limit is dropped; other bad bytes are replaced.
            if truncated && bytes.len() - valid < 4 {
                bytes.truncate(valid);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    (text, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_mime_type_comes_back_in_its_own_form() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::new(dir.path().to_path_buf());
        let mut data = BTreeMap::new();
        for (mime, value) in [
            ("text/plain", json!("\u{1b}[31m42\u{1b}[0m")),
            ("image/png", json!("iVBORw0KGgo=")),
            (
                "application/scrapbook.scrap.json+json",
                json!({"name": "n", "data": 3}),
            ),
        ] {
            data.insert(mime.to_string(), blobs.put_mime(mime, &value).unwrap());
        }
        let outputs = [OutputRecord::ExecuteResult {
            data,
            metadata: Default::default(),
            execution_count: Some(3),
        }];
        let shown = outputs_data(
            &outputs,
            &blobs,
            Some("http://127.0.0.1:9"),
            &DataLimits::default(),
        );
        let value = serde_json::to_value(&shown).unwrap();
        assert_eq!(value[0]["type"], "execute_result");
        assert_eq!(value[0]["executionCount"], 3);
        assert_eq!(value[0]["data"]["text/plain"]["text"], "42");
        assert_eq!(value[0]["data"]["image/png"]["base64"], "iVBORw0KGgo=");
        assert!(
            value[0]["data"]["image/png"]["url"]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:9/blob/")
        );
        assert_eq!(
            value[0]["data"]["application/scrapbook.scrap.json+json"]["json"]["data"],
            3
        );
    }

    #[test]
    fn long_streams_are_cut_and_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::new(dir.path().to_path_buf());
        let blob = blobs.put("é".repeat(100).as_bytes()).unwrap();
        let outputs = [OutputRecord::Stream {
            name: "stdout".to_string(),
            blob,
        }];
        let limits = DataLimits {
            text_bytes: 9,
            inline_bytes: 0,
        };
        match &outputs_data(&outputs, &blobs, None, &limits)[0] {
            OutputData::Stream {
                text, truncated, ..
            } => {
                assert_eq!(text, "éééé");
                assert!(*truncated);
            }
            other => panic!("{other:?}"),
        }
    }
}

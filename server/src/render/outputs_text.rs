//! One cell's cached outputs as plain text for a terminal (`cache show`): streams as
//! written (stderr marked), results and displays as their `text/plain`, errors as
//! `ename: evalue` with the traceback without colours, and for images, HTML and other
//! rich outputs a placeholder with their size and the preview URL that shows them.

use std::fmt::Write;

use crate::cache::blobs::{BlobRef, BlobStore};
use crate::cache::manifest::OutputRecord;
use crate::kernel::plain_traceback;
use crate::render::outputs_markdown::bytes_text;

/// Where the preview serves this notebook, when known: `http://127.0.0.1:5179` and the
/// cell's page URL on it.
#[derive(Debug, Clone)]
pub struct PreviewPlace {
    pub origin: String,
    pub cell_page: String,
}

/// The outputs, each line indented by `indent`.
pub fn outputs_text(
    outputs: &[OutputRecord],
    blobs: &BlobStore,
    preview: Option<&PreviewPlace>,
    traceback: &dyn Fn(&[String]) -> Vec<String>,
    indent: &str,
) -> String {
    let mut out = String::new();
    let mut line = |text: &str| {
        for part in text.trim_end_matches('\n').split('\n') {
            let _ = writeln!(out, "{indent}{part}");
        }
    };
    if outputs.is_empty() {
        line("(no output)");
    }
    for output in outputs {
        match output {
            OutputRecord::Stream { name, blob } => {
                let text = blobs
                    .get(blob)
                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                    .unwrap_or_else(|error| format!("(output missing from the cache: {error})"));
                if name == "stderr" {
                    line("[stderr]");
                }
                line(&text);
            }
            OutputRecord::DisplayData { data, .. } | OutputRecord::ExecuteResult { data, .. } => {
                for (mime, reference) in data {
                    if mime == "text/plain" {
                        continue;
                    }
                    line(&placeholder(mime, reference, blobs, preview));
                }
                if let Some(reference) = data.get("text/plain") {
                    let text = blobs
                        .get_mime(reference)
                        .ok()
                        .and_then(|value| value.as_str().map(str::to_string))
                        .unwrap_or_default();
                    line(&text);
                }
            }
            OutputRecord::Error {
                ename,
                evalue,
                traceback: frames,
            } => {
                let text = plain_traceback(&traceback(frames));
                let message = format!("{ename}: {evalue}");
                if text.trim().is_empty() {
                    // A UsageError's message is already on stderr: say it once.
                    if !already_on_stderr(outputs, blobs, &message) {
                        line(&message);
                    }
                } else {
                    line(&text);
                }
            }
        }
    }
    out
}

/// `[image/png · 12.3 KB] http://127.0.0.1:5179/blob/<hash>.png`
fn placeholder(
    mime: &str,
    reference: &BlobRef,
    blobs: &BlobStore,
    preview: Option<&PreviewPlace>,
) -> String {
    let size = bytes_text(blobs.size(&reference.blob).unwrap_or(0));
    let image = mime.starts_with("image/");
    match (preview, super::blob_extension(mime)) {
        (Some(preview), Some(extension)) if image => format!(
            "[{mime} · {size}] {}/blob/{}.{extension}",
            preview.origin, reference.blob
        ),
        (Some(preview), _) => format!(
            "[{mime} · {size}] shown in the preview: {}",
            preview.cell_page
        ),
        (None, _) => format!(
            "[{mime} · {size}] run `jellycell-lsp preview` to see it (set [viewer] port in jellycell.toml for a fixed URL)"
        ),
    }
}

fn already_on_stderr(outputs: &[OutputRecord], blobs: &BlobStore, message: &str) -> bool {
    outputs.iter().any(|output| match output {
        OutputRecord::Stream { name, blob } if name == "stderr" => blobs
            .get(blob)
            .is_ok_and(|bytes| String::from_utf8_lossy(&bytes).contains(message)),
        _ => false,
    })
}

//! One cached output as HTML.
//!
//! A display bundle shows its single richest MIME type (not every one, as jellycell
//! does): `text/html`, images, `text/markdown`, `application/json`, then `text/plain`.
//! `text/html` goes into `<iframe sandbox srcdoc>` with no `allow-*` token, so its
//! scripts never run and it never shares the page's origin. SVG is only ever an
//! `<img>` (scripts in an SVG image do not run). Streams and errors keep their ANSI
//! colours as classes; everything else is escaped text.

use std::collections::BTreeMap;

use serde_json::Value;

use super::ansi_html::ansi_to_html;
use super::markdown::markdown_to_html;
use super::{UrlScheme, blob_extension, escape, escape_into};
use crate::cache::OutputRecord;
use crate::cache::blobs::{BlobRef, BlobStore, Encoding, base64_encode};

/// The MIME types shown, best first.
const PREFERENCE: &[&str] = &[
    "text/html",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "text/markdown",
    "application/json",
    "text/latex",
    "text/plain",
];

/// The largest blob shown inline as text; bigger ones are cut with a note.
const TEXT_LIMIT: usize = 200_000;

/// `output` as HTML; `id_prefix` keeps heading ids of markdown outputs unique.
pub fn render_output(
    output: &OutputRecord,
    blobs: &BlobStore,
    scheme: UrlScheme,
    id_prefix: &str,
) -> String {
    match output {
        OutputRecord::Stream { name, blob } => {
            let class = if name == "stderr" {
                "jc-stderr"
            } else {
                "jc-stdout"
            };
            let text = read_text(blobs, blob);
            format!(
                "<pre class=\"jc-output jc-stream {class}\">{}</pre>",
                ansi_to_html(&text)
            )
        }
        OutputRecord::DisplayData { data, .. } | OutputRecord::ExecuteResult { data, .. } => {
            render_bundle(data, blobs, scheme, id_prefix)
        }
        OutputRecord::Error {
            ename,
            evalue,
            traceback,
        } => {
            let body = if traceback.is_empty() {
                escape(&format!("{ename}: {evalue}"))
            } else {
                ansi_to_html(&traceback.join("\n"))
            };
            format!("<pre class=\"jc-output jc-error\">{body}</pre>")
        }
    }
}

fn render_bundle(
    data: &BTreeMap<String, BlobRef>,
    blobs: &BlobStore,
    scheme: UrlScheme,
    id_prefix: &str,
) -> String {
    let scraps = crate::render::scraps::cached_scraps(data, blobs);
    if !scraps.is_empty() {
        let lines: Vec<String> = scraps
            .iter()
            .map(|scrap| format!("<code>{}</code>", escape(&scrap.display())))
            .collect();
        return format!(
            "<div class=\"jc-output jc-scraps\">{}</div>",
            lines.join("<br>")
        );
    }
    let chosen = PREFERENCE
        .iter()
        .find_map(|mime| data.get_key_value(*mime))
        .or_else(|| data.iter().next());
    let Some((mime, reference)) = chosen else {
        return String::new();
    };
    match mime.as_str() {
        "text/html" => sandboxed_html(&read_text(blobs, &reference.blob)),
        "text/markdown" => {
            let (html, _) = markdown_to_html(&read_text(blobs, &reference.blob), id_prefix);
            format!("<div class=\"jc-output jc-markdown\">{html}</div>")
        }
        "application/json" => {
            let pretty = blobs
                .get_mime(reference)
                .ok()
                .and_then(|value| match value {
                    Value::String(text) => serde_json::from_str::<Value>(&text).ok(),
                    other => Some(other),
                })
                .and_then(|value| serde_json::to_string_pretty(&value).ok())
                .unwrap_or_else(|| read_text(blobs, &reference.blob));
            format!("<pre class=\"jc-output jc-json\">{}</pre>", escape(&pretty))
        }
        mime if blob_extension(mime).is_some() => image(mime, reference, blobs, scheme),
        "text/plain" | "text/latex" => format!(
            "<pre class=\"jc-output jc-text\">{}</pre>",
            ansi_to_html(&read_text(blobs, &reference.blob))
        ),
        other => {
            let preview = if reference.encoding == Encoding::Base64 {
                String::from("(binary)")
            } else {
                read_text(blobs, &reference.blob)
                    .chars()
                    .take(1000)
                    .collect()
            };
            format!(
                "<div class=\"jc-output jc-unknown\"><span class=\"jc-mime\">{}</span><pre>{}</pre></div>",
                escape(other),
                escape(&preview)
            )
        }
    }
}

/// An `<img>` for an image blob: a `/blob/<hash>.<ext>` URL, or a `data:` URI inlined.
fn image(mime: &str, reference: &BlobRef, blobs: &BlobStore, scheme: UrlScheme) -> String {
    let extension = blob_extension(mime).unwrap_or("bin");
    let source = match scheme {
        UrlScheme::Served => format!("/blob/{}.{extension}", reference.blob),
        UrlScheme::SelfContained => match blobs.get(&reference.blob) {
            Ok(bytes) => format!("data:{mime};base64,{}", base64_encode(&bytes)),
            Err(_) => return missing_blob(&reference.blob),
        },
    };
    format!(
        "<div class=\"jc-output jc-image\"><img src=\"{}\" alt=\"{} output\"></div>",
        escape(&source),
        escape(mime)
    )
}

/// A text/html output in a sandboxed frame: `srcdoc` is an escaped attribute, and the
/// empty `sandbox` gives the frame an opaque origin with scripts, forms and popups off.
fn sandboxed_html(html: &str) -> String {
    let rows = html.matches("<tr").count().max(html.lines().count() / 2);
    let height = (rows * 28 + 40).clamp(80, 640);
    let mut document = String::from(
        "<!doctype html><meta charset=\"utf-8\"><style>body{font:14px/1.45 system-ui,sans-serif;\
         margin:8px;color:#1f2328}table{border-collapse:collapse}td,th{border:1px solid #d0d7de;\
         padding:4px 10px;text-align:right}th{background:#f6f8fa}</style>",
    );
    document.push_str(html);
    let mut out = String::from(
        "<div class=\"jc-output jc-html\"><iframe sandbox class=\"jc-html-frame\" style=\"height:",
    );
    out.push_str(&format!("{height}px\" title=\"HTML output\" srcdoc=\""));
    escape_into(&mut out, &document);
    out.push_str("\"></iframe></div>");
    out
}

fn read_text(blobs: &BlobStore, blob: &str) -> String {
    match blobs.get(blob) {
        Ok(bytes) if bytes.len() > TEXT_LIMIT => {
            let mut text = String::from_utf8_lossy(&bytes[..TEXT_LIMIT]).into_owned();
            text.push_str(&format!(
                "\n… ({} bytes not shown)",
                bytes.len() - TEXT_LIMIT
            ));
            text
        }
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => format!("(output blob {blob} is missing from the cache)"),
    }
}

fn missing_blob(blob: &str) -> String {
    format!(
        "<div class=\"jc-output jc-missing\">output blob {} is missing from the cache</div>",
        escape(blob)
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{Map, Value, json};

    use super::render_output;
    use crate::cache::OutputRecord;
    use crate::cache::blobs::BlobStore;
    use crate::render::UrlScheme;

    fn display(blobs: &BlobStore, bundle: &[(&str, Value)]) -> OutputRecord {
        let mut data = BTreeMap::new();
        for (mime, value) in bundle {
            data.insert(mime.to_string(), blobs.put_mime(mime, value).expect("blob"));
        }
        OutputRecord::DisplayData {
            data,
            metadata: Map::new(),
        }
    }

    #[test]
    fn svg_is_an_image_never_inline_markup() {
        let dir = tempfile::tempdir().expect("temp dir");
        let blobs = BlobStore::new(dir.path().to_path_buf());
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        let output = display(&blobs, &[("image/svg+xml", json!(svg))]);
        let served = render_output(&output, &blobs, UrlScheme::Served, "");
        assert!(
            served.contains("<img src=\"/blob/") && served.contains(".svg\""),
            "{served}"
        );
        assert!(!served.contains("<svg"), "{served}");
        let inlined = render_output(&output, &blobs, UrlScheme::SelfContained, "");
        assert!(
            inlined.contains("src=\"data:image/svg+xml;base64,"),
            "{inlined}"
        );
        assert!(!inlined.contains("<svg"), "{inlined}");
    }

    #[test]
    fn a_bundle_shows_only_its_richest_type() {
        let dir = tempfile::tempdir().expect("temp dir");
        let blobs = BlobStore::new(dir.path().to_path_buf());
        let output = display(
            &blobs,
            &[
                ("text/html", json!("<b>\"bold\"</b>")),
                ("text/plain", json!("PLAIN")),
            ],
        );
        let html = render_output(&output, &blobs, UrlScheme::Served, "");
        assert!(!html.contains("PLAIN"), "{html}");
        assert!(html.contains("srcdoc=\""), "{html}");
        assert!(
            html.contains("&lt;b&gt;&quot;bold&quot;&lt;/b&gt;"),
            "{html}"
        );
    }

    #[test]
    fn json_is_pretty_printed_and_escaped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let blobs = BlobStore::new(dir.path().to_path_buf());
        let output = display(&blobs, &[("application/json", json!({"a": [1, "<x>"]}))]);
        let html = render_output(&output, &blobs, UrlScheme::Served, "");
        assert!(
            html.contains("{\n  &quot;a&quot;: [\n    1,\n    &quot;&lt;x&gt;&quot;"),
            "{html}"
        );
    }

    #[test]
    fn errors_keep_colours_and_plain_text_is_escaped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let blobs = BlobStore::new(dir.path().to_path_buf());
        let error = OutputRecord::Error {
            ename: "ValueError".into(),
            evalue: "bad".into(),
            traceback: vec!["\u{1b}[0;31mValueError\u{1b}[0m: <bad>".into()],
        };
        let html = render_output(&error, &blobs, UrlScheme::Served, "");
        assert!(
            html.contains("<span class=\"ansi-red\">ValueError</span>: &lt;bad&gt;"),
            "{html}"
        );
        let stream = OutputRecord::Stream {
            name: "stdout".into(),
            blob: blobs.put(b"<script>x</script>").expect("blob"),
        };
        let html = render_output(&stream, &blobs, UrlScheme::Served, "");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }
}

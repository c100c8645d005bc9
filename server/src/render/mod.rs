//! Notebook pages as HTML: a notebook with the outputs cached for each cell's current key,
//! an index of notebooks and recent runs, and the `/api/state.json` document; and one
//! cell's cached outputs as Markdown for editor hovers (`outputs_markdown`) and as text
//! for a terminal (`outputs_text`).
//!
//! Core, not HTTP: functions take a workspace, a file index and the store and return
//! strings. The [`UrlScheme`] decides how images and links are written: `/blob/<hash>.<ext>`
//! URLs for the preview server, `data:` URIs and in-page anchors for a self-contained
//! file (`export --to html`). Every piece of notebook or output text is escaped;
//! `text/html` outputs only ever appear inside a sandboxed `<iframe srcdoc>`. The page
//! structure and the safety model are described in `docs/preview.md`.

pub mod ansi_html;
pub mod assets;
pub mod cell;
pub mod highlight;
pub mod index;
pub mod markdown;
pub mod output_data;
pub mod output_summary;
pub mod outputs;
pub mod outputs_markdown;
pub mod outputs_text;
pub mod page;
pub mod scraps;
pub mod time_text;
pub mod url_policy;

pub use index::{render_index, state_json};
pub use page::{render_notebook, render_notebook_page, render_notebook_with};

/// How a page refers to blobs, other notebooks and scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlScheme {
    /// Served by `preview`: `/blob/…`, `/nb/…`, live-reload script.
    Served,
    /// One file with everything inlined; no scripts, no links to other notebooks.
    SelfContained,
}

/// The URL of a notebook page on the preview server (`/nb/<project-relative path>`), each
/// path segment percent-encoded.
pub fn notebook_url(relative: &str) -> String {
    let mut url = String::from("/nb/");
    for (index, segment) in relative.split('/').enumerate() {
        if index > 0 {
            url.push('/');
        }
        for byte in segment.bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                url.push(byte as char);
            } else {
                url.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    url
}

/// The file extension a blob URL carries for `mime`, when the preview serves that type.
pub fn blob_extension(mime: &str) -> Option<&'static str> {
    Some(match mime {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/svg+xml" => "svg",
        _ => return None,
    })
}

/// The inverse of [`blob_extension`].
pub fn mime_of_extension(extension: &str) -> Option<&'static str> {
    Some(match extension {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        _ => return None,
    })
}

/// Appends `text` HTML-escaped (safe in element content and in quoted attributes).
pub fn escape_into(html: &mut String, text: &str) {
    let mut last = 0;
    for (index, byte) in text.bytes().enumerate() {
        let replacement = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        html.push_str(&text[last..index]);
        html.push_str(replacement);
        last = index + 1;
    }
    html.push_str(&text[last..]);
}

/// `text` HTML-escaped.
pub fn escape(text: &str) -> String {
    let mut html = String::with_capacity(text.len());
    escape_into(&mut html, text);
    html
}

#[cfg(test)]
mod tests {
    use super::{escape, notebook_url};

    #[test]
    fn escape_covers_attribute_quotes() {
        assert_eq!(
            escape("<a href=\"x\">'&'"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;"
        );
    }

    #[test]
    fn notebook_urls_encode_segments() {
        assert_eq!(
            notebook_url("notebooks/my report.py"),
            "/nb/notebooks/my%20report.py"
        );
    }
}

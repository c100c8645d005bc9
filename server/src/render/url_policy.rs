//! Which URLs a rendered markdown link or image may keep: `http`, `https`, `mailto`,
//! relative paths, fragments, and for images `data:image/*`. Anything else
//! (`javascript:`, `vbscript:`, `data:text/html`, `file:`) is dropped, in the preview and
//! in an exported page alike: a notebook is untrusted input, and an exported file has no
//! server to send it a Content-Security-Policy header.
//!
//! The scheme is read the way browsers read it (WHATWG URL): leading and trailing C0
//! controls and spaces are ignored, tabs and newlines anywhere are removed, and the
//! scheme is case-insensitive, so `  JaVa\tScript:` is still `javascript:`.

/// Whether a link (`<a href>`) may point at `url`.
pub fn is_safe_link(url: &str) -> bool {
    matches!(
        scheme(url).as_deref(),
        None | Some("http" | "https" | "mailto")
    )
}

/// Whether an image (`<img src>`) may load `url`.
pub fn is_safe_image(url: &str) -> bool {
    match scheme(url).as_deref() {
        None | Some("http" | "https") => true,
        Some("data") => cleaned(url)
            .get(5..11)
            .is_some_and(|media| media.eq_ignore_ascii_case("image/")),
        Some(_) => false,
    }
}

/// The lowercased scheme of `url`, or `None` for a relative URL or a fragment.
fn scheme(url: &str) -> Option<String> {
    let url = cleaned(url);
    let end = url.find([':', '/', '?', '#'])?;
    if url.as_bytes()[end] != b':' || end == 0 {
        return None;
    }
    let candidate = &url[..end];
    let mut bytes = candidate.bytes();
    let valid = bytes
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && bytes.all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.'));
    // `a b:c` is not a scheme to a browser; it is a relative path that happens to hold a
    // colon. Refusing it anyway is the safe side of that ambiguity.
    Some(if valid {
        candidate.to_ascii_lowercase()
    } else {
        String::from("invalid")
    })
}

fn cleaned(url: &str) -> String {
    url.trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_schemes_are_refused_however_they_are_spelled() {
        for url in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "  javascript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "\u{1}javascript:alert(1)",
            "vbscript:msgbox",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
        ] {
            assert!(!is_safe_link(url), "{url:?}");
            assert!(!is_safe_image(url), "{url:?}");
        }
    }

    #[test]
    fn web_mail_relative_and_fragment_links_are_kept() {
        for url in [
            "https://example.com/a?b#c",
            "http://example.com",
            "mailto:a@example.com",
            "other.md",
            "../up/one.md",
            "#section",
            "/abs/path",
            "?q=1",
            "//example.com/x",
            "folder/a:b",
        ] {
            assert!(is_safe_link(url), "{url:?}");
        }
    }

    #[test]
    fn images_may_be_data_images_and_links_may_not_be_data() {
        assert!(is_safe_image("data:image/png;base64,AAAA"));
        assert!(is_safe_image("DATA:Image/svg+xml,<svg/>"));
        assert!(!is_safe_link("data:image/png;base64,AAAA"));
        assert!(!is_safe_image("mailto:a@example.com"));
    }
}

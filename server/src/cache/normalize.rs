//! Source normalisation for cache keys, exactly as jellycell's `hashing.normalize`:
//! CRLF and CR become LF, every line loses trailing whitespace (Python's `str.rstrip`,
//! so all Unicode whitespace), leading and trailing blank lines are dropped, and a
//! non-empty result ends with one `\n`. Whitespace-only edits therefore keep a cell cached.

/// The normalised form of `source`.
pub fn normalize_source(source: &str) -> String {
    let unified = source.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = unified.split('\n').map(python_rstrip).collect();
    let first = lines.iter().position(|line| !line.is_empty());
    let last = lines.iter().rposition(|line| !line.is_empty());
    match (first, last) {
        (Some(first), Some(last)) => {
            let mut out = lines[first..=last].join("\n");
            out.push('\n');
            out
        }
        _ => String::new(),
    }
}

/// Python's `str.rstrip()`: Rust's whitespace plus U+001C..U+001F.
fn python_rstrip(line: &str) -> &str {
    line.trim_end_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_trailing_space_and_blank_edges_are_normalised() {
        assert_eq!(
            normalize_source("\n\n  x = 1  \r\ny = 2\t\r\n\n"),
            "  x = 1\ny = 2\n"
        );
        assert_eq!(normalize_source("a\rb"), "a\nb\n");
        assert_eq!(normalize_source(" \n\t\n"), "");
        assert_eq!(normalize_source(""), "");
    }

    #[test]
    fn unicode_whitespace_is_stripped_as_python_does() {
        assert_eq!(normalize_source("x\u{a0}\u{2003}\u{1f}"), "x\n");
        assert_eq!(normalize_source("x\n\u{3000}\n"), "x\n");
    }

    #[test]
    fn inner_blank_lines_stay() {
        assert_eq!(normalize_source("a\n\n\nb"), "a\n\n\nb\n");
    }
}

//! The line table of a MyST text: where each line starts, where its content ends and where
//! its line ending ends.
//!
//! markdown-it (which jupytext's MyST reader is built on) treats `\n`, `\r\n` and a lone `\r`
//! as line endings; so does this table. Python's `str.splitlines` also splits at `\v`, `\f`,
//! `\x1c`–`\x1e`, `\x85`, U+2028 and U+2029, which makes jupytext's line numbers disagree with
//! its own tokens; we keep those characters as content (see the conformance test's table).

/// One line: `start..content_end` is its text, `content_end..end` its line ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line {
    pub start: usize,
    pub content_end: usize,
    pub end: usize,
}

impl Line {
    pub fn content<'a>(&self, text: &'a str) -> &'a str {
        text.get(self.start..self.content_end).unwrap_or("")
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.content_end
    }
}

/// Splits `text` into lines. A final line ending does not open an empty line, as in
/// `str.splitlines`.
pub(crate) fn split_lines(text: &str) -> Vec<Line> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    for index in memchr::memchr2_iter(b'\n', b'\r', bytes) {
        if index < start {
            // The `\n` of a `\r\n` already taken.
            continue;
        }
        let end = if bytes[index] == b'\r' && bytes.get(index + 1) == Some(&b'\n') {
            index + 2
        } else {
            index + 1
        };
        lines.push(Line {
            start,
            content_end: index,
            end,
        });
        start = end;
    }
    if start < bytes.len() {
        lines.push(Line {
            start,
            content_end: bytes.len(),
            end: bytes.len(),
        });
    }
    lines
}

/// Python's `str.isspace` for one character: Rust's `White_Space` plus the information
/// separators `\x1c`–`\x1f`, which Python also strips.
pub(crate) fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// `str.strip()` emptiness: whether a line holds only whitespace.
pub(crate) fn is_blank(content: &str) -> bool {
    content.chars().all(is_python_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_lf_crlf_and_lone_cr() {
        let text = "a\nb\r\nc\rd";
        let lines = split_lines(text);
        let contents: Vec<&str> = lines.iter().map(|line| line.content(text)).collect();
        assert_eq!(contents, ["a", "b", "c", "d"]);
        assert_eq!(lines[1].end - lines[1].content_end, 2);
    }

    #[test]
    fn final_newline_opens_no_line() {
        assert_eq!(split_lines("a\n").len(), 1);
        assert_eq!(split_lines("").len(), 0);
        assert_eq!(split_lines("\n\n").len(), 2);
    }

    #[test]
    fn information_separators_are_python_space() {
        assert!(is_blank(" \t\x1c\u{a0}"));
        assert!(!is_blank(" x"));
    }
}

//! Line splitting exactly as Python's `str.splitlines()` (which jupytext uses), plus
//! Python's notion of whitespace (`str.isspace`, regex `\s`).
//!
//! Each line keeps its byte offsets so spans can point back into the text.

/// One line: `text` without its terminator; `start..end` covers text and terminator in the
/// original input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
}

impl Line<'_> {
    /// Where the line's text ends (before the terminator), in the original input.
    pub fn content_end(&self) -> usize {
        self.start + self.text.len()
    }
}

/// The characters Python's `str.isspace()` accepts. Rust's `char::is_whitespace` lacks
/// U+001C..U+001F, which Python (and so jupytext's `\s`) treats as whitespace.
pub(crate) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's regex `\s` as a regex character class body.
pub(crate) const WS: &str = r"[\s\x1c-\x1f]";

pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

pub(crate) fn py_lstrip(s: &str) -> &str {
    s.trim_start_matches(is_py_space)
}

pub(crate) fn py_rstrip(s: &str) -> &str {
    s.trim_end_matches(is_py_space)
}

/// `^\s*$` in Python.
pub(crate) fn is_blank(s: &str) -> bool {
    s.chars().all(is_py_space)
}

/// The length of the line terminator starting at `rest`, as `str.splitlines` sees it.
fn terminator_len(rest: &str) -> Option<usize> {
    let mut chars = rest.chars();
    let c = chars.next()?;
    match c {
        '\r' => Some(if rest.as_bytes().get(1) == Some(&b'\n') {
            2
        } else {
            1
        }),
        c if is_python_line_break(c) => Some(c.len_utf8()),
        _ => None,
    }
}

/// Whether Python's `str.splitlines` breaks a line at `c` (`\r\n` counts as one break).
pub(crate) fn is_python_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\u{0b}'
            | '\u{0c}'
            | '\u{1c}'
            | '\u{1d}'
            | '\u{1e}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// The bytes that can begin a line terminator: `\n`, `\r`, U+000B, U+000C, U+001C..U+001E,
/// and the lead bytes of U+0085 (C2 85) and U+2028/9 (E2 80 A8/9). Lead bytes are never
/// UTF-8 continuation bytes, so each one found is on a character boundary.
static MAY_END: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = matches!(
            byte as u8,
            b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1e | 0xc2 | 0xe2
        );
        byte += 1;
    }
    table
};

/// Splits `text` like `str.splitlines()`; offsets are shifted by `base`.
pub(crate) fn split_lines(text: &str, base: usize) -> Vec<Line<'_>> {
    let bytes = text.as_bytes();
    let mut lines = Vec::new();
    let mut line_start = 0;
    let mut index = 0;
    // Runs on every byte of every notebook read: jump from one possible terminator to the
    // next instead of testing each character.
    while let Some(offset) = bytes[index..]
        .iter()
        .position(|&byte| MAY_END[byte as usize])
    {
        index += offset;
        match terminator_len(&text[index..]) {
            Some(len) => {
                lines.push(Line {
                    text: &text[line_start..index],
                    start: base + line_start,
                    end: base + index + len,
                });
                index += len;
                line_start = index;
            }
            // A C2 or E2 that begins another character: its continuation bytes are never
            // in the table.
            None => index += 1,
        }
    }
    if line_start < text.len() {
        lines.push(Line {
            text: &text[line_start..],
            start: base + line_start,
            end: base + text.len(),
        });
    }
    lines
}

/// `str.splitlines()` without offsets.
pub(crate) fn py_splitlines(text: &str) -> Vec<&str> {
    split_lines(text, 0)
        .into_iter()
        .map(|line| line.text)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_every_python_line_boundary() {
        let text = "a\r\nb\rc\nd\u{2028}e\u{0c}f";
        assert_eq!(py_splitlines(text), ["a", "b", "c", "d", "e", "f"]);
    }

    #[test]
    fn characters_that_share_a_lead_byte_with_a_break_are_not_breaks() {
        // ¢ is C2 A2 (U+0085 is C2 85), € is E2 82 AC (U+2028 is E2 80 A8).
        let text = "a¢b€c\u{85}d\u{2029}e\u{2027}f";
        assert_eq!(py_splitlines(text), ["a¢b€c", "d", "e\u{2027}f"]);
        let lines = split_lines(text, 10);
        assert_eq!((lines[1].start, lines[1].end), (10 + 10, 10 + 14));
    }

    #[test]
    fn trailing_terminator_gives_no_empty_line() {
        assert_eq!(py_splitlines("a\n"), ["a"]);
        assert_eq!(py_splitlines("a\n\n"), ["a", ""]);
        assert!(py_splitlines("").is_empty());
    }

    #[test]
    fn offsets_cover_terminators() {
        let lines = split_lines("ab\r\ncd", 10);
        assert_eq!(
            (lines[0].start, lines[0].content_end(), lines[0].end),
            (10, 12, 14)
        );
        assert_eq!((lines[1].start, lines[1].end), (14, 16));
    }

    #[test]
    fn python_whitespace_includes_file_separators() {
        assert!(is_blank(" \t\u{1f}"));
        assert_eq!(py_strip("\u{1c} x \u{a0}"), "x");
    }
}

//! `LineIndex`: byte offset → 1-based line and column for messages meant for people
//! (`path:line:col: ...`), without building a rope. Columns count characters, as ruff
//! and most terminals do. Line breaks are `\n`, `\r\n` and a lone `\r`, as in LSP.

/// Line starts of one text, for repeated offset → line/column look-ups.
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<usize>,
    /// Per line: whether it holds a byte outside ASCII. Columns of an ASCII line are
    /// byte differences, so locating many findings on one long line stays linear.
    wide_lines: Vec<bool>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        let mut wide_lines = vec![false];
        let mut index = 0;
        while index < bytes.len() {
            match bytes[index] {
                b'\n' => line_starts.push(index + 1),
                b'\r' if bytes.get(index + 1) != Some(&b'\n') => line_starts.push(index + 1),
                byte => {
                    if byte >= 0x80
                        && let Some(wide) = wide_lines.last_mut()
                    {
                        *wide = true;
                    }
                    index += 1;
                    continue;
                }
            }
            wide_lines.push(false);
            index += 1;
        }
        LineIndex {
            line_starts,
            wide_lines,
        }
    }

    /// The 0-based line that contains `offset` (offsets past the end give the last line).
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset) - 1
    }

    /// The byte offset where 0-based `line` starts (the text's end for lines past it).
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line).copied()
    }

    /// 1-based line and 1-based character column of `offset` in `text` (the text this
    /// index was built from).
    pub fn line_column(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        let column = if self.wide_lines.get(line) == Some(&false) {
            offset.saturating_sub(start)
        } else {
            text.get(start..offset)
                .map_or(0, |prefix| prefix.chars().count())
        };
        (line + 1, column + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lf_crlf_and_lone_cr_as_line_breaks() {
        let text = "a\nb\r\nc\rd";
        let index = LineIndex::new(text);
        assert_eq!(index.line_column(text, 0), (1, 1));
        assert_eq!(index.line_column(text, 2), (2, 1));
        assert_eq!(index.line_column(text, 5), (3, 1));
        assert_eq!(index.line_column(text, 7), (4, 1));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "é😀x";
        assert_eq!(LineIndex::new(text).line_column(text, "é😀".len()), (1, 3));
    }

    #[test]
    fn ascii_lines_after_a_wide_line_count_bytes_and_the_wide_line_characters() {
        let text = "é😀x\nab\r\ncd";
        let index = LineIndex::new(text);
        assert_eq!(index.line_column(text, "é😀".len()), (1, 3));
        assert_eq!(index.line_column(text, text.len()), (3, 3));
        assert_eq!(index.line_column(text, text.find('b').unwrap_or(0)), (2, 2));
    }

    #[test]
    fn offsets_past_the_end_clamp_to_the_end() {
        let text = "ab\n";
        assert_eq!(LineIndex::new(text).line_column(text, 99), (2, 1));
    }
}

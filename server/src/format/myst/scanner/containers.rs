//! The container rules of the scanner, block quotes and lists, as markdown-it-py 4 writes
//! them: they rewrite the line marks of the lines they hold (a quote strips its `>`, a
//! list item shifts its first line past the marker), tokenize their content with the
//! block indent of their content, and restore the marks. Lazy continuation lines of a
//! quote get `sCount = -1`, which only a paragraph goes on over.

use super::{Chain, Parent, Scanner};

/// A line's marks, kept to be restored after a block quote.
struct SavedLine {
    b_mark: usize,
    t_shift: usize,
    s_count: i64,
    bs_count: i64,
}

impl Scanner<'_> {
    fn save(&self, line: usize) -> SavedLine {
        SavedLine {
            b_mark: self.b_marks[line],
            t_shift: self.t_shift[line],
            s_count: self.s_count[line],
            bs_count: self.bs_count[line],
        }
    }

    pub(super) fn is_blockquote(&self, start: usize) -> bool {
        let pos = self.content_start(start);
        !self.is_code_block(start) && pos < self.e_marks[start] && self.src[pos] == b'>'
    }

    /// Strips the `>` marker (and one space, or part of a tab) of a quoted line and sets
    /// its marks as markdown-it does. Returns whether the rest of the line is empty.
    fn strip_quote_marker(&mut self, line: usize, mut pos: usize) -> bool {
        let max = self.e_marks[line];
        let mut initial = self.s_count[line] + 1;
        let mut offset = initial;
        let mut adjust_tab = false;
        let space_after_marker = match self.src.get(pos).filter(|_| pos < max) {
            Some(b' ') => {
                pos += 1;
                initial += 1;
                offset += 1;
                true
            }
            Some(b'\t') => {
                if (self.bs_count[line] + offset) % 4 == 3 {
                    pos += 1;
                    initial += 1;
                    offset += 1;
                } else {
                    adjust_tab = true;
                }
                true
            }
            _ => false,
        };
        self.b_marks[line] = pos;
        while pos < max {
            match self.src[pos] {
                b'\t' => {
                    offset += 4 - (offset + self.bs_count[line] + i64::from(adjust_tab)) % 4;
                }
                b' ' => offset += 1,
                _ => break,
            }
            pos += 1;
        }
        self.bs_count[line] = self.s_count[line] + 1 + i64::from(space_after_marker);
        self.s_count[line] = offset - initial;
        self.t_shift[line] = pos - self.b_marks[line];
        pos >= max
    }

    /// A block quote: `>` lines and lazy continuation lines, up to a blank line or a line
    /// that starts a block that may end a quote.
    pub(super) fn blockquote(&mut self, start: usize, end: usize) -> bool {
        if !self.is_blockquote(start) {
            return false;
        }
        let old_line_max = self.line_max;
        let mut saved = vec![self.save(start)];
        let mut last_line_empty = self.strip_quote_marker(start, self.content_start(start) + 1);
        let old_parent = self.parent;
        self.parent = Parent::Blockquote;
        let mut next = start + 1;
        while next < end {
            let is_outdented = self.s_count[next] < self.blk_indent;
            let pos = self.content_start(next);
            if pos >= self.e_marks[next] {
                break;
            }
            if self.src[pos] == b'>' && !is_outdented {
                saved.push(self.save(next));
                last_line_empty = self.strip_quote_marker(next, pos + 1);
                next += 1;
                continue;
            }
            if last_line_empty {
                break;
            }
            if self.terminates(Chain::Blockquote, next, end) {
                self.line_max = next;
                if self.blk_indent != 0 {
                    saved.push(self.save(next));
                    self.s_count[next] -= self.blk_indent;
                }
                break;
            }
            saved.push(self.save(next));
            self.s_count[next] = -1;
            next += 1;
        }
        let old_indent = self.blk_indent;
        self.blk_indent = 0;
        self.level += 1;
        self.tokenize(start, next);
        self.level -= 1;
        self.line_max = old_line_max;
        self.parent = old_parent;
        for (index, line) in saved.into_iter().enumerate() {
            let at = start + index;
            self.b_marks[at] = line.b_mark;
            self.t_shift[at] = line.t_shift;
            self.s_count[at] = line.s_count;
            self.bs_count[at] = line.bs_count;
        }
        self.blk_indent = old_indent;
        true
    }

    /// `skipBulletListMarker`: the position after a `*`, `-` or `+` marker.
    fn bullet_marker_end(&self, line: usize) -> Option<usize> {
        let pos = self.content_start(line);
        let max = self.e_marks[line];
        if pos >= max || !matches!(self.src[pos], b'*' | b'-' | b'+') {
            return None;
        }
        let after = pos + 1;
        (after >= max || matches!(self.src[after], b' ' | b'\t')).then_some(after)
    }

    /// `skipOrderedListMarker`: the position after a `1.` or `1)` marker (up to nine
    /// digits).
    fn ordered_marker_end(&self, line: usize) -> Option<usize> {
        let start = self.content_start(line);
        let max = self.e_marks[line];
        if start + 1 >= max || !self.src[start].is_ascii_digit() {
            return None;
        }
        let mut pos = start + 1;
        loop {
            if pos >= max {
                return None;
            }
            let byte = self.src[pos];
            pos += 1;
            if byte.is_ascii_digit() {
                if pos - start >= 10 {
                    return None;
                }
                continue;
            }
            if byte == b')' || byte == b'.' {
                break;
            }
            return None;
        }
        (pos >= max || matches!(self.src[pos], b' ' | b'\t')).then_some(pos)
    }

    /// The list rule's checks up to its first item: (ordered, position after the marker).
    fn list_opening(&self, start: usize, silent: bool) -> Option<(bool, usize)> {
        if self.is_code_block(start) {
            return None;
        }
        if self.list_indent >= 0
            && self.s_count[start] - self.list_indent >= 4
            && self.s_count[start] < self.blk_indent
        {
            return None;
        }
        let terminating_paragraph =
            silent && self.parent == Parent::Paragraph && self.s_count[start] >= self.blk_indent;
        let (ordered, after) = if let Some(after) = self.ordered_marker_end(start) {
            let digits = &self.src[self.content_start(start)..after - 1];
            let value = digits
                .iter()
                .fold(0u64, |value, &digit| value * 10 + u64::from(digit - b'0'));
            if terminating_paragraph && value != 1 {
                return None;
            }
            (true, after)
        } else {
            (false, self.bullet_marker_end(start)?)
        };
        if terminating_paragraph && self.skip_spaces(after) >= self.e_marks[start] {
            return None;
        }
        Some((ordered, after))
    }

    pub(super) fn is_list(&self, start: usize) -> bool {
        self.list_opening(start, true).is_some()
    }

    /// A list: items of one marker kind, each tokenized with the indent of its content.
    pub(super) fn list(&mut self, start: usize, end: usize) -> bool {
        let Some((ordered, mut after_marker)) = self.list_opening(start, false) else {
            return false;
        };
        let marker = self.src[after_marker - 1];
        self.level += 1;
        let old_parent = self.parent;
        self.parent = Parent::List;
        let mut start = start;
        let mut next = start;
        while next < end {
            let max = self.e_marks[next];
            let initial = self.s_count[next] + as_columns(after_marker - self.content_start(start));
            let mut offset = initial;
            let mut pos = after_marker;
            while pos < max {
                match self.src[pos] {
                    b'\t' => offset += 4 - (offset + self.bs_count[next]) % 4,
                    b' ' => offset += 1,
                    _ => break,
                }
                pos += 1;
            }
            let content_start = pos;
            let mut indent_after_marker = if content_start >= max {
                1
            } else {
                offset - initial
            };
            if indent_after_marker > 4 {
                indent_after_marker = 1;
            }
            let indent = initial + indent_after_marker;

            self.level += 1;
            let old_t_shift = self.t_shift[start];
            let old_s_count = self.s_count[start];
            let old_list_indent = self.list_indent;
            self.list_indent = self.blk_indent;
            self.blk_indent = indent;
            self.t_shift[start] = content_start - self.b_marks[start];
            self.s_count[start] = offset;
            if content_start >= max && self.is_empty(start + 1) {
                self.line = (self.line + 2).min(end);
            } else {
                self.tokenize(start, end);
            }
            self.blk_indent = self.list_indent;
            self.list_indent = old_list_indent;
            self.t_shift[start] = old_t_shift;
            self.s_count[start] = old_s_count;
            self.level -= 1;

            start = self.line;
            next = start;
            if next >= end
                || self.s_count[next] < self.blk_indent
                || self.is_code_block(start)
                || self.terminates(Chain::List, next, end)
            {
                break;
            }
            let following = if ordered {
                self.ordered_marker_end(next)
            } else {
                self.bullet_marker_end(next)
            };
            match following {
                Some(following) if self.src[following - 1] == marker => after_marker = following,
                _ => break,
            }
        }
        self.level -= 1;
        self.line = next;
        self.parent = old_parent;
        true
    }
}

fn as_columns(bytes: usize) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

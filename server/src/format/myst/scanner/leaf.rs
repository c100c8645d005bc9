//! The one-block rules of the scanner: front matter (only nested, see `blocks`), indented
//! code, fences, the MyST `%` comment, `+++` break and `(target)=` lines, thematic breaks,
//! ATX and setext headings, paragraphs; each as markdown-it-py 4 and mdit-py-plugins 0.7
//! write it, with a silent form (`is_*`) where the rule also ends other blocks.

use super::super::blocks::{Block, block_break, is_target};
use super::{Chain, Parent, Scanner};

/// An opening fence: its marker, run length and where its info string starts.
struct FenceOpening {
    marker: u8,
    length: usize,
    params_start: usize,
}

impl Scanner<'_> {
    /// `front_matter_plugin`: a first line of three or more dashes, up to a line of as many
    /// dashes, `...`, or a less indented line (inside a list item on line 0). The top level
    /// is read by `front_matter` before the scan; this only matters in a `- ---` item.
    pub(super) fn front_matter(&mut self, start: usize, end: usize) -> bool {
        if start != 0 || self.src.first() != Some(&b'-') {
            return false;
        }
        // As the plugin does, the dashes are counted from the second content byte on.
        let first = self.content_start(start);
        let mut pos = first + 1;
        while pos < self.e_marks[start] && self.src[pos] == b'-' {
            pos += 1;
        }
        let markers = pos - first;
        if markers < 3 {
            return false;
        }
        let mut next = start;
        let mut closed = false;
        loop {
            next += 1;
            if next >= end {
                return false;
            }
            let pos = self.content_start(next);
            let max = self.e_marks[next];
            if self.s_count[next] == 0
                && self.src[pos.min(max)..max].starts_with(b"...")
                && self.skip_spaces(pos + 3) >= max
            {
                closed = true;
                break;
            }
            if pos < max && self.s_count[next] < self.blk_indent {
                break;
            }
            if self.byte(pos) != b'-' || self.is_code_block(next) {
                continue;
            }
            let after = self.skip_byte(pos, b'-').min(max);
            if after - pos < markers || self.skip_spaces(after) < max {
                continue;
            }
            closed = true;
            break;
        }
        self.line = next + usize::from(closed);
        true
    }

    /// Indented code: lines indented four columns past the block, with blank lines between.
    pub(super) fn code(&mut self, start: usize, end: usize) -> bool {
        if !self.is_code_block(start) {
            return false;
        }
        let mut last = start + 1;
        let mut next = start + 1;
        while next < end {
            if self.is_empty(next) {
                next += 1;
            } else if self.is_code_block(next) {
                next += 1;
                last = next;
            } else {
                break;
            }
        }
        self.line = last;
        true
    }

    fn fence_opening(&self, start: usize) -> Option<FenceOpening> {
        let pos = self.content_start(start);
        let max = self.e_marks[start];
        if self.is_code_block(start) || pos + 3 > max {
            return None;
        }
        let marker = self.src[pos];
        if marker != b'~' && marker != b'`' {
            return None;
        }
        let after = self.skip_byte(pos, marker).min(max);
        let length = after - pos;
        if length < 3 || (marker == b'`' && self.src[after..max].contains(&b'`')) {
            return None;
        }
        Some(FenceOpening {
            marker,
            length,
            params_start: after,
        })
    }

    pub(super) fn is_fence(&self, start: usize) -> bool {
        self.fence_opening(start).is_some()
    }

    /// A fenced code block, closed by a line of at least as many of its marker characters
    /// (or ended by the end of its container).
    pub(super) fn fence(&mut self, start: usize, end: usize) -> bool {
        let Some(opening) = self.fence_opening(start) else {
            return false;
        };
        let mut next = start;
        let mut closed = false;
        loop {
            next += 1;
            if next >= end {
                break;
            }
            let pos = self.content_start(next);
            let max = self.e_marks[next];
            if pos < max && self.s_count[next] < self.blk_indent {
                break;
            }
            if pos >= max || self.src[pos] != opening.marker || self.is_code_block(next) {
                continue;
            }
            let after = self.skip_byte(pos, opening.marker).min(max);
            if after - pos < opening.length || self.skip_spaces(after) < max {
                continue;
            }
            closed = true;
            break;
        }
        self.line = next + usize::from(closed);
        let max = self.e_marks[start];
        let info = self
            .text
            .get(opening.params_start..max)
            .unwrap_or("")
            .to_string();
        self.record(Block::Fence {
            start_line: start,
            end_line: self.line.min(self.text_lines),
            closed,
            info,
            indent: usize::try_from(self.s_count[start]).unwrap_or(0),
        });
        true
    }

    pub(super) fn is_line_comment(&self, start: usize) -> bool {
        !self.is_code_block(start) && self.byte(self.content_start(start)) == b'%'
    }

    /// A run of `%` lines (the lines after the first may have any indentation).
    pub(super) fn line_comment(&mut self, start: usize, end: usize) -> bool {
        if !self.is_line_comment(start) {
            return false;
        }
        let mut next = start + 1;
        while next < end && self.byte(self.content_start(next)) == b'%' {
            next += 1;
        }
        self.line = next;
        true
    }

    pub(super) fn is_block_break(&self, start: usize) -> bool {
        !self.is_code_block(start) && block_break(self.line_text(start)).is_some()
    }

    /// A `+++` line: a cell break, with the trimmed text after the pluses.
    pub(super) fn block_break(&mut self, start: usize) -> bool {
        if self.is_code_block(start) {
            return false;
        }
        let Some((_, content)) = block_break(self.line_text(start)) else {
            return false;
        };
        self.line = start + 1;
        self.record(Block::Break {
            line: start,
            content,
        });
        true
    }

    pub(super) fn is_target(&self, start: usize) -> bool {
        !self.is_code_block(start) && is_target(self.line_text(start))
    }

    pub(super) fn target(&mut self, start: usize) -> bool {
        if !self.is_target(start) {
            return false;
        }
        self.line = start + 1;
        true
    }

    /// A thematic break: three or more of one of `*`, `-`, `_`, spaces and tabs between.
    pub(super) fn is_hr(&self, start: usize) -> bool {
        if self.is_code_block(start) {
            return false;
        }
        let rest = self.line_text(start).as_bytes();
        let Some(&marker) = rest
            .first()
            .filter(|byte| matches!(byte, b'*' | b'-' | b'_'))
        else {
            return false;
        };
        let mut count = 0;
        for &byte in rest {
            if byte == marker {
                count += 1;
            } else if byte != b' ' && byte != b'\t' {
                return false;
            }
        }
        count >= 3
    }

    pub(super) fn hr(&mut self, start: usize) -> bool {
        if !self.is_hr(start) {
            return false;
        }
        self.line = start + 1;
        true
    }

    /// An ATX heading: one to six `#`, then a space, a tab or the end of the line.
    pub(super) fn is_heading(&self, start: usize) -> bool {
        if self.is_code_block(start) {
            return false;
        }
        let rest = self.line_text(start).as_bytes();
        if rest.first() != Some(&b'#') {
            return false;
        }
        let hashes = rest.iter().take_while(|&&byte| byte == b'#').count();
        hashes <= 6
            && rest
                .get(hashes)
                .is_none_or(|&byte| byte == b' ' || byte == b'\t')
    }

    pub(super) fn heading(&mut self, start: usize) -> bool {
        if !self.is_heading(start) {
            return false;
        }
        self.line = start + 1;
        true
    }

    /// A setext heading: paragraph lines up to a `===` or `---` underline. Like markdown-it,
    /// a miss leaves `parentType` at "paragraph".
    pub(super) fn lheading(&mut self, start: usize, end: usize) -> bool {
        if self.is_code_block(start) {
            return false;
        }
        let old_parent = self.parent;
        self.parent = Parent::Paragraph;
        let mut next = start + 1;
        let mut underline = false;
        while next < end && !self.is_empty(next) {
            if self.s_count[next] - self.blk_indent > 3 {
                next += 1;
                continue;
            }
            if self.s_count[next] >= self.blk_indent {
                let pos = self.content_start(next);
                let max = self.e_marks[next];
                if pos < max && matches!(self.src[pos], b'-' | b'=') {
                    let after = self.skip_spaces(self.skip_byte(pos, self.src[pos]).min(max));
                    if after >= max {
                        underline = true;
                        break;
                    }
                }
            }
            if self.s_count[next] < 0 {
                next += 1;
                continue;
            }
            if self.terminates(Chain::Paragraph, next, end) {
                break;
            }
            next += 1;
        }
        if !underline {
            return false;
        }
        self.line = next + 1;
        self.parent = old_parent;
        true
    }

    /// A paragraph: lines up to a blank line or a line another block may interrupt it with.
    pub(super) fn paragraph(&mut self, start: usize) {
        let end = self.line_max;
        let old_parent = self.parent;
        self.parent = Parent::Paragraph;
        let mut next = start + 1;
        while next < end {
            if self.is_empty(next) {
                break;
            }
            if self.s_count[next] - self.blk_indent > 3 || self.s_count[next] < 0 {
                next += 1;
                continue;
            }
            if self.terminates(Chain::Paragraph, next, end) {
                break;
            }
            next += 1;
        }
        self.line = next;
        self.parent = old_parent;
    }
}

/// markdown-it's `mdTrim` characters (JavaScript's `trim` without U+FEFF).
pub(super) fn is_md_trim(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\x0b' | '\x0c' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

//! LSP positions of byte offsets met in increasing order (a notebook's cells, one after
//! the other), at amortised constant cost each. `Document::offset_to_position` bisects
//! the line starts and asks the rope for char boundaries and UTF-16 counts on every call:
//! for the lenses, symbols and folding of a 100,000-cell notebook that was most of the
//! answer's time. Here the line moves forward from the previous offset's, and characters
//! are counted in the line's own text (a byte difference on ASCII lines). Same rules as
//! `Document::offset_to_position`: an offset is clamped to the text, rounded down to a
//! char boundary, and one inside a line break maps to the end of its line.

use tower_lsp_server::ls_types as lsp;

use super::state::Snapshot;
use crate::text::{Document, PositionEncoding, Span};

/// A cursor over one document's lines.
/// Lines walked forward before bisecting instead (a cell is a few lines).
const WALK: usize = 8;

pub struct Positions<'a> {
    document: &'a Document,
    text: &'a str,
    encoding: PositionEncoding,
    /// The line of the previous offset.
    line: usize,
    /// Whether `text` is the document's text; if not, the document converts.
    fits: bool,
}

impl<'a> Positions<'a> {
    /// Over a snapshot's document, with its analysed text when that is the document's.
    pub fn of(snapshot: &'a Snapshot) -> Self {
        let text = snapshot.file().map_or("", |file| file.text.as_str());
        let mut positions = Positions::new(&snapshot.document, text, snapshot.encoding);
        positions.fits &= snapshot.current;
        positions
    }

    fn new(document: &'a Document, text: &'a str, encoding: PositionEncoding) -> Self {
        Positions {
            document,
            text,
            encoding,
            line: 0,
            fits: text.len() == document.len_bytes(),
        }
    }

    /// The 0-based line of `offset`.
    pub fn line(&mut self, offset: usize) -> u32 {
        if !self.fits {
            return self.document.offset_to_position(offset, self.encoding).line;
        }
        let offset = self.floor(offset);
        to_u32(self.seek(offset))
    }

    pub fn position(&mut self, offset: usize) -> lsp::Position {
        if !self.fits {
            let position = self.document.offset_to_position(offset, self.encoding);
            return lsp::Position::new(position.line, position.character);
        }
        let offset = self.floor(offset);
        let line = self.seek(offset);
        let start = self.line_start(line);
        let offset = offset.min(self.content_end(line));
        let character = units(&self.text[start..offset], self.encoding);
        lsp::Position::new(to_u32(line), to_u32(character))
    }

    pub fn range(&mut self, span: Span) -> lsp::Range {
        let start = self.position(span.start);
        lsp::Range::new(start, self.position(span.end))
    }

    /// Moves to the line that holds `offset` (a char boundary within the text): a few
    /// lines forward one at a time (the next cell), else by bisection.
    fn seek(&mut self, offset: usize) -> usize {
        let lines = self.document.line_count().max(1);
        if offset >= self.line_start(self.line) {
            for _ in 0..WALK {
                match self.document.line_start(self.line + 1) {
                    Some(next) if next <= offset => self.line += 1,
                    _ => return self.line,
                }
            }
            self.line = self.last_line_at(offset, self.line, lines);
        } else {
            self.line = self.last_line_at(offset, 0, self.line);
        }
        self.line
    }

    /// The last line in `low..high` that starts at or before `offset` (`low` does).
    fn last_line_at(&self, offset: usize, mut low: usize, mut high: usize) -> usize {
        while high - low > 1 {
            let middle = low + (high - low) / 2;
            if self.line_start(middle) <= offset {
                low = middle;
            } else {
                high = middle;
            }
        }
        low
    }

    fn line_start(&self, line: usize) -> usize {
        self.document.line_start(line).unwrap_or(0)
    }

    /// End of `line`'s content: before its `\n`, `\r\n` or `\r`.
    fn content_end(&self, line: usize) -> usize {
        let start = self.line_start(line);
        let Some(next) = self.document.line_start(line + 1) else {
            return self.text.len();
        };
        let bytes = self.text.as_bytes();
        let mut end = next;
        if end > start && bytes.get(end - 1) == Some(&b'\n') {
            end -= 1;
        }
        if end > start && bytes.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        end
    }

    fn floor(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }
}

/// The length of `text` in `encoding`'s units.
fn units(text: &str, encoding: PositionEncoding) -> usize {
    if text.is_ascii() {
        return text.len();
    }
    match encoding {
        PositionEncoding::Utf8 => text.len(),
        PositionEncoding::Utf16 => text.chars().map(char::len_utf16).sum(),
        PositionEncoding::Utf32 => text.chars().count(),
    }
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ENCODINGS: [PositionEncoding; 3] = [
        PositionEncoding::Utf8,
        PositionEncoding::Utf16,
        PositionEncoding::Utf32,
    ];

    fn documents_own(
        document: &Document,
        offset: usize,
        encoding: PositionEncoding,
    ) -> lsp::Position {
        let position = document.offset_to_position(offset, encoding);
        lsp::Position::new(position.line, position.character)
    }

    #[test]
    fn line_breaks_wide_characters_and_offsets_inside_them() {
        let text = "# %%\r\nx = \"é😀\"\r# %% [markdown]\n\n";
        let document = Document::new(text, 1);
        for encoding in ENCODINGS {
            let mut positions = Positions::new(&document, text, encoding);
            for offset in 0..=text.len() + 2 {
                assert_eq!(
                    positions.position(offset),
                    documents_own(&document, offset, encoding),
                    "offset {offset}, {encoding:?}"
                );
            }
        }
    }

    proptest! {
        /// Any text, offsets in any order: the document's own answer.
        #[test]
        fn the_documents_positions_in_any_order(
            text in "(a|é|😀|\n|\r|\r\n| ){0,60}",
            offsets in proptest::collection::vec(0usize..80, 0..30),
        ) {
            let document = Document::new(&text, 1);
            for encoding in ENCODINGS {
                let mut positions = Positions::new(&document, &text, encoding);
                for &offset in &offsets {
                    prop_assert_eq!(
                        positions.position(offset),
                        documents_own(&document, offset, encoding)
                    );
                    prop_assert_eq!(
                        positions.line(offset),
                        documents_own(&document, offset, encoding).line
                    );
                }
            }
        }
    }
}

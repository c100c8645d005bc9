//! An open document: its text in a ropey rope, edits as LSP sends them, and conversion
//! between byte offsets and line/character positions in UTF-8, UTF-16 or UTF-32.
//!
//! Lines follow LSP's rule (`\n`, `\r\n` and a lone `\r` end a line; nothing else does),
//! so the document keeps its own table of line starts, updated around each edit, instead
//! of ropey's line index, which also breaks at U+2028, U+0085, form feed and the like.
//! Positions are plain types here; `lsp/` converts them to and from `lsp_types`.
//!
//! Clamping, as clients expect: a character past the end of its line means the end of
//! the line (before its line break), a line past the last means the end of the text, a
//! character inside a surrogate pair (UTF-16) or inside a UTF-8 sequence means the start
//! of that character, and a byte offset between the `\r` and `\n` of a CRLF maps to the
//! end of its line.

use std::fmt;
use std::sync::Arc;

use ropey::Rope;

use crate::text::Span;
use crate::text::changed::ChangedBytes;
use crate::text::edit_log::EditLog;

/// A zero-based line and character offset, counted in the units of a
/// [`PositionEncoding`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

impl Position {
    pub fn new(line: u32, character: u32) -> Self {
        Position { line, character }
    }
}

/// A half-open range between two positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PositionRange {
    pub start: Position,
    pub end: Position,
}

impl PositionRange {
    pub fn new(start: Position, end: Position) -> Self {
        PositionRange { start, end }
    }
}

/// What a position's `character` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PositionEncoding {
    /// Bytes of UTF-8.
    Utf8,
    /// UTF-16 code units (the LSP default: astral characters count 2).
    #[default]
    Utf16,
    /// Unicode scalar values.
    Utf32,
}

/// The text of an open document with its version.
#[derive(Debug, Clone)]
pub struct Document {
    rope: Rope,
    /// Byte offset of the start of every line, by LSP's rule; always starts with 0.
    /// Shared, so that a snapshot of the buffer (a clone) copies no table; an edit
    /// copies it only while a snapshot still holds the old one.
    line_starts: Arc<Vec<usize>>,
    version: i32,
    /// The byte ranges the edits changed, by revision.
    edits: EditLog,
}

impl Document {
    pub fn new(text: &str, version: i32) -> Self {
        Document {
            rope: Rope::from_str(text),
            line_starts: Arc::new(line_starts(text.as_bytes())),
            version,
            edits: EditLog::default(),
        }
    }

    /// The whole text.
    pub fn text(&self) -> String {
        // One allocation and a copy per chunk (`to_string` goes through `fmt` and grows).
        let mut text = String::with_capacity(self.rope.len_bytes());
        for chunk in self.rope.chunks() {
            text.push_str(chunk);
        }
        text
    }

    /// The whole text, built from `base` (this buffer's text at an earlier revision) and
    /// `change`, the bytes that changed since ([`Document::changes_since`]): `base`'s
    /// unchanged bytes are copied in two runs and only the changed ones are read from
    /// the rope, whose chunks lie scattered over the heap. `None` when the change does
    /// not fit `base` or its ends are not character boundaries.
    pub fn text_after(&self, base: &str, change: ChangedBytes) -> Option<String> {
        if !change.fits(base.len(), self.len_bytes())
            || !base.is_char_boundary(change.start)
            || !base.is_char_boundary(change.old_end)
        {
            return None;
        }
        let changed = self.rope.get_byte_slice(change.start..change.new_end)?;
        let mut text = String::with_capacity(self.len_bytes());
        text.push_str(&base[..change.start]);
        for chunk in changed.chunks() {
            text.push_str(chunk);
        }
        text.push_str(&base[change.old_end..]);
        debug_assert!(text == self.text(), "the edit log missed a change");
        Some(text)
    }

    /// The text a span covers, clamped to the text and to char boundaries.
    pub fn slice(&self, span: Span) -> String {
        let start = self.floor_char_boundary(span.start);
        let end = self.floor_char_boundary(span.end).max(start);
        self.rope.byte_slice(start..end).to_string()
    }

    pub fn rope(&self) -> &Rope {
        &self.rope
    }

    pub fn len_bytes(&self) -> usize {
        self.rope.len_bytes()
    }

    /// Number of lines by LSP's rule: one more than the number of line breaks (a text
    /// ending in a newline has an empty last line).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte offset where `line` starts, or `None` past the last line.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line).copied()
    }

    /// Byte span of `line`'s content, without its line break.
    pub fn line_span(&self, line: usize) -> Option<Span> {
        let start = self.line_start(line)?;
        Some(Span::new(start, self.line_content_end(line)))
    }

    pub fn version(&self) -> i32 {
        self.version
    }

    pub fn set_version(&mut self, version: i32) {
        self.version = version;
    }

    /// Which text this is ([`EditLog::revision`]): every replacement gives a new one.
    pub fn revision(&self) -> u64 {
        self.edits.revision()
    }

    /// The bytes that changed since `revision` ([`EditLog::since`]): `None` when that is
    /// too far back to tell.
    pub fn changes_since(&self, revision: u64) -> Option<ChangedBytes> {
        self.edits.since(revision, self.len_bytes())
    }

    /// Applies one LSP content change: replaces `range` (or, if `None`, the whole text)
    /// with `new_text`. Returns the byte span of the text that was replaced.
    pub fn apply_change(
        &mut self,
        range: Option<PositionRange>,
        new_text: &str,
        encoding: PositionEncoding,
    ) -> Span {
        let Some(range) = range else {
            let old = Span::new(0, self.len_bytes());
            let mut edits = std::mem::take(&mut self.edits);
            edits.record(
                ChangedBytes {
                    start: 0,
                    old_end: old.end,
                    new_end: new_text.len(),
                },
                old.end,
            );
            *self = Document::new(new_text, self.version);
            self.edits = edits;
            return old;
        };
        let a = self.position_to_offset(range.start, encoding);
        let b = self.position_to_offset(range.end, encoding);
        let (start, end) = (a.min(b), a.max(b));
        self.replace(Span::new(start, end), new_text);
        Span::new(start, end)
    }

    /// Replaces the bytes of `span` (clamped to the text and to char boundaries) with
    /// `new_text`.
    pub fn replace(&mut self, span: Span, new_text: &str) {
        let start = self.floor_char_boundary(span.start);
        let end = self.floor_char_boundary(span.end).max(start);
        let old_len = self.len_bytes();
        let start_char = self.rope.byte_to_char(start);
        let end_char = self.rope.byte_to_char(end);
        self.rope.remove(start_char..end_char);
        self.rope.insert(start_char, new_text);
        self.update_line_starts(start, end, new_text);
        let change = ChangedBytes {
            start,
            old_end: end,
            new_end: start + new_text.len(),
        };
        self.edits.record(change, old_len);
    }

    /// Re-derives the line starts that an edit of `start..end` (old text) to `new_text` can
    /// affect. A line starts at `p` iff the byte before is `\n`, or is `\r` not followed by
    /// `\n`, so only starts in `start..=end` depend on changed bytes; later ones shift.
    fn update_line_starts(&mut self, start: usize, end: usize, new_text: &str) {
        let inserted = new_text.as_bytes();
        let new_end = start + inserted.len();
        let len = self.rope.len_bytes();
        let byte_at = |index: usize| -> Option<u8> {
            if index >= start && index < new_end {
                inserted.get(index - start).copied()
            } else if index < len {
                Some(self.rope.byte(index))
            } else {
                None
            }
        };
        let mut recomputed = Vec::new();
        for position in start..=new_end {
            let starts_line = position == 0
                || match byte_at(position - 1) {
                    Some(b'\n') => true,
                    Some(b'\r') => byte_at(position) != Some(b'\n'),
                    _ => false,
                };
            if starts_line {
                recomputed.push(position);
            }
        }
        let line_starts = Arc::make_mut(&mut self.line_starts);
        let first = line_starts.partition_point(|&s| s < start);
        let after = line_starts.partition_point(|&s| s <= end);
        let tail_from = first + recomputed.len();
        line_starts.splice(first..after, recomputed);
        for line_start in &mut line_starts[tail_from..] {
            *line_start = *line_start - end + new_end;
        }
    }

    /// The position of `byte_offset` (clamped to the text; rounded down to a char
    /// boundary; an offset inside a CRLF maps to the end of its line).
    pub fn offset_to_position(&self, byte_offset: usize, encoding: PositionEncoding) -> Position {
        let offset = self.floor_char_boundary(byte_offset);
        let line = self
            .line_starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1);
        let line_start = self.line_starts.get(line).copied().unwrap_or(0);
        let offset = offset.min(self.line_content_end(line));
        let character = self.count_units(line_start, offset, encoding);
        Position::new(
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(character).unwrap_or(u32::MAX),
        )
    }

    /// The byte offset of `position`, clamped as LSP clients expect: past the end of its
    /// line → end of the line; past the last line → end of the text; inside a character
    /// (surrogate pair, UTF-8 sequence) → start of that character.
    pub fn position_to_offset(&self, position: Position, encoding: PositionEncoding) -> usize {
        let line = position.line as usize;
        let Some(&line_start) = self.line_starts.get(line) else {
            return self.len_bytes();
        };
        let line_end = self.line_content_end(line);
        let character = position.character as usize;
        match encoding {
            PositionEncoding::Utf8 => {
                let target = line_start.saturating_add(character);
                if target >= line_end {
                    line_end
                } else {
                    self.floor_char_boundary(target)
                }
            }
            PositionEncoding::Utf16 => {
                let start_unit = self
                    .rope
                    .char_to_utf16_cu(self.rope.byte_to_char(line_start));
                let end_unit = self.rope.char_to_utf16_cu(self.rope.byte_to_char(line_end));
                let target = start_unit.saturating_add(character);
                if target >= end_unit {
                    line_end
                } else {
                    self.rope.char_to_byte(self.rope.utf16_cu_to_char(target))
                }
            }
            PositionEncoding::Utf32 => {
                let start_char = self.rope.byte_to_char(line_start);
                let end_char = self.rope.byte_to_char(line_end);
                let target = start_char.saturating_add(character);
                if target >= end_char {
                    line_end
                } else {
                    self.rope.char_to_byte(target)
                }
            }
        }
    }

    /// The span of a position range (ends ordered).
    pub fn range_to_span(&self, range: PositionRange, encoding: PositionEncoding) -> Span {
        let a = self.position_to_offset(range.start, encoding);
        let b = self.position_to_offset(range.end, encoding);
        Span::new(a.min(b), a.max(b))
    }

    /// The position range of a byte span.
    pub fn span_to_range(&self, span: Span, encoding: PositionEncoding) -> PositionRange {
        PositionRange::new(
            self.offset_to_position(span.start, encoding),
            self.offset_to_position(span.end, encoding),
        )
    }

    /// End of `line`'s content: before its `\n`, `\r\n` or `\r`.
    fn line_content_end(&self, line: usize) -> usize {
        let Some(&next) = self.line_starts.get(line + 1) else {
            return self.len_bytes();
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let mut end = next;
        if end > start && self.rope.byte(end - 1) == b'\n' {
            end -= 1;
        }
        if end > start && self.rope.byte(end - 1) == b'\r' {
            end -= 1;
        }
        end
    }

    fn count_units(&self, from: usize, to: usize, encoding: PositionEncoding) -> usize {
        match encoding {
            PositionEncoding::Utf8 => to - from,
            PositionEncoding::Utf16 => {
                self.rope.char_to_utf16_cu(self.rope.byte_to_char(to))
                    - self.rope.char_to_utf16_cu(self.rope.byte_to_char(from))
            }
            PositionEncoding::Utf32 => self.rope.byte_to_char(to) - self.rope.byte_to_char(from),
        }
    }

    fn floor_char_boundary(&self, offset: usize) -> usize {
        let offset = offset.min(self.len_bytes());
        self.rope.char_to_byte(self.rope.byte_to_char(offset))
    }
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.rope.chunks() {
            f.write_str(chunk)?;
        }
        Ok(())
    }
}

/// Line starts of `text` by LSP's rule.
fn line_starts(text: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    for (index, byte) in text.iter().enumerate() {
        match byte {
            b'\n' => starts.push(index + 1),
            b'\r' if text.get(index + 1) != Some(&b'\n') => starts.push(index + 1),
            _ => {}
        }
    }
    // Kept for as long as the buffer is open: no spare capacity.
    starts.shrink_to_fit();
    starts
}

#[cfg(test)]
mod tests {
    use super::*;
    use PositionEncoding::{Utf8, Utf16, Utf32};
    use proptest::prelude::*;

    const ALL: [PositionEncoding; 3] = [Utf8, Utf16, Utf32];

    fn pos(line: u32, character: u32) -> Position {
        Position::new(line, character)
    }

    fn range(a: (u32, u32), b: (u32, u32)) -> Option<PositionRange> {
        Some(PositionRange::new(pos(a.0, a.1), pos(b.0, b.1)))
    }

    #[test]
    fn lines_break_at_lf_crlf_and_lone_cr_only() {
        let doc = Document::new("a\nb\r\nc\rd\u{2028}e\u{85}f\u{c}g", 0);
        assert_eq!(doc.line_count(), 4);
        assert_eq!(
            doc.line_span(3).map(|s| doc.slice(s)).as_deref(),
            Some("d\u{2028}e\u{85}f\u{c}g")
        );
        assert_eq!(doc.line_span(1).map(|s| doc.slice(s)).as_deref(), Some("b"));
    }

    #[test]
    fn a_final_newline_makes_an_empty_last_line() {
        assert_eq!(Document::new("", 0).line_count(), 1);
        assert_eq!(Document::new("x", 0).line_count(), 1);
        assert_eq!(Document::new("x\n", 0).line_count(), 2);
        assert_eq!(Document::new("x\r", 0).line_count(), 2);
        let doc = Document::new("x\n", 0);
        assert_eq!(doc.offset_to_position(2, Utf16), pos(1, 0));
    }

    #[test]
    fn astral_characters_count_two_utf16_units() {
        let doc = Document::new("a😀b\n", 0);
        let b = "a😀".len();
        assert_eq!(doc.offset_to_position(b, Utf8), pos(0, 5));
        assert_eq!(doc.offset_to_position(b, Utf16), pos(0, 3));
        assert_eq!(doc.offset_to_position(b, Utf32), pos(0, 2));
        for encoding in ALL {
            let position = doc.offset_to_position(b, encoding);
            assert_eq!(doc.position_to_offset(position, encoding), b);
        }
    }

    #[test]
    fn a_position_inside_a_surrogate_pair_means_the_start_of_the_character() {
        let doc = Document::new("a😀b", 0);
        assert_eq!(doc.position_to_offset(pos(0, 2), Utf16), 1);
        assert_eq!(doc.position_to_offset(pos(0, 3), Utf8), 1);
    }

    #[test]
    fn a_character_past_the_line_end_clamps_before_the_line_break() {
        let doc = Document::new("ab\r\ncd\nef", 0);
        for encoding in ALL {
            assert_eq!(doc.position_to_offset(pos(0, 2), encoding), 2);
            assert_eq!(doc.position_to_offset(pos(0, 3), encoding), 2);
            assert_eq!(doc.position_to_offset(pos(0, 99), encoding), 2);
            assert_eq!(doc.position_to_offset(pos(1, 9), encoding), 6);
            assert_eq!(doc.position_to_offset(pos(2, 9), encoding), 9);
        }
    }

    #[test]
    fn a_line_past_the_end_means_the_end_of_the_text() {
        let doc = Document::new("ab\ncd", 0);
        assert_eq!(doc.position_to_offset(pos(7, 0), Utf16), 5);
        assert_eq!(doc.position_to_offset(pos(u32::MAX, u32::MAX), Utf8), 5);
    }

    #[test]
    fn an_offset_inside_a_crlf_maps_to_the_end_of_its_line() {
        let doc = Document::new("ab\r\ncd", 0);
        assert_eq!(doc.offset_to_position(3, Utf16), pos(0, 2));
        assert_eq!(doc.offset_to_position(4, Utf16), pos(1, 0));
        assert_eq!(doc.offset_to_position(99, Utf16), pos(1, 2));
    }

    #[test]
    fn an_offset_inside_a_utf8_sequence_rounds_down() {
        let doc = Document::new("é", 0);
        assert_eq!(doc.offset_to_position(1, Utf8), pos(0, 0));
        assert_eq!(doc.offset_to_position(2, Utf16), pos(0, 1));
    }

    #[test]
    fn incremental_edits_replace_the_range() {
        let mut doc = Document::new("hello\nworld\n", 1);
        let replaced = doc.apply_change(range((0, 1), (1, 2)), "ipp\nwo", Utf16);
        assert_eq!(replaced, Span::new(1, 8));
        assert_eq!(doc.text(), "hipp\nworld\n");
        doc.apply_change(range((2, 0), (2, 0)), "tail", Utf16);
        assert_eq!(doc.to_string(), "hipp\nworld\ntail");
        assert_eq!(doc.line_count(), 3);
        doc.apply_change(None, "new", Utf16);
        assert_eq!(doc.text(), "new");
        assert_eq!(doc.version(), 1);
        doc.set_version(2);
        assert_eq!(doc.version(), 2);
    }

    #[test]
    fn the_text_after_edits_is_built_from_the_earlier_text_and_the_change() {
        let mut doc = Document::new("a = 1\né = 2\nc = 3\n", 1);
        let (base, revision) = (doc.text(), doc.revision());
        doc.replace(Span::new(4, 5), "10");
        doc.replace(Span::new(7, 9), "ü");
        let change = doc.changes_since(revision).unwrap();
        assert_eq!(
            doc.text_after(&base, change).as_deref(),
            Some(doc.text().as_str())
        );
        // A change that does not fit the base, or ends inside a character of it.
        assert_eq!(doc.text_after("a = 1\n", change), None);
        let inside = ChangedBytes {
            start: 7,
            old_end: 8,
            new_end: 7,
        };
        let base = "a = 10\né = 2\nc = 3\n\n";
        assert!(inside.fits(base.len(), doc.len_bytes()));
        assert_eq!(doc.text_after(base, inside), None);
    }

    #[test]
    fn an_edit_that_joins_cr_and_lf_makes_one_line_break() {
        let mut doc = Document::new("a\rX\nb", 0);
        assert_eq!(doc.line_count(), 3);
        doc.apply_change(range((1, 0), (1, 1)), "", Utf16);
        assert_eq!(doc.text(), "a\r\nb");
        assert_eq!(doc.line_count(), 2);
        assert_eq!(*doc.line_starts, line_starts(doc.text().as_bytes()));
    }

    #[test]
    fn an_edit_that_splits_a_crlf_makes_two_line_breaks() {
        let mut doc = Document::new("a\r\nb", 0);
        doc.replace(Span::new(2, 2), "X");
        assert_eq!(doc.text(), "a\rX\nb");
        assert_eq!(doc.line_count(), 3);
    }

    /// Reference conversion over a plain string, written the obvious way.
    fn naive_position_to_offset(
        text: &str,
        position: Position,
        encoding: PositionEncoding,
    ) -> usize {
        let mut line_start = 0;
        for _ in 0..position.line {
            let rest = &text[line_start..];
            match rest.find(['\r', '\n']) {
                None => return text.len(),
                Some(i) => {
                    let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                    line_start += i + skip;
                }
            }
        }
        let line_end = text[line_start..]
            .find(['\r', '\n'])
            .map_or(text.len(), |i| line_start + i);
        let mut units = 0usize;
        for (index, c) in text[line_start..line_end].char_indices() {
            let width = match encoding {
                Utf8 => c.len_utf8(),
                Utf16 => c.len_utf16(),
                Utf32 => 1,
            };
            if units + width > position.character as usize {
                return line_start + index;
            }
            units += width;
        }
        line_end
    }

    fn text_strategy() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("a"),
                Just("é"),
                Just("😀"),
                Just("\n"),
                Just("\r"),
                Just("\r\n"),
                Just("\u{2028}"),
                Just("xyz"),
            ],
            0..24,
        )
        .prop_map(|parts| parts.concat())
    }

    fn encoding_strategy() -> impl Strategy<Value = PositionEncoding> {
        prop_oneof![Just(Utf8), Just(Utf16), Just(Utf32)]
    }

    proptest! {
        #[test]
        fn random_edits_match_the_same_edits_on_a_string(
            initial in text_strategy(),
            edits in proptest::collection::vec(
                ((0u32..8, 0u32..10), (0u32..8, 0u32..10), text_strategy(), encoding_strategy()),
                0..12,
            ),
        ) {
            let mut doc = Document::new(&initial, 0);
            let mut model = initial.clone();
            for ((l1, c1), (l2, c2), new_text, encoding) in edits {
                let a = naive_position_to_offset(&model, pos(l1, c1), encoding);
                let b = naive_position_to_offset(&model, pos(l2, c2), encoding);
                model.replace_range(a.min(b)..a.max(b), &new_text);
                doc.apply_change(range((l1, c1), (l2, c2)), &new_text, encoding);
                prop_assert_eq!(doc.text(), model.clone());
                prop_assert_eq!(&*doc.line_starts, &line_starts(model.as_bytes()));
            }
        }

        #[test]
        fn offsets_round_trip_through_positions(text in text_strategy()) {
            let doc = Document::new(&text, 0);
            for (offset, _) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
                let inside_crlf = offset > 0
                    && text.as_bytes()[offset - 1] == b'\r'
                    && text.as_bytes().get(offset) == Some(&b'\n');
                if inside_crlf {
                    continue;
                }
                for encoding in ALL {
                    let position = doc.offset_to_position(offset, encoding);
                    prop_assert_eq!(doc.position_to_offset(position, encoding), offset);
                    prop_assert_eq!(naive_position_to_offset(&text, position, encoding), offset);
                }
            }
        }

        #[test]
        fn positions_agree_with_the_reference(
            text in text_strategy(),
            line in 0u32..10,
            character in 0u32..12,
            encoding in encoding_strategy(),
        ) {
            let doc = Document::new(&text, 0);
            prop_assert_eq!(
                doc.position_to_offset(pos(line, character), encoding),
                naive_position_to_offset(&text, pos(line, character), encoding)
            );
        }
    }
}

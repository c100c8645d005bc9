//! A notebook's cells in text order, kept so that an edit's re-read shares what it did
//! not touch.
//!
//! Each cell is stored with its spans relative to its own start, in a
//! [`ChunkList`] (chunks of about 64 cells behind `Arc`s), and the starts are kept
//! apart, one plain offset per cell. A re-read after an edit ([`Cells::spliced`]) shares
//! every chunk outside the cells it read again and moves the starts after the edit by
//! its length: no reference count is taken or dropped per untouched cell, and the
//! previous reading frees only the chunks it does not share.
//!
//! Read cells through [`PlacedCell`] (`get`, `at`, `iter`, `first`, `last`), which
//! carries the cell's spans in the text; indexing (`cells[i]`) gives the content alone.

use std::fmt;
use std::ops::{Index, IndexMut};
use std::sync::Arc;

use crate::format::{Cell, CellContent, CellSpans};
use crate::text::Span;
use crate::text::chunk_list::{ChunkList, ChunkListBuilder};

/// See the module docs.
#[derive(Clone, Default)]
pub struct Cells {
    /// Each cell with spans relative to its start (`spans.whole.start` is 0).
    local: ChunkList<Cell>,
    /// Where each cell starts in the text (`whole.start`).
    starts: Vec<usize>,
}

/// A cell of a [`Cells`] with its spans in the text. Reads the content through `Deref`
/// (`cell.source`, `cell.spec`).
#[derive(Clone, Copy)]
pub struct PlacedCell<'a> {
    content: &'a Arc<CellContent>,
    pub spans: CellSpans,
}

impl Cells {
    pub fn new() -> Self {
        Cells::default()
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<PlacedCell<'_>> {
        let cell = self.local.get(index)?;
        Some(placed(cell, self.starts[index]))
    }

    /// [`Cells::get`] of an index known to be in the list (out of it panics, as
    /// indexing does).
    pub fn at(&self, index: usize) -> PlacedCell<'_> {
        match self.get(index) {
            Some(cell) => cell,
            None => panic!("cell {index} out of {}", self.len()),
        }
    }

    pub fn first(&self) -> Option<PlacedCell<'_>> {
        self.get(0)
    }

    pub fn last(&self) -> Option<PlacedCell<'_>> {
        self.get(self.len().checked_sub(1)?)
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            cells: self.local.iter(),
            starts: self.starts.iter(),
        }
    }

    /// The index of the first cell for which `before` is false, `before` being true of
    /// every cell up to some index and false after (as `slice::partition_point`).
    pub fn partition_point(&self, before: impl Fn(PlacedCell<'_>) -> bool) -> usize {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let middle = low + (high - low) / 2;
            if before(self.at(middle)) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        low
    }

    /// Where each cell starts in the text, in order.
    pub fn starts(&self) -> &[usize] {
        &self.starts
    }

    /// Standalone copies of the cells (sharing their content), to change and gather
    /// again with [`Cells::from`].
    pub fn to_vec(&self) -> Vec<Cell> {
        self.iter().map(PlacedCell::to_cell).collect()
    }

    /// Appends a cell. Copies the last chunk and the starts: build a long list with
    /// `collect` or [`Cells::from`] instead.
    pub fn push(&mut self, cell: Cell) {
        self.insert(self.len(), cell);
    }

    /// Inserts a cell at `index` (past the end: at the end), the others where they
    /// are. Copies the chunk it goes into and the starts: for building notebooks, not
    /// for edits.
    pub fn insert(&mut self, index: usize, cell: Cell) {
        *self = Cells::spliced(self, index, vec![cell], index, 0);
    }

    /// Changes the cells in place (content or spans), copying no content a previous
    /// reading does not still share.
    pub fn update(&mut self, mut change: impl FnMut(&mut Cell)) {
        let old = std::mem::take(self);
        let mut cells = old.to_vec();
        drop(old);
        cells.iter_mut().for_each(&mut change);
        *self = cells.into();
    }

    /// The cells of `old` before `prefix`, then `window` (cells with spans in the new
    /// text), then the cells of `old` from `suffix` on, their starts moved by `delta`
    /// bytes (wrapping: a shrinking edit's delta wraps around). The cells outside the
    /// window share `old`'s chunks.
    pub fn spliced(
        old: &Cells,
        prefix: usize,
        window: Vec<Cell>,
        suffix: usize,
        delta: usize,
    ) -> Cells {
        let suffix = suffix.min(old.len());
        let prefix = prefix.min(suffix);
        let len = prefix + window.len() + (old.len() - suffix);
        let mut local = ChunkListBuilder::with_capacity(len);
        let mut starts = Vec::with_capacity(len);
        local.extend_from(&old.local, 0..prefix);
        starts.extend_from_slice(&old.starts[..prefix]);
        for cell in window {
            starts.push(cell.spans.whole.start);
            local.push(localized(cell));
        }
        local.extend_from(&old.local, suffix..old.len());
        starts.extend(
            old.starts[suffix..]
                .iter()
                .map(|start| start.wrapping_add(delta)),
        );
        Cells {
            local: local.finish(),
            starts,
        }
    }
}

/// `cell` with its spans made relative to its start.
fn localized(mut cell: Cell) -> Cell {
    let start = cell.spans.whole.start;
    cell.spans = cell.spans.moved(|offset| offset.wrapping_sub(start));
    cell
}

/// A stored cell at `start`: its spans back in the text.
fn placed(cell: &Cell, start: usize) -> PlacedCell<'_> {
    PlacedCell::new(
        &cell.content,
        cell.spans.moved(|offset| offset.wrapping_add(start)),
    )
}

impl From<Vec<Cell>> for Cells {
    fn from(cells: Vec<Cell>) -> Self {
        cells.into_iter().collect()
    }
}

impl FromIterator<Cell> for Cells {
    fn from_iter<I: IntoIterator<Item = Cell>>(cells: I) -> Self {
        let mut starts = Vec::new();
        let local = cells
            .into_iter()
            .map(|cell| {
                starts.push(cell.spans.whole.start);
                localized(cell)
            })
            .collect();
        Cells { local, starts }
    }
}

impl Index<usize> for Cells {
    type Output = CellContent;

    fn index(&self, index: usize) -> &CellContent {
        &self.local[index].content
    }
}

/// A cell's content to change (its chunk and content copied first when a previous
/// reading shares them).
impl IndexMut<usize> for Cells {
    fn index_mut(&mut self, index: usize) -> &mut CellContent {
        let len = self.len();
        match self.local.get_mut(index) {
            Some(cell) => cell,
            None => panic!("cell {index} out of {len}"),
        }
    }
}

impl<'a> IntoIterator for &'a Cells {
    type Item = PlacedCell<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Equal when the cells are, wherever they are chunked.
impl PartialEq for Cells {
    fn eq(&self, other: &Cells) -> bool {
        self.starts == other.starts && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Cells {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_list().entries(self.iter()).finish()
    }
}

/// The cells of a [`Cells`] in order.
#[derive(Clone)]
pub struct Iter<'a> {
    cells: crate::text::chunk_list::Iter<'a, Cell>,
    starts: std::slice::Iter<'a, usize>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = PlacedCell<'a>;

    fn next(&mut self) -> Option<PlacedCell<'a>> {
        Some(placed(self.cells.next()?, *self.starts.next()?))
    }

    fn nth(&mut self, skipped: usize) -> Option<PlacedCell<'a>> {
        Some(placed(self.cells.nth(skipped)?, *self.starts.nth(skipped)?))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.starts.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        Some(placed(self.cells.next_back()?, *self.starts.next_back()?))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> PlacedCell<'a> {
    pub(crate) fn new(content: &'a Arc<CellContent>, spans: CellSpans) -> Self {
        PlacedCell { content, spans }
    }

    /// The content, for as long as the list it came from.
    pub fn content(self) -> &'a CellContent {
        self.content
    }

    /// A standalone copy of the cell (sharing its content) at the same spans.
    pub fn to_cell(self) -> Cell {
        Cell {
            content: Arc::clone(self.content),
            spans: self.spans,
        }
    }

    /// Whether both cells hold the same content (shared, or equal), wherever they lie.
    pub fn same_content(self, other: PlacedCell<'_>) -> bool {
        self.shares_content(other) || **self.content == **other.content
    }

    /// Whether both cells share one content (one reading took it from the other): a
    /// pointer comparison, for telling untouched cells apart without comparing text.
    pub fn shares_content(self, other: PlacedCell<'_>) -> bool {
        Arc::ptr_eq(self.content, other.content)
    }

    /// The offset in the notebook text of byte `offset` of this cell's `source`.
    ///
    /// Readers keep one source line per body line, only removing a prefix on some (the
    /// `# ` of a percent markdown line or of an uncommented magic), so a source line maps
    /// to the body line with the same index, shifted by what was removed. Offsets of a
    /// built cell (no spans) map to 0.
    pub fn text_offset(self, text: &str, offset: usize) -> usize {
        let body = self.spans.body.slice(text);
        let source = &self.content.source;
        let source_before = source.get(..offset).unwrap_or(source);
        let line_index = source_before.matches('\n').count();
        let column_in_source = offset - source_before.rfind('\n').map_or(0, |newline| newline + 1);
        let source_line = source.split('\n').nth(line_index).unwrap_or("");
        let mut body_line_start = 0;
        for (index, line) in body.split_inclusive('\n').enumerate() {
            if index == line_index {
                let body_line = line.trim_end_matches(['\n', '\r']);
                let source_line = source_line.trim_end_matches('\r');
                let removed = if body_line.ends_with(source_line) {
                    body_line.len() - source_line.len()
                } else {
                    0
                };
                let column = (removed + column_in_source).min(body_line.len());
                return self.spans.body.start + body_line_start + column;
            }
            body_line_start += line.len();
        }
        self.spans.body.start + body.len().min(body_line_start)
    }

    /// [`PlacedCell::text_offset`] for both ends of a span.
    pub fn text_span(self, text: &str, span: Span) -> Span {
        let start = self.text_offset(text, span.start);
        Span::new(start, self.text_offset(text, span.end).max(start))
    }
}

impl std::ops::Deref for PlacedCell<'_> {
    type Target = CellContent;

    fn deref(&self) -> &CellContent {
        self.content
    }
}

impl PartialEq for PlacedCell<'_> {
    fn eq(&self, other: &PlacedCell<'_>) -> bool {
        self.spans == other.spans && self.same_content(*other)
    }
}

impl fmt::Debug for PlacedCell<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Cell")
            .field("content", &**self.content)
            .field("spans", &self.spans)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::CellType;
    use proptest::prelude::*;

    fn cell_at(start: usize, len: usize, source: &str) -> Cell {
        let mut cell = Cell::new(CellType::Code, source);
        cell.spans = CellSpans {
            whole: Span::new(start, start + len),
            header: Some(Span::new(start, start + 4)),
            body: Span::new(start + 5, start + len),
        };
        cell
    }

    /// Cells laid end to end, each `len` bytes, from `at`.
    fn laid_out(sources: &[String], lens: &[usize], at: usize) -> Vec<Cell> {
        let mut start = at;
        sources
            .iter()
            .zip(lens)
            .map(|(source, &len)| {
                let cell = cell_at(start, len, source);
                start += len;
                cell
            })
            .collect()
    }

    proptest! {
        #[test]
        fn a_splice_reads_as_the_cells_it_was_given(
            lens in prop::collection::vec(6usize..40, 0..400),
            cut in any::<prop::sample::Index>(),
            removed in 0usize..70,
            inserted in prop::collection::vec(6usize..40, 0..70),
        ) {
            let sources: Vec<String> = (0..lens.len()).map(|i| format!("x_{i} = {i}")).collect();
            let cells = laid_out(&sources, &lens, 17);
            let old: Cells = cells.clone().into();
            prop_assert_eq!(old.len(), cells.len());
            prop_assert!(old.iter().map(PlacedCell::to_cell).eq(cells.iter().cloned()));

            // Replace `removed` cells from `prefix` with `inserted` new ones.
            let prefix = if cells.is_empty() { 0 } else { cut.index(cells.len()) };
            let suffix = (prefix + removed).min(cells.len());
            let start = cells.get(prefix).map_or(17 + lens.iter().sum::<usize>(), |cell| cell.spans.whole.start);
            let new_sources: Vec<String> = (0..inserted.len()).map(|i| format!("new_{i}")).collect();
            let window = laid_out(&new_sources, &inserted, start);
            let old_len: usize = lens[prefix..suffix].iter().sum();
            let delta = inserted.iter().sum::<usize>().wrapping_sub(old_len);
            let spliced = Cells::spliced(&old, prefix, window.clone(), suffix, delta);

            let mut expected: Vec<Cell> = cells[..prefix].to_vec();
            expected.extend(window);
            expected.extend(cells[suffix..].iter().map(|cell| {
                let mut cell = cell.clone();
                cell.spans = cell.spans.moved(|offset| offset.wrapping_add(delta));
                cell
            }));
            prop_assert_eq!(spliced.len(), expected.len());
            for (index, (got, want)) in spliced.iter().zip(&expected).enumerate() {
                prop_assert_eq!(got.spans, want.spans, "cell {}", index);
                prop_assert_eq!(&got.source, &want.source, "cell {}", index);
                prop_assert_eq!(spliced.get(index), Some(got));
                prop_assert_eq!(&spliced[index].source, &want.source);
            }
            prop_assert!(spliced.iter().rev().eq(spliced.to_vec().iter().rev().map(Cell::view)));
            prop_assert!(spliced.iter().skip(prefix).map(|cell| cell.spans).eq(expected[prefix..].iter().map(|cell| cell.spans)));
            // The untouched cells keep their content by pointer.
            for index in 0..prefix {
                prop_assert!(spliced.get(index).unwrap().shares_content(old.get(index).unwrap()));
            }
        }
    }

    #[test]
    fn push_appends_after_the_last_cell() {
        let mut cells = Cells::new();
        for index in 0..150 {
            cells.push(cell_at(index * 10, 10, "x"));
        }
        assert_eq!(cells.len(), 150);
        assert_eq!(cells.last().unwrap().spans.whole, Span::new(1490, 1500));
        assert_eq!(cells.get(64).unwrap().spans.body, Span::new(645, 650));
        assert_eq!(cells, cells.to_vec().into());
    }
}

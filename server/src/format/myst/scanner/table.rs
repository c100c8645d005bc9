//! The GFM table rule of the scanner (jupytext enables `table`): a header row with pipes,
//! a delimiter row of `-`, `:` and `|` with as many columns, then body rows up to a blank
//! line or a line that starts a block ending a block quote. It matters because a table
//! may interrupt a paragraph, and a `+++` or a fence ends it.

use super::leaf::is_md_trim;
use super::{Chain, Parent, Scanner};

/// markdown-it's `MAX_AUTOCOMPLETED_CELLS`.
const MAX_AUTOCOMPLETED_CELLS: i64 = 0x10000;

/// `^:?-+:?$`.
fn is_delimiter_cell(cell: &str) -> bool {
    let cell = cell.strip_prefix(':').unwrap_or(cell);
    let cell = cell.strip_suffix(':').unwrap_or(cell);
    !cell.is_empty() && cell.bytes().all(|byte| byte == b'-')
}

/// The number of cells `escapedSplit` gives for a row, after dropping an empty first and
/// last one (pipes after a backslash do not split).
fn row_cells(row: &str) -> i64 {
    let bytes = row.as_bytes();
    let mut cells: i64 = 1;
    let mut escaped = false;
    let mut last_pipe = None;
    for (index, &byte) in bytes.iter().enumerate() {
        if byte == b'|' && !escaped {
            cells += 1;
            last_pipe = Some(index);
        }
        escaped = byte == b'\\';
    }
    if bytes.first() == Some(&b'|') {
        cells -= 1;
    }
    if cells > 0 && last_pipe.is_some_and(|pipe| pipe + 1 == bytes.len()) {
        cells -= 1;
    }
    cells
}

impl Scanner<'_> {
    /// The header and delimiter rows' checks: the number of columns.
    fn table_columns(&self, start: usize, end: usize) -> Option<i64> {
        if start + 2 > end {
            return None;
        }
        let delimiter = start + 1;
        if self.s_count[delimiter] < self.blk_indent || self.is_code_block(delimiter) {
            return None;
        }
        let row = self.line_text(delimiter).as_bytes();
        let (&first, &second) = (row.first()?, row.get(1)?);
        if !matches!(first, b'|' | b'-' | b':')
            || !matches!(second, b'|' | b'-' | b':' | b' ' | b'\t')
        {
            return None;
        }
        if first == b'-' && matches!(second, b' ' | b'\t') {
            return None;
        }
        if !row[2..]
            .iter()
            .all(|byte| matches!(byte, b'|' | b'-' | b':' | b' ' | b'\t'))
        {
            return None;
        }
        let cells: Vec<&str> = self.line_text(delimiter).split('|').collect();
        let mut aligns: i64 = 0;
        for (index, cell) in cells.iter().enumerate() {
            let cell = cell.trim_matches(is_md_trim);
            if cell.is_empty() {
                if index == 0 || index == cells.len() - 1 {
                    continue;
                }
                return None;
            }
            if !is_delimiter_cell(cell) {
                return None;
            }
            aligns += 1;
        }
        let header = self.line_text(start).trim_matches(is_md_trim);
        if !header.contains('|') || self.is_code_block(start) {
            return None;
        }
        let columns = row_cells(header);
        (columns != 0 && columns == aligns).then_some(columns)
    }

    pub(super) fn is_table(&self, start: usize, end: usize) -> bool {
        self.table_columns(start, end).is_some()
    }

    pub(super) fn table(&mut self, start: usize, end: usize) -> bool {
        let Some(columns) = self.table_columns(start, end) else {
            return false;
        };
        let old_parent = self.parent;
        self.parent = Parent::Table;
        let mut autocompleted: i64 = 0;
        let mut next = start + 2;
        while next < end {
            if self.s_count[next] < self.blk_indent || self.terminates(Chain::Blockquote, next, end)
            {
                break;
            }
            let row = self.line_text(next).trim_matches(is_md_trim);
            if row.is_empty() || self.is_code_block(next) {
                break;
            }
            autocompleted += columns - row_cells(row);
            if autocompleted > MAX_AUTOCOMPLETED_CELLS {
                break;
            }
            next += 1;
        }
        self.parent = old_parent;
        self.line = next;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_cells_drop_outer_empty_cells_and_skip_escaped_pipes() {
        assert_eq!(row_cells("| a | b |"), 2);
        assert_eq!(row_cells("a | b"), 2);
        assert_eq!(row_cells("|"), 0);
        assert_eq!(row_cells("||"), 1);
        assert_eq!(row_cells("a \\| b"), 1);
        assert_eq!(row_cells("a |\\|"), 2);
    }
}

//! `cell-error` diagnostics: a cell whose current key's manifest failed gets an error on
//! the line its traceback points at (`run::traceback::failing_line`, a line of the
//! executed source, mapped back to the file by `Cell::text_offset`, which accounts for the
//! header and for uncommented magics), or on its header when the traceback names no line
//! (a timeout, a dead kernel). Derived from the cache, not from the run that made it: it
//! appears after a CLI run or a server restart too, and goes away when the cell is edited
//! (a new key) or runs without error.

use tower_lsp_server::ls_types::{Diagnostic, DiagnosticSeverity, NumberOrString};

use super::cell_views::{cell_views, never_run};
use super::progress::first_line;
use super::state::Snapshot;
use super::{Core, convert};
use crate::cache::CellStatus;
use crate::run::traceback::failing_line;
use crate::text::{PositionEncoding, Span};

/// The diagnostic code (listed in docs/lint-rules.md as a runtime rule).
pub const CELL_ERROR: &str = "cell-error";

pub fn cell_errors(core: &Core, snapshot: &Snapshot) -> Vec<Diagnostic> {
    // The common case on every edit: without runs there is no error to show, and the
    // views of a big notebook are a transient allocation large enough to move glibc's
    // mmap threshold and keep ~10 MiB more resident (measured with benches/lsp_latency).
    if never_run(core, snapshot) {
        return Vec::new();
    }
    let (Some(views), Some(file)) = (cell_views(core, snapshot), snapshot.file()) else {
        return Vec::new();
    };
    let document = &snapshot.document;
    views
        .iter()
        .filter(|view| view.status == CellStatus::Error)
        .filter_map(|view| {
            let error = view.error.as_ref()?;
            let cell = file.notebook.cells.get(view.ordinal)?;
            let line_span = failing_line(&error.traceback).and_then(|line| {
                let source_offset = nth_line_start(&cell.source, line - 1)?;
                let offset = cell.text_offset(&file.text, source_offset);
                let line = document
                    .offset_to_position(offset, PositionEncoding::Utf8)
                    .line as usize;
                let span = document.line_span(line)?;
                let text = document.slice(span);
                let indent = text.len() - text.trim_start().len();
                Some(Span::new(span.start + indent, span.end))
            });
            let message = if error.evalue.trim().is_empty() {
                error.ename.clone()
            } else {
                format!("{}: {}", error.ename, first_line(&error.evalue))
            };
            Some(Diagnostic {
                range: convert::range(
                    document,
                    line_span.unwrap_or(view.header),
                    snapshot.encoding,
                ),
                severity: Some(DiagnosticSeverity::ERROR),
                code: Some(NumberOrString::String(CELL_ERROR.to_string())),
                source: Some(convert::SOURCE.to_string()),
                message,
                ..Diagnostic::default()
            })
        })
        .collect()
}

/// The byte offset where 0-based line `index` of `text` starts.
fn nth_line_start(text: &str, index: usize) -> Option<usize> {
    if index == 0 {
        return Some(0);
    }
    text.match_indices('\n')
        .nth(index - 1)
        .map(|(at, _)| at + 1)
        .filter(|start| *start <= text.len())
}

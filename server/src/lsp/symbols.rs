//! Document symbols: the notebook's outline. Markdown headings nest by level; every code
//! cell is a symbol (its name, else its title, else its auto name) under the heading
//! above it, with its kind and title as detail.

use tower_lsp_server::ls_types::{DocumentSymbol, DocumentSymbolResponse, Range, SymbolKind};

use super::positions::Positions;
use super::state::Snapshot;
use crate::format::{CellType, PlacedCell, tags};
use crate::text::Span;

enum Entry {
    Heading {
        level: usize,
        title: String,
        span: Span,
    },
    Code(DocumentSymbol),
}

/// Markdown ATX headings of a cell: (level, title, span of the heading line in the text).
fn headings(cell: PlacedCell<'_>, text: &str) -> Vec<(usize, String, Span)> {
    let mut found = Vec::new();
    let mut offset = 0;
    let mut in_fence = false;
    for line in cell.source.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        let trimmed = content.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
        }
        let level = trimmed.chars().take_while(|c| *c == '#').count();
        let rest = &trimmed[level..];
        if !in_fence && (1..=6).contains(&level) && (rest.is_empty() || rest.starts_with(' ')) {
            let title = rest.trim().trim_end_matches('#').trim().to_string();
            let span = cell.text_span(text, Span::new(offset, offset + content.len()));
            if !title.is_empty() {
                found.push((level, title, span));
            }
        }
        offset += line.len();
    }
    found
}

#[allow(deprecated)]
fn symbol(
    name: String,
    detail: Option<String>,
    kind: SymbolKind,
    range: tower_lsp_server::ls_types::Range,
    selection: tower_lsp_server::ls_types::Range,
) -> DocumentSymbol {
    DocumentSymbol {
        name,
        detail,
        kind,
        tags: None,
        deprecated: None,
        range,
        selection_range: selection,
        children: None,
    }
}

pub fn document_symbols(snapshot: &Snapshot) -> Option<DocumentSymbolResponse> {
    let file = snapshot.file()?;
    let text = &file.text;
    // Cells in text order: positions found walking forward.
    let mut positions = Positions::of(snapshot);
    let mut entries = Vec::new();
    for (ordinal, cell) in file.notebook.cells.iter().enumerate() {
        match cell.cell_type {
            CellType::Markdown => {
                for (level, title, span) in headings(cell, text) {
                    entries.push(Entry::Heading { level, title, span });
                }
            }
            CellType::Code => {
                let title = cell.metadata.get("title").and_then(|value| value.as_str());
                let name = match (&cell.spec.name, title) {
                    (Some(name), _) => name.clone(),
                    (None, Some(title)) => title.to_string(),
                    (None, None) => tags::cell_name(&cell.spec, file.stem(), ordinal),
                };
                let detail = match title {
                    Some(title) if cell.spec.name.is_some() => {
                        format!("{} · {title}", cell.spec.kind.tag())
                    }
                    _ => cell.spec.kind.tag().to_string(),
                };
                let whole = cell.spans.whole;
                let header = cell.spans.header.unwrap_or(Span::at(whole.start));
                let start = positions.position(whole.start);
                let selection = positions.range(header);
                let range = Range::new(start, positions.position(whole.end));
                entries.push(Entry::Code(symbol(
                    name,
                    Some(detail),
                    SymbolKind::FUNCTION,
                    range,
                    selection,
                )));
            }
            CellType::Raw => {}
        }
    }
    Some(DocumentSymbolResponse::Nested(nest(
        entries, snapshot, text,
    )))
}

/// Builds the tree: a heading holds everything after it until a heading of the same or a
/// higher level.
fn nest(entries: Vec<Entry>, snapshot: &Snapshot, text: &str) -> Vec<DocumentSymbol> {
    // (level, heading start, symbol) for every open heading.
    let mut stack: Vec<(usize, usize, DocumentSymbol)> = Vec::new();
    let mut roots = Vec::new();
    // Headings open and close in text order: one cursor for their starts, one for ends.
    let mut starts = Positions::of(snapshot);
    let mut ends = Positions::of(snapshot);
    let mut close = |stack: &mut Vec<(usize, usize, DocumentSymbol)>,
                     roots: &mut Vec<DocumentSymbol>,
                     end: usize| {
        if let Some((_, start, mut heading)) = stack.pop() {
            heading.range.end = ends.position(end.max(start));
            match stack.last_mut() {
                Some((_, _, parent)) => parent.children.get_or_insert_with(Vec::new).push(heading),
                None => roots.push(heading),
            }
        }
    };
    for entry in entries {
        match entry {
            Entry::Heading { level, title, span } => {
                while stack.last().is_some_and(|(open, _, _)| *open >= level) {
                    close(&mut stack, &mut roots, span.start);
                }
                let range = starts.range(span);
                stack.push((
                    level,
                    span.start,
                    symbol(title, None, SymbolKind::STRING, range, range),
                ));
            }
            Entry::Code(code) => match stack.last_mut() {
                Some((_, _, parent)) => parent.children.get_or_insert_with(Vec::new).push(code),
                None => roots.push(code),
            },
        }
    }
    while !stack.is_empty() {
        close(&mut stack, &mut roots, text.len());
    }
    roots
}

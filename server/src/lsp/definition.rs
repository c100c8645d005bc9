//! Go to definition: from a `deps=` name, a `jc.deps("…")` literal or a `jc.load("…")`
//! path to the cell that defines or produces it, in any notebook of the project.
//!
//! Also owns what the cursor is on ([`item_at`]) and where a cell is
//! ([`cell_location`]), which references, rename and hover share.

use std::borrow::Cow;

use tower_lsp_server::ls_types::{self as lsp, GotoDefinitionResponse, Location};

use super::convert;
use super::state::{Snapshot, State};
use crate::analysis::graph::{CellRef, EdgeReason};
use crate::analysis::workspace::Workspace;
use crate::text::{Document, Span};

/// What a name under the cursor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// A `deps=` tag value or a `jc.deps("…")` literal.
    Dep,
    /// A literal `jc.load("…")` path.
    LoadPath,
    /// A cell's own `name=` value.
    OwnName,
}

/// A cell name or artifact path under the cursor, and the cells it stands for.
#[derive(Debug, Clone)]
pub struct Item {
    pub kind: ItemKind,
    /// Where the name or path is written, in this notebook's text.
    pub span: Span,
    /// The name or path.
    pub text: String,
    /// The cells it resolves to (several when ambiguous, none when unknown).
    pub targets: Vec<CellRef>,
}

/// The name or path at byte `offset` of notebook `file_index`.
pub fn item_at(workspace: &Workspace, file_index: usize, offset: usize) -> Option<Item> {
    let graph = &workspace.graph;
    let notebook = graph.notebooks.get(file_index)?;
    let touches =
        |span: &Option<Span>| span.is_some_and(|span| span.start <= offset && offset <= span.end);
    for (position, facts) in notebook.cells.iter().enumerate() {
        let cell = CellRef {
            notebook: file_index,
            ordinal: facts.ordinal,
        };
        // Facts are relative to their cell; the offset is relative to the notebook.
        let span_of = |span: Option<Span>| notebook.absolute(position, span);
        if let Some((name, span)) = &facts.explicit_name
            && touches(&span_of(*span))
        {
            return Some(Item {
                kind: ItemKind::OwnName,
                span: span_of(*span)?,
                text: name.clone(),
                targets: vec![cell],
            });
        }
        for dep in &facts.deps {
            let span = span_of(dep.span);
            if !touches(&span) {
                continue;
            }
            let resolved = graph
                .dependencies(cell)
                .iter()
                .find_map(|edge| match &edge.why {
                    EdgeReason::Named(named) if named.span == span => Some(edge.target),
                    _ => None,
                });
            let targets = match resolved {
                Some(target) => vec![target],
                None => resolve_name(workspace, cell, &dep.name),
            };
            return Some(Item {
                kind: ItemKind::Dep,
                span: span?,
                text: dep.name.clone(),
                targets,
            });
        }
        for load in &facts.loads {
            let span = span_of(load.span);
            if touches(&span) {
                return Some(Item {
                    kind: ItemKind::LoadPath,
                    span: span?,
                    text: load.path.clone(),
                    targets: graph.producers_of(&load.path).to_vec(),
                });
            }
        }
    }
    None
}

/// The cells a name written in `from` stands for: those of its own notebook first, else
/// every cell of the project with that name.
pub fn resolve_name(workspace: &Workspace, from: CellRef, name: &str) -> Vec<CellRef> {
    let named = workspace.graph.cells_named(name);
    let local: Vec<CellRef> = named
        .iter()
        .copied()
        .filter(|cell| cell.notebook == from.notebook)
        .collect();
    if local.is_empty() {
        named.to_vec()
    } else {
        local
    }
}

/// The cell whose text contains `offset` in notebook `file_index`.
pub fn cell_at(workspace: &Workspace, file_index: usize, offset: usize) -> Option<CellRef> {
    let file = workspace.files.get(file_index)?;
    let cells = &file.notebook.cells;
    let index = cells.starts().partition_point(|&start| start <= offset);
    let ordinal = index.checked_sub(1)?;
    let cell = cells.get(ordinal)?;
    (offset <= cell.spans.whole.end).then_some(CellRef {
        notebook: file_index,
        ordinal,
    })
}

/// The document to map spans of notebook `index` with: the open buffer for the
/// snapshot's own notebook, else a document over the analysed text.
pub fn document_of<'a>(
    snapshot: &'a Snapshot,
    workspace: &Workspace,
    index: usize,
) -> Option<Cow<'a, Document>> {
    if index == snapshot.file_index && snapshot.current {
        return Some(Cow::Borrowed(&snapshot.document));
    }
    let file = workspace.files.get(index)?;
    Some(Cow::Owned(Document::new(&file.text, 0)))
}

/// The span that names a cell: its `name=` value, else its header, else the cell.
pub fn cell_name_span(workspace: &Workspace, cell: CellRef) -> Option<Span> {
    if let Some(span) = workspace.graph.name_span(cell) {
        return Some(span);
    }
    let file = workspace.files.get(cell.notebook)?;
    let cell = file.notebook.cells.get(cell.ordinal)?;
    Some(cell.spans.header.unwrap_or(cell.spans.whole))
}

/// Where `cell` is, as an LSP location.
pub fn cell_location(
    state: &State,
    snapshot: &Snapshot,
    workspace: &Workspace,
    cell: CellRef,
) -> Option<Location> {
    let file = workspace.files.get(cell.notebook)?;
    let span = cell_name_span(workspace, cell)?;
    let document = document_of(snapshot, workspace, cell.notebook)?;
    let uri = state.uri_for(&file.path)?;
    Some(convert::location(uri, &document, span, snapshot.encoding))
}

pub fn definition(
    state: &State,
    snapshot: &Snapshot,
    position: lsp::Position,
) -> Option<GotoDefinitionResponse> {
    let workspace = snapshot.workspace.as_ref()?;
    let offset = convert::offset(&snapshot.document, position, snapshot.encoding);
    let item = item_at(workspace, snapshot.file_index, offset)?;
    let locations: Vec<Location> = item
        .targets
        .iter()
        .filter_map(|target| cell_location(state, snapshot, workspace, *target))
        .collect();
    match locations.len() {
        0 => None,
        1 => locations
            .into_iter()
            .next()
            .map(GotoDefinitionResponse::Scalar),
        _ => Some(GotoDefinitionResponse::Array(locations)),
    }
}

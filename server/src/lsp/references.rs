//! References: the places that depend on a cell — every `deps=` name and `jc.deps("…")`
//! literal that resolves to it and every `jc.load("…")` of a path it writes, in any
//! notebook of the project — plus, when asked, its own `name=`.
//!
//! The cell is the one whose name, dep or load path is under the cursor, else the cell
//! the cursor is in.

use tower_lsp_server::ls_types::{self as lsp, Location};

use super::convert;
use super::definition::{self, ItemKind};
use super::state::{Snapshot, State};
use crate::analysis::graph::CellRef;
use crate::analysis::workspace::Workspace;
use crate::text::Span;

/// Every place in the project that refers to `target`, by notebook.
pub fn referring_spans(workspace: &Workspace, target: CellRef) -> Vec<(usize, Span, ItemKind)> {
    let graph = &workspace.graph;
    let mut found = Vec::new();
    for (index, notebook) in graph.notebooks.iter().enumerate() {
        for (position, facts) in notebook.cells.iter().enumerate() {
            let cell = CellRef {
                notebook: index,
                ordinal: facts.ordinal,
            };
            for dep in &facts.deps {
                if let Some(span) = notebook.absolute(position, dep.span)
                    && definition::resolve_name(workspace, cell, &dep.name).contains(&target)
                {
                    found.push((index, span, ItemKind::Dep));
                }
            }
            for load in &facts.loads {
                if let Some(span) = notebook.absolute(position, load.span)
                    && graph.producers_of(&load.path).contains(&target)
                {
                    found.push((index, span, ItemKind::LoadPath));
                }
            }
        }
    }
    found
}

pub fn references(
    state: &State,
    snapshot: &Snapshot,
    position: lsp::Position,
    include_declaration: bool,
) -> Option<Vec<Location>> {
    let workspace = snapshot.workspace.as_ref()?;
    let offset = convert::offset(&snapshot.document, position, snapshot.encoding);
    let targets = match definition::item_at(workspace, snapshot.file_index, offset) {
        Some(item) => item.targets,
        None => vec![definition::cell_at(workspace, snapshot.file_index, offset)?],
    };
    let mut locations = Vec::new();
    for target in targets {
        if include_declaration
            && let Some(location) = definition::cell_location(state, snapshot, workspace, target)
        {
            locations.push(location);
        }
        for (index, span, _) in referring_spans(workspace, target) {
            let Some(file) = workspace.files.get(index) else {
                continue;
            };
            let Some(document) = definition::document_of(snapshot, workspace, index) else {
                continue;
            };
            if let Some(uri) = state.uri_for(&file.path) {
                locations.push(convert::location(uri, &document, span, snapshot.encoding));
            }
        }
    }
    Some(locations)
}

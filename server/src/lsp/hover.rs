//! Hover: on a dependency name (a `deps=` tag or a `jc.deps("…")` literal) or a cell's own
//! name, what that cell is and where; on a `jc.load("…")` path, who writes it; on a
//! `jc.*` call, the function's signature; on a kind tag, what the kind means. (Cached
//! outputs come later.)

use tower_lsp_server::ls_types::{self as lsp, Hover, HoverContents, MarkupContent, MarkupKind};

use super::completion::{api_signature, kind_meaning};
use super::convert;
use super::definition::{self, ItemKind};
use super::state::Snapshot;
use crate::analysis::graph::CellRef;
use crate::analysis::workspace::Workspace;
use crate::format::tags::{CellKind, tag_spans};
use crate::text::Span;

fn markdown(snapshot: &Snapshot, span: Span, value: String) -> Hover {
    Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: Some(convert::range(&snapshot.document, span, snapshot.encoding)),
    }
}

/// One line about a cell: name, kind, notebook, line and title.
fn describe(workspace: &Workspace, cell: CellRef) -> String {
    let graph = &workspace.graph;
    let name = graph.name_of(cell);
    let Some(file) = workspace.files.get(cell.notebook) else {
        return format!("`{name}`");
    };
    let Some(source) = file.notebook.cells.get(cell.ordinal) else {
        return format!("`{name}`");
    };
    let line = file
        .text
        .get(..source.spans.whole.start)
        .unwrap_or(&file.text)
        .matches('\n')
        .count()
        + 1;
    let title = source
        .metadata
        .get("title")
        .and_then(|title| title.as_str())
        .map(|title| format!(" — {title}"))
        .unwrap_or_default();
    format!(
        "**{name}**: `{}` cell {} of `{}`, line {line}{title}",
        source.spec.kind.tag(),
        cell.ordinal,
        file.relative
    )
}

pub fn hover(snapshot: &Snapshot, position: lsp::Position) -> Option<Hover> {
    let workspace = snapshot.workspace.as_ref()?;
    let file = snapshot.file()?;
    let offset = convert::offset(&snapshot.document, position, snapshot.encoding);
    if let Some(item) = definition::item_at(workspace, snapshot.file_index, offset) {
        let lines: Vec<String> = item
            .targets
            .iter()
            .map(|cell| describe(workspace, *cell))
            .collect();
        let value = match (item.kind, lines.is_empty()) {
            (ItemKind::LoadPath, true) => {
                format!("`{}`: no cell of the project writes this path", item.text)
            }
            (ItemKind::LoadPath, false) => {
                format!("`{}` is written by\n\n{}", item.text, lines.join("\n\n"))
            }
            (_, true) => format!("no cell is named `{}`", item.text),
            (ItemKind::Dep, false) if lines.len() > 1 => {
                format!("`{}` is ambiguous:\n\n{}", item.text, lines.join("\n\n"))
            }
            _ => lines.join("\n\n"),
        };
        return Some(markdown(snapshot, item.span, value));
    }
    let cell_ref = definition::cell_at(workspace, snapshot.file_index, offset)?;
    let cell = file.notebook.cells.get(cell_ref.ordinal)?;
    if let Some(header) = cell.spans.header
        && header.start <= offset
        && offset <= header.end
    {
        let tags = cell.tags();
        let spans = tag_spans(header.slice(&file.text), header.start, &tags);
        for (tag, span) in tags.iter().zip(spans) {
            let Some(span) = span.filter(|span| span.start <= offset && offset <= span.end) else {
                continue;
            };
            if let Some(kind) = CellKind::from_tag(tag) {
                return Some(markdown(
                    snapshot,
                    span,
                    format!("**{}** cell kind\n\n{}", kind.tag(), kind_meaning(kind)),
                ));
            }
        }
        return None;
    }
    let analysis = file.analyses.get(cell_ref.ordinal)?.as_ref()?;
    for call in &analysis.jc_calls {
        let callee = cell.text_span(&file.text, call.callee_span);
        if callee.start <= offset && offset <= callee.end {
            let (signature, meaning) = api_signature(call.function);
            return Some(markdown(
                snapshot,
                callee,
                format!("```python\njc.{signature}\n```\n\n{meaning}"),
            ));
        }
    }
    None
}

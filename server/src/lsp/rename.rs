//! Rename a cell's name: its `name=` tag and every `deps=` name and `jc.deps("…")`
//! literal in the project that resolves to it, as one `WorkspaceEdit`. Works from the
//! `name=` value or from any reference to it. Cells without a `name=` tag (auto names
//! such as `prep:3`) cannot be renamed.

use std::collections::HashMap;

use tower_lsp_server::ls_types::{
    self as lsp, PrepareRenameResponse, TextEdit, Uri, WorkspaceEdit,
};

use super::convert;
use super::definition::{self, ItemKind};
use super::references::referring_spans;
use super::state::{Snapshot, State};
use crate::text::Span;

/// The span of `name` inside `span` of `text`: the whole span when it is exactly the
/// name, else the name inside quotes or after `deps=`/`name=`.
fn name_span(text: &str, span: Span, name: &str) -> Option<Span> {
    let written = span.slice(text);
    if written == name {
        return Some(span);
    }
    let from = written
        .rfind('=')
        .map(|at| at + 1)
        .or_else(|| written.find(['"', '\'']).map(|at| at + 1))
        .unwrap_or(0);
    let at = from + written.get(from..)?.find(name)?;
    Some(Span::new(span.start + at, span.start + at + name.len()))
}

pub fn prepare(snapshot: &Snapshot, position: lsp::Position) -> Option<PrepareRenameResponse> {
    let workspace = snapshot.workspace.as_ref()?;
    let file = snapshot.file()?;
    let offset = convert::offset(&snapshot.document, position, snapshot.encoding);
    let item = definition::item_at(workspace, snapshot.file_index, offset)?;
    if item.kind == ItemKind::LoadPath {
        return None;
    }
    let span = name_span(&file.text, item.span, &item.text)?;
    Some(PrepareRenameResponse::RangeWithPlaceholder {
        range: convert::range(&snapshot.document, span, snapshot.encoding),
        placeholder: item.text,
    })
}

/// Why a new name cannot be used, if it cannot.
fn invalid_name(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a cell name cannot be empty".to_string());
    }
    let bad = name.chars().find(|c| {
        c.is_whitespace() || matches!(c, ',' | ';' | '"' | '\'' | '=' | '[' | ']' | '\\')
    });
    bad.map(|c| format!("a cell name cannot contain {c:?} (it would split or break the tag)"))
}

pub fn rename(
    state: &State,
    snapshot: &Snapshot,
    position: lsp::Position,
    new_name: &str,
) -> Option<Result<Option<WorkspaceEdit>, String>> {
    let workspace = snapshot.workspace.as_ref()?;
    let offset = convert::offset(&snapshot.document, position, snapshot.encoding);
    let item = definition::item_at(workspace, snapshot.file_index, offset)?;
    if item.kind == ItemKind::LoadPath {
        return Some(Err(
            "an artifact path is not a cell name; rename the cell that writes it".into(),
        ));
    }
    if let Some(problem) = invalid_name(new_name) {
        return Some(Err(problem));
    }
    let target = match item.targets.as_slice() {
        [target] => *target,
        [] => return Some(Err(format!("no cell is named \"{}\"", item.text))),
        _ => {
            return Some(Err(format!(
                "\"{}\" names several cells; rename one of them at its name= tag",
                item.text
            )));
        }
    };
    let Some((Some((old_name, _)), Some(own_span))) = workspace.graph.cell(target).map(|facts| {
        (
            facts.explicit_name.clone(),
            workspace.graph.name_span(target),
        )
    }) else {
        return Some(Err(format!(
            "\"{}\" is an automatic name; give the cell a name= tag first",
            item.text
        )));
    };
    let mut spans: Vec<(usize, Span)> = vec![(target.notebook, own_span)];
    spans.extend(
        referring_spans(workspace, target)
            .into_iter()
            .filter(|(_, _, kind)| *kind == ItemKind::Dep)
            .map(|(index, span, _)| (index, span)),
    );
    let mut documents = HashMap::new();
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for (index, span) in spans {
        let Some(file) = workspace.files.get(index) else {
            continue;
        };
        let Some(span) = name_span(&file.text, span, &old_name) else {
            continue;
        };
        if let std::collections::hash_map::Entry::Vacant(vacant) = documents.entry(index) {
            let Some(document) = definition::document_of(snapshot, workspace, index) else {
                continue;
            };
            vacant.insert(document);
        }
        let (Some(document), Some(uri)) = (documents.get(&index), state.uri_for(&file.path)) else {
            continue;
        };
        let edit = TextEdit {
            range: convert::range(document, span, snapshot.encoding),
            new_text: new_name.to_string(),
        };
        let edits = changes.entry(uri).or_default();
        if !edits.contains(&edit) {
            edits.push(edit);
        }
    }
    Some(Ok(Some(WorkspaceEdit {
        changes: Some(changes),
        ..WorkspaceEdit::default()
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_name_inside_a_quoted_literal_or_a_tag() {
        let text = "jc.deps(\"raw\") \"deps=raw\"";
        assert_eq!(
            name_span(text, Span::new(8, 13), "raw"),
            Some(Span::new(9, 12))
        );
        assert_eq!(
            name_span(text, Span::new(15, 25), "raw"),
            Some(Span::new(21, 24))
        );
    }

    #[test]
    fn rejects_names_that_would_break_a_tag() {
        assert!(invalid_name("a,b").is_some());
        assert!(invalid_name("").is_some());
        assert!(invalid_name("summary_2").is_none());
    }
}

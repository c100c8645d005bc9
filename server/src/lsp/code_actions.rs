//! Quick fixes: one code action per finding with a fix in the requested range (the same
//! edits `--check --fix` would apply), and "Declare deps=X" for every `jc.load` of an
//! artifact whose producing cell is not declared, whether or not the project enforces
//! declared deps.

use std::collections::HashMap;

use tower_lsp_server::ls_types::{
    self as lsp, CodeAction, CodeActionContext, CodeActionKind, CodeActionOrCommand,
    CodeActionResponse, NumberOrString, WorkspaceEdit,
};

use super::state::{Snapshot, State};
use super::{convert, diagnostics};
use crate::lint::rules::declared_deps;
use crate::lint::{Finding, FixAction};
use crate::text::Span;

pub fn code_actions(
    state: &State,
    snapshot: &Snapshot,
    range: lsp::Range,
    context: &CodeActionContext,
) -> Option<CodeActionResponse> {
    let workspace = snapshot.workspace.as_ref()?;
    let document = &snapshot.document;
    let wanted = convert::span(document, range, snapshot.encoding);
    let overlaps = |span: Option<Span>| {
        span.is_some_and(|span| span.start <= wanted.end && wanted.start <= span.end)
    };
    let findings = diagnostics::findings_for(state, snapshot);
    let mut candidates: Vec<Finding> = findings
        .iter()
        .filter(|f| overlaps(f.span))
        .cloned()
        .collect();
    for finding in declared_deps::findings(workspace, snapshot.file_index) {
        let known = candidates
            .iter()
            .any(|existing| existing.span == finding.span && existing.fix == finding.fix);
        if overlaps(finding.span) && !known {
            candidates.push(finding);
        }
    }
    let only_quickfix = context.only.as_ref().is_none_or(|kinds| {
        kinds
            .iter()
            .any(|kind| kind.as_str().starts_with("quickfix"))
    });
    if !only_quickfix {
        return Some(Vec::new());
    }
    let mut actions = Vec::new();
    for finding in candidates {
        let Some(fix) = &finding.fix else { continue };
        let FixAction::Edits(edits) = &fix.action else {
            continue;
        };
        let edits: Vec<lsp::TextEdit> = edits
            .iter()
            .map(|edit| convert::text_edit(document, edit, snapshot.encoding))
            .collect();
        let diagnostic = convert::diagnostic(document, &finding, snapshot.encoding);
        let matching: Vec<lsp::Diagnostic> = context
            .diagnostics
            .iter()
            .filter(|client| {
                client.range == diagnostic.range
                    && client.code == Some(NumberOrString::String(finding.rule.to_string()))
            })
            .cloned()
            .collect();
        actions.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: fix.title.clone(),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(if matching.is_empty() {
                vec![diagnostic]
            } else {
                matching
            }),
            edit: Some(WorkspaceEdit {
                changes: Some(HashMap::from([(snapshot.uri.clone(), edits)])),
                ..WorkspaceEdit::default()
            }),
            is_preferred: Some(true),
            ..CodeAction::default()
        }));
    }
    Some(actions)
}

//! Document sync: `didOpen`, `didChange` (incremental, on the ropey document), `didClose`,
//! `didSave` (the environment hints state the environment again) and
//! `workspace/didChangeWatchedFiles`, applied to the state synchronously and in
//! arrival order (called from `Ordered::call`, never from a concurrent handler), then
//! diagnostics are scheduled.

use serde::de::DeserializeOwned;
use serde_json::Value;
use tower_lsp_server::ls_types::{
    DidChangeTextDocumentParams, DidChangeWatchedFilesParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DidSaveTextDocumentParams, FileChangeType,
};

use std::sync::Arc;

use super::{Core, convert};

const DID_OPEN: &str = "textDocument/didOpen";
const DID_CHANGE: &str = "textDocument/didChange";
const DID_CLOSE: &str = "textDocument/didClose";
const DID_SAVE: &str = "textDocument/didSave";
const DID_CHANGE_WATCHED_FILES: &str = "workspace/didChangeWatchedFiles";

/// Whether `method` is a notification this file applies.
pub fn handles(method: &str) -> bool {
    matches!(
        method,
        DID_OPEN | DID_CHANGE | DID_CLOSE | DID_SAVE | DID_CHANGE_WATCHED_FILES
    )
}

fn parse<T: DeserializeOwned>(params: Option<&Value>) -> Option<T> {
    serde_json::from_value(params?.clone()).ok()
}

/// Applies one document notification. Malformed params are ignored (a notification has
/// no way to answer with an error).
pub fn apply(core: &Arc<Core>, method: &str, params: Option<&Value>) {
    match method {
        DID_OPEN => {
            let Some(params) = parse::<DidOpenTextDocumentParams>(params) else {
                return;
            };
            let document = params.text_document;
            core.state
                .open(document.uri.clone(), &document.text, document.version);
            core.previews.buffer_changed(core, &document.uri);
            core.scheduler.schedule(core, &document.uri);
        }
        DID_CHANGE => {
            let Some(params) = parse::<DidChangeTextDocumentParams>(params) else {
                return;
            };
            let uri = params.text_document.uri;
            let changes = params
                .content_changes
                .into_iter()
                .map(|change| (change.range.map(convert::range_from_lsp), change.text));
            if core
                .state
                .change(&uri, params.text_document.version, changes)
            {
                core.previews.buffer_changed(core, &uri);
                core.scheduler.schedule(core, &uri);
            }
        }
        DID_CLOSE => {
            let Some(params) = parse::<DidCloseTextDocumentParams>(params) else {
                return;
            };
            let uri = params.text_document.uri;
            let open = core.state.document(&uri);
            let root = open.as_ref().and_then(|open| open.root.clone());
            core.previews.buffer_closed(core, &uri);
            core.state.close(&uri);
            core.cell_keys.forget(&uri);
            core.lens_documents.forget(&uri);
            if let Some(path) = open.and_then(|open| open.path) {
                core.runs.release(&path, uri.clone());
            }
            core.scheduler.forget(core, &uri);
            core.environment_hints.forget(&uri);
            if let Some(root) = root {
                core.scheduler.schedule_project(core, &root);
            }
        }
        DID_SAVE if parse::<DidSaveTextDocumentParams>(params).is_some() => {
            super::environment_hints::environment_may_have_changed(core);
        }
        DID_CHANGE_WATCHED_FILES => {
            let Some(params) = parse::<DidChangeWatchedFilesParams>(params) else {
                return;
            };
            let mut roots = Vec::new();
            for change in params.changes {
                let Some(path) = change.uri.to_file_path() else {
                    continue;
                };
                let deleted = change.typ == FileChangeType::DELETED;
                for root in core.state.file_changed_on_disk(&path, deleted) {
                    if !roots.contains(&root) {
                        roots.push(root);
                    }
                }
            }
            for root in roots {
                core.scheduler.schedule_project(core, &root);
            }
            super::environment_hints::environment_may_have_changed(core);
        }
        _ => {}
    }
}

//! The index page (notebooks with their status counts, and the most recent runs) and
//! the `/api/state.json` document that carries the same facts for machines.

use serde_json::{Value, json};

use super::cell::duration;
use super::page::head;
use super::{UrlScheme, escape, escape_into, notebook_url};
use crate::analysis::workspace::Workspace;
use crate::cache::status::cell_statuses_with;
use crate::cache::{CellStatus, KeyContext, Manifest, ManifestStatus, Store};
use crate::run::params::Parameters;

/// How many runs the index and the state document list.
const RECENT_RUNS: usize = 30;

/// One notebook's line on the index: relative path, cell count, status counts.
type NotebookRow = (String, usize, Vec<(CellStatus, usize)>);

fn notebook_rows(
    workspace: &Workspace,
    store: &Store,
    parameters: &Parameters,
) -> Vec<NotebookRow> {
    workspace
        .files
        .iter()
        .enumerate()
        .map(|(index, file)| {
            let mut keys =
                KeyContext::new(workspace, parameters.injection(workspace, index), store);
            let states = cell_statuses_with(&mut keys, workspace, index, store);
            let counts = [
                CellStatus::Cached,
                CellStatus::Stale,
                CellStatus::New,
                CellStatus::Error,
            ]
            .into_iter()
            .map(|status| {
                (
                    status,
                    states.iter().filter(|state| state.status == status).count(),
                )
            })
            .collect();
            (file.relative.clone(), file.notebook.cells.len(), counts)
        })
        .collect()
}

fn recent_runs(store: &Store) -> Vec<Manifest> {
    let mut manifests = store.manifests();
    manifests.sort_by(|a, b| b.executed_at.cmp(&a.executed_at));
    manifests.truncate(RECENT_RUNS);
    manifests
}

/// The project index page; status counts are those under `parameters` (`preview -p`).
pub fn render_index(
    workspace: &Workspace,
    store: &Store,
    scheme: UrlScheme,
    parameters: &Parameters,
) -> String {
    let mut page = head(workspace.project.name(), scheme, "");
    page.push_str(
        "<body data-jc-page=\"index\"><div class=\"jc-layout\"><nav class=\"jc-sidebar\">",
    );
    page.push_str(&format!(
        "<div class=\"jc-brand\">jellycell<span>{}</span></div><h2>Notebooks</h2><ul class=\"jc-notebooks\">",
        escape(workspace.project.name())
    ));
    let rows = notebook_rows(workspace, store, parameters);
    for (relative, _, _) in &rows {
        page.push_str(&format!(
            "<li><a href=\"{}\">{}</a></li>",
            escape(&notebook_url(relative)),
            escape(relative)
        ));
    }
    page.push_str(
        "</ul></nav><main class=\"jc-main jc-index\"><header class=\"jc-page-header\"><h1>",
    );
    escape_into(&mut page, workspace.project.name());
    page.push_str("</h1><p class=\"jc-summary\">");
    escape_into(&mut page, &workspace.project.root.display().to_string());
    page.push_str("</p>");
    if let Some(listed) = super::page::parameters_text(parameters) {
        page.push_str("<p class=\"jc-parameters\">Outputs of the runs with parameters ");
        escape_into(&mut page, &listed);
        page.push_str("</p>");
    }
    page.push_str(
        "</header><h2>Notebooks</h2><table><thead><tr><th>Notebook</th><th>Cells</th>\
                   <th>Cached</th><th>Stale</th><th>New</th><th>Errors</th></tr></thead><tbody>",
    );
    for (relative, cells, counts) in &rows {
        page.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a></td><td>{cells}</td>",
            escape(&notebook_url(relative)),
            escape(relative)
        ));
        for (_, count) in counts {
            page.push_str(&format!("<td>{count}</td>"));
        }
        page.push_str("</tr>");
    }
    page.push_str("</tbody></table><h2>Recent runs</h2><table><thead><tr><th>When (UTC)</th>\
                   <th>Notebook</th><th>Cell</th><th>Status</th><th>Duration</th></tr></thead><tbody>");
    let runs = recent_runs(store);
    if runs.is_empty() {
        page.push_str(
            "<tr><td colspan=\"5\" class=\"jc-empty\">No runs cached yet: \
             <code>jellycell-lsp run notebooks/&lt;name&gt;.py</code> fills the cache.</td></tr>",
        );
    }
    for manifest in runs {
        let status = match manifest.status {
            ManifestStatus::Ok => "cached",
            ManifestStatus::Error => "error",
        };
        page.push_str(&format!(
            "<tr><td>{}</td><td><a href=\"{}\">{}</a></td><td><code>{}</code></td>\
             <td><span class=\"jc-badge jc-status jc-status-{status}\">{}</span></td><td>{}</td></tr>",
            escape(manifest.executed_at.get(..19).unwrap_or(&manifest.executed_at)),
            escape(&notebook_url(&manifest.notebook)),
            escape(&manifest.notebook),
            escape(&manifest.name),
            if status == "cached" { "ok" } else { "error" },
            duration(manifest.duration_ms)
        ));
    }
    page.push_str("</tbody></table></main></div></body></html>\n");
    page
}

/// `/api/state.json`: `{schema_version, project, root, notebooks[], recent_runs[]}`.
pub fn state_json(workspace: &Workspace, store: &Store, parameters: &Parameters) -> Value {
    let notebooks: Vec<Value> = notebook_rows(workspace, store, parameters)
        .into_iter()
        .map(|(relative, cells, counts)| {
            let mut statuses = serde_json::Map::new();
            for (status, count) in counts {
                statuses.insert(status.as_str().to_string(), json!(count));
            }
            json!({
                "path": relative,
                "url": notebook_url(&relative),
                "cells": cells,
                "statuses": statuses,
            })
        })
        .collect();
    let runs: Vec<Value> = recent_runs(store)
        .into_iter()
        .map(|manifest| {
            json!({
                "notebook": manifest.notebook,
                "cell": manifest.name,
                "key": manifest.cache_key,
                "status": manifest.status,
                "executed_at": manifest.executed_at,
                "duration_ms": manifest.duration_ms,
            })
        })
        .collect();
    json!({
        "schema_version": 1,
        "project": workspace.project.name(),
        "root": workspace.project.root.display().to_string(),
        "parameters": Value::Object(parameters.to_map()),
        "notebooks": notebooks,
        "recent_runs": runs,
    })
}

//! `jellycell/cellOutputs`: one code cell's cached outputs as plain data, for editor
//! plugins that draw them (Neovim's virtual lines, VS Code's Outputs view).
//!
//! Params `{"uri": …, "cell": N}` (or `"line": L`, 0-based, for the cell at a line),
//! optional `"maxImageBytes"` (binary values up to it come as base64; default 1 MiB, `0`
//! for URLs only). The answer: the cell's `status`, `line` (its last non-blank line, where
//! an inline output goes), its one-line `summary`, `stale` when
//! the outputs are from an older version of the cell, `previewUrl` of the cell's page and
//! `outputs` (`render::output_data`); with `"html": true` also `html`, the outputs as the
//! preview renders them (self-contained), and its `style`. `null` for a position in no
//! code cell. A preview
//! server is started for outputs that need one (images, HTML), as for hovers.

use std::sync::Arc;

use serde_json::{Value, json};
use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::Uri;

use super::inlay_hints::last_line_end;
use super::{Core, preview, run_blocking};
use crate::analysis::graph::CellRef;
use crate::cache::{CellStatus, cell_outputs};
use crate::format::CellType;
use crate::render::UrlScheme;
use crate::render::assets::STYLE;
use crate::render::output_data::{DataLimits, outputs_data};
use crate::render::output_summary::output_summary;
use crate::render::outputs::render_output;
use crate::render::outputs_markdown::wants_preview;
use crate::text::PositionEncoding;

pub const METHOD: &str = "jellycell/cellOutputs";

pub async fn handle(core: Arc<Core>, params: Value) -> jsonrpc::Result<Value> {
    let uri: Uri = params
        .get("uri")
        .and_then(Value::as_str)
        .and_then(|uri| uri.parse().ok())
        .ok_or_else(|| invalid("needs {\"uri\": \"file:///…\", \"cell\": N}"))?;
    let cell = params
        .get("cell")
        .and_then(Value::as_u64)
        .map(|n| n as usize);
    let line = params
        .get("line")
        .and_then(Value::as_u64)
        .map(|n| n as usize);
    if cell.is_none() && line.is_none() {
        return Err(invalid("needs the cell: \"cell\": N or \"line\": L"));
    }
    let html = params.get("html").and_then(Value::as_bool) == Some(true);
    let mut limits = DataLimits::default();
    if let Some(bytes) = params.get("maxImageBytes").and_then(Value::as_u64) {
        limits.inline_bytes = bytes as usize;
    }
    run_blocking(move || answer(&core, &uri, cell, line, &limits, html)).await?
}

fn invalid(message: &str) -> jsonrpc::Error {
    jsonrpc::Error::invalid_params(format!("{METHOD} {message}"))
}

fn answer(
    core: &Core,
    uri: &Uri,
    cell: Option<usize>,
    line: Option<usize>,
    limits: &DataLimits,
    html: bool,
) -> jsonrpc::Result<Value> {
    let snapshot = core
        .state
        .snapshot(uri)
        .ok_or_else(|| invalid(&format!("{}: not open; open it first", uri.as_str())))?;
    let (Some(workspace), Some(file)) = (snapshot.workspace.as_ref(), snapshot.file()) else {
        return Ok(Value::Null);
    };
    let ordinal = match (cell, line) {
        (Some(cell), _) => cell,
        (None, Some(line)) => {
            let Some(offset) = snapshot.document.line_start(line) else {
                return Ok(Value::Null);
            };
            match file
                .notebook
                .cells
                .iter()
                .rposition(|cell| cell.spans.whole.start <= offset)
            {
                Some(ordinal) => ordinal,
                None => return Ok(Value::Null),
            }
        }
        (None, None) => return Ok(Value::Null),
    };
    if file
        .notebook
        .cells
        .get(ordinal)
        .is_none_or(|cell| cell.cell_type != CellType::Code)
    {
        return Ok(Value::Null);
    }
    let store = core.runs.store_for(&workspace.project);
    let cell_ref = CellRef {
        notebook: snapshot.file_index,
        ordinal,
    };
    let Some((state, manifest)) = cell_outputs(workspace, cell_ref, &store) else {
        return Ok(Value::Null);
    };
    let outputs = manifest
        .as_ref()
        .map_or(&[][..], |manifest| &manifest.outputs[..]);
    let handle = core
        .state
        .document(uri)
        .and_then(|open| open.root)
        .and_then(|root| {
            preview::endpoint_for_hover(core, &root, &file.path, wants_preview(outputs))
        });
    let origin = handle
        .as_ref()
        .map(|handle| handle.url().trim_end_matches('/').to_string());
    let preview_url = handle
        .as_ref()
        .and_then(|handle| handle.notebook_url(&file.path))
        .map(|url| format!("{url}#cell-{ordinal}"));
    // Where an inline output goes: the 0-based line of the cell's last non-blank line.
    let line = last_line_end(file, ordinal).map(|offset| {
        snapshot
            .document
            .offset_to_position(offset, PositionEncoding::Utf8)
            .line
    });
    let mut answer = json!({
        "uri": uri.as_str(),
        "cell": ordinal,
        "line": line,
        "name": state.name,
        "status": state.status.as_str(),
        "stale": state.status == CellStatus::Stale,
        "summary": output_summary(outputs, store.blobs()),
        "executedAt": manifest.as_ref().map(|manifest| manifest.executed_at.clone()),
        "durationMs": manifest.as_ref().map(|manifest| manifest.duration_ms),
        "previewUrl": preview_url,
        "outputs": outputs_data(outputs, store.blobs(), origin.as_deref(), limits),
    });
    if html {
        // The preview's own rendering (and sandboxing: `text/html` only in a sandboxed
        // `<iframe srcdoc>`), self-contained, with its style sheet.
        let rendered: String = outputs
            .iter()
            .enumerate()
            .map(|(index, output)| {
                render_output(
                    output,
                    store.blobs(),
                    UrlScheme::SelfContained,
                    &format!("o{index}-"),
                )
            })
            .collect();
        answer["html"] = Value::String(rendered);
        answer["style"] = Value::String(STYLE.to_string());
    }
    Ok(answer)
}

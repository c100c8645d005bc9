//! `workspace/executeCommand`: the command ids this server advertises (public API, DESIGN
//! contract 6) and their dispatch. A command that applies to a cell takes one argument
//! `{ "uri": ..., "cell": N }` (N the 0-based cell ordinal, optional for notebook-wide
//! commands); instead of `cell`, a client may pass `"line": L` (0-based, its cursor line)
//! and the server finds the cell there. The run commands only queue the run and answer
//! `{"queued": true}` at once; the run reports through `$/progress` (see `runs.rs`).

use std::path::PathBuf;

use serde_json::{Value, json};
use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::{ExecuteCommandParams, Uri};

use std::sync::Arc;

use super::kernel_status::{self, KernelState};
use super::runs::{RunKind, RunRequest};
use super::{Core, preview};

/// Opens the preview page of a notebook (at a cell) in the user's browser.
pub const OPEN_PREVIEW: &str = "jellycell.openPreview";
/// Runs the cell (even when cached) in the notebook's warm kernel.
pub const RUN_CELL: &str = "jellycell.runCell";
/// Runs the not-cached closure of the cell's dependencies, then the cell.
pub const RUN_WITH_DEPS: &str = "jellycell.runWithDeps";
/// Runs the not-cached cells above the cell.
pub const RUN_ABOVE: &str = "jellycell.runAbove";
/// Runs every not-cached cell of the notebook.
pub const RUN_ALL: &str = "jellycell.runAll";
/// Interrupts the running cell and stops the rest of its run.
pub const INTERRUPT: &str = "jellycell.interrupt";
/// Shuts the notebook's kernel down; the next run starts a fresh one.
pub const RESTART: &str = "jellycell.restart";

/// Every command `executeCommandProvider` lists.
pub const COMMANDS: &[&str] = &[
    RUN_CELL,
    RUN_WITH_DEPS,
    RUN_ABOVE,
    RUN_ALL,
    INTERRUPT,
    RESTART,
    OPEN_PREVIEW,
];

/// The notebook (and cell) a command applies to.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandTarget {
    pub uri: Uri,
    pub cell: Option<usize>,
    /// The client's cursor line (0-based), when it did not give `cell`.
    pub line: Option<usize>,
}

pub async fn execute(
    core: &Arc<Core>,
    params: ExecuteCommandParams,
) -> jsonrpc::Result<Option<Value>> {
    match params.command.as_str() {
        OPEN_PREVIEW => {
            let target = parse_target(&params.command, &params.arguments)?;
            preview::open(core, target).await.map(Some)
        }
        RUN_CELL | RUN_WITH_DEPS | RUN_ABOVE | RUN_ALL => {
            let target = parse_target(&params.command, &params.arguments)?;
            let kind = match params.command.as_str() {
                RUN_CELL => RunKind::Cell,
                RUN_WITH_DEPS => RunKind::WithDeps,
                RUN_ABOVE => RunKind::Above,
                _ => RunKind::All,
            };
            if kind != RunKind::All && target.cell.is_none() && target.line.is_none() {
                return Err(invalid_params(format!(
                    "{} needs the cell: {{\"uri\": \"file:///…\", \"cell\": N}}",
                    params.command
                )));
            }
            let path = open_notebook_path(core, &target.uri)?;
            let request = RunRequest {
                kind,
                uri: target.uri,
                cell: target.cell,
                line: target.line,
                token: params.work_done_progress_params.work_done_token,
            };
            core.runs.enqueue(core, path, request);
            Ok(Some(json!({"queued": true})))
        }
        INTERRUPT => {
            let target = parse_target(&params.command, &params.arguments)?;
            let path = open_notebook_path(core, &target.uri)?;
            Ok(Some(json!({"interrupted": core.runs.interrupt(&path)})))
        }
        RESTART => {
            let target = parse_target(&params.command, &params.arguments)?;
            let path = open_notebook_path(core, &target.uri)?;
            let restarted = core.runs.restart(&path);
            kernel_status::send(core, &target.uri, KernelState::None);
            Ok(Some(json!({"restarted": restarted})))
        }
        other => Err(invalid_params(format!(
            "unknown command {other:?}; this server runs {}",
            COMMANDS.join(", ")
        ))),
    }
}

/// `[{"uri": "file:///...", "cell": 3}]` → the target.
pub fn parse_target(command: &str, arguments: &[Value]) -> jsonrpc::Result<CommandTarget> {
    let usage = || format!("{command} takes one argument {{\"uri\": \"file:///…\", \"cell\": N}}");
    let argument = arguments
        .first()
        .and_then(Value::as_object)
        .ok_or_else(|| invalid_params(usage()))?;
    let uri = argument
        .get("uri")
        .and_then(Value::as_str)
        .and_then(|text| text.parse::<Uri>().ok())
        .ok_or_else(|| invalid_params(format!("{}: \"uri\" is missing or not a URI", usage())))?;
    let cell = match argument.get("cell") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_u64()
                .and_then(|cell| usize::try_from(cell).ok())
                .ok_or_else(|| {
                    invalid_params(format!("{}: \"cell\" must be a cell ordinal", usage()))
                })?,
        ),
    };
    let line = match argument.get("line") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_u64()
                .and_then(|line| usize::try_from(line).ok())
                .ok_or_else(|| {
                    invalid_params(format!("{}: \"line\" must be a 0-based line", usage()))
                })?,
        ),
    };
    Ok(CommandTarget { uri, cell, line })
}

/// The path of the open notebook buffer at `uri` (runs read the buffer, not the disk),
/// or of its scratch copy for an untitled buffer.
fn open_notebook_path(core: &Core, uri: &Uri) -> jsonrpc::Result<PathBuf> {
    let open = core.state.document(uri).ok_or_else(|| {
        invalid_params(format!(
            "{} is not open: runs use the editor's buffer, so open it first",
            uri.as_str()
        ))
    })?;
    // An untitled buffer runs in a scratch folder; its path there keys its runs.
    Ok(open.path.unwrap_or_else(|| {
        super::unsaved::scratch_for(uri, None).map_or_else(PathBuf::new, |scratch| scratch.path)
    }))
}

pub(crate) fn invalid_params(message: String) -> jsonrpc::Error {
    let mut error = jsonrpc::Error::invalid_params(message.clone());
    error.message = message.into();
    error
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_the_uri_and_the_cell() {
        let target = parse_target(
            OPEN_PREVIEW,
            &[json!({"uri": "file:///p/nb.py", "cell": 2})],
        )
        .unwrap();
        assert_eq!(target.uri.as_str(), "file:///p/nb.py");
        assert_eq!(target.cell, Some(2));
        let whole = parse_target(OPEN_PREVIEW, &[json!({"uri": "file:///p/nb.py"})]).unwrap();
        assert_eq!(whole.cell, None);
        let at_line = parse_target(
            OPEN_PREVIEW,
            &[json!({"uri": "file:///p/nb.py", "line": 7})],
        )
        .unwrap();
        assert_eq!((at_line.cell, at_line.line), (None, Some(7)));
    }

    #[test]
    fn bad_arguments_say_what_the_command_takes() {
        for arguments in [
            vec![],
            vec![json!("x")],
            vec![json!({"cell": 1})],
            vec![json!({"uri": "file:///a.py", "cell": -1})],
        ] {
            let error = parse_target(OPEN_PREVIEW, &arguments).unwrap_err();
            assert!(
                error.message.contains("takes one argument"),
                "{}",
                error.message
            );
        }
    }
}

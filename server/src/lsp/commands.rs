//! `workspace/executeCommand`: the command ids this server advertises (public API, DESIGN
//! contract 6) and their dispatch. A command that applies to a cell takes one argument
//! `{ "uri": ..., "cell": N }` (N the 0-based cell ordinal, optional for notebook-wide
//! commands); instead of `cell`, a client may pass `"line": L` (0-based, its cursor line)
//! and the server finds the cell there. Only implemented commands are advertised; the run commands come with the
//! runner's editor integration.

use serde_json::Value;
use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::{ExecuteCommandParams, Uri};

use std::sync::Arc;

use super::{Core, preview};

/// Opens the preview page of a notebook (at a cell) in the user's browser.
pub const OPEN_PREVIEW: &str = "jellycell.openPreview";

/// Every command `executeCommandProvider` lists.
pub const COMMANDS: &[&str] = &[OPEN_PREVIEW];

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

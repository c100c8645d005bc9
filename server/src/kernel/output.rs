//! Our own plain types for what a cell execution produces: outputs, the final result, and
//! the events a streaming execute yields.
//!
//! Also owns the conversion from an iopub message (type + JSON content) into an [`Output`].
//! Conversion is lenient: a missing or mistyped field becomes an empty value, never a panic,
//! and MIME bundles are kept exactly as the kernel sent them (binary MIME types such as
//! `image/png` are base64 strings, as in nbformat).

use std::time::Duration;

use serde_json::{Map, Value, json};

/// A MIME bundle: MIME type → data (a string, or JSON for `application/json`-like types).
pub type MimeBundle = Map<String, Value>;

/// One output of a cell, in the order the kernel published it.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Text written to `stdout` or `stderr` (`name`).
    Stream { name: String, text: String },
    /// `display()` output; `display_id` is set when it may be updated later.
    DisplayData {
        data: MimeBundle,
        metadata: MimeBundle,
        display_id: Option<String>,
    },
    /// The value of the cell's last expression.
    ExecuteResult {
        data: MimeBundle,
        metadata: MimeBundle,
        execution_count: Option<u32>,
    },
    /// An exception. `traceback` lines are ANSI-coloured; see [`super::plain_traceback`].
    Error {
        ename: String,
        evalue: String,
        traceback: Vec<String>,
    },
    /// Clear earlier outputs of this cell (`wait`: when the next output arrives).
    ClearOutput { wait: bool },
    /// Replace the data of an earlier display with this `display_id`.
    UpdateDisplayData {
        data: MimeBundle,
        metadata: MimeBundle,
        display_id: Option<String>,
    },
}

impl Output {
    /// The output as an nbformat 4 output object, or `None` for `ClearOutput` and
    /// `UpdateDisplayData`, which act on earlier outputs and are not stored in notebooks.
    /// (`transient` data such as display ids is not stored either, as in nbformat.)
    pub fn to_nbformat(&self) -> Option<Value> {
        let value = match self {
            Output::Stream { name, text } => json!({
                "output_type": "stream", "name": name, "text": text,
            }),
            Output::DisplayData { data, metadata, .. } => json!({
                "output_type": "display_data", "data": data, "metadata": metadata,
            }),
            Output::ExecuteResult {
                data,
                metadata,
                execution_count,
            } => json!({
                "output_type": "execute_result",
                "data": data,
                "metadata": metadata,
                "execution_count": execution_count,
            }),
            Output::Error {
                ename,
                evalue,
                traceback,
            } => json!({
                "output_type": "error", "ename": ename, "evalue": evalue, "traceback": traceback,
            }),
            Output::ClearOutput { .. } | Output::UpdateDisplayData { .. } => return None,
        };
        Some(value)
    }
}

/// How an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionStatus {
    /// The kernel ran the code without an exception.
    Ok,
    /// The code raised; the [`Output::Error`] is among the outputs.
    Error,
    /// The kernel did not run the code (an earlier request failed with `stop_on_error`).
    Aborted,
    /// The timeout passed; the kernel was interrupted.
    TimedOut,
    /// The kernel process exited or stopped answering its heartbeat before the cell finished.
    KernelDied,
}

/// The outcome of one execute request.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionResult {
    pub status: ExecutionStatus,
    pub outputs: Vec<Output>,
    /// The kernel's execution counter for this request, when it reported one.
    pub execution_count: Option<u32>,
    /// Wall-clock time from sending the request to the end of the execution.
    pub duration: Duration,
    /// Why the execution ended abnormally (timeout, kernel death), in words for the user.
    pub failure: Option<String>,
    /// The outcome says nothing about the code, so it must not be cached: the connection
    /// to a remote server was lost, or the server dropped outputs (its IOPub rate limit).
    pub incomplete: bool,
}

impl ExecutionResult {
    /// The first error output, if any.
    pub fn error(&self) -> Option<&Output> {
        self.outputs
            .iter()
            .find(|output| matches!(output, Output::Error { .. }))
    }

    /// All stream text of the given stream (`"stdout"` or `"stderr"`), concatenated.
    pub fn stream_text(&self, stream: &str) -> String {
        self.outputs
            .iter()
            .filter_map(|output| match output {
                Output::Stream { name, text } if name == stream => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// What a streaming execute yields, in order: outputs as they arrive, then exactly one
/// `Finished`.
#[derive(Debug, Clone, PartialEq)]
pub enum KernelEvent {
    /// The kernel started running the code (`execute_input`).
    Started { execution_count: Option<u32> },
    /// An output, as soon as the kernel published it.
    Output(Output),
    /// The final result; no events follow it.
    Finished(ExecutionResult),
}

/// The output an iopub message of `msg_type` carries, or `None` for message types that are
/// not outputs (status, execute_input, comm messages…).
pub(crate) fn output_from_iopub(msg_type: &str, content: &Value) -> Option<Output> {
    let output = match msg_type {
        "stream" => Output::Stream {
            name: string_field(content, "name"),
            text: string_field(content, "text"),
        },
        "display_data" => Output::DisplayData {
            data: object_field(content, "data"),
            metadata: object_field(content, "metadata"),
            display_id: display_id(content),
        },
        "update_display_data" => Output::UpdateDisplayData {
            data: object_field(content, "data"),
            metadata: object_field(content, "metadata"),
            display_id: display_id(content),
        },
        "execute_result" => Output::ExecuteResult {
            data: object_field(content, "data"),
            metadata: object_field(content, "metadata"),
            execution_count: execution_count(content),
        },
        "error" => Output::Error {
            ename: string_field(content, "ename"),
            evalue: string_field(content, "evalue"),
            traceback: content
                .get("traceback")
                .and_then(Value::as_array)
                .map(|lines| {
                    lines
                        .iter()
                        .map(|line| line.as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .unwrap_or_default(),
        },
        "clear_output" => Output::ClearOutput {
            wait: content
                .get("wait")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        },
        _ => return None,
    };
    Some(output)
}

/// `content.execution_count` when it is a non-negative integer that fits.
pub(crate) fn execution_count(content: &Value) -> Option<u32> {
    content
        .get("execution_count")
        .and_then(Value::as_u64)
        .and_then(|count| u32::try_from(count).ok())
}

fn string_field(content: &Value, key: &str) -> String {
    match content.get(key) {
        Some(Value::String(text)) => text.clone(),
        // nbformat allows multiline strings as lists of lines.
        Some(Value::Array(lines)) => lines.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

fn object_field(content: &Value, key: &str) -> MimeBundle {
    content
        .get(key)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn display_id(content: &Value) -> Option<String> {
    content
        .get("transient")
        .and_then(|transient| transient.get("display_id"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_every_output_message_type() {
        let stream = output_from_iopub("stream", &json!({"name": "stdout", "text": "hi\n"}));
        assert_eq!(
            stream,
            Some(Output::Stream {
                name: "stdout".into(),
                text: "hi\n".into()
            })
        );
        let display = output_from_iopub(
            "display_data",
            &json!({"data": {"image/png": "iVBO"}, "metadata": {}, "transient": {"display_id": "d1"}}),
        );
        assert!(
            matches!(display, Some(Output::DisplayData { display_id: Some(id), .. }) if id == "d1")
        );
        let result = output_from_iopub(
            "execute_result",
            &json!({"data": {"text/plain": "2"}, "metadata": {}, "execution_count": 3}),
        );
        assert!(matches!(
            result,
            Some(Output::ExecuteResult {
                execution_count: Some(3),
                ..
            })
        ));
        let clear = output_from_iopub("clear_output", &json!({"wait": true}));
        assert_eq!(clear, Some(Output::ClearOutput { wait: true }));
        let update = output_from_iopub("update_display_data", &json!({"data": {}}));
        assert!(matches!(
            update,
            Some(Output::UpdateDisplayData {
                display_id: None,
                ..
            })
        ));
    }

    #[test]
    fn malformed_content_becomes_empty_fields_not_a_panic() {
        let error = output_from_iopub("error", &json!({"ename": 3, "traceback": "not a list"}));
        assert_eq!(
            error,
            Some(Output::Error {
                ename: String::new(),
                evalue: String::new(),
                traceback: Vec::new()
            })
        );
        let result = output_from_iopub("execute_result", &json!(null));
        assert!(matches!(
            result,
            Some(Output::ExecuteResult {
                execution_count: None,
                ..
            })
        ));
    }

    #[test]
    fn outputs_convert_to_nbformat_objects() {
        let result = output_from_iopub(
            "execute_result",
            &json!({"data": {"text/plain": "2"}, "metadata": {}, "execution_count": 3}),
        );
        assert_eq!(
            result.and_then(|output| output.to_nbformat()),
            Some(json!({
                "output_type": "execute_result",
                "data": {"text/plain": "2"},
                "metadata": {},
                "execution_count": 3
            }))
        );
        let display = Output::DisplayData {
            data: MimeBundle::new(),
            metadata: MimeBundle::new(),
            display_id: Some("d".into()),
        };
        assert_eq!(
            display.to_nbformat(),
            Some(json!({"output_type": "display_data", "data": {}, "metadata": {}}))
        );
        assert_eq!(Output::ClearOutput { wait: false }.to_nbformat(), None);
    }

    #[test]
    fn status_and_input_messages_are_not_outputs() {
        assert_eq!(
            output_from_iopub("status", &json!({"execution_state": "idle"})),
            None
        );
        assert_eq!(
            output_from_iopub("execute_input", &json!({"code": "1"})),
            None
        );
    }
}

//! One frame's body → a JSON-RPC message, or the error that answers it.
//!
//! JSON-RPC 2.0 says what bad input gets: a body that is not JSON → -32700 (parse error),
//! JSON that is not a request object (`null`, `[]`, `{}`, a wrong `"jsonrpc"`, an id that
//! is neither number nor string) → -32600 (invalid request), with the request's id when it
//! can be read, else `null`. Batches (`[...]`) are not part of LSP: every member that has
//! an id gets its own -32600. Invalid UTF-8 is decoded lossily, and `\ud800`-style escapes
//! of lone UTF-16 surrogates (VS Code's `JSON.stringify` writes them for broken text)
//! become U+FFFD instead of failing the whole message.

use serde_json::{Map, Value};
use tower_lsp_server::jsonrpc::{Error, Id, Request, Response};

/// What to do with one body.
#[derive(Debug)]
pub(crate) enum Incoming {
    Request(Request),
    /// The client's answer to a request of ours.
    Response(Response),
    /// Answer each id with `error` (`Id::Null` when no id could be read).
    Refused {
        ids: Vec<Id>,
        error: Error,
    },
    /// Nothing can be answered (a malformed response); why, for the log.
    Dropped(String),
}

/// Reads `body`; `refused` is a header-level reason to answer it with an error instead.
pub(crate) fn read(body: &[u8], refused: Option<&str>) -> Incoming {
    let text = String::from_utf8_lossy(body);
    let value = match parse(&text) {
        Ok(value) => value,
        Err(problem) => {
            return Incoming::Refused {
                ids: vec![Id::Null],
                error: with_message(Error::parse_error(), format!("parse error: {problem}")),
            };
        }
    };
    if let Some(reason) = refused {
        return Incoming::Refused {
            ids: vec![readable_id(&value).unwrap_or(Id::Null)],
            error: invalid_request(reason.to_string()),
        };
    }
    match value {
        Value::Object(object) => message(object),
        Value::Array(members) => batch(&members),
        other => Incoming::Refused {
            ids: vec![Id::Null],
            error: invalid_request(format!(
                "a message must be a JSON object, not {}",
                kind_of(&other)
            )),
        },
    }
}

fn parse(text: &str) -> Result<Value, serde_json::Error> {
    match serde_json::from_str(text) {
        Ok(value) => Ok(value),
        Err(error) => match replace_lone_surrogates(text) {
            Some(repaired) => serde_json::from_str(&repaired),
            None => Err(error),
        },
    }
}

fn message(object: Map<String, Value>) -> Incoming {
    let id = match object.get("id") {
        None => None,
        Some(value) => match id_of(value) {
            Some(id) => Some(id),
            None => {
                return Incoming::Refused {
                    ids: vec![Id::Null],
                    error: invalid_request(format!(
                        "\"id\" must be an integer or a string, not {}",
                        kind_of(value)
                    )),
                };
            }
        },
    };
    let refuse = |reason: String| Incoming::Refused {
        ids: vec![id.clone().unwrap_or(Id::Null)],
        error: invalid_request(reason),
    };
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return refuse("\"jsonrpc\" must be \"2.0\"".to_string());
    }
    match object.get("method") {
        Some(Value::String(_)) => match serde_json::from_value(Value::Object(object)) {
            Ok(request) => Incoming::Request(request),
            Err(error) => refuse(format!("not a valid request: {error}")),
        },
        Some(other) => refuse(format!(
            "\"method\" must be a string, not {}",
            kind_of(other)
        )),
        None if id.is_some() && (object.contains_key("result") || object.contains_key("error")) => {
            match serde_json::from_value(Value::Object(object)) {
                Ok(response) => Incoming::Response(response),
                Err(error) => Incoming::Dropped(format!("a response that is not valid: {error}")),
            }
        }
        None => refuse("no \"method\" (and not a response)".to_string()),
    }
}

fn batch(members: &[Value]) -> Incoming {
    let mut ids: Vec<Id> = members.iter().filter_map(readable_id).collect();
    if ids.is_empty() {
        ids.push(Id::Null);
    }
    let error = invalid_request(if members.is_empty() {
        "an empty batch".to_string()
    } else {
        "batches are not part of LSP: send one message per frame".to_string()
    });
    Incoming::Refused { ids, error }
}

fn id_of(value: &Value) -> Option<Id> {
    match value {
        Value::Number(number) => number.as_i64().map(Id::Number),
        Value::String(text) => Some(Id::String(text.clone())),
        Value::Null => Some(Id::Null),
        _ => None,
    }
}

/// The id of a request-shaped object (one with a `method`), if it has a usable one.
fn readable_id(value: &Value) -> Option<Id> {
    let object = value.as_object()?;
    object.get("method")?;
    id_of(object.get("id")?)
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn invalid_request(message: String) -> Error {
    with_message(Error::invalid_request(), message)
}

fn with_message(mut error: Error, message: String) -> Error {
    error.message = message.into();
    error
}

/// `text` with every `\uXXXX` escape of an unpaired UTF-16 surrogate (inside strings)
/// replaced by `\ufffd`; `None` when there is none.
fn replace_lone_surrogates(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let unit_at = |at: usize| -> Option<u32> {
        if bytes.get(at) != Some(&b'\\') || bytes.get(at + 1) != Some(&b'u') {
            return None;
        }
        let hex = std::str::from_utf8(bytes.get(at + 2..at + 6)?).ok()?;
        u32::from_str_radix(hex, 16).ok()
    };
    let high = 0xD800..0xDC00;
    let low = 0xDC00..0xE000;
    let mut repaired = String::new();
    let mut copied = 0;
    let mut in_string = false;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                in_string = !in_string;
                at += 1;
            }
            b'\\' if in_string => match unit_at(at) {
                Some(unit) if high.contains(&unit) => {
                    if unit_at(at + 6).is_some_and(|next| low.contains(&next)) {
                        at += 12;
                    } else {
                        repaired.push_str(&text[copied..at]);
                        repaired.push_str("\\ufffd");
                        at += 6;
                        copied = at;
                    }
                }
                Some(unit) if low.contains(&unit) => {
                    repaired.push_str(&text[copied..at]);
                    repaired.push_str("\\ufffd");
                    at += 6;
                    copied = at;
                }
                _ => at += 2,
            },
            _ => at += 1,
        }
    }
    if copied == 0 {
        return None;
    }
    repaired.push_str(&text[copied..]);
    Some(repaired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp_server::jsonrpc::ErrorCode;

    fn refused(body: &str) -> (Vec<Id>, ErrorCode) {
        match read(body.as_bytes(), None) {
            Incoming::Refused { ids, error } => (ids, error.code),
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn what_is_not_json_is_a_parse_error_with_a_null_id() {
        assert_eq!(refused("hello"), (vec![Id::Null], ErrorCode::ParseError));
        assert_eq!(
            refused("{\"jsonrpc\":"),
            (vec![Id::Null], ErrorCode::ParseError)
        );
    }

    #[test]
    fn json_that_is_not_a_request_is_an_invalid_request() {
        for body in [
            "{}",
            "null",
            "[]",
            "5",
            "\"x\"",
            r#"{"jsonrpc":"2.0","id":{},"method":"m"}"#,
        ] {
            assert_eq!(
                refused(body),
                (vec![Id::Null], ErrorCode::InvalidRequest),
                "{body}"
            );
        }
        let old = r#"{"jsonrpc":"1.0","id":7,"method":"initialize"}"#;
        assert_eq!(
            refused(old),
            (vec![Id::Number(7)], ErrorCode::InvalidRequest)
        );
        let no_method = r#"{"jsonrpc":"2.0","id":"a"}"#;
        assert_eq!(
            refused(no_method),
            (vec![Id::String("a".into())], ErrorCode::InvalidRequest)
        );
    }

    #[test]
    fn each_request_in_a_batch_gets_its_own_error() {
        let body = r#"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"},{"jsonrpc":"2.0","id":"x","method":"c"}]"#;
        assert_eq!(
            refused(body),
            (
                vec![Id::Number(1), Id::String("x".into())],
                ErrorCode::InvalidRequest
            )
        );
    }

    #[test]
    fn lone_surrogates_decode_to_the_replacement_character() {
        let body = r#"{"jsonrpc":"2.0","method":"m","params":{"text":"a\ud800b\udc00c\ud83d\ude00\\ud800"}}"#;
        let Incoming::Request(request) = read(body.as_bytes(), None) else {
            panic!("not a request");
        };
        let text = request
            .params()
            .and_then(|params| params["text"].as_str())
            .unwrap_or_default()
            .to_string();
        assert_eq!(text, "a\u{fffd}b\u{fffd}c😀\\ud800");
    }

    #[test]
    fn a_refusing_header_answers_the_request_by_its_id() {
        let body = r#"{"jsonrpc":"2.0","id":3,"method":"m"}"#;
        match read(body.as_bytes(), Some("bad charset")) {
            Incoming::Refused { ids, error } => {
                assert_eq!(ids, vec![Id::Number(3)]);
                assert_eq!(error.code, ErrorCode::InvalidRequest);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn responses_and_requests_are_told_apart() {
        assert!(matches!(
            read(br#"{"jsonrpc":"2.0","id":1,"result":null}"#, None),
            Incoming::Response(_)
        ));
        assert!(matches!(
            read(br#"{"jsonrpc":"2.0","id":1,"method":"m"}"#, None),
            Incoming::Request(_)
        ));
        assert!(matches!(
            read(br#"{"jsonrpc":"2.0","id":1,"error":5}"#, None),
            Incoming::Dropped(_)
        ));
    }
}

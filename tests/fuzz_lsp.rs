//! Fuzzing the real binary's framing and JSON-RPC layer over stdio (proptest): each case
//! writes a random mix of garbage bytes, frames of random bytes and random JSON, requests
//! and notifications with random method names (LSP's, `$/…`, anything) and params,
//! batches, broken headers and lone-surrogate escapes, then a probe request. The server
//! must still be running and must have answered every request that had an id. One server
//! serves all cases (a fresh one per case would spend the budget on start-up); the number
//! of cases is bounded for CI.

mod support;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::time::Instant;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use support::lsp::{LspClient, TIMEOUT, project};

/// Cases per run (each costs a few milliseconds of server time).
const CASES: u32 = 96;

#[derive(Debug, Clone)]
enum Piece {
    /// Raw bytes with no `Content-Length` in them (so they cannot start a frame).
    Garbage(Vec<u8>),
    /// A well-framed body of random bytes.
    Body(Vec<u8>),
    /// A well-framed random JSON value.
    Json(Value),
    /// A request (it gets an id when sent) that must be answered.
    Request {
        method: String,
        params: Value,
    },
    Notification {
        method: String,
        params: Value,
    },
    /// A batch of requests, each of which must be answered (with an error).
    Batch(Vec<String>),
    /// A header block the server cannot use, then a body.
    BadHeader {
        header: String,
        body: Vec<u8>,
    },
    /// A request framed with a charset other than UTF-8: must be answered by its id.
    ForeignCharset(String),
    /// A request whose params hold `\udXXX` escapes of lone surrogates.
    Surrogates {
        method: String,
        unit: u16,
    },
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|number| json!(number)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z$/]{0,8}", inner, 0..5)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

const METHODS: &[&str] = &[
    "initialize",
    "initialized",
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/didClose",
    "textDocument/hover",
    "textDocument/completion",
    "textDocument/codeLens",
    "textDocument/inlayHint",
    "textDocument/documentSymbol",
    "textDocument/foldingRange",
    "textDocument/definition",
    "textDocument/references",
    "textDocument/prepareRename",
    "textDocument/rename",
    "textDocument/codeAction",
    "textDocument/diagnostic",
    "workspace/executeCommand",
    "workspace/didChangeWatchedFiles",
    "workspace/didChangeWorkspaceFolders",
    "$/cancelRequest",
    "$/setTrace",
    "$/progress",
];

/// Method names; `shutdown` and `exit` are left out (they end the shared server).
fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(METHODS).prop_map(str::to_string),
        "\\$/[a-zA-Z]{0,10}",
        ".{0,16}",
    ]
    .prop_filter("ends the server", |name| {
        name != "shutdown" && name != "exit"
    })
}

fn piece() -> impl Strategy<Value = Piece> {
    let garbage = proptest::collection::vec(any::<u8>(), 0..120).prop_filter(
        "could start a frame",
        |bytes| {
            !String::from_utf8_lossy(bytes)
                .to_ascii_lowercase()
                .contains("content-length")
        },
    );
    prop_oneof![
        garbage.prop_map(Piece::Garbage),
        proptest::collection::vec(any::<u8>(), 0..120).prop_map(Piece::Body),
        json_value().prop_map(Piece::Json),
        (method(), json_value()).prop_map(|(method, params)| Piece::Request { method, params }),
        (method(), json_value())
            .prop_map(|(method, params)| Piece::Notification { method, params }),
        proptest::collection::vec(method(), 0..4).prop_map(Piece::Batch),
        (
            prop_oneof![
                "Content-Length: [a-z!#-]{1,6}",
                "Content-Length: -[0-9]{1,4}",
                "Content-Length: 9{20,30}",
                "Content-Length",
                "Content-Type: [a-z/]{0,12}",
                "[A-Za-z-]{1,12}: [ -~]{0,12}",
            ],
            proptest::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(header, body)| Piece::BadHeader { header, body }),
        method().prop_map(Piece::ForeignCharset),
        (method(), 0xD800u16..0xE000).prop_map(|(method, unit)| Piece::Surrogates { method, unit }),
    ]
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut bytes = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// The bytes of `pieces`, and the ids of the requests among them that must be answered.
fn render(pieces: &[Piece], next_id: &mut u64) -> (Vec<u8>, BTreeSet<String>) {
    let mut bytes = Vec::new();
    let mut ids = BTreeSet::new();
    let mut fresh_id = || {
        *next_id += 1;
        format!("fuzz-{next_id}")
    };
    for piece in pieces {
        match piece {
            Piece::Garbage(garbage) => {
                bytes.extend_from_slice(garbage);
                // End whatever the garbage started, as a client that resyncs would.
                bytes.extend_from_slice(b"\r\n\r\n");
            }
            Piece::Body(body) => bytes.extend(frame(body)),
            Piece::Json(value) => bytes.extend(frame(value.to_string().as_bytes())),
            Piece::Request { method, params } => {
                let id = fresh_id();
                let request =
                    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
                bytes.extend(frame(request.to_string().as_bytes()));
                ids.insert(id);
            }
            Piece::Notification { method, params } => {
                let notification = json!({"jsonrpc": "2.0", "method": method, "params": params});
                bytes.extend(frame(notification.to_string().as_bytes()));
            }
            Piece::Batch(methods) => {
                let members: Vec<Value> = methods
                    .iter()
                    .map(|method| {
                        let id = fresh_id();
                        ids.insert(id.clone());
                        json!({"jsonrpc": "2.0", "id": id, "method": method})
                    })
                    .collect();
                bytes.extend(frame(Value::Array(members).to_string().as_bytes()));
            }
            Piece::BadHeader { header, body } => {
                bytes.extend(format!("{header}\r\n\r\n").bytes());
                bytes.extend_from_slice(body);
                bytes.extend_from_slice(b"\r\n\r\n");
            }
            Piece::ForeignCharset(method) => {
                let id = fresh_id();
                let body = json!({"jsonrpc": "2.0", "id": id, "method": method}).to_string();
                bytes.extend(
                    format!(
                        "Content-Length: {}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-16\r\n\r\n{body}",
                        body.len()
                    )
                    .bytes(),
                );
                ids.insert(id);
            }
            Piece::Surrogates { method, unit } => {
                let id = fresh_id();
                let method = Value::String(method.clone()).to_string();
                let body = format!(
                    r#"{{"jsonrpc":"2.0","id":"{id}","method":{method},"params":{{"text":"a\u{unit:04x}b"}}}}"#
                );
                bytes.extend(frame(body.as_bytes()));
                ids.insert(id);
            }
        }
    }
    (bytes, ids)
}

#[test]
fn random_frames_never_stop_the_server_and_every_request_is_answered() {
    let dir =
        project("//- jellycell.toml\n[project]\nname = \"p\"\n//- notebooks/a.py\n# %%\nx = 1\n");
    let client = RefCell::new(LspClient::spawn(&[]));
    client.borrow_mut().initialize(dir.path(), json!({}));
    let next_id = RefCell::new(0u64);
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        // A hung server costs a full timeout per shrink step.
        max_shrink_iters: 32,
        ..Config::default()
    });
    let outcome = runner.run(
        &proptest::collection::vec(piece(), 1..8),
        |pieces| {
            let mut client = client.borrow_mut();
            let (bytes, mut ids) = render(&pieces, &mut next_id.borrow_mut());
            client.send_bytes(&bytes);
            let probe = client.request(
                "textDocument/hover",
                json!({"textDocument": {"uri": "file:///nowhere.py"}, "position": {"line": 0, "character": 0}}),
            );
            prop_assert!(probe.get("error").is_none(), "probe failed: {probe}");
            let deadline = Instant::now() + TIMEOUT;
            while !ids.is_empty() && Instant::now() < deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                let answer = client.try_wait_message(left, |message| {
                    message.get("method").is_none()
                        && message["id"].as_str().is_some_and(|id| ids.contains(id))
                });
                if let Some(answer) = answer {
                    ids.remove(answer["id"].as_str().unwrap_or_default());
                }
            }
            prop_assert!(ids.is_empty(), "requests never answered: {ids:?}");
            prop_assert!(client.is_running(), "the server exited");
            Ok::<(), TestCaseError>(())
        },
    );
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    assert_eq!(client.into_inner().shutdown(), Some(0));
}

//! Malformed input over the real binary's stdio: every bad frame gets the JSON-RPC answer
//! it deserves (-32700, -32600 with the id when readable, -32601 for `$/` requests) or is
//! skipped to the next frame, is logged on stderr, and the server goes on answering.

mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use support::lsp::{LspClient, TIMEOUT, project, uri};

/// A server whose stderr goes to `log`, initialized on `root`.
fn server(root: &Path, log: &Path) -> LspClient {
    let file = std::fs::File::create(log).expect("stderr file");
    let mut client = LspClient::spawn_with(|command| {
        command.stderr(Stdio::from(file));
    });
    client.initialize(root, json!({}));
    client
}

fn frame(body: &str) -> Vec<u8> {
    framed("", body.as_bytes())
}

/// A frame of `body` with `headers` (each ending in CRLF) after its `Content-Length`.
fn framed(headers: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!("Content-Length: {}\r\n{headers}\r\n", body.len()).into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// The next response whose id is `id` (numbers and `null` alike).
fn answer_with_id(client: &mut LspClient, id: &Value) -> Value {
    client
        .try_wait_message(TIMEOUT, |message| {
            message.get("method").is_none() && message.get("id") == Some(id)
        })
        .unwrap_or_else(|| panic!("no answer with id {id}"))
}

/// The id and error code of the answer a bad frame gets.
type Expected = (Value, i64);

/// A request that any live server answers.
fn probe(client: &mut LspClient) {
    let answer = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///nowhere.py"}, "position": {"line": 0, "character": 0}}),
    );
    assert!(answer.get("error").is_none(), "{answer}");
}

#[test]
fn every_malformed_frame_is_answered_or_skipped_and_the_server_goes_on() {
    let dir = project("//- jellycell.toml\n[project]\nname = \"p\"\n");
    let log = dir.path().join("stderr.log");
    let mut client = server(dir.path(), &log);
    let null = Value::Null;
    // (bytes, the id of the expected error answer, its code); `None`: nothing to answer.
    let cases: Vec<(Vec<u8>, Option<Expected>)> = vec![
        (frame("{}"), Some((null.clone(), -32600))),
        (frame("hello"), Some((null.clone(), -32700))),
        (frame("null"), Some((null.clone(), -32600))),
        (frame("[]"), Some((null.clone(), -32600))),
        (frame("42"), Some((null.clone(), -32600))),
        (frame("{\"jsonrpc\":"), Some((null.clone(), -32700))),
        (
            frame(r#"{"jsonrpc":"1.0","id":71,"method":"textDocument/hover"}"#),
            Some((json!(71), -32600)),
        ),
        (
            frame(r#"{"id":72,"method":"textDocument/hover"}"#),
            Some((json!(72), -32600)),
        ),
        (
            frame(r#"{"jsonrpc":"2.0","id":{"a":1},"method":"m"}"#),
            Some((null.clone(), -32600)),
        ),
        (
            frame(r#"{"jsonrpc":"2.0","id":73,"method":7}"#),
            Some((json!(73), -32600)),
        ),
        (
            frame(r#"{"jsonrpc":"2.0","id":74}"#),
            Some((json!(74), -32600)),
        ),
        (
            frame(r#"[{"jsonrpc":"2.0","id":75,"method":"shutdown"}]"#),
            Some((json!(75), -32600)),
        ),
        (
            frame(r#"{"jsonrpc":"2.0","id":76,"method":"$/someRequest"}"#),
            Some((json!(76), -32601)),
        ),
        (
            frame(r#"{"jsonrpc":"2.0","method":"$/someNotification"}"#),
            None,
        ),
        (
            frame(r#"{"jsonrpc":"2.0","id":77,"method":"no/suchMethod"}"#),
            Some((json!(77), -32601)),
        ),
        (
            frame(&format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000))),
            Some((null.clone(), -32700)),
        ),
        (b"Content-Length: abc\r\n\r\n{}".to_vec(), None),
        (b"Content-Length: -5\r\n\r\n{}".to_vec(), None),
        (
            b"Content-Length: 99999999999999999999\r\n\r\n{}".to_vec(),
            None,
        ),
        (
            b"Content-Type: application/vscode-jsonrpc\r\n\r\n{}".to_vec(),
            None,
        ),
        (b"Content-Length 2\r\n\r\n{}".to_vec(), None),
        (b"garbage without any header\r\n\r\n".to_vec(), None),
        (
            framed(
                "Content-Type: application/vscode-jsonrpc; charset=latin1\r\n",
                br#"{"jsonrpc":"2.0","id":78,"method":"shutdown"}"#,
            ),
            Some((json!(78), -32600)),
        ),
        (
            framed(
                "",
                b"{\"jsonrpc\":\"2.0\",\"id\":79,\"method\":\"m\xff\xfe\"}",
            ),
            Some((json!(79), -32601)),
        ),
    ];
    for (index, (bytes, expected)) in cases.iter().enumerate() {
        client.send_bytes(bytes);
        if let Some((id, code)) = expected {
            let answer = answer_with_id(&mut client, id);
            assert_eq!(
                answer["error"]["code"],
                *code,
                "case {index} ({:?}): {answer}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
            );
        }
        probe(&mut client);
        assert!(client.is_running(), "case {index} killed the server");
    }
    // Too long a Content-Length: the next frame is found inside the body and answered.
    let next = r#"{"jsonrpc":"2.0","id":80,"method":"no/suchMethod"}"#;
    let mut bytes = b"Content-Length: 60\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"$/x\"}".to_vec();
    bytes.extend(frame(next));
    client.send_bytes(&bytes);
    let answer = answer_with_id(&mut client, &json!(80));
    assert_eq!(answer["error"]["code"], -32601, "{answer}");
    probe(&mut client);
    // The batched `shutdown` was refused, not run: this shutdown is the first.
    assert_eq!(client.shutdown(), Some(0));
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    let lines = logged
        .lines()
        .filter(|line| line.starts_with("jellycell-lsp:"))
        .count();
    assert!(lines >= 20, "each bad frame is logged:\n{logged}");
}

#[test]
fn a_did_open_with_lone_surrogates_opens_the_document_with_replacement_characters() {
    let dir = project("//- jellycell.toml\n[project]\nname = \"p\"\n");
    let log = dir.path().join("stderr.log");
    let mut client = server(dir.path(), &log);
    std::fs::create_dir_all(dir.path().join("notebooks")).expect("mkdir");
    let path = dir.path().join("notebooks/broken.py");
    let uri = uri(&path);
    // Written by hand: serde_json would never produce these escapes.
    let body = format!(
        r##"{{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{{"textDocument":{{"uri":"{uri}","languageId":"python","version":1,"text":"# %%\nx = '\ud800'\n# %%\ny = '\udc00'\n"}}}}}}"##
    );
    client.send_bytes(&frame(&body));
    let symbols = client.call(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(
        symbols.as_array().map(Vec::len),
        Some(2),
        "two cells: {symbols}"
    );
    let folding = client.call(
        "textDocument/foldingRange",
        json!({"textDocument": {"uri": uri}}),
    );
    assert!(folding.is_array(), "{folding}");
    assert!(client.is_running());
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn garbage_before_initialize_does_not_stop_the_server() {
    let dir = project("//- jellycell.toml\n[project]\nname = \"p\"\n");
    let mut client = LspClient::spawn(&[]);
    client.send_bytes(b"Content-Length: 5\r\n\r\nhello");
    let answer = answer_with_id(&mut client, &Value::Null);
    assert_eq!(answer["error"]["code"], -32700, "{answer}");
    client.initialize(dir.path(), json!({}));
    probe(&mut client);
    assert!(
        client
            .try_wait_message(Duration::from_millis(100), |_| false)
            .is_none()
    );
    assert_eq!(client.shutdown(), Some(0));
}

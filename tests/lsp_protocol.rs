//! The server over real stdio: initialize and what it advertises, position-encoding
//! negotiation, edit ordering under a burst of changes, panics that become error
//! responses, and shutdown/exit.

mod support;

use serde_json::{Value, json};
use support::lsp::{LspClient, completion_labels, uri};

fn utf8_capabilities() -> Value {
    json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}})
}

#[test]
fn initialize_advertises_the_features_and_negotiates_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let (client, result) = LspClient::start(dir.path(), utf8_capabilities());
    let capabilities = &result["capabilities"];
    assert_eq!(capabilities["positionEncoding"], "utf-8");
    assert_eq!(
        capabilities["textDocumentSync"]["change"], 2,
        "incremental sync"
    );
    for feature in [
        "completionProvider",
        "hoverProvider",
        "documentSymbolProvider",
        "foldingRangeProvider",
        "definitionProvider",
        "referencesProvider",
        "renameProvider",
        "codeActionProvider",
    ] {
        assert!(!capabilities[feature].is_null(), "{feature} not advertised");
    }
    assert!(
        capabilities["diagnosticProvider"].is_null(),
        "no pull diagnostics for a client that cannot pull"
    );
    assert_eq!(result["serverInfo"]["name"], "jellycell-lsp");
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn utf16_is_the_default_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let (client, result) = LspClient::start(dir.path(), json!({}));
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn pull_diagnostics_are_advertised_to_clients_that_pull_and_can_be_asked_to_pull_again() {
    let dir = tempfile::tempdir().unwrap();
    let (client, result) = LspClient::start(
        dir.path(),
        json!({"textDocument": {"diagnostic": {"dynamicRegistration": false}},
               "workspace": {"diagnostics": {"refreshSupport": true}}}),
    );
    assert_eq!(
        result["capabilities"]["diagnosticProvider"]["interFileDependencies"],
        true
    );
    assert_eq!(client.shutdown(), Some(0));
}

/// Neovim 0.11 pulls but has no `workspace/diagnostic/refresh`: pulled diagnostics would
/// miss a run's `cell-error`s until the next edit, so it is pushed to instead.
#[test]
fn a_client_that_pulls_but_cannot_be_asked_again_is_pushed_to() {
    let dir = tempfile::tempdir().unwrap();
    let (client, result) = LspClient::start(
        dir.path(),
        json!({"textDocument": {"diagnostic": {"dynamicRegistration": false}}}),
    );
    assert!(
        result["capabilities"]["diagnosticProvider"].is_null(),
        "{result}"
    );
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn a_thousand_rapid_changes_are_applied_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("burst.py");
    let (mut client, _) = LspClient::start(dir.path(), utf8_capabilities());
    let uri = client.open(&path, "python", "");
    // Type `# %% tags=["`, then 494 'x' characters, then delete them again: one
    // keystroke per notification, 1,000 in all; only in order does the text end as the
    // header.
    let header = "# %% tags=[\"";
    let mut keystrokes: Vec<(u32, u32, String)> = Vec::new();
    for (column, c) in header.chars().enumerate() {
        keystrokes.push((column as u32, column as u32, c.to_string()));
    }
    let start = header.len() as u32;
    let typed = 1000 - header.len() as u32;
    let half = typed / 2;
    for index in 0..half {
        keystrokes.push((start + index, start + index, "x".to_string()));
    }
    for index in (0..half).rev() {
        keystrokes.push((start + index, start + index + 1, String::new()));
    }
    assert_eq!(keystrokes.len(), 1000);
    for (version, (from, to, text)) in keystrokes.iter().enumerate() {
        client.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version + 2},
                "contentChanges": [{
                    "range": {"start": {"line": 0, "character": from}, "end": {"line": 0, "character": to}},
                    "text": text,
                }],
            }),
        );
    }
    let result = client.call(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": start}}),
    );
    let labels = completion_labels(&result);
    assert!(
        labels.contains(&"jc.step".to_string()),
        "the final text is the header, so tags complete: {labels:?}"
    );
    // One character further is past the end of the line: still the end of the header.
    let items = result.as_array().cloned().unwrap_or_default();
    let edit_range = &items[0]["textEdit"]["range"];
    assert_eq!(edit_range["start"]["character"], start);
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn a_panicking_handler_answers_with_an_error_and_the_server_lives_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut client = LspClient::spawn(&[("JELLYCELL_LSP_DEBUG_PANIC", "1")]);
    client.initialize(dir.path(), json!({}));
    for place in ["blocking", "async"] {
        let response = client.request("jellycell/debugPanic", json!({"where": place}));
        assert_eq!(
            response["error"]["code"], -32603,
            "internal error for a panic ({place}): {response}"
        );
    }
    let path = dir.path().join("after.py");
    let uri = client.open(&path, "python", "# %% tags=[\"\n");
    let result = client.call(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 12}}),
    );
    assert!(completion_labels(&result).contains(&"jc.load".to_string()));
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn exit_without_shutdown_exits_with_1() {
    let dir = tempfile::tempdir().unwrap();
    let (mut client, _) = LspClient::start(dir.path(), json!({}));
    client.notify("exit", Value::Null);
    assert_eq!(client.wait_exit(), Some(1));
}

#[test]
fn requests_on_unknown_documents_answer_null() {
    let dir = tempfile::tempdir().unwrap();
    let (mut client, _) = LspClient::start(dir.path(), json!({}));
    let missing = uri(&dir.path().join("nowhere.py"));
    for method in [
        "textDocument/hover",
        "textDocument/definition",
        "textDocument/completion",
    ] {
        let result = client.call(
            method,
            json!({"textDocument": {"uri": missing}, "position": {"line": 0, "character": 0}}),
        );
        assert!(result.is_null(), "{method}: {result}");
    }
    let symbols = client.call(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": missing}}),
    );
    assert!(symbols.is_null());
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn an_ordinary_python_file_gets_no_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.py");
    let (mut client, _) = LspClient::start(dir.path(), json!({}));
    let uri = client.open(&path, "python", "def f(:\n    jc.deps('nothing')\n");
    let diagnostics = client.diagnostics(&uri);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn many_requests_in_flight_all_answer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.py");
    let mut text = String::new();
    for index in 0..200 {
        text.push_str(&format!(
            "# %% tags=[\"jc.step\", \"name=c{index}\"]\nx_{index} = {index}\n\n"
        ));
    }
    let (mut client, _) = LspClient::start(dir.path(), json!({}));
    let uri = client.open(&path, "python", &text);
    let mut ids = Vec::new();
    for index in 0..60u32 {
        let position = json!({"line": (index * 3) % 600, "character": 12});
        let (method, params) = match index % 3 {
            0 => (
                "textDocument/hover",
                json!({"textDocument": {"uri": uri}, "position": position}),
            ),
            1 => (
                "textDocument/completion",
                json!({"textDocument": {"uri": uri}, "position": position}),
            ),
            _ => (
                "textDocument/documentSymbol",
                json!({"textDocument": {"uri": uri}}),
            ),
        };
        ids.push(client.send_request(method, params));
        if index % 10 == 0 {
            client.notify(
                "textDocument/didChange",
                json!({
                    "textDocument": {"uri": uri, "version": 2 + index},
                    "contentChanges": [{"range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 0}}, "text": "#"}],
                }),
            );
        }
    }
    for id in ids {
        let response = client.response(id);
        assert!(response.get("error").is_none(), "{response}");
    }
    assert_eq!(client.shutdown(), Some(0));
}

/// A large answer (a 2,000-cell notebook's outline is 420 KiB) crosses stdout in one
/// write instead of seven wake-ups of a 64 KiB pipe: the server widens the pipe it is
/// given to the 1 MiB an unprivileged process may ask for.
#[cfg(target_os = "linux")]
#[test]
fn the_server_widens_its_stdout_pipe() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn jellycell-lsp");
    let stdout = child.stdout.take().expect("stdout");
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"processId": null, "rootUri": uri(dir.path()), "capabilities": {}}})
    .to_string();
    let mut stdin = child.stdin.take().expect("stdin");
    write!(
        stdin,
        "Content-Length: {}\r\n\r\n{initialize}",
        initialize.len()
    )
    .unwrap();
    stdin.flush().unwrap();
    // The answer to initialize comes after the widening.
    let mut reader = BufReader::new(stdout);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a header line");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse().expect("a length");
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("the body");
    let answer: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(answer["id"], 1, "{answer}");
    let widened = rustix::pipe::fcntl_getpipe_size(reader.get_ref()).expect("a pipe");
    let _ = child.kill();
    let _ = child.wait();
    // What the server asks for, unless this kernel allows less.
    let most = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
        .ok()
        .and_then(|size| size.trim().parse::<usize>().ok())
        .unwrap_or(1024 * 1024);
    assert_eq!(widened, most.min(1024 * 1024));
}

/// The environment of a server started with `arena_max` as `MALLOC_ARENA_MAX` (`None`:
/// unset) and no `_RJEM_MALLOC_CONF`, as the kernel shows it once the server answered
/// `initialize` (so after its re-execution): `KEY=value` entries.
fn server_environment(arena_max: Option<&str>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let mut client = LspClient::spawn_with(|command| {
        command.env_remove("_RJEM_MALLOC_CONF");
        match arena_max {
            Some(value) => command.env("MALLOC_ARENA_MAX", value),
            None => command.env_remove("MALLOC_ARENA_MAX"),
        };
    });
    client.initialize(dir.path(), json!({}));
    let raw =
        std::fs::read(format!("/proc/{}/environ", client.pid())).expect("the server's environment");
    assert_eq!(client.shutdown(), Some(0));
    raw.split(|byte| *byte == 0)
        .map(|entry| String::from_utf8_lossy(entry).into_owned())
        .collect()
}

#[test]
fn the_server_limits_its_malloc_arenas_unless_the_user_chose() {
    let limited = server_environment(None);
    for wanted in ["MALLOC_ARENA_MAX=2", "_RJEM_MALLOC_CONF=narenas:2"] {
        assert!(
            limited.iter().any(|entry| entry == wanted),
            "{wanted}: {limited:?}"
        );
    }
    let chosen = server_environment(Some("4"));
    assert!(
        chosen.iter().any(|entry| entry == "MALLOC_ARENA_MAX=4"),
        "{chosen:?}"
    );
    assert!(
        !chosen
            .iter()
            .any(|entry| entry.starts_with("_RJEM_MALLOC_CONF=")),
        "{chosen:?}"
    );
}

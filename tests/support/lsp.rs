//! An LSP client for integration tests: spawns the built `jellycell-lsp` binary, speaks
//! JSON-RPC over its stdio with real `Content-Length` framing, matches responses to
//! requests, collects notifications, and answers server→client requests with `null`
//! (`workDoneProgress/create`, `codeLens/refresh`, …), recording each; a client made with
//! [`LspClient::never_answering`] records them and answers nothing, as Vim's ALE.
//!
//! A reader thread parses frames into a channel; every wait has a timeout, so a server
//! that hangs fails the test instead of hanging it.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long any single wait lasts before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// A running server and the client side of its connection.
pub struct LspClient {
    child: Child,
    /// `None` once [`LspClient::close_stdin`] closed it.
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    /// Notifications and server requests received but not yet looked at.
    pending: VecDeque<Value>,
    next_id: i64,
    /// Whether server→client requests get an answer.
    answer_requests: bool,
    /// Every server→client request received, in order.
    pub server_requests: Vec<Value>,
}

/// The `file://` URI of a path.
pub fn uri(path: &Path) -> String {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file://{}", path.display())
}

fn read_frame(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length:") {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl LspClient {
    /// Starts the server with `extra_env` set.
    pub fn spawn(extra_env: &[(&str, &str)]) -> LspClient {
        LspClient::spawn_with(|command| {
            for (key, value) in extra_env {
                command.env(key, value);
            }
        })
    }

    /// Starts the server after `configure` has set up its command (environment, cwd).
    pub fn spawn_with(configure: impl FnOnce(&mut Command)) -> LspClient {
        let mut command = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"));
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        configure(&mut command);
        let mut child = command.spawn().expect("spawn jellycell-lsp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_frame(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        LspClient {
            child,
            stdin: Some(stdin),
            incoming,
            pending: VecDeque::new(),
            next_id: 1,
            answer_requests: true,
            server_requests: Vec::new(),
        }
    }

    /// From now on, server→client requests are recorded but never answered.
    pub fn never_answering(mut self) -> LspClient {
        self.answer_requests = false;
        self
    }

    /// The server→client requests of `method` received so far.
    pub fn requests_of(&self, method: &str) -> Vec<Value> {
        self.server_requests
            .iter()
            .filter(|request| request["method"] == method)
            .cloned()
            .collect()
    }

    /// Starts the server and performs `initialize`/`initialized` with `capabilities`
    /// and `root` as the workspace folder. Returns the client and the initialize result.
    pub fn start(root: &Path, capabilities: Value) -> (LspClient, Value) {
        let mut client = LspClient::spawn(&[]);
        let result = client.initialize(root, capabilities);
        (client, result)
    }

    /// `initialize` (no `initializationOptions`), then `initialized`.
    pub fn initialize(&mut self, root: &Path, capabilities: Value) -> Value {
        self.initialize_with_options(root, capabilities, Value::Null)
    }

    /// `initialize` with `initializationOptions`, then `initialized`.
    pub fn initialize_with_options(
        &mut self,
        root: &Path,
        capabilities: Value,
        options: Value,
    ) -> Value {
        let root_uri = uri(root);
        let result = self.request(
            "initialize",
            json!({
                "processId": std::process::id(),
                "rootUri": root_uri,
                "workspaceFolders": [{"uri": root_uri, "name": "test"}],
                "capabilities": capabilities,
                "initializationOptions": options,
            }),
        );
        self.notify("initialized", json!({}));
        result.get("result").cloned().unwrap_or(Value::Null)
    }

    pub fn send(&mut self, message: &Value) {
        let body = message.to_string();
        let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.send_bytes(frame.as_bytes());
    }

    /// Writes `bytes` to the server's stdin as they are (for malformed frames).
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(bytes).expect("write to server");
        stdin.flush().expect("flush");
    }

    /// Closes the server's stdin, as a client that goes away does.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for any message that satisfies `accept` (a response with a `null` id, say),
    /// keeping the others for later.
    pub fn try_wait_message(
        &mut self,
        timeout: Duration,
        accept: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        if let Some(index) = self.pending.iter().position(&accept) {
            return self.pending.remove(index);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let message = self.receive(deadline)?;
            if accept(&message) {
                return Some(message);
            }
            self.pending.push_back(message);
        }
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends `textDocument/didChange` replacing `start..end` (line, character) with `text`,
    /// as version `version`.
    pub fn change(
        &mut self,
        uri: &str,
        version: i64,
        start: (usize, usize),
        end: (usize, usize),
        text: &str,
    ) {
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{
                    "range": {
                        "start": {"line": start.0, "character": start.1},
                        "end": {"line": end.0, "character": end.1},
                    },
                    "text": text,
                }],
            }),
        );
    }

    /// Replaces line `line` of `text` and of the buffer with `new_line` (with its newline;
    /// empty deletes the line), as version `version`.
    pub fn replace_line(
        &mut self,
        uri: &str,
        text: &mut String,
        version: i64,
        line: usize,
        new_line: &str,
    ) {
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        let end = start
            + text[start..]
                .split_inclusive('\n')
                .next()
                .map_or(0, str::len);
        text.replace_range(start..end, new_line);
        self.change(uri, version, (line, 0), (line + 1, 0), new_line);
    }

    /// Sends a request without waiting; returns its id.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// Sends a request and waits for its whole response (`result` or `error`).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.response(id)
    }

    /// Sends a request and returns its `result`, failing on an error response.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let response = self.request(method, params);
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response.get("result").cloned().unwrap_or(Value::Null)
    }

    fn receive(&mut self, deadline: Instant) -> Option<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(message) => {
                // Server→client requests get a null result, as Eglot answers them.
                if message.get("id").is_some() && message.get("method").is_some() {
                    self.server_requests.push(message.clone());
                    if self.answer_requests {
                        let id = message["id"].clone();
                        self.send(&json!({"jsonrpc": "2.0", "id": id, "result": null}));
                    }
                }
                Some(message)
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Waits for the response to request `id`, keeping other messages for later.
    pub fn response(&mut self, id: i64) -> Value {
        let is_response = |message: &Value| {
            message.get("method").is_none() && message.get("id") == Some(&json!(id))
        };
        if let Some(index) = self.pending.iter().position(is_response) {
            return self.pending.remove(index).unwrap_or_default();
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self
                .receive(deadline)
                .unwrap_or_else(|| panic!("no response to request {id}"));
            if message.get("method").is_none() && message.get("id") == Some(&json!(id)) {
                return message;
            }
            self.pending.push_back(message);
        }
    }

    /// Waits for a notification of `method` whose params satisfy `accept`.
    pub fn wait_for(&mut self, method: &str, accept: impl Fn(&Value) -> bool) -> Value {
        self.try_wait_for(method, TIMEOUT, accept)
            .unwrap_or_else(|| panic!("no {method} notification matched within {TIMEOUT:?}"))
    }

    pub fn try_wait_for(
        &mut self,
        method: &str,
        timeout: Duration,
        accept: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        if let Some(index) = self.pending.iter().position(|message| {
            message.get("method").and_then(Value::as_str) == Some(method)
                && accept(&message["params"])
        }) {
            return self
                .pending
                .remove(index)
                .map(|message| message["params"].clone());
        }
        let deadline = Instant::now() + timeout;
        loop {
            let message = self.receive(deadline)?;
            if message.get("method").and_then(Value::as_str) == Some(method)
                && accept(&message["params"])
            {
                return Some(message["params"].clone());
            }
            self.pending.push_back(message);
        }
    }

    /// Forgets every message of `method` received so far (reading what has arrived).
    pub fn discard(&mut self, method: &str) {
        while let Ok(message) = self.incoming.try_recv() {
            if message.get("id").is_some() && message.get("method").is_some() {
                self.server_requests.push(message.clone());
                if self.answer_requests {
                    let id = message["id"].clone();
                    self.send(&json!({"jsonrpc": "2.0", "id": id, "result": null}));
                }
            }
            self.pending.push_back(message);
        }
        self.pending
            .retain(|message| message.get("method").and_then(Value::as_str) != Some(method));
    }

    /// The diagnostics published for `uri` (the next publication for it).
    pub fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let params = self.wait_for("textDocument/publishDiagnostics", |params| {
            params["uri"] == uri
        });
        params["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Waits for diagnostics for `uri` that satisfy `accept`.
    pub fn diagnostics_matching(
        &mut self,
        uri: &str,
        accept: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let params = self.wait_for("textDocument/publishDiagnostics", |params| {
            params["uri"] == uri
                && accept(params["diagnostics"].as_array().map_or(&[], Vec::as_slice))
        });
        params["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn open(&mut self, path: &Path, language: &str, text: &str) -> String {
        let uri = uri(path);
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}}),
        );
        uri
    }

    /// Sends `shutdown` and `exit`, and returns the exit code.
    pub fn shutdown(mut self) -> Option<i32> {
        let response = self.request("shutdown", Value::Null);
        assert!(
            response.get("error").is_none(),
            "shutdown failed: {response}"
        );
        self.notify("exit", Value::Null);
        self.wait_exit()
    }

    /// Waits for the process to end (killing it after the timeout).
    pub fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        None
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for LspClient {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The labels of a completion response (array or list).
pub fn completion_labels(result: &Value) -> Vec<String> {
    let items = match result {
        Value::Array(items) => items.clone(),
        Value::Object(list) => list
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    items
        .iter()
        .filter_map(|item| item["label"].as_str().map(str::to_string))
        .collect()
}

/// Writes a multi-file fixture: `//- path` lines start files. Returns the temp dir.
pub fn project(files: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut current: Option<(String, String)> = None;
    let write = |entry: Option<(String, String)>| {
        if let Some((path, text)) = entry {
            let full = dir.path().join(path);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(full, text).expect("write fixture");
        }
    };
    for line in files.split_inclusive('\n') {
        if let Some(path) = line.strip_prefix("//- ") {
            write(current.take());
            current = Some((path.trim().to_string(), String::new()));
        } else if let Some((_, text)) = current.as_mut() {
            text.push_str(line);
        }
    }
    write(current.take());
    dir
}

/// The position (line, UTF-16 character) of the first `$0` in `text`, and the text
/// without it.
pub fn cursor(text: &str) -> (String, u32, u32) {
    let at = text.find("$0").expect("fixture has a $0 cursor");
    let before = &text[..at];
    let line = before.matches('\n').count() as u32;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |last| last.encode_utf16().count()) as u32;
    (text.replacen("$0", "", 1), line, column)
}

/// A copy of `fixtures/lsp/<name>` in a temporary folder (tests edit and rename freely).
pub fn fixture_copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    super::copy_dir(&super::fixture("lsp").join(name), dir.path());
    dir
}

/// The (line, character) of the first occurrence of `needle` in `text`, plus `shift`
/// characters (ASCII text).
pub fn position_of(text: &str, needle: &str, shift: u32) -> Value {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in text"));
    let before = &text[..at];
    let line = before.matches('\n').count();
    let character = before.rsplit('\n').next().map_or(0, str::len) as u32 + shift;
    json!({"line": line, "character": character})
}

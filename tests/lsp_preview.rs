//! `jellycell.openPreview` over real stdio: the server starts the preview endpoint
//! in-process once, asks the client to open the page at the cell (`window/showDocument`,
//! external) without waiting for its answer, and pages (and their live-reload events)
//! follow the editor's unsaved buffer.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::lsp::{LspClient, project};

const NOTEBOOK: &str = "# %% [markdown]\n# # Sales\n\n# %% tags=[\"jc.load\", \"name=raw\"]\nrows = [1, 2, 3]\n\n# %% tags=[\"jc.step\", \"deps=raw\"]\ntotal = sum(rows)\n";

fn fixture() -> tempfile::TempDir {
    project(&format!(
        "//- jellycell.toml\n[project]\nname = \"p\"\n//- notebooks/sales.py\n{NOTEBOOK}"
    ))
}

/// `host:port` and path of an `http://host:port/path#fragment` URL.
fn split_url(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (authority, path) = rest.split_once('/').expect("a path");
    let path = path.split('#').next().unwrap_or_default();
    (authority.to_string(), format!("/{path}"))
}

/// A GET with the right Host header: (status line, body).
fn get(authority: &str, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(authority).expect("the preview listens");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response.lines().next().unwrap_or_default().to_string();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    (status, body)
}

fn open_preview(client: &mut LspClient, uri: &str, cell: Option<usize>) -> Value {
    client.request(
        "workspace/executeCommand",
        json!({"command": "jellycell.openPreview", "arguments": [{"uri": uri, "cell": cell}]}),
    )
}

#[test]
fn open_preview_shows_the_page_at_the_cell_and_follows_unsaved_edits() {
    let dir = fixture();
    let capabilities = json!({"window": {"showDocument": {"support": true}}});
    let (mut client, initialized) = LspClient::start(dir.path(), capabilities);
    let commands = &initialized["capabilities"]["executeCommandProvider"]["commands"];
    assert!(
        commands
            .as_array()
            .unwrap()
            .iter()
            .any(|command| command == "jellycell.openPreview"),
        "advertised: {commands}"
    );
    let path = dir.path().join("notebooks/sales.py");
    let uri = client.open(&path, "python", NOTEBOOK);

    let response = open_preview(&mut client, &uri, Some(1));
    let url = response["result"]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("{response}"))
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(url.ends_with("/nb/notebooks/sales.py#cell-1"), "{url}");
    let shown = client.wait_for("window/showDocument", |params| {
        params["uri"] == url.as_str()
    });
    assert_eq!(shown["external"], true);

    let (authority, page) = split_url(&url);
    let (status, body) = get(&authority, &page);
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("rows = ["), "the page shows the notebook");

    // Listen for live-reload events, then type without saving.
    let mut events = TcpStream::connect(&authority).unwrap();
    events
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(events, "GET /events HTTP/1.1\r\nHost: {authority}\r\n\r\n").unwrap();
    let mut events = BufReader::new(events);
    let mut line = String::new();
    while events
        .read_line(&mut line)
        .map(|read| read > 2)
        .unwrap_or(false)
    {
        line.clear();
    }
    let edited = NOTEBOOK.replace("total = sum(rows)", "total = sum(rows)  # UNSAVED_MARKER");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut saw_event = false;
    while Instant::now() < deadline && !saw_event {
        line.clear();
        if events.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        saw_event = line.starts_with("data:") && line.contains("sales.py");
    }
    assert!(
        saw_event,
        "a reload event for the notebook after the unsaved edit"
    );
    let (_, body) = get(&authority, &page);
    assert!(
        body.contains("UNSAVED_MARKER"),
        "the page renders the unsaved buffer"
    );
    assert!(
        !std::fs::read_to_string(&path)
            .unwrap()
            .contains("UNSAVED_MARKER"),
        "nothing was written to disk"
    );

    // A second command reuses the running endpoint.
    let again = open_preview(&mut client, &uri, None);
    let second = again["result"]["url"].as_str().unwrap();
    assert_eq!(split_url(second).0, authority, "started once");
    assert!(!second.contains('#'), "no cell, no fragment");
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn a_client_that_cannot_show_documents_gets_the_url_in_a_message() {
    let dir = fixture();
    let (mut client, _) = LspClient::start(dir.path(), json!({}));
    let uri = client.open(&dir.path().join("notebooks/sales.py"), "python", NOTEBOOK);
    let response = open_preview(&mut client, &uri, Some(2));
    let url = response["result"]["url"].as_str().unwrap().to_string();
    let message = client.wait_for("window/showMessage", |params| {
        params["message"]
            .as_str()
            .is_some_and(|text| text.contains(&url))
    });
    assert_eq!(message["type"], 3, "an info message");
    // A cursor line instead of a cell: line 7 is in the third cell.
    let at_line = client.request(
        "workspace/executeCommand",
        json!({"command": "jellycell.openPreview", "arguments": [{"uri": uri, "line": 7}]}),
    );
    let url = at_line["result"]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("{at_line}"));
    assert!(url.ends_with("#cell-2"), "{url}");
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn bad_arguments_and_unknown_commands_answer_errors_and_the_server_lives_on() {
    let dir = fixture();
    let (mut client, _) = LspClient::start(dir.path(), json!({}));
    let missing = client.request(
        "workspace/executeCommand",
        json!({"command": "jellycell.openPreview", "arguments": []}),
    );
    assert!(
        missing["error"]["message"]
            .as_str()
            .unwrap()
            .contains("takes one argument"),
        "{missing}"
    );
    let unknown = client.request(
        "workspace/executeCommand",
        json!({"command": "jellycell.nope", "arguments": []}),
    );
    assert!(
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .contains("jellycell.openPreview"),
        "{unknown}"
    );
    let not_a_file = client.request(
        "workspace/executeCommand",
        json!({"command": "jellycell.openPreview", "arguments": [{"uri": "untitled:Untitled-1"}]}),
    );
    assert!(
        not_a_file["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a file"),
        "{not_a_file}"
    );
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn the_clients_preview_port_option_wins_over_jellycell_toml() {
    let dir = project(&format!(
        "//- jellycell.toml\n[project]\nname = \"p\"\n[viewer]\nport = 1\n//- notebooks/sales.py\n{NOTEBOOK}"
    ));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port");
    let mut client = LspClient::spawn(&[]);
    client.initialize_with_options(dir.path(), json!({}), json!({"previewPort": port}));
    let uri = client.open(&dir.path().join("notebooks/sales.py"), "python", NOTEBOOK);
    let response = open_preview(&mut client, &uri, None);
    let url = response["result"]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("{response}"));
    assert!(
        url.starts_with(&format!("http://127.0.0.1:{port}/")),
        "{url}"
    );
    let (authority, path) = split_url(url);
    assert!(get(&authority, &path).0.contains("200"), "{url}");
    assert_eq!(client.shutdown(), Some(0));
}

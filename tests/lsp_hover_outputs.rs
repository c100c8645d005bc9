//! Hover shows a cell's cached outputs: the cache is filled by the real CLI
//! (`jellycell-lsp run` with a real ipykernel), then the server is asked over stdio.
//! Printed text, a long output cut with a note, an error without ANSI, an image (linked
//! to the preview, which the hover starts, and inlined), HTML as a preview link, and a
//! cell edited after its run shown as stale with its old output.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::json;
use support::lsp::{LspClient, position_of};
use support::project::TestProject;

/// A 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

fn notebook() -> String {
    format!(
        r#"# %% tags=["jc.step", "name=hello"]
print("hello from the kernel")

# %% tags=["jc.step", "name=long"]
for i in range(200):
    print(f"row {{i}} ```")

# %% tags=["jc.step", "name=picture"]
import base64
from IPython.display import Image, display
display(Image(data=base64.b64decode("{PNG}")))

# %% tags=["jc.step", "name=table"]
from IPython.display import HTML
HTML("<table><tr><td>42</td></tr></table>")

# %% tags=["jc.step", "name=boom"]
raise ValueError("kaboom")
"#
    )
}

struct Session {
    client: LspClient,
    /// Keeps the project folder (and its cache) alive while the server reads it.
    _project: TestProject,
    uri: String,
    text: String,
}

impl Session {
    /// Runs the notebook with the CLI (the last cell fails), then opens it in a server.
    fn new() -> Session {
        let text = notebook();
        let project = TestProject::new(&[("notebooks/outputs.py", &text)]);
        let (code, report) = project.run("notebooks/outputs.py", &["--keep-going"]);
        assert_eq!(code, 1, "the last cell fails: {report}");
        let (mut client, _) = LspClient::start(project.root(), json!({}));
        let uri = client.open(&project.path("notebooks/outputs.py"), "python", &text);
        Session {
            _project: project,
            client,
            uri,
            text,
        }
    }

    /// The hover's Markdown at the first `needle` (plus `shift` characters).
    fn hover(&mut self, needle: &str, shift: u32) -> String {
        let result = self.client.call(
            "textDocument/hover",
            json!({"textDocument": {"uri": self.uri}, "position": position_of(&self.text, needle, shift)}),
        );
        assert_eq!(result["contents"]["kind"], "markdown", "{result}");
        result["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// `(status line, body bytes)` of a GET of `url` (an `http://127.0.0.1:PORT/…` URL).
fn get(url: &str) -> (String, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (authority, path) = rest.split_once('/').expect("a path");
    let path = path.split('#').next().unwrap_or_default();
    let mut stream = TcpStream::connect(authority).expect("the preview listens");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let split = response
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let body = response.get(split + 4..).unwrap_or_default().to_vec();
    (head.lines().next().unwrap_or_default().to_string(), body)
}

/// The target of the first Markdown link labelled `label`.
fn link(markdown: &str, label: &str) -> String {
    let start = markdown
        .find(&format!("[{label}]("))
        .unwrap_or_else(|| panic!("no [{label}] link in {markdown}"))
        + label.len()
        + 3;
    let end = markdown[start..].find(')').expect("link closes") + start;
    markdown[start..end].to_string()
}

#[test]
fn hover_shows_printed_output_under_a_cached_status_line() {
    let mut session = Session::new();
    for (needle, shift) in [("print(\"hello", 2), ("name=hello", 0), ("# %% tags", 0)] {
        let value = session.hover(needle, shift);
        assert!(value.starts_with("✓ cached · "), "{value}");
        assert!(
            value.contains(" · just now\n") || value.contains(" min ago\n"),
            "{value}"
        );
        assert!(
            value.contains("```text\nhello from the kernel\n```"),
            "{value}"
        );
    }
    assert_eq!(session.client.shutdown(), Some(0));
}

#[test]
fn long_output_is_cut_with_a_note_and_backticks_do_not_break_the_fence() {
    let mut session = Session::new();
    let value = session.hover("range(200)", 2);
    assert!(value.contains("row 39 ```\n````"), "{value}");
    assert!(!value.contains("row 40"), "{value}");
    let rest: usize = (40..200).map(|i| format!("row {i} ```\n").len()).sum();
    let kib = format!("{:.1} KiB", rest as f64 / 1024.0);
    assert!(
        value.contains(&format!("… 160 more lines ({kib}) not shown")),
        "{value}"
    );
    assert_eq!(session.client.shutdown(), Some(0));
}

#[test]
fn an_error_shows_its_name_value_and_traceback_without_ansi() {
    let mut session = Session::new();
    let value = session.hover("raise ValueError", 2);
    assert!(value.starts_with("✗ ValueError: kaboom"), "{value}");
    assert!(value.contains("**ValueError**: kaboom"), "{value}");
    assert!(value.contains("raise ValueError(\"kaboom\")"), "{value}");
    assert!(!value.contains('\u{1b}'), "ANSI left in {value:?}");
    assert_eq!(session.client.shutdown(), Some(0));
}

#[test]
fn an_image_links_to_the_preview_and_is_inlined() {
    let mut session = Session::new();
    let value = session.hover("display(Image", 2);
    assert!(
        value.contains(&format!("(data:image/png;base64,{PNG})")),
        "{value}"
    );
    let page = link(&value, "open in preview");
    assert!(
        page.starts_with("http://127.0.0.1:") && page.ends_with("/nb/notebooks/outputs.py#cell-2"),
        "{page}"
    );
    // The hover started the preview: the links answer.
    let (status, body) = get(&page);
    assert!(status.contains("200"), "{status}");
    assert!(String::from_utf8_lossy(&body).contains("id=\"cell-2\""));
    let (status, body) = get(&link(&value, "image"));
    assert!(status.contains("200"), "{status}");
    assert!(body.starts_with(b"\x89PNG"), "{body:?}");
    assert_eq!(session.client.shutdown(), Some(0));
}

#[test]
fn a_client_that_asks_for_no_hover_images_gets_links_only() {
    let text = notebook();
    let project = TestProject::new(&[("notebooks/outputs.py", &text)]);
    let (code, report) = project.run("notebooks/outputs.py", &["--keep-going"]);
    assert_eq!(code, 1, "the last cell fails: {report}");
    let mut client = LspClient::spawn(&[]);
    let root = support::lsp::uri(project.root());
    client.call(
        "initialize",
        json!({
            "processId": std::process::id(),
            "rootUri": root,
            "capabilities": {},
            "initializationOptions": {"hoverImages": false},
        }),
    );
    client.notify("initialized", json!({}));
    let uri = client.open(&project.path("notebooks/outputs.py"), "python", &text);
    let result = client.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position_of(&text, "display(Image", 2)}),
    );
    let value = result["contents"]["value"].as_str().unwrap_or_default();
    assert!(!value.contains("data:"), "{value}");
    assert!(
        value.contains("`image/png` · 70 B · [open in preview]("),
        "{value}"
    );
    assert!(link(value, "image").contains("/blob/"), "{value}");
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn html_output_is_a_preview_link_with_its_plain_text() {
    let mut session = Session::new();
    let value = session.hover("HTML(\"<table>", 2);
    assert!(value.contains("`text/html` output"), "{value}");
    assert!(
        link(&value, "open in preview").ends_with("#cell-3"),
        "{value}"
    );
    assert!(
        value.contains("```text\n<IPython.core.display.HTML object>\n```"),
        "{value}"
    );
    assert!(!value.contains("<table>"), "raw HTML in {value}");
    assert_eq!(session.client.shutdown(), Some(0));
}

#[test]
fn an_edited_cell_shows_its_old_output_as_stale_and_a_new_cell_says_not_run() {
    let mut session = Session::new();
    let edited = session.text.replace("hello from the kernel", "hello again")
        + "\n# %% tags=[\"jc.step\", \"name=fresh\"]\nprint(\"never ran\")\n";
    session.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": session.uri, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    session.text = edited;
    let value = session.hover("print(\"hello again", 2);
    assert!(
        value.starts_with("● stale — outputs from ") && value.contains(", the cell changed since"),
        "{value}"
    );
    assert!(value.contains("hello from the kernel"), "{value}");
    let value = session.hover("print(\"never ran", 2);
    assert!(value.starts_with("○ not run"), "{value}");
    assert!(value.contains("jellycell.runCell"), "{value}");
    // Undoing the edit makes the cell cached again: status is computed, never stored.
    let original = notebook();
    session.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": session.uri, "version": 3}, "contentChanges": [{"text": original}]}),
    );
    session.text = original;
    let value = session.hover("print(\"hello", 2);
    assert!(value.starts_with("✓ cached"), "{value}");
    assert_eq!(session.client.shutdown(), Some(0));
}

#[test]
fn specific_hovers_come_first_and_the_outputs_follow() {
    let mut session = Session::new();
    let value = session.hover("jc.step\", \"name=hello", 3);
    let (kind, outputs) = value.split_once("\n\n---\n\n").expect("two parts");
    assert!(kind.contains("**jc.step** cell kind"), "{kind}");
    assert!(outputs.contains("hello from the kernel"), "{outputs}");
    assert_eq!(session.client.shutdown(), Some(0));
}

#[test]
fn hovering_a_project_that_never_ran_says_not_run_and_writes_nothing() {
    let text = notebook();
    let project = TestProject::new(&[("notebooks/outputs.py", &text)]);
    let (mut client, _) = LspClient::start(project.root(), json!({}));
    let uri = client.open(&project.path("notebooks/outputs.py"), "python", &text);
    for needle in ["print(\"hello", "display(Image", "raise ValueError"] {
        let result = client.call(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": position_of(&text, needle, 2)}),
        );
        let value = result["contents"]["value"].as_str().unwrap_or_default();
        assert!(value.starts_with("○ not run"), "{value}");
    }
    assert!(
        !project.path(".jellycell").exists(),
        "a hover created the cache folder"
    );
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn a_cell_run_from_the_editor_hovers_as_running_then_queued_then_with_its_output() {
    let go = tempfile::tempdir().expect("temp dir");
    let flag = go.path().join("go");
    let text = format!(
        "# %% tags=[\"jc.step\", \"name=wait\"]\nimport os, time\nwhile not os.path.exists({flag:?}):\n    time.sleep(0.02)\nprint(\"released\")\n\n\
         # %% tags=[\"jc.step\", \"name=next\"]\nprint(\"next ran\")\n"
    );
    let project = TestProject::new(&[("notebooks/wait.py", &text)]);
    let mut client = LspClient::spawn_with(support::project::configure_kernel_env);
    client.initialize(project.root(), json!({}));
    let uri = client.open(&project.path("notebooks/wait.py"), "python", &text);
    let hover = |client: &mut LspClient, needle: &str| -> String {
        let result = client.call(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": position_of(&text, needle, 2)}),
        );
        result["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    for cell in [0, 1] {
        client.call(
            "workspace/executeCommand",
            json!({"command": "jellycell.runCell", "arguments": [{"uri": uri, "cell": cell}]}),
        );
    }
    // Waits for the server's own progress, not a timing assertion.
    let until = |client: &mut LspClient, needle: &str, accept: &dyn Fn(&str) -> bool| {
        let deadline = std::time::Instant::now() + support::lsp::TIMEOUT;
        loop {
            let value = hover(client, needle);
            if accept(&value) {
                return value;
            }
            assert!(std::time::Instant::now() < deadline, "hover stayed {value}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let running = until(&mut client, "import os", &|value| {
        value.starts_with("⟳ running")
    });
    assert!(running.contains("○ not run"), "{running}");
    let queued = hover(&mut client, "print(\"next");
    assert!(
        queued.starts_with("… queued to run\n\n○ not run"),
        "{queued}"
    );
    std::fs::write(&flag, "").expect("release the cell");
    let done = until(&mut client, "import os", &|value| {
        value.starts_with("✓ cached")
    });
    assert!(done.contains("```text\nreleased\n```"), "{done}");
    let next = until(&mut client, "print(\"next", &|value| {
        value.starts_with("✓ cached")
    });
    assert!(next.contains("next ran"), "{next}");
    assert_eq!(client.shutdown(), Some(0));
}

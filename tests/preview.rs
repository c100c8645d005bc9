//! The preview server over real HTTP: every route, the refusals (path traversal in all
//! its spellings, symlinks out of the project, foreign Host and Origin), live-reload
//! events after a cache write and after an editor buffer change, and that a `<script>`
//! in a text/html output never lands in the page's origin. Outputs are written through
//! the cache API, so no kernel is needed. Also `preview` and `export --to html` through
//! the real binary.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jellycell_lsp::preview::{PreviewError, PreviewHandle, PreviewOptions, start};
use jellycell_lsp::project::Project;
use serde_json::{Value, json};
use support::outputs::{Output, cache_outputs, png, png_base64, text};

const NOTEBOOK: &str = "# %% [markdown]\n# # Analysis\n#\n# | city | count |\n# |---|---|\n# | Oslo | 3 |\n\n\
# %% tags=[\"jc.load\", \"name=raw\"]\nprint('hello from the cache')\n\n\
# %% tags=[\"jc.figure\", \"name=plot\", \"deps=raw\"]\nshow_plot()\n\n\
# %% tags=[\"jc.table\", \"name=frame\"]\nframe\n\n\
# %% tags=[\"jc.step\", \"name=later\"]\nlater = 1\n";

const EVIL_HTML: &str = "<table><tr><td>safe cell</td></tr></table>\
<script>parent.document.body.setAttribute('data-pwned', '1')</script>";

struct Preview {
    runtime: tokio::runtime::Runtime,
    handle: Option<PreviewHandle>,
    project: tempfile::TempDir,
    png_hash: String,
}

impl Preview {
    fn new() -> Preview {
        let project = tempfile::tempdir().expect("temp dir");
        let root = project.path();
        std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"demo\"\n").expect("toml");
        std::fs::create_dir_all(root.join("notebooks")).expect("mkdir");
        std::fs::create_dir_all(root.join("artifacts")).expect("mkdir");
        std::fs::write(root.join("notebooks/analysis.py"), NOTEBOOK).expect("notebook");
        std::fs::write(root.join("artifacts/summary.json"), "{\"rows\": 3}").expect("artifact");
        cache_outputs(
            root,
            "notebooks/analysis.py",
            1,
            vec![Output::Stream("stdout", "hello from the cache\n".into())],
        );
        cache_outputs(
            root,
            "notebooks/analysis.py",
            2,
            vec![Output::Display(vec![
                ("image/png", text(&png_base64(120, 60))),
                ("text/plain", text("<Figure size 120x60>")),
            ])],
        );
        cache_outputs(
            root,
            "notebooks/analysis.py",
            3,
            vec![Output::Display(vec![
                ("text/html", text(EVIL_HTML)),
                ("text/plain", text("frame")),
            ])],
        );
        let png_hash = blake3::hash(&png(120, 60)).to_hex().to_string();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let handle = runtime
            .block_on(start(Project::discover(root), PreviewOptions::default()))
            .expect("preview starts");
        Preview {
            runtime,
            handle: Some(handle),
            project,
            png_hash,
        }
    }

    fn root(&self) -> &Path {
        self.project.path()
    }

    fn handle(&self) -> &PreviewHandle {
        self.handle.as_ref().expect("running")
    }

    fn address(&self) -> SocketAddr {
        self.handle().address()
    }

    fn get(&self, path: &str) -> Reply {
        let host = self.address().to_string();
        request(self.address(), path, &[("Host", &host)])
    }
}

impl Drop for Preview {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            self.runtime.block_on(handle.shutdown());
        }
    }
}

struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_string())
        })
    }
}

/// One raw HTTP/1.1 GET: the path is sent exactly as given (no client normalisation).
fn request(address: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut message = format!("GET {path} HTTP/1.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        message.push_str(&format!("{name}: {value}\r\n"));
    }
    message.push_str("\r\n");
    stream.write_all(message.as_bytes()).expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let split = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status code");
    Reply { status, head, body }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = body.windows(2).position(|window| window == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&body[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend(&body[end + 2..end + 2 + size]);
        body = &body[end + 2 + size + 2..];
    }
    out
}

/// An open `/events` stream; `next_reload` waits for one `reload` event's data.
struct EventStream {
    reader: BufReader<TcpStream>,
}

impl EventStream {
    fn open(address: SocketAddr) -> EventStream {
        let mut stream = TcpStream::connect(address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        write!(stream, "GET /events HTTP/1.1\r\nHost: {address}\r\n\r\n").expect("send");
        let mut reader = BufReader::new(stream);
        // Through the headers and the first `: connected` comment.
        let mut line = String::new();
        loop {
            line.clear();
            reader.read_line(&mut line).expect("read");
            if line.contains("connected") {
                break;
            }
        }
        EventStream { reader }
    }

    fn next_reload(&mut self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut line = String::new();
        let mut in_reload = false;
        while Instant::now() < deadline {
            line.clear();
            match self.reader.read_line(&mut line) {
                Ok(0) => panic!("the event stream ended before a reload event"),
                Err(error) => panic!("no reload event within 60 s: {error}"),
                Ok(_) => {}
            }
            // Chunk-size lines of the chunked body match neither prefix and are skipped.
            let trimmed = line.as_str();
            if trimmed.starts_with("event: reload") {
                in_reload = true;
            } else if in_reload && let Some(data) = trimmed.strip_prefix("data: ") {
                return serde_json::from_str(data.trim()).expect("JSON event data");
            }
        }
        panic!("no reload event within 60 s");
    }
}

#[test]
fn index_lists_notebooks_and_recent_runs() {
    let preview = Preview::new();
    let reply = preview.get("/");
    assert_eq!(reply.status, 200);
    let page = reply.text();
    assert!(
        page.contains("href=\"/nb/notebooks/analysis.py\""),
        "{page}"
    );
    assert!(page.contains("Recent runs"), "{page}");
    assert!(page.contains("<code>plot</code>"), "{page}");
    assert!(reply.header("content-security-policy").is_some());
}

#[test]
fn notebook_page_shows_cells_with_their_cached_outputs() {
    let preview = Preview::new();
    let reply = preview.get("/nb/notebooks/analysis.py");
    assert_eq!(reply.status, 200, "{}", reply.text());
    let page = reply.text();
    assert!(page.contains("<table>"), "markdown table: {page}");
    assert!(
        page.contains("hello from the cache\n</pre>"),
        "stream: {page}"
    );
    assert!(
        page.contains(&format!("src=\"/blob/{}.png\"", preview.png_hash)),
        "image by hash: {page}"
    );
    assert!(page.contains("jc-status jc-status-cached\""), "{page}");
    assert!(
        page.contains("jc-status jc-status-new\""),
        "the un-run cell: {page}"
    );
    assert!(
        page.contains("<a href=\"#cell-1\"><code>raw</code></a>"),
        "deps link: {page}"
    );
    assert!(page.contains("42 ms"), "duration: {page}");
    assert!(
        page.contains("<span class=\"hl-function\">print</span>"),
        "highlighting: {page}"
    );
}

#[test]
fn blob_route_serves_stored_bytes_with_the_mime_and_nosniff() {
    let preview = Preview::new();
    let reply = preview.get(&format!("/blob/{}.png", preview.png_hash));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type").as_deref(), Some("image/png"));
    assert_eq!(
        reply.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert!(
        reply
            .header("content-security-policy")
            .is_some_and(|csp| csp.contains("sandbox"))
    );
    assert_eq!(reply.body, png(120, 60));

    assert_eq!(
        preview
            .get(&format!("/blob/{}.html", preview.png_hash))
            .status,
        404
    );
    assert_eq!(preview.get("/blob/not-a-hash.png").status, 404);
    assert_eq!(
        preview.get(&format!("/blob/{}.png", "0".repeat(64))).status,
        404
    );
}

#[test]
fn artifacts_route_serves_files_under_the_artifacts_folder() {
    let preview = Preview::new();
    let reply = preview.get("/artifacts/summary.json");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(reply.text(), "{\"rows\": 3}");
    assert_eq!(preview.get("/artifacts/missing.json").status, 404);
}

#[test]
fn state_json_reports_notebooks_statuses_and_runs() {
    let preview = Preview::new();
    let reply = preview.get("/api/state.json");
    assert_eq!(reply.status, 200);
    let state: Value = serde_json::from_slice(&reply.body).expect("JSON");
    assert_eq!(state["schema_version"], 1);
    assert_eq!(state["project"], "demo");
    assert_eq!(state["notebooks"][0]["path"], "notebooks/analysis.py");
    assert_eq!(state["notebooks"][0]["statuses"]["cached"], 3);
    assert_eq!(state["notebooks"][0]["statuses"]["new"], 1);
    assert_eq!(state["recent_runs"].as_array().map(Vec::len), Some(3));
}

#[test]
fn live_script_is_served_as_javascript() {
    let preview = Preview::new();
    let reply = preview.get("/assets/live.js");
    assert_eq!(reply.status, 200);
    assert!(reply.text().contains("new EventSource(\"/events\")"));
}

#[test]
fn traversal_attempts_are_refused() {
    let preview = Preview::new();
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(outside.path().join("secret.py"), "# %%\nSECRET = 1\n").expect("secret");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(
            outside.path().join("secret.py"),
            preview.root().join("notebooks/link.py"),
        )
        .expect("symlink");
        std::os::unix::fs::symlink(outside.path(), preview.root().join("artifacts/out"))
            .expect("symlink");
    }
    let attempts = [
        "/nb/../jellycell.toml",
        "/nb/notebooks/../../etc/passwd",
        "/nb/%2e%2e/%2e%2e/etc/passwd",
        "/nb/notebooks%2F..%2F..%2Fetc%2Fpasswd",
        "/nb/%2Fetc%2Fpasswd",
        "/nb//etc/passwd",
        "/nb/notebooks/link.py",
        "/artifacts/../jellycell.toml",
        "/artifacts/%2e%2e%2fjellycell.toml",
        "/artifacts/%2Fetc%2Fpasswd",
        "/artifacts/out/secret.py",
    ];
    for attempt in attempts {
        let reply = preview.get(attempt);
        assert!(
            reply.status == 403 || reply.status == 404,
            "{attempt}: {} {}",
            reply.status,
            reply.text()
        );
        assert!(
            !reply.text().contains("SECRET"),
            "{attempt} leaked the file"
        );
        assert!(
            !reply.text().contains("root:"),
            "{attempt} leaked /etc/passwd"
        );
        assert!(
            !reply.text().contains("[project]"),
            "{attempt} leaked jellycell.toml"
        );
    }
    assert_eq!(preview.get("/nb/notebooks/link.py").status, 403);
    assert_eq!(preview.get("/nb/%2e%2e/%2e%2e/etc/passwd").status, 403);
    assert_eq!(preview.get("/artifacts/out/secret.py").status, 403);
}

#[test]
fn a_foreign_host_or_origin_is_refused() {
    let preview = Preview::new();
    let port = preview.address().port();
    let evil = format!("evil.example:{port}");
    let reply = request(preview.address(), "/", &[("Host", &evil)]);
    assert_eq!(reply.status, 403);
    let reply = request(preview.address(), "/api/state.json", &[]);
    assert_eq!(reply.status, 403, "no Host at all");
    let own = preview.address().to_string();
    let reply = request(
        preview.address(),
        "/api/state.json",
        &[("Host", &own), ("Origin", "http://evil.example")],
    );
    assert_eq!(reply.status, 403);
    let localhost = format!("localhost:{port}");
    let reply = request(
        preview.address(),
        "/",
        &[
            ("Host", &localhost),
            ("Origin", &format!("http://{localhost}")),
        ],
    );
    assert_eq!(reply.status, 200);
}

#[test]
fn a_script_in_html_output_cannot_run_in_the_page_origin() {
    let preview = Preview::new();
    let reply = preview.get("/nb/notebooks/analysis.py");
    let page = reply.text();
    assert!(
        !page.contains("<script>parent"),
        "raw script in the page: {page}"
    );
    let frame = page
        .split("<iframe ")
        .nth(1)
        .expect("the html output is in an iframe");
    let (attributes, _) = frame.split_once('>').expect("iframe tag");
    assert!(attributes.starts_with("sandbox class"), "{attributes}");
    assert!(!attributes.contains("allow-"), "{attributes}");
    assert!(attributes.contains("srcdoc=\""), "{attributes}");
    assert!(
        attributes.contains("&lt;script&gt;parent.document"),
        "{attributes}"
    );
    // The only script element is the same-origin live-reload file.
    assert_eq!(page.matches("<script").count(), 1, "{page}");
    let csp = reply.header("content-security-policy").expect("a CSP");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
}

#[test]
fn an_event_arrives_after_a_cache_write() {
    let preview = Preview::new();
    let mut events = EventStream::open(preview.address());
    cache_outputs(
        preview.root(),
        "notebooks/analysis.py",
        4,
        vec![Output::Stream("stdout", "later\n".into())],
    );
    let event = events.next_reload();
    assert_eq!(event, json!({"type": "reload", "path": "*"}));
}

#[test]
fn an_event_arrives_after_a_file_edit() {
    let preview = Preview::new();
    let mut events = EventStream::open(preview.address());
    // mtime granularity: make sure the edit lands in a later tick.
    std::thread::sleep(Duration::from_millis(30));
    let path = preview.root().join("notebooks/analysis.py");
    std::fs::write(&path, format!("{NOTEBOOK}\n# %%\nedited = True\n")).expect("edit");
    let event = events.next_reload();
    assert_eq!(event["path"], "notebooks/analysis.py");
    let page = preview.get("/nb/notebooks/analysis.py").text();
    assert!(
        page.contains("edited"),
        "the page after the event shows the edit: {page}"
    );
}

#[test]
fn an_event_arrives_after_a_buffer_change_and_the_page_shows_the_buffer() {
    let preview = Preview::new();
    let mut events = EventStream::open(preview.address());
    let path = preview.root().join("notebooks/analysis.py");
    let unsaved = NOTEBOOK.replace("# # Analysis", "# # Unsaved heading");
    preview.handle().notify_buffer_changed(&path, &unsaved);
    let event = events.next_reload();
    assert_eq!(event["path"], "notebooks/analysis.py");
    let page = preview.get("/nb/notebooks/analysis.py").text();
    assert!(page.contains("Unsaved heading"), "{page}");
    // The file on disk is untouched, and outputs still match by key.
    assert!(
        std::fs::read_to_string(&path)
            .expect("read")
            .contains("# # Analysis")
    );
    assert!(page.contains("hello from the cache"), "{page}");

    preview.handle().forget_buffer(&path);
    assert_eq!(events.next_reload()["path"], "notebooks/analysis.py");
    assert!(
        preview
            .get("/nb/notebooks/analysis.py")
            .text()
            .contains("Analysis")
    );
}

#[test]
fn unknown_routes_and_non_notebooks_are_404() {
    let preview = Preview::new();
    assert_eq!(preview.get("/nope").status, 404);
    assert_eq!(preview.get("/nb/jellycell.toml").status, 404);
    assert_eq!(preview.get("/nb/notebooks/missing.py").status, 404);
}

#[test]
fn a_port_in_use_names_the_port_and_the_flag() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let project = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let result = runtime.block_on(start(
        Project::discover(project.path()),
        PreviewOptions {
            port: Some(port),
            ..PreviewOptions::default()
        },
    ));
    let error = result.err().expect("the port is taken");
    assert!(matches!(error, PreviewError::PortInUse { .. }));
    let message = error.to_string();
    assert!(
        message.contains(&port.to_string()) && message.contains("--port"),
        "{message}"
    );
}

/// Runs `jellycell-lsp preview --port 0 NOTEBOOK`, reads the URL it prints first, fetches
/// it, and stops the server: (the URL, the reply when the URL has an address).
fn preview_first_url(notebook: &Path) -> (String, Option<Reply>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
        .args(["preview", "--port", "0"])
        .arg(notebook)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("read");
    let url = first.trim().to_string();
    let reply = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split_once('/'))
        .and_then(|(authority, path)| {
            let address: SocketAddr = authority.parse().ok()?;
            Some(request(
                address,
                &format!("/{path}"),
                &[("Host", authority)],
            ))
        });
    let _ = child.kill();
    let _ = child.wait();
    (url, reply)
}

#[test]
fn preview_command_prints_the_url_first_and_serves_it() {
    let preview_project = Preview::new();
    let notebook = preview_project.root().join("notebooks/analysis.py");
    let (url, served) = preview_first_url(&notebook);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(url.ends_with("/nb/notebooks/analysis.py"), "{url}");
    let reply = served.expect("a URL with an address");
    assert_eq!(reply.status, 200);
    assert!(reply.text().contains("hello from the cache"));
}

#[test]
fn export_to_html_writes_one_self_contained_file() {
    let preview = Preview::new();
    let notebook = preview.root().join("notebooks/analysis.py");
    let output = preview.root().join("analysis.html");
    let status = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
        .args(["export", "--to", "html", "-o"])
        .arg(&output)
        .arg(&notebook)
        .status()
        .expect("run");
    assert!(status.success());
    let page = std::fs::read_to_string(&output).expect("html written");
    assert!(page.contains("src=\"data:image/png;base64,"), "{page}");
    assert!(!page.contains("/blob/"), "{page}");
    assert!(!page.contains("<script"), "no scripts in a standalone file");
    assert!(page.contains("<table>"));
    assert!(page.contains("hello from the cache"));
}

#[test]
fn a_real_kernel_run_reloads_the_page_with_its_outputs() {
    let project = support::project::TestProject::new(&[(
        "notebooks/live.py",
        "# %% [markdown]\n# | k | v |\n# |---|---|\n# | a | 1 |\n\n\
         # %% tags=[\"jc.step\", \"name=greet\"]\nprint('hello from a kernel')\n\n\
         # %% tags=[\"jc.table\", \"name=shown\", \"deps=greet\"]\n\
         from IPython.display import HTML, display\n\
         display(HTML('<table><tr><td>kernel cell</td></tr></table><script>parent.x = 1</script>'))\n",
    )]);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let handle = runtime
        .block_on(start(
            Project::discover(project.root()),
            PreviewOptions::default(),
        ))
        .expect("preview starts");
    let host = handle.address().to_string();
    let before = request(
        handle.address(),
        "/nb/notebooks/live.py",
        &[("Host", &host)],
    )
    .text();
    assert!(before.contains("jc-status jc-status-new\""), "{before}");
    assert!(!before.contains("hello from a kernel\n</pre>"), "{before}");

    let mut events = EventStream::open(handle.address());
    let (code, report) = project.run("notebooks/live.py", &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(events.next_reload()["path"], "*");

    let after = request(
        handle.address(),
        "/nb/notebooks/live.py",
        &[("Host", &host)],
    )
    .text();
    assert!(after.contains("hello from a kernel\n</pre>"), "{after}");
    assert!(after.contains("<iframe sandbox"), "{after}");
    assert!(after.contains("&lt;script&gt;parent.x = 1"), "{after}");
    assert!(!after.contains("<script>parent"), "{after}");
    assert!(!after.contains("jc-status jc-status-new\""), "{after}");
    runtime.block_on(handle.shutdown());
}

#[test]
fn no_route_accepts_writes() {
    let preview = Preview::new();
    for method in ["POST", "PUT", "DELETE"] {
        let mut stream = TcpStream::connect(preview.address()).expect("connect");
        write!(
            stream,
            "{method} /nb/notebooks/analysis.py HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            preview.address()
        )
        .expect("send");
        let mut reply = String::new();
        stream.read_to_string(&mut reply).expect("read");
        assert!(reply.starts_with("HTTP/1.1 405"), "{method}: {reply}");
    }
}

#[test]
fn a_myst_notebook_renders_with_its_outputs() {
    let preview = Preview::new();
    let myst = "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\nkernelspec:\n  name: python3\n---\n\n\
                # Story\n\nA *MyST* notebook.\n\n```{code-cell} ipython3\n:tags: [jc.step, name=told]\nprint('told')\n```\n";
    std::fs::write(preview.root().join("notebooks/story.md"), myst).expect("write");
    let project = Project::discover(preview.root());
    let (workspace, _) = jellycell_lsp::analysis::workspace::Workspace::load(project, &[]);
    let file = workspace
        .files
        .iter()
        .position(|file| file.relative == "notebooks/story.md")
        .expect("the MyST notebook is discovered");
    let ordinal = workspace.files[file]
        .notebook
        .cells
        .iter()
        .position(|cell| cell.cell_type == jellycell_lsp::format::CellType::Code)
        .expect("a code cell");
    cache_outputs(
        preview.root(),
        "notebooks/story.md",
        ordinal,
        vec![Output::Stream("stdout", "told\n".into())],
    );
    // Files written in the last watcher tick may not be picked up yet: wait for the event.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut page = String::new();
    while Instant::now() < deadline {
        page = preview.get("/nb/notebooks/story.md").text();
        if page.contains("told\n</pre>") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(page.contains("<h1 id=\"c0-story\">Story</h1>"), "{page}");
    assert!(
        page.contains("<span class=\"jc-cell-name\">told</span>"),
        "{page}"
    );
    assert!(page.contains("told\n</pre>"), "{page}");
}

#[test]
fn outputs_follow_cell_keys_not_ordinals() {
    let preview = Preview::new();
    let path = preview.root().join("notebooks/analysis.py");
    // A new cell inserted first, and the `raw` cell edited: every ordinal moves by one.
    let edited = NOTEBOOK
        .replace(
            "# %% [markdown]\n# # Analysis",
            "# %%\ninserted = True\n\n# %% [markdown]\n# # Analysis",
        )
        .replace("print('hello from the cache')", "print('edited, not run')");
    preview.handle().notify_buffer_changed(&path, &edited);
    let page = preview.get("/nb/notebooks/analysis.py").text();
    let section = |ordinal: usize| -> String {
        let start = format!("id=\"cell-{ordinal}\"");
        let from = page
            .find(&start)
            .unwrap_or_else(|| panic!("cell {ordinal}: {page}"));
        let rest = &page[from..];
        rest[..rest.find("</section>").unwrap_or(rest.len())].to_string()
    };
    let raw = section(2);
    assert!(raw.contains("jc-status jc-status-stale\""), "{raw}");
    // Its last output stays, greyed and marked stale, never as a current one.
    assert!(
        !raw.contains("class=\"jc-outputs\""),
        "old output shown as current: {raw}"
    );
    assert!(
        raw.contains("class=\"jc-outputs jc-outputs-stale\"")
            && raw.contains("hello from the cache"),
        "{raw}"
    );
    assert!(raw.contains("jc-note jc-stale-note"), "{raw}");
    // The figure depends on `raw`, so its key changed too: stale, and its dep link moved.
    let plot = section(3);
    assert!(plot.contains("jc-status jc-status-stale\""), "{plot}");
    assert!(!plot.contains("class=\"jc-outputs\""), "{plot}");
    assert!(plot.contains("jc-outputs-stale"), "{plot}");
    assert!(plot.contains("href=\"#cell-2\""), "{plot}");
    // The unchanged, independent table cell keeps its output at its new ordinal.
    let frame = section(4);
    assert!(frame.contains("jc-status jc-status-cached\""), "{frame}");
    assert!(frame.contains("<iframe sandbox"), "{frame}");
    assert!(
        !section(0).contains("jc-outputs"),
        "the inserted cell has no outputs"
    );
}

#[test]
fn preview_of_a_lone_notebook_serves_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let notebook = dir.path().join("scratch.py");
    std::fs::write(
        &notebook,
        "# %%
print('lone')
",
    )
    .expect("write");
    let (url, reply) = preview_first_url(&notebook);
    assert!(url.ends_with("/nb/scratch.py"), "{url}");
    let reply = reply.expect("a URL with an address");
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.text().contains("lone"));
}

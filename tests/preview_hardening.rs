//! The preview's request checks over raw TCP on 127.0.0.1 against the real binary (#14):
//! two `Host` headers and absolute-form targets are refused with 400 whatever the names,
//! while a plain request is served; an artifacts folder that a symlink takes out of the
//! project is not served; a markdown `javascript:` link never becomes a live `href`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const NOTEBOOK: &str = "# %% [markdown]\n# [click me](javascript:alert(document.domain)) and \
[fine](https://example.org)\n\n# %% tags=[\"jc.step\"]\nx = 1\n";

/// A running `preview --port 0` of a project; killed when dropped.
struct PreviewProcess {
    child: std::process::Child,
    address: SocketAddr,
}

impl PreviewProcess {
    fn start(root: &Path) -> PreviewProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
            .args(["preview", "--port", "0"])
            .arg(root)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("read");
        let address = first
            .trim()
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .and_then(|authority| authority.parse().ok())
            .unwrap_or_else(|| panic!("no URL: {first}"));
        PreviewProcess { child, address }
    }

    /// Sends `head` (request line and headers, without the blank line) and returns the
    /// status and the whole reply.
    fn raw(&self, head: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(self.address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        write!(stream, "{head}Connection: close\r\n\r\n").expect("send");
        let mut raw = String::new();
        let _ = stream.read_to_string(&mut raw);
        let status = raw
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        (status, raw)
    }

    fn get(&self, path: &str) -> (u16, String) {
        self.raw(&format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\n",
            self.address
        ))
    }
}

impl Drop for PreviewProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("jellycell.toml"),
        "[project]\nname = \"p\"\n",
    )
    .expect("toml");
    std::fs::create_dir_all(dir.path().join("notebooks")).expect("mkdir");
    std::fs::write(dir.path().join("notebooks/page.py"), NOTEBOOK).expect("notebook");
    dir
}

#[test]
fn two_host_headers_and_absolute_form_targets_are_refused() {
    let dir = project();
    let preview = PreviewProcess::start(dir.path());
    let own = preview.address.to_string();
    let (status, reply) = preview.get("/api/state.json");
    assert_eq!(status, 200, "{reply}");

    for head in [
        format!("GET /api/state.json HTTP/1.1\r\nHost: {own}\r\nHost: evil.example\r\n"),
        format!("GET /api/state.json HTTP/1.1\r\nHost: evil.example\r\nHost: {own}\r\n"),
        format!("GET /api/state.json HTTP/1.1\r\nHost: {own}\r\nHost: {own}\r\n"),
        format!("GET http://evil.example/api/state.json HTTP/1.1\r\nHost: {own}\r\n"),
        format!("GET http://{own}/api/state.json HTTP/1.1\r\nHost: {own}\r\n"),
        format!("GET //evil.example/api/state.json HTTP/1.1\r\nHost: {own}\r\n"),
    ] {
        let (status, reply) = preview.raw(&head);
        assert!(
            status == 400 || status == 421 || status == 404,
            "{head:?} answered {status}: {reply}"
        );
        assert!(!reply.contains("schema_version"), "{head:?}: {reply}");
    }
}

#[test]
fn an_artifacts_folder_that_links_out_of_the_project_is_not_served() {
    let dir = project();
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(outside.path().join("passwd"), "root:x:0:0").expect("write");
    std::os::unix::fs::symlink(outside.path(), dir.path().join("artifacts")).expect("symlink");
    let preview = PreviewProcess::start(dir.path());
    let (status, reply) = preview.get("/artifacts/passwd");
    assert_eq!(status, 403, "{reply}");
    assert!(!reply.contains("root:x:0"), "{reply}");
}

#[test]
fn markdown_script_links_are_not_live_in_the_preview() {
    let dir = project();
    let preview = PreviewProcess::start(dir.path());
    let (status, page) = preview.get("/nb/notebooks/page.py");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("click me"), "{page}");
    assert!(!page.contains("javascript:"), "{page}");
    assert!(page.contains("href=\"https://example.org\""), "{page}");
}

//! Preview after an edit: a comment-only edit of a cell that later cells depend on makes
//! them stale, and the page keeps every one's last outputs, greyed and marked stale,
//! instead of hiding them. A real kernel run through the binary, the preview through the
//! binary over real HTTP, and the page as headless Chromium builds it (a screenshot lands
//! in `target/preview-stale.png`).

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use support::project::TestProject;

const CHROMIUM: &str = "/usr/bin/chromium";

const NOTEBOOK: &str = "# %% tags=[\"jc.load\", \"name=raw\"]\nrows = [1, 2, 3]\nprint(\"loaded\", len(rows), \"rows\")\n\n# %% tags=[\"jc.step\", \"name=total\", \"deps=raw\"]\nprint(\"total is\", sum(rows))\n";

/// `GET path` on `authority` with `Connection: close`: the body.
fn get(authority: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(authority).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).expect("read");
    let reply = String::from_utf8_lossy(&reply).into_owned();
    assert!(
        reply.starts_with("HTTP/1.1 200"),
        "{}",
        &reply[..reply.len().min(200)]
    );
    reply
}

struct Served(std::process::Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target")
}

#[test]
fn a_comment_edit_keeps_the_last_outputs_greyed_and_marked_stale() {
    let project = TestProject::new(&[("notebooks/n.py", NOTEBOOK)]);
    let (code, report) = project.run("notebooks/n.py", &[]);
    assert_eq!(code, 0, "{report}");
    project.write(
        "notebooks/n.py",
        &NOTEBOOK.replace("rows = [1, 2, 3]\n", "rows = [1, 2, 3]  # the sample\n"),
    );
    let mut child = project.command(&["preview", "--port", "0", "notebooks/n.py"]);
    let mut served = Served(
        child
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("preview starts"),
    );
    let mut url = String::new();
    BufReader::new(served.0.stdout.take().expect("stdout"))
        .read_line(&mut url)
        .expect("the URL line");
    let url = url.trim().to_string();
    let (authority, path) = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split_once('/'))
        .expect("an http URL");
    let page = get(authority, &format!("/{path}"));
    assert_eq!(
        page.matches("jc-status jc-status-stale").count(),
        2,
        "both cells are stale"
    );
    assert_eq!(
        page.matches("class=\"jc-outputs jc-outputs-stale\"")
            .count(),
        2,
        "{page}"
    );
    assert!(
        page.contains("loaded 3 rows") && page.contains("total is 6"),
        "{page}"
    );
    assert_eq!(
        page.matches("Stale: these are the outputs of an earlier version")
            .count(),
        2
    );

    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing (.ci/run installs it)"
    );
    let profile = tempfile::tempdir().unwrap();
    let browser = |args: &[&str]| {
        Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(args)
            .arg(&url)
            .output()
            .expect("chromium runs")
    };
    let dom = String::from_utf8_lossy(&browser(&["--dump-dom"]).stdout).into_owned();
    assert_eq!(
        dom.matches("class=\"jc-outputs jc-outputs-stale\"").count(),
        2,
        "the browser's DOM: {dom}"
    );
    assert!(dom.contains("total is 6"), "{dom}");
    let screenshot = target_dir().join("preview-stale.png");
    let _ = std::fs::remove_file(&screenshot);
    let shot = browser(&[
        &format!("--screenshot={}", screenshot.display()),
        "--window-size=1000,700",
    ]);
    assert!(
        screenshot.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&shot.stderr)
    );
}

//! A cell that ignores SIGINT: once an interrupt (its timeout's, or the user's) goes
//! unhonoured for the grace period, the kernel is killed and says so — in the cell's error,
//! the kernel status (`dead`), the lens and a message — and the next run starts a fresh
//! kernel instead of queueing behind the stuck one. Real binary over stdio, real ipykernel;
//! the grace is set to 1 s with `JELLYCELL_INTERRUPT_GRACE_SECONDS`.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::lsp::{LspClient, TIMEOUT, project};
use support::project::{TestProject, configure_kernel_env, statuses};

const IGNORES_SIGINT: &str = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.05)\n";

fn with_grace(command: &mut Command) {
    configure_kernel_env(command);
    command.env("JELLYCELL_INTERRUPT_GRACE_SECONDS", "1");
}

struct Editor {
    client: LspClient,
    uri: String,
    _dir: tempfile::TempDir,
}

fn editor(notebook: &str) -> Editor {
    let dir = project(&format!(
        "//- jellycell.toml\n[project]\nname = \"p\"\n//- notebooks/nb.py\n{notebook}"
    ));
    let mut client = LspClient::spawn_with(with_grace);
    client.initialize_with_options(
        dir.path(),
        json!({"window": {"workDoneProgress": true}}),
        json!({"kernelStatus": true}),
    );
    let uri = client.open(&dir.path().join("notebooks/nb.py"), "python", notebook);
    Editor {
        client,
        uri,
        _dir: dir,
    }
}

impl Editor {
    fn command(&mut self, command: &str, cell: usize) -> Value {
        self.client.call(
            "workspace/executeCommand",
            json!({"command": command, "arguments": [{"uri": self.uri, "cell": cell}]}),
        )
    }

    fn wait_state(&mut self, state: &str) {
        let uri = self.uri.clone();
        self.client.wait_for("jellycell/kernelStatus", |params| {
            params["uri"] == uri.as_str() && params["state"] == state
        });
    }

    /// The status lens of the cell whose header is on `line`, once it satisfies `accept`.
    fn wait_lens(&mut self, line: u64, accept: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let lenses = self.client.call(
                "textDocument/codeLens",
                json!({"textDocument": {"uri": self.uri}}),
            );
            let title = lenses
                .as_array()
                .into_iter()
                .flatten()
                .find(|lens| lens["range"]["start"]["line"] == line)
                .and_then(|lens| lens["command"]["title"].as_str())
                .unwrap_or_default()
                .to_string();
            if accept(&title) {
                return title;
            }
            assert!(
                Instant::now() < deadline,
                "lens on line {line} stayed {title:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn a_cell_that_ignores_sigint_past_its_timeout_stops_the_kernel_and_the_next_run_starts_fresh() {
    let notebook = format!("# %% tags=[\"timeout=1\"]\n{IGNORES_SIGINT}\n# %%\nprint('after')\n");
    let mut editor = editor(&notebook);
    editor.command("jellycell.runCell", 0);
    editor.wait_state("busy");
    editor.wait_state("dead");
    let message = editor.client.wait_for("window/showMessage", |params| {
        params["message"]
            .as_str()
            .is_some_and(|text| text.contains("stopped"))
    });
    assert_eq!(message["type"], 2, "a warning: {message}");
    let lens = editor.wait_lens(0, |title| title.starts_with('✗'));
    assert!(
        lens.contains("Timeout") && lens.contains("kernel was stopped"),
        "{lens}"
    );
    // Not queued behind the stuck kernel: a fresh one runs the next cell.
    let after_line = notebook
        .lines()
        .position(|line| line == "# %%")
        .unwrap_or(0) as u64;
    editor.command("jellycell.runCell", 1);
    editor.wait_state("starting");
    editor.wait_state("idle");
    let lens = editor.wait_lens(after_line, |title| title.starts_with('✓'));
    assert!(lens.contains("cached"), "{lens}");
    assert_eq!(editor.client.shutdown(), Some(0));
}

#[test]
fn an_interrupt_that_the_kernel_ignores_stops_the_kernel() {
    // The cell says when its handler is in place: a running cell may not have got there
    // yet on a loaded machine.
    let flags = tempfile::tempdir().expect("temp dir");
    let flag = flags.path().join("ignoring-sigint");
    let flag_text = flag.to_str().expect("a UTF-8 temp path");
    let notebook = format!(
        "# %%\nimport signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n\
         open({flag_text:?}, 'w').close()\nwhile True:\n    time.sleep(0.05)\n\n# %%\nprint('after')\n"
    );
    let mut editor = editor(&notebook);
    editor.command("jellycell.runCell", 0);
    editor.wait_state("busy");
    let deadline = Instant::now() + TIMEOUT;
    while !flag.exists() {
        assert!(
            Instant::now() < deadline,
            "the cell never installed its handler"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    editor.command("jellycell.interrupt", 0);
    editor.wait_state("dead");
    editor.command("jellycell.runCell", 1);
    editor.wait_state("idle");
    assert_eq!(editor.client.shutdown(), Some(0));
}

#[test]
fn run_stops_a_kernel_that_ignores_the_timeouts_interrupt_and_runs_nothing_behind_it() {
    let notebook = format!(
        "# %% tags=[\"timeout=1\"]\n{IGNORES_SIGINT}\n# %% tags=[\"timeout=30\"]\nprint('after')\n"
    );
    let project = TestProject::new(&[("notebooks/nb.py", &notebook)]);
    let mut command = project.command(&["run", "notebooks/nb.py", "--json", "--keep-going"]);
    command.env("JELLYCELL_INTERRUPT_GRACE_SECONDS", "1");
    let output = command.output().expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|error| {
        panic!(
            "no JSON ({error}): {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert_eq!(statuses(&report), ["error", "skipped"], "{report}");
    let error = report["cells"][0]["error"]["evalue"]
        .as_str()
        .unwrap_or_default();
    assert!(
        error.contains("did not stop within 1s") && error.contains("kernel was stopped"),
        "{error}"
    );
}

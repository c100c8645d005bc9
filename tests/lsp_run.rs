//! Running cells from the editor, over the real binary's stdio with a real ipykernel: the
//! run commands queue and answer at once, progress (begin / a report per cell / end), a
//! code lens refresh after each cell, lenses that follow the cache (also when a CLI run
//! in another process writes it), `cell-error` diagnostics at the failing line,
//! interrupt, restart, run with deps, and a client that never answers server requests.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::lsp::{LspClient, project, uri};
use support::project::configure_kernel_env;

/// Everything a client can say it supports for runs.
fn full_capabilities() -> Value {
    json!({
        "window": {"workDoneProgress": true},
        "workspace": {
            "codeLens": {"refreshSupport": true},
            "inlayHint": {"refreshSupport": true}
        },
        "textDocument": {"publishDiagnostics": {}}
    })
}

struct Session {
    client: LspClient,
    uri: String,
    dir: tempfile::TempDir,
}

/// A project with `notebooks/nb.py` = `notebook`, the server started with the test
/// venv's kernel, and the notebook open.
fn session(notebook: &str, capabilities: Value, answering: bool) -> Session {
    session_of("nb.py", notebook, capabilities, answering)
}

fn session_of(name: &str, notebook: &str, capabilities: Value, answering: bool) -> Session {
    let dir = project(&format!(
        "//- jellycell.toml\n[project]\nname = \"p\"\n//- notebooks/{name}\n{notebook}"
    ));
    let mut client = LspClient::spawn_with(configure_kernel_env);
    if !answering {
        client = client.never_answering();
    }
    client.initialize(dir.path(), capabilities);
    let path = dir.path().join("notebooks").join(name);
    let language = if name.ends_with(".md") {
        "markdown"
    } else {
        "python"
    };
    let uri = client.open(&path, language, notebook);
    Session { client, uri, dir }
}

impl Session {
    fn command(&mut self, command: &str, cell: Option<usize>) -> Value {
        let argument = match cell {
            Some(cell) => json!({"uri": self.uri, "cell": cell}),
            None => json!({"uri": self.uri}),
        };
        self.client.call(
            "workspace/executeCommand",
            json!({"command": command, "arguments": [argument]}),
        )
    }

    /// `(line, title, command, argument)` of every lens.
    fn lenses(&mut self) -> Vec<(u64, String, String, Value)> {
        let result = self.client.call(
            "textDocument/codeLens",
            json!({"textDocument": {"uri": self.uri}}),
        );
        result
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|lens| {
                (
                    lens["range"]["start"]["line"].as_u64().unwrap_or(u64::MAX),
                    lens["command"]["title"].as_str().unwrap_or("").to_string(),
                    lens["command"]["command"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    lens["command"]["arguments"][0].clone(),
                )
            })
            .collect()
    }

    /// The status lens title of the cell whose header is on `line`.
    fn status(&mut self, line: u64) -> String {
        self.lenses()
            .into_iter()
            .find(|(at, ..)| *at == line)
            .map(|(_, title, ..)| title)
            .unwrap_or_default()
    }

    /// Asks for lenses until the status on `line` satisfies `accept` (a wait, not a
    /// timing assertion: the run it waits for happens in the server's own time).
    fn wait_status(&mut self, line: u64, accept: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + support::lsp::TIMEOUT;
        loop {
            let status = self.status(line);
            if accept(&status) {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "status on line {line} stayed {status:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The first `cell-error` of the next diagnostics of the notebook that hold one.
    fn cell_error(&mut self) -> Value {
        let uri = self.uri.clone();
        let diagnostics = self
            .client
            .diagnostics_matching(&uri, |diagnostics| diagnostics.iter().any(is_cell_error));
        diagnostics.into_iter().find(is_cell_error).unwrap()
    }

    /// The `$/progress` values of the next run, from its `begin` to its `end`.
    fn next_run_progress(&mut self) -> Vec<Value> {
        let begin = self
            .client
            .wait_for("$/progress", |params| params["value"]["kind"] == "begin");
        let token = begin["token"].clone();
        let mut values = vec![begin["value"].clone()];
        loop {
            let next = self
                .client
                .wait_for("$/progress", |params| params["token"] == token);
            let kind = next["value"]["kind"].clone();
            values.push(next["value"].clone());
            if kind == "end" {
                return values;
            }
        }
    }
}

fn is_cell_error(diagnostic: &Value) -> bool {
    diagnostic["code"] == "cell-error"
}

/// The messages of a run's `report`s.
fn reports(progress: &[Value]) -> Vec<String> {
    progress
        .iter()
        .filter(|value| value["kind"] == "report")
        .filter_map(|value| value["message"].as_str().map(str::to_string))
        .filter(|message| message.starts_with('['))
        .collect()
}

const HELLO_AND_BOOM: &str = r#"# %% tags=["jc.step", "name=hello"]
print("hello")

# %% tags=["jc.step", "name=boom"]
x = 1
raise ValueError("kaboom")
"#;

#[test]
fn run_cell_reports_progress_refreshes_lenses_and_caches_the_cell() {
    let mut session = session(HELLO_AND_BOOM, full_capabilities(), true);
    let lenses = session.lenses();
    assert_eq!(session.status(0), "○ not run", "{lenses:?}");
    assert_eq!(session.status(3), "○ not run");
    // Run lenses carry advertised commands with {uri, cell}.
    let run = lenses
        .iter()
        .find(|(line, title, ..)| *line == 3 && title == "▶ Run")
        .expect("a Run lens on the second cell");
    assert_eq!(run.2, "jellycell.runCell");
    assert_eq!(run.3, json!({"uri": session.uri, "cell": 1}));
    assert!(lenses.iter().any(|(line, title, command, _)| *line == 0
        && title == "▶▶ Run all"
        && command == "jellycell.runAll"));

    let answer = session.command("jellycell.runCell", Some(0));
    assert_eq!(answer, json!({"queued": true}));
    let progress = session.next_run_progress();
    assert_eq!(progress[0]["kind"], "begin");
    assert_eq!(progress.last().unwrap()["kind"], "end");
    let first = reports(&progress);
    assert_eq!(first.len(), 1, "{progress:?}");
    assert!(first[0].contains("cell 0 (hello): ok"), "{first:?}");
    // The progress names the Python that runs the kernel (the sessions' VIRTUAL_ENV).
    let python = support::python::python_bin_dir().join("python");
    assert!(
        progress.iter().any(|value| value["message"]
            == format!("kernel: VIRTUAL_ENV {}", python.display()).as_str()),
        "{progress:?}"
    );
    assert!(
        !session
            .client
            .requests_of("window/workDoneProgress/create")
            .is_empty()
    );
    session
        .client
        .wait_for("workspace/codeLens/refresh", |_| true);
    let status = session.status(0);
    assert!(status.starts_with("✓ cached · "), "{status}");
    // The age reads "just now" for a minute; a loaded machine may take longer to get here.
    assert!(
        status.ends_with("just now") || status.ends_with(" min ago"),
        "{status}"
    );
    assert_eq!(session.status(3), "○ not run");
    let hints = session.client.call(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": session.uri},
               "range": {"start": {"line": 0, "character": 0}, "end": {"line": 10, "character": 0}}}),
    );
    let labels: Vec<&str> = hints
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|hint| hint["label"].as_str())
        .collect();
    assert!(labels[0].starts_with("✓ "), "{labels:?}");
    // The cell's inline output follows its last line, before the next cell's status.
    assert_eq!(labels[1], "→ hello", "{labels:?}");
    assert_eq!(labels[2], "○ not run");

    // An error becomes a cell-error on the failing line (file line 5) and the lens says it.
    session.command("jellycell.runCell", Some(1));
    let progress = session.next_run_progress();
    assert!(reports(&progress)[0].contains("ValueError: kaboom"));
    let uri = session.uri.clone();
    let error = session.cell_error();
    assert_eq!(error["message"], "ValueError: kaboom");
    assert_eq!(error["range"]["start"]["line"], 5);
    assert_eq!(error["range"]["start"]["character"], 0);
    assert_eq!(error["severity"], 1);
    assert_eq!(session.status(3), "✗ ValueError: kaboom");

    // Fixing the cell in the buffer (not on disk) takes the diagnostic away, and a run
    // uses the buffer's text.
    let fixed = HELLO_AND_BOOM.replace("raise ValueError(\"kaboom\")", "print(x)");
    session.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    session.client.diagnostics_matching(&uri, |diagnostics| {
        diagnostics
            .iter()
            .all(|diagnostic| diagnostic["code"] != "cell-error")
    });
    session.command("jellycell.runCell", Some(1));
    let progress = session.next_run_progress();
    assert!(
        reports(&progress)[0].contains("cell 1 (boom): ok"),
        "{progress:?}"
    );
    assert!(session.status(3).starts_with("✓ cached"));
    assert_eq!(session.client.shutdown(), Some(0));
}

#[test]
fn interrupt_stops_a_runaway_cell_and_the_queue_goes_on() {
    let notebook = "# %% tags=[\"jc.step\", \"name=loop\"]\nimport time\nwhile True:\n    time.sleep(0.05)\n\n# %% tags=[\"jc.step\", \"name=after\"]\nprint(\"after\")\n";
    let mut session = session(notebook, full_capabilities(), true);
    session.command("jellycell.runCell", Some(0));
    session.wait_status(0, |status| status == "⟳ running…");
    // Queued behind the running cell.
    session.command("jellycell.runCell", Some(1));
    assert_eq!(session.status(5), "… queued");
    assert_eq!(
        session.command("jellycell.interrupt", Some(0)),
        json!({"interrupted": true})
    );
    let stopped = session.next_run_progress();
    let reports_of_stopped = reports(&stopped);
    assert!(
        reports_of_stopped[0].contains("KeyboardInterrupt"),
        "{stopped:?}"
    );
    assert!(
        stopped.last().unwrap()["message"]
            .as_str()
            .unwrap_or("")
            .contains("stopped")
    );
    let next = session.next_run_progress();
    assert!(reports(&next)[0].contains("cell 1 (after): ok"), "{next:?}");
    // The interrupted cell is not cached as an error: it says nothing about the code.
    assert_eq!(session.status(0), "○ not run");
    assert!(session.status(5).starts_with("✓ cached"));
    assert_eq!(session.client.shutdown(), Some(0));
}

/// Kernel state that no cell's names carry (the process environment), so state restore
/// cannot bring it back: it shows whether a kernel is fresh. (Names that cells define are
/// restored; see `restart_then_run_restores_cached_inputs_and_never_caches_a_name_error`.)
const UNSEEN_STATE: &str = "# %% tags=[\"jc.step\", \"name=define\"]\nimport os\nos.environ['JC_TEST_SECRET'] = '42'\n\n# %% tags=[\"jc.step\", \"name=use\"]\nimport os\nprint(os.environ['JC_TEST_SECRET'])\n";

#[test]
fn restart_gives_a_fresh_kernel() {
    let notebook = UNSEEN_STATE;
    let mut session = session(notebook, full_capabilities(), true);
    session.command("jellycell.runCell", Some(0));
    session.next_run_progress();
    session.command("jellycell.runCell", Some(1));
    let before = session.next_run_progress();
    assert!(
        reports(&before)[0].contains("cell 1 (use): ok"),
        "{before:?}"
    );
    assert_eq!(
        session.command("jellycell.restart", Some(1)),
        json!({"restarted": true})
    );
    session.command("jellycell.runCell", Some(1));
    let after = session.next_run_progress();
    assert!(
        reports(&after)[0].contains("KeyError: 'JC_TEST_SECRET'"),
        "{after:?}"
    );
    let error = session.cell_error();
    assert_eq!(error["range"]["start"]["line"], 6);
    assert_eq!(session.client.shutdown(), Some(0));
}

#[test]
fn restart_then_run_restores_cached_inputs_and_never_caches_a_name_error() {
    let notebook = r#"# %% tags=["jc.step", "name=make"]
df = [1, 2, 3]

# %% tags=["jc.step", "name=use", "deps=make"]
print(sum(df))

# %% tags=["jc.step", "name=tail"]
print(len(df))
"#;
    let mut session = session(notebook, full_capabilities(), true);
    session.command("jellycell.runAll", None);
    assert_eq!(reports(&session.next_run_progress()).len(), 3);
    let restart = |session: &mut Session| {
        assert_eq!(
            session.command("jellycell.restart", Some(1)),
            json!({"restarted": true})
        );
    };

    // Run on a cached cell in a fresh kernel: its input comes back, the result stays good.
    restart(&mut session);
    session.command("jellycell.runCell", Some(1));
    let ran = reports(&session.next_run_progress());
    assert_eq!(ran.len(), 1, "{ran:?}");
    assert!(
        ran[0].contains("cell 1 (use): ok") && ran[0].contains("(restored df from make)"),
        "{ran:?}"
    );
    assert!(session.status(3).starts_with("✓ cached"));
    // The warm kernel holds df from make now: nothing is restored again.
    session.command("jellycell.runCell", Some(1));
    let again = reports(&session.next_run_progress());
    assert!(
        again[0].contains("cell 1 (use): ok") && !again[0].contains("restored"),
        "{again:?}"
    );

    restart(&mut session);
    session.command("jellycell.runWithDeps", Some(1));
    let with_deps = reports(&session.next_run_progress());
    assert_eq!(with_deps.len(), 1, "make is cached: {with_deps:?}");
    assert!(
        with_deps[0].contains("(restored df from make)"),
        "{with_deps:?}"
    );

    restart(&mut session);
    let edited = notebook.replace("print(len(df))", "print(len(df) + 1)");
    let uri = session.uri.clone();
    session.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    session.command("jellycell.runAll", None);
    let all = reports(&session.next_run_progress());
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(
        all[0].contains("cell 2 (tail): ok") && all[0].contains("(restored df from make)"),
        "{all:?}"
    );
    assert_eq!(session.client.shutdown(), Some(0));
}

#[test]
fn run_with_deps_runs_exactly_the_cells_not_cached_in_the_closure() {
    let notebook = r#"# %% tags=["jc.step", "name=a"]
a = 1

# %% tags=["jc.step", "name=b", "deps=a"]
b = a + 1

# %% tags=["jc.step", "name=c", "deps=b"]
c = b + 1
print(c)

# %% tags=["jc.step", "name=d"]
d = 4
"#;
    let mut session = session(notebook, full_capabilities(), true);
    session.command("jellycell.runCell", Some(0));
    assert_eq!(reports(&session.next_run_progress()).len(), 1);
    session.command("jellycell.runWithDeps", Some(2));
    let progress = session.next_run_progress();
    let ran = reports(&progress);
    assert_eq!(ran.len(), 2, "{ran:?}");
    assert!(ran[0].contains("cell 1 (b): ok"), "{ran:?}");
    assert!(ran[1].contains("cell 2 (c): ok"), "{ran:?}");
    assert!(session.status(6).starts_with("✓ cached"));
    assert_eq!(session.status(10), "○ not run");
    // Everything cached now: the cell itself still runs, its deps do not.
    session.command("jellycell.runWithDeps", Some(2));
    let again = reports(&session.next_run_progress());
    assert_eq!(again.len(), 1, "{again:?}");
    assert!(again[0].contains("cell 2 (c)"));
    // Run above runs what is not cached above cell 3: nothing.
    session.command("jellycell.runAbove", Some(3));
    assert!(reports(&session.next_run_progress()).is_empty());
    // Run all runs the one cell left.
    session.command("jellycell.runAll", None);
    let all = reports(&session.next_run_progress());
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].contains("cell 3 (d)"));
    // A client may name the cursor line instead of the cell.
    let uri = session.uri.clone();
    session.client.call(
        "workspace/executeCommand",
        json!({"command": "jellycell.runCell", "arguments": [{"uri": uri, "line": 11}]}),
    );
    let by_line = reports(&session.next_run_progress());
    assert_eq!(by_line.len(), 1, "{by_line:?}");
    assert!(by_line[0].contains("cell 3 (d): ok"), "{by_line:?}");
    assert_eq!(session.client.shutdown(), Some(0));
}

#[test]
fn a_client_that_never_answers_still_gets_its_cell_run() {
    let mut session = session(HELLO_AND_BOOM, full_capabilities(), false);
    session.command("jellycell.runCell", Some(0));
    // Progress still flows (after the create request goes unanswered) and the cell runs.
    let progress = session.next_run_progress();
    assert!(reports(&progress)[0].contains("cell 0 (hello): ok"));
    assert!(session.status(0).starts_with("✓ cached"));
    // Hover and completion still answer.
    let uri = session.uri.clone();
    session.client.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 2}}),
    );
    assert_eq!(session.client.shutdown(), Some(0));
}

#[test]
fn a_run_in_another_process_turns_lenses_and_diagnostics_without_an_edit() {
    let mut session = session(
        HELLO_AND_BOOM,
        json!({"workspace": {"codeLens": {"refreshSupport": true}}}),
        true,
    );
    assert_eq!(session.status(0), "○ not run");
    session.client.discard("workspace/codeLens/refresh");
    let mut cli = std::process::Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"));
    cli.args(["run", "notebooks/nb.py", "--json"])
        .current_dir(session.dir.path());
    configure_kernel_env(&mut cli);
    let output = cli.output().expect("the CLI runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    session
        .client
        .wait_for("workspace/codeLens/refresh", |_| true);
    assert!(session.status(0).starts_with("✓ cached"));
    assert_eq!(session.status(3), "✗ ValueError: kaboom");
    let uri = uri(&session.dir.path().join("notebooks/nb.py"));
    let diagnostics = session
        .client
        .diagnostics_matching(&uri, |diagnostics| diagnostics.iter().any(is_cell_error));
    assert!(
        diagnostics
            .iter()
            .any(|diagnostic| diagnostic["range"]["start"]["line"] == 5)
    );
    // The server never holds the cache's sled index: the terminal can rebuild it.
    let mut rebuild = std::process::Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"));
    rebuild
        .args(["cache", "rebuild-index", "--json"])
        .current_dir(session.dir.path());
    let output = rebuild.output().expect("the CLI runs");
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("\"indexed\":2") && stdout.contains("\"note\":null"),
        "{stdout}"
    );
    assert_eq!(session.client.shutdown(), Some(0));
}

#[test]
fn cell_error_lines_skip_myst_options_and_follow_uncommented_magics() {
    let myst = "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\nkernelspec:\n  name: python3\n---\n\n```{code-cell} ipython3\n:tags: [jc.step, name=broken]\n\n%env A=1\nx = 1\nraise KeyError('missing')\n```\n";
    let mut session = session_of("nb.md", myst, full_capabilities(), true);
    session.command("jellycell.runCell", Some(0));
    let progress = session.next_run_progress();
    assert!(reports(&progress)[0].contains("KeyError"), "{progress:?}");
    let error = session.cell_error();
    assert_eq!(error["range"]["start"]["line"], 14, "{error}");
    assert_eq!(error["message"], "KeyError: 'missing'");
    assert_eq!(session.client.shutdown(), Some(0));

    // py:percent: the commented magic runs uncommented, on the same line.
    let percent = "# %% tags=[\"jc.step\"]\n# %env A=1\nimport os\nassert os.environ['A'] == '2', 'A is ' + os.environ['A']\n";
    let mut session = session_of("nb.py", percent, full_capabilities(), true);
    session.command("jellycell.runCell", Some(0));
    let progress = session.next_run_progress();
    assert!(
        reports(&progress)[0].contains("AssertionError: A is 1"),
        "{progress:?}"
    );
    let error = session.cell_error();
    assert_eq!(error["range"]["start"]["line"], 3, "{error}");
    assert_eq!(session.client.shutdown(), Some(0));
}

#[test]
fn progress_uses_the_commands_token_and_creates_none_for_a_client_that_cannot_take_one() {
    let mut session = session(HELLO_AND_BOOM, json!({}), true);
    let uri = session.uri.clone();
    let answer = session.client.call(
        "workspace/executeCommand",
        json!({"command": "jellycell.runCell", "arguments": [{"uri": uri, "cell": 0}],
               "workDoneToken": "from-the-client"}),
    );
    assert_eq!(answer, json!({"queued": true}));
    let begin = session
        .client
        .wait_for("$/progress", |params| params["value"]["kind"] == "begin");
    assert_eq!(begin["token"], "from-the-client");
    session
        .client
        .wait_for("$/progress", |params| params["value"]["kind"] == "end");
    // Without the command's token, a client that did not advertise window.workDoneProgress
    // gets no progress at all; the run is the same.
    session.command("jellycell.runCell", Some(1));
    session.wait_status(3, |status| status.starts_with("✗ ValueError"));
    assert!(
        session
            .client
            .requests_of("window/workDoneProgress/create")
            .is_empty()
    );
    assert!(
        session
            .client
            .requests_of("workspace/codeLens/refresh")
            .is_empty()
    );
    assert_eq!(session.client.shutdown(), Some(0));
}

#[test]
fn initialization_options_turn_lenses_and_hints_off() {
    let dir = project("//- jellycell.toml\n[project]\nname = \"p\"\n");
    let mut client = LspClient::spawn(&[]);
    let root = uri(dir.path());
    let default = client.call(
        "initialize",
        json!({"processId": null, "rootUri": root, "capabilities": {}}),
    );
    assert_eq!(
        default["capabilities"]["codeLensProvider"],
        json!({"resolveProvider": true})
    );
    assert_eq!(default["capabilities"]["inlayHintProvider"], true);
    let commands = default["capabilities"]["executeCommandProvider"]["commands"].clone();
    for command in [
        "jellycell.runCell",
        "jellycell.runWithDeps",
        "jellycell.runAbove",
        "jellycell.runAll",
        "jellycell.interrupt",
        "jellycell.restart",
        "jellycell.openPreview",
    ] {
        assert!(
            commands.as_array().unwrap().iter().any(|c| c == command),
            "{command} not in {commands}"
        );
    }
    drop(client);
    let mut client = LspClient::spawn(&[]);
    let off = client.call(
        "initialize",
        json!({"processId": null, "rootUri": root, "capabilities": {},
               "initializationOptions": {"codeLens": false, "inlayHints": false}}),
    );
    assert!(off["capabilities"].get("codeLensProvider").is_none());
    assert!(off["capabilities"].get("inlayHintProvider").is_none());
}

#[test]
fn a_warm_kernel_runs_setup_once_and_again_after_it_is_edited() {
    let notebook = "# %% tags=[\"jc.setup\"]\nsetup_runs = globals().get('setup_runs', 0) + 1\n\n# %% tags=[\"jc.step\", \"name=check\"]\nassert setup_runs == 1, f'setup ran {setup_runs} times'\n";
    let mut session = session(notebook, full_capabilities(), true);
    session.command("jellycell.runCell", Some(1));
    let first = reports(&session.next_run_progress());
    assert_eq!(first.len(), 2, "{first:?}");
    assert!(first[0].contains("cell 0") && first[0].contains("setup"));
    assert!(first[1].contains("cell 1 (check): ok"), "{first:?}");
    session.command("jellycell.runCell", Some(1));
    let second = reports(&session.next_run_progress());
    assert_eq!(second.len(), 1, "{second:?}");
    assert!(second[0].contains("cell 1 (check): ok"), "{second:?}");
    let edited = notebook.replace("+ 1\n", "+ 1  # edited\n");
    let uri = session.uri.clone();
    session.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    session.command("jellycell.runCell", Some(1));
    let third = reports(&session.next_run_progress());
    assert_eq!(third.len(), 2, "{third:?}");
    assert!(
        third[1].contains("AssertionError: setup ran 2 times"),
        "{third:?}"
    );
    assert_eq!(session.client.shutdown(), Some(0));
}

/// A session like [`session`] whose client asks for `jellycell/kernelStatus`.
fn kernel_status_session(notebook: &str) -> Session {
    let dir = project(&format!(
        "//- jellycell.toml\n[project]\nname = \"p\"\n//- notebooks/nb.py\n{notebook}"
    ));
    let mut client = LspClient::spawn_with(configure_kernel_env);
    client.initialize_with_options(
        dir.path(),
        full_capabilities(),
        json!({"kernelStatus": true}),
    );
    let uri = client.open(&dir.path().join("notebooks/nb.py"), "python", notebook);
    Session { client, uri, dir }
}

#[test]
fn kernel_status_goes_to_clients_that_ask_and_follows_start_run_and_restart() {
    let notebook = "# %% tags=[\"jc.step\", \"name=hello\"]\nprint(\"hello\")\n";
    let mut session = kernel_status_session(notebook);
    let state_is = |uri: &str, state: &'static str| {
        let uri = uri.to_string();
        move |params: &Value| params["uri"] == uri.as_str() && params["state"] == state
    };
    session.command("jellycell.runCell", Some(0));
    let uri = session.uri.clone();
    for state in ["starting", "busy", "idle"] {
        let params = session
            .client
            .wait_for("jellycell/kernelStatus", state_is(&uri, state));
        if state != "starting" {
            // Which Python runs the kernel, as the run summary says it.
            assert!(
                params["environment"]
                    .as_str()
                    .is_some_and(|environment| environment.contains("python")),
                "{params}"
            );
        }
    }
    assert_eq!(
        session.command("jellycell.restart", Some(0)),
        json!({"restarted": true})
    );
    session
        .client
        .wait_for("jellycell/kernelStatus", state_is(&uri, "none"));
    assert_eq!(session.client.shutdown(), Some(0));

    // A client that did not ask gets no such notification.
    let mut quiet = session_of("q.py", notebook, full_capabilities(), true);
    quiet.command("jellycell.runCell", Some(0));
    quiet.next_run_progress();
    assert!(
        quiet
            .client
            .try_wait_for("jellycell/kernelStatus", Duration::from_millis(300), |_| {
                true
            })
            .is_none()
    );
    assert_eq!(quiet.client.shutdown(), Some(0));
}

#[test]
fn closing_the_buffer_shuts_its_kernel_down_and_reopening_starts_fresh() {
    let notebook = UNSEEN_STATE;
    let mut session = kernel_status_session(notebook);
    let path = session.dir.path().join("notebooks/nb.py");
    let uri = session.uri.clone();
    let state_is = |state: &'static str| {
        let uri = uri.clone();
        move |params: &Value| params["uri"] == uri.as_str() && params["state"] == state
    };
    session.command("jellycell.runCell", Some(0));
    session.next_run_progress();
    session
        .client
        .wait_for("jellycell/kernelStatus", state_is("idle"));

    session.client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    session
        .client
        .wait_for("jellycell/kernelStatus", state_is("none"));

    // A fresh kernel: state the first one held beyond restorable names is gone.
    session.client.open(&path, "python", notebook);
    session.command("jellycell.runCell", Some(1));
    let after = session.next_run_progress();
    assert!(
        reports(&after)[0].contains("KeyError: 'JC_TEST_SECRET'"),
        "{after:?}"
    );
    assert_eq!(session.client.shutdown(), Some(0));
}

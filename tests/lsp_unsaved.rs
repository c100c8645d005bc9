//! `runCell` on a buffer that is not a notebook on disk — a file URI at the filesystem root
//! that does not exist, an untitled (non-`file:`) buffer — runs in a scratch folder under
//! the temp dir, says so in the progress, never runs at `/` nor creates `/.jellycell`, and
//! the folder is gone after the server exits. Real binary over stdio, real ipykernel.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::lsp::{LspClient, TIMEOUT, project};
use support::project::configure_kernel_env;

/// A cell that writes the kernel's working directory to `$JC_CWD_FILE`.
const NOTEBOOK: &str = "# %%\nimport os\nopen(os.environ['JC_CWD_FILE'], 'w').write(os.getcwd())\n";

struct Setup {
    client: LspClient,
    tmp: PathBuf,
    cwd_file: PathBuf,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let dir = project("//- jellycell.toml\n[project]\nname = \"p\"\n");
    let tmp = dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).expect("mkdir");
    let cwd_file = dir.path().join("cwd.txt");
    let (for_env, file_for_env) = (tmp.clone(), cwd_file.clone());
    let mut client = LspClient::spawn_with(move |command| {
        configure_kernel_env(command);
        command
            .env("TMPDIR", &for_env)
            .env("JC_CWD_FILE", &file_for_env);
    });
    client.initialize(dir.path(), json!({"window": {"workDoneProgress": true}}));
    Setup {
        client,
        tmp,
        cwd_file,
        _dir: dir,
    }
}

fn scratch_folders(tmp: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(tmp)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("jellycell-unsaved-"))
        })
        .collect()
}

/// Runs cell 0 of the open buffer `uri`; the kernel's working directory and the progress
/// messages of the run.
fn run_cell(setup: &mut Setup, uri: &str) -> (PathBuf, Vec<String>) {
    setup.client.call(
        "workspace/executeCommand",
        json!({"command": "jellycell.runCell", "arguments": [{"uri": uri, "cell": 0}]}),
    );
    let begin = setup
        .client
        .wait_for("$/progress", |params| params["value"]["kind"] == "begin");
    let token = begin["token"].clone();
    let mut messages = Vec::new();
    loop {
        let next = setup
            .client
            .wait_for("$/progress", |params| params["token"] == token);
        if let Some(message) = next["value"]["message"].as_str() {
            messages.push(message.to_string());
        }
        if next["value"]["kind"] == "end" {
            break;
        }
    }
    let deadline = Instant::now() + TIMEOUT;
    let cwd = loop {
        if let Ok(cwd) = std::fs::read_to_string(&setup.cwd_file) {
            break PathBuf::from(cwd);
        }
        assert!(
            Instant::now() < deadline,
            "the cell never ran: {messages:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    (cwd, messages)
}

fn assert_ran_in_scratch(setup: &mut Setup, uri: &str) {
    let root_store_before = Path::new("/.jellycell").exists();
    let (cwd, messages) = run_cell(setup, uri);
    let tmp = std::fs::canonicalize(&setup.tmp).unwrap_or_else(|_| setup.tmp.clone());
    assert!(
        cwd.starts_with(&tmp) && cwd != Path::new("/"),
        "ran in {}: {messages:?}",
        cwd.display()
    );
    assert!(
        messages
            .iter()
            .any(|message| message.contains("scratch folder")),
        "the progress says where it runs: {messages:?}"
    );
    assert!(
        cwd.join(".jellycell").is_dir(),
        "its cache is in the scratch folder"
    );
    if !root_store_before {
        assert!(!Path::new("/.jellycell").exists(), "created /.jellycell");
    }
}

#[test]
fn a_file_at_the_filesystem_root_that_does_not_exist_runs_in_a_scratch_folder() {
    let mut setup = setup();
    let name = format!("jellycell-test-{}.py", std::process::id());
    let path = Path::new("/").join(&name);
    assert!(!path.exists());
    let uri = format!("file:///{name}");
    setup.client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": NOTEBOOK}}),
    );
    assert_ran_in_scratch(&mut setup, &uri);
    assert!(!path.exists());
    let tmp = setup.tmp.clone();
    assert_eq!(scratch_folders(&tmp).len(), 1);
    assert_eq!(setup.client.shutdown(), Some(0));
    assert!(scratch_folders(&tmp).is_empty(), "removed at exit");
}

#[test]
fn an_untitled_buffer_runs_in_a_scratch_folder() {
    let mut setup = setup();
    let uri = "untitled:Untitled-1";
    setup.client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": NOTEBOOK}}),
    );
    assert_ran_in_scratch(&mut setup, uri);
    let answer: Value = setup.client.call(
        "workspace/executeCommand",
        json!({"command": "jellycell.restart", "arguments": [{"uri": uri}]}),
    );
    assert_eq!(answer["restarted"], true, "{answer}");
    assert_eq!(setup.client.shutdown(), Some(0));
}

#[test]
fn lenses_and_hover_of_an_unsaved_buffer_show_what_its_scratch_run_cached() {
    let mut setup = setup();
    let uri = "untitled:Untitled-2";
    let text = format!("{NOTEBOOK}print('scratch says hi')\n");
    setup.client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
    );
    let status = |setup: &mut Setup| -> String {
        let lenses = setup.client.call(
            "textDocument/codeLens",
            json!({"textDocument": {"uri": uri}}),
        );
        lenses
            .as_array()
            .into_iter()
            .flatten()
            .find(|lens| lens["range"]["start"]["line"] == 0)
            .and_then(|lens| lens["command"]["title"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let before = status(&mut setup);
    assert!(before.starts_with("○ not run"), "{before:?}");
    run_cell(&mut setup, uri);
    let after = status(&mut setup);
    assert!(after.starts_with("✓ cached"), "{after}");
    let hover = setup.client.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 3, "character": 2}}),
    );
    let shown = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(shown.contains("scratch says hi"), "{shown}");
    assert!(shown.contains("cached"), "{shown}");
    assert_eq!(setup.client.shutdown(), Some(0));
}

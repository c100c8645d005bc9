//! The file system and the terminal through the real binary (#14): symlink loops and
//! links out of the project in notebook folders, FIFOs, `/dev/zero` and oversized files
//! as notebooks, `export -o` onto devices, FIFOs and folders, a closed or full stdout,
//! unreadable (as an unprivileged user) and invalid-UTF-8 notebooks among good ones, and
//! an invalid `jellycell.toml` for every command. Everything that could hang on a
//! regression runs under a bound, so it fails instead of stalling CI.

mod support;

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, PermissionsExt, symlink};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::project::TestProject;

/// Generous: a loaded machine checks a handful of notebooks in well under a second.
const BOUND: Duration = Duration::from_secs(120);

const BAD_KIND: &str = "# %% tags=[\"jc.stepp\"]\nx = 1\n";
const GOOD: &str = "# %% tags=[\"jc.step\", \"name=good\"]\ny = 2\n";

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
}

/// Runs `command` to completion within [`BOUND`], killing it (and failing) otherwise.
fn bounded(command: Command) -> Output {
    support::process::bounded(command, BOUND)
}

fn in_project(project: &TestProject, args: &[&str]) -> Output {
    let mut command = binary();
    command.args(args).current_dir(project.root());
    bounded(command)
}

fn check_json(project: &TestProject, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--check", "--no-cache", "--format", "json"];
    all.extend_from_slice(args);
    let output = in_project(project, &all);
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "no JSON ({error}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), report)
}

fn findings(report: &Value) -> Vec<(String, String, String)> {
    report["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|finding| {
            (
                finding["path"].as_str().unwrap_or_default().to_string(),
                finding["rule"].as_str().unwrap_or_default().to_string(),
                finding["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn symlink_loops_are_walked_once_and_links_out_of_the_project_are_not_followed() {
    let project = TestProject::new(&[("notebooks/nb.py", BAD_KIND)]);
    symlink(".", project.path("notebooks/a")).expect("symlink");
    symlink(".", project.path("notebooks/b")).expect("symlink");
    symlink("..", project.path("notebooks/up")).expect("symlink");
    let outside = tempfile::tempdir().expect("temp dir");
    std::fs::write(outside.path().join("far.py"), BAD_KIND).expect("write");
    symlink(outside.path(), project.path("notebooks/out")).expect("symlink");
    for args in [&["notebooks"][..], &[][..]] {
        let (code, report) = check_json(&project, args);
        assert_eq!(code, 1, "{report}");
        let found = findings(&report);
        let unknown: Vec<_> = found
            .iter()
            .filter(|(_, rule, _)| rule == "unknown-kind")
            .collect();
        assert_eq!(unknown.len(), 1, "{args:?}: {found:?}");
        assert!(unknown[0].0.ends_with("nb.py"), "{found:?}");
        assert!(
            !found.iter().any(|(path, _, _)| path.contains("far.py")),
            "{found:?}"
        );
    }
}

#[test]
fn a_fifo_or_dev_zero_as_a_notebook_is_a_finding_not_a_hang() {
    let project = TestProject::new(&[("notebooks/ok.py", GOOD)]);
    let fifo = project.path("notebooks/f.py");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    symlink("/dev/zero", project.path("z.py")).expect("symlink");

    let (code, report) = check_json(&project, &["notebooks/f.py", "z.py"]);
    assert_eq!(code, 1, "{report}");
    let found = findings(&report);
    assert!(
        found
            .iter()
            .any(|(path, rule, message)| path.ends_with("f.py")
                && rule == "unreadable-file"
                && message.contains("FIFO")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(path, rule, message)| path.ends_with("z.py")
                && rule == "unreadable-file"
                && message.contains("character device")),
        "{found:?}"
    );
    // The project-wide walk (also through the check cache) lists regular files only:
    // it passes the FIFO by instead of opening it.
    let (code, report) = check_json(&project, &[]);
    assert_eq!(code, 0, "{report}");
    let output = in_project(&project, &["--check", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let run = in_project(&project, &["run", "notebooks/f.py"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("FIFO"), "{}", stderr(&run));
}

#[test]
fn notebooks_over_max_file_mb_are_not_read() {
    let project = TestProject::new(&[("notebooks/ok.py", GOOD)]);
    project.write(
        "jellycell.toml",
        "[project]\nname = \"t\"\n[lint]\nmax_file_mb = 1\n",
    );
    let mut big = String::from("# %% tags=[\"jc.step\"]\n");
    while big.len() < 1_200_000 {
        big.push_str("x = 1  # padding padding padding padding padding padding\n");
    }
    project.write("notebooks/big.py", &big);
    let (code, report) = check_json(&project, &[]);
    assert_eq!(code, 1, "{report}");
    let found = findings(&report);
    assert!(
        found
            .iter()
            .any(|(path, rule, message)| path.ends_with("big.py")
                && rule == "unreadable-file"
                && message.contains("max_file_mb (1 MB)")),
        "{found:?}"
    );
    let export = in_project(&project, &["export", "--to", "md", "notebooks/big.py"]);
    assert_eq!(export.status.code(), Some(2));
    assert!(
        stderr(&export).contains("max_file_mb"),
        "{}",
        stderr(&export)
    );
}

#[test]
fn export_writes_into_devices_and_fifos_and_refuses_a_folder() {
    let project = TestProject::new(&[("notebooks/ok.py", GOOD)]);
    // A private null device, so a regression cannot replace the machine's /dev/null.
    let null = project.path("null");
    let made = Command::new("mknod")
        .arg(&null)
        .args(["c", "1", "3"])
        .status()
        .expect("mknod");
    assert!(made.success(), "mknod needs root, as the suite runs");
    let null_arg = null.display().to_string();
    let output = in_project(
        &project,
        &["export", "--to", "md", "-o", &null_arg, "notebooks/ok.py"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let kind = std::fs::symlink_metadata(&null)
        .expect("still there")
        .file_type();
    assert!(kind.is_char_device(), "the device was replaced: {kind:?}");

    let fifo = project.path("out.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success()
    );
    let reader_path = fifo.clone();
    let reader = std::thread::spawn(move || std::fs::read_to_string(reader_path).expect("read"));
    let fifo_arg = fifo.display().to_string();
    let output = in_project(
        &project,
        &["export", "--to", "md", "-o", &fifo_arg, "notebooks/ok.py"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let received = reader.join().expect("reader");
    assert!(received.contains("name=good"), "{received}");
    let kind = std::fs::symlink_metadata(&fifo)
        .expect("still there")
        .file_type();
    assert!(kind.is_fifo(), "the FIFO was replaced: {kind:?}");

    let output = in_project(
        &project,
        &["export", "--to", "md", "-o", "notebooks", "notebooks/ok.py"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is a directory"),
        "{}",
        stderr(&output)
    );
    assert!(project.path("notebooks").is_dir());
}

/// Runs `args` with stdout a pipe whose reading end is already closed.
fn with_closed_stdout(project: &TestProject, args: &[&str]) -> Output {
    let mut child = binary()
        .args(args)
        .current_dir(project.root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let mut stderr = child.stderr.take().expect("stderr");
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr.read_to_end(&mut bytes);
        bytes
    });
    let deadline = Instant::now() + BOUND;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "{args:?} did not finish");
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: Vec::new(),
        stderr: err.join().unwrap_or_default(),
    }
}

#[test]
fn a_closed_stdout_ends_quietly_and_a_full_disk_is_an_error_message() {
    let project = TestProject::new(&[("notebooks/nb.py", BAD_KIND)]);
    support::outputs::cache_outputs(
        project.root(),
        "notebooks/nb.py",
        0,
        vec![support::outputs::Output::Stream("stdout", "x\n".into())],
    );
    for args in [&["--check", "--no-cache"][..], &["cache", "list"][..]] {
        let output = with_closed_stdout(&project, args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    }
    for args in [&["--check", "--no-cache"][..], &["cache", "list"][..]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let mut command = binary();
        command.args(args).current_dir(project.root());
        let output = command
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .expect("runs");
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        let message = stderr(&output);
        assert!(
            message.contains("cannot write to stdout") && message.contains("No space left"),
            "{message}"
        );
        assert!(!message.contains("panicked"), "{message}");
    }
}

#[test]
fn an_unreadable_notebook_does_not_stop_the_check_of_the_others() {
    let project = TestProject::new(&[("notebooks/ok.py", GOOD), ("notebooks/secret.py", GOOD)]);
    let secret = project.path("notebooks/secret.py");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    // The temporary folder is the owner's only; the unprivileged user must get in.
    std::fs::set_permissions(project.root(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    let as_nobody = |args: &[&str]| {
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_jellycell-lsp"))
            .args(args)
            .current_dir(project.root());
        bounded(command)
    };
    let output = as_nobody(&[
        "--check",
        "--no-cache",
        "--format",
        "json",
        "notebooks/ok.py",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert!(findings(&report).is_empty(), "{report}");

    let output = as_nobody(&["--check", "--no-cache", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    let found = findings(&report);
    assert!(
        found
            .iter()
            .any(|(path, rule, message)| path.ends_with("secret.py")
                && rule == "unreadable-file"
                && message.contains("Permission denied")),
        "{found:?}"
    );

    let output = as_nobody(&["run", "notebooks/secret.py"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("secret.py") && message.contains("Permission denied"),
        "{message}"
    );
    assert!(!message.contains("is not a notebook"), "{message}");
}

#[test]
fn invalid_utf8_is_a_finding_with_its_byte_offset() {
    let project = TestProject::new(&[("notebooks/ok.py", GOOD)]);
    std::fs::write(
        project.path("notebooks/latin1.py"),
        b"# %% tags=[\"jc.step\"]\nname = \"Mu\xf1oz\"\n",
    )
    .expect("write");
    let (code, report) = check_json(&project, &["notebooks/ok.py"]);
    assert_eq!(code, 0, "{report}");
    let (code, report) = check_json(&project, &[]);
    assert_eq!(code, 1, "{report}");
    let finding = report["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|finding| finding["rule"] == "unreadable-file")
        .unwrap_or_else(|| panic!("{report}"))
        .clone();
    assert!(
        finding["path"]
            .as_str()
            .unwrap_or_default()
            .ends_with("latin1.py")
    );
    assert!(
        finding["message"]
            .as_str()
            .unwrap_or_default()
            .contains("byte offset 32"),
        "{finding}"
    );
    assert_eq!(finding["line"], 2, "{finding}");
    let run = in_project(&project, &["run", "notebooks/latin1.py"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("not valid UTF-8"), "{}", stderr(&run));
}

#[test]
fn an_invalid_jellycell_toml_stops_every_command_and_says_where() {
    let project = TestProject::new(&[("notebooks/ok.py", GOOD)]);
    project.write("jellycell.toml", "[project\nname = \"t\"\n");
    for args in [
        &["run", "notebooks/ok.py"][..],
        &["export", "--to", "md", "-o", "-", "notebooks/ok.py"][..],
        &["preview", "--port", "0", "notebooks/ok.py"][..],
        &["cache", "list"][..],
        &["cache", "verify"][..],
        &["cache", "show", "notebooks/ok.py"][..],
    ] {
        let output = in_project(&project, args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        let message = stderr(&output);
        assert!(
            message.contains("jellycell.toml:1:") && message.contains("not valid TOML"),
            "{args:?}: {message}"
        );
        assert!(output.stdout.is_empty(), "{args:?}");
    }
    let (code, report) = check_json(&project, &["notebooks/ok.py"]);
    assert_eq!(code, 1, "{report}");
    let found = findings(&report);
    assert!(
        found
            .iter()
            .any(|(path, rule, _)| path.ends_with("jellycell.toml") && rule == "config-invalid"),
        "{found:?}"
    );
}

#[test]
fn a_configured_path_out_of_the_project_is_refused_on_its_line() {
    let project = TestProject::new(&[("notebooks/ok.py", GOOD)]);
    project.write(
        "jellycell.toml",
        "[project]\nname = \"t\"\n[paths]\nartifacts = \"../../../../../../etc\"\n",
    );
    let output = in_project(&project, &["--check", "--no-cache", "notebooks/ok.py"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("jellycell.toml:4:13") && text.contains("outside the project root"),
        "{text}"
    );
    let preview = in_project(&project, &["preview", "--port", "0", "notebooks/ok.py"]);
    assert_eq!(preview.status.code(), Some(2));
    assert!(
        stderr(&preview).contains("jellycell.toml:4:13"),
        "{}",
        stderr(&preview)
    );
}

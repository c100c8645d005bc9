//! Nothing of a kernel outlives the process that started it: Ctrl-C (SIGINT) of `run`,
//! SIGTERM of the language server and a client that goes away (stdin closed) each leave no
//! `jellycell-kernel-*` directory (with its HMAC key) in the temp dir and no kernel
//! process. A directory left by `kill -9` (nothing of ours can run then) is removed by the
//! next kernel start. Real binary, real ipykernel, real signals; `TMPDIR` points at a
//! folder of the test's own so that other processes' kernels do not count.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::lsp::{LspClient, uri};
use support::project::{TestProject, configure_kernel_env};

/// A cell that records its kernel's pid, then runs for ten minutes.
const NOTEBOOK: &str = "# %%\nimport os, time\nopen('kernel.pid.tmp', 'w').write(str(os.getpid()))\nos.replace('kernel.pid.tmp', 'kernel.pid')\ntime.sleep(600)\n";

/// How long a kernel may take to start on a loaded machine.
const START: Duration = Duration::from_secs(120);
/// How long the process gets to clean up and exit once asked.
const EXIT: Duration = Duration::from_secs(30);

fn kernel_pid(project: &TestProject) -> u32 {
    let path = project.path("kernel.pid");
    let deadline = Instant::now() + START;
    while Instant::now() < deadline {
        if let Some(pid) = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| text.trim().parse().ok())
        {
            return pid;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the cell never wrote {}", path.display());
}

fn connection_dirs(tmp: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(tmp)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| {
                    path.file_name()
                        .and_then(|name| name.to_str())
                        .is_some_and(|name| name.starts_with("jellycell-kernel-"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// True while `pid` runs (a zombie waiting for its reaper does not count).
fn process_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

fn assert_nothing_left(tmp: &Path, kernel: u32) {
    let deadline = Instant::now() + EXIT;
    while process_running(kernel) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!process_running(kernel), "kernel {kernel} is still running");
    let left = connection_dirs(tmp);
    assert!(left.is_empty(), "left behind: {left:?}");
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn project_with_tmp() -> (TestProject, PathBuf) {
    let project = TestProject::new(&[("notebooks/nb.py", NOTEBOOK)]);
    let tmp = project.path("tmp");
    std::fs::create_dir_all(&tmp).expect("mkdir tmp");
    (project, tmp)
}

#[test]
fn ctrl_c_of_run_kills_the_kernel_and_removes_its_connection_file() {
    let (project, tmp) = project_with_tmp();
    let mut child = project
        .command(&["run", "notebooks/nb.py"])
        .env("TMPDIR", &tmp)
        .stdout(Stdio::null())
        .spawn()
        .expect("run starts");
    let kernel = kernel_pid(&project);
    assert_eq!(
        connection_dirs(&tmp).len(),
        1,
        "the kernel's directory is in TMPDIR"
    );
    signal(child.id(), "INT");
    let deadline = Instant::now() + EXIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("run did not exit after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_nothing_left(&tmp, kernel);
}

/// A server with `nb.py` open and its cell running; the kernel's pid.
fn server_running_a_cell(project: &TestProject, tmp: &Path) -> (LspClient, u32) {
    let tmp = tmp.to_path_buf();
    let mut client = LspClient::spawn_with(|command| {
        configure_kernel_env(command);
        command.env("TMPDIR", &tmp);
    });
    client.initialize(project.root(), json!({}));
    let path = project.path("notebooks/nb.py");
    let uri = uri(&path);
    client.open(&path, "python", NOTEBOOK);
    client.call(
        "workspace/executeCommand",
        json!({"command": "jellycell.runCell", "arguments": [{"uri": uri, "cell": 0}]}),
    );
    let kernel = kernel_pid(project);
    assert_eq!(
        connection_dirs(&tmp).len(),
        1,
        "the kernel's directory is in TMPDIR"
    );
    (client, kernel)
}

#[test]
fn sigterm_of_the_server_kills_its_kernels_and_removes_their_connection_files() {
    let (project, tmp) = project_with_tmp();
    let (mut client, kernel) = server_running_a_cell(&project, &tmp);
    signal(client.pid(), "TERM");
    assert_eq!(client.wait_exit(), Some(143));
    assert_nothing_left(&tmp, kernel);
}

#[test]
fn a_client_that_goes_away_takes_the_servers_kernels_with_it() {
    let (project, tmp) = project_with_tmp();
    let (mut client, kernel) = server_running_a_cell(&project, &tmp);
    client.close_stdin();
    assert_eq!(client.wait_exit(), Some(1), "exit without shutdown");
    assert_nothing_left(&tmp, kernel);
}

#[test]
fn a_connection_file_left_by_kill_9_is_removed_by_the_next_kernel_start() {
    let (project, tmp) = project_with_tmp();
    let mut child = project
        .command(&["run", "notebooks/nb.py"])
        .env("TMPDIR", &tmp)
        .stdout(Stdio::null())
        .spawn()
        .expect("run starts");
    let kernel = kernel_pid(&project);
    signal(child.id(), "KILL");
    child.wait().expect("wait");
    // Nothing of ours ran after SIGKILL: end the orphaned kernel here.
    let _ = Command::new("kill")
        .args(["-KILL", &kernel.to_string()])
        .status();
    let deadline = Instant::now() + EXIT;
    while process_running(kernel) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(connection_dirs(&tmp).len(), 1, "kill -9 leaves it");

    project.write("notebooks/quick.py", "# %%\nprint(1)\n");
    let output = project
        .command(&["run", "notebooks/quick.py"])
        .env("TMPDIR", &tmp)
        .output()
        .expect("run runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let left = connection_dirs(&tmp);
    assert!(left.is_empty(), "left behind: {left:?}");
}

//! Kernels on real Jupyter servers started on 127.0.0.1 (tests/support/servers.rs): the
//! same cells as the local run tests (print, error, image, artifacts saved and loaded, a
//! timeout that interrupts) through `jellycell-lsp run --server`, plus interrupt, restart
//! and the negotiated framing through the `Kernel` handle, against Jupyter Server (v1),
//! Jupyter Server forced to the legacy framing, Kernel Gateway, and a JupyterHub user's
//! server behind the hub's proxy; a server whose root is another folder (inputs uploaded,
//! artifacts fetched back through the Contents API). Then the failures: wrong or missing token, unreachable
//! server, unknown kernel, and the server killed mid-run.

mod support;

use std::process::Output;
use std::time::{Duration, Instant};

use jellycell_lsp::kernel::{
    ExecutionStatus, Kernel, KernelEvent, Output as KernelOutput, RemoteServer,
};
use serde_json::Value;
use support::project::{TestProject, key_of, statuses};
use support::servers::{Engine, Server, free_port, http};
use support::slow_relay::SlowRelay;

const NOTEBOOK: &str = r#"# %% tags=["jc.step", "name=hello"]
print("hello from the server")

# %% tags=["jc.step", "name=picture"]
display({"image/png": "iVBORw0KGgo=", "text/plain": "<image>"}, raw=True)

# %% tags=["jc.step", "name=saves"]
jc.save({"n": 3}, "artifacts/out.json")

# %% tags=["jc.step", "name=loads"]
print(sum(jc.load("data/input.json")))

# %% tags=["jc.step", "name=boom"]
raise ValueError("kaboom")

# %% tags=["jc.step", "name=slow", "timeout=1"]
import time
time.sleep(60)
"#;

fn project() -> TestProject {
    TestProject::with_jellycell_stub(&[
        ("notebooks/remote.py", NOTEBOOK),
        ("data/input.json", "[1, 2, 3]"),
        ("artifacts/.keep", ""),
    ])
}

fn start(engine: Engine, project: &TestProject) -> Server {
    Server::start(engine, project.root(), project.stub_dir())
}

/// `run NOTEBOOK --json --server URL ARGS…` with the server's token in JUPYTER_TOKEN.
fn run_remote(project: &TestProject, server: &Server, args: &[&str]) -> (i32, Value, String) {
    let output = remote_output(project, &server.url, Some(&server.token), args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let report = serde_json::from_str(stdout.trim()).unwrap_or_else(|error| {
        panic!(
            "run printed no JSON ({error}):\nstdout: {stdout}\nstderr: {stderr}\nserver log:\n{}",
            server.log()
        )
    });
    (output.status.code().unwrap_or(-1), report, stderr)
}

fn remote_output(project: &TestProject, url: &str, token: Option<&str>, args: &[&str]) -> Output {
    let mut all = vec!["run", "notebooks/remote.py", "--json", "--server", url];
    all.extend_from_slice(args);
    let mut command = project.command(&all);
    match token {
        Some(token) => command.env("JUPYTER_TOKEN", token),
        None => command.env_remove("JUPYTER_TOKEN"),
    };
    command.output().expect("the binary runs")
}

/// The whole set against one engine.
fn exercise(engine: Engine, framing: &str) {
    let project = project();
    let server = start(engine, &project);

    let (code, first, stderr) = run_remote(&project, &server, &["--keep-going"]);
    assert_eq!(code, 1, "{first}\n{stderr}\n{}", server.log());
    assert_eq!(first["environment"]["kind"], "remote", "{first}");
    assert_eq!(
        statuses(&first),
        ["ok", "ok", "ok", "ok", "error", "error"],
        "{first}"
    );
    assert_eq!(
        project.stdout_of(&key_of(&first, "hello")),
        "hello from the server\n"
    );
    assert_eq!(project.stdout_of(&key_of(&first, "loads")), "6\n");
    let picture = project.manifest(&key_of(&first, "picture"));
    assert_eq!(picture["outputs"][0]["type"], "display_data", "{picture}");
    assert!(
        picture["outputs"][0]["data"]["image/png"].is_object(),
        "{picture}"
    );
    let saves = project.manifest(&key_of(&first, "saves"));
    assert_eq!(
        saves["artifacts"][0]["path"], "artifacts/out.json",
        "{saves}"
    );
    assert_eq!(project.read("artifacts/out.json"), r#"{"n": 3}"#);
    let cells = first["cells"].as_array().cloned().unwrap_or_default();
    assert_eq!(cells[4]["error"]["ename"], "ValueError");
    assert_eq!(cells[5]["error"]["ename"], "Timeout", "{}", cells[5]);

    // The second run: hits need no kernel; the failures run again.
    let (code, second, _) = run_remote(&project, &server, &["--keep-going"]);
    assert_eq!(code, 1, "{second}");
    assert_eq!(
        statuses(&second),
        ["cached", "cached", "cached", "cached", "error", "error"]
    );

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(handle_checks(&server, framing));
}

/// Interrupt, restart and the framing through the `Kernel` handle.
async fn handle_checks(server: &Server, framing: &str) {
    let mut remote = RemoteServer::from_env(&server.url, "JELLYCELL_TEST_NO_SUCH_VAR", "python3");
    remote.token = Some(server.token.clone());
    let kernel = Kernel::start_remote(remote, Duration::from_secs(5))
        .await
        .unwrap_or_else(|error| panic!("start: {error}\n{}", server.log()));
    let (id, negotiated) = kernel.remote_details().await.expect("a remote kernel");
    assert_eq!(negotiated, framing);
    let host = server.url.trim_start_matches("http://").split('/').next();
    assert_eq!(
        kernel.remote_label(),
        host.map(|host| format!("remote: {host}"))
    );

    let result = kernel.execute("x = 41", None).await;
    assert_eq!(result.status, ExecutionStatus::Ok, "{result:?}");

    // Interrupt through REST: the cell ends with KeyboardInterrupt, the variables stay.
    let mut events = kernel.execute_streaming(
        "import time\nprint('sleeping', flush=True)\ntime.sleep(60)",
        None,
    );
    let mut interrupted = false;
    let finished = loop {
        match events.recv().await {
            Some(KernelEvent::Output(KernelOutput::Stream { text, .. }))
                if text.contains("sleeping") && !interrupted =>
            {
                interrupted = true;
                kernel.interrupt().await.expect("interrupt");
            }
            Some(KernelEvent::Finished(result)) => break result,
            Some(_) => {}
            None => panic!("the events ended without a result"),
        }
    };
    assert!(interrupted);
    assert_eq!(finished.status, ExecutionStatus::Error, "{finished:?}");
    assert!(
        finished.outputs.iter().any(|output| matches!(output, KernelOutput::Error { ename, .. } if ename == "KeyboardInterrupt")),
        "{finished:?}"
    );
    let result = kernel.execute("print(x + 1)", None).await;
    assert_eq!(result.stream_text("stdout"), "42\n", "{result:?}");

    // Restart through REST: the same kernel id, no variables.
    kernel.restart().await.expect("restart");
    let (after, _) = kernel.remote_details().await.expect("a remote kernel");
    assert_eq!(after, id);
    let result = kernel.execute("x", None).await;
    assert_eq!(result.status, ExecutionStatus::Error, "{result:?}");
    assert!(kernel.is_alive());

    // Shutdown deletes the kernel on the server.
    kernel.shutdown().await.expect("shutdown");
    let (status, _) = http(
        "GET",
        &format!("{}api/kernels/{id}", server.url),
        Some(&server.token),
        None,
    )
    .expect("the server answers");
    assert_eq!(status, 404, "the kernel was deleted");
}

#[test]
fn jupyter_server_with_the_v1_framing() {
    exercise(Engine::JupyterServer, "v1.kernel.websocket.jupyter.org");
}

#[test]
fn jupyter_server_forced_to_the_legacy_framing() {
    exercise(Engine::JupyterServerLegacy, "legacy JSON");
}

#[test]
fn kernel_gateway() {
    exercise(Engine::KernelGateway, "v1.kernel.websocket.jupyter.org");
}

#[test]
fn a_jupyterhub_user_server_through_the_hub_proxy_with_a_hub_token() {
    // The PyPI configurable-http-proxy strips the subprotocol: legacy framing.
    exercise(Engine::Hub, "legacy JSON");
}

/// A loaded server answers nothing, not even pings, until it has connected the kernel's
/// channels; that silence is not a dropped socket. (Before, the client gave up on the socket
/// after 5 s, opened another, and waited forever for the reply to a request it had sent on
/// the first: CI failed that way on a 2-core machine.)
#[test]
fn a_server_silent_for_seconds_after_the_upgrade_still_starts_the_kernel() {
    let project = project();
    let server = start(Engine::JupyterServerLegacy, &project);
    let relay = SlowRelay::start(server.port, Duration::from_secs(8));
    let url = format!("http://127.0.0.1:{}/", relay.port);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let mut remote = RemoteServer::from_env(&url, "JELLYCELL_TEST_NO_SUCH_VAR", "python3");
        remote.token = Some(server.token.clone());
        remote.start_timeout = Duration::from_secs(40);
        let started = Instant::now();
        let kernel = Kernel::start_remote(remote, Duration::from_secs(5))
            .await
            .unwrap_or_else(|error| panic!("start: {error}\n{}", server.log()));
        // Past the client's 5 s silence limit for a socket that has spoken.
        assert!(
            started.elapsed() >= Duration::from_secs(6),
            "the relay held the socket"
        );
        let result = kernel.execute("print(6 * 7)", None).await;
        assert_eq!(result.stream_text("stdout"), "42\n", "{result:?}");
        kernel.shutdown().await.expect("shutdown");
    });
}

fn no_manifests(project: &TestProject) -> bool {
    std::fs::read_dir(project.path(".jellycell/cache/jellycell-lsp/manifests"))
        .map(|entries| entries.count() == 0)
        .unwrap_or(true)
}

#[test]
fn wrong_or_missing_tokens_unreachable_servers_and_unknown_kernels_name_the_fix() {
    let project = project();
    let server = start(Engine::JupyterServer, &project);
    let stderr = |output: &Output| String::from_utf8_lossy(&output.stderr).to_string();

    let output = remote_output(&project, &server.url, Some("wrong"), &[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("refused") && text.contains("HTTP 403"),
        "{text}"
    );
    assert!(text.contains("fix: set JUPYTER_TOKEN"), "{text}");
    assert!(
        !text.contains("wrong") && !text.contains(&server.token),
        "no token is shown: {text}"
    );

    let output = remote_output(&project, &server.url, None, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("JUPYTER_TOKEN is not set"),
        "{}",
        stderr(&output)
    );

    let unused = format!("http://127.0.0.1:{}/", free_port());
    let output = remote_output(&project, &unused, Some(&server.token), &[]);
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("cannot reach the Jupyter server") && text.contains("fix: start the server"),
        "{text}"
    );

    project.write(
        "jellycell.toml",
        "[project]\nname = \"t\"\n[run]\nkernel = \"no-such-kernel\"\n",
    );
    let output = remote_output(&project, &server.url, Some(&server.token), &[]);
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("no kernel named \"no-such-kernel\"; its kernels: python3"),
        "{text}"
    );

    // The token variable can be renamed.
    project.write(
        "jellycell.toml",
        "[project]\nname = \"t\"\n[run]\ntoken_env = \"MY_HUB_TOKEN\"\n",
    );
    let output = project
        .command(&[
            "run",
            "notebooks/remote.py",
            "--json",
            "--server",
            &server.url,
        ])
        .env_remove("JUPYTER_TOKEN")
        .env("MY_HUB_TOKEN", &server.token)
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(!no_manifests(&project));
}

#[test]
fn a_server_killed_mid_run_is_reported_and_nothing_of_that_cell_is_cached() {
    let project = TestProject::with_jellycell_stub(&[(
        "notebooks/remote.py",
        "# %% tags=[\"name=first\"]\nprint(\"first\")\n\n# %% tags=[\"name=long\"]\n\
         import time, pathlib\npathlib.Path(\"started\").write_text(\"x\")\ntime.sleep(120)\n",
    )]);
    let mut server = start(Engine::JupyterServer, &project);
    let mut child = project
        .command(&[
            "run",
            "notebooks/remote.py",
            "--json",
            "--server",
            &server.url,
        ])
        .env("JUPYTER_TOKEN", &server.token)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !project.path("started").exists() {
        assert!(
            Instant::now() < deadline,
            "the long cell never started:\n{}",
            server.log()
        );
        assert!(child.try_wait().ok().flatten().is_none(), "run ended early");
        std::thread::sleep(Duration::from_millis(100));
    }
    server.kill();
    let output = child.wait_with_output().expect("run ends");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|_| {
        panic!(
            "a report: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert_eq!(statuses(&report), ["ok", "error"], "{report}");
    let long = &report["cells"][1];
    let evalue = long["error"]["evalue"].as_str().unwrap_or_default();
    assert!(
        evalue.contains("lost the connection to the Jupyter server"),
        "{long}"
    );
    assert!(
        evalue.contains("the next run starts a new kernel"),
        "{long}"
    );
    // `first` is cached, `long` is not.
    let first = project.manifest(&key_of(&report, "first"));
    assert_eq!(first["status"], "ok");
    let long_key = key_of(&report, "long");
    assert!(
        !project
            .path(&format!(
                ".jellycell/cache/jellycell-lsp/manifests/{long_key}.json"
            ))
            .exists(),
        "the interrupted cell is not cached"
    );
}

#[test]
fn output_the_server_dropped_for_its_iopub_rate_limit_is_an_error_and_not_cached() {
    let project = TestProject::new(&[(
        "notebooks/remote.py",
        "# %% tags=[\"name=chatty\"]\nimport sys\nfor i in range(3000):\n    print(i, flush=True)\n",
    )]);
    let server = Server::start_with(
        Engine::JupyterServer,
        project.root(),
        None,
        free_port(),
        &[
            "--ServerApp.iopub_msg_rate_limit=50",
            "--ServerApp.rate_limit_window=1",
        ],
    );
    let (code, report, stderr) = run_remote(&project, &server, &[]);
    assert_eq!(code, 1, "{report}\n{stderr}");
    let chatty = &report["cells"][0];
    assert_eq!(chatty["status"], "error", "{chatty}");
    assert_eq!(chatty["error"]["ename"], "IOPubRateExceeded", "{chatty}");
    assert!(
        chatty["error"]["evalue"]
            .as_str()
            .is_some_and(|text| text.contains("iopub_msg_rate_limit")),
        "{chatty}"
    );
    assert!(no_manifests(&project), "a truncated output is not cached");
}

#[test]
fn a_server_that_does_not_share_the_disk_gets_the_loaded_inputs_and_returns_the_saved_artifacts() {
    let project = project();
    // The server's root is another folder: no data/input.json, no artifacts of ours.
    let server_root = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(server_root.path().join("artifacts")).expect("artifacts folder");
    let server = Server::start(
        Engine::JupyterServer,
        server_root.path(),
        project.stub_dir(),
    );
    let on_server = |path: &str| server_root.path().join(path);
    assert!(!on_server("data/input.json").exists());

    let (code, report, stderr) = run_remote(&project, &server, &["--keep-going"]);
    assert_eq!(code, 1, "{report}\n{stderr}\n{}", server.log());
    assert_eq!(
        statuses(&report),
        ["ok", "ok", "ok", "ok", "error", "error"],
        "{report}\n{}",
        server.log()
    );
    // (b) the local-only input went up before the cell, which read it on the server.
    assert_eq!(
        std::fs::read_to_string(on_server("data/input.json")).expect("uploaded"),
        "[1, 2, 3]"
    );
    assert_eq!(project.stdout_of(&key_of(&report, "loads")), "6\n");
    // (a) the artifact written on the server came back and the cache records it.
    assert_eq!(
        std::fs::read_to_string(on_server("artifacts/out.json")).expect("saved on the server"),
        r#"{"n": 3}"#
    );
    assert_eq!(project.read("artifacts/out.json"), r#"{"n": 3}"#);
    let saves = project.manifest(&key_of(&report, "saves"));
    assert_eq!(
        saves["artifacts"][0]["path"], "artifacts/out.json",
        "{saves}"
    );
    assert_eq!(
        saves["artifacts"][0]["blake3"],
        blake3::hash(br#"{"n": 3}"#).to_hex().to_string(),
        "{saves}"
    );
    // Cells that wrote nothing record nothing.
    let hello = project.manifest(&key_of(&report, "hello"));
    assert_eq!(hello["artifacts"], serde_json::json!([]), "{hello}");

    // A changed local input is uploaded again and the cell sees the new content.
    std::fs::write(project.root().join("data/input.json"), "[10, 20]").expect("write");
    let (_, again, _) = run_remote(&project, &server, &["--keep-going"]);
    assert_eq!(
        project.stdout_of(&key_of(&again, "loads")),
        "30\n",
        "{again}"
    );
}

#[test]
fn a_notebooks_kernel_starts_in_its_folder_and_runs_in_the_project_root() {
    let project = TestProject::new(&[
        (
            "notebooks/deep/where.py",
            "# %% tags=[\"name=where\"]\nimport os\nprint(os.getcwd())\n",
        ),
        ("artifacts/.keep", ""),
    ]);
    let server = Server::start_with(
        Engine::JupyterServer,
        project.root(),
        None,
        free_port(),
        &["--ServerApp.log_level=DEBUG"],
    );
    let mut command = project.command(&[
        "run",
        "notebooks/deep/where.py",
        "--json",
        "--server",
        &server.url,
    ]);
    command.env("JUPYTER_TOKEN", &server.token);
    let output = command.output().expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|error| {
        panic!(
            "run printed no JSON ({error}): {stdout}\n{}\n{}",
            String::from_utf8_lossy(&output.stderr),
            server.log()
        )
    });
    assert_eq!(output.status.code(), Some(0), "{report}");
    let root = std::fs::canonicalize(project.root()).expect("the project root");
    // Started where Jupyter starts a notebook's kernel (POST api/kernels `path`)…
    let started_in = format!("'cwd': '{}'", root.join("notebooks/deep").display());
    assert!(
        server.log().contains(&started_in),
        "no {started_in} in the server's log:\n{}",
        server.log()
    );
    // …then moved to the server's root, the project root, where local kernels run.
    assert_eq!(
        project.stdout_of(&key_of(&report, "where")),
        format!("{}\n", root.display())
    );
}

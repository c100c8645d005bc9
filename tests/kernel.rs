//! The kernel handle against a real ipykernel (provisioned by the test support).
//!
//! Most tests share one kernel on one runtime (a kernel start costs ~0.5–0.9 s); its queue
//! keeps their cells apart. Tests that kill, restart or fail to start a kernel get their own.

mod support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use jellycell_lsp::kernel::{
    ExecutionStatus, Kernel, KernelError, KernelEvent, KernelOptions, KernelSpec, Output,
    SpecSearch, plain_traceback,
};
use tokio::runtime::Runtime;

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

/// The venv's prefix `share/jupyter`, where `pip install ipykernel` put the `python3` spec.
fn venv_search() -> SpecSearch {
    let prefix = support::python::python_bin_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    SpecSearch {
        data_dirs: vec![prefix.join("share/jupyter")],
        path: vec![support::python::python_bin_dir()],
    }
}

fn python3_spec() -> KernelSpec {
    venv_search()
        .find("python3")
        .expect("the test venv has a python3 kernel")
}

fn options() -> KernelOptions {
    let mut options = KernelOptions::new(std::env::temp_dir());
    // The shared kernel lives in a static and is never dropped, so its connection file
    // would outlive the test run; keep such leftovers under target/.
    options.runtime_dir = Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
    options
}

fn shared_kernel() -> &'static Kernel {
    static KERNEL: OnceLock<Kernel> = OnceLock::new();
    KERNEL.get_or_init(|| {
        runtime()
            .block_on(Kernel::start_named("python3", venv_search(), options()))
            .expect("kernel starts")
    })
}

fn text_plain(output: &Output) -> Option<&str> {
    match output {
        Output::ExecuteResult { data, .. } | Output::DisplayData { data, .. } => {
            data.get("text/plain")?.as_str()
        }
        _ => None,
    }
}

#[test]
fn print_and_result_arrive_as_stream_and_execute_result() {
    let kernel = shared_kernel();
    let result = runtime().block_on(kernel.execute("print('hi'); 1 + 1", None));
    assert_eq!(result.status, ExecutionStatus::Ok, "{result:?}");
    assert_eq!(result.stream_text("stdout"), "hi\n");
    let value = result.outputs.iter().find_map(text_plain);
    assert_eq!(value, Some("2"));
    assert!(result.execution_count.is_some());
    assert!(matches!(
        result.outputs.last(),
        Some(Output::ExecuteResult { execution_count, .. }) if *execution_count == result.execution_count
    ));
}

#[test]
fn an_exception_gives_an_error_with_a_traceback() {
    let kernel = shared_kernel();
    let result =
        runtime().block_on(kernel.execute("def f():\n    raise ValueError('boom')\nf()", None));
    assert_eq!(result.status, ExecutionStatus::Error);
    let Some(Output::Error {
        ename,
        evalue,
        traceback,
    }) = result.error()
    else {
        panic!("no error output in {result:?}");
    };
    assert_eq!((ename.as_str(), evalue.as_str()), ("ValueError", "boom"));
    let plain = plain_traceback(traceback);
    assert!(plain.contains("raise ValueError('boom')"), "{plain}");
    assert!(plain.contains("ValueError: boom"), "{plain}");
    assert!(!plain.contains('\u{1b}'), "{plain}");
}

#[test]
fn display_data_carries_png_bytes() {
    const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    let code = format!(
        "import base64\nfrom IPython.display import Image, display\n\
         display(Image(data=base64.b64decode('{PNG}')))"
    );
    let result = runtime().block_on(shared_kernel().execute(code, None));
    assert_eq!(result.status, ExecutionStatus::Ok, "{result:?}");
    let png = result.outputs.iter().find_map(|output| match output {
        Output::DisplayData { data, .. } => data.get("image/png")?.as_str(),
        _ => None,
    });
    let png: String = png
        .expect("an image/png display")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert_eq!(png, PNG);
}

#[test]
fn display_updates_and_clears_are_reported_in_order() {
    let code = "from IPython.display import display, clear_output\n\
                handle = display('first', display_id=True)\n\
                handle.update('second')\n\
                clear_output(wait=True)";
    let result = runtime().block_on(shared_kernel().execute(code, None));
    assert_eq!(result.status, ExecutionStatus::Ok, "{result:?}");
    let [
        Output::DisplayData {
            display_id: Some(shown),
            ..
        },
        Output::UpdateDisplayData {
            display_id: Some(updated),
            data,
            ..
        },
        Output::ClearOutput { wait: true },
    ] = result.outputs.as_slice()
    else {
        panic!("unexpected outputs {:?}", result.outputs);
    };
    assert_eq!(shown, updated);
    assert_eq!(
        data.get("text/plain").and_then(|v| v.as_str()),
        Some("'second'")
    );
}

#[test]
fn input_is_refused_instead_of_hanging() {
    let result = runtime()
        .block_on(shared_kernel().execute("input('name? ')", Some(Duration::from_secs(20))));
    assert_eq!(result.status, ExecutionStatus::Error, "{result:?}");
    assert!(
        matches!(result.error(), Some(Output::Error { ename, .. }) if ename == "StdinNotImplementedError"),
        "{result:?}"
    );
}

#[test]
fn an_infinite_loop_is_interrupted_and_the_kernel_lives_on() {
    let kernel = shared_kernel();
    let result = runtime().block_on(async {
        let mut events =
            kernel.execute_streaming("print('looping', flush=True)\nwhile True:\n    pass", None);
        // Interrupt only once our cell's code runs (its first output): before that another
        // test's cell may be running, or ours not yet started on a loaded machine.
        loop {
            match events.recv().await {
                Some(KernelEvent::Output(_)) => break,
                Some(KernelEvent::Finished(result)) => panic!("finished early: {result:?}"),
                Some(_) => {}
                None => panic!("event stream ended"),
            }
        }
        kernel.interrupt().await.expect("interrupt");
        loop {
            match events.recv().await {
                Some(KernelEvent::Finished(result)) => break result,
                Some(_) => {}
                None => panic!("event stream ended"),
            }
        }
    });
    assert_eq!(result.status, ExecutionStatus::Error, "{result:?}");
    assert!(
        matches!(result.error(), Some(Output::Error { ename, .. }) if ename == "KeyboardInterrupt"),
        "{result:?}"
    );
    let after = runtime().block_on(kernel.execute("'still here'", None));
    assert_eq!(after.status, ExecutionStatus::Ok);
}

#[test]
fn a_timeout_interrupts_the_cell_and_reports_timed_out() {
    let kernel = shared_kernel();
    let started = Instant::now();
    let result = runtime().block_on(kernel.execute(
        "import time\nwhile True:\n    time.sleep(0.01)",
        Some(Duration::from_secs(1)),
    ));
    assert_eq!(result.status, ExecutionStatus::TimedOut, "{result:?}");
    assert!(result.failure.is_some());
    // The loop never ends by itself: any bound proves the interrupt; keep it generous.
    assert!(started.elapsed() < Duration::from_secs(300));
    let after = runtime().block_on(kernel.execute("1", None));
    assert_eq!(after.status, ExecutionStatus::Ok);
}

#[test]
fn a_hundred_sequential_executes_all_succeed_in_order() {
    let kernel = shared_kernel();
    runtime().block_on(async {
        kernel.execute("seq_counter = 0", None).await;
        for expected in 1..=100 {
            let result = kernel.execute("seq_counter += 1\nseq_counter", None).await;
            assert_eq!(result.status, ExecutionStatus::Ok, "{result:?}");
            let value = result.outputs.iter().find_map(text_plain);
            assert_eq!(value, Some(expected.to_string().as_str()));
        }
    });
}

#[test]
fn a_second_execute_waits_for_the_first_and_outputs_never_mix() {
    let kernel = shared_kernel();
    let (first, second) = runtime().block_on(async {
        let first = kernel.execute_streaming(
            "import time\nprint('first-start')\ntime.sleep(0.5)\nprint('first-end')",
            None,
        );
        let second = kernel.execute_streaming("print('second')", None);
        let collect = |mut events: tokio::sync::mpsc::UnboundedReceiver<KernelEvent>| async move {
            while let Some(event) = events.recv().await {
                if let KernelEvent::Finished(result) = event {
                    return result;
                }
            }
            panic!("no result");
        };
        tokio::join!(collect(first), collect(second))
    });
    assert_eq!(first.status, ExecutionStatus::Ok);
    assert_eq!(second.status, ExecutionStatus::Ok);
    assert_eq!(first.stream_text("stdout"), "first-start\nfirst-end\n");
    assert_eq!(second.stream_text("stdout"), "second\n");
    let (Some(first_count), Some(second_count)) = (first.execution_count, second.execution_count)
    else {
        panic!("missing execution counts");
    };
    assert!(second_count > first_count);
}

#[test]
fn every_message_from_the_kernel_verifies() {
    let kernel = shared_kernel();
    let rejected = runtime().block_on(async {
        kernel.execute("print('signed')", None).await;
        kernel.rejected_messages().await
    });
    assert_eq!(rejected, 0);
    assert!(kernel.is_alive());
}

#[test]
fn a_killed_kernel_ends_the_cell_as_dead_and_restart_recovers() {
    runtime().block_on(async {
        // A heartbeat far longer than the wait below: the death must be seen from the
        // process exiting, not from missed heartbeats, however loaded the machine.
        let mut options = options();
        options.heartbeat = Duration::from_secs(600);
        let kernel = Kernel::start(python3_spec(), options).await.expect("start");
        let mut events = kernel.execute_streaming(
            "import time\nprint('before', flush=True)\ntime.sleep(60)",
            None,
        );
        while let Some(event) = events.recv().await {
            if matches!(event, KernelEvent::Output(_)) {
                break;
            }
        }
        let pid = kernel.pid().await.expect("pid");
        let status = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let result = loop {
            match tokio::time::timeout(Duration::from_secs(300), events.recv()).await {
                Ok(Some(KernelEvent::Finished(result))) => break result,
                Ok(Some(_)) => {}
                Ok(None) => panic!("event stream ended"),
                Err(_) => panic!("no result 300 s after the kill"),
            }
        };
        assert_eq!(result.status, ExecutionStatus::KernelDied, "{result:?}");
        assert_eq!(result.stream_text("stdout"), "before\n");
        let failure = result.failure.unwrap_or_default();
        assert!(failure.contains("exited"), "{failure}");
        assert!(!kernel.is_alive());

        let refused = kernel.execute("1", None).await;
        assert_eq!(refused.status, ExecutionStatus::KernelDied);

        kernel.restart().await.expect("restart");
        assert!(kernel.is_alive());
        let result = kernel.execute("21 * 2", None).await;
        assert_eq!(result.status, ExecutionStatus::Ok, "{result:?}");
        assert_eq!(result.outputs.iter().find_map(text_plain), Some("42"));

        let file = kernel.connection_file().await.expect("connection file");
        kernel.shutdown().await.expect("shutdown");
        assert!(!kernel.is_alive());
        assert!(!file.exists(), "connection file left behind");
    });
}

fn failing_spec_dir(argv: &[&str]) -> (tempfile::TempDir, SpecSearch) {
    let dir = tempfile::tempdir().expect("temp dir");
    let spec_dir = dir.path().join("kernels/broken");
    std::fs::create_dir_all(&spec_dir).expect("spec dir");
    let json = serde_json::json!({"argv": argv, "display_name": "Broken", "language": "python"});
    std::fs::write(spec_dir.join("kernel.json"), json.to_string()).expect("kernel.json");
    let search = SpecSearch {
        data_dirs: vec![dir.path().to_path_buf()],
        path: Vec::<PathBuf>::new(),
    };
    (dir, search)
}

/// Starts `spec`, which must fail, and returns the error; a start that waits out its
/// startup timeout instead of noticing the dead process fails the test (by the error's
/// kind, not by a time that a loaded machine could exceed).
fn start_fails_without_hanging(spec: KernelSpec) -> KernelError {
    let error = runtime()
        .block_on(Kernel::start(spec, options()))
        .err()
        .expect("start fails");
    assert!(
        !matches!(error, KernelError::StartupTimeout { .. }),
        "waited for the timeout: {error:?}"
    );
    error
}

#[test]
fn a_kernel_that_dies_at_start_is_reported_fast_with_its_stderr() {
    let python = support::python::python().display().to_string();
    let (_dir, search) = failing_spec_dir(&[
        &python,
        "-c",
        "import sys; sys.stderr.write('kernel exploded: no module named foo\\n'); sys.exit(3)",
        "{connection_file}",
    ]);
    let spec = search.find("broken").expect("spec");
    let error = start_fails_without_hanging(spec);
    assert!(
        matches!(error, KernelError::DiedDuringStartup { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("kernel exploded: no module named foo"),
        "{message}"
    );
    assert!(message.contains("exit status: 3"), "{message}");
}

#[test]
fn a_kernel_whose_argv_is_bin_false_is_reported_fast() {
    let (_dir, search) = failing_spec_dir(&["/bin/false", "{connection_file}"]);
    let spec = search.find("broken").expect("spec");
    let error = start_fails_without_hanging(spec);
    let message = error.to_string();
    assert!(message.contains("exited while starting"), "{message}");
}

#[test]
fn a_missing_program_in_argv_says_which() {
    let (_dir, search) = failing_spec_dir(&["/nonexistent/kernel-binary", "{connection_file}"]);
    let spec = search.find("broken").expect("spec");
    let error = runtime()
        .block_on(Kernel::start(spec, options()))
        .err()
        .expect("start fails");
    let message = error.to_string();
    assert!(message.contains("/nonexistent/kernel-binary"), "{message}");
}

#[test]
fn without_a_spec_python3_with_ipykernel_is_the_fallback() {
    let search = SpecSearch {
        data_dirs: Vec::new(),
        path: vec![support::python::python_bin_dir()],
    };
    let spec = search.find("python3").expect("fallback");
    assert_eq!(spec.resource_dir, None);
    assert_eq!(spec.argv[1..3], ["-m", "ipykernel_launcher"]);
}

#[test]
fn kernels_started_at_the_same_time_all_come_up() {
    runtime().block_on(async {
        let starts = (0..3).map(|_| Kernel::start(python3_spec(), options()));
        let kernels = futures_join_all(starts).await;
        for kernel in kernels {
            let kernel = kernel.expect("each concurrent start succeeds");
            let result = kernel.execute("1 + 1", None).await;
            assert_eq!(result.status, ExecutionStatus::Ok);
            kernel.shutdown().await.expect("shutdown");
        }
    });
}

/// Runs the futures concurrently on the runtime and returns their outputs in order.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.expect("task"));
    }
    outputs
}

#[test]
fn a_frozen_kernel_is_declared_dead_by_its_heartbeat() {
    runtime().block_on(async {
        let mut options = options();
        options.heartbeat = Duration::from_millis(300);
        let kernel = Kernel::start(python3_spec(), options).await.expect("start");
        let mut events = kernel.execute_streaming("import time\ntime.sleep(60)", None);
        while let Some(event) = events.recv().await {
            if matches!(event, KernelEvent::Started { .. }) {
                break;
            }
        }
        let pid = kernel.pid().await.expect("pid").to_string();
        // SIGSTOP freezes the process, heartbeat thread included, without ending it.
        let stopped = std::process::Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .expect("kill -STOP");
        assert!(stopped.success());
        let result = loop {
            match tokio::time::timeout(Duration::from_secs(15), events.recv()).await {
                Ok(Some(KernelEvent::Finished(result))) => break result,
                Ok(Some(_)) => {}
                Ok(None) => panic!("event stream ended"),
                Err(_) => panic!("a frozen kernel was not noticed within 15 s"),
            }
        };
        assert_eq!(result.status, ExecutionStatus::KernelDied, "{result:?}");
        assert!(
            result
                .failure
                .as_deref()
                .unwrap_or_default()
                .contains("heartbeat"),
            "{result:?}"
        );
        assert!(!kernel.is_alive());
        let _ = std::process::Command::new("kill")
            .args(["-CONT", &pid])
            .status();
        kernel.shutdown().await.expect("shutdown");
    });
}

#[test]
fn a_message_mode_kernel_is_interrupted_with_an_interrupt_request() {
    runtime().block_on(async {
        let mut spec = python3_spec();
        spec.interrupt_mode = jellycell_lsp::kernel::InterruptMode::Message;
        let kernel = Kernel::start(spec, options()).await.expect("start");
        let result = kernel
            .execute("while True:\n    pass", Some(Duration::from_millis(500)))
            .await;
        assert_eq!(result.status, ExecutionStatus::TimedOut, "{result:?}");
        assert!(
            matches!(result.error(), Some(Output::Error { ename, .. }) if ename == "KeyboardInterrupt"),
            "{result:?}"
        );
        let after = kernel.execute("'alive'", None).await;
        assert_eq!(after.status, ExecutionStatus::Ok);
        kernel.shutdown().await.expect("shutdown");
    });
}

#[test]
fn the_kernel_runs_in_the_given_directory_with_our_environment() {
    let code =
        "import os\nprint(os.getcwd())\nprint(os.environ.get('PYDEVD_DISABLE_FILE_VALIDATION'))";
    let result = runtime().block_on(shared_kernel().execute(code, None));
    let cwd = std::env::temp_dir()
        .canonicalize()
        .expect("temp dir")
        .display()
        .to_string();
    assert_eq!(result.stream_text("stdout"), format!("{cwd}\n1\n"));
}

#[test]
fn a_missing_working_directory_is_named_in_the_error() {
    let options = KernelOptions::new("/nonexistent/project/dir");
    let error = runtime()
        .block_on(Kernel::start(python3_spec(), options))
        .err()
        .expect("start fails");
    let message = error.to_string();
    assert!(message.contains("/nonexistent/project/dir"), "{message}");
}

#[test]
fn a_kernel_that_loses_a_port_race_is_started_again_on_new_ports() {
    let dir = tempfile::tempdir().expect("temp dir");
    let attempts = dir.path().join("attempts");
    // Fails like ipykernel does when another process took one of its ports, once.
    let script = format!(
        "import os, sys\n\
         path = {attempts:?}\n\
         with open(path, 'a') as f: f.write('x')\n\
         if len(open(path).read()) == 1:\n\
         \x20   sys.stderr.write('zmq.error.ZMQError: Address already in use (addr=tcp://127.0.0.1:1)\\n')\n\
         \x20   sys.exit(1)\n\
         os.execv(sys.executable, [sys.executable, '-m', 'ipykernel_launcher', '-f', sys.argv[1]])\n",
        attempts = attempts.display().to_string()
    );
    let python = support::python::python().display().to_string();
    let (_spec_dir, search) = failing_spec_dir(&[&python, "-c", &script, "{connection_file}"]);
    let spec = search.find("broken").expect("spec");
    runtime().block_on(async {
        let kernel = Kernel::start(spec, options())
            .await
            .expect("second attempt starts");
        let result = kernel.execute("'up'", None).await;
        assert_eq!(result.status, ExecutionStatus::Ok);
        kernel.shutdown().await.expect("shutdown");
    });
    assert_eq!(std::fs::read_to_string(&attempts).expect("attempts"), "xx");
}

#[test]
fn a_kernel_can_listen_on_ipc_sockets_in_its_private_directory() {
    // Unix socket paths are short (108 bytes): a runtime directory under the checkout's
    // target/ would make this test depend on where the repository was cloned.
    let runtime_dir = tempfile::tempdir().expect("temp dir");
    runtime().block_on(async {
        let mut options = options();
        options.runtime_dir = Some(runtime_dir.path().to_path_buf());
        options.transport = jellycell_lsp::kernel::KernelTransport::Ipc;
        let kernel = Kernel::start(python3_spec(), options).await.expect("start");
        let file = kernel.connection_file().await.expect("connection file");
        let info: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("json");
        assert_eq!(info["transport"], "ipc");
        let result = kernel.execute("print('over ipc')", None).await;
        assert_eq!(result.stream_text("stdout"), "over ipc\n");
        let dir = file.parent().map(Path::to_path_buf).expect("dir");
        kernel.shutdown().await.expect("shutdown");
        assert!(!dir.exists(), "private directory left behind");
    });
}

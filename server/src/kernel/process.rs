//! The kernel's operating-system process: spawning it in its own process group, watching
//! for its exit, signalling it, killing it, and keeping the tail of what it writes to
//! stdout/stderr for error messages.
//!
//! One supervisor task owns the `Child` and reaps it, so a signal is never sent to a pid
//! that has already been reaped (and possibly reused). The pipes are drained continuously
//! so a chatty kernel never blocks on a full pipe.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, watch};

use super::cleanup::Registration;

/// Lines of kernel output kept for error messages.
const TAIL_LINES: usize = 40;

enum Request {
    Interrupt(oneshot::Sender<std::io::Result<()>>),
    Kill,
}

/// A running (or exited) kernel process.
pub(crate) struct KernelProcess {
    pid: Option<u32>,
    exit: watch::Receiver<Option<String>>,
    requests: mpsc::UnboundedSender<Request>,
    tail: Arc<Mutex<VecDeque<String>>>,
    pipes_closed: watch::Receiver<usize>,
}

impl KernelProcess {
    /// Starts `argv` in `cwd` with `env` added, in a new process group, pipes captured.
    pub(crate) fn spawn(
        argv: &[String],
        env: &BTreeMap<String, String>,
        cwd: &Path,
    ) -> std::io::Result<KernelProcess> {
        let Some((program, args)) = argv.split_first() else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "empty argv",
            ));
        };
        let mut command = Command::new(program);
        command
            .args(args)
            .envs(env)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // Like jupyter_client's `start_new_session`: a terminal's Ctrl+C does not reach the
        // kernel, and interrupts/kills reach every process a wrapper argv starts.
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command.spawn()?;

        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let (pipes_closed_tx, pipes_closed) = watch::channel(0usize);
        let pipes_closed_tx = Arc::new(pipes_closed_tx);
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(keep_tail(stdout, tail.clone(), pipes_closed_tx.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(keep_tail(stderr, tail.clone(), pipes_closed_tx));
        }

        let pid = child.id();
        // Killed at exit even if this process ends by a signal; forgotten once reaped.
        let mut at_exit = UntilReaped(pid.map(Registration::process_group));
        let (exit_tx, exit) = watch::channel(None);
        let (requests, requests_rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            supervise(child, pid, requests_rx, exit_tx).await;
            drop(at_exit.0.take());
        });
        Ok(KernelProcess {
            pid,
            exit,
            requests,
            tail,
            pipes_closed,
        })
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// How the process ended, if it has.
    pub(crate) fn exit_status(&self) -> Option<String> {
        self.exit.borrow().clone()
    }

    pub(crate) fn is_running(&self) -> bool {
        self.exit.borrow().is_none()
    }

    /// Resolves once the process has exited, with how it ended.
    pub(crate) async fn exited(&self) -> String {
        let mut exit = self.exit.clone();
        match exit.wait_for(Option::is_some).await {
            Ok(status) => status.clone().unwrap_or_default(),
            Err(_) => "supervisor stopped".to_string(),
        }
    }

    /// Sends SIGINT to the kernel's process group.
    pub(crate) async fn interrupt(&self) -> std::io::Result<()> {
        let (reply, answer) = oneshot::channel();
        if self.requests.send(Request::Interrupt(reply)).is_err() {
            return Err(std::io::Error::other("the kernel process has exited"));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(std::io::Error::other("the kernel process has exited")))
    }

    /// Kills the process group and waits (at most `limit`) for the process to be reaped.
    pub(crate) async fn kill(&self, limit: Duration) {
        let _ = self.requests.send(Request::Kill);
        let _ = tokio::time::timeout(limit, self.exited()).await;
    }

    /// The last lines the kernel wrote to stdout/stderr. After an exit, waits briefly for
    /// the pipes to drain so the final words (usually the reason) are included.
    pub(crate) async fn output_tail(&self) -> String {
        if !self.is_running() {
            let mut closed = self.pipes_closed.clone();
            let _ = tokio::time::timeout(
                Duration::from_millis(500),
                closed.wait_for(|count| *count >= 2),
            )
            .await;
        }
        let tail = self
            .tail
            .lock()
            .map(|lines| lines.clone())
            .unwrap_or_default();
        tail.into_iter().collect::<Vec<_>>().join("\n")
    }
}

/// Keeps a process group registered for the kill at exit unless the supervisor saw it
/// reaped: when the runtime drops the supervisor first, only the leader got the
/// kill-on-drop signal, and the rest of the group must still go at exit.
struct UntilReaped(Option<Registration>);

impl Drop for UntilReaped {
    fn drop(&mut self) {
        if let Some(registration) = self.0.take() {
            std::mem::forget(registration);
        }
    }
}

async fn keep_tail(
    pipe: impl AsyncRead + Unpin,
    tail: Arc<Mutex<VecDeque<String>>>,
    closed: Arc<watch::Sender<usize>>,
) {
    let mut reader = BufReader::new(pipe);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line).trim_end().to_string();
                if let Ok(mut lines) = tail.lock() {
                    if lines.len() == TAIL_LINES {
                        lines.pop_front();
                    }
                    lines.push_back(text);
                }
            }
        }
    }
    closed.send_modify(|count| *count += 1);
}

async fn supervise(
    mut child: Child,
    pid: Option<u32>,
    mut requests: mpsc::UnboundedReceiver<Request>,
    exit: watch::Sender<Option<String>>,
) {
    loop {
        tokio::select! {
            status = child.wait() => {
                let status = match status {
                    Ok(status) => status.to_string(),
                    Err(error) => format!("wait failed: {error}"),
                };
                exit.send_replace(Some(status));
                // Answer later requests so nobody waits on a reaped process.
                requests.close();
                while let Some(request) = requests.recv().await {
                    if let Request::Interrupt(reply) = request {
                        let _ = reply.send(Err(std::io::Error::other("the kernel process has exited")));
                    }
                }
                return;
            }
            request = requests.recv() => match request {
                Some(Request::Interrupt(reply)) => {
                    let _ = reply.send(signal_group(pid, Signal::Interrupt));
                }
                // `None`: every handle is gone, so nobody can use the kernel any more.
                Some(Request::Kill) | None => {
                    if signal_group(pid, Signal::Kill).is_err() {
                        let _ = child.start_kill();
                    }
                    let status = match child.wait().await {
                        Ok(status) => status.to_string(),
                        Err(error) => format!("wait failed: {error}"),
                    };
                    exit.send_replace(Some(status));
                    return;
                }
            }
        }
    }
}

enum Signal {
    Interrupt,
    Kill,
}

#[cfg(unix)]
fn signal_group(pid: Option<u32>, signal: Signal) -> std::io::Result<()> {
    use rustix::process::{Pid, Signal as UnixSignal, kill_process_group};
    let pid = pid
        .and_then(|pid| i32::try_from(pid).ok())
        .and_then(Pid::from_raw)
        .ok_or_else(|| std::io::Error::other("the kernel process has no pid"))?;
    let signal = match signal {
        Signal::Interrupt => UnixSignal::INT,
        Signal::Kill => UnixSignal::KILL,
    };
    kill_process_group(pid, signal).map_err(std::io::Error::from)
}

#[cfg(not(unix))]
fn signal_group(_pid: Option<u32>, _signal: Signal) -> std::io::Result<()> {
    Err(std::io::Error::other(
        "signals are not supported on this platform; use interrupt_mode \"message\"",
    ))
}

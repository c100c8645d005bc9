//! One running kernel and its connection: running a single execute request to its end,
//! interrupting, shutting down. The kernel is a local process over ZeroMQ or a kernel on a
//! Jupyter server over its websocket (`remote`); the execute loop is the same for both.
//!
//! An execute ends when the kernel has sent both its `execute_reply` and the iopub `status:
//! idle` for that request (outputs may arrive on iopub after the reply), when the kernel
//! process exits or its heartbeat is lost (→ `KernelDied`, without waiting any longer), or
//! when the timeout passes (→ interrupt, then `TimedOut`). An interrupt (a timeout's or the
//! user's) that the kernel does not honour within the grace period (5 s, see
//! `KernelOptions::interrupt_grace`) means the kernel is not responding: code that ignores
//! SIGINT, or native code that never checks for it. Nothing queued behind it could ever
//! run, so the kernel is killed there and then and the cell ends saying so (`TimedOut` after
//! a timeout, else `KernelDied`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jupyter_zmq_client::{ExecuteRequest, InterruptRequest, ShutdownRequest};
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use jupyter_zmq_client::{JupyterMessage, JupyterMessageContent};

use super::client::{Channel, Incoming, Route};
use super::launch::{Launched, launch};
use super::output::{execution_count, output_from_iopub};
use super::remote::{RemoteKernel, RemoteServer};
use super::{
    ExecutionResult, ExecutionStatus, InterruptMode, KernelError, KernelEvent, KernelOptions,
    KernelSpec,
};

/// After the reply, how long the matching `status: idle` may take before we stop waiting.
const IDLE_AFTER_REPLY: Duration = Duration::from_secs(5);
/// How long an `interrupt_request` (message mode) may take to be answered.
const INTERRUPT_REPLY: Duration = Duration::from_secs(5);

/// Where the kernel runs.
enum Backend {
    Local(Box<Launched>),
    Remote(Box<RemoteKernel>),
}

pub(crate) struct Session {
    backend: Backend,
    interrupt_mode: InterruptMode,
    shutdown_timeout: Duration,
    interrupt_grace: Duration,
    /// True while an execute request runs.
    executing: AtomicBool,
    /// When the first interrupt of the running execute was sent, until it ends.
    interrupted: watch::Sender<Option<Instant>>,
}

impl Session {
    pub(crate) async fn start(
        spec: &KernelSpec,
        options: &KernelOptions,
    ) -> Result<Session, KernelError> {
        Ok(Session {
            backend: Backend::Local(Box::new(launch(spec, options).await?)),
            interrupt_mode: spec.interrupt_mode,
            shutdown_timeout: options.shutdown_timeout,
            interrupt_grace: options.interrupt_grace,
            executing: AtomicBool::new(false),
            interrupted: watch::Sender::new(None),
        })
    }

    /// Starts a kernel on a Jupyter server. Interrupts go through its REST API (the
    /// server applies the spec's `interrupt_mode`).
    pub(crate) async fn start_remote(
        server: &RemoteServer,
        interrupt_grace: Duration,
    ) -> Result<Session, KernelError> {
        Ok(Session {
            backend: Backend::Remote(Box::new(RemoteKernel::start(server).await?)),
            interrupt_mode: InterruptMode::Signal,
            shutdown_timeout: server.request_timeout,
            interrupt_grace,
            executing: AtomicBool::new(false),
            interrupted: watch::Sender::new(None),
        })
    }

    pub(crate) fn kernel_info(&self) -> &Value {
        match &self.backend {
            Backend::Local(launched) => &launched.kernel_info,
            Backend::Remote(remote) => remote.kernel_info(),
        }
    }

    /// The remote kernel, if it is one.
    pub(crate) fn remote(&self) -> Option<&RemoteKernel> {
        match &self.backend {
            Backend::Local(_) => None,
            Backend::Remote(remote) => Some(remote),
        }
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        match &self.backend {
            Backend::Local(launched) => launched.process.pid(),
            Backend::Remote(_) => None,
        }
    }

    pub(crate) fn is_alive(&self) -> bool {
        match &self.backend {
            Backend::Local(launched) => {
                launched.process.is_running() && launched.client.heartbeat_ok()
            }
            Backend::Remote(remote) => remote.is_alive(),
        }
    }

    pub(crate) fn rejected_messages(&self) -> u64 {
        match &self.backend {
            Backend::Local(launched) => launched.client.rejected_messages(),
            Backend::Remote(_) => 0,
        }
    }

    fn message(&self, content: impl Into<JupyterMessageContent>) -> JupyterMessage {
        match &self.backend {
            Backend::Local(launched) => launched.client.message(content),
            Backend::Remote(remote) => remote.message(content),
        }
    }

    async fn request(
        &self,
        channel: Channel,
        message: JupyterMessage,
    ) -> Result<Route, KernelError> {
        match &self.backend {
            Backend::Local(launched) => launched.client.request(channel, message).await,
            Backend::Remote(remote) => remote.request(channel, message).await,
        }
    }

    /// Stops a kernel that does not respond: kills the process, or deletes the remote kernel.
    async fn kill(&self) {
        match &self.backend {
            Backend::Local(launched) => launched.process.kill(KILL_WAIT).await,
            Backend::Remote(remote) => remote.delete().await,
        }
    }

    /// Resolves when the kernel can no longer run code, with the reason.
    async fn death(&self) -> String {
        let launched = match &self.backend {
            Backend::Local(launched) => launched,
            Backend::Remote(remote) => return remote.death().await,
        };
        let process = &launched.process;
        tokio::select! {
            status = process.exited() => {
                let tail = process.output_tail().await;
                if tail.is_empty() {
                    format!("the kernel process exited ({status})")
                } else {
                    format!("the kernel process exited ({status}); its last output:\n{tail}")
                }
            }
            () = launched.client.heartbeat_lost() => {
                "the kernel stopped answering its heartbeat".to_string()
            }
        }
    }

    /// Runs `code`, sending `Started` and `Output` events as they arrive; returns the result
    /// (the caller sends `Finished`).
    pub(crate) async fn execute(
        &self,
        code: String,
        timeout: Option<Duration>,
        store_history: bool,
        events: &mpsc::UnboundedSender<KernelEvent>,
    ) -> ExecutionResult {
        let started = Instant::now();
        let mut run = Run::new(started);
        let request = self.message(ExecuteRequest {
            code,
            silent: false,
            store_history,
            user_expressions: None,
            allow_stdin: false,
            stop_on_error: true,
        });
        let mut route = match self.request(Channel::Shell, request).await {
            Ok(route) => route,
            Err(error) => {
                return run.finish(ExecutionStatus::KernelDied, Some(error.to_string()));
            }
        };
        self.interrupted.send_replace(None);
        self.executing.store(true, Ordering::SeqCst);
        let _executing = Executing(self);
        let mut interrupts = self.interrupted.subscribe();
        let deadline = timeout.map(|limit| started + limit);
        let mut timed_out = false;
        let mut unresponsive = false;
        loop {
            if run.done() {
                break;
            }
            let give_up = interrupts
                .borrow_and_update()
                .map(|at| at + self.interrupt_grace);
            let wake = [
                deadline.filter(|_| !timed_out),
                run.reply_at.map(|reply| reply + IDLE_AFTER_REPLY),
                give_up,
            ]
            .into_iter()
            .flatten()
            .min();
            tokio::select! {
                incoming = route.recv() => match incoming {
                    Some(incoming) => run.apply(incoming, events),
                    None => {
                        return run.finish(
                            ExecutionStatus::KernelDied,
                            Some("the connection to the kernel closed".into()),
                        );
                    }
                },
                reason = self.death() => {
                    // Keep what the kernel published before it died.
                    while let Some(incoming) = route.try_recv() {
                        run.apply(incoming, events);
                    }
                    // A lost server says nothing about the code.
                    run.incomplete = self.remote().is_some();
                    return run.finish(ExecutionStatus::KernelDied, Some(reason));
                }
                // An interrupt was sent: wake at the end of its grace.
                Ok(()) = interrupts.changed() => {}
                () = sleep_until(wake) => {
                    let now = Instant::now();
                    if give_up.is_some_and(|give_up| now >= give_up) {
                        // What arrived while we waited (a message-mode interrupt's reply
                        // wait) may be the end of the cell.
                        while let Some(incoming) = route.try_recv() {
                            run.apply(incoming, events);
                        }
                        if run.done() {
                            break;
                        }
                        unresponsive = true;
                        self.kill().await;
                        break;
                    }
                    if !timed_out && deadline.is_some_and(|deadline| now >= deadline) {
                        timed_out = true;
                        let _ = self.interrupt().await;
                        continue;
                    }
                    // The reply came but idle never did; iopub lost it. Finish anyway.
                    break;
                }
            }
        }
        let limit = timeout.unwrap_or_default().as_secs_f64();
        if unresponsive {
            let what = if timed_out {
                format!("the cell exceeded its {limit}s timeout and")
            } else {
                "the cell".to_string()
            };
            let failure = format!(
                "{what} did not stop within {}s of being interrupted (it may ignore SIGINT, or \
                 be stuck in native code), so the kernel was stopped: its variables are lost \
                 and the next run starts a fresh kernel",
                self.interrupt_grace.as_secs_f64()
            );
            let status = if timed_out {
                ExecutionStatus::TimedOut
            } else {
                ExecutionStatus::KernelDied
            };
            return run.finish(status, Some(failure));
        }
        if timed_out {
            let failure = format!("the cell exceeded its {limit}s timeout and was interrupted");
            return run.finish(ExecutionStatus::TimedOut, Some(failure));
        }
        if let Some(failure) = rate_limited(&run.outputs) {
            run.incomplete = true;
            return run.finish(ExecutionStatus::Error, Some(failure));
        }
        let status = match run.reply_status.as_deref() {
            Some("ok") => ExecutionStatus::Ok,
            Some("aborted") => ExecutionStatus::Aborted,
            _ => ExecutionStatus::Error,
        };
        // IPython's UsageError (a bad magic) publishes no error output: its name and
        // message come only in the reply.
        let failure = (status == ExecutionStatus::Error)
            .then(|| run.reply_error.take())
            .flatten();
        run.finish(status, failure)
    }

    /// Interrupts the running cell as the kernelspec asks. The first interrupt of a running
    /// cell starts its grace period (see the module header).
    pub(crate) async fn interrupt(&self) -> Result<(), KernelError> {
        if self.executing.load(Ordering::SeqCst) {
            self.interrupted.send_if_modified(|at| {
                let first = at.is_none();
                if first {
                    *at = Some(Instant::now());
                }
                first
            });
        }
        let launched = match &self.backend {
            Backend::Local(launched) => launched,
            Backend::Remote(remote) => return remote.interrupt().await,
        };
        match self.interrupt_mode {
            InterruptMode::Signal => launched.process.interrupt().await.map_err(KernelError::Io),
            InterruptMode::Message => {
                let mut route = self
                    .request(Channel::Control, self.message(InterruptRequest {}))
                    .await?;
                let _ = tokio::time::timeout(INTERRUPT_REPLY, route.recv()).await;
                Ok(())
            }
        }
    }

    /// Asks the kernel to shut down, waits, then kills its process group if it is still there.
    pub(crate) async fn shutdown(&self) {
        let launched = match &self.backend {
            Backend::Local(launched) => launched,
            Backend::Remote(remote) => return remote.delete().await,
        };
        let process = &launched.process;
        if process.is_running() {
            let request = self.message(ShutdownRequest { restart: false });
            if let Ok(mut route) = self.request(Channel::Control, request).await {
                let _ = tokio::time::timeout(self.shutdown_timeout, async {
                    let _ = route.recv().await;
                    process.exited().await
                })
                .await;
            }
        }
        // The reply comes within milliseconds but the process exits ~200 ms later; kill
        // whatever is left either way.
        process.kill(self.shutdown_timeout).await;
    }

    /// The connection file of a local kernel.
    pub(crate) fn connection_file(&self) -> Option<&std::path::Path> {
        match &self.backend {
            Backend::Local(launched) => Some(launched.connection_file.path()),
            Backend::Remote(_) => None,
        }
    }

    pub(crate) fn exit_status(&self) -> Option<String> {
        match &self.backend {
            Backend::Local(launched) => launched.process.exit_status(),
            Backend::Remote(_) => None,
        }
    }
}

/// How long the kill of a kernel that does not respond waits for it to be reaped.
const KILL_WAIT: Duration = Duration::from_secs(2);

/// Marks the session idle again when an execute ends, by any path.
struct Executing<'a>(&'a Session);

impl Drop for Executing<'_> {
    fn drop(&mut self) {
        self.0.executing.store(false, Ordering::SeqCst);
        self.0.interrupted.send_replace(None);
    }
}

async fn sleep_until(wake: Option<Instant>) {
    match wake {
        Some(wake) => tokio::time::sleep_until(wake).await,
        None => std::future::pending().await,
    }
}

/// The error for outputs a Jupyter server dropped: it replaces what passes its IOPub rate
/// limits (1000 messages/s, 1 MB/s of stream text by default) with one stderr notice.
fn rate_limited(outputs: &[super::Output]) -> Option<String> {
    let notice = outputs.iter().find_map(|output| match output {
        super::Output::Stream { name, text }
            if name == "stderr"
                && (text.contains("IOPub message rate exceeded")
                    || text.contains("IOPub data rate exceeded")) =>
        {
            Some(text)
        }
        _ => None,
    })?;
    let which = if notice.contains("data rate") {
        "iopub_data_rate_limit"
    } else {
        "iopub_msg_rate_limit"
    };
    Some(format!(
        "IOPubRateExceeded: the Jupyter server dropped some of this cell's output (it \
         exceeded the server's IOPub rate limit), so the result was not cached; print less, \
         or start the server with a higher --ServerApp.{which}"
    ))
}

/// The state of one execute request as messages arrive.
struct Run {
    started: Instant,
    outputs: Vec<super::Output>,
    execution_count: Option<u32>,
    reply_status: Option<String>,
    /// `ename: evalue` of an error reply.
    reply_error: Option<String>,
    reply_at: Option<Instant>,
    idle: bool,
    /// See [`ExecutionResult::incomplete`].
    incomplete: bool,
}

impl Run {
    fn new(started: Instant) -> Run {
        Run {
            started,
            outputs: Vec::new(),
            execution_count: None,
            reply_status: None,
            reply_error: None,
            reply_at: None,
            idle: false,
            incomplete: false,
        }
    }

    fn done(&self) -> bool {
        self.reply_status.is_some() && self.idle
    }

    fn apply(&mut self, incoming: Incoming, events: &mpsc::UnboundedSender<KernelEvent>) {
        let Incoming {
            channel,
            msg_type,
            content,
        } = incoming;
        match (channel, msg_type.as_str()) {
            (Channel::Shell, "execute_reply") => {
                let status = content.get("status").and_then(Value::as_str);
                self.reply_status = Some(status.unwrap_or("error").to_string());
                if status == Some("error") {
                    let text = |key: &str| content.get(key).and_then(Value::as_str);
                    self.reply_error = text("ename")
                        .map(|ename| format!("{ename}: {}", text("evalue").unwrap_or_default()));
                }
                self.reply_at = Some(Instant::now());
                self.execution_count = self.execution_count.or(execution_count(&content));
            }
            (Channel::Iopub, "status")
                if content.get("execution_state").and_then(Value::as_str) == Some("idle") =>
            {
                self.idle = true;
            }
            (Channel::Iopub, "execute_input") => {
                self.execution_count = execution_count(&content);
                let _ = events.send(KernelEvent::Started {
                    execution_count: self.execution_count,
                });
            }
            (Channel::Iopub, msg_type) => {
                if let Some(output) = output_from_iopub(msg_type, &content) {
                    let _ = events.send(KernelEvent::Output(output.clone()));
                    self.outputs.push(output);
                }
            }
            _ => {}
        }
    }

    fn finish(self, status: ExecutionStatus, failure: Option<String>) -> ExecutionResult {
        ExecutionResult {
            status,
            outputs: self.outputs,
            execution_count: self.execution_count,
            duration: self.started.elapsed(),
            failure,
            incomplete: self.incomplete,
        }
    }
}

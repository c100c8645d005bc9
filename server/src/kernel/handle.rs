//! `Kernel`: the one async handle the runner and the language server share.
//!
//! Owns the queue (execute requests run one at a time, in the order they were made, so
//! outputs of two cells are never mixed), restart (the running session is shut down and a
//! new one started from the same spec; a live remote kernel is restarted in place over
//! REST) and shutdown. Cloning a `Kernel` is cheap and every
//! clone talks to the same kernel; the process is killed when the last clone is dropped.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{RwLock, mpsc};

use super::remote::{RemoteFiles, RemoteServer};
use super::session::Session;
use super::{
    ExecutionResult, ExecutionStatus, KernelError, KernelEvent, KernelOptions, KernelSpec,
    SpecSearch,
};

/// A running Jupyter kernel.
#[derive(Clone)]
pub struct Kernel {
    inner: Arc<Inner>,
}

/// What a (re)start starts.
enum Target {
    Local {
        spec: KernelSpec,
        options: KernelOptions,
    },
    Remote {
        server: RemoteServer,
        interrupt_grace: Duration,
    },
}

impl Target {
    async fn start(&self) -> Result<Session, KernelError> {
        match self {
            Target::Local { spec, options } => Session::start(spec, options).await,
            Target::Remote {
                server,
                interrupt_grace,
            } => Session::start_remote(server, *interrupt_grace).await,
        }
    }
}

struct Inner {
    target: Target,
    /// `None` after shutdown. Restart holds the write lock, so queued requests wait for the
    /// new session rather than failing.
    session: Arc<RwLock<Option<Arc<Session>>>>,
    jobs: mpsc::UnboundedSender<Job>,
}

struct Job {
    code: String,
    timeout: Option<Duration>,
    /// Kept out of the history: helper code the user never wrote.
    hidden: bool,
    events: mpsc::UnboundedSender<KernelEvent>,
}

impl Kernel {
    /// Launches `spec` and returns once the kernel answers (or an error saying why not,
    /// within about 5 s for a kernel that exits while starting).
    pub async fn start(spec: KernelSpec, options: KernelOptions) -> Result<Kernel, KernelError> {
        Kernel::start_target(Target::Local { spec, options }).await
    }

    /// Starts a kernel on the Jupyter server `server` and returns once it answers.
    pub async fn start_remote(
        server: RemoteServer,
        interrupt_grace: Duration,
    ) -> Result<Kernel, KernelError> {
        Kernel::start_target(Target::Remote {
            server,
            interrupt_grace,
        })
        .await
    }

    async fn start_target(target: Target) -> Result<Kernel, KernelError> {
        let session = target.start().await?;
        let session = Arc::new(RwLock::new(Some(Arc::new(session))));
        let (jobs, queue) = mpsc::unbounded_channel();
        tokio::spawn(work(queue, session.clone()));
        Ok(Kernel {
            inner: Arc::new(Inner {
                target,
                session,
                jobs,
            }),
        })
    }

    /// Finds the kernel called `name` with `search` (off the async executor, since the
    /// python3 fallback runs Python once) and starts it.
    pub async fn start_named(
        name: &str,
        search: SpecSearch,
        options: KernelOptions,
    ) -> Result<Kernel, KernelError> {
        let name = name.to_string();
        let spec = tokio::task::spawn_blocking(move || search.find(&name))
            .await
            .map_err(|error| KernelError::Io(std::io::Error::other(error)))??;
        Kernel::start(spec, options).await
    }

    /// The local kernel's spec (`None` for a remote kernel).
    pub fn spec(&self) -> Option<&KernelSpec> {
        match &self.inner.target {
            Target::Local { spec, .. } => Some(spec),
            Target::Remote { .. } => None,
        }
    }

    /// `remote: <host>` for a kernel on a Jupyter server, `None` for a local one.
    pub fn remote_label(&self) -> Option<String> {
        match &self.inner.target {
            Target::Local { .. } => None,
            Target::Remote { server, .. } => Some(server.label()),
        }
    }

    /// For a remote kernel: its server's files (Contents API); `None` for a local kernel.
    pub fn remote_files(&self) -> Option<RemoteFiles> {
        match &self.inner.target {
            Target::Local { .. } => None,
            Target::Remote { server, .. } => RemoteFiles::new(server),
        }
    }

    /// For a remote kernel: resolves when the connection to its server is lost for good
    /// (after the one reconnect), with a message saying so; never for a local kernel, or
    /// once this kernel is shut down or restarted (the caller watches the new one). Holds no
    /// clone of the kernel, so it keeps nothing alive.
    pub fn connection_lost(&self) -> impl std::future::Future<Output = Option<String>> + use<> {
        let session = self.inner.session.clone();
        async move {
            let (mut loss, url) = {
                let slot = session.read().await;
                let remote = slot.as_ref()?.remote()?;
                (remote.loss(), remote.server_url())
            };
            let reason = loss.wait_for(Option::is_some).await.ok()?.clone()?;
            Some(format!(
                "lost the connection to the Jupyter server at {url} ({reason}); the next run \
                 starts a new kernel"
            ))
        }
    }

    /// For a remote kernel: its id on the server and the websocket framing in use.
    pub async fn remote_details(&self) -> Option<(String, &'static str)> {
        let session = self.session().await?;
        let remote = session.remote()?;
        Some((remote.id().to_string(), remote.framing()))
    }

    /// Runs `code`, returning a receiver of events as they happen: `Started`, each `Output`
    /// as the kernel publishes it, then one `Finished`. Requests made while another runs
    /// wait their turn. With a `timeout`, the kernel is interrupted when it passes and the
    /// result is `TimedOut`.
    pub fn execute_streaming(
        &self,
        code: impl Into<String>,
        timeout: Option<Duration>,
    ) -> mpsc::UnboundedReceiver<KernelEvent> {
        self.queue(code.into(), timeout, false)
    }

    fn queue(
        &self,
        code: String,
        timeout: Option<Duration>,
        hidden: bool,
    ) -> mpsc::UnboundedReceiver<KernelEvent> {
        let (events, receiver) = mpsc::unbounded_channel();
        let job = Job {
            code,
            timeout,
            hidden,
            events,
        };
        if let Err(mpsc::error::SendError(job)) = self.inner.jobs.send(job) {
            let _ = job.events.send(KernelEvent::Finished(not_running()));
        }
        receiver
    }

    /// Runs `code` and collects the result (see [`Kernel::execute_streaming`]).
    pub async fn execute(
        &self,
        code: impl Into<String>,
        timeout: Option<Duration>,
    ) -> ExecutionResult {
        let mut events = self.execute_streaming(code, timeout);
        while let Some(event) = events.recv().await {
            if let KernelEvent::Finished(result) = event {
                return result;
            }
        }
        not_running()
    }

    /// Runs helper code the user did not write (`store_history` false): the execution
    /// count does not move and `In`, `Out` and `_` are left alone. Queued like any other
    /// request.
    pub async fn execute_hidden(
        &self,
        code: impl Into<String>,
        timeout: Option<Duration>,
    ) -> ExecutionResult {
        let mut events = self.queue(code.into(), timeout, true);
        while let Some(event) = events.recv().await {
            if let KernelEvent::Finished(result) = event {
                return result;
            }
        }
        not_running()
    }

    /// Interrupts the cell that is running (SIGINT or `interrupt_request`, per the spec's
    /// `interrupt_mode`). The cell then ends, usually with a `KeyboardInterrupt` error.
    pub async fn interrupt(&self) -> Result<(), KernelError> {
        let session = self.session().await.ok_or(KernelError::NotRunning)?;
        session.interrupt().await
    }

    /// Shuts the current kernel down (a running cell ends with `KernelDied`) and starts a
    /// fresh one from the same spec. Also brings back a kernel that died or was shut down.
    pub async fn restart(&self) -> Result<(), KernelError> {
        let mut slot = self.inner.session.write().await;
        if let Some(current) = slot.as_ref()
            && current.is_alive()
            && let Some(remote) = current.remote()
        {
            return remote.restart().await;
        }
        if let Some(old) = slot.take() {
            old.shutdown().await;
        }
        let fresh = self.inner.target.start().await?;
        *slot = Some(Arc::new(fresh));
        Ok(())
    }

    /// Asks the kernel to shut down, waits, then kills it. Later executes fail with
    /// `KernelDied` until [`Kernel::restart`].
    pub async fn shutdown(&self) -> Result<(), KernelError> {
        let old = self.inner.session.write().await.take();
        if let Some(old) = old {
            old.shutdown().await;
        }
        Ok(())
    }

    /// True while the process runs and answers its heartbeat (false during a restart).
    pub fn is_alive(&self) -> bool {
        match self.inner.session.try_read() {
            Ok(slot) => slot.as_ref().is_some_and(|session| session.is_alive()),
            Err(_) => false,
        }
    }

    /// How the kernel process ended, if it has.
    pub async fn exit_status(&self) -> Option<String> {
        self.session()
            .await
            .and_then(|session| session.exit_status())
    }

    /// The kernel's `kernel_info_reply` content (language, implementation, protocol version).
    pub async fn kernel_info(&self) -> Option<Value> {
        Some(self.session().await?.kernel_info().clone())
    }

    /// The connection file (for `jupyter console --existing FILE` while debugging).
    pub async fn connection_file(&self) -> Option<std::path::PathBuf> {
        Some(self.session().await?.connection_file()?.to_path_buf())
    }

    /// The kernel process id.
    pub async fn pid(&self) -> Option<u32> {
        self.session().await?.pid()
    }

    /// Incoming messages dropped because their signature or framing was bad.
    pub async fn rejected_messages(&self) -> u64 {
        match self.session().await {
            Some(session) => session.rejected_messages(),
            None => 0,
        }
    }

    async fn session(&self) -> Option<Arc<Session>> {
        self.inner.session.read().await.clone()
    }
}

/// Runs queued requests one after another until every `Kernel` clone is gone.
async fn work(mut queue: mpsc::UnboundedReceiver<Job>, slot: Arc<RwLock<Option<Arc<Session>>>>) {
    while let Some(job) = queue.recv().await {
        let session = slot.read().await.clone();
        let result = match session {
            Some(session) => {
                session
                    .execute(job.code, job.timeout, !job.hidden, &job.events)
                    .await
            }
            None => not_running(),
        };
        let _ = job.events.send(KernelEvent::Finished(result));
    }
    if let Some(session) = slot.write().await.take() {
        session.shutdown().await;
    }
}

fn not_running() -> ExecutionResult {
    ExecutionResult {
        status: ExecutionStatus::KernelDied,
        outputs: Vec::new(),
        execution_count: None,
        duration: Duration::ZERO,
        failure: Some(KernelError::NotRunning.to_string()),
        incomplete: false,
    }
}

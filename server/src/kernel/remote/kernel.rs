//! One kernel on a remote server: started over REST, driven over its websocket, interrupted
//! and restarted over REST, deleted at shutdown (or when it does not respond).
//!
//! Startup ends when the kernel answers a `kernel_info_request` on the websocket. A REST
//! restart keeps the kernel id and the websocket; a cell running then ends as if the kernel
//! died. Once the websocket is lost for good (see `channels`) the kernel counts as dead and
//! the handle's next restart starts a new one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jupyter_protocol::{JupyterMessage, JupyterMessageContent, KernelInfoRequest};
use serde_json::{Value, json};
use tokio::sync::watch;

use super::super::KernelError;
use super::super::client::{Channel, Route, RouteTable, register};
use super::RemoteServer;
use super::channels::{Channels, Endpoint, OpenError, describe};
use super::frame::{Framing, WireMessage};
use super::http::Http;
use super::rest::{Rest, refused, unreachable};
use super::url::ServerUrl;

pub(crate) struct RemoteKernel {
    rest: Rest,
    id: String,
    /// Our Jupyter session (the websocket's `session_id` and every header's `session`).
    session: String,
    channels: Channels,
    table: Arc<RouteTable>,
    kernel_info: Value,
    /// Set once the kernel was deleted (shutdown, or killed for not responding).
    deleted: AtomicBool,
    /// Counts REST restarts, so a running cell notices one.
    restarts: watch::Sender<u64>,
}

impl RemoteKernel {
    /// Starts a kernel on `server` and connects to it.
    pub(crate) async fn start(server: &RemoteServer) -> Result<RemoteKernel, KernelError> {
        let url = ServerUrl::parse(&server.url).map_err(|reason| {
            KernelError::Remote(format!(
                "{reason}; fix `server` under [run] in jellycell.toml (or --server)"
            ))
        })?;
        let http = Http {
            url,
            token: server.token.clone(),
            timeout: server.request_timeout,
        };
        let rest = Rest {
            http: http.clone(),
            server: server.clone(),
        };
        let id = rest.start_kernel().await?;
        match connect(&rest, &id, server).await {
            Ok(kernel) => Ok(kernel),
            Err(error) => {
                // Do not leave a kernel behind that nobody will use.
                let _ = rest.delete(&id).await;
                Err(error)
            }
        }
    }

    pub(crate) fn kernel_info(&self) -> &Value {
        &self.kernel_info
    }

    pub(crate) fn framing(&self) -> &'static str {
        match self.channels.framing() {
            Framing::V1 => "v1.kernel.websocket.jupyter.org",
            Framing::Legacy => "legacy JSON",
        }
    }

    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// A new request message from our session.
    pub(crate) fn message(&self, content: impl Into<JupyterMessageContent>) -> JupyterMessage {
        let mut message = JupyterMessage::new(content, None);
        message.header.username = "jellycell".to_string();
        message.header.session.clone_from(&self.session);
        message
    }

    /// Registers `message` for routing, then sends it on `channel`.
    pub(crate) async fn request(
        &self,
        channel: Channel,
        message: JupyterMessage,
    ) -> Result<Route, KernelError> {
        send(&self.channels, &self.table, channel, message)
    }

    /// Follows the connection's loss (see `Channels::watch`).
    pub(crate) fn loss(&self) -> watch::Receiver<Option<String>> {
        self.channels.watch()
    }

    /// The server's base URL, for messages.
    pub(crate) fn server_url(&self) -> String {
        self.rest.server.display_url()
    }

    pub(crate) fn is_alive(&self) -> bool {
        !self.deleted.load(Ordering::SeqCst) && self.channels.lost_reason().is_none()
    }

    /// Resolves when the kernel can no longer run code (the connection is lost, or a restart
    /// replaced its state), with the reason.
    pub(crate) async fn death(&self) -> String {
        let mut restarts = self.restarts.subscribe();
        tokio::select! {
            reason = self.channels.lost() => format!(
                "lost the connection to the Jupyter server at {} ({reason}); the next run \
                 starts a new kernel",
                self.rest.server.display_url()
            ),
            Ok(()) = restarts.changed() => "the kernel was restarted".to_string(),
        }
    }

    /// `POST …/interrupt` (the server signals or messages the kernel as its spec says).
    pub(crate) async fn interrupt(&self) -> Result<(), KernelError> {
        self.rest.interrupt(&self.id).await
    }

    /// `POST …/restart`: the same kernel id with a fresh interpreter.
    pub(crate) async fn restart(&self) -> Result<(), KernelError> {
        self.restarts.send_modify(|count| *count += 1);
        self.rest.restart(&self.id).await?;
        // The kernel answers again once it is back.
        wait_for_kernel_info(
            &self.channels,
            &self.table,
            &self.session,
            self.rest.server.start_timeout,
        )
        .await
        .map(|_| ())
    }

    /// `DELETE …`: the server shuts the kernel down.
    pub(crate) async fn delete(&self) {
        if !self.deleted.swap(true, Ordering::SeqCst) {
            let _ = self.rest.delete(&self.id).await;
        }
    }
}

async fn connect(
    rest: &Rest,
    id: &str,
    server: &RemoteServer,
) -> Result<RemoteKernel, KernelError> {
    let session = uuid::Uuid::new_v4().to_string();
    let table: Arc<RouteTable> = Arc::default();
    let endpoint = Endpoint {
        http: rest.http.clone(),
        kernel_id: id.to_string(),
        session_id: session.clone(),
        timeout: server.start_timeout,
    };
    let channels = Channels::open(endpoint, table.clone())
        .await
        .map_err(|error| open_error(server, &error))?;
    let kernel_info =
        wait_for_kernel_info(&channels, &table, &session, server.start_timeout).await?;
    Ok(RemoteKernel {
        rest: Rest {
            http: rest.http.clone(),
            server: rest.server.clone(),
        },
        id: id.to_string(),
        session,
        channels,
        table,
        kernel_info,
        deleted: AtomicBool::new(false),
        restarts: watch::Sender::new(0),
    })
}

fn open_error(server: &RemoteServer, error: &OpenError) -> KernelError {
    match error {
        OpenError::Unreachable(why) => unreachable(server, why),
        OpenError::Refused(status, body) => refused(
            server,
            "open the kernel's websocket",
            *status,
            if body.trim().is_empty() {
                "refused"
            } else {
                body.trim()
            },
        ),
        OpenError::Protocol(_) => KernelError::Remote(format!(
            "the Jupyter server at {} did not open the kernel's websocket: {}",
            server.display_url(),
            describe(error)
        )),
    }
}

/// The first wait for a `kernel_info_reply` before the request is sent again; each later
/// wait doubles, up to [`LAST_READY_ATTEMPT`]. A server can drop a request that reaches a
/// kernel still connecting its channels (Jupyter Server does, now and then, with the
/// legacy framing), so one request is not enough; the growing wait lets a slow network
/// answer before its request is replaced.
const FIRST_READY_ATTEMPT: Duration = Duration::from_secs(1);
const LAST_READY_ATTEMPT: Duration = Duration::from_secs(8);

/// Sends `kernel_info_request`s until one is answered (as jupyter_client's
/// `wait_for_ready` does) or `timeout` passes.
async fn wait_for_kernel_info(
    channels: &Channels,
    table: &Arc<RouteTable>,
    session: &str,
    timeout: Duration,
) -> Result<Value, KernelError> {
    let wait = async {
        let mut attempt = FIRST_READY_ATTEMPT;
        loop {
            let mut message = JupyterMessage::new(KernelInfoRequest {}, None);
            message.header.username = "jellycell".to_string();
            message.header.session = session.to_string();
            let mut route = send(channels, table, Channel::Shell, message)?;
            let answered = async {
                loop {
                    tokio::select! {
                        incoming = route.recv() => match incoming {
                            Some(incoming) if incoming.msg_type == "kernel_info_reply" => {
                                return Ok(incoming.content);
                            }
                            Some(_) => {}
                            None => {
                                return Err(KernelError::Connection("the websocket closed".into()));
                            }
                        },
                        reason = channels.lost() => return Err(KernelError::Connection(reason)),
                    }
                }
            };
            if let Ok(answer) = tokio::time::timeout(attempt, answered).await {
                return answer;
            }
            attempt = (attempt * 2).min(LAST_READY_ATTEMPT);
        }
    };
    tokio::time::timeout(timeout, wait)
        .await
        .unwrap_or_else(|_| {
            Err(KernelError::Remote(format!(
                "the remote kernel did not answer within {}s of starting; raise \
             `start_timeout_seconds` under [run] if the server is slow to start kernels",
                timeout.as_secs()
            )))
        })
}

fn send(
    channels: &Channels,
    table: &Arc<RouteTable>,
    channel: Channel,
    message: JupyterMessage,
) -> Result<Route, KernelError> {
    let route = register(table, message.header.msg_id.clone());
    let channel = match channel {
        Channel::Control => "control",
        Channel::Shell | Channel::Iopub => "shell",
    };
    let wire = WireMessage {
        channel: channel.to_string(),
        header: serde_json::to_value(&message.header).unwrap_or_else(|_| json!({})),
        parent_header: json!({}),
        metadata: message.metadata.clone(),
        content: serde_json::to_value(&message.content).unwrap_or_else(|_| json!({})),
    };
    channels.send(wire).map_err(KernelError::Connection)?;
    Ok(route)
}

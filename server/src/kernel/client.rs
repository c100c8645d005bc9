//! The client side of the kernel's ZeroMQ sockets: shell, control, iopub and heartbeat.
//!
//! Owns connecting (with jupyter-zmq-client, so every outgoing message is signed), one task
//! per incoming channel that verifies each message's HMAC before reading it, and routing by
//! `parent_header.msg_id` to whoever registered that request. iopub is drained continuously
//! whether or not anyone listens (iopub is lossy when a subscriber falls behind), and messages
//! nobody asked for (startup `status: starting`, replies to abandoned requests) are dropped.
//! stdin is never connected: every request says `allow_stdin: false`, so `input()` fails in
//! the kernel instead of waiting for an answer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jupyter_zmq_client::{
    ClientHeartbeatConnection, Connection, ConnectionInfo, DealerSendConnection, JupyterMessage,
    JupyterMessageContent, RawMessage, create_client_control_connection,
    create_client_heartbeat_connection, create_client_iopub_connection,
    create_client_shell_connection_with_identity, peer_identity_for_session,
};
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use zeromq::SocketRecv;

use super::KernelError;

/// The channel a message arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    Shell,
    Control,
    Iopub,
}

/// A verified message, reduced to what callers route on.
#[derive(Debug, Clone)]
pub(crate) struct Incoming {
    pub(crate) channel: Channel,
    pub(crate) msg_type: String,
    pub(crate) content: Value,
}

/// Who waits for the messages of which request (by `msg_id`). The websocket client of
/// `remote` routes through one too.
pub(crate) type RouteTable = Mutex<HashMap<String, mpsc::UnboundedSender<Incoming>>>;

/// Registers `msg_id` in `table`: the route receives every message whose parent it is.
pub(crate) fn register(table: &Arc<RouteTable>, msg_id: String) -> Route {
    let (sender, receiver) = mpsc::unbounded_channel();
    if let Ok(mut table) = table.lock() {
        table.insert(msg_id.clone(), sender);
    }
    Route {
        msg_id,
        receiver,
        table: table.clone(),
    }
}

/// Hands `incoming` to whoever registered `parent_id`; dropped if nobody did.
pub(crate) fn dispatch(table: &RouteTable, parent_id: &str, incoming: Incoming) {
    let sender = table
        .lock()
        .ok()
        .and_then(|table| table.get(parent_id).cloned());
    if let Some(sender) = sender {
        let _ = sender.send(incoming);
    }
}

/// Everything the kernel sends in reply to one request. Unregisters itself when dropped.
pub(crate) struct Route {
    msg_id: String,
    receiver: mpsc::UnboundedReceiver<Incoming>,
    table: Arc<RouteTable>,
}

impl Route {
    /// The next message for this request; `None` once the client is gone.
    pub(crate) async fn recv(&mut self) -> Option<Incoming> {
        self.receiver.recv().await
    }

    /// A message already delivered, without waiting.
    pub(crate) fn try_recv(&mut self) -> Option<Incoming> {
        self.receiver.try_recv().ok()
    }
}

impl Drop for Route {
    fn drop(&mut self) {
        if let Ok(mut table) = self.table.lock() {
            table.remove(&self.msg_id);
        }
    }
}

/// Connected sockets plus their reader tasks.
pub(crate) struct Client {
    session: String,
    shell: tokio::sync::Mutex<DealerSendConnection>,
    control: tokio::sync::Mutex<DealerSendConnection>,
    table: Arc<RouteTable>,
    heartbeat_ok: watch::Receiver<bool>,
    rejected: Arc<AtomicU64>,
    tasks: Vec<JoinHandle<()>>,
}

/// Consecutive missed pongs after which the kernel counts as dead.
const HEARTBEAT_MISSES: u32 = 3;

impl Client {
    /// Connects all channels. zmq.rs `connect` waits until the kernel listens, so the caller
    /// races this against the kernel process exiting.
    /// `heartbeat` is how long a pong may take; pings go out that often too.
    pub(crate) async fn connect(
        info: &ConnectionInfo,
        heartbeat: Duration,
    ) -> Result<Client, KernelError> {
        let session = uuid::Uuid::new_v4().to_string();
        let identity = peer_identity_for_session(&session).map_err(connection_error)?;
        let channel = |name: &'static str| {
            move |error: jupyter_zmq_client::RuntimeError| {
                KernelError::Connection(format!("{name} channel: {error}"))
            }
        };
        let heartbeat_period = heartbeat;
        let (shell, control, iopub, heartbeat) = tokio::try_join!(
            async {
                create_client_shell_connection_with_identity(info, &session, identity)
                    .await
                    .map_err(channel("shell"))
            },
            async {
                create_client_control_connection(info, &session)
                    .await
                    .map_err(channel("control"))
            },
            async {
                create_client_iopub_connection(info, "", &session)
                    .await
                    .map_err(channel("iopub"))
            },
            async {
                create_client_heartbeat_connection(info)
                    .await
                    .map_err(channel("heartbeat"))
            },
        )?;

        let table: Arc<RouteTable> = Arc::default();
        let rejected = Arc::new(AtomicU64::new(0));
        let (shell_send, shell_recv) = shell.split();
        let (control_send, control_recv) = control.split();
        let (heartbeat_tx, heartbeat_ok) = watch::channel(true);
        let tasks = vec![
            tokio::spawn(drain(
                shell_recv,
                Channel::Shell,
                table.clone(),
                rejected.clone(),
            )),
            tokio::spawn(drain(
                control_recv,
                Channel::Control,
                table.clone(),
                rejected.clone(),
            )),
            tokio::spawn(drain(
                iopub,
                Channel::Iopub,
                table.clone(),
                rejected.clone(),
            )),
            tokio::spawn(beat(
                heartbeat,
                heartbeat_period,
                info.clone(),
                heartbeat_tx,
            )),
        ];
        Ok(Client {
            session,
            shell: tokio::sync::Mutex::new(shell_send),
            control: tokio::sync::Mutex::new(control_send),
            table,
            heartbeat_ok,
            rejected,
            tasks,
        })
    }

    /// A new request message from this client's session.
    pub(crate) fn message(&self, content: impl Into<JupyterMessageContent>) -> JupyterMessage {
        let mut message = JupyterMessage::new(content, None);
        message.header.username = "jellycell".to_string();
        message.header.session.clone_from(&self.session);
        message
    }

    /// Registers `message` for routing, then sends it on `channel` (shell or control).
    /// Registering first means no reply can arrive before its route exists.
    pub(crate) async fn request(
        &self,
        channel: Channel,
        message: JupyterMessage,
    ) -> Result<Route, KernelError> {
        let route = register(&self.table, message.header.msg_id.clone());
        let socket = match channel {
            Channel::Control => &self.control,
            Channel::Shell | Channel::Iopub => &self.shell,
        };
        socket
            .lock()
            .await
            .send(message)
            .await
            .map_err(connection_error)?;
        Ok(route)
    }

    /// False after the heartbeat went unanswered several times in a row.
    pub(crate) fn heartbeat_ok(&self) -> bool {
        *self.heartbeat_ok.borrow()
    }

    /// Resolves when the heartbeat is declared lost.
    pub(crate) async fn heartbeat_lost(&self) {
        let mut ok = self.heartbeat_ok.clone();
        if ok.wait_for(|ok| !ok).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Messages dropped because their signature did not verify or their framing was broken.
    pub(crate) fn rejected_messages(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn connection_error(error: jupyter_zmq_client::RuntimeError) -> KernelError {
    KernelError::Connection(error.to_string())
}

/// Reads one channel until its socket closes, verifying and routing every message.
async fn drain<S: SocketRecv>(
    mut connection: Connection<S>,
    channel: Channel,
    table: Arc<RouteTable>,
    rejected: Arc<AtomicU64>,
) {
    while let Ok(frames) = connection.socket.recv().await {
        let Some((parent_id, incoming)) = accept(&connection, frames, channel) else {
            rejected.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let Some(parent_id) = parent_id else {
            continue;
        };
        dispatch(&table, &parent_id, incoming);
    }
}

/// Verifies `frames` with `connection`'s key and reads them; `None` for a bad signature or
/// broken framing. The HMAC is checked over the four raw JSON frames before anything is
/// parsed (re-serialising first would change the bytes).
fn accept<S>(
    connection: &Connection<S>,
    frames: zeromq::ZmqMessage,
    channel: Channel,
) -> Option<(Option<String>, Incoming)> {
    let raw = RawMessage::from_multipart(frames, &connection.mac).ok()?;
    parse(&raw, channel)
}

/// The parent msg_id (if any) and the message; `None` if the JSON frames are unreadable.
fn parse(raw: &RawMessage, channel: Channel) -> Option<(Option<String>, Incoming)> {
    let [header, parent, _metadata, content, ..] = raw.jparts.as_slice() else {
        return None;
    };
    let header: Value = serde_json::from_slice(header).ok()?;
    let msg_type = header.get("msg_type")?.as_str()?.to_string();
    // An empty `{}` parent (startup messages) has no msg_id.
    let parent_id = serde_json::from_slice::<Value>(parent)
        .ok()
        .and_then(|parent| parent.get("msg_id")?.as_str().map(str::to_string));
    let content: Value = serde_json::from_slice(content).ok()?;
    Some((
        parent_id,
        Incoming {
            channel,
            msg_type,
            content,
        },
    ))
}

/// Pings the heartbeat channel forever, publishing whether the kernel still answers.
async fn beat(
    mut socket: ClientHeartbeatConnection,
    period: Duration,
    info: ConnectionInfo,
    ok: watch::Sender<bool>,
) {
    let mut misses = 0;
    loop {
        tokio::time::sleep(period).await;
        let answered = tokio::time::timeout(period, socket.single_heartbeat())
            .await
            .is_ok_and(|result| result.is_ok());
        if answered {
            misses = 0;
            ok.send_replace(true);
            continue;
        }
        misses += 1;
        if misses >= HEARTBEAT_MISSES {
            ok.send_replace(false);
        }
        // A REQ socket that missed its reply is stuck mid-exchange; only a new one can
        // send again. If reconnecting fails too, the stale socket fails the next ping at
        // once, which counts as another miss and another reconnect attempt.
        if let Ok(Ok(fresh)) =
            tokio::time::timeout(period, create_client_heartbeat_connection(&info)).await
        {
            socket = fresh;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jupyter_zmq_client::ExecuteRequest;
    use zeromq::Socket;

    /// A message as the kernel would put it on the wire, signed with `key`.
    async fn signed_frames(key: &str) -> zeromq::ZmqMessage {
        let mut router = zeromq::RouterSocket::new();
        let endpoint = router.bind("tcp://127.0.0.1:0").await.unwrap();
        let mut dealer = zeromq::DealerSocket::new();
        dealer.connect(&endpoint.to_string()).await.unwrap();
        let mut sender = Connection::new(dealer, key, "session");
        sender
            .send(JupyterMessage::new(
                ExecuteRequest::new("1 + 1".into()),
                None,
            ))
            .await
            .unwrap();
        let mut frames = router.recv().await.unwrap().into_vec();
        frames.remove(0); // the routing id the ROUTER added
        zeromq::ZmqMessage::try_from(frames).unwrap()
    }

    fn receiver(key: &str) -> Connection<zeromq::DealerSocket> {
        Connection::new(zeromq::DealerSocket::new(), key, "ours")
    }

    #[tokio::test]
    async fn a_correctly_signed_message_is_accepted() {
        let frames = signed_frames("secret").await;
        let (_, incoming) = accept(&receiver("secret"), frames, Channel::Shell).unwrap();
        assert_eq!(incoming.msg_type, "execute_request");
        assert_eq!(incoming.content["code"], "1 + 1");
    }

    #[tokio::test]
    async fn a_message_signed_with_another_key_is_rejected() {
        let frames = signed_frames("not-our-key").await;
        assert!(accept(&receiver("secret"), frames, Channel::Shell).is_none());
    }

    #[tokio::test]
    async fn a_tampered_message_is_rejected() {
        let mut frames = signed_frames("secret").await.into_vec();
        let content = frames.len() - 1;
        frames[content] = br#"{"code": "print('forged')"}"#.to_vec().into();
        let frames = zeromq::ZmqMessage::try_from(frames).unwrap();
        assert!(accept(&receiver("secret"), frames, Channel::Shell).is_none());
    }

    #[tokio::test]
    async fn an_unsigned_message_is_rejected_when_we_have_a_key() {
        let frames = signed_frames("").await;
        assert!(accept(&receiver("secret"), frames, Channel::Shell).is_none());
    }
}

//! The kernel's websocket, `api/kernels/<id>/channels?session_id=<id>`: one task that owns
//! the socket, sends what is queued, reads every frame and routes it by
//! `parent_header.msg_id` (through the same route table as the ZeroMQ client).
//!
//! The handshake offers `v1.kernel.websocket.jupyter.org`; when the server selects none
//! (legacy-only servers, a server proxying to a gateway, some proxies) tungstenite refuses
//! the handshake, and we open it again without the offer and speak the legacy JSON framing.
//! We never wait for `iopub_welcome`: the server does not forward it (its own
//! `kernel_info` nudge already made the subscription live before it accepted us).
//!
//! A dropped socket is opened again once with the same `session_id` and framing, so the server replays
//! what it buffered meanwhile; if that fails, or the socket drops again before a message
//! came through, the kernel counts as lost. A ping goes out every second and a socket that
//! shows no frame for 5 s counts as dropped, so a server that vanished without closing
//! (a pulled cable) is noticed too. Before its first frame a socket may stay silent for
//! the whole start timeout: Jupyter Server reads nothing, pings included, until it has
//! connected the kernel's channels, which takes seconds on a loaded machine.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError, SubProtocolError};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::Message;

use super::super::client::{Channel, Incoming, RouteTable, dispatch};
use super::frame::{Frame, Framing, V1_PROTOCOL, WireMessage};
use super::http::{Http, user_agent};
use super::stream::{Io, connect};

type Socket = WebSocketStream<Box<dyn Io>>;

const PING_EVERY: Duration = Duration::from_secs(1);
const SILENCE_LIMIT: Duration = Duration::from_secs(5);

/// Where to connect and as whom.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub(crate) http: Http,
    pub(crate) kernel_id: String,
    pub(crate) session_id: String,
    /// How long the handshake may take (the server holds it until the kernel is ready).
    pub(crate) timeout: Duration,
}

/// Why opening the socket failed.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// No connection (refused, timed out, TLS).
    Unreachable(String),
    /// The server answered the upgrade with this HTTP status.
    Refused(u16, String),
    Protocol(String),
}

/// A connected websocket.
pub(crate) struct Channels {
    outgoing: mpsc::UnboundedSender<WireMessage>,
    lost: watch::Receiver<Option<String>>,
    framing: Framing,
    task: JoinHandle<()>,
}

impl Channels {
    /// Opens the socket and starts the task that drives it.
    pub(crate) async fn open(
        endpoint: Endpoint,
        table: Arc<RouteTable>,
    ) -> Result<Channels, OpenError> {
        let (socket, framing, endpoint) = open_socket(endpoint).await?;
        let (outgoing, queue) = mpsc::unbounded_channel();
        let (lost_tx, lost) = watch::channel(None);
        let task = tokio::spawn(drive(socket, framing, endpoint, table, queue, lost_tx));
        Ok(Channels {
            outgoing,
            lost,
            framing,
            task,
        })
    }

    /// Queues `message` (sent in order; across a reconnect, after it).
    pub(crate) fn send(&self, message: WireMessage) -> Result<(), String> {
        if let Some(reason) = self.lost.borrow().clone() {
            return Err(reason);
        }
        self.outgoing
            .send(message)
            .map_err(|_| "the connection to the server closed".to_string())
    }

    pub(crate) fn framing(&self) -> Framing {
        self.framing
    }

    /// Follows the loss (`Some(why)` once gone for good); ends when the socket is dropped.
    pub(crate) fn watch(&self) -> watch::Receiver<Option<String>> {
        self.lost.clone()
    }

    /// Why the connection is gone for good, if it is.
    pub(crate) fn lost_reason(&self) -> Option<String> {
        self.lost.borrow().clone()
    }

    /// Resolves when the connection is gone for good, with why.
    pub(crate) async fn lost(&self) -> String {
        let mut lost = self.lost.clone();
        match lost.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone().unwrap_or_default(),
            Err(_) => "the connection to the server closed".to_string(),
        }
    }
}

impl Drop for Channels {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Opens the websocket, offering v1 and falling back to legacy when the server picks none;
/// with the endpoint it opened (a reconnect opens that one again, in the same framing).
async fn open_socket(endpoint: Endpoint) -> Result<(Socket, Framing, Endpoint), OpenError> {
    match handshake(&endpoint, true).await {
        Ok(socket) => Ok((socket, Framing::V1, endpoint)),
        Err(HandshakeFailure::NoSubprotocol) => {
            // The server accepted the refused upgrade and is still closing it. Under the
            // same session it would take the new socket for that one reconnecting
            // ("Replacing stale connection") and race with its close, which can leave
            // the new socket without the kernel's channels: a session of its own.
            let legacy = Endpoint {
                session_id: format!("{}-legacy", endpoint.session_id),
                ..endpoint
            };
            match handshake(&legacy, false).await {
                Ok(socket) => Ok((socket, Framing::Legacy, legacy)),
                Err(failure) => Err(failure.into_open_error()),
            }
        }
        Err(failure) => Err(failure.into_open_error()),
    }
}

enum HandshakeFailure {
    NoSubprotocol,
    Other(OpenError),
}

impl HandshakeFailure {
    fn into_open_error(self) -> OpenError {
        match self {
            HandshakeFailure::NoSubprotocol => {
                OpenError::Protocol("the server selected no websocket subprotocol".into())
            }
            HandshakeFailure::Other(error) => error,
        }
    }
}

async fn handshake(endpoint: &Endpoint, offer_v1: bool) -> Result<Socket, HandshakeFailure> {
    let http = &endpoint.http;
    let path = format!(
        "api/kernels/{}/channels?session_id={}",
        endpoint.kernel_id, endpoint.session_id
    );
    let url = http.url.websocket(&path);
    let protocol_error = |error: String| HandshakeFailure::Other(OpenError::Protocol(error));
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|error| protocol_error(error.to_string()))?;
    let headers = request.headers_mut();
    if let Some(token) = &http.token {
        let value = HeaderValue::from_str(&format!("token {token}"))
            .map_err(|_| protocol_error("the token is not a valid HTTP header value".into()))?;
        headers.insert("Authorization", value);
    }
    if let Ok(agent) = HeaderValue::from_str(&user_agent()) {
        headers.insert("User-Agent", agent);
    }
    if offer_v1 {
        headers.insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(V1_PROTOCOL),
        );
    }
    let attempt = async {
        let stream = connect(&http.url, endpoint.timeout)
            .await
            .map_err(|error| HandshakeFailure::Other(OpenError::Unreachable(error)))?;
        let mut config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default();
        config.max_message_size = None;
        config.max_frame_size = None;
        match tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await {
            Ok((socket, _response)) => Ok(socket),
            Err(WsError::Protocol(ProtocolError::SecWebSocketSubProtocolError(
                SubProtocolError::NoSubProtocol,
            ))) => Err(HandshakeFailure::NoSubprotocol),
            Err(WsError::Http(response)) => {
                let body = response
                    .body()
                    .as_deref()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect();
                Err(HandshakeFailure::Other(OpenError::Refused(
                    response.status().as_u16(),
                    body,
                )))
            }
            Err(WsError::Io(error)) => Err(HandshakeFailure::Other(OpenError::Unreachable(
                error.to_string(),
            ))),
            Err(error) => Err(protocol_error(error.to_string())),
        }
    };
    tokio::time::timeout(endpoint.timeout, attempt)
        .await
        .unwrap_or_else(|_| {
            Err(HandshakeFailure::Other(OpenError::Unreachable(format!(
                "the websocket handshake took over {}s",
                endpoint.timeout.as_secs()
            ))))
        })
}

/// Owns the socket: sends, receives, pings, and reconnects once.
async fn drive(
    mut socket: Socket,
    framing: Framing,
    endpoint: Endpoint,
    table: Arc<RouteTable>,
    mut queue: mpsc::UnboundedReceiver<WireMessage>,
    lost: watch::Sender<Option<String>>,
) {
    // True once the socket was opened again and nothing came through it yet.
    let mut reconnected = false;
    // A reopened socket gets no more time than its handshake had.
    let mut first_frame_within = endpoint.timeout;
    loop {
        let reason = serve(
            &mut socket,
            framing,
            &table,
            &mut queue,
            &mut reconnected,
            first_frame_within,
        )
        .await;
        let Some(reason) = reason else {
            // Every `Channels` is gone.
            let _ = socket.close(None).await;
            return;
        };
        if reconnected {
            lost.send_replace(Some(reason));
            return;
        }
        let mut again = endpoint.clone();
        again.timeout = SILENCE_LIMIT;
        match handshake(&again, framing == Framing::V1).await {
            Ok(fresh) => {
                socket = fresh;
                reconnected = true;
                first_frame_within = again.timeout;
            }
            Err(failure) => {
                lost.send_replace(Some(format!(
                    "{reason}, and reconnecting failed: {}",
                    describe(&failure.into_open_error())
                )));
                return;
            }
        }
    }
}

/// Serves `socket` until it fails (`Some(why)`) or the queue closes (`None`); until the
/// first frame arrives, silence counts only after `first_frame_within`.
async fn serve(
    socket: &mut Socket,
    framing: Framing,
    table: &RouteTable,
    queue: &mut mpsc::UnboundedReceiver<WireMessage>,
    reconnected: &mut bool,
    first_frame_within: Duration,
) -> Option<String> {
    let mut ping = tokio::time::interval(PING_EVERY);
    let mut heard = Instant::now();
    let mut silence_limit = first_frame_within.max(SILENCE_LIMIT);
    loop {
        tokio::select! {
            frame = socket.next() => {
                let message = match frame {
                    Some(Ok(message)) => message,
                    Some(Err(error)) => return Some(format!("the websocket failed: {error}")),
                    None => return Some("the server closed the websocket".to_string()),
                };
                heard = Instant::now();
                silence_limit = SILENCE_LIMIT;
                let wire = match message {
                    Message::Text(text) => WireMessage::decode_text(text.as_str()),
                    Message::Binary(bytes) => WireMessage::decode_binary(&bytes, framing),
                    Message::Close(_) => return Some("the server closed the websocket".to_string()),
                    _ => continue,
                };
                if let Some(wire) = wire {
                    *reconnected = false;
                    route(wire, table);
                }
            }
            outgoing = queue.recv() => {
                let outgoing = outgoing?;
                let frame = match outgoing.encode(framing) {
                    Frame::Text(text) => Message::text(text),
                    Frame::Binary(bytes) => Message::binary(bytes),
                };
                if let Err(error) = socket.send(frame).await {
                    return Some(format!("sending to the server failed: {error}"));
                }
            }
            _ = ping.tick() => {
                if heard.elapsed() > silence_limit {
                    return Some(format!(
                        "the server sent nothing for {}s, not even a pong",
                        silence_limit.as_secs()
                    ));
                }
                if let Err(error) = socket.send(Message::Ping(Vec::new().into())).await {
                    return Some(format!("the websocket failed: {error}"));
                }
            }
        }
    }
}

fn route(wire: WireMessage, table: &RouteTable) {
    let channel = match wire.channel.as_str() {
        "shell" => Channel::Shell,
        "control" => Channel::Control,
        "iopub" => Channel::Iopub,
        _ => return,
    };
    let Some(msg_type) = wire.header.get("msg_type").and_then(Value::as_str) else {
        return;
    };
    let Some(parent) = wire.parent_header.get("msg_id").and_then(Value::as_str) else {
        return;
    };
    dispatch(
        table,
        parent,
        Incoming {
            channel,
            msg_type: msg_type.to_string(),
            content: wire.content,
        },
    );
}

/// A one-line description of `error` (the caller adds the server and the fix).
pub(crate) fn describe(error: &OpenError) -> String {
    match error {
        OpenError::Unreachable(why) => why.clone(),
        OpenError::Refused(status, body) if body.trim().is_empty() => {
            format!("the server answered HTTP {status}")
        }
        OpenError::Refused(status, body) => {
            format!("the server answered HTTP {status}: {}", body.trim())
        }
        OpenError::Protocol(why) => why.clone(),
    }
}

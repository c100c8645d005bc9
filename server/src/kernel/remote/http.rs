//! HTTP/1.1 requests to the server's REST API with hyper, one connection per request (a
//! handful per cell at most), each with `Authorization: token <t>`: the one form that
//! jupyter_server, Kernel Gateway and JupyterHub ≥ 5 single-user servers all accept (the
//! hub refuses `?token=`, the gateway refuses `Bearer`). The token never appears in a URL,
//! a message or a log.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;

use super::stream::connect;
use super::url::ServerUrl;

/// A server and the token to send it.
#[derive(Clone)]
pub(crate) struct Http {
    pub(crate) url: ServerUrl,
    pub(crate) token: Option<String>,
    /// How long one request may take.
    pub(crate) timeout: Duration,
}

/// A response: status and body.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
}

impl Reply {
    pub(crate) fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The server's own explanation (`message` or `reason` of a JSON error body).
    pub(crate) fn reason(&self) -> String {
        let from_json = self.json().and_then(|value| {
            ["message", "reason"]
                .iter()
                .find_map(|key| value.get(key)?.as_str().map(str::to_string))
        });
        from_json
            .filter(|text| !text.is_empty())
            .unwrap_or_else(|| {
                self.status
                    .canonical_reason()
                    .unwrap_or("no reason given")
                    .to_string()
            })
    }
}

/// Why a request failed before there was a response.
pub(crate) type TransportError = String;

impl Http {
    /// Sends `method api/<path>` with an optional JSON body.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, TransportError> {
        tokio::time::timeout(self.timeout, self.send_now(method, path, body))
            .await
            .map_err(|_| format!("no answer within {}s", self.timeout.as_secs()))?
    }

    async fn send_now(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, TransportError> {
        let stream = connect(&self.url, self.timeout).await?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|error| error.to_string())?;
        let driver = tokio::spawn(connection);
        let bytes = body.map(|body| body.to_string()).unwrap_or_default();
        let mut request = Request::builder()
            .method(method)
            .uri(self.url.target(path))
            .header(hyper::header::HOST, self.url.host_header())
            .header(hyper::header::USER_AGENT, user_agent())
            .header(hyper::header::ACCEPT, "application/json");
        if let Some(token) = &self.token {
            request = request.header(hyper::header::AUTHORIZATION, format!("token {token}"));
        }
        if body.is_some() {
            request = request.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|error| error.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|error| error.to_string())?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|error| error.to_string())?
            .to_bytes();
        driver.abort();
        Ok(Reply { status, body })
    }
}

/// `jellycell-lsp/<version>`, so server logs say who connected.
pub(crate) fn user_agent() -> String {
    format!("jellycell-lsp/{}", env!("CARGO_PKG_VERSION"))
}

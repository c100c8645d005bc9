//! Kernels on a Jupyter server we did not start: Jupyter Server, Kernel Gateway, Enterprise
//! Gateway, a JupyterHub user's server. The same requests and outputs as a local kernel, over
//! the server's REST API and its kernel websocket instead of ZeroMQ.
//!
//! Owns the server's URL (`url`), the byte stream to it (`stream`), REST requests (`http`),
//! the kernel's lifecycle calls and their error messages (`rest`), the websocket framings
//! (`frame`), the websocket itself (`channels`), one remote kernel (`kernel`) and the
//! server's files (`contents`). The token
//! is read from an environment variable, sent only in the `Authorization` header, and never
//! shown. User-facing behaviour is in `docs/kernel.md` ("Remote kernels").

mod channels;
mod contents;
mod frame;
mod http;
mod kernel;
mod rest;
mod stream;
mod url;

use std::collections::BTreeMap;
use std::time::Duration;

pub use contents::{FileStamp, RemoteFiles};
pub(crate) use kernel::RemoteKernel;

use super::KernelError;

/// The environment variable that holds the token unless `[run] token_env` names another.
pub const DEFAULT_TOKEN_ENV: &str = "JUPYTER_TOKEN";

/// Where and how to start kernels on a server.
#[derive(Clone, PartialEq)]
pub struct RemoteServer {
    /// The server's base URL, e.g. `https://hub.example.org/user/alice/`.
    pub url: String,
    /// The environment variable the token was read from (named in messages).
    pub token_env: String,
    /// The token (never printed; `Debug` hides it).
    pub token: Option<String>,
    /// The kernelspec name on the server.
    pub kernel_name: String,
    /// `env` of `POST api/kernels` (Enterprise Gateway's `KERNEL_*` launch parameters).
    pub kernel_env: BTreeMap<String, String>,
    /// The kernel's working directory relative to the server's root (`path`); `""` is the
    /// root itself. Without it a server starts kernels in its own process's directory
    /// (a JupyterHub user's server: the user's home), not its root.
    pub path: Option<String>,
    /// How long starting may take (Enterprise Gateway may schedule a pod first).
    pub start_timeout: Duration,
    /// How long one REST request other than the start may take.
    pub request_timeout: Duration,
}

impl std::fmt::Debug for RemoteServer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RemoteServer")
            .field("url", &url::redact(&self.url))
            .field("token_env", &self.token_env)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("kernel_name", &self.kernel_name)
            .field("kernel_env", &self.kernel_env.keys().collect::<Vec<_>>())
            .field("path", &self.path)
            .field("start_timeout", &self.start_timeout)
            .finish()
    }
}

impl RemoteServer {
    /// A server at `url` whose token is in the environment variable `token_env` (unset or
    /// empty: no token); kernels start in the server's root; 120 s to start, 30 s per
    /// request.
    pub fn from_env(url: &str, token_env: &str, kernel_name: &str) -> RemoteServer {
        let token = std::env::var(token_env)
            .ok()
            .map(|token| token.trim().to_string())
            .filter(|token| !token.is_empty());
        RemoteServer {
            url: url.to_string(),
            token_env: token_env.to_string(),
            token,
            kernel_name: kernel_name.to_string(),
            kernel_env: BTreeMap::new(),
            path: Some(String::new()),
            start_timeout: Duration::from_secs(120),
            request_timeout: Duration::from_secs(30),
        }
    }

    /// `remote: <host>` for status displays.
    pub fn label(&self) -> String {
        match url::ServerUrl::parse(&self.url) {
            Ok(url) => format!("remote: {}", url.host_label()),
            Err(_) => "remote".to_string(),
        }
    }

    /// The base URL without any query, for messages.
    pub fn display_url(&self) -> String {
        match url::ServerUrl::parse(&self.url) {
            Ok(url) => url.base(),
            Err(_) => url::redact(&self.url),
        }
    }
}

/// Checks `url` without connecting; the error names the fix.
pub fn check_server_url(url: &str) -> Result<(), KernelError> {
    url::ServerUrl::parse(url).map(|_| ()).map_err(|reason| {
        KernelError::Remote(format!("{reason}; fix `server` under [run] (or --server)"))
    })
}

//! The REST side of a remote kernel: check the kernelspec, start, interrupt, restart and
//! delete a kernel, and turn each failure into a message that names the fix.

use hyper::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::super::KernelError;
use super::RemoteServer;
use super::http::{Http, Reply};

/// One kernel on one server.
pub(crate) struct Rest {
    pub(crate) http: Http,
    pub(crate) server: RemoteServer,
}

impl Rest {
    /// Starts a kernel of the configured spec; returns its id.
    pub(crate) async fn start_kernel(&self) -> Result<String, KernelError> {
        self.check_kernelspec().await?;
        let mut body = Map::new();
        body.insert("name".into(), json!(self.server.kernel_name));
        if let Some(path) = &self.server.path {
            body.insert("path".into(), json!(path));
        }
        if !self.server.kernel_env.is_empty() {
            body.insert("env".into(), json!(self.server.kernel_env));
        }
        let mut starting = self.http.clone();
        starting.timeout = self.server.start_timeout;
        let reply = starting
            .send(Method::POST, "api/kernels", Some(&Value::Object(body)))
            .await
            .map_err(|why| self.unreachable(&why))?;
        if reply.status != StatusCode::CREATED && reply.status != StatusCode::OK {
            return Err(self.failed("start a kernel (POST api/kernels)", &reply));
        }
        reply
            .json()
            .and_then(|model| model.get("id")?.as_str().map(str::to_string))
            .ok_or_else(|| {
                self.error(format!(
                    "answered POST api/kernels without a kernel id; is {} the base URL of a \
                     Jupyter Server?",
                    self.server.display_url()
                ))
            })
    }

    async fn check_kernelspec(&self) -> Result<(), KernelError> {
        let reply = self
            .http
            .send(Method::GET, "api/kernelspecs", None)
            .await
            .map_err(|why| self.unreachable(&why))?;
        if reply.status != StatusCode::OK {
            return Err(self.failed("list kernels (GET api/kernelspecs)", &reply));
        }
        let specs = reply.json().unwrap_or_default();
        let Some(specs) = specs.get("kernelspecs").and_then(Value::as_object) else {
            return Err(self.error(format!(
                "answered GET api/kernelspecs without a list of kernels; is {} the base URL of \
                 a Jupyter Server (for JupyterHub: https://<hub>/user/<name>/)?",
                self.server.display_url()
            )));
        };
        if specs.contains_key(&self.server.kernel_name) {
            return Ok(());
        }
        let mut names: Vec<&str> = specs.keys().map(String::as_str).collect();
        names.sort_unstable();
        let available = if names.is_empty() {
            "it has none".to_string()
        } else {
            format!("its kernels: {}", names.join(", "))
        };
        Err(KernelError::Remote(format!(
            "the Jupyter server at {} has no kernel named {:?}; {available}.\nfix: set `kernel` \
             under [run] in jellycell.toml (or [tool.jellycell] in the notebook) to one of \
             them, or install that kernel on the server",
            self.server.display_url(),
            self.server.kernel_name
        )))
    }

    /// `POST api/kernels/<id>/interrupt`.
    pub(crate) async fn interrupt(&self, id: &str) -> Result<(), KernelError> {
        self.expect(
            Method::POST,
            &format!("api/kernels/{id}/interrupt"),
            "interrupt the kernel",
        )
        .await
    }

    /// `POST api/kernels/<id>/restart`; the id stays.
    pub(crate) async fn restart(&self, id: &str) -> Result<(), KernelError> {
        let mut restarting = self.http.clone();
        restarting.timeout = self.server.start_timeout;
        let path = format!("api/kernels/{id}/restart");
        let reply = restarting
            .send(Method::POST, &path, None)
            .await
            .map_err(|why| self.unreachable(&why))?;
        if reply.status.is_success() {
            Ok(())
        } else {
            Err(self.failed("restart the kernel", &reply))
        }
    }

    /// `DELETE api/kernels/<id>`; a kernel already gone counts as deleted.
    pub(crate) async fn delete(&self, id: &str) -> Result<(), KernelError> {
        let reply = self
            .http
            .send(Method::DELETE, &format!("api/kernels/{id}"), None)
            .await
            .map_err(|why| self.unreachable(&why))?;
        if reply.status.is_success() || reply.status == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(self.failed("shut the kernel down", &reply))
        }
    }

    async fn expect(&self, method: Method, path: &str, what: &str) -> Result<(), KernelError> {
        let reply = self
            .http
            .send(method, path, None)
            .await
            .map_err(|why| self.unreachable(&why))?;
        if reply.status.is_success() {
            Ok(())
        } else {
            Err(self.failed(what, &reply))
        }
    }

    fn error(&self, text: String) -> KernelError {
        KernelError::Remote(format!(
            "the Jupyter server at {} {text}",
            self.server.display_url()
        ))
    }

    /// The server could not be reached at all.
    pub(crate) fn unreachable(&self, why: &str) -> KernelError {
        unreachable(&self.server, why)
    }

    /// The server answered `reply` to an attempt to `what`.
    pub(crate) fn failed(&self, what: &str, reply: &Reply) -> KernelError {
        refused(&self.server, what, reply.status.as_u16(), &reply.reason())
    }
}

/// The message for a server that cannot be reached.
pub(crate) fn unreachable(server: &RemoteServer, why: &str) -> KernelError {
    KernelError::Remote(format!(
        "cannot reach the Jupyter server at {}: {why}.\nfix: start the server, or correct \
         `server` under [run] in jellycell.toml (or --server)",
        server.display_url()
    ))
}

/// The message for a server that answered `status` to an attempt to `what`.
pub(crate) fn refused(server: &RemoteServer, what: &str, status: u16, reason: &str) -> KernelError {
    let url = server.display_url();
    let env = &server.token_env;
    if status == 401 || status == 403 {
        let text = match &server.token {
            None => format!(
                "the Jupyter server at {url} refused to {what} (HTTP {status}: {reason}): it \
                 needs a token and {env} is not set.\nfix: `export {env}=<the server's \
                 token>` (`jupyter server list` shows it; for JupyterHub, a token from \
                 /hub/token), or name another variable with `token_env` under [run]"
            ),
            Some(_) => format!(
                "the Jupyter server at {url} refused to {what} (HTTP {status}: {reason}) with \
                 the token in {env}.\nfix: set {env} to the server's current token (`jupyter \
                 server list` shows it; for JupyterHub, a token with access to this user's \
                 server, from /hub/token)"
            ),
        };
        return KernelError::Remote(text);
    }
    if status == 404 {
        return KernelError::Remote(format!(
            "the Jupyter server at {url} answered 404 (not found) when asked to {what}: is that \
             the base URL of a Jupyter Server (for JupyterHub: https://<hub>/user/<name>/), and \
             is the kernel still there?\nfix: correct `server` under [run] (or --server)"
        ));
    }
    KernelError::Remote(format!(
        "the Jupyter server at {url} could not {what}: HTTP {status}: {reason}"
    ))
}

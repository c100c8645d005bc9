//! Files on a remote kernel's server, through the Jupyter Contents API: the runner lists the
//! server's artifacts folder around a cell and fetches what changed
//! (`GET api/contents/<path>?content=1&type=file&format=base64`), and uploads `jc.load`
//! inputs before it (`PUT api/contents/<path>`, parents first as `type: directory`). Paths
//! are project-relative with `/`; the server's root stands for the project root.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use super::RemoteServer;
use super::http::{Http, Reply};
use super::url::ServerUrl;

/// The server's files of one kernel (cheap to clone).
#[derive(Clone)]
pub struct RemoteFiles {
    http: Http,
    server_url: String,
}

/// A file's size and modification time as the server reports them.
pub type FileStamp = (Option<u64>, String);

impl RemoteFiles {
    pub(crate) fn new(server: &RemoteServer) -> Option<RemoteFiles> {
        let url = ServerUrl::parse(&server.url).ok()?;
        Some(RemoteFiles {
            http: Http {
                url,
                token: server.token.clone(),
                timeout: server.request_timeout,
            },
            server_url: server.display_url(),
        })
    }

    /// Whether the server has a Contents API (Kernel Gateway and Enterprise Gateway have
    /// none: their kernels' files stay where they are).
    pub async fn available(&self) -> bool {
        self.http
            .send(Method::GET, "api/contents?content=0", None)
            .await
            .is_ok_and(|reply| reply.status == StatusCode::OK)
    }

    /// Every file under the folder `dir` (recursively), with its stamp; an absent folder
    /// is empty.
    pub async fn list(&self, dir: &str) -> Result<BTreeMap<String, FileStamp>, String> {
        let mut files = BTreeMap::new();
        let mut folders = vec![dir.trim_matches('/').to_string()];
        while let Some(folder) = folders.pop() {
            let reply = self
                .call(Method::GET, &format!("{}?content=1", target(&folder)), None)
                .await?;
            if reply.status == StatusCode::NOT_FOUND {
                continue;
            }
            let listing = self.expect(&reply, "list", &folder, StatusCode::OK)?;
            let entries = listing
                .get("content")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for entry in entries {
                let Some(path) = entry.get("path").and_then(Value::as_str) else {
                    continue;
                };
                match entry.get("type").and_then(Value::as_str) {
                    Some("directory") => folders.push(path.to_string()),
                    Some(_) => {
                        let size = entry.get("size").and_then(Value::as_u64);
                        let modified = entry
                            .get("last_modified")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string();
                        files.insert(path.to_string(), (size, modified));
                    }
                    None => {}
                }
            }
        }
        Ok(files)
    }

    /// The bytes of the file at `path`.
    pub async fn download(&self, path: &str) -> Result<Vec<u8>, String> {
        let reply = self
            .call(
                Method::GET,
                &format!("{}?content=1&type=file&format=base64", target(path)),
                None,
            )
            .await?;
        let model = self.expect(&reply, "fetch", path, StatusCode::OK)?;
        let content = model
            .get("content")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("the server sent no content for {path}"))?;
        // The server wraps base64 in lines.
        let compact: String = content.split_whitespace().collect();
        STANDARD
            .decode(compact)
            .map_err(|error| format!("the server sent {path} in bad base64: {error}"))
    }

    /// Writes `bytes` to `path` on the server, creating its parent folders.
    pub async fn upload(&self, path: &str, bytes: &[u8]) -> Result<(), String> {
        let parts: Vec<&str> = path.split('/').filter(|part| !part.is_empty()).collect();
        for depth in 1..parts.len() {
            let folder = parts[..depth].join("/");
            let reply = self
                .call(Method::GET, &format!("{}?content=0", target(&folder)), None)
                .await?;
            if reply.status == StatusCode::NOT_FOUND {
                let reply = self
                    .call(
                        Method::PUT,
                        &target(&folder),
                        Some(&json!({"type": "directory"})),
                    )
                    .await?;
                self.expect_created(&reply, "create the folder", &folder)?;
            }
        }
        let body = json!({"type": "file", "format": "base64", "content": STANDARD.encode(bytes)});
        let reply = self.call(Method::PUT, &target(path), Some(&body)).await?;
        self.expect_created(&reply, "upload", path)
    }

    async fn call(
        &self,
        method: Method,
        target: &str,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        self.http.send(method, target, body).await.map_err(|why| {
            format!(
                "the Jupyter server at {} could not be reached for its files: {why}",
                self.server_url
            )
        })
    }

    fn expect(
        &self,
        reply: &Reply,
        what: &str,
        path: &str,
        status: StatusCode,
    ) -> Result<Value, String> {
        if reply.status != status {
            return Err(self.refused(reply, what, path));
        }
        reply
            .json()
            .ok_or_else(|| format!("the server answered {what} {path} without a JSON model"))
    }

    fn expect_created(&self, reply: &Reply, what: &str, path: &str) -> Result<(), String> {
        if reply.status == StatusCode::CREATED || reply.status == StatusCode::OK {
            Ok(())
        } else {
            Err(self.refused(reply, what, path))
        }
    }

    fn refused(&self, reply: &Reply, what: &str, path: &str) -> String {
        format!(
            "the Jupyter server at {} refused to {what} {path} through its Contents API \
             ({} {}); does the token allow file access, and is the server's root the project \
             root?",
            self.server_url,
            reply.status.as_u16(),
            reply.reason()
        )
    }
}

/// `api/contents/<path>` with each segment percent-encoded.
fn target(path: &str) -> String {
    let encoded: Vec<String> = path
        .split('/')
        .filter(|part| !part.is_empty())
        .map(encode_segment)
        .collect();
    format!("api/contents/{}", encoded.join("/"))
}

fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_per_segment() {
        assert_eq!(
            target("artifacts/a b/ü.csv"),
            "api/contents/artifacts/a%20b/%C3%BC.csv"
        );
        assert_eq!(target(""), "api/contents/");
    }
}

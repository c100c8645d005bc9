//! A Jupyter server's base URL, as the user gives it (`https://hub.example.org/user/alice/`,
//! `http://127.0.0.1:8888/?token=…`, `http://host:8888/lab`), and the REST and websocket
//! URLs under it.
//!
//! The path prefix is kept (JupyterHub serves each user under `/user/<name>/`): every URL is
//! built by appending to it, never from host and port alone. `https` maps to `wss`. A query
//! or fragment is dropped (a `?token=` in it is never used or shown: the token comes from
//! the environment), and a trailing `lab`, `tree` or `notebooks/…` page is cut off.

/// A parsed server base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerUrl {
    pub(crate) tls: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
    /// Starts and ends with `/`.
    pub(crate) prefix: String,
}

impl ServerUrl {
    /// Parses `text`; the error says what is wrong with it.
    pub(crate) fn parse(text: &str) -> Result<ServerUrl, String> {
        let trimmed = text.trim();
        let (tls, rest) = if let Some(rest) = trimmed.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = trimmed.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(format!(
                "the server URL {trimmed:?} must start with http:// or https://"
            ));
        };
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let (authority, path) = match rest.find('/') {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, "/"),
        };
        if authority.contains('@') {
            return Err(
                "the server URL has a user name or password in it; remove it and put \
                        the token in the environment variable instead"
                    .to_string(),
            );
        }
        let (host, port) = split_port(authority, tls).ok_or_else(|| {
            format!(
                "the server URL {:?} has no valid host and port",
                redact(trimmed)
            )
        })?;
        Ok(ServerUrl {
            tls,
            host,
            port,
            prefix: base_path(path),
        })
    }

    /// `scheme://host[:port]` for messages and the status bar.
    pub(crate) fn origin(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        let default = if self.tls { 443 } else { 80 };
        if self.port == default {
            format!("{scheme}://{}", self.host)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }

    /// The base URL as we use it (origin and prefix, no query).
    pub(crate) fn base(&self) -> String {
        format!("{}{}", self.origin(), self.prefix)
    }

    /// The host name (and port unless default), for `remote: <host>`.
    pub(crate) fn host_label(&self) -> String {
        let origin = self.origin();
        origin
            .split_once("://")
            .map_or(origin.clone(), |(_, host)| host.to_string())
    }

    /// The request target of `api/<path>` under the prefix (`path` has no leading `/`).
    pub(crate) fn target(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }

    /// The full websocket URL of `path` under the prefix.
    pub(crate) fn websocket(&self, path: &str) -> String {
        let scheme = if self.tls { "wss" } else { "ws" };
        let http = self.origin();
        let host = http
            .split_once("://")
            .map_or(http.as_str(), |(_, host)| host);
        format!("{scheme}://{host}{}{path}", self.prefix)
    }

    /// The `Host` header value.
    pub(crate) fn host_header(&self) -> String {
        self.host_label()
    }
}

/// `text` without its query (where a token may be).
pub(crate) fn redact(text: &str) -> String {
    text.split(['?', '#'])
        .next()
        .unwrap_or_default()
        .to_string()
}

fn split_port(authority: &str, tls: bool) -> Option<(String, u16)> {
    let default = if tls { 443 } else { 80 };
    if let Some(rest) = authority.strip_prefix('[') {
        // An IPv6 literal: `[::1]:8888`.
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(port) => port.parse().ok()?,
            None if after.is_empty() => default,
            None => return None,
        };
        return Some((format!("[{host}]"), port));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()?),
        None => (authority, default),
    };
    if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/') {
        return None;
    }
    Some((host.to_string(), port))
}

/// The server's base path: `path` up to (not including) a known page, ending with `/`.
fn base_path(path: &str) -> String {
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let pages = ["lab", "tree", "notebooks", "edit", "doc", "api"];
    if let Some(at) = segments.iter().position(|segment| pages.contains(segment)) {
        segments.truncate(at);
    }
    let mut prefix = String::from("/");
    for segment in segments {
        prefix.push_str(segment);
        prefix.push('/');
    }
    prefix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hub_user_prefix_is_kept_and_https_maps_to_wss() {
        let url = ServerUrl::parse("https://hub.example.org/user/alice/").unwrap();
        assert_eq!(url.base(), "https://hub.example.org/user/alice/");
        assert_eq!(url.target("api/kernels"), "/user/alice/api/kernels");
        assert_eq!(
            url.websocket("api/kernels/k/channels"),
            "wss://hub.example.org/user/alice/api/kernels/k/channels"
        );
        assert_eq!(url.host_label(), "hub.example.org");
    }

    #[test]
    fn the_query_and_the_page_are_dropped() {
        let url = ServerUrl::parse("http://127.0.0.1:8888/lab/tree/x.ipynb?token=secret").unwrap();
        assert_eq!(url.base(), "http://127.0.0.1:8888/");
        assert_eq!(url.websocket("api"), "ws://127.0.0.1:8888/api");
        assert_eq!(url.host_label(), "127.0.0.1:8888");
        let url = ServerUrl::parse("http://h:1/user/bob/tree?token=x").unwrap();
        assert_eq!(url.prefix, "/user/bob/");
        let url = ServerUrl::parse("http://h:1/prefix").unwrap();
        assert_eq!(url.prefix, "/prefix/");
    }

    #[test]
    fn ipv6_hosts_and_default_ports() {
        let url = ServerUrl::parse("http://[::1]:9000/").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("[::1]", 9000));
        let url = ServerUrl::parse("https://example.org").unwrap();
        assert_eq!(url.port, 443);
        assert_eq!(url.base(), "https://example.org/");
    }

    #[test]
    fn bad_urls_say_why_without_showing_a_token() {
        let error = ServerUrl::parse("ftp://x").unwrap_err();
        assert!(error.contains("http:// or https://"), "{error}");
        let error = ServerUrl::parse("http://user:pw@host/?token=secret").unwrap_err();
        assert!(!error.contains("secret"), "{error}");
        assert!(ServerUrl::parse("http://host:notaport/").is_err());
        assert!(ServerUrl::parse("http:///x").is_err());
    }
}

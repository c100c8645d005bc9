//! What keeps the preview server local and inside the project.
//!
//! Host and Origin: a page on another site can resolve its own name to 127.0.0.1 (DNS
//! rebinding) and read our responses as same-origin; refusing every request whose
//! `Host` is not the bound address (`127.0.0.1:<port>` or `localhost:<port>`), and every
//! `Origin` that is not `http://` plus one of those, closes that. A request with two
//! `Host` headers, or an absolute-form target (`GET http://evil.example/…`, whose
//! authority a proxy or browser would trust over the header), is refused with 400 before
//! the Host is looked at, so no pair of names can smuggle a foreign one past the check.
//! Paths: a requested path
//! must be relative, contain no `..`, and canonicalize (symlinks resolved) to a place
//! inside its base folder.

use std::path::{Component, Path, PathBuf};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Why a path was not served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathRefusal {
    /// Absolute, `..`, a NUL, or resolving (through a symlink) outside the base: 403.
    Escapes,
    /// Inside, but nothing there: 404.
    Missing,
}

/// `relative` (already percent-decoded) resolved under `base`, or why not.
pub fn contained(base: &Path, relative: &str) -> Result<PathBuf, PathRefusal> {
    if relative.contains('\0') || relative.starts_with('/') || relative.starts_with('\\') {
        return Err(PathRefusal::Escapes);
    }
    let path = Path::new(relative);
    if path.is_absolute()
        || path
            .components()
            .any(|component| !matches!(component, Component::Normal(_) | Component::CurDir))
        || relative.split(['/', '\\']).any(|segment| segment == "..")
    {
        return Err(PathRefusal::Escapes);
    }
    let base = base.canonicalize().map_err(|_| PathRefusal::Missing)?;
    let resolved = base
        .join(path)
        .canonicalize()
        .map_err(|_| PathRefusal::Missing)?;
    if resolved.starts_with(&base) {
        Ok(resolved)
    } else {
        Err(PathRefusal::Escapes)
    }
}

/// The `Host` values the server answers to.
#[derive(Debug, Clone)]
pub struct AllowedHosts(pub Vec<String>);

impl AllowedHosts {
    pub fn for_port(ip: std::net::IpAddr, port: u16) -> AllowedHosts {
        let mut hosts = vec![format!("localhost:{port}")];
        match ip {
            std::net::IpAddr::V4(v4) => hosts.push(format!("{v4}:{port}")),
            std::net::IpAddr::V6(v6) => hosts.push(format!("[{v6}]:{port}")),
        }
        AllowedHosts(hosts)
    }

    /// Whether `headers` carry an allowed Host and, if any, an allowed Origin.
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        let host = headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .map(str::to_ascii_lowercase);
        let Some(host) = host else {
            return false;
        };
        if !self.0.contains(&host) {
            return false;
        }
        match headers.get(header::ORIGIN) {
            None => true,
            Some(origin) => origin.to_str().is_ok_and(|origin| {
                let origin = origin.to_ascii_lowercase();
                self.0
                    .iter()
                    .any(|allowed| origin == format!("http://{allowed}"))
            }),
        }
    }
}

/// Why a request is malformed in a way that could hide its real target: more than one
/// `Host` header, or a target in absolute form (with a scheme or an authority).
pub fn ambiguous_target(request: &Request) -> Option<&'static str> {
    if request.headers().get_all(header::HOST).iter().count() > 1 {
        return Some("refused: more than one Host header\n");
    }
    let uri = request.uri();
    if uri.scheme().is_some() || uri.authority().is_some() {
        return Some(
            "refused: absolute-form request targets are for proxies; send the path only\n",
        );
    }
    None
}

/// Middleware: 400 for an ambiguous target, 403 for a foreign Host or Origin.
pub async fn check_host(
    State(allowed): State<AllowedHosts>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(reason) = ambiguous_target(&request) {
        return (StatusCode::BAD_REQUEST, reason).into_response();
    }
    if allowed.admits(request.headers()) {
        next.run(request).await
    } else {
        (
            StatusCode::FORBIDDEN,
            "refused: the Host or Origin header does not name this preview server (DNS rebinding protection)\n",
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::{PathRefusal, contained};

    #[test]
    fn parent_and_absolute_paths_are_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("a.py"), "").expect("write");
        assert!(contained(dir.path(), "a.py").is_ok());
        assert_eq!(contained(dir.path(), "../a.py"), Err(PathRefusal::Escapes));
        assert_eq!(
            contained(dir.path(), "x/../a.py"),
            Err(PathRefusal::Escapes)
        );
        assert_eq!(
            contained(dir.path(), "/etc/passwd"),
            Err(PathRefusal::Escapes)
        );
        assert_eq!(contained(dir.path(), "b.py"), Err(PathRefusal::Missing));
    }
}

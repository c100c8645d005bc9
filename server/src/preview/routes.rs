//! The read-only routes. Every handler reads the project, the editor buffers and the
//! cache, renders through `render`, and writes nothing. Rendering runs on the blocking
//! pool (it reads files, and a notebook page looks up the environment that runs its
//! kernel, as a run would find it).
//!
//! | Route | Serves |
//! |---|---|
//! | `/` | index page |
//! | `/nb/<notebook path>` | a notebook page (project-relative path) |
//! | `/blob/<hash>[.<ext>]` | an output blob; the extension picks an image type |
//! | `/artifacts/<path>` | a file under the artifacts folder |
//! | `/api/state.json` | notebooks, statuses, recent runs |
//! | `/events` | SSE reload events |
//! | `/assets/live.js` | the live-reload client |

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::PreviewState;
use super::guard::{AllowedHosts, PathRefusal, check_host, contained};
use crate::cache::blobs::is_blob_name;
use crate::cache::damage::{Damage, warn_once};
use crate::kernel::SpecSearch;
use crate::render::{self, UrlScheme, assets, mime_of_extension};
use crate::run::environment_hints::{KernelTarget, kernel_environment_text};

pub use crate::render::page::PAGE_CSP;

/// The policy on files (blobs, artifacts): a sandboxed, opaque origin, so an SVG or HTML
/// file opened directly cannot run script as this server.
pub const FILE_CSP: &str =
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox";

pub fn router(state: Arc<PreviewState>, allowed: AllowedHosts) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/nb/{*path}", get(notebook))
        .route("/blob/{name}", get(blob))
        .route("/artifacts/{*path}", get(artifact))
        .route("/api/state.json", get(api_state))
        .route("/events", get(events))
        .route(assets::LIVE_SCRIPT_PATH, get(live_script))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(allowed, check_host))
        .with_state(state)
}

async fn index(State(state): State<Arc<PreviewState>>) -> Response {
    let rendered = tokio::task::spawn_blocking(move || {
        let workspace = state.workspace();
        render::render_index(
            &workspace,
            &state.store,
            UrlScheme::Served,
            &state.parameters,
        )
    })
    .await;
    match rendered {
        Ok(html) => page(html),
        Err(_) => internal_error(),
    }
}

async fn notebook(
    State(state): State<Arc<PreviewState>>,
    UrlPath(path): UrlPath<String>,
) -> Response {
    let resolved = match contained(&state.project.root, &path) {
        Ok(resolved) => resolved,
        Err(refusal) => return refused(refusal),
    };
    let rendered = tokio::task::spawn_blocking(move || {
        let workspace = state.workspace();
        let file = workspace.files.iter().position(|file| {
            file.path == resolved || file.path.canonicalize().is_ok_and(|path| path == resolved)
        })?;
        let environment = workspace.files.get(file).map(|notebook| {
            let target = KernelTarget::of(&workspace.project, notebook);
            kernel_environment_text(&workspace.project, &target, &SpecSearch::from_env())
        });
        render::render_notebook_page(
            &workspace,
            file,
            &state.store,
            UrlScheme::Served,
            &state.parameters,
            environment.as_deref(),
        )
    })
    .await;
    match rendered {
        Ok(Some(html)) => page(html),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            "not a notebook of this project (notebooks live under the notebooks folder)\n",
        )
            .into_response(),
        Err(_) => internal_error(),
    }
}

async fn blob(State(state): State<Arc<PreviewState>>, UrlPath(name): UrlPath<String>) -> Response {
    let (hash, extension) = match name.split_once('.') {
        Some((hash, extension)) => (hash, Some(extension)),
        None => (name.as_str(), None),
    };
    if !is_blob_name(hash) {
        return (StatusCode::NOT_FOUND, "not a blob hash\n").into_response();
    }
    let content_type = match extension {
        None => "application/octet-stream",
        Some(extension) => match mime_of_extension(extension) {
            Some(mime) => mime,
            None => return (StatusCode::NOT_FOUND, "unknown blob type\n").into_response(),
        },
    };
    let path = state.store.blobs().path(hash);
    match tokio::fs::read(&path).await {
        Ok(bytes) if blake3::hash(&bytes).to_hex().as_str() == hash => {
            file_response(bytes, content_type, true)
        }
        Ok(_) => {
            warn_once(&Damage::new(&path, "its content does not hash to its name"));
            (
                StatusCode::NOT_FOUND,
                "the blob is damaged in the cache; run the cell again\n",
            )
                .into_response()
        }
        Err(_) => (StatusCode::NOT_FOUND, "no such blob in the cache\n").into_response(),
    }
}

async fn artifact(
    State(state): State<Arc<PreviewState>>,
    UrlPath(path): UrlPath<String>,
) -> Response {
    let resolved = match contained(&state.project.artifacts_dir(), &path) {
        // `[paths] artifacts` is kept inside the project by the config reader; a symlinked
        // default folder that leads out of it is refused here.
        Ok(resolved) if !inside_project(&state.project.root, &resolved) => {
            return refused(PathRefusal::Escapes);
        }
        Ok(resolved) if resolved.is_file() => resolved,
        Ok(_) => return refused(PathRefusal::Missing),
        Err(refusal) => return refused(refusal),
    };
    let extension = resolved
        .extension()
        .and_then(|extension| extension.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let content_type = mime_of_extension(&extension).unwrap_or(match extension.as_str() {
        "json" => "application/json",
        "txt" | "csv" | "tsv" | "md" | "log" | "py" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    });
    match tokio::fs::read(&resolved).await {
        Ok(bytes) => file_response(bytes, content_type, false),
        Err(_) => refused(PathRefusal::Missing),
    }
}

fn inside_project(root: &std::path::Path, resolved: &std::path::Path) -> bool {
    root.canonicalize()
        .is_ok_and(|root| resolved.starts_with(root))
}

async fn api_state(State(state): State<Arc<PreviewState>>) -> Response {
    let document = tokio::task::spawn_blocking(move || {
        let workspace = state.workspace();
        render::state_json(&workspace, &state.store, &state.parameters)
    })
    .await;
    match document {
        Ok(document) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            document.to_string(),
        )
            .into_response(),
        Err(_) => internal_error(),
    }
}

async fn events(State(state): State<Arc<PreviewState>>) -> Response {
    state.hub.stream().into_response()
}

async fn live_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        assets::LIVE_SCRIPT,
    )
        .into_response()
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

fn page(html: String) -> Response {
    let mut response = html.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn file_response(bytes: Vec<u8>, content_type: &'static str, immutable: bool) -> Response {
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-store"
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CONTENT_SECURITY_POLICY, FILE_CSP),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response()
}

fn refused(refusal: PathRefusal) -> Response {
    match refusal {
        PathRefusal::Escapes => (
            StatusCode::FORBIDDEN,
            "refused: the path leaves the project (absolute, `..`, or a symlink outside)\n",
        )
            .into_response(),
        PathRefusal::Missing => (StatusCode::NOT_FOUND, "no such file\n").into_response(),
    }
}

fn internal_error() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, "rendering failed\n").into_response()
}

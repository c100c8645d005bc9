//! Binding and running the preview server: 127.0.0.1 on the requested port, or a free one
//! the OS picks; the watcher thread; shutdown when the handle is dropped or asked to.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::oneshot;

use super::events::{self, EventHub};
use super::guard::AllowedHosts;
use super::{PreviewState, routes};
use crate::cache::Store;
use crate::project::Project;

/// How long [`PreviewHandle::shutdown`] lets requests in flight finish.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

/// Where to listen, and what to show beyond the project's notebooks folder.
#[derive(Debug, Clone, Default)]
pub struct PreviewOptions {
    /// `None` or `Some(0)`: any free port.
    pub port: Option<u16>,
    /// Notebooks to serve although they are not under the notebooks folder (a notebook
    /// named on the command line); they must still be inside the project root.
    pub extra_notebooks: Vec<std::path::PathBuf>,
    /// Show the outputs of the run with these parameters (`run -p`): the cells after each
    /// notebook's injection point are keyed with them.
    pub parameters: crate::run::params::Parameters,
}

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error(
        "port {port} is already in use on 127.0.0.1; pass --port with another port, or --port 0 for any free one"
    )]
    PortInUse { port: u16 },
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
}

/// A running preview server. Dropping it stops the watcher and the server at once;
/// [`PreviewHandle::shutdown`] first lets requests in flight finish.
pub struct PreviewHandle {
    address: SocketAddr,
    state: Arc<PreviewState>,
    stop: Arc<AtomicBool>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// `[viewer] port`, only when jellycell.toml writes it (its default, 5179, is jellycell's
/// viewer's; ours picks a free port so two previews never collide).
pub fn configured_port(project: &crate::project::Project) -> Option<u16> {
    let text = std::fs::read_to_string(project.config_path.as_deref()?).ok()?;
    let document: toml_edit::DocumentMut = text.parse().ok()?;
    let port = document.get("viewer")?.get("port")?.as_integer()?;
    u16::try_from(port).ok()
}

/// Binds and starts serving `project` (must be called inside a tokio runtime).
pub async fn start(
    project: Project,
    options: PreviewOptions,
) -> Result<PreviewHandle, PreviewError> {
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let port = options.port.unwrap_or(0);
    let address = SocketAddr::new(ip, port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AddrInUse => PreviewError::PortInUse { port },
            _ => PreviewError::Bind { address, source },
        })?;
    let address = listener
        .local_addr()
        .map_err(|source| PreviewError::Bind { address, source })?;

    // A preview stays up for hours (and inside the language server for as long as the
    // editor): it must not hold the sled index's lock all that time.
    let store = Store::open_unindexed(&project);
    let hub = EventHub::default();
    let mut state = PreviewState::new(project.clone(), store, hub.clone());
    state.extra = options
        .extra_notebooks
        .iter()
        .filter_map(|path| std::path::absolute(path).ok())
        .filter(|path| project.relative_path(path).is_some())
        .collect();
    state.parameters = options.parameters;
    let state = Arc::new(state);
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let watcher = events::Watcher::new(project, state.store.root().join("manifests"));
        std::thread::Builder::new()
            .name("preview-watch".into())
            .spawn(move || watcher.run(hub, stop))
            .map_err(|source| PreviewError::Bind { address, source })?;
    }

    let app = routes::router(state.clone(), AllowedHosts::for_port(ip, address.port()));
    let (shutdown, signal) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = signal.await;
            })
            .await;
    });
    Ok(PreviewHandle {
        address,
        state,
        stop,
        shutdown: Some(shutdown),
        server: Some(server),
    })
}

impl PreviewHandle {
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:<port>/`
    pub fn url(&self) -> String {
        format!("http://{}/", self.address)
    }

    /// The page URL of the notebook at `path`, when it is inside the project.
    pub fn notebook_url(&self, path: &Path) -> Option<String> {
        let absolute = std::path::absolute(path).ok()?;
        self.state.project.relative_path(&absolute)?;
        let relative = events::relative(&self.state.project, &absolute);
        Some(format!(
            "http://{}{}",
            self.address,
            crate::render::notebook_url(&relative)
        ))
    }

    /// An editor's unsaved text for the notebook at `path`: pages render from it (instead
    /// of the file) until [`PreviewHandle::forget_buffer`], and open pages reload now.
    pub fn notify_buffer_changed(&self, path: &Path, text: &str) {
        let relative = self.state.set_buffer(path, Some(text.to_string()));
        self.state.hub.send(&relative);
    }

    /// Back to the file on disk for `path` (the editor closed the buffer).
    pub fn forget_buffer(&self, path: &Path) {
        let relative = self.state.set_buffer(path, None);
        self.state.hub.send(&relative);
    }

    /// Stops serving and waits for the server task to end.
    pub async fn shutdown(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(mut server) = self.server.take() {
            // Graceful shutdown waits for open connections, and an `/events` stream never
            // ends by itself: give requests in flight a moment, then stop the rest.
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut server)
                .await
                .is_err()
            {
                server.abort();
            }
        }
    }

    /// Serves until the process ends.
    pub async fn wait(mut self) {
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for PreviewHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        // Open `/events` streams would keep a gracefully stopping server alive.
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

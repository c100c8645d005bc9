//! Change events for live reload: a broadcast hub, a polling watcher, and the SSE stream.
//!
//! An event carries the project-relative path of the notebook that changed, or `*` when
//! every page may be affected (new cache outputs, `jellycell.toml`). The watcher polls
//! mtimes every 250 ms (notebooks, the manifests folder, the config) rather than using
//! inotify: no new dependency, and a manifest is written by renaming a temporary file
//! into the folder, which always moves the folder's mtime. Buffers pushed by an editor
//! (`PreviewHandle::notify_buffer_changed`) send their event directly.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::broadcast;

use crate::analysis::workspace::discover_notebooks;
use crate::project::Project;

pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// "Everything may have changed."
pub const ALL: &str = "*";

/// Fan-out of change events to every open `/events` stream.
#[derive(Clone)]
pub struct EventHub {
    sender: broadcast::Sender<String>,
    /// Bumped on every event: what the preview's workspace snapshot is checked against.
    generation: Arc<AtomicU64>,
}

impl Default for EventHub {
    fn default() -> Self {
        EventHub {
            sender: broadcast::channel(64).0,
            generation: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl EventHub {
    /// Announces that `path` (project-relative, or [`ALL`]) changed.
    pub fn send(&self, path: &str) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        // No receiver is not an error: nobody has a page open.
        let _ = self.sender.send(path.to_string());
    }

    /// How many events have been sent: changes when anything changed.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.sender.subscribe()
    }

    /// The SSE response for one client: `event: reload` / `data: {"path": …}`.
    pub fn stream(&self) -> Sse<impl Stream<Item = Result<Event, Infallible>> + use<>> {
        let receiver = self.subscribe();
        let stream = futures::stream::unfold(receiver, |mut receiver| async move {
            let path = match receiver.recv().await {
                Ok(path) => path,
                // Missed events: one reload of everything covers them.
                Err(broadcast::error::RecvError::Lagged(_)) => ALL.to_string(),
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            let data = serde_json::json!({ "type": "reload", "path": path });
            let event = Event::default().event("reload").data(data.to_string());
            Some((Ok(event), receiver))
        });
        // A first comment flushes the headers, so a client knows it is connected.
        let hello = futures::stream::once(async { Ok(Event::default().comment("connected")) });
        Sse::new(futures::StreamExt::chain(hello, stream)).keep_alive(KeepAlive::default())
    }
}

/// Polls the project until `stop` is set; runs on its own thread.
pub fn watch(project: Project, manifests_dir: PathBuf, hub: EventHub, stop: Arc<AtomicBool>) {
    let config = project.root.join("jellycell.toml");
    let mut notebooks = notebook_mtimes(&project);
    let mut manifests = modified(&manifests_dir);
    let mut config_time = modified(&config);
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(POLL_INTERVAL);
        let now = notebook_mtimes(&project);
        for (path, time) in &now {
            if notebooks.get(path) != Some(time) {
                hub.send(&relative(&project, path));
            }
        }
        for path in notebooks.keys() {
            if !now.contains_key(path) {
                hub.send(&relative(&project, path));
            }
        }
        notebooks = now;
        let now = modified(&manifests_dir);
        if now != manifests {
            manifests = now;
            hub.send(ALL);
        }
        let now = modified(&config);
        if now != config_time {
            config_time = now;
            hub.send(ALL);
        }
    }
}

fn notebook_mtimes(project: &Project) -> BTreeMap<PathBuf, Option<SystemTime>> {
    discover_notebooks(project)
        .into_iter()
        .map(|path| {
            let time = modified(&path);
            (path, time)
        })
        .collect()
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .ok()
}

/// `path` relative to the project root, `/`-separated (as `NotebookFile::relative`).
pub fn relative(project: &Project, path: &Path) -> String {
    let relative = project
        .relative_path(path)
        .unwrap_or_else(|| path.to_path_buf());
    relative
        .components()
        .map(|component| component.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

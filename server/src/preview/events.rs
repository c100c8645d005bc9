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

/// What the polling watcher last saw: notebook mtimes, the manifests folder's, the config's.
///
/// Taken before the preview serves its first request ([`Watcher::new`]), so that a change
/// made as soon as a page is open is a change from this baseline and not absorbed into it
/// (the watcher's thread may start late on a loaded machine).
pub struct Watcher {
    project: Project,
    manifests_dir: PathBuf,
    config: PathBuf,
    notebooks: BTreeMap<PathBuf, Option<SystemTime>>,
    manifests: Option<SystemTime>,
    config_time: Option<SystemTime>,
}

impl Watcher {
    pub fn new(project: Project, manifests_dir: PathBuf) -> Watcher {
        let config = project.root.join("jellycell.toml");
        Watcher {
            notebooks: notebook_mtimes(&project),
            manifests: modified(&manifests_dir),
            config_time: modified(&config),
            project,
            manifests_dir,
            config,
        }
    }

    /// Polls until `stop` is set; runs on its own thread.
    pub fn run(mut self, hub: EventHub, stop: Arc<AtomicBool>) {
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(POLL_INTERVAL);
            self.poll(&hub);
        }
    }

    /// One look: an event for each notebook changed, added or removed, and one for
    /// everything when the manifests or the config changed.
    pub fn poll(&mut self, hub: &EventHub) {
        let now = notebook_mtimes(&self.project);
        for (path, time) in &now {
            if self.notebooks.get(path) != Some(time) {
                hub.send(&relative(&self.project, path));
            }
        }
        for path in self.notebooks.keys() {
            if !now.contains_key(path) {
                hub.send(&relative(&self.project, path));
            }
        }
        self.notebooks = now;
        let now = modified(&self.manifests_dir);
        if now != self.manifests {
            self.manifests = now;
            hub.send(ALL);
        }
        let now = modified(&self.config);
        if now != self.config_time {
            self.config_time = now;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn received(receiver: &mut broadcast::Receiver<String>) -> Vec<String> {
        std::iter::from_fn(|| receiver.try_recv().ok()).collect()
    }

    #[test]
    fn changes_made_before_the_first_poll_are_changes_from_the_baseline() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::write(
            dir.path().join("jellycell.toml"),
            "[project]\nname = \"w\"\n",
        )
        .expect("config");
        std::fs::create_dir(dir.path().join("notebooks")).expect("notebooks");
        let manifests = dir.path().join(".jellycell/cache/manifests");
        let project = Project::discover(dir.path());
        let mut watcher = Watcher::new(project, manifests.clone());
        let hub = EventHub::default();
        let mut receiver = hub.subscribe();

        // Written after the watcher was made and before its thread would first look.
        std::fs::create_dir_all(&manifests).expect("manifests");
        std::fs::write(dir.path().join("notebooks/new.py"), "# %%\nx = 1\n").expect("notebook");
        watcher.poll(&hub);
        let mut events = received(&mut receiver);
        events.sort();
        assert_eq!(events, ["*", "notebooks/new.py"]);

        watcher.poll(&hub);
        assert_eq!(received(&mut receiver), Vec::<String>::new());
    }
}

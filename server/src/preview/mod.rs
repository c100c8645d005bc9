//! The preview server: notebooks rendered with their cached outputs over HTTP on
//! 127.0.0.1, with live reload. Read-only: no route writes a file or runs a cell.
//!
//! `server` binds and owns the [`PreviewHandle`] (also the API the language server uses
//! to push unsaved buffers), `routes` maps URLs to `render`, `guard` refuses foreign
//! hosts and paths leaving the project, `events` turns file and buffer changes into SSE
//! reload events. See `docs/preview.md`.

pub mod events;
pub mod guard;
pub mod routes;
pub mod server;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use server::{PreviewError, PreviewHandle, PreviewOptions, configured_port, start};

use crate::analysis::workspace::{NotebookInput, Workspace, discover_notebooks};
use crate::cache::Store;
use crate::project::Project;
use crate::project::read::read_text_file;
use crate::run::params::Parameters;
use events::EventHub;

/// What every request reads.
pub struct PreviewState {
    pub project: Project,
    pub store: Store,
    pub hub: EventHub,
    /// Editor buffers by absolute path: rendered instead of the file while present.
    buffers: Mutex<HashMap<PathBuf, String>>,
    /// Notebooks outside the notebooks folder to include (see `PreviewOptions`).
    pub extra: Vec<PathBuf>,
    /// The parameter set whose outputs the pages show (`preview -p`; see `PreviewOptions`).
    pub parameters: Parameters,
    /// The last workspace built, with the event generation it was built at.
    snapshot: Mutex<Option<(u64, Arc<Workspace>)>>,
}

impl PreviewState {
    pub fn new(project: Project, store: Store, hub: EventHub) -> PreviewState {
        PreviewState {
            project,
            store,
            hub,
            buffers: Mutex::new(HashMap::new()),
            snapshot: Mutex::new(None),
            extra: Vec::new(),
            parameters: Parameters::default(),
        }
    }

    /// Records (or with `None` drops) the buffer of `path`; returns its project-relative
    /// name for the change event.
    fn set_buffer(&self, path: &Path, text: Option<String>) -> String {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        if let Ok(mut buffers) = self.buffers.lock() {
            match text {
                Some(text) => buffers.insert(absolute.clone(), text),
                None => buffers.remove(&absolute),
            };
        }
        events::relative(&self.project, &absolute)
    }

    /// The project's notebooks as they are now: buffers where the editor has them, files
    /// otherwise. Re-read only after a change event (file, cache, config or buffer), so
    /// requests between changes skip parsing; a file written less than one watcher tick
    /// ago may still show its old text, and its reload event follows.
    pub fn workspace(&self) -> Arc<Workspace> {
        let generation = self.hub.generation();
        if let Ok(snapshot) = self.snapshot.lock()
            && let Some((built_at, workspace)) = snapshot.as_ref()
            && *built_at == generation
        {
            return workspace.clone();
        }
        let workspace = Arc::new(self.read_workspace());
        if let Ok(mut snapshot) = self.snapshot.lock() {
            *snapshot = Some((generation, workspace.clone()));
        }
        workspace
    }

    fn read_workspace(&self) -> Workspace {
        let buffers = self
            .buffers
            .lock()
            .map(|buffers| buffers.clone())
            .unwrap_or_default();
        let mut paths = discover_notebooks(&self.project);
        for path in self.extra.iter().chain(buffers.keys()) {
            if !paths.contains(path) && self.project.relative_path(path).is_some() {
                paths.push(path.clone());
            }
        }
        let inputs = paths
            .into_iter()
            .filter_map(|path| {
                let text = match buffers.get(&path) {
                    Some(text) => text.clone(),
                    None => {
                        read_text_file(&path, self.project.config.lint.max_file_bytes()).ok()?
                    }
                };
                Some(NotebookInput { path, text })
            })
            .collect();
        Workspace::build(self.project.clone(), inputs)
    }
}

//! `jellycell.openPreview` and the preview endpoint inside the server: one endpoint per
//! project, started on first use and kept until the server exits. Open buffers are
//! forwarded to it, so pages show unsaved edits and reload as the user types. The client
//! is asked to open the page (`window/showDocument`, external) at the cell; the server
//! never waits on that answer (some clients never answer), and the command's result
//! carries the URL for clients that cannot show documents. The port is the client's
//! `previewPort` initialization option, else `[viewer] port`, else a free one.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::{MessageType, ShowDocumentParams, Uri};

use super::commands::{CommandTarget, invalid_params};
use super::{Core, state};
use crate::preview::{self, PreviewHandle, PreviewOptions};
use crate::project::Project;

/// The running endpoints, by project root.
#[derive(Default)]
pub(crate) struct Previews {
    running: Mutex<HashMap<PathBuf, Arc<PreviewHandle>>>,
    /// The client's `previewPort` initialization option (0: none); it wins over
    /// `[viewer] port` in `jellycell.toml`.
    client_port: AtomicU16,
    /// Projects whose endpoint a hover could not start: hovers do not try again (and do
    /// not repeat the error message); `jellycell.openPreview` still does.
    failed_for_hover: Mutex<HashSet<PathBuf>>,
}

impl Previews {
    /// Reads `{"previewPort": N}` from the client's `initializationOptions`.
    pub fn configure(&self, initialization_options: Option<&Value>) {
        let port = initialization_options
            .and_then(|options| options.get("previewPort"))
            .and_then(Value::as_u64)
            .and_then(|port| u16::try_from(port).ok())
            .unwrap_or(0);
        self.client_port.store(port, Ordering::Relaxed);
    }

    fn client_port(&self) -> Option<u16> {
        Some(self.client_port.load(Ordering::Relaxed)).filter(|port| *port != 0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Arc<PreviewHandle>>> {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn running_for(&self, root: &Path) -> Option<Arc<PreviewHandle>> {
        self.lock().get(root).cloned()
    }

    /// After `didOpen`/`didChange`: the buffer's text, to the project's endpoint if one runs.
    pub fn buffer_changed(&self, core: &Core, uri: &Uri) {
        if self.lock().is_empty() {
            return;
        }
        let Some(open) = core.state.document(uri) else {
            return;
        };
        let (Some(root), Some(path)) = (open.root.as_deref(), open.path.as_deref()) else {
            return;
        };
        if let Some(handle) = self.running_for(root) {
            handle.notify_buffer_changed(path, &open.document.text());
        }
    }

    /// Before `didClose`: pages go back to the file on disk.
    pub fn buffer_closed(&self, core: &Core, uri: &Uri) {
        if self.lock().is_empty() {
            return;
        }
        let Some(open) = core.state.document(uri) else {
            return;
        };
        if let (Some(root), Some(path)) = (open.root.as_deref(), open.path.as_deref())
            && let Some(handle) = self.running_for(root)
        {
            handle.forget_buffer(path);
        }
    }
}

/// Starts (once) the endpoint of the notebook's project, asks the client to open the
/// notebook's page at the cell, and answers `{"url": ...}`.
pub async fn open(core: &Arc<Core>, target: CommandTarget) -> jsonrpc::Result<Value> {
    let path = state::file_path(&target.uri).ok_or_else(|| {
        invalid_params(format!(
            "{} is not a file: only notebooks on disk can be previewed",
            target.uri.as_str()
        ))
    })?;
    let root = state::project_root(&path);
    let handle = match core.previews.running_for(&root) {
        Some(handle) => handle,
        None => start(core, &root, &path).await?,
    };
    let mut url = handle.notebook_url(&path).ok_or_else(|| {
        invalid_params(format!(
            "{} is not inside the project at {}",
            path.display(),
            root.display()
        ))
    })?;
    if let Some(cell) = target
        .cell
        .or_else(|| cell_at_line(core, &target.uri, target.line?))
    {
        url.push_str(&format!("#cell-{cell}"));
    }
    ask_client_to_open(core, &url);
    Ok(json!({ "url": url }))
}

/// The project's running endpoint; with `start`, one is started when none runs (from a
/// blocking thread: binding a loopback port is quick). `None` when it cannot start.
pub(crate) fn endpoint_for_hover(
    core: &Core,
    root: &Path,
    notebook: &Path,
    start_one: bool,
) -> Option<Arc<PreviewHandle>> {
    if let Some(handle) = core.previews.running_for(root) {
        return Some(handle);
    }
    let mut failed = core
        .previews
        .failed_for_hover
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !start_one || failed.contains(root) {
        return None;
    }
    let runtime = tokio::runtime::Handle::try_current().ok()?;
    let started = runtime.block_on(start(core, root, notebook)).ok();
    if started.is_none() {
        failed.insert(root.to_path_buf());
    }
    started
}

async fn start(core: &Core, root: &Path, notebook: &Path) -> jsonrpc::Result<Arc<PreviewHandle>> {
    let project = Project::discover(notebook.parent().unwrap_or(root));
    let options = PreviewOptions {
        port: core
            .previews
            .client_port()
            .or_else(|| preview::configured_port(&project)),
        extra_notebooks: vec![notebook.to_path_buf()],
        ..PreviewOptions::default()
    };
    let handle = preview::start(project, options).await.map_err(|error| {
        let message = format!("jellycell preview: {error}");
        let client = core.client.clone();
        let shown = message.clone();
        tokio::spawn(async move { client.show_message(MessageType::ERROR, shown).await });
        let mut rpc = jsonrpc::Error::internal_error();
        rpc.message = message.into();
        rpc
    })?;
    let handle = Arc::new(handle);
    // Another request may have started one meanwhile; keep the first.
    let handle = core
        .previews
        .lock()
        .entry(root.to_path_buf())
        .or_insert(handle)
        .clone();
    for uri in core.state.open_in_project(root) {
        core.previews.buffer_changed(core, &uri);
    }
    Ok(handle)
}

/// The ordinal of the cell that contains 0-based `line` of the open buffer at `uri`.
fn cell_at_line(core: &Core, uri: &Uri, line: usize) -> Option<usize> {
    let open = core.state.document(uri)?;
    let offset = open.document.line_start(line)?;
    let text = open.document.text();
    let format = crate::analysis::workspace::notebook_format_of(open.path.as_deref()?)?;
    let notebook = crate::format::read(&text, format);
    notebook
        .cells
        .iter()
        .rposition(|cell| cell.spans.whole.start <= offset)
}

/// `window/showDocument` (external) when the client supports it, else (and when the
/// client could not open it) a message with the URL; sent from a task so that nothing
/// waits for the client's answer.
fn ask_client_to_open(core: &Arc<Core>, url: &str) {
    let client = core.client.clone();
    let shows_documents = core.flags().show_document;
    let url = url.to_string();
    tokio::spawn(async move {
        let target = url.parse::<Uri>();
        match (shows_documents, target) {
            (true, Ok(uri)) => {
                let params = ShowDocumentParams {
                    uri,
                    external: Some(true),
                    take_focus: Some(true),
                    selection: None,
                };
                // No browser could be opened (a remote or headless session): say where the
                // preview is, so that the user can open it by hand.
                let opened = client.show_document(params).await.unwrap_or(false);
                if !opened {
                    client
                        .show_message(
                            MessageType::INFO,
                            format!("jellycell preview: {url} (no browser could be opened)"),
                        )
                        .await
                }
            }
            _ => {
                client
                    .show_message(MessageType::INFO, format!("jellycell preview: {url}"))
                    .await
            }
        }
    });
}

//! `jellycell/kernelStatus`: a notification telling the client what a notebook's kernel is
//! doing (`starting`, `busy`, `idle`, `dead`, `none`), for a status-bar item, with the
//! environment a running kernel's Python comes from (`project venv /p/.venv/bin/python`)
//! and where it runs when that is a Jupyter server (`location: "remote: <host>"`).
//!
//! It is not part of LSP, so it goes only to clients that ask for it with
//! `initializationOptions.kernelStatus = true` (the VS Code extension does); other clients
//! (Eglot, for one) would report an unknown notification.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::Uri;
use tower_lsp_server::ls_types::notification::Notification;

use super::Core;

/// What a notebook's kernel is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KernelState {
    /// Being launched for a run.
    Starting,
    /// Executing the notebook's cells.
    Busy,
    /// Warm, waiting for the next run.
    Idle,
    /// It died or could not start; the next run starts a fresh one.
    Dead,
    /// No kernel: never started, restarted, or shut down.
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KernelStatusParams {
    pub uri: Uri,
    pub state: KernelState,
    /// Which Python runs the kernel and why, while there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// `remote: <host>` for a kernel on a Jupyter server; absent for a local one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

pub enum KernelStatus {}

impl Notification for KernelStatus {
    type Params = KernelStatusParams;
    const METHOD: &'static str = "jellycell/kernelStatus";
}

/// Tells the client, when it asked for it, that `uri`'s kernel is now `state`.
pub(crate) fn send(core: &Arc<Core>, uri: &Uri, state: KernelState) {
    send_with(core, uri, state, None, None);
}

/// [`send`] with what is known of the notebook's running kernel: the `environment` its
/// Python comes from, and its `location` (`remote: <host>`) when it runs on a server.
pub(crate) fn send_with(
    core: &Arc<Core>,
    uri: &Uri,
    state: KernelState,
    environment: Option<String>,
    location: Option<String>,
) {
    if !core.flags().run.kernel_status {
        return;
    }
    let client = core.client.clone();
    let params = KernelStatusParams {
        uri: uri.clone(),
        state,
        environment,
        location,
    };
    tokio::spawn(async move {
        client.send_notification::<KernelStatus>(params).await;
    });
}

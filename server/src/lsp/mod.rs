//! The language server: tower-lsp-server on tokio, speaking LSP on stdio.
//!
//! This file owns setup (`run_stdio`), the capabilities `initialize` advertises and the
//! dispatch of each request to its feature file. Three things sit between the transport
//! and tower-lsp's concurrent handlers ([`Ordered`]):
//!
//! - document notifications (`didOpen`, `didChange`, `didClose`, watched-file changes)
//!   are applied to the state right in `Service::call`, which the transport
//!   (`transport.rs`, our reader in front of tower-lsp's service) invokes once per message
//!   in arrival order, so edits can never be reordered (tower-lsp #284);
//! - every request's future is polled under `catch_unwind`, so a panic anywhere in a
//!   handler becomes a JSON-RPC error response and the server lives on. Handler bodies
//!   run on blocking threads (`run_blocking`), whose panics come back as `JoinError`s;
//! - a `$/` request (one with an id) is answered with MethodNotFound, which tower-lsp,
//!   treating every `$/` method as an ignorable notification, would never send;
//! - the requests whose answers grow with the notebook (code lenses, inlay hints,
//!   symbols, folding) go to `encoded.rs`, which writes their JSON without tower-lsp's
//!   `Value` tree.
//!
//! Long work (reading the project, analysis, lint) never runs on the request path's
//! async threads; see `diagnostics` for the debounced, coalescing publisher.

mod cache_watch;
mod cell_errors;
mod cell_keys;
mod cell_outputs;
mod cell_views;
mod code_actions;
mod code_lens;
mod commands;
mod completion;
mod convert;
mod definition;
mod diagnostics;
mod environment_hints;
mod folding;
mod hover;
mod inlay_hints;
mod json_write;
mod kernel_status;
mod positions;
mod preview;
mod progress;
mod references;
mod rename;
mod runs;
mod state;
mod symbols;
mod sync;
mod unsaved;
// The transport under tower-lsp's service: framing, bad-input answers, encoded answers.
mod encoded;
mod framing;
mod incoming;
mod transport;
// Process set-up, not a feature: kept apart from the list above.
mod arenas;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::Value;
use tower_lsp_server::jsonrpc::{self, Request, Response};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, ExitedError, LanguageServer, LspService};
use tower_service::Service;

use state::State;
use transport::Outgoing;

/// Set to `1` to register the `jellycell/debugPanic` request that the integration tests
/// use to prove that a panicking handler answers with an error.
pub const DEBUG_PANIC_ENV: &str = "JELLYCELL_LSP_DEBUG_PANIC";

/// What the client said it can do, reduced to what changes the server's behaviour.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ClientFlags {
    /// The client pulls diagnostics (`textDocument/diagnostic`) and can be asked to pull
    /// again (`workspace.diagnostics.refreshSupport`); then we do not push. A client that
    /// pulls but cannot be asked again (Neovim 0.11) gets pushed diagnostics instead: it
    /// would otherwise see a run's `cell-error`s only after its next edit.
    pub pull_diagnostics: bool,
    pub diagnostic_refresh: bool,
    pub watched_files_registration: bool,
    /// The client opens URLs for us (`window/showDocument`).
    pub show_document: bool,
    /// Runs: see `runs.rs` and `progress.rs`.
    pub run: runs::RunFlags,
    /// `initializationOptions.hoverImages = false`: hovers link images instead of inlining
    /// them (for clients that show a `data:` URI as a screenful of text).
    pub hover_without_images: bool,
    /// `initializationOptions.inlineOutputs` (default true): inlay hints sum up each
    /// cell's cached outputs after its last line.
    pub inline_outputs: bool,
    /// `initializationOptions.hoverLinks = "plain"`: hovers write `text: URL`, not
    /// `[text](URL)` (for clients that conceal link targets; `editors/nvim` sets it).
    pub hover_plain_links: bool,
    /// `initializationOptions.lensesResolvedUpTo` (default 500): up to this many code
    /// cells, code lenses come with their commands; above, through `codeLens/resolve`.
    pub lenses_resolved_up_to: usize,
}

/// Everything the handlers and background tasks share.
pub(crate) struct Core {
    pub state: State,
    pub client: Client,
    pub flags: std::sync::Mutex<ClientFlags>,
    pub scheduler: diagnostics::Scheduler,
    pub environment_hints: environment_hints::EnvironmentHints,
    pub workspace_folders: std::sync::Mutex<Vec<std::path::PathBuf>>,
    pub previews: preview::Previews,
    pub runs: runs::Runs,
    pub cell_keys: cell_keys::CellKeys,
    pub lens_documents: code_lens::LensDocuments,
    initialized: AtomicBool,
    shutdown_requested: AtomicBool,
}

impl Core {
    pub fn flags(&self) -> ClientFlags {
        *self
            .flags
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The `LanguageServer` implementation: each method converts, runs the feature on a
/// snapshot off the async threads, and converts back.
pub struct Backend {
    core: Arc<Core>,
}

/// Runs `work` on a blocking thread; a panic in it becomes an internal-error response.
pub(crate) async fn run_blocking<T, F>(work: F) -> jsonrpc::Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| internal_error(&error.to_string()))
}

fn internal_error(message: &str) -> jsonrpc::Error {
    let mut error = jsonrpc::Error::internal_error();
    error.message = format!("jellycell-lsp internal error: {message}").into();
    error
}

impl Backend {
    fn new(client: Client) -> Self {
        Backend {
            core: Arc::new(Core {
                state: State::default(),
                client,
                flags: std::sync::Mutex::new(ClientFlags::default()),
                scheduler: diagnostics::Scheduler::default(),
                environment_hints: environment_hints::EnvironmentHints::default(),
                workspace_folders: std::sync::Mutex::new(Vec::new()),
                previews: preview::Previews::default(),
                runs: runs::Runs::default(),
                cell_keys: cell_keys::CellKeys::default(),
                lens_documents: code_lens::LensDocuments::default(),
                initialized: AtomicBool::new(false),
                shutdown_requested: AtomicBool::new(false),
            }),
        }
    }

    /// Runs `feature` on a snapshot of `uri` (rebuilt if stale when `fresh`) on a
    /// blocking thread; `None` when the document is not open.
    async fn on_snapshot<T, F>(
        &self,
        uri: &Uri,
        fresh: bool,
        feature: F,
    ) -> jsonrpc::Result<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce(&Core, &state::Snapshot) -> Option<T> + Send + 'static,
    {
        let core = self.core.clone();
        let uri = uri.clone();
        let worker = core.clone();
        let answer = run_blocking(move || {
            let snapshot = if fresh {
                worker.state.snapshot(&uri)
            } else {
                worker.state.snapshot_latest(&uri)
            }?;
            feature(&worker, &snapshot)
        })
        .await;
        tokio::task::spawn_blocking(move || core.state.collect_garbage());
        answer
    }

    async fn cell_outputs(&self, params: Value) -> jsonrpc::Result<Value> {
        cell_outputs::handle(self.core.clone(), params).await
    }

    async fn debug_panic(&self, params: Value) -> jsonrpc::Result<Value> {
        if params.get("where").and_then(Value::as_str) == Some("async") {
            std::panic::panic_any("jellycell/debugPanic (async) as asked");
        }
        run_blocking(|| -> Value { std::panic::panic_any("jellycell/debugPanic as asked") }).await
    }
}

fn capabilities(encoding: crate::text::PositionEncoding, flags: ClientFlags) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(convert::encoding_kind(encoding)),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                // A save may follow an install: the environment hints look again.
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..TextDocumentSyncOptions::default()
            },
        )),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(
                ["\"", "'", "=", ".", "[", ",", " ", "/"]
                    .iter()
                    .map(|c| c.to_string())
                    .collect(),
            ),
            ..CompletionOptions::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        })),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        diagnostic_provider: flags.pull_diagnostics.then(|| {
            DiagnosticServerCapabilities::Options(DiagnosticOptions {
                identifier: Some(convert::SOURCE.to_string()),
                inter_file_dependencies: true,
                workspace_diagnostics: false,
                work_done_progress_options: WorkDoneProgressOptions::default(),
            })
        }),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: commands::COMMANDS
                .iter()
                .map(|command| command.to_string())
                .collect(),
            // Clients may then send a workDoneToken with a run command; runs report on it.
            work_done_progress_options: WorkDoneProgressOptions {
                work_done_progress: Some(true),
            },
        }),
        code_lens_provider: flags.run.code_lens.then_some(CodeLensOptions {
            resolve_provider: Some(true),
        }),
        inlay_hint_provider: flags.run.inlay_hints.then_some(OneOf::Left(true)),
        workspace: Some(WorkspaceServerCapabilities {
            workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        ..ServerCapabilities::default()
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> jsonrpc::Result<InitializeResult> {
        let capabilities_of_client = &params.capabilities;
        let encoding = convert::negotiate_encoding(
            capabilities_of_client
                .general
                .as_ref()
                .and_then(|general| general.position_encodings.as_deref()),
        );
        let diagnostic_refresh = capabilities_of_client
            .workspace
            .as_ref()
            .and_then(|workspace| workspace.diagnostics.as_ref())
            .and_then(|diagnostics| diagnostics.refresh_support)
            .unwrap_or(false);
        let flags = ClientFlags {
            pull_diagnostics: capabilities_of_client
                .text_document
                .as_ref()
                .is_some_and(|text| text.diagnostic.is_some())
                && diagnostic_refresh,
            diagnostic_refresh,
            watched_files_registration: capabilities_of_client
                .workspace
                .as_ref()
                .and_then(|workspace| workspace.did_change_watched_files.as_ref())
                .and_then(|watched| watched.dynamic_registration)
                .unwrap_or(false),
            show_document: capabilities_of_client
                .window
                .as_ref()
                .and_then(|window| window.show_document.as_ref())
                .is_some_and(|show| show.support),
            run: runs::RunFlags::from_initialize(&params),
            hover_without_images: params
                .initialization_options
                .as_ref()
                .and_then(|options| options.get("hoverImages"))
                .and_then(Value::as_bool)
                == Some(false),
            inline_outputs: params
                .initialization_options
                .as_ref()
                .and_then(|options| options.get("inlineOutputs"))
                .and_then(Value::as_bool)
                != Some(false),
            hover_plain_links: params
                .initialization_options
                .as_ref()
                .and_then(|options| options.get("hoverLinks"))
                .and_then(Value::as_str)
                == Some("plain"),
            lenses_resolved_up_to: params
                .initialization_options
                .as_ref()
                .and_then(|options| options.get("lensesResolvedUpTo"))
                .and_then(Value::as_u64)
                .and_then(|limit| usize::try_from(limit).ok())
                .unwrap_or(code_lens::RESOLVED_UP_TO),
        };
        self.core.state.set_encoding(encoding);
        self.core
            .previews
            .configure(params.initialization_options.as_ref());
        self.core
            .runs
            .configure(params.initialization_options.as_ref());
        *self
            .core
            .flags
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = flags;
        let mut folders: Vec<std::path::PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|folder| state::file_path(&folder.uri))
            .collect();
        #[allow(deprecated)]
        if folders.is_empty()
            && let Some(root) = params.root_uri.as_ref().and_then(state::file_path)
        {
            folders.push(root);
        }
        *self
            .core
            .workspace_folders
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = folders;
        self.core.initialized.store(true, Ordering::SeqCst);
        Ok(InitializeResult {
            capabilities: capabilities(encoding, flags),
            server_info: Some(ServerInfo {
                name: "jellycell-lsp".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        cache_watch::start(&self.core);
        // Read the projects of the workspace folders in the background, so that names from
        // notebooks that are not open are known by the first request.
        let folders = self
            .core
            .workspace_folders
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        for folder in folders {
            if folder.join(crate::project::CONFIG_FILE).is_file() {
                let core = self.core.clone();
                tokio::task::spawn_blocking(move || core.state.prewarm(&folder));
            }
        }
        if !self.core.flags().watched_files_registration {
            return;
        }
        let notebooks = ["**/*.py", "**/*.md"].map(str::to_string);
        let settings = crate::project::SETTINGS_FILES.map(|file| format!("**/{file}"));
        let watchers = notebooks
            .into_iter()
            .chain(settings)
            .map(|glob| FileSystemWatcher {
                glob_pattern: GlobPattern::String(glob),
                kind: None,
            })
            .collect();
        let registration = Registration {
            id: "jellycell-watched-files".to_string(),
            method: "workspace/didChangeWatchedFiles".to_string(),
            register_options: serde_json::to_value(DidChangeWatchedFilesRegistrationOptions {
                watchers,
            })
            .ok(),
        };
        // Never wait on the client's answer (some clients never send one).
        let client = self.core.client.clone();
        tokio::spawn(async move {
            let _ = client.register_capability(vec![registration]).await;
        });
    }

    async fn shutdown(&self) -> jsonrpc::Result<()> {
        self.core.shutdown_requested.store(true, Ordering::SeqCst);
        self.core.runs.shutdown().await;
        Ok(())
    }

    async fn code_lens_resolve(&self, lens: CodeLens) -> jsonrpc::Result<CodeLens> {
        let core = self.core.clone();
        let answer = run_blocking(move || code_lens::resolve(&core, lens)).await;
        let core = self.core.clone();
        tokio::task::spawn_blocking(move || core.state.collect_garbage());
        answer
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        let mut folders = self
            .core
            .workspace_folders
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let removed: Vec<_> = params
            .event
            .removed
            .iter()
            .filter_map(|folder| state::file_path(&folder.uri))
            .collect();
        folders.retain(|folder| !removed.contains(folder));
        folders.extend(
            params
                .event
                .added
                .iter()
                .filter_map(|folder| state::file_path(&folder.uri)),
        );
    }

    async fn completion(
        &self,
        params: CompletionParams,
    ) -> jsonrpc::Result<Option<CompletionResponse>> {
        let position = params.text_document_position.position;
        self.on_snapshot(
            &params.text_document_position.text_document.uri,
            false,
            move |_, snapshot| completion::complete(snapshot, position),
        )
        .await
    }

    async fn execute_command(
        &self,
        params: ExecuteCommandParams,
    ) -> jsonrpc::Result<Option<Value>> {
        commands::execute(&self.core, params).await
    }

    async fn hover(&self, params: HoverParams) -> jsonrpc::Result<Option<Hover>> {
        let position = params.text_document_position_params.position;
        self.on_snapshot(
            &params.text_document_position_params.text_document.uri,
            true,
            move |core, snapshot| hover::hover(core, snapshot, position),
        )
        .await
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> jsonrpc::Result<Option<GotoDefinitionResponse>> {
        let position = params.text_document_position_params.position;
        self.on_snapshot(
            &params.text_document_position_params.text_document.uri,
            true,
            move |core, snapshot| definition::definition(&core.state, snapshot, position),
        )
        .await
    }

    async fn references(&self, params: ReferenceParams) -> jsonrpc::Result<Option<Vec<Location>>> {
        let position = params.text_document_position.position;
        let include_declaration = params.context.include_declaration;
        self.on_snapshot(
            &params.text_document_position.text_document.uri,
            true,
            move |core, snapshot| {
                references::references(&core.state, snapshot, position, include_declaration)
            },
        )
        .await
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> jsonrpc::Result<Option<PrepareRenameResponse>> {
        let position = params.position;
        self.on_snapshot(&params.text_document.uri, true, move |_, snapshot| {
            rename::prepare(snapshot, position)
        })
        .await
    }

    async fn rename(&self, params: RenameParams) -> jsonrpc::Result<Option<WorkspaceEdit>> {
        let position = params.text_document_position.position;
        let new_name = params.new_name;
        let result = self
            .on_snapshot(
                &params.text_document_position.text_document.uri,
                true,
                move |core, snapshot| rename::rename(&core.state, snapshot, position, &new_name),
            )
            .await?;
        match result {
            None => Ok(None),
            Some(Ok(edit)) => Ok(edit),
            Some(Err(message)) => Err(jsonrpc::Error::invalid_params(message)),
        }
    }

    async fn code_action(
        &self,
        params: CodeActionParams,
    ) -> jsonrpc::Result<Option<CodeActionResponse>> {
        let range = params.range;
        let context = params.context;
        self.on_snapshot(&params.text_document.uri, true, move |core, snapshot| {
            code_actions::code_actions(&core.state, snapshot, range, &context)
        })
        .await
    }

    async fn diagnostic(
        &self,
        params: DocumentDiagnosticParams,
    ) -> jsonrpc::Result<DocumentDiagnosticReportResult> {
        let items = self
            .on_snapshot(&params.text_document.uri, true, |core, snapshot| {
                Some(diagnostics::diagnostics_for(core, snapshot))
            })
            .await?
            .unwrap_or_default();
        Ok(DocumentDiagnosticReportResult::Report(
            DocumentDiagnosticReport::Full(RelatedFullDocumentDiagnosticReport {
                related_documents: None,
                full_document_diagnostic_report: FullDocumentDiagnosticReport {
                    result_id: None,
                    items,
                },
            }),
        ))
    }
}

/// The tower service between the transport and tower-lsp: applies document
/// notifications in arrival order and turns handler panics into error responses.
struct Ordered<S> {
    inner: S,
    core: Arc<Core>,
}

impl<S> Service<Request> for Ordered<S>
where
    S: Service<Request, Response = Option<Response>, Error = ExitedError>,
    S::Future: Send + 'static,
{
    type Response = Option<Outgoing>;
    type Error = ExitedError;
    type Future = BoxFuture<'static, Result<Option<Outgoing>, ExitedError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ExitedError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.id().is_none()
            && self.core.initialized.load(Ordering::SeqCst)
            && sync::handles(request.method())
        {
            // Applied here, synchronously, before the next message is even read. A panic
            // must not take the transport's read loop down with it.
            let core = &self.core;
            let applied = std::panic::catch_unwind(AssertUnwindSafe(|| {
                sync::apply(core, request.method(), request.params())
            }));
            if applied.is_err() {
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "jellycell-lsp: {} failed; the document may be out of date until reopened",
                    request.method()
                );
            }
            return Box::pin(async { Ok(None) });
        }
        if let Some(id) = request.id()
            && request.method().starts_with("$/")
        {
            // tower-lsp drops every `$/` method it does not know, requests too; the spec
            // says a request must be answered (MethodNotFound), only notifications ignored.
            let mut error = jsonrpc::Error::method_not_found();
            error.message = format!("jellycell-lsp does not implement {}", request.method()).into();
            let answer = Outgoing::Message(Response::from_error(id.clone(), error));
            return Box::pin(async { Ok(Some(answer)) });
        }
        let id = request.id().cloned();
        let future = if id.is_some()
            && encoded::handles(request.method())
            && self.core.initialized.load(Ordering::SeqCst)
            && !self.core.shutdown_requested.load(Ordering::SeqCst)
        {
            let (method, id, params) = request.into_parts();
            encoded::answer(self.core.clone(), &method, id.unwrap_or_default(), params)
                .map(Ok)
                .boxed()
        } else {
            self.inner
                .call(request)
                .map(|result| result.map(|answer| answer.map(Outgoing::Message)))
                .boxed()
        };
        Box::pin(async move {
            match AssertUnwindSafe(future).catch_unwind().await {
                Ok(result) => result,
                Err(panic) => {
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|text| text.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "a handler panicked".to_string());
                    Ok(id.map(|id| {
                        Outgoing::Message(Response::from_error(id, internal_error(&message)))
                    }))
                }
            }
        })
    }
}

/// Serves LSP on stdin/stdout until `exit`. Returns the process exit code: 0 after a
/// `shutdown` request, 1 when `exit` came without one (as the spec asks).
pub fn run_stdio() -> i32 {
    arenas::limit_malloc_arenas();
    crate::kernel::clean_up_on_signals();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("jellycell-lsp")
        // Analysis is CPU-bound: a few threads are enough, and fewer threads keep fewer
        // malloc arenas holding freed memory. Two of them are tokio's stdin reader and
        // stdout writer, which block on the pipes.
        .max_blocking_threads(8)
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "jellycell-lsp: cannot start the async runtime: {error}"
            );
            return 2;
        }
    };
    let code = runtime.block_on(async {
        let mut builder = LspService::build(Backend::new)
            .custom_method(cell_outputs::METHOD, Backend::cell_outputs);
        if std::env::var(DEBUG_PANIC_ENV).as_deref() == Ok("1") {
            builder = builder.custom_method("jellycell/debugPanic", Backend::debug_panic);
        }
        let (service, socket) = builder.finish();
        let core = service.inner().core.clone();
        let ordered = Ordered {
            inner: service,
            core: core.clone(),
        };
        transport::widen_stdout_pipe();
        transport::serve(tokio::io::stdin(), transport::stdout(), socket, ordered).await;
        if core.shutdown_requested.load(Ordering::SeqCst) {
            0
        } else {
            1
        }
    });
    // Do not wait for analysis still running for a client that has gone.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    code
}

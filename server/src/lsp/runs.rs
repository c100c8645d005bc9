//! Runs inside the server: one warm kernel per notebook and a queue of runs per notebook.
//!
//! A run command only enqueues (the command answers at once); a worker task per notebook
//! takes the runs in order, plans each against the cache from the buffer's text as it is
//! when the run starts (so a queued run sees what the runs before it cached), and executes
//! it with `run::execute_plan_on` on the notebook's kernel, which is started on the first
//! run that needs one and kept warm. Kernel IO lives in the worker and the kernel's own
//! tasks; handlers only read the small [`QueueView`] under a mutex. `interrupt` stops the
//! running cell and the rest of its run (later runs still go); `restart` also shuts the
//! kernel down, and the next run starts a fresh one. Every kernel is shut down on the
//! `shutdown` request (and killed with the process on `exit`).
//!
//! Results go to the same store the CLI uses ([`Store::open_unindexed`]: the server never
//! holds the sled lock). Each finished cell reports progress, asks the client to refresh
//! lenses and hints, and re-publishes the notebook's diagnostics (`cell-error`).

use std::collections::{BTreeSet, HashMap};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use futures::FutureExt;
use tokio::sync::mpsc;
use tower_lsp_server::ls_types::{InitializeParams, MessageType, ProgressToken, Uri};

use super::kernel_status::{self, KernelState};
use super::progress::RunProgress;
use super::unsaved;
use super::{Core, run_blocking};

mod upstream;
use crate::analysis::graph::CellRef;
use crate::analysis::workspace::Workspace;
use crate::cache::Store;
use crate::format::tags::CellKind;
use crate::kernel::Kernel;
use crate::project::Project;
use crate::run::plan::{closure_in_notebook, stale_producers_elsewhere};
use crate::run::{
    Cancel, CellOutcome, Parameters, Plan, RunEvent, RunKernel, RunOptions, RunReport,
    execute_plan_on, plan_run,
};

/// How many times an interrupt is sent while the interrupted cell keeps running, and how
/// long apart.
const INTERRUPT_ATTEMPTS: usize = 10;
const INTERRUPT_AGAIN_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

/// What the client can do and wants, for runs and their display.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunFlags {
    /// `initializationOptions.codeLens` (default true).
    pub code_lens: bool,
    /// `initializationOptions.inlayHints` (default true).
    pub inlay_hints: bool,
    /// `window.workDoneProgress`: the client takes `window/workDoneProgress/create`.
    pub work_done_progress: bool,
    /// `workspace.codeLens.refreshSupport`.
    pub code_lens_refresh: bool,
    /// `workspace.inlayHint.refreshSupport`.
    pub inlay_hint_refresh: bool,
    /// `initializationOptions.kernelStatus` (default false): send `jellycell/kernelStatus`.
    pub kernel_status: bool,
}

impl Default for RunFlags {
    fn default() -> Self {
        RunFlags {
            code_lens: true,
            inlay_hints: true,
            work_done_progress: false,
            code_lens_refresh: false,
            inlay_hint_refresh: false,
            kernel_status: false,
        }
    }
}

impl RunFlags {
    pub fn from_initialize(params: &InitializeParams) -> RunFlags {
        let capabilities = &params.capabilities;
        let option_or = |name: &str, default: bool| {
            params
                .initialization_options
                .as_ref()
                .and_then(|options| options.get(name))
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(default)
        };
        let option = |name: &str| option_or(name, true);
        let workspace = capabilities.workspace.as_ref();
        RunFlags {
            code_lens: option("codeLens"),
            inlay_hints: option("inlayHints"),
            work_done_progress: capabilities
                .window
                .as_ref()
                .and_then(|window| window.work_done_progress)
                .unwrap_or(false),
            code_lens_refresh: workspace
                .and_then(|workspace| workspace.code_lens.as_ref())
                .and_then(|lens| lens.refresh_support)
                .unwrap_or(false),
            inlay_hint_refresh: workspace
                .and_then(|workspace| workspace.inlay_hint.as_ref())
                .and_then(|hint| hint.refresh_support)
                .unwrap_or(false),
            kernel_status: option_or("kernelStatus", false),
        }
    }
}

/// Which cells a run command executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// The cell, even when cached.
    Cell,
    /// The cell (even when cached) and the not-cached closure of its dependencies in
    /// this notebook.
    WithDeps,
    /// The not-cached cells above the cell.
    Above,
    /// Every not-cached cell (as `jellycell-lsp run`).
    All,
}

impl RunKind {
    fn title(self, cell: Option<usize>) -> String {
        let cell = cell.map_or_else(String::new, |cell| format!(" {cell}"));
        match self {
            RunKind::Cell => format!("jellycell: run cell{cell}"),
            RunKind::WithDeps => format!("jellycell: run cell{cell} with its dependencies"),
            RunKind::Above => format!("jellycell: run the cells above cell{cell}"),
            RunKind::All => "jellycell: run all".to_string(),
        }
    }
}

/// A run as a command asked for it.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub kind: RunKind,
    pub uri: Uri,
    pub cell: Option<usize>,
    /// The cursor line, when the command gave no cell.
    pub line: Option<usize>,
    /// The client's `workDoneToken` for the command, if it sent one.
    pub token: Option<ProgressToken>,
}

/// Where a cell stands in its notebook's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    Running,
    Waiting,
}

/// What lenses and hints show of a notebook's runs.
#[derive(Debug, Clone, Default)]
pub struct QueueView {
    running: Option<usize>,
    /// The cells still to execute in the current run.
    remaining: BTreeSet<usize>,
    /// The runs waiting, with the cell each was asked for.
    waiting: Vec<(RunKind, Option<usize>)>,
}

impl QueueView {
    pub fn state_of(&self, ordinal: usize) -> Option<Queued> {
        if self.running == Some(ordinal) {
            return Some(Queued::Running);
        }
        let waiting = self.remaining.contains(&ordinal)
            || self.waiting.iter().any(|(kind, cell)| match (kind, cell) {
                (RunKind::All, _) => true,
                (RunKind::Above, Some(cell)) => ordinal < *cell,
                (_, cell) => *cell == Some(ordinal),
            });
        waiting.then_some(Queued::Waiting)
    }
}

/// The runs of every notebook, and the stores they write.
#[derive(Default)]
pub(crate) struct Runs {
    notebooks: Mutex<HashMap<PathBuf, Arc<NotebookRuns>>>,
    /// One store per project root, shared by runs, lenses and diagnostics.
    stores: Mutex<HashMap<PathBuf, Arc<Store>>>,
    /// Set by the `shutdown` request: no run starts after it.
    closed: std::sync::atomic::AtomicBool,
    /// `initializationOptions.server`: a Jupyter server to run kernels on, over the
    /// project's `[run] server`.
    server: Mutex<Option<String>>,
}

struct NotebookRuns {
    jobs: mpsc::UnboundedSender<Work>,
    /// Runs of this notebook's producers that a run in another notebook waits for.
    upstream: mpsc::UnboundedSender<upstream::UpstreamJob>,
    shared: Mutex<Shared>,
}

#[derive(Default)]
struct Shared {
    next_id: u64,
    waiting: Vec<(u64, RunKind, Option<usize>)>,
    running: Option<Running>,
    /// A handle on the warm kernel, for interrupt and restart.
    kernel: Option<Kernel>,
    /// Bumped by restart: the worker drops a kernel of an older generation.
    generation: u64,
}

struct Running {
    /// The job's id.
    id: u64,
    cancel: Cancel,
    current: Option<usize>,
    remaining: BTreeSet<usize>,
}

/// What a notebook's worker does next, in the order it was asked for.
enum Work {
    Run(Job),
    /// The buffer was closed: shut the kernel down, unless it was opened again by then.
    Release(Uri),
}

struct Job {
    id: u64,
    request: RunRequest,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Runs {
    /// Reads `initializationOptions.server` (a Jupyter server's base URL).
    pub fn configure(&self, options: Option<&serde_json::Value>) {
        let server = options
            .and_then(|options| options.get("server"))
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|server| !server.is_empty())
            .map(str::to_string);
        *lock(&self.server) = server;
    }

    /// The store of `project` (shared; opened once).
    pub fn store_for(&self, project: &Project) -> Arc<Store> {
        lock(&self.stores)
            .entry(project.root.clone())
            .or_insert_with(|| Arc::new(Store::open_unindexed(project)))
            .clone()
    }

    /// Every store opened so far, by project root (for the cache watcher).
    pub fn stores(&self) -> Vec<(PathBuf, Arc<Store>)> {
        lock(&self.stores)
            .iter()
            .map(|(root, store)| (root.clone(), store.clone()))
            .collect()
    }

    /// The queue of the notebook at `path`, as lenses show it.
    pub fn queue_view(&self, path: &Path) -> QueueView {
        let Some(notebook) = lock(&self.notebooks).get(path).cloned() else {
            return QueueView::default();
        };
        let shared = lock(&notebook.shared);
        QueueView {
            running: shared.running.as_ref().and_then(|running| running.current),
            remaining: shared
                .running
                .as_ref()
                .map(|running| running.remaining.clone())
                .unwrap_or_default(),
            waiting: shared
                .waiting
                .iter()
                .map(|(_, kind, cell)| (*kind, *cell))
                .collect(),
        }
    }

    /// The runs of the notebook at `path`, its worker started on first use.
    fn notebook(&self, core: &Arc<Core>, path: PathBuf) -> Arc<NotebookRuns> {
        let mut notebooks = lock(&self.notebooks);
        notebooks
            .entry(path)
            .or_insert_with(|| {
                let (jobs, queue) = mpsc::unbounded_channel();
                let (upstream, lane) = mpsc::unbounded_channel();
                let notebook = Arc::new(NotebookRuns {
                    jobs,
                    upstream,
                    shared: Mutex::new(Shared::default()),
                });
                tokio::spawn(work(core.clone(), notebook.clone(), queue, lane));
                notebook
            })
            .clone()
    }

    /// Queues a run of the notebook at `path` and returns at once.
    pub fn enqueue(&self, core: &Arc<Core>, path: PathBuf, request: RunRequest) {
        let notebook = self.notebook(core, path);
        let id = {
            let mut shared = lock(&notebook.shared);
            shared.next_id += 1;
            let id = shared.next_id;
            shared.waiting.push((id, request.kind, request.cell));
            id
        };
        let uri = request.uri.clone();
        let _ = notebook.jobs.send(Work::Run(Job { id, request }));
        refresh_views(core, &uri);
    }

    /// The notebook's buffer was closed: once the runs queued before now are done, its
    /// kernel is shut down, unless the buffer was opened again by then.
    pub fn release(&self, path: &Path, uri: Uri) {
        if let Some(notebook) = lock(&self.notebooks).get(path) {
            let _ = notebook.jobs.send(Work::Release(uri));
        }
    }

    /// Interrupts the running cell of the notebook at `path` and stops the rest of its
    /// run; runs queued after it still go. False when nothing runs.
    pub fn interrupt(&self, path: &Path) -> bool {
        let Some(notebook) = lock(&self.notebooks).get(path).cloned() else {
            return false;
        };
        let shared = lock(&notebook.shared);
        let Some(running) = &shared.running else {
            return false;
        };
        running.cancel.cancel();
        let (id, cell) = (running.id, running.current);
        if let Some(kernel) = shared.kernel.clone() {
            // ipykernel ignores SIGINT outside of executing code, so a signal that lands
            // just before the cell's code starts is lost: send it again while the same
            // cell of the same run is still going.
            let notebook = notebook.clone();
            tokio::spawn(async move {
                for _ in 0..INTERRUPT_ATTEMPTS {
                    let _ = kernel.interrupt().await;
                    tokio::time::sleep(INTERRUPT_AGAIN_AFTER).await;
                    let shared = lock(&notebook.shared);
                    let same = shared
                        .running
                        .as_ref()
                        .is_some_and(|running| running.id == id && running.current == cell);
                    if !same {
                        break;
                    }
                }
            });
        }
        true
    }

    /// Stops the running run and shuts the notebook's kernel down; the next run starts a
    /// fresh one. False when the notebook had no kernel.
    pub fn restart(&self, path: &Path) -> bool {
        let Some(notebook) = lock(&self.notebooks).get(path).cloned() else {
            return false;
        };
        let mut shared = lock(&notebook.shared);
        if let Some(running) = &shared.running {
            running.cancel.cancel();
        }
        shared.generation += 1;
        match shared.kernel.take() {
            Some(kernel) => {
                tokio::spawn(async move {
                    let _ = kernel.shutdown().await;
                });
                true
            }
            None => false,
        }
    }

    fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stops every run and shuts every kernel down (the `shutdown` request); runs still
    /// queued never start.
    pub async fn shutdown(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        let notebooks: Vec<_> = lock(&self.notebooks).values().cloned().collect();
        let mut kernels = Vec::new();
        for notebook in notebooks {
            let mut shared = lock(&notebook.shared);
            if let Some(running) = &shared.running {
                running.cancel.cancel();
            }
            shared.generation += 1;
            kernels.extend(shared.kernel.take());
        }
        let all = futures::future::join_all(kernels.iter().map(|kernel| kernel.shutdown()));
        // Kernel shutdown waits for the process, then kills it: bounded already.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), all).await;
    }
}

/// A kernel the worker keeps warm, with the generation and kernel name it was started for.
struct Warm {
    generation: u64,
    name: String,
    /// What the notebook declared about its environment when the kernel started.
    environment: crate::kernel::NotebookEnvironment,
    kernel: RunKernel,
}

async fn work(
    core: Arc<Core>,
    notebook: Arc<NotebookRuns>,
    mut queue: mpsc::UnboundedReceiver<Work>,
    mut lane: mpsc::UnboundedReceiver<upstream::UpstreamJob>,
) {
    let mut warm: Option<Warm> = None;
    loop {
        // Another notebook's run waits for these: they go before this notebook's queue.
        let work = tokio::select! {
            biased;
            Some(job) = lane.recv() => {
                upstream::serve(&core, &notebook, &mut warm, &mut lane, job).await;
                continue;
            }
            work = queue.recv() => match work {
                Some(work) => work,
                None => break,
            },
        };
        let job = match work {
            Work::Run(job) => job,
            Work::Release(uri) => {
                if core.state.document(&uri).is_none()
                    && let Some(old) = warm.take()
                {
                    lock(&notebook.shared).kernel = None;
                    old.kernel.shutdown().await;
                    kernel_status::send(&core, &uri, KernelState::None);
                }
                continue;
            }
        };
        if core.runs.is_closed() {
            lock(&notebook.shared).waiting.clear();
            continue;
        }
        let cancel = Cancel::default();
        {
            let mut shared = lock(&notebook.shared);
            shared.waiting.retain(|(id, _, _)| *id != job.id);
            shared.running = Some(Running {
                id: job.id,
                cancel: cancel.clone(),
                current: None,
                remaining: BTreeSet::new(),
            });
        }
        let uri = job.request.uri.clone();
        let mut progress = RunProgress::begin(
            &core,
            job.request.token.clone(),
            job.request.kind.title(job.request.cell),
        );
        // A panic in one run must not take the notebook's queue down with it.
        let outcome = AssertUnwindSafe(run_job(
            &core,
            &notebook,
            &mut warm,
            &mut lane,
            &job.request,
            &cancel,
            &mut progress,
        ))
        .catch_unwind()
        .await
        .unwrap_or_else(|_| Err("internal error: the run panicked; please report it".into()));
        let failed = outcome.is_err();
        let summary = outcome.unwrap_or_else(|message| {
            let client = core.client.clone();
            let shown = format!("jellycell: {message}");
            tokio::spawn(async move { client.show_message(MessageType::ERROR, shown).await });
            message
        });
        lock(&notebook.shared).running = None;
        kernel_status::send_with(
            &core,
            &uri,
            kernel_state(&notebook, warm.as_ref(), failed),
            warm.as_ref()
                .map(|warm| warm.kernel.environment().describe()),
            warm.as_ref()
                .and_then(|warm| warm.kernel.kernel().remote_label()),
        );
        progress.end(summary);
        refresh_views(&core, &uri);
        refresh_diagnostics(&core, &uri);
    }
    if let Some(warm) = warm {
        warm.kernel.shutdown().await;
    }
}

/// What the notebook's kernel is doing once a run ended (`failed`: it could not run).
fn kernel_state(notebook: &NotebookRuns, warm: Option<&Warm>, failed: bool) -> KernelState {
    match warm {
        Some(warm) if warm.generation != lock(&notebook.shared).generation => KernelState::None,
        Some(warm) if warm.kernel.kernel().is_alive() => KernelState::Idle,
        Some(_) => KernelState::Dead,
        None if failed => KernelState::Dead,
        None => KernelState::None,
    }
}

/// Plans and executes one run; the summary for the progress end, or why it could not run.
async fn run_job(
    core: &Arc<Core>,
    notebook: &Arc<NotebookRuns>,
    warm: &mut Option<Warm>,
    lane: &mut mpsc::UnboundedReceiver<upstream::UpstreamJob>,
    request: &RunRequest,
    cancel: &Cancel,
    progress: &mut RunProgress,
) -> Result<String, String> {
    let planner = core.clone();
    let for_plan = request.clone();
    let (mut workspace, mut plan, mut store, scratch_notice) =
        run_blocking(move || plan_request(&planner, &for_plan))
            .await
            .map_err(|error| error.message.to_string())??;
    if request.kind == RunKind::WithDeps {
        // As `jellycell-lsp run`: the producers in other notebooks of what the closure
        // loads, when not current, run first (each in its own notebook's kernel).
        let ran = upstream::run_producers_first(
            core, notebook, warm, lane, &workspace, &store, &plan, progress,
        )
        .await?;
        if ran {
            let planner = core.clone();
            let for_plan = request.clone();
            (workspace, plan, store, _) = run_blocking(move || plan_request(&planner, &for_plan))
                .await
                .map_err(|error| error.message.to_string())??;
        }
    }
    if let Some(notice) = scratch_notice {
        progress.message(notice.text.clone());
        if notice.first {
            let client = core.client.clone();
            let shown = format!("jellycell: {}", notice.text);
            tokio::spawn(async move { client.show_message(MessageType::INFO, shown).await });
        }
    }
    let executing: BTreeSet<usize> = plan.executing().into_iter().collect();
    if let Some(running) = lock(&notebook.shared).running.as_mut() {
        running.remaining = executing.clone();
    }
    progress.set_total(executing.len());
    refresh_views(core, &request.uri);
    if executing.is_empty() {
        return Ok("nothing to run: every cell asked for is cached".to_string());
    }
    if cancel.is_cancelled() {
        return Ok("cancelled".to_string());
    }
    let warm = warm_kernel(
        core,
        notebook,
        warm,
        &workspace.project,
        &plan,
        &request.uri,
        progress,
    )
    .await?;
    let uri = request.uri.clone();
    let events_core = core.clone();
    let events_notebook = notebook.clone();
    let mut on_event = |event: RunEvent<'_>| match event {
        RunEvent::KernelStarting { .. } | RunEvent::CellOutputs { .. } => {}
        RunEvent::CellStarted { cell } => {
            if let Some(running) = lock(&events_notebook.shared).running.as_mut() {
                running.current = Some(cell.ordinal);
                running.remaining.remove(&cell.ordinal);
            }
            refresh_views(&events_core, &uri);
        }
        RunEvent::CellFinished { report } => {
            if !matches!(
                report.status,
                CellOutcome::Ok | CellOutcome::Error | CellOutcome::Setup
            ) {
                return;
            }
            if let Some(running) = lock(&events_notebook.shared).running.as_mut() {
                running.current = None;
            }
            progress.cell_done(report);
            refresh_views(&events_core, &uri);
            refresh_diagnostics(&events_core, &uri);
        }
    };
    let report = execute_plan_on(
        &workspace.project,
        &plan,
        &store,
        Some(&mut warm.kernel),
        false,
        cancel,
        &mut on_event,
    )
    .await;
    let mut text = summary(&report, cancel.is_cancelled());
    if !warm.kernel.kernel().is_alive() {
        // Killed for not honouring an interrupt, or it died: say so beyond the cell's error.
        let message = format!(
            "the kernel of {} stopped (see the cell's error); the next run starts a fresh one",
            request.uri.path()
        );
        text.push_str(&format!("; {message}"));
        let client = core.client.clone();
        tokio::spawn(async move {
            client
                .show_message(MessageType::WARNING, format!("jellycell: {message}"))
                .await;
        });
    }
    Ok(text)
}

/// The notebook's warm kernel for `kernel_name`, started (and the old one shut down) when
/// it has none of the current generation, of that name, alive.
async fn warm_kernel<'w>(
    core: &Arc<Core>,
    notebook: &NotebookRuns,
    warm: &'w mut Option<Warm>,
    project: &Project,
    plan: &Plan,
    uri: &Uri,
    progress: &RunProgress,
) -> Result<&'w mut Warm, String> {
    let generation = lock(&notebook.shared).generation;
    if warm.as_ref().is_some_and(|warm| {
        warm.generation != generation
            || warm.name != plan.kernel
            || warm.environment != plan.environment
            || !warm.kernel.kernel().is_alive()
    }) && let Some(old) = warm.take()
    {
        old.kernel.shutdown().await;
    }
    if warm.is_none() {
        progress.message(format!("starting kernel {}", plan.kernel));
        kernel_status::send(core, uri, KernelState::Starting);
        let options = RunOptions {
            server: lock(&core.runs.server).clone(),
            ..RunOptions::new()
        };
        let kernel = RunKernel::start_for(project, plan, &options)
            .await
            .map_err(|error| error.to_string())?;
        progress.message(format!("kernel: {}", kernel.environment().describe()));
        watch_connection(core, uri, kernel.kernel());
        let mut shared = lock(&notebook.shared);
        // A restart while this kernel started finds nothing to shut down: this one is
        // already fresh, so it belongs to the current generation.
        shared.kernel = Some(kernel.kernel().clone());
        *warm = Some(Warm {
            generation: shared.generation,
            name: plan.kernel.clone(),
            environment: plan.environment.clone(),
            kernel,
        });
    }
    let warm = warm
        .as_mut()
        .ok_or_else(|| "the kernel did not start".to_string())?;
    kernel_status::send_with(
        core,
        uri,
        KernelState::Busy,
        Some(warm.kernel.environment().describe()),
        warm.kernel.kernel().remote_label(),
    );
    Ok(warm)
}

/// For a kernel on a Jupyter server: reports a lost connection as soon as it is noticed
/// (within about 5 s of the server going away), run or not: the status becomes `dead`
/// and a warning says so. The next run then starts a new kernel.
fn watch_connection(core: &Arc<Core>, uri: &Uri, kernel: &Kernel) {
    let Some(location) = kernel.remote_label() else {
        return;
    };
    let lost = kernel.connection_lost();
    let core = core.clone();
    let uri = uri.clone();
    tokio::spawn(async move {
        let Some(message) = lost.await else {
            return;
        };
        kernel_status::send_with(&core, &uri, KernelState::Dead, None, Some(location));
        core.client
            .show_message(MessageType::WARNING, format!("jellycell: {message}"))
            .await;
    });
}

/// Said when a buffer runs in a scratch folder (`first`: the first run there).
struct ScratchNotice {
    text: String,
    first: bool,
}

type PlannedRequest = (Arc<Workspace>, Plan, Arc<Store>, Option<ScratchNotice>);

/// The buffer's snapshot, planned and narrowed to what `request` runs. Blocking.
fn plan_request(core: &Core, request: &RunRequest) -> Result<PlannedRequest, String> {
    let snapshot = core
        .state
        .snapshot(&request.uri)
        .ok_or_else(|| format!("{} is not open; open it to run it", request.uri.as_str()))?;
    let path = core.state.document(&request.uri).and_then(|open| open.path);
    let mut scratch_notice = None;
    let (workspace, file) = match unsaved::scratch_for(&request.uri, path.as_deref()) {
        Some(scratch) => {
            let first = unsaved::prepare(&scratch).map_err(|error| {
                format!(
                    "cannot create the scratch folder {}: {error}",
                    scratch.root.display()
                )
            })?;
            scratch_notice = Some(ScratchNotice {
                text: format!(
                    "{} is not a saved notebook in a project: it runs in the scratch folder {} \
                     (removed when the server exits); save it in a project to keep its results",
                    request.uri.as_str(),
                    scratch.root.display()
                ),
                first,
            });
            let text = snapshot.document.text();
            (Arc::new(unsaved::workspace(&scratch, text)), 0)
        }
        None => (
            snapshot
                .workspace
                .clone()
                .ok_or_else(|| format!("{} is not a notebook", request.uri.as_str()))?,
            snapshot.file_index,
        ),
    };
    let notebook = workspace
        .files
        .get(file)
        .ok_or_else(|| "the notebook is gone".to_string())?;
    let cell = request.cell.or_else(|| {
        let offset = snapshot.document.line_start(request.line?)?;
        notebook
            .notebook
            .cells
            .iter()
            .rposition(|cell| cell.spans.whole.start <= offset)
    });
    let store = core.runs.store_for(&workspace.project);
    let mut plan = plan_run(&workspace, file, &Parameters::default(), false, &store);
    // A cell that loads what a stale producer in another notebook writes runs on the file
    // as it is, and is not cached (as `run --no-deps`).
    plan.unrecorded = stale_producers_elsewhere(&workspace, file, &store)
        .into_iter()
        .map(|stale| stale.consumer)
        .collect();
    if request.kind != RunKind::All {
        let cell = cell.ok_or_else(|| {
            "this command needs a cell: pass {\"uri\": …, \"cell\": N} (or \"line\")".to_string()
        })?;
        let planned = plan.cells.iter().find(|planned| planned.ordinal == cell);
        match (request.kind, planned.map(|planned| planned.kind)) {
            (RunKind::Above, _) => {}
            (_, None) => return Err(format!("cell {cell} is not a code cell")),
            (_, Some(CellKind::Setup)) => {
                return Err(format!(
                    "cell {cell} is a jc.setup cell: it runs by itself (once per kernel, and \
                     again after an edit) before the first cell that runs; run a cell below it"
                ));
            }
            (_, Some(CellKind::Note)) => {
                return Err(format!("cell {cell} is a jc.note cell: notes never run"));
            }
            _ => {}
        }
        let ordinals: BTreeSet<usize> = match request.kind {
            RunKind::Cell => [cell].into(),
            // Every cell of this notebook its key covers: named deps, the producers of
            // the variables it reads, the producers of what it loads.
            RunKind::WithDeps => closure_in_notebook(
                &workspace,
                &store,
                &[CellRef {
                    notebook: file,
                    ordinal: cell,
                }],
            ),
            RunKind::Above => (0..cell).collect(),
            RunKind::All => BTreeSet::new(),
        };
        plan.select(&ordinals, request.kind == RunKind::Cell);
        if request.kind == RunKind::WithDeps
            && let Some(target) = plan
                .cells
                .iter_mut()
                .find(|planned| planned.ordinal == cell)
        {
            target.hit = None;
        }
    }
    Ok((workspace, plan, store, scratch_notice))
}

fn summary(report: &RunReport, cancelled: bool) -> String {
    let count = |outcome| report.count(outcome);
    let mut text = format!(
        "{} ran, {} failed",
        count(CellOutcome::Ok) + count(CellOutcome::Error),
        count(CellOutcome::Error)
    );
    if cancelled {
        text.push_str(" (stopped)");
    }
    text
}

/// Asks the client to fetch lenses and hints again (when it can be asked); never waits.
pub(crate) fn refresh_views(core: &Arc<Core>, _uri: &Uri) {
    let flags = core.flags().run;
    if flags.code_lens && flags.code_lens_refresh {
        let client = core.client.clone();
        tokio::spawn(async move {
            let _ = client.code_lens_refresh().await;
        });
    }
    if flags.inlay_hints && flags.inlay_hint_refresh {
        let client = core.client.clone();
        tokio::spawn(async move {
            let _ = client.inlay_hint_refresh().await;
        });
    }
}

/// Publishes the notebook's diagnostics again (its `cell-error`s may have changed).
pub(crate) fn refresh_diagnostics(core: &Arc<Core>, uri: &Uri) {
    if core.flags().pull_diagnostics {
        if core.flags().diagnostic_refresh {
            let client = core.client.clone();
            tokio::spawn(async move {
                let _ = client.workspace_diagnostic_refresh().await;
            });
        }
    } else {
        core.scheduler.schedule(core, uri);
    }
}

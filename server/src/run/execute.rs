//! Executing a plan: no kernel when everything is a hit; otherwise one kernel (the CLI's
//! own, or a caller's warm [`RunKernel`]), the prelude once per kernel, setup cells first
//! (in order, never cached; in a warm kernel only when they changed), the injected parameters cell
//! after the cell tagged `parameters`, then the misses in order, hits skipped. Each miss
//! gets a timeout, an artifact diff, its outputs stored as blobs and a manifest. The first
//! error stops the run unless `keep_going`; a [`Cancel`] stops it between cells and keeps
//! the interrupted cell out of the cache.
//!
//! Outputs are captured as Jupyter frontends show them: `clear_output` is applied
//! (`wait=True` clears when the next output arrives), `update_display_data` replaces the
//! earlier display with that id, and consecutive stream text of one stream is merged.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::cache::blobs::BlobRef;
use crate::cache::key::{KEY_VERSION, KeyInputs};
use crate::cache::manifest::{
    InputRecord, LoadRecord, MANIFEST_SCHEMA_VERSION, Manifest, ManifestStatus, OutputRecord,
    SnapshotRecord, UnsnapshottedRecord, utc_now,
};
use crate::cache::store::Store;
use crate::format::tags::CellKind;
use crate::kernel::{
    Environment, EnvironmentChoice, EnvironmentKind, ExecutionResult, ExecutionStatus, Kernel,
    KernelError, KernelEvent, KernelOptions, NotebookEnvironment, Output, RemoteServer, SpecSearch,
};
use crate::project::Project;
use crate::run::plan::{Plan, PlannedCell};
use crate::run::report::{CellError, CellOutcome, CellReport, RunReport, RunStatus};
use crate::run::restore::Prepared;
use crate::run::state::{self, Holdings};
use crate::run::{artifacts, remote_files, traceback};

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Keep executing after a cell fails.
    pub keep_going: bool,
    /// Where to find the kernel.
    pub search: SpecSearch,
    /// Where the kernel's connection file goes (default: the temp dir).
    pub runtime_dir: Option<std::path::PathBuf>,
    /// A Jupyter server to run on, over `[run] server` (`--server`, the editor's setting).
    pub server: Option<String>,
}

impl RunOptions {
    pub fn new() -> RunOptions {
        RunOptions {
            keep_going: false,
            search: SpecSearch::from_env(),
            runtime_dir: None,
            server: None,
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions::new()
    }
}

/// What happens during a run, for progress displays.
#[derive(Debug)]
pub enum RunEvent<'a> {
    /// A kernel is being started (only when something misses).
    KernelStarting { name: &'a str },
    /// A cell starts executing.
    CellStarted { cell: &'a PlannedCell },
    /// The outputs of a cell that executed, as a frontend shows them at its end
    /// (`clear_output` and `update_display_data` applied), just before its `CellFinished`.
    CellOutputs {
        cell: &'a PlannedCell,
        outputs: &'a [Output],
    },
    /// A cell's outcome (hits and skipped cells too), in execution order.
    CellFinished { report: &'a CellReport },
}

/// The context comment appended to each cell when jellycell is importable: the prelude's
/// `pre_run_cell` hook reads it, so setting `jc`'s context costs no extra round trip.
const CONTEXT_MARKER: &str = "# jellycell-lsp-context: ";

/// What the prelude prints when `jc` is available.
const JC_MARKER: &str = "jellycell-lsp: jc available";

/// One megabyte, as `[run] snapshot_max_mb` counts.
const MEGABYTE: u64 = 1 << 20;

/// For a remote kernel started in the notebook's `folder`: back to the server's root, the
/// project root. Only when the working directory is that folder: a server that had no such
/// folder started the kernel in its root already.
fn up_to_root(folder: &str) -> String {
    let folder = Value::String(folder.to_string());
    format!(
        r#"def _jellycell_lsp_up_to_root(folder):
    import os
    here = os.getcwd()
    tail = os.path.join(*folder.split("/"))
    if here.endswith(os.sep + tail):
        os.chdir(here[: len(here) - len(tail)])
_jellycell_lsp_up_to_root({folder})
del _jellycell_lsp_up_to_root
"#
    )
}

fn prelude(root: &str) -> String {
    let root = Value::String(root.to_string());
    format!(
        r#"def _jellycell_lsp_prelude():
    import importlib.util, json, os, sys
    os.chdir({root})
    try:
        if importlib.util.find_spec("jellycell") is None:
            return False
    except Exception:
        return False
    # jellycell is imported on first use (of `jc`, or by a cell naming it), not here:
    # a run whose cells never use it does not pay for the import.
    state = {{"context": None, "project": None}}
    def activate():
        from pathlib import Path
        from jellycell.paths import Project
        from jellycell.run.context import RunContext, set_context
        if state["project"] is None:
            state["project"] = Project.from_path(Path({root}))
        context = state["context"]
        if context is not None:
            set_context(RunContext(notebook=context["notebook"], cell_id=context["cell_id"],
                                   cell_name=context["cell_name"], project=state["project"]))
    class LazyJc:
        def __getattr__(self, name):
            import jellycell.api
            if get_ipython().user_ns.get("jc") is self:
                get_ipython().user_ns["jc"] = jellycell.api
            activate()
            return getattr(jellycell.api, name)
        def __repr__(self):
            return "<jellycell.api, imported on first use>"
    marker = "\n{CONTEXT_MARKER}"
    def pre_run_cell(info):
        raw = getattr(info, "raw_cell", "") or ""
        at = raw.rfind(marker)
        if at < 0:
            return
        try:
            state["context"] = json.loads(raw[at + len(marker):])
        except ValueError:
            return
        if "jellycell" in sys.modules or "jellycell" in raw[:at]:
            activate()
    get_ipython().events.register("pre_run_cell", pre_run_cell)
    get_ipython().user_ns["jc"] = LazyJc()
    return True
if _jellycell_lsp_prelude():
    print({JC_MARKER:?})
del _jellycell_lsp_prelude
"#
    )
}

/// Executes `plan` in a kernel of its own, started only when something misses and shut
/// down at the end (the CLI's run). Fails only when the kernel cannot be found or started.
pub async fn execute_plan(
    project: &Project,
    plan: &Plan,
    store: &Store,
    options: &RunOptions,
    on_event: &mut (dyn FnMut(RunEvent<'_>) + Send),
) -> Result<RunReport, KernelError> {
    let mut kernel = None;
    let mut kernel_start = Duration::ZERO;
    if plan.needs_kernel() {
        on_event(RunEvent::KernelStarting { name: &plan.kernel });
        let starting = Instant::now();
        kernel = Some(RunKernel::start_for(project, plan, options).await?);
        kernel_start = starting.elapsed();
    }
    let mut report = execute_plan_on(
        project,
        plan,
        store,
        kernel.as_mut(),
        options.keep_going,
        &Cancel::default(),
        on_event,
    )
    .await;
    report.kernel_start_ms = millis(kernel_start);
    if let Some(kernel) = kernel {
        kernel.shutdown().await;
    }
    Ok(report)
}

/// A kernel the runner drives, with what was already sent to it: the prelude goes once
/// per kernel start, and setup cells run again only when their sources changed since they
/// last ran in it (a warm kernel in the editor keeps its setup; a fresh one gets it). A
/// restart is a new `RunKernel`.
pub struct RunKernel {
    kernel: Kernel,
    /// Which Python runs it and why.
    environment: Environment,
    /// Whether the prelude found jellycell importable; `None` until it was sent.
    jc_available: Option<bool>,
    /// The setup cells' sources as they last ran without error in this kernel.
    setup_sent: Option<Vec<String>>,
    /// Which producer's value each name holds (state restore); empty in a fresh kernel.
    pub(super) holdings: Holdings,
    /// Whether the state helper is installed (snapshots and restores need it).
    state_helper: bool,
    /// Remote kernels: the files on the server as we put or fetched them (path → blake3).
    uploaded: HashMap<String, String>,
    /// Remote kernels: whether the server has a Contents API; `None` until asked.
    contents_api: Option<bool>,
    /// Remote kernels: the notebook's folder the kernel was started in (`path`), relative
    /// to the server's root; `""` for the root.
    remote_folder: String,
}

impl RunKernel {
    /// Starts the kernel called `name` (working directory: the project root) in the
    /// environment [`EnvironmentChoice`] picks for the project.
    pub async fn start(
        project: &Project,
        name: &str,
        options: &RunOptions,
    ) -> Result<RunKernel, KernelError> {
        Self::start_in(project, name, &NotebookEnvironment::default(), "", options).await
    }

    /// Starts the kernel of `plan`'s notebook, in the environment its PEP-723 block and the
    /// project pick.
    pub async fn start_for(
        project: &Project,
        plan: &Plan,
        options: &RunOptions,
    ) -> Result<RunKernel, KernelError> {
        let folder = plan
            .notebook
            .rsplit_once('/')
            .map_or("", |(folder, _)| folder);
        Self::start_in(project, &plan.kernel, &plan.environment, folder, options).await
    }

    /// `folder`: the notebook's folder relative to the project root (`""` for the root),
    /// where a remote kernel is started on the server.
    async fn start_in(
        project: &Project,
        name: &str,
        notebook: &NotebookEnvironment,
        folder: &str,
        options: &RunOptions,
    ) -> Result<RunKernel, KernelError> {
        let server = options
            .server
            .as_deref()
            .or(project.config.run.server.as_deref());
        if let Some(server) = server {
            return RunKernel::start_remote(project, name, server, folder).await;
        }
        let mut kernel_options = KernelOptions::new(project.root.clone());
        kernel_options.runtime_dir = options.runtime_dir.clone();
        let pep723_envs = project
            .config
            .run
            .pep723_env
            .then(|| project.lsp_cache_dir().join("envs"));
        let choice =
            EnvironmentChoice::for_project(&project.root, project.config.run.python.as_deref())
                .with_notebook(notebook, pep723_envs);
        let search = options.search.clone();
        let name = name.to_string();
        let (spec, environment) =
            tokio::task::spawn_blocking(move || choice.resolve(&name, &search))
                .await
                .map_err(|error| KernelError::Io(std::io::Error::other(error)))??;
        let kernel = Kernel::start(spec, kernel_options).await?;
        Ok(RunKernel {
            kernel,
            environment,
            jc_available: None,
            setup_sent: None,
            holdings: Holdings::default(),
            state_helper: false,
            uploaded: HashMap::new(),
            contents_api: None,
            remote_folder: String::new(),
        })
    }

    /// Starts the kernel called `name` on the Jupyter server at `url`, with the token from
    /// `[run] token_env` and the `[run] kernel_env` launch variables, in the notebook's
    /// `folder` of the server (whose root stands for the project root), as Jupyter starts a
    /// notebook's kernel; the prelude then moves it to the root, where local kernels run.
    async fn start_remote(
        project: &Project,
        name: &str,
        url: &str,
        folder: &str,
    ) -> Result<RunKernel, KernelError> {
        let run = &project.config.run;
        let mut server = RemoteServer::from_env(url, &run.token_env, name);
        server.kernel_env = run.kernel_env.clone();
        server.path = Some(folder.to_string());
        if let Ok(seconds) = u64::try_from(run.start_timeout_seconds)
            && seconds > 0
        {
            server.start_timeout = Duration::from_secs(seconds);
        }
        let environment = Environment {
            kind: EnvironmentKind::Remote,
            python: server.display_url(),
            kernel: Some(name.to_string()),
            built: None,
        };
        let grace = KernelOptions::new(project.root.clone()).interrupt_grace;
        let kernel = Kernel::start_remote(server, grace).await?;
        Ok(RunKernel {
            kernel,
            environment,
            jc_available: None,
            setup_sent: None,
            holdings: Holdings::default(),
            state_helper: false,
            uploaded: HashMap::new(),
            contents_api: None,
            remote_folder: folder.to_string(),
        })
    }

    /// Which Python runs the kernel and why.
    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    /// The kernel handle (clone it to interrupt from elsewhere while a plan runs).
    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    pub async fn shutdown(self) {
        let _ = self.kernel.shutdown().await;
    }

    async fn ensure_prelude(&mut self, root: &str) -> bool {
        if let Some(available) = self.jc_available {
            return available;
        }
        let code = if self.remote_folder.is_empty() {
            prelude(root)
        } else {
            format!("{}{}", up_to_root(&self.remote_folder), prelude(root))
        };
        let result = self.kernel.execute_hidden(code, None).await;
        let available = result.stream_text("stdout").contains(JC_MARKER);
        self.jc_available = Some(available);
        self.state_helper = state::install(&self.kernel).await;
        available
    }
}

/// Stops a run between cells, and keeps the cell that was running when it was set from
/// being cached (it was interrupted or its kernel was restarted: its outcome says nothing
/// about the code). Clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Executes `plan` on `kernel` (which may be warm from earlier runs). `kernel` may be
/// `None` only when the plan needs none ([`Plan::needs_kernel`]); misses are then
/// reported as skipped.
pub async fn execute_plan_on(
    project: &Project,
    plan: &Plan,
    store: &Store,
    kernel: Option<&mut RunKernel>,
    keep_going: bool,
    cancel: &Cancel,
    on_event: &mut (dyn FnMut(RunEvent<'_>) + Send),
) -> RunReport {
    let started = Instant::now();
    let mut reports: Vec<Option<CellReport>> = vec![None; plan.cells.len()];
    let needs_kernel = plan.needs_kernel();
    let environment = kernel
        .as_ref()
        .filter(|_| needs_kernel)
        .map(|kernel| kernel.environment.clone());
    let mut failed = false;
    if needs_kernel && let Some(kernel) = kernel {
        // A remote kernel runs in the server's root, which stands for the project root
        // (docs/kernel.md, "Remote kernels"; the prelude moves it there from the notebook's
        // folder); our local path means nothing there.
        let root = if kernel.environment.kind == EnvironmentKind::Remote {
            ".".into()
        } else {
            project.root.to_string_lossy()
        };
        let jc_available = kernel.ensure_prelude(&root).await;
        let snapshot_max_mb = u64::try_from(project.config.run.snapshot_max_mb).unwrap_or(0);
        let mut runner = Runner {
            project,
            plan,
            store,
            kernel,
            jc_available,
            cancel,
            snapshot_limit: snapshot_max_mb.saturating_mul(MEGABYTE),
            unrecorded: Mutex::new(HashSet::new()),
        };
        failed = runner.run_all(&mut reports, keep_going, on_event).await;
    }
    // Everything not executed: hits, notes, and what the stop left.
    let mut cells = Vec::with_capacity(plan.cells.len());
    for (cell, report) in plan.cells.iter().zip(reports) {
        let report = report.unwrap_or_else(|| {
            let report = unexecuted(cell);
            on_event(RunEvent::CellFinished { report: &report });
            report
        });
        cells.push(report);
    }
    failed |= cells.iter().any(|cell| cell.status == CellOutcome::Error);
    RunReport {
        schema_version: 1,
        notebook: plan.notebook.clone(),
        status: if failed {
            RunStatus::Error
        } else {
            RunStatus::Ok
        },
        kernel_started: needs_kernel,
        kernel_start_ms: 0,
        environment,
        total_duration_ms: millis(started.elapsed()),
        cells,
    }
}

fn unexecuted(cell: &PlannedCell) -> CellReport {
    let (status, duration_ms) = match &cell.hit {
        Some(manifest) => (CellOutcome::Cached, manifest.duration_ms),
        None => (CellOutcome::Skipped, 0),
    };
    CellReport {
        cell: cell.ordinal,
        name: cell.name.clone(),
        kind: cell.kind.as_str().to_string(),
        status,
        cache_key: cell.key.as_ref().map(|(key, _)| key.clone()),
        duration_ms,
        error: None,
        restored: Vec::new(),
        replayed: Vec::new(),
        kernel_time: Duration::ZERO,
        execution_count: None,
    }
}

pub(super) struct Runner<'a> {
    project: &'a Project,
    pub(super) plan: &'a Plan,
    pub(super) store: &'a Store,
    pub(super) kernel: &'a mut RunKernel,
    jc_available: bool,
    pub(super) cancel: &'a Cancel,
    /// The largest snapshot in bytes (0: snapshots off).
    snapshot_limit: u64,
    /// Keys of results this run did not record, or that failed: nothing keyed on them
    /// is recorded either.
    unrecorded: Mutex<HashSet<String>>,
}

impl Runner<'_> {
    /// Fills `reports` for the cells it executes; true when the run failed or was
    /// cancelled.
    async fn run_all(
        &mut self,
        reports: &mut [Option<CellReport>],
        keep_going: bool,
        on_event: &mut (dyn FnMut(RunEvent<'_>) + Send),
    ) -> bool {
        let mut failed = false;
        let setups: Vec<usize> = (0..self.plan.cells.len())
            .filter(|&i| self.plan.cells[i].kind == CellKind::Setup)
            .collect();
        let setup_sources: Vec<String> = setups
            .iter()
            .map(|&i| self.plan.cells[i].source.clone())
            .collect();
        if self.kernel.setup_sent.as_ref() != Some(&setup_sources) {
            self.kernel.setup_sent = None;
            let mut setup_failed = false;
            for &index in &setups {
                if self.cancel.is_cancelled() {
                    return true;
                }
                let plan = self.plan;
                let report = self.execute_cell(&plan.cells[index], on_event).await;
                let stop = report.status == CellOutcome::Error;
                on_event(RunEvent::CellFinished { report: &report });
                reports[index] = Some(report);
                if stop {
                    failed = true;
                    setup_failed = true;
                    if !keep_going || !self.kernel.kernel.is_alive() {
                        return true;
                    }
                }
            }
            if !setup_failed {
                self.kernel.setup_sent = Some(setup_sources);
            }
        }
        let mut injected = self.plan.injection.is_none();
        for (index, cell) in self.plan.cells.iter().enumerate() {
            if !injected
                && let Some(injection) = &self.plan.injection
                && injection.after.is_none_or(|after| cell.ordinal > after)
            {
                injected = true;
                if let Some(error) = self.execute_injection(&injection.source).await {
                    failed = true;
                    reports[index] = Some(CellReport {
                        error: Some(error),
                        status: CellOutcome::Error,
                        ..unexecuted(cell)
                    });
                    if !keep_going {
                        return true;
                    }
                    continue;
                }
            }
            if cell.kind == CellKind::Setup {
                continue;
            }
            if !cell.executes() {
                // Hits and notes are reported in source order, between the cells that run.
                let report = unexecuted(cell);
                on_event(RunEvent::CellFinished { report: &report });
                reports[index] = Some(report);
                continue;
            }
            if self.cancel.is_cancelled() {
                return true;
            }
            let report = self.execute_cell(cell, on_event).await;
            let error = report.status == CellOutcome::Error;
            on_event(RunEvent::CellFinished { report: &report });
            reports[index] = Some(report);
            if error {
                failed = true;
                if !keep_going || !self.kernel.kernel.is_alive() || self.cancel.is_cancelled() {
                    return true;
                }
            }
        }
        failed
    }

    async fn execute_injection(&self, source: &str) -> Option<CellError> {
        let result = self.kernel.kernel.execute(source.to_string(), None).await;
        failure(&result, &captured(&result.outputs))
    }

    /// The cell's code with the context comment `jc` reads (when jellycell is importable).
    pub(super) fn code_with_context(&self, cell: &PlannedCell) -> String {
        let mut code = cell.source.clone();
        if self.jc_available {
            let context = json!({
                "notebook": self.plan.notebook,
                "cell_id": cell.cell_id,
                "cell_name": cell.explicit_name,
            });
            code.push('\n');
            code.push_str(CONTEXT_MARKER);
            code.push_str(&context.to_string());
        }
        code
    }

    async fn execute_cell(
        &mut self,
        cell: &PlannedCell,
        on_event: &mut (dyn FnMut(RunEvent<'_>) + Send),
    ) -> CellReport {
        on_event(RunEvent::CellStarted { cell });
        let mut prepared = Prepared::default();
        if cell.key.is_some()
            && cell.kind != CellKind::Setup
            && let Err(error) = self.prepare_inputs(cell, &mut prepared).await
        {
            // The cell did not run: nothing is cached, and an earlier good result stays.
            return CellReport {
                status: CellOutcome::Error,
                error: Some(error),
                restored: prepared.restored,
                replayed: prepared.replayed,
                ..unexecuted(cell)
            };
        }
        let keyed = cell.key.is_some();
        // A remote kernel reads and writes the server's disk, not ours.
        let mut remote = self.kernel.kernel.remote_files().filter(|_| keyed);
        if let Some(files) = &remote {
            if self.kernel.contents_api.is_none() {
                self.kernel.contents_api = Some(files.available().await);
            }
            if self.kernel.contents_api != Some(true) {
                remote = None;
            }
        }
        let folder = remote_files::artifacts_folder(self.project);
        let mut remote_before = None;
        if let (Some(files), Some((_, inputs))) = (&remote, &cell.key) {
            let staged = match remote_files::upload_loads(
                files,
                self.project,
                inputs,
                &mut self.kernel.uploaded,
            )
            .await
            {
                Ok(()) => remote_files::list(files, &folder).await,
                Err(error) => Err(error),
            };
            match staged {
                Ok(listing) => remote_before = Some(listing),
                Err(error) => {
                    return CellReport {
                        status: CellOutcome::Error,
                        error: Some(error),
                        restored: prepared.restored,
                        replayed: prepared.replayed,
                        ..unexecuted(cell)
                    };
                }
            }
        }
        let code = self.code_with_context(cell);
        let artifacts_dir = self.project.artifacts_dir();
        let before = keyed.then(|| artifacts::snapshot(&artifacts_dir));
        let mut events = self
            .kernel
            .kernel
            .execute_streaming(code, Some(cell.timeout));
        let mut result = None;
        while let Some(event) = events.recv().await {
            if let KernelEvent::Finished(finished) = event {
                result = Some(finished);
                break;
            }
        }
        let result = result.unwrap_or_else(|| ExecutionResult {
            status: ExecutionStatus::KernelDied,
            outputs: Vec::new(),
            execution_count: None,
            duration: Duration::ZERO,
            failure: Some("the kernel stopped answering".into()),
            incomplete: false,
        });
        let mut outputs = captured(&result.outputs);
        // The context comment is ours, not the user's: keep it out of tracebacks.
        for output in &mut outputs {
            if let Output::Error { traceback, .. } = output {
                traceback::hide_lines_containing(traceback, CONTEXT_MARKER.trim_end());
            }
        }
        let error = failure(&result, &outputs);
        on_event(RunEvent::CellOutputs {
            cell,
            outputs: &outputs,
        });
        let mut report = CellReport {
            cell: cell.ordinal,
            name: cell.name.clone(),
            kind: cell.kind.as_str().to_string(),
            status: match (&error, cell.kind) {
                (Some(_), _) => CellOutcome::Error,
                (None, CellKind::Setup) => CellOutcome::Setup,
                (None, _) => CellOutcome::Ok,
            },
            cache_key: cell.key.as_ref().map(|(key, _)| key.clone()),
            duration_ms: millis(result.duration),
            error: error.clone(),
            restored: prepared.restored,
            replayed: prepared.replayed,
            kernel_time: result.duration,
            execution_count: result.execution_count,
        };
        // Interrupted or restarted under it, or the server lost or dropped outputs:
        // nothing to cache.
        if self.cancel.is_cancelled() || result.incomplete {
            return report;
        }
        if let (Some((key, inputs)), Some(before)) = (&cell.key, before) {
            if let (Some(files), Some(listing)) = (&remote, &remote_before)
                && let Err(error) = remote_files::fetch_changed(
                    files,
                    self.project,
                    &folder,
                    listing,
                    &mut self.kernel.uploaded,
                )
                .await
            {
                report.status = CellOutcome::Error;
                report.error = Some(error);
                return report;
            }
            let after = artifacts::snapshot(&artifacts_dir);
            let artifacts = artifacts::changed(&self.project.root, &before, &after);
            let (snapshots, unsnapshotted) =
                self.snapshot_defined(cell, key, error.is_none()).await;
            let mut records = match self.records(&outputs) {
                Ok(records) => records,
                Err(problem) => {
                    report.status = CellOutcome::Error;
                    report.error = Some(CellError {
                        ename: "CacheWriteError".into(),
                        evalue: format!("the outputs could not be stored: {problem}"),
                        traceback: Vec::new(),
                    });
                    return report;
                }
            };
            // A timeout or a dead kernel is an error the kernel did not report itself.
            if let Some(error) = &error
                && !outputs
                    .iter()
                    .any(|output| matches!(output, Output::Error { .. }))
            {
                records.push(OutputRecord::Error {
                    ename: error.ename.clone(),
                    evalue: error.evalue.clone(),
                    traceback: error.traceback.clone(),
                });
            }
            if !self.may_record(cell.ordinal, key, inputs, error.is_some()) {
                return report;
            }
            let manifest = Manifest {
                schema_version: MANIFEST_SCHEMA_VERSION,
                cache_key: key.clone(),
                notebook: self.plan.notebook.clone(),
                cell: cell.ordinal,
                cell_id: cell.cell_id.clone(),
                cell_name: cell.explicit_name.clone(),
                name: cell.name.clone(),
                kind: cell.kind.as_str().to_string(),
                kernel: inputs.kernel.clone(),
                key_version: KEY_VERSION.to_string(),
                source_hash: inputs.source_hash(),
                dep_keys: inputs.dep_keys.clone(),
                setup_hashes: inputs.setup_hashes.clone(),
                env_hash: inputs.env_hash.clone(),
                params_hash: inputs.params_hash(),
                executed_at: utc_now(),
                duration_ms: report.duration_ms,
                status: if error.is_some() {
                    ManifestStatus::Error
                } else {
                    ManifestStatus::Ok
                },
                outputs: records,
                artifacts,
                blob_sizes: Default::default(),
                snapshots,
                unsnapshotted,
                inputs: inputs.inputs.iter().map(InputRecord::from).collect(),
                loads: inputs.loads.iter().map(LoadRecord::from).collect(),
            };
            if let Err(problem) = self.store.put_manifest(&manifest) {
                report.status = CellOutcome::Error;
                report.error = Some(CellError {
                    ename: "CacheWriteError".into(),
                    evalue: format!("the manifest could not be written: {problem}"),
                    traceback: Vec::new(),
                });
            }
        }
        report
    }

    /// Snapshots what `cell` (keyed `key`) defined and records that the kernel now holds
    /// it; after a failure, nothing is snapshotted and those names are unknown.
    async fn snapshot_defined(
        &mut self,
        cell: &PlannedCell,
        key: &str,
        succeeded: bool,
    ) -> (Vec<SnapshotRecord>, Vec<UnsnapshottedRecord>) {
        let names = self.snapshot_names(cell);
        if names.is_empty() {
            return (Vec::new(), Vec::new());
        }
        if !succeeded {
            for name in &names {
                self.kernel.holdings.forget(name);
            }
            return (Vec::new(), Vec::new());
        }
        for name in &names {
            self.kernel.holdings.record(name, key);
        }
        if !self.kernel.state_helper {
            return (
                Vec::new(),
                names
                    .into_iter()
                    .map(|name| UnsnapshottedRecord {
                        name,
                        reason: "the kernel's state helper could not be installed".into(),
                    })
                    .collect(),
            );
        }
        state::snapshot(
            self.kernel.kernel(),
            self.store.blobs(),
            &names,
            self.snapshot_limit,
        )
        .await
    }

    /// Whether the result of the cell at `ordinal` may be stored under `key`: every
    /// input it was keyed on must be what it read. Not when a producer it assumed would
    /// record a `jc.load`ed file did not, when a cell it depends on was not recorded or
    /// failed in this run, or when the plan says so (`Plan::unrecorded`). A failed cell
    /// stores its error but is not an input anyone may be cached on.
    fn may_record(&self, ordinal: usize, key: &str, inputs: &KeyInputs, failed: bool) -> bool {
        let Ok(mut unrecorded) = self.unrecorded.lock() else {
            return false;
        };
        let assumptions_hold = inputs.loads.iter().all(|load| {
            load.assumed.iter().all(|producer| {
                !unrecorded.contains(producer)
                    && self.store.manifest(producer).is_some_and(|manifest| {
                        manifest.status == ManifestStatus::Ok
                            && manifest
                                .artifacts
                                .iter()
                                .any(|record| record.path == load.path)
                    })
            })
        });
        let inputs_recorded = inputs.dep_keys.iter().all(|dep| !unrecorded.contains(dep));
        let allowed =
            assumptions_hold && inputs_recorded && !self.plan.unrecorded.contains(&ordinal);
        if !allowed || failed {
            unrecorded.insert(key.to_string());
        }
        allowed
    }

    /// Stores every MIME value as a blob; blobs are written before the manifest names them.
    fn records(&self, outputs: &[Output]) -> std::io::Result<Vec<OutputRecord>> {
        let blobs = self.store.blobs();
        let bundle = |data: &Map<String, Value>| -> std::io::Result<_> {
            let mut stored: std::collections::BTreeMap<String, BlobRef> = Default::default();
            for (mime, value) in data {
                stored.insert(mime.clone(), blobs.put_mime(mime, value)?);
            }
            Ok(stored)
        };
        let mut records = Vec::with_capacity(outputs.len());
        for output in outputs {
            records.push(match output {
                Output::Stream { name, text } => OutputRecord::Stream {
                    name: name.clone(),
                    blob: blobs.put(text.as_bytes())?,
                },
                Output::DisplayData { data, metadata, .. } => OutputRecord::DisplayData {
                    data: bundle(data)?,
                    metadata: metadata.clone(),
                },
                Output::ExecuteResult {
                    data,
                    metadata,
                    execution_count,
                } => OutputRecord::ExecuteResult {
                    data: bundle(data)?,
                    metadata: metadata.clone(),
                    execution_count: *execution_count,
                },
                Output::Error {
                    ename,
                    evalue,
                    traceback,
                } => OutputRecord::Error {
                    ename: ename.clone(),
                    evalue: evalue.clone(),
                    traceback: traceback.clone(),
                },
                Output::ClearOutput { .. } | Output::UpdateDisplayData { .. } => continue,
            });
        }
        Ok(records)
    }
}

/// The error of a finished execution, if it failed.
pub(super) fn failure(result: &ExecutionResult, outputs: &[Output]) -> Option<CellError> {
    let from_kernel = outputs.iter().find_map(|output| match output {
        Output::Error {
            ename,
            evalue,
            traceback,
        } => Some(CellError {
            ename: ename.clone(),
            evalue: evalue.clone(),
            traceback: traceback.clone(),
        }),
        _ => None,
    });
    let described = |ename: &str, fallback: &str| CellError {
        ename: ename.to_string(),
        evalue: result
            .failure
            .clone()
            .unwrap_or_else(|| fallback.to_string()),
        traceback: Vec::new(),
    };
    // An error reply without an error output (IPython's UsageError): `ename: evalue`.
    let from_reply = || {
        let (ename, evalue) = result.failure.as_deref()?.split_once(": ")?;
        Some(CellError {
            ename: ename.to_string(),
            evalue: evalue.to_string(),
            traceback: Vec::new(),
        })
    };
    match result.status {
        ExecutionStatus::Ok => None,
        ExecutionStatus::Error => Some(
            from_kernel
                .or_else(from_reply)
                .unwrap_or_else(|| described("Error", "the cell failed")),
        ),
        ExecutionStatus::TimedOut => Some(described("Timeout", "the cell timed out")),
        ExecutionStatus::KernelDied => Some(described("KernelDied", "the kernel died")),
        ExecutionStatus::Aborted => Some(described("Aborted", "the kernel aborted the cell")),
    }
}

/// The outputs as a frontend would show them at the end of the cell.
pub fn captured(outputs: &[Output]) -> Vec<Output> {
    let mut shown: Vec<Output> = Vec::new();
    let mut clear_pending = false;
    for output in outputs {
        match output {
            Output::ClearOutput { wait: true } => clear_pending = true,
            Output::ClearOutput { wait: false } => {
                shown.clear();
                clear_pending = false;
            }
            Output::UpdateDisplayData {
                data,
                metadata,
                display_id: Some(id),
            } => {
                for earlier in &mut shown {
                    if let Output::DisplayData {
                        data: old_data,
                        metadata: old_metadata,
                        display_id: Some(old_id),
                    } = earlier
                        && old_id == id
                    {
                        old_data.clone_from(data);
                        old_metadata.clone_from(metadata);
                    }
                }
            }
            Output::UpdateDisplayData { .. } => {}
            other => {
                if clear_pending {
                    shown.clear();
                    clear_pending = false;
                }
                if let (
                    Output::Stream { name, text },
                    Some(Output::Stream {
                        name: last_name,
                        text: last_text,
                    }),
                ) = (other, shown.last_mut())
                    && name == last_name
                {
                    last_text.push_str(text);
                    continue;
                }
                shown.push(other.clone());
            }
        }
    }
    shown
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(text: &str) -> Output {
        Output::Stream {
            name: "stdout".into(),
            text: text.into(),
        }
    }

    #[test]
    fn clear_output_and_updates_are_applied_and_streams_merged() {
        let display = |value: &str, id: Option<&str>| Output::DisplayData {
            data: json!({"text/plain": value})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            metadata: Map::new(),
            display_id: id.map(str::to_string),
        };
        let outputs = vec![
            stream("gone"),
            Output::ClearOutput { wait: false },
            stream("a"),
            stream("b"),
            display("old", Some("d")),
            Output::UpdateDisplayData {
                data: json!({"text/plain": "new"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                metadata: Map::new(),
                display_id: Some("d".into()),
            },
        ];
        let shown = captured(&outputs);
        assert_eq!(shown.len(), 2);
        assert_eq!(shown[0], stream("ab"));
        assert_eq!(shown[1], display("new", Some("d")));
        let waited = captured(&[stream("x"), Output::ClearOutput { wait: true }, stream("y")]);
        assert_eq!(waited, vec![stream("y")]);
    }
}

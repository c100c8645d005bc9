//! Run with deps across notebooks. Before a cell runs with its dependencies, the producers
//! in other notebooks of what its closure `jc.load`s that are not current run first, each
//! in its own notebook's warm kernel, their own upstream before them (the graph of
//! `jellycell-lsp run`, whose `Upstream` does the same for the CLI).
//!
//! A notebook's worker takes such runs on a lane of their own, ahead of its queue, and
//! keeps serving that lane while one of its runs waits for another notebook: two
//! notebooks that load from each other never wait on each other for ever. Each notebook
//! runs once per chain (`visited`), so a cycle of notebooks ends.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{
    Core, NotebookRuns, RunProgress, Running, Warm, kernel_state, kernel_status, lock,
    refresh_diagnostics, refresh_views, run_blocking, summary, warm_kernel,
};
use crate::analysis::graph::CellRef;
use crate::analysis::workspace::Workspace;
use crate::cache::Store;
use crate::run::plan::{closure_in_notebook, stale_producers_elsewhere};
use crate::run::{
    Cancel, CellOutcome, Parameters, Plan, RunEvent, RunStatus, execute_plan_on, plan_run,
};

/// A run of producers that a run of another notebook waits for.
pub(crate) struct UpstreamJob {
    /// The waiting run's workspace (buffers as they were when it was planned).
    workspace: Arc<Workspace>,
    /// The producers' notebook, in `workspace`.
    file: usize,
    producers: Vec<CellRef>,
    /// The notebooks on this chain so far, the producers' own included.
    visited: BTreeSet<PathBuf>,
    /// The project-relative path of the notebook that loads what they write.
    consumer: String,
    /// `Err`: why the producers did not all run.
    done: oneshot::Sender<Result<(), String>>,
}

type Lane = mpsc::UnboundedReceiver<UpstreamJob>;

/// Runs the not-current producers elsewhere of the cells `plan` selected; true when one
/// ran (the plan must then be made again: its keys changed). `Err` when one failed.
#[allow(clippy::too_many_arguments)]
pub(super) async fn run_producers_first(
    core: &Arc<Core>,
    notebook: &Arc<NotebookRuns>,
    warm: &mut Option<Warm>,
    lane: &mut Lane,
    workspace: &Arc<Workspace>,
    store: &Arc<Store>,
    plan: &Plan,
    progress: &RunProgress,
) -> Result<bool, String> {
    let cells: BTreeSet<usize> = plan
        .cells
        .iter()
        .filter(|cell| cell.selected && cell.key.is_some())
        .map(|cell| cell.ordinal)
        .collect();
    let visited: BTreeSet<PathBuf> = workspace
        .files
        .get(plan.file)
        .map(|file| file.path.clone())
        .into_iter()
        .collect();
    let groups = {
        let (workspace, store) = (workspace.clone(), store.clone());
        let (file, visited) = (plan.file, visited.clone());
        run_blocking(move || stale_elsewhere(&workspace, &store, file, &cells, &visited))
            .await
            .map_err(|error| error.message.to_string())?
    };
    if groups.is_empty() {
        return Ok(false);
    }
    let mut job = Chain {
        core,
        notebook,
        warm,
        lane,
    };
    job.run_groups(workspace, groups, visited, &plan.notebook, progress)
        .await?;
    Ok(true)
}

/// The producers in other notebooks (not in `visited`) that the cells `cells` of notebook
/// `file` load from and that are not current, by notebook.
fn stale_elsewhere(
    workspace: &Workspace,
    store: &Store,
    file: usize,
    cells: &BTreeSet<usize>,
    visited: &BTreeSet<PathBuf>,
) -> BTreeMap<usize, Vec<CellRef>> {
    let mut groups: BTreeMap<usize, Vec<CellRef>> = BTreeMap::new();
    for stale in stale_producers_elsewhere(workspace, file, store) {
        let Some(producer_file) = workspace.files.get(stale.producer.notebook) else {
            continue;
        };
        if cells.contains(&stale.consumer) && !visited.contains(&producer_file.path) {
            let producers = groups.entry(stale.producer.notebook).or_default();
            if !producers.contains(&stale.producer) {
                producers.push(stale.producer);
            }
        }
    }
    groups
}

/// One worker's part of a chain: its notebook, kernel and lane.
struct Chain<'a> {
    core: &'a Arc<Core>,
    notebook: &'a Arc<NotebookRuns>,
    warm: &'a mut Option<Warm>,
    lane: &'a mut Lane,
}

impl Chain<'_> {
    /// Sends each group to its notebook's worker, one after the other, serving this
    /// worker's lane while it waits.
    async fn run_groups(
        &mut self,
        workspace: &Arc<Workspace>,
        groups: BTreeMap<usize, Vec<CellRef>>,
        mut visited: BTreeSet<PathBuf>,
        consumer: &str,
        progress: &RunProgress,
    ) -> Result<(), String> {
        let paths: Vec<PathBuf> = groups
            .keys()
            .filter_map(|file| workspace.files.get(*file).map(|file| file.path.clone()))
            .collect();
        visited.extend(paths);
        for (file, producers) in groups {
            let Some(producer_file) = workspace.files.get(file) else {
                continue;
            };
            progress.message(format!(
                "running {} first: {consumer} loads what it writes",
                producer_file.relative
            ));
            let target = self
                .core
                .runs
                .notebook(self.core, producer_file.path.clone());
            let (done, answer) = oneshot::channel();
            let job = UpstreamJob {
                workspace: workspace.clone(),
                file,
                producers,
                visited: visited.clone(),
                consumer: consumer.to_string(),
                done,
            };
            if target.upstream.send(job).is_err() {
                return Err(format!("{} cannot run now", producer_file.relative));
            }
            self.wait(answer).await?;
        }
        Ok(())
    }

    async fn wait(
        &mut self,
        mut answer: oneshot::Receiver<Result<(), String>>,
    ) -> Result<(), String> {
        loop {
            tokio::select! {
                biased;
                answer = &mut answer => {
                    return answer.unwrap_or_else(|_| Err("the producers' run stopped".to_string()));
                }
                Some(job) = self.lane.recv() => {
                    serve(self.core, self.notebook, self.warm, self.lane, job).await;
                }
            }
        }
    }
}

/// Runs `job` on this notebook's kernel and answers it.
pub(super) fn serve<'a>(
    core: &'a Arc<Core>,
    notebook: &'a Arc<NotebookRuns>,
    warm: &'a mut Option<Warm>,
    lane: &'a mut Lane,
    job: UpstreamJob,
) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
    Box::pin(async move {
        let UpstreamJob {
            workspace,
            file,
            producers,
            visited,
            consumer,
            done,
        } = job;
        let mut chain = Chain {
            core,
            notebook,
            warm,
            lane,
        };
        let answer = chain
            .run_producers(&workspace, file, &producers, visited, &consumer)
            .await;
        let _ = done.send(answer);
    })
}

impl Chain<'_> {
    /// The producers' closure in their notebook, after their own upstream.
    async fn run_producers(
        &mut self,
        workspace: &Arc<Workspace>,
        file: usize,
        producers: &[CellRef],
        visited: BTreeSet<PathBuf>,
        consumer: &str,
    ) -> Result<(), String> {
        if self.core.runs.is_closed() {
            return Err("the server is shutting down".to_string());
        }
        let core = self.core;
        let store = core.runs.store_for(&workspace.project);
        let Some(notebook_file) = workspace.files.get(file) else {
            return Err("the producers' notebook is gone".to_string());
        };
        let relative = notebook_file.relative.clone();
        let uri = core.state.uri_for(&notebook_file.path);
        let title = format!("jellycell: run {relative} first ({consumer} loads what it writes)");
        let mut progress = RunProgress::begin(core, None, title);
        let (closure, groups) = {
            let (workspace, store) = (workspace.clone(), store.clone());
            let (producers, visited) = (producers.to_vec(), visited.clone());
            run_blocking(move || {
                let closure = closure_in_notebook(&workspace, &store, &producers);
                let groups = stale_elsewhere(&workspace, &store, file, &closure, &visited);
                (closure, groups)
            })
            .await
            .map_err(|error| error.message.to_string())?
        };
        if !groups.is_empty()
            && let Err(message) = self
                .run_groups(workspace, groups, visited, &relative, &progress)
                .await
        {
            progress.end(message.clone());
            return Err(message);
        }
        let plan = {
            let (workspace, store) = (workspace.clone(), store.clone());
            run_blocking(move || {
                let mut plan = plan_run(&workspace, file, &Parameters::default(), false, &store);
                plan.select(&closure, false);
                plan
            })
            .await
            .map_err(|error| error.message.to_string())?
        };
        if !plan.needs_kernel() {
            progress.end("nothing to run: its producers are cached".to_string());
            return Ok(());
        }
        let executing: BTreeSet<usize> = plan.executing().into_iter().collect();
        progress.set_total(executing.len());
        let cancel = Cancel::default();
        // This worker may be waiting inside a run of its own: that run comes back after.
        let paused = lock(&self.notebook.shared).running.replace(Running {
            id: 0,
            cancel: cancel.clone(),
            current: None,
            remaining: executing,
        });
        let outcome = self
            .execute(
                workspace,
                &plan,
                &store,
                uri.as_ref(),
                &cancel,
                &mut progress,
            )
            .await;
        lock(&self.notebook.shared).running = paused;
        if let Some(uri) = &uri {
            let state = kernel_state(self.notebook, self.warm.as_ref(), outcome.is_err());
            kernel_status::send(core, uri, state);
            refresh_views(core, uri);
            refresh_diagnostics(core, uri);
        }
        match outcome {
            Ok((text, true)) => {
                progress.end(text);
                Ok(())
            }
            Ok((text, false)) => {
                progress.end(text);
                Err(format!(
                    "{relative} failed, so what {consumer} loads from it is not current; \
                     see its cell-error and run it again"
                ))
            }
            Err(message) => {
                progress.end(message.clone());
                Err(format!("{relative} could not run: {message}"))
            }
        }
    }

    /// Executes `plan` on the notebook's warm kernel: the summary, and whether every
    /// cell succeeded.
    async fn execute(
        &mut self,
        workspace: &Workspace,
        plan: &Plan,
        store: &Store,
        uri: Option<&tower_lsp_server::ls_types::Uri>,
        cancel: &Cancel,
        progress: &mut RunProgress,
    ) -> Result<(String, bool), String> {
        let core = self.core;
        let fallback;
        let uri = match uri {
            Some(uri) => uri,
            None => {
                fallback = tower_lsp_server::ls_types::Uri::from_file_path(&workspace.project.root)
                    .ok_or_else(|| "the notebook has no file URI".to_string())?;
                &fallback
            }
        };
        let warm = warm_kernel(
            core,
            self.notebook,
            self.warm,
            &workspace.project,
            plan,
            uri,
            progress,
        )
        .await?;
        let shared = self.notebook.clone();
        let mut on_event = |event: RunEvent<'_>| match event {
            RunEvent::KernelStarting { .. } | RunEvent::CellOutputs { .. } => {}
            RunEvent::CellStarted { cell } => {
                if let Some(running) = lock(&shared.shared).running.as_mut() {
                    running.current = Some(cell.ordinal);
                    running.remaining.remove(&cell.ordinal);
                }
                refresh_views(core, uri);
            }
            RunEvent::CellFinished { report } => {
                if !matches!(
                    report.status,
                    CellOutcome::Ok | CellOutcome::Error | CellOutcome::Setup
                ) {
                    return;
                }
                if let Some(running) = lock(&shared.shared).running.as_mut() {
                    running.current = None;
                }
                progress.cell_done(report);
                refresh_views(core, uri);
            }
        };
        let report = execute_plan_on(
            &workspace.project,
            plan,
            store,
            Some(&mut warm.kernel),
            false,
            cancel,
            &mut on_event,
        )
        .await;
        Ok((
            summary(&report, cancel.is_cancelled()),
            report.status != RunStatus::Error && !cancel.is_cancelled(),
        ))
    }
}

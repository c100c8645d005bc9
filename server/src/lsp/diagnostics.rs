//! Lint findings as diagnostics: pushed (`textDocument/publishDiagnostics`) after open
//! and change when the client does not pull, answered on `textDocument/diagnostic` when
//! it does.
//!
//! One job per document, coalescing: a change while the job waits or runs marks it to go
//! again, so a burst of edits costs at most two runs and a result for a superseded version
//! is dropped, never published. That is the debounce: an isolated edit is linted at once
//! (after letting notifications already queued apply), edits that arrive while a run is
//! in flight are folded into one more run. The work (snapshot, lint) runs on a blocking
//! thread. When an edit changes what other notebooks see
//! of this one (names, kinds, deps, artifact paths), the other open notebooks of the
//! project are linted again too.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::sync::{Arc, Mutex};

use tower_lsp_server::ls_types::{Diagnostic, Uri};

use super::state::{Snapshot, State};
use super::{Core, convert, run_blocking};
use crate::analysis::graph::ResolutionToken;
use crate::analysis::workspace::Workspace;
use crate::lint::rules::artifact_paths::ArtifactsFolder;
use crate::lint::rules::cell_rules_memo::CellRulesMemo;
use crate::lint::rules::names_memo::NamesMemo;
use crate::lint::{Finding, check_file, check_file_with};
use crate::text::Document;

#[derive(Debug, Default)]
struct Job {
    running: bool,
    again: bool,
    /// What other notebooks see of this one, as of the last run.
    signature: Option<u64>,
    /// The graph's resolution of this notebook `signature` was computed in: while a later
    /// graph holds the same one, the signature is the same (`ProjectGraph::resolution_token`).
    resolution: Option<ResolutionToken>,
}

/// The per-document diagnostics jobs.
#[derive(Debug, Default)]
pub struct Scheduler {
    jobs: Mutex<HashMap<Uri, Job>>,
}

impl Scheduler {
    fn jobs(&self) -> std::sync::MutexGuard<'_, HashMap<Uri, Job>> {
        self.jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Lints `uri` soon (or again after the run in progress).
    pub fn schedule(&self, core: &Arc<Core>, uri: &Uri) {
        {
            let mut jobs = self.jobs();
            let job = jobs.entry(uri.clone()).or_default();
            if job.running {
                job.again = true;
                return;
            }
            job.running = true;
        }
        let core = core.clone();
        let uri = uri.clone();
        tokio::spawn(async move {
            loop {
                tokio::task::yield_now().await;
                run_once(&core, &uri).await;
                let mut jobs = core.scheduler.jobs();
                let Some(job) = jobs.get_mut(&uri) else { break };
                if job.again {
                    job.again = false;
                } else {
                    job.running = false;
                    break;
                }
            }
        });
    }

    /// Lints every open document of the project at `root`.
    pub fn schedule_project(&self, core: &Arc<Core>, root: &Path) {
        for uri in core.state.open_in_project(root) {
            self.schedule(core, &uri);
        }
    }

    /// A closed document: forget its job and clear what was published for it.
    pub fn forget(&self, core: &Arc<Core>, uri: &Uri) {
        self.jobs().remove(uri);
        if !core.flags().pull_diagnostics {
            let client = core.client.clone();
            let uri = uri.clone();
            tokio::spawn(async move { client.publish_diagnostics(uri, Vec::new(), None).await });
        }
    }

    fn swap_signature(
        &self,
        uri: &Uri,
        signature: Option<u64>,
        resolution: Option<ResolutionToken>,
    ) -> Option<u64> {
        let mut jobs = self.jobs();
        let job = jobs.entry(uri.clone()).or_default();
        job.resolution = resolution;
        std::mem::replace(&mut job.signature, signature)
    }

    /// The signature of the last run, if `resolution` is the one it was computed in.
    fn known_signature(&self, uri: &Uri, resolution: &ResolutionToken) -> Option<u64> {
        let jobs = self.jobs();
        let job = jobs.get(uri)?;
        let known = job.resolution.as_ref()?;
        known.same_as(resolution).then_some(job.signature).flatten()
    }
}

struct RunResult {
    version: i32,
    diagnostics: Vec<Diagnostic>,
    signature: Option<u64>,
    resolution: Option<ResolutionToken>,
    root: Option<std::path::PathBuf>,
}

async fn run_once(core: &Arc<Core>, uri: &Uri) {
    let worker = core.clone();
    let task_uri = uri.clone();
    let result = run_blocking(move || {
        let snapshot = worker.state.snapshot(&task_uri)?;
        let version = snapshot.document.version();
        // Superseded while the snapshot was built: the next run will do it.
        if worker.state.version(&task_uri) != Some(version) {
            return None;
        }
        let root = worker.state.root_of(&task_uri);
        let resolution = snapshot
            .workspace
            .as_ref()
            .and_then(|workspace| workspace.graph.resolution_token(snapshot.file_index));
        // A keystroke in a cell body leaves the graph's resolution of this notebook as it
        // was: no need to hash every cell's facts again.
        let signature = resolution
            .as_ref()
            .and_then(|resolution| worker.scheduler.known_signature(&task_uri, resolution))
            .or_else(|| signature(&snapshot));
        Some(RunResult {
            version,
            diagnostics: diagnostics_for(&worker, &snapshot),
            signature,
            resolution,
            root,
        })
    })
    .await;
    let Ok(Some(result)) = result else { return };
    super::environment_hints::probe_when_needed(core, uri);
    if core.state.version(uri) != Some(result.version) {
        return;
    }
    // A first run counts as a change too: the buffer may differ from the disk text the
    // other notebooks were linted against.
    let previous = core
        .scheduler
        .swap_signature(uri, result.signature, result.resolution);
    if previous != result.signature
        && let Some(root) = &result.root
    {
        for other in core.state.open_in_project(root) {
            if other != *uri {
                core.scheduler.schedule(core, &other);
            }
        }
    }
    if !core.flags().pull_diagnostics {
        core.client
            .publish_diagnostics(uri.clone(), result.diagnostics, Some(result.version))
            .await;
    } else if previous != result.signature && core.flags().diagnostic_refresh {
        let client = core.client.clone();
        tokio::spawn(async move { client.workspace_diagnostic_refresh().await });
    }
    let collector = core.clone();
    tokio::task::spawn_blocking(move || collector.state.collect_garbage());
}

/// The findings of the snapshot's notebook (cached per version).
pub fn findings_for(state: &State, snapshot: &Snapshot) -> Arc<Vec<Finding>> {
    let version = snapshot.document.version();
    let Some(workspace) = &snapshot.workspace else {
        return Arc::new(Vec::new());
    };
    if snapshot.current
        && let Some(findings) = state.findings(&snapshot.uri, version, workspace)
    {
        return findings;
    }
    let settings = State::lint_settings(workspace);
    let findings = if snapshot.current {
        Arc::new(check_file_with(
            workspace,
            snapshot.file_index,
            &settings,
            |_| names_reusing(state, snapshot, workspace),
            |_, artifacts| cell_rules_reusing(state, snapshot, workspace, artifacts),
        ))
    } else {
        Arc::new(check_file(workspace, snapshot.file_index, &settings))
    };
    if snapshot.current {
        state.store_findings(&snapshot.uri, version, workspace, findings.clone());
    }
    findings
}

/// The `undefined-name` / `use-before-define` findings of the snapshot's notebook, from
/// the buffer's memo of its last linted reading: an edit re-checks the cells it touched.
fn names_reusing(state: &State, snapshot: &Snapshot, workspace: &Workspace) -> Vec<Finding> {
    let Some(file) = workspace.files.get(snapshot.file_index) else {
        return Vec::new();
    };
    let (mut memo, replaced) = match state.take_names_memo(&snapshot.uri) {
        Some(mut memo) => {
            let replaced = memo.update(file.clone());
            (memo, Some(replaced))
        }
        None => (NamesMemo::build(file.clone()), None),
    };
    let findings = memo.findings();
    state.store_names_memo(&snapshot.uri, memo, replaced);
    findings
}

/// The findings of the rules of one cell each, from the buffer's memo of its last linted
/// reading: an edit computes those of the cells it read again.
fn cell_rules_reusing(
    state: &State,
    snapshot: &Snapshot,
    workspace: &Workspace,
    artifacts: Option<ArtifactsFolder>,
) -> Vec<Finding> {
    let Some(file) = workspace.files.get(snapshot.file_index) else {
        return Vec::new();
    };
    let (mut memo, replaced) = match state.take_cell_rules_memo(&snapshot.uri) {
        Some(mut memo) => {
            let replaced = memo.update(file.clone(), artifacts);
            (memo, Some(replaced))
        }
        None => (CellRulesMemo::build(file.clone(), artifacts), None),
    };
    let findings = memo.findings();
    state.store_cell_rules_memo(&snapshot.uri, memo, replaced);
    findings
}

/// The diagnostics of the snapshot's notebook (lint findings, the environment hints as
/// last probed, then the `cell-error`s of its cached runs); none for a file that is not a
/// notebook.
pub fn diagnostics_for(core: &Core, snapshot: &Snapshot) -> Vec<Diagnostic> {
    let Some(file) = snapshot.file() else {
        return Vec::new();
    };
    let findings = findings_for(&core.state, snapshot);
    // Spans are into the analysed text; when the buffer moved on, map through that text.
    let analysed;
    let document = if snapshot.current {
        &snapshot.document
    } else {
        analysed = Document::new(&file.text, snapshot.document.version());
        &analysed
    };
    let hints = core.environment_hints.findings(&core.state, snapshot);
    let mut diagnostics: Vec<Diagnostic> = findings
        .iter()
        .chain(&hints)
        .map(|finding| convert::diagnostic(document, finding, snapshot.encoding))
        .collect();
    diagnostics.extend(super::cell_errors::cell_errors(core, snapshot));
    diagnostics
}

/// A hash of what other notebooks see of this one: cell names, kinds, deps and artifact
/// paths, without positions.
fn signature(snapshot: &Snapshot) -> Option<u64> {
    let workspace = snapshot.workspace.as_ref()?;
    let facts = workspace.graph.notebooks.get(snapshot.file_index)?;
    let mut hasher = DefaultHasher::new();
    for cell in &facts.cells {
        cell.ordinal.hash(&mut hasher);
        cell.kind.hash(&mut hasher);
        cell.explicit_name
            .as_ref()
            .map(|(name, _)| name)
            .hash(&mut hasher);
        for dep in &cell.deps {
            dep.name.hash(&mut hasher);
        }
        for path in cell.loads.iter().chain(&cell.produces) {
            path.path.hash(&mut hasher);
        }
        0xffu8.hash(&mut hasher);
    }
    Some(hasher.finish())
}

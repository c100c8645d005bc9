//! `missing-import` and `jc-without-jellycell` in the editor: the rules, messages and
//! environment of `--check` (`run::environment_hints`), with the probe of the
//! environment's Python kept off the request path.
//!
//! A diagnostics run reads the notebook's names (module-level imports, PEP-723
//! dependencies, the first `jc.*` call: cheap, from the analysed text) and reports what
//! the last probe said about them; it never runs Python. A probe runs on a blocking thread,
//! one at a time per notebook, when the notebook opens, when the names it asks about or
//! what picks its environment change (its PEP-723 block, an import, the config), and on a
//! save or a watched-file change, which may have changed the environment (the
//! interpreter or its `site-packages`, re-stated then). The notebook's diagnostics are
//! published again when its facts changed. Answers are kept in `--check`'s memory
//! (`kernel::ProbeMemory`, read from and written back to the project's
//! `check/environments.json`), so a name is asked of one state of an environment once, and
//! a notebook opened after a check (or a restart) whose environment did not change starts
//! no process.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use tower_lsp_server::ls_types::Uri;

use super::Core;
use super::state::{Snapshot, State};
use crate::analysis::module_imports_memo::HintNamesMemo;
use crate::analysis::workspace::NotebookFile;
use crate::kernel::{ProbeMemory, SpecSearch};
use crate::lint::rules::environment::{EnvironmentFacts, NotebookNames};
use crate::lint::{self, Finding};
use crate::project::Project;
use crate::run::environment_hints::{
    KernelTarget, environment_facts, hints_environment, read_memory, write_memory,
};

const RULES: [&str; 2] = ["missing-import", "jc-without-jellycell"];

/// What a probe is asked: the project (its `[run]` settings pick the environment), what
/// the notebook declares, and the names.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Asked {
    project: Project,
    target: KernelTarget,
    modules: Vec<String>,
    distributions: Vec<String>,
}

#[derive(Debug, Default)]
struct Entry {
    /// What the latest diagnostics run wants asked, with the names to ask.
    wanted: Option<(Asked, NotebookNames)>,
    /// What `facts` answer.
    probed: Option<Asked>,
    facts: Option<EnvironmentFacts>,
    /// The environment may have changed: probe even if `wanted` was already asked.
    recheck: bool,
    running: bool,
    /// The names of the last reading linted, kept so an edit scans only its cells.
    names: Option<HintNamesMemo>,
}

/// The per-notebook facts and the answers of every environment probed, by project root.
#[derive(Default)]
pub struct EnvironmentHints {
    entries: Mutex<HashMap<Uri, Entry>>,
    memories: Mutex<HashMap<PathBuf, ProbeMemory>>,
}

impl EnvironmentHints {
    fn entries(&self) -> MutexGuard<'_, HashMap<Uri, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The hints of the snapshot's notebook from what its environment was last found to
    /// lack; notes what to ask next ([`probe_when_needed`] asks it). Runs no Python.
    /// The reading the names were kept for before is freed through `state`, off the path.
    pub fn findings(&self, state: &State, snapshot: &Snapshot) -> Vec<Finding> {
        let Some(workspace) = &snapshot.workspace else {
            return Vec::new();
        };
        let Some(file) = workspace.files.get(snapshot.file_index) else {
            return Vec::new();
        };
        let project = &workspace.project;
        let settings = State::lint_settings(workspace);
        let wanted = RULES
            .iter()
            .any(|rule| settings.severity_of(rule).is_some());
        // A kernel on a Jupyter server imports from the server's environment, which this
        // machine cannot ask.
        if !wanted || project.config.run.server.is_some() {
            if let Some(entry) = self.entries().get_mut(&snapshot.uri) {
                entry.wanted = None;
                entry.probed = None;
                entry.facts = None;
                entry.names = None;
            }
            return Vec::new();
        }
        let (names, replaced) = self.names_of(&snapshot.uri, file);
        if let Some(replaced) = replaced {
            state.bury_later(replaced);
        }
        let (modules, distributions) = names.asked();
        let asked = Asked {
            project: project.clone(),
            target: KernelTarget::of(project, file),
            modules,
            distributions,
        };
        let mut entries = self.entries();
        let entry = entries.entry(snapshot.uri.clone()).or_default();
        let same_environment = entry
            .probed
            .as_ref()
            .is_some_and(|probed| probed.project == asked.project && probed.target == asked.target);
        let facts = entry.facts.clone().filter(|_| same_environment);
        entry.wanted = Some((asked, names.clone()));
        drop(entries);
        facts.map_or_else(Vec::new, |facts| {
            lint::check_environment(&names, &facts, &settings)
        })
    }

    /// The names of `file`, from the memo of `uri`'s last reading when there is one; and
    /// that reading, when the memo moved on from it.
    fn names_of(
        &self,
        uri: &Uri,
        file: &Arc<NotebookFile>,
    ) -> (NotebookNames, Option<Arc<NotebookFile>>) {
        let memo = self
            .entries()
            .get_mut(uri)
            .and_then(|entry| entry.names.take());
        let (memo, replaced) = match memo {
            Some(mut memo) => {
                let replaced = memo.update(file.clone());
                (memo, replaced)
            }
            None => (HintNamesMemo::build(file.clone()), None),
        };
        let names = NotebookNames::of_memo(&memo);
        self.entries().entry(uri.clone()).or_default().names = Some(memo);
        (names, replaced)
    }

    /// A closed notebook: forget it.
    pub fn forget(&self, uri: &Uri) {
        self.entries().remove(uri);
    }
}

/// Starts a probe for `uri` when what its last diagnostics run wants asked has not been
/// (or the environment may have changed), unless one is running (it asks again after).
pub(crate) fn probe_when_needed(core: &Arc<Core>, uri: &Uri) {
    {
        let mut entries = core.environment_hints.entries();
        let Some(entry) = entries.get_mut(uri) else {
            return;
        };
        let Some((asked, _)) = &entry.wanted else {
            return;
        };
        if entry.running || (entry.probed.as_ref() == Some(asked) && !entry.recheck) {
            return;
        }
        entry.running = true;
    }
    let core = core.clone();
    let uri = uri.clone();
    tokio::task::spawn_blocking(move || probe(&core, &uri));
}

/// A save or a changed file (an install may have preceded it): the environment of every
/// open notebook is stated again (a few `stat`s), and probed again if it changed.
pub(crate) fn environment_may_have_changed(core: &Arc<Core>) {
    let uris: Vec<Uri> = {
        let mut entries = core.environment_hints.entries();
        entries
            .iter_mut()
            .map(|(uri, entry)| {
                entry.recheck = true;
                uri.clone()
            })
            .collect()
    };
    for uri in uris {
        probe_when_needed(core, &uri);
    }
}

/// Probes until what is wanted has been asked; blocking. Publishes `uri`'s diagnostics
/// again when its facts changed.
fn probe(core: &Arc<Core>, uri: &Uri) {
    let hints = &core.environment_hints;
    let mut changed = false;
    loop {
        let wanted = {
            let mut entries = hints.entries();
            let Some(entry) = entries.get_mut(uri) else {
                return;
            };
            match &entry.wanted {
                Some(wanted) if entry.probed.as_ref() != Some(&wanted.0) || entry.recheck => {
                    entry.recheck = false;
                    wanted.clone()
                }
                _ => {
                    entry.running = false;
                    break;
                }
            }
        };
        let (asked, names) = wanted;
        let facts = {
            let mut memories = hints
                .memories
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let project = &asked.project;
            let memory = memories
                .entry(project.root.clone())
                // A damaged file is rewritten after the next probe.
                .or_insert_with(|| read_memory(project).unwrap_or_default());
            // The environment may have changed since the last probe (that is why this
            // one runs): its witnesses are stated again.
            memory.look_again();
            let search = SpecSearch::from_env();
            let facts = hints_environment(project, &asked.target, &search, memory)
                .and_then(|environment| environment_facts(memory, project, &environment, &names));
            if memory.changed() {
                write_memory(project, memory);
            }
            facts
        };
        let mut entries = hints.entries();
        let Some(entry) = entries.get_mut(uri) else {
            return;
        };
        changed |= entry.facts != facts;
        entry.facts = facts;
        entry.probed = Some(asked);
    }
    if changed {
        republish(core, uri);
    }
}

fn republish(core: &Arc<Core>, uri: &Uri) {
    let flags = core.flags();
    if flags.pull_diagnostics {
        let client = core.client.clone();
        tokio::spawn(async move { client.workspace_diagnostic_refresh().await });
    } else {
        core.scheduler.schedule(core, uri);
    }
}

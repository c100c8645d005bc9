//! The run plan: every code cell of one notebook with its current key and what the run
//! will do with it (cached, stale, new, error: re-run, setup, note), before any kernel
//! starts. A plan whose every keyed cell is a hit needs no kernel at all.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::analysis::dataflow::{self, CellFlow};
use crate::analysis::graph::CellRef;
use crate::analysis::workspace::Workspace;
use crate::cache::key::{Injection, KeyContext, KeyInputs, parameters_cell};
use crate::cache::manifest::{Manifest, ManifestStatus};
use crate::cache::status::CellStatus;
use crate::cache::store::Store;
use crate::format::CellType;
use crate::format::tags::{self, CellKind};
use crate::kernel::NotebookEnvironment;
use crate::run::params::Parameters;

/// One code cell of the plan.
#[derive(Debug, Clone)]
pub struct PlannedCell {
    pub ordinal: usize,
    /// `name=`, else `<stem>:<ordinal>`.
    pub name: String,
    /// The `name=` tag alone.
    pub explicit_name: Option<String>,
    /// `<stem>:<ordinal>`.
    pub cell_id: String,
    pub kind: CellKind,
    /// The status before the run (contract 5).
    pub status: CellStatus,
    /// Key and its inputs (`None` for setup and note cells).
    pub key: Option<(String, KeyInputs)>,
    /// The hit's manifest when the cell is cached and not forced.
    pub hit: Option<Manifest>,
    /// The code as it will be executed.
    pub source: String,
    pub timeout: Duration,
    /// Whether the run may execute it (see [`Plan::select`]); every cell is selected by
    /// [`plan_run`].
    pub selected: bool,
    /// The module-level names it (possibly) defines, in-place mutations included: what is
    /// snapshotted after it runs.
    pub defines: Vec<String>,
    /// Whether it may define any name (`from m import *`, `exec`, `globals()`).
    pub defines_everything: bool,
    /// Each name it reads from a cell above, with that producer's ordinal (the cell that
    /// last, possibly, defined it): what is restored before it runs.
    pub reads: Vec<(String, usize)>,
}

impl PlannedCell {
    /// Whether the cell executes in this run (setup cells, and misses that are selected).
    pub fn executes(&self) -> bool {
        match self.kind {
            CellKind::Note => false,
            CellKind::Setup => true,
            _ => self.selected && self.hit.is_none(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub file: usize,
    /// Project-relative notebook path.
    pub notebook: String,
    pub kernel: String,
    pub cells: Vec<PlannedCell>,
    /// The parameters cell to inject, if any.
    pub injection: Option<Injection>,
    /// Ordinals of cells whose results are not recorded when they run: a `jc.load`
    /// producer in another notebook is not current and `--no-deps` did not run it.
    pub unrecorded: BTreeSet<usize>,
    /// What the notebook's PEP-723 block says about the environment its kernel runs in.
    pub environment: NotebookEnvironment,
}

impl Plan {
    /// Whether any selected keyed cell misses (only then does a kernel start).
    pub fn needs_kernel(&self) -> bool {
        self.cells
            .iter()
            .any(|cell| cell.key.is_some() && cell.selected && cell.hit.is_none())
    }

    /// Restricts the run to the keyed cells whose ordinal is in `ordinals` (setup cells
    /// stay: they run before whatever executes); with `force`, those run even when cached.
    /// The editor's run commands use it: one cell, a cell with its dependencies, the cells
    /// above one.
    pub fn select(&mut self, ordinals: &BTreeSet<usize>, force: bool) {
        for cell in &mut self.cells {
            if cell.key.is_none() {
                continue;
            }
            cell.selected = ordinals.contains(&cell.ordinal);
            if cell.selected && force {
                cell.hit = None;
            }
        }
    }

    /// The ordinals of the cells that will execute (setup cells only when something else
    /// does), in order.
    pub fn executing(&self) -> Vec<usize> {
        let misses = self.needs_kernel();
        self.cells
            .iter()
            .filter(|cell| cell.executes() && (misses || cell.kind != CellKind::Setup))
            .map(|cell| cell.ordinal)
            .collect()
    }
}

/// Plans a run of notebook `file`. `force` makes every keyed cell a miss.
pub fn plan_run(
    workspace: &Workspace,
    file: usize,
    parameters: &Parameters,
    force: bool,
    store: &Store,
) -> Plan {
    let injection = parameters.injected_source().map(|source| Injection {
        notebook: file,
        after: parameters_cell(workspace, file),
        source,
    });
    let mut keys = KeyContext::for_run(workspace, injection.clone(), store, file, force);
    let kernel = keys.kernel(file);
    let Some(notebook) = workspace.files.get(file) else {
        return Plan {
            file,
            notebook: String::new(),
            kernel,
            cells: Vec::new(),
            injection,
            unrecorded: BTreeSet::new(),
            environment: NotebookEnvironment::default(),
        };
    };
    let environment = notebook_environment(notebook.notebook.pep723.as_ref());
    let project = match &notebook.notebook.pep723 {
        Some(block) => workspace.project.with_overrides(&block.overrides),
        None => workspace.project.clone(),
    };
    let default_timeout = project.config.run.timeout_seconds;
    let stem = notebook.stem().to_string();
    let mut cells = Vec::new();
    for (ordinal, cell) in notebook.notebook.cells.iter().enumerate() {
        if cell.cell_type != CellType::Code {
            continue;
        }
        let name = tags::cell_name(&cell.spec, &stem, ordinal);
        let seconds = cell.spec.timeout_seconds.unwrap_or(default_timeout).max(0);
        let cell_ref = CellRef {
            notebook: file,
            ordinal,
        };
        let key = keys.inputs(cell_ref).map(|inputs| (inputs.key(), inputs));
        let (status, hit) = match (cell.spec.kind, &key) {
            (CellKind::Setup, _) => (CellStatus::Setup, None),
            (CellKind::Note, _) => (CellStatus::Note, None),
            (_, Some((key, _))) => match store.verified_manifest(key) {
                Some(manifest) if manifest.status == ManifestStatus::Ok => {
                    (CellStatus::Cached, (!force).then_some(manifest))
                }
                Some(_) => (CellStatus::Error, None),
                None if store.latest_for(&notebook.relative, &name).is_some() => {
                    (CellStatus::Stale, None)
                }
                None => (CellStatus::New, None),
            },
            (_, None) => (CellStatus::New, None),
        };
        cells.push(PlannedCell {
            ordinal,
            name,
            explicit_name: cell.spec.name.clone(),
            cell_id: format!("{stem}:{ordinal}"),
            kind: cell.spec.kind,
            status,
            key,
            hit,
            source: cell.source.clone(),
            timeout: Duration::from_secs(u64::try_from(seconds).unwrap_or(0)),
            selected: true,
            defines: Vec::new(),
            defines_everything: false,
            reads: Vec::new(),
        });
    }
    attach_dataflow(&mut cells);
    // The `parameters` cell defines the defaults later cells read, so it runs whenever a
    // cell after it runs, hit or not (a hit would leave its names undefined).
    if let Some(parameters) = parameters_cell(workspace, file) {
        let later_miss = cells
            .iter()
            .any(|cell| cell.ordinal > parameters && cell.key.is_some() && cell.hit.is_none());
        if later_miss && let Some(cell) = cells.iter_mut().find(|cell| cell.ordinal == parameters) {
            cell.hit = None;
        }
    }
    Plan {
        file,
        notebook: notebook.relative.clone(),
        kernel,
        cells,
        injection,
        unrecorded: BTreeSet::new(),
        environment,
    }
}

fn notebook_environment(block: Option<&crate::format::pep723::Pep723Block>) -> NotebookEnvironment {
    block.map_or_else(NotebookEnvironment::default, |block| NotebookEnvironment {
        python: block.overrides.python.clone(),
        dependencies: block.dependencies.clone(),
        requires_python: block.requires_python.clone(),
    })
}

/// Fills each cell's `defines`, `defines_everything` and `reads` (with producer
/// ordinals) from the dataflow analysis. Note cells never run, so they produce nothing.
fn attach_dataflow(cells: &mut [PlannedCell]) {
    let running: Vec<usize> = (0..cells.len())
        .filter(|&index| cells[index].kind != CellKind::Note)
        .collect();
    let flows: Vec<CellFlow> = running
        .iter()
        .map(|&index| dataflow::cell_flow(&cells[index].source))
        .collect();
    let producers = dataflow::producers(&flows.iter().collect::<Vec<_>>());
    for ((&index, flow), reads) in running.iter().zip(&flows).zip(producers) {
        let reads: Vec<(String, usize)> = reads
            .into_iter()
            .filter_map(|(name, producer)| {
                let ordinal = cells[*running.get(producer)?].ordinal;
                Some((name, ordinal))
            })
            .collect();
        let cell = &mut cells[index];
        cell.defines.clone_from(&flow.defines);
        cell.defines_everything = flow.defines_everything;
        cell.reads = reads;
    }
}

/// A cell of notebook `file` that `jc.load`s what a cell of another notebook writes, when
/// that producer's current result is not in the store (it was edited, or never ran).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleProducer {
    /// The consumer's ordinal in `file`.
    pub consumer: usize,
    pub producer: CellRef,
}

/// The producers in other notebooks that the keyed cells of notebook `file` load from and
/// that are not current.
pub fn stale_producers_elsewhere(
    workspace: &Workspace,
    file: usize,
    store: &Store,
) -> Vec<StaleProducer> {
    let mut keys = KeyContext::new(workspace, None, store);
    let Some(notebook) = workspace.files.get(file) else {
        return Vec::new();
    };
    let mut stale = Vec::new();
    for ordinal in 0..notebook.notebook.cells.len() {
        let consumer = CellRef {
            notebook: file,
            ordinal,
        };
        for producer in keys.load_producers(consumer) {
            if producer.notebook == file {
                continue;
            }
            let current = keys
                .key(producer)
                .and_then(|key| store.manifest(&key))
                .is_some_and(|manifest| manifest.status == ManifestStatus::Ok);
            if !current {
                stale.push(StaleProducer {
                    consumer: ordinal,
                    producer,
                });
            }
        }
    }
    stale
}

/// The ordinals of `cells` (all in one notebook) and of every cell of that notebook their
/// keys depend on, directly or not: what must run for them to be current.
pub fn closure_in_notebook(
    workspace: &Workspace,
    store: &Store,
    cells: &[CellRef],
) -> BTreeSet<usize> {
    let mut keys = KeyContext::new(workspace, None, store);
    let mut seen = BTreeSet::new();
    let mut work: Vec<CellRef> = cells.to_vec();
    while let Some(cell) = work.pop() {
        if !seen.insert(cell.ordinal) {
            continue;
        }
        work.extend(
            keys.dependencies(cell)
                .into_iter()
                .filter(|target| target.notebook == cell.notebook),
        );
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::workspace::NotebookInput;

    const NOTEBOOK: &str = "# %% tags=[\"jc.setup\"]\nF = 2\n\n# %% tags=[\"name=a\"]\na = 1\n\n# %% tags=[\"name=b\", \"deps=a\"]\nb = a\n\n# %% tags=[\"jc.note\"]\nnote = 1\n";

    fn plan(store: &Store) -> Plan {
        let root = std::path::PathBuf::from("/nonexistent-jellycell-project");
        let project = crate::project::Project::without_config(&root);
        let workspace = Workspace::build(
            project,
            vec![NotebookInput {
                path: root.join("notebooks/n.py"),
                text: NOTEBOOK.to_string(),
            }],
        );
        plan_run(&workspace, 0, &Parameters::default(), false, store)
    }

    #[test]
    fn selecting_cells_leaves_the_others_unexecuted_and_keeps_setup_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().to_path_buf());
        let mut plan = plan(&store);
        assert_eq!(plan.executing(), [0, 1, 2]);
        plan.select(&[2].into(), false);
        assert_eq!(plan.executing(), [0, 2]);
        assert!(plan.needs_kernel());
        plan.select(&BTreeSet::new(), false);
        assert!(plan.executing().is_empty(), "setup alone does not run");
        assert!(!plan.needs_kernel());
    }
}

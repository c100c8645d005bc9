//! Cache keys (DESIGN contract 3): the byte layout of one key, the environment hash, and
//! the keys of every cell of a workspace in dependency order, across notebooks.
//!
//! A key is blake3 over length-prefixed fields (see `docs/cache.md`, which pins test
//! vectors that the tests below check): the format version, the normalised source, the
//! sorted dependency keys, the hashes of the setup cells above, the environment hash, the
//! kernel name, the injected parameters, and what each literal `jc.load` will read. Names,
//! ordinals, titles and timeouts are not in the key, so moving or renaming a cell keeps
//! its cache.
//!
//! Dependencies are the project graph's named edges (`deps=`, `jc.deps`) plus, from the
//! per-cell dataflow (`analysis::dataflow`), the cells above that (possibly) last defined
//! a name the cell reads. What a `jc.load` reads is the producer's key when the
//! producer's current result recorded the file, else the file's blake3 on disk. Edges
//! inside a cycle (possible across notebooks) are left out; keys are computed without
//! recursion, one strongly connected component at a time (`order`).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::SystemTime;

use crate::analysis::dataflow::{CellFlow, producers};
use crate::analysis::graph::{CellRef, EdgeReason};
use crate::analysis::workspace::Workspace;
use crate::cache::manifest::ManifestStatus;
use crate::cache::normalize::normalize_source;
use crate::cache::store::Store;
use crate::format::tags::CellKind;
use crate::format::{CellType, Notebook};

/// The first field of every key; bumped whenever the layout changes.
pub const KEY_VERSION: &str = "jellycell-lsp-cache-v2";

/// The unit separator jellycell's hashes use between fields of the environment hash.
const SEP: u8 = 0x1f;

/// Everything that went into one key (stored in the manifest beside the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInputs {
    /// The normalised source, as it will be executed.
    pub source: String,
    /// The keys of the cell's dependencies, sorted and without duplicates.
    pub dep_keys: Vec<String>,
    /// blake3 of the normalised source of every setup cell above, in order.
    pub setup_hashes: Vec<String>,
    pub env_hash: String,
    pub kernel: String,
    /// The injected parameters cell's source when it applies to this cell.
    pub params: Option<String>,
    /// What each literal `jc.load` path will read, sorted by path.
    pub loads: Vec<LoadInput>,
    /// Not in the key bytes (their keys are in `dep_keys`): the names the cell reads and
    /// the cell each comes from, so a hover can say which input changed.
    pub inputs: Vec<NamedInput>,
}

/// What one literal `jc.load` path reads, as field 8 of the key holds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LoadInput {
    /// Project-relative, as the call writes it (normalised).
    pub path: String,
    /// `key <producer key>[,<key>...]`, `blake3 <hex>` or `missing`.
    pub content: String,
    /// The producers in `content` that had not recorded the file when the key was
    /// computed but run before the cell in the same run (the runner checks they did).
    pub assumed: Vec<String>,
}

/// A name a cell reads and the cell above that (possibly) defined it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NamedInput {
    pub name: String,
    /// The producer's `name=`, else `<stem>:<ordinal>`.
    pub from_cell: String,
    pub key: String,
}

/// The content of a `jc.load` path that no producer recorded and no file holds.
pub const MISSING_FILE: &str = "missing";

impl KeyInputs {
    /// The key: blake3 over the length-prefixed fields, as lowercase hex.
    pub fn key(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        field(&mut hasher, KEY_VERSION.as_bytes());
        field(&mut hasher, self.source.as_bytes());
        list(&mut hasher, &self.dep_keys);
        list(&mut hasher, &self.setup_hashes);
        field(&mut hasher, self.env_hash.as_bytes());
        field(&mut hasher, self.kernel.as_bytes());
        field(
            &mut hasher,
            self.params.as_deref().unwrap_or_default().as_bytes(),
        );
        hasher.update(&(self.loads.len() as u64).to_le_bytes());
        for load in &self.loads {
            field(&mut hasher, load.path.as_bytes());
            field(&mut hasher, load.content.as_bytes());
        }
        hasher.finalize().to_hex().to_string()
    }

    /// blake3 of the normalised source.
    pub fn source_hash(&self) -> String {
        hash_hex(self.source.as_bytes())
    }

    /// blake3 of the parameters text, when parameters apply.
    pub fn params_hash(&self) -> Option<String> {
        self.params.as_deref().map(|text| hash_hex(text.as_bytes()))
    }
}

fn field(hasher: &mut blake3::Hasher, bytes: &[u8]) {
    hasher.update(&(bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

fn list(hasher: &mut blake3::Hasher, items: &[String]) {
    hasher.update(&(items.len() as u64).to_le_bytes());
    for item in items {
        field(hasher, item.as_bytes());
    }
}

/// blake3 of `bytes` as lowercase hex.
pub fn hash_hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// The environment hash (jellycell §4.2 with blake3): `uv.lock`, else `poetry.lock` at the
/// project root (name, 0x1F, bytes), else the sorted unique PEP-723 dependency strings,
/// each followed by 0x1F.
pub fn env_hash(lockfile: Option<(&str, &[u8])>, dependencies: &[String]) -> String {
    let mut hasher = blake3::Hasher::new();
    match lockfile {
        Some((name, bytes)) => {
            hasher.update(name.as_bytes());
            hasher.update(&[SEP]);
            hasher.update(bytes);
        }
        None => {
            let mut sorted: Vec<&String> = dependencies.iter().collect();
            sorted.sort();
            sorted.dedup();
            for dependency in sorted {
                hasher.update(dependency.as_bytes());
                hasher.update(&[SEP]);
            }
        }
    }
    hasher.finalize().to_hex().to_string()
}

/// Parameters injected into one notebook: the source of the injected cell and the
/// ordinal of the cell it follows (`None`: injected at the top, as papermill does when no
/// cell is tagged `parameters`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injection {
    pub notebook: usize,
    pub after: Option<usize>,
    pub source: String,
}

impl Injection {
    /// Whether the parameters apply to (are in the key of) the cell at `ordinal`.
    pub fn applies_to(&self, cell: CellRef) -> bool {
        cell.notebook == self.notebook && self.after.is_none_or(|after| cell.ordinal > after)
    }
}

/// The ordinal of the first cell tagged `parameters` in notebook `file`.
pub fn parameters_cell(workspace: &Workspace, file: usize) -> Option<usize> {
    workspace
        .files
        .get(file)?
        .notebook
        .cells
        .iter()
        .position(|cell| cell.cell_type == CellType::Code && cell.tags().contains(&"parameters"))
}

/// The kernel a run starts for `notebook` (and whose name its cache key carries): its
/// PEP-723 block's override, else, for a notebook in another language (an R notebook's
/// `ir`), the kernelspec it names, else the project's `[run] kernel`.
pub fn notebook_kernel(project: &crate::project::Project, notebook: &Notebook) -> String {
    if let Some(block) = &notebook.pep723 {
        return project.with_overrides(&block.overrides).config.run.kernel;
    }
    let own_kernel = Some(notebook)
        .filter(|notebook| !crate::format::language::is_python_notebook(notebook))
        .and_then(|notebook| notebook.metadata.get("kernelspec"))
        .and_then(|kernelspec| kernelspec.get("name"))
        .and_then(serde_json::Value::as_str)
        .filter(|name| !name.is_empty());
    match own_kernel {
        Some(name) => name.to_string(),
        None => project.config.run.kernel.clone(),
    }
}

/// Computes keys of a workspace's cells on demand, memoised.
pub struct KeyContext<'w> {
    workspace: &'w Workspace,
    injection: Option<Injection>,
    store: &'w Store,
    /// Set when planning a run of this notebook: a producer above a cell, in this
    /// notebook, that misses will run first, so a `jc.load` of what it writes counts as
    /// recorded by it (`LoadInput::assumed`; the runner checks it was).
    planning: Option<Planning>,
    memo: HashMap<CellRef, Option<KeyInputs>>,
    edges: HashMap<CellRef, Vec<KeyEdge>>,
    /// Per notebook, per code cell ordinal: the names it reads and their producers'
    /// ordinals; and the cells that define anything.
    flows: HashMap<usize, NotebookFlows>,
    /// The strongly connected component of every cell whose key is known.
    component: HashMap<CellRef, usize>,
    components: usize,
    keys: HashMap<CellRef, Option<String>>,
    /// Per notebook: (ordinal, source hash) of its setup cells, in order, hashed once.
    setup_cells: HashMap<usize, Vec<(usize, String)>>,
    env_hashes: HashMap<usize, String>,
    lockfile: Option<Option<(String, Vec<u8>)>>,
}

#[derive(Debug, Clone, Copy)]
struct Planning {
    notebook: usize,
    force: bool,
}

/// Why a cell's key covers another cell.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Via {
    /// `deps=` or `jc.deps(...)`.
    Named,
    /// The target (possibly) last defined this name above the cell.
    Variable(String),
    /// The cell defines anything (`exec`, `from m import *`), so it may read anything.
    Everything,
    /// The target writes this path, which the cell `jc.load`s.
    Load(String),
}

#[derive(Debug, Clone)]
struct KeyEdge {
    target: CellRef,
    via: Via,
}

#[derive(Debug, Default)]
struct NotebookFlows {
    producers: HashMap<usize, Vec<(String, usize)>>,
    everything: HashSet<usize>,
}

impl<'w> KeyContext<'w> {
    /// Keys as the store stands: what statuses, lenses and exports use.
    pub fn new(
        workspace: &'w Workspace,
        injection: Option<Injection>,
        store: &'w Store,
    ) -> KeyContext<'w> {
        KeyContext {
            workspace,
            injection,
            store,
            planning: None,
            memo: HashMap::new(),
            edges: HashMap::new(),
            flows: HashMap::new(),
            component: HashMap::new(),
            components: 0,
            keys: HashMap::new(),
            setup_cells: HashMap::new(),
            env_hashes: HashMap::new(),
            lockfile: None,
        }
    }

    /// Keys for a run of notebook `file` (`force`: every cell executes): a `jc.load` of a
    /// path that a missing producer above it in `file` writes reads what that producer
    /// will write in this run.
    pub fn for_run(
        workspace: &'w Workspace,
        injection: Option<Injection>,
        store: &'w Store,
        file: usize,
        force: bool,
    ) -> KeyContext<'w> {
        let mut context = KeyContext::new(workspace, injection, store);
        context.planning = Some(Planning {
            notebook: file,
            force,
        });
        context
    }

    /// The key of `cell`, or `None` for cells without one (setup, note, markdown, raw).
    pub fn key(&mut self, cell: CellRef) -> Option<String> {
        if let Some(known) = self.keys.get(&cell) {
            return known.clone();
        }
        let key = self.inputs(cell).map(|inputs| inputs.key());
        self.keys.insert(cell, key.clone());
        key
    }

    /// The key inputs of `cell`, or `None` for cells without a key.
    pub fn inputs(&mut self, cell: CellRef) -> Option<KeyInputs> {
        if !self.memo.contains_key(&cell) {
            self.compute_from(cell);
        }
        self.memo.get(&cell).cloned().flatten()
    }

    /// The cells that write what `cell` `jc.load`s (outside any cycle through `cell`).
    pub fn load_producers(&mut self, cell: CellRef) -> Vec<CellRef> {
        self.dependencies_where(cell, |via| matches!(via, Via::Load(_)))
    }

    /// Every cell `cell`'s key covers directly (outside any cycle through `cell`).
    pub fn dependencies(&mut self, cell: CellRef) -> Vec<CellRef> {
        self.dependencies_where(cell, |_| true)
    }

    fn dependencies_where(&mut self, cell: CellRef, keep: fn(&Via) -> bool) -> Vec<CellRef> {
        if self.inputs(cell).is_none() {
            return Vec::new();
        }
        let own = self.component.get(&cell).copied();
        let mut targets: Vec<CellRef> = self
            .edges_of(cell)
            .into_iter()
            .filter(|edge| keep(&edge.via) && self.component.get(&edge.target).copied() != own)
            .map(|edge| edge.target)
            .collect();
        targets.sort_by_key(|target| (target.notebook, target.ordinal));
        targets.dedup();
        targets
    }

    /// The kernel name of notebook `file` ([`notebook_kernel`]).
    pub fn kernel(&self, file: usize) -> String {
        let project = &self.workspace.project;
        match self.workspace.files.get(file) {
            Some(file) => notebook_kernel(project, &file.notebook),
            None => project.config.run.kernel.clone(),
        }
    }

    /// Whether `cell` is a code cell with a key (not setup, not note).
    fn keyed(&self, cell: CellRef) -> bool {
        self.workspace
            .files
            .get(cell.notebook)
            .and_then(|file| file.notebook.cells.get(cell.ordinal))
            .is_some_and(|code| {
                code.cell_type == CellType::Code
                    && !matches!(code.spec.kind, CellKind::Setup | CellKind::Note)
            })
    }

    /// Tarjan's algorithm without recursion from `start`: every component is finished
    /// after the components it depends on, so its keys are computed in that order. A
    /// cell already known is a finished component.
    fn compute_from(&mut self, start: CellRef) {
        if !self.keyed(start) {
            self.memo.insert(start, None);
            return;
        }
        let mut index: HashMap<CellRef, usize> = HashMap::new();
        let mut low: HashMap<CellRef, usize> = HashMap::new();
        let mut on_stack: HashSet<CellRef> = HashSet::new();
        let mut stack: Vec<CellRef> = Vec::new();
        let mut calls: Vec<(CellRef, usize)> = vec![(start, 0)];
        index.insert(start, 0);
        low.insert(start, 0);
        stack.push(start);
        on_stack.insert(start);
        while let Some(&mut (node, ref mut next)) = calls.last_mut() {
            let edges = self.edges_of(node);
            if let Some(edge) = edges.get(*next) {
                *next += 1;
                let target = edge.target;
                if self.memo.contains_key(&target) {
                    continue;
                }
                if let Some(&target_index) = index.get(&target) {
                    if on_stack.contains(&target) {
                        let node_low = low.get(&node).copied().unwrap_or(0);
                        low.insert(node, node_low.min(target_index));
                    }
                    continue;
                }
                let fresh = index.len();
                index.insert(target, fresh);
                low.insert(target, fresh);
                stack.push(target);
                on_stack.insert(target);
                calls.push((target, 0));
                continue;
            }
            calls.pop();
            let node_low = low.get(&node).copied().unwrap_or(0);
            if let Some(&(parent, _)) = calls.last() {
                let parent_low = low.get(&parent).copied().unwrap_or(0);
                low.insert(parent, parent_low.min(node_low));
            }
            if Some(&node_low) == index.get(&node) {
                let component = self.components;
                self.components += 1;
                let mut members = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack.remove(&member);
                    members.push(member);
                    if member == node {
                        break;
                    }
                }
                for member in &members {
                    self.component.insert(*member, component);
                }
                for member in members {
                    let inputs = self.compute(member);
                    self.memo.insert(member, inputs);
                }
            }
        }
    }

    /// What `cell`'s key covers: named deps, the producers of the names it reads, the
    /// producers of what it loads; only cells with keys.
    fn edges_of(&mut self, cell: CellRef) -> Vec<KeyEdge> {
        if let Some(edges) = self.edges.get(&cell) {
            return edges.clone();
        }
        let workspace = self.workspace;
        let mut edges = Vec::new();
        for edge in workspace.graph.dependencies(cell) {
            let via = match &edge.why {
                EdgeReason::Named(_) => Via::Named,
                EdgeReason::Loads(path) => Via::Load(path.path.clone()),
            };
            edges.push(KeyEdge {
                target: edge.target,
                via,
            });
        }
        let flows = self.notebook_flows(cell.notebook);
        if let Some(producers) = flows.producers.get(&cell.ordinal) {
            for (name, ordinal) in producers {
                edges.push(KeyEdge {
                    target: CellRef {
                        notebook: cell.notebook,
                        ordinal: *ordinal,
                    },
                    via: Via::Variable(name.clone()),
                });
            }
        }
        if flows.everything.contains(&cell.ordinal) {
            for ordinal in 0..cell.ordinal {
                edges.push(KeyEdge {
                    target: CellRef {
                        notebook: cell.notebook,
                        ordinal,
                    },
                    via: Via::Everything,
                });
            }
        }
        edges.retain(|edge| edge.target != cell && self.keyed(edge.target));
        self.edges.insert(cell, edges.clone());
        edges
    }

    fn notebook_flows(&mut self, notebook: usize) -> &NotebookFlows {
        let workspace = self.workspace;
        self.flows.entry(notebook).or_insert_with(|| {
            let Some(file) = workspace.files.get(notebook) else {
                return NotebookFlows::default();
            };
            let mut ordinals = Vec::new();
            let mut flows = Vec::new();
            for (ordinal, cell) in file.notebook.cells.iter().enumerate() {
                if cell.cell_type != CellType::Code {
                    continue;
                }
                ordinals.push(ordinal);
                // A note never runs: it defines nothing in the kernel.
                flows.push(match cell.spec.kind {
                    CellKind::Note => Cow::Owned(CellFlow::default()),
                    _ => file.cell_flow(ordinal),
                });
            }
            let refs: Vec<&CellFlow> = flows.iter().map(|flow| &**flow).collect();
            let mut result = NotebookFlows::default();
            for (position, pairs) in producers(&refs).into_iter().enumerate() {
                let pairs = pairs
                    .into_iter()
                    .filter_map(|(name, at)| Some((name, *ordinals.get(at)?)))
                    .collect();
                if let Some(&ordinal) = ordinals.get(position) {
                    result.producers.insert(ordinal, pairs);
                    if flows[position].defines_everything {
                        result.everything.insert(ordinal);
                    }
                }
            }
            result
        })
    }

    /// The key inputs of `cell`, once the keys of every component it depends on are known.
    fn compute(&mut self, cell: CellRef) -> Option<KeyInputs> {
        let workspace = self.workspace;
        let file = workspace.files.get(cell.notebook)?;
        let code = file.notebook.cells.get(cell.ordinal)?;
        let own_component = self.component.get(&cell).copied();
        let mut dep_keys = Vec::new();
        let mut inputs = Vec::new();
        let mut load_producers: HashMap<String, Vec<CellRef>> = HashMap::new();
        for edge in self.edges_of(cell) {
            // A dep that can reach back to this cell is in a cycle: left out, whichever
            // cell the computation started from.
            if self.component.get(&edge.target).copied() == own_component {
                continue;
            }
            let Some(key) = self
                .memo
                .get(&edge.target)
                .cloned()
                .flatten()
                .map(|i| i.key())
            else {
                continue;
            };
            match edge.via {
                Via::Load(path) => load_producers.entry(path).or_default().push(edge.target),
                Via::Variable(name) => {
                    inputs.push(NamedInput {
                        name,
                        from_cell: workspace.graph.name_of(edge.target),
                        key: key.clone(),
                    });
                    dep_keys.push(key);
                }
                Via::Named | Via::Everything => dep_keys.push(key),
            }
        }
        dep_keys.sort();
        dep_keys.dedup();
        inputs.sort();
        inputs.dedup();
        let mut paths: Vec<String> = workspace
            .graph
            .cell(cell)
            .map(|facts| facts.loads.iter().map(|load| load.path.clone()).collect())
            .unwrap_or_default();
        paths.sort();
        paths.dedup();
        let loads = paths
            .into_iter()
            .map(|path| {
                let producers = load_producers.remove(&path).unwrap_or_default();
                self.load_input(cell, path, &producers)
            })
            .collect();
        let setup_cells = self.setup_cells.entry(cell.notebook).or_insert_with(|| {
            file.notebook
                .cells
                .iter()
                .enumerate()
                .filter(|(_, above)| {
                    above.cell_type == CellType::Code && above.spec.kind == CellKind::Setup
                })
                .map(|(ordinal, setup)| {
                    (
                        ordinal,
                        hash_hex(normalize_source(&setup.source).as_bytes()),
                    )
                })
                .collect()
        });
        let above = setup_cells.partition_point(|(ordinal, _)| *ordinal < cell.ordinal);
        let setup_hashes = setup_cells[..above]
            .iter()
            .map(|(_, hash)| hash.clone())
            .collect();
        let params = self
            .injection
            .as_ref()
            .filter(|injection| injection.applies_to(cell))
            .map(|injection| normalize_source(&injection.source));
        Some(KeyInputs {
            source: normalize_source(&code.source),
            dep_keys,
            setup_hashes,
            env_hash: self.env_hash(cell.notebook),
            kernel: self.kernel(cell.notebook),
            params,
            loads,
            inputs,
        })
    }

    /// What `cell`'s `jc.load(path)` will read: the keys of the producers whose current
    /// result recorded the file (or that run before it in the run being planned), else
    /// the file's blake3 on disk, else [`MISSING_FILE`].
    fn load_input(&self, cell: CellRef, path: String, producers: &[CellRef]) -> LoadInput {
        let mut recorded = Vec::new();
        let mut assumed = Vec::new();
        for producer in producers {
            let Some(key) = self.memo.get(producer).cloned().flatten().map(|i| i.key()) else {
                continue;
            };
            let manifest = self.store.manifest(&key);
            let has_it = manifest.as_ref().is_some_and(|manifest| {
                manifest.status == ManifestStatus::Ok
                    && manifest.artifacts.iter().any(|record| record.path == path)
            });
            if has_it {
                recorded.push(key);
                continue;
            }
            let hit = manifest.is_some_and(|manifest| manifest.status == ManifestStatus::Ok);
            let runs_first = self.planning.is_some_and(|planning| {
                planning.notebook == cell.notebook
                    && producer.notebook == cell.notebook
                    && producer.ordinal < cell.ordinal
                    && (planning.force || !hit)
            });
            if runs_first {
                assumed.push(key.clone());
                recorded.push(key);
            }
        }
        recorded.sort();
        recorded.dedup();
        let content = if recorded.is_empty() {
            file_content(&self.workspace.project.root, &path)
        } else {
            format!("key {}", recorded.join(","))
        };
        LoadInput {
            path,
            content,
            assumed,
        }
    }

    fn env_hash(&mut self, file: usize) -> String {
        if let Some(hash) = self.env_hashes.get(&file) {
            return hash.clone();
        }
        if self.lockfile.is_none() {
            let root = &self.workspace.project.root;
            let found = ["uv.lock", "poetry.lock"].into_iter().find_map(|name| {
                std::fs::read(root.join(name))
                    .ok()
                    .map(|bytes| (name.to_string(), bytes))
            });
            self.lockfile = Some(found);
        }
        let lockfile = self
            .lockfile
            .as_ref()
            .and_then(|found| found.as_ref())
            .map(|(name, bytes)| (name.as_str(), bytes.as_slice()));
        let dependencies = self
            .workspace
            .files
            .get(file)
            .and_then(|file| file.notebook.pep723.as_ref())
            .map(|block| block.dependencies.clone())
            .unwrap_or_default();
        let hash = env_hash(lockfile, &dependencies);
        self.env_hashes.insert(file, hash.clone());
        hash
    }
}

/// `blake3 <hex>` of the file at project-relative `path`, or [`MISSING_FILE`] when it is
/// not a regular file inside the project (a FIFO or a device is never opened). Hashes are
/// remembered by size and modification time, so a large input is read once.
fn file_content(root: &Path, path: &str) -> String {
    let relative = Path::new(path);
    if relative
        .components()
        .any(|part| !matches!(part, Component::Normal(_)))
    {
        return MISSING_FILE.to_string();
    }
    let full = root.join(relative);
    let Ok(metadata) = std::fs::metadata(&full) else {
        return MISSING_FILE.to_string();
    };
    if !metadata.is_file() {
        return MISSING_FILE.to_string();
    }
    let stamp = (metadata.len(), metadata.modified().ok());
    if let Ok(memo) = FILE_HASHES.lock()
        && let Some((known, hash)) = memo.get(&full)
        && *known == stamp
    {
        return format!("blake3 {hash}");
    }
    let Ok(file) = std::fs::File::open(&full) else {
        return MISSING_FILE.to_string();
    };
    let mut hasher = blake3::Hasher::new();
    if hasher.update_reader(file).is_err() {
        return MISSING_FILE.to_string();
    }
    let hash = hasher.finalize().to_hex().to_string();
    if let Ok(mut memo) = FILE_HASHES.lock() {
        memo.insert(full, (stamp, hash.clone()));
    }
    format!("blake3 {hash}")
}

type FileStamp = (u64, Option<SystemTime>);

static FILE_HASHES: LazyLock<Mutex<HashMap<PathBuf, (FileStamp, String)>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(source: &str) -> KeyInputs {
        KeyInputs {
            source: normalize_source(source),
            dep_keys: Vec::new(),
            setup_hashes: Vec::new(),
            env_hash: env_hash(None, &[]),
            kernel: "python3".into(),
            params: None,
            loads: Vec::new(),
            inputs: Vec::new(),
        }
    }

    fn empty_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let store = Store::at(dir.path().to_path_buf());
        (dir, store)
    }

    #[test]
    fn a_chain_of_deps_as_long_as_the_notebook_does_not_overflow_the_stack() {
        let mut text = String::from("# %% tags=[\"name=c0\"]\nx = 0\n\n");
        for index in 1..20_000 {
            text.push_str(&format!(
                "# %% tags=[\"name=c{index}\", \"deps=c{}\"]\nx = {index}\n\n",
                index - 1
            ));
        }
        let workspace = workspace(&[("notebooks/chain.py", &text)]);
        let (_dir, store) = empty_store();
        let mut keys = KeyContext::new(&workspace, None, &store);
        let last = keys.inputs(cell(0, 19_999));
        assert!(last.is_some_and(|inputs| !inputs.dep_keys.is_empty()));
        let mut fresh = KeyContext::new(&workspace, None, &store);
        assert_eq!(fresh.key(cell(0, 19_998)), keys.key(cell(0, 19_998)));
    }

    /// The vectors published in docs/cache.md; the doc must list each of them.
    #[test]
    fn test_vectors_match_docs_cache_md() {
        let doc = include_str!("../../../docs/cache.md");
        let empty_env = env_hash(None, &[]);
        let numpy_env = env_hash(None, &["pandas".into(), "numpy".into(), "numpy".into()]);
        let uv_env = env_hash(Some(("uv.lock", b"version = 1\n")), &["ignored".into()]);
        let mut with_deps = inputs("summary = df.describe()\n");
        with_deps.dep_keys = vec!["a".repeat(64), "b".repeat(64)];
        with_deps.setup_hashes = vec![hash_hex(b"N = 5\n")];
        let mut with_params = inputs("print(alpha)");
        with_params.params = Some("# Parameters\nalpha = 0.5\n".into());
        let mut with_loads = inputs("means = jc.load(\"artifacts/means.json\")\n");
        with_loads.loads = vec![
            LoadInput {
                path: "artifacts/means.json".into(),
                content: format!("key {}", "c".repeat(64)),
                assumed: Vec::new(),
            },
            LoadInput {
                path: "data/absent.csv".into(),
                content: MISSING_FILE.into(),
                assumed: Vec::new(),
            },
            LoadInput {
                path: "data/raw.csv".into(),
                content: format!("blake3 {}", hash_hex(b"a,b\n1,2\n")),
                assumed: Vec::new(),
            },
        ];
        let vectors = [
            ("env_hash([])", empty_env.clone()),
            ("env_hash([\"pandas\",\"numpy\",\"numpy\"])", numpy_env),
            ("env_hash(uv.lock)", uv_env),
            ("key(\"\")", inputs("").key()),
            ("key(\"x = 1\")", inputs("x = 1").key()),
            ("key(deps+setup)", with_deps.key()),
            ("key(params)", with_params.key()),
            ("blake3(\"a,b\\n1,2\\n\")", hash_hex(b"a,b\n1,2\n")),
            ("key(loads)", with_loads.key()),
        ];

        let missing: Vec<String> = vectors
            .iter()
            .filter(|(_, value)| !doc.contains(value.as_str()))
            .map(|(name, value)| format!("{name} = {value}"))
            .collect();
        assert!(
            missing.is_empty(),
            "docs/cache.md lacks the vectors {missing:#?}"
        );
        assert_eq!(
            empty_env,
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
    }

    fn workspace(files: &[(&str, &str)]) -> Workspace {
        use crate::analysis::workspace::NotebookInput;
        let root = std::path::PathBuf::from("/nonexistent-jellycell-project");
        let project = crate::project::Project::without_config(&root);
        let inputs = files
            .iter()
            .map(|(path, text)| NotebookInput {
                path: root.join(path),
                text: text.to_string(),
            })
            .collect();
        Workspace::build(project, inputs)
    }

    fn cell(notebook: usize, ordinal: usize) -> CellRef {
        CellRef { notebook, ordinal }
    }

    #[test]
    fn a_cross_notebook_cycle_gives_the_same_keys_from_either_side() {
        let files = [
            (
                "notebooks/a.py",
                "# %%\nx = jc.load(\"artifacts/b.json\")\njc.save(x, \"artifacts/a.json\")\n",
            ),
            (
                "notebooks/b.py",
                "# %%\ny = jc.load(\"artifacts/a.json\")\njc.save(y, \"artifacts/b.json\")\n",
            ),
        ];
        let workspace = workspace(&files);
        assert_eq!(
            workspace.graph.dependencies(cell(0, 0))[0].target,
            cell(1, 0)
        );
        assert_eq!(
            workspace.graph.dependencies(cell(1, 0))[0].target,
            cell(0, 0)
        );
        let (_dir, store) = empty_store();
        let mut from_a = KeyContext::new(&workspace, None, &store);
        let a_first = (from_a.key(cell(0, 0)), from_a.key(cell(1, 0)));
        let mut from_b = KeyContext::new(&workspace, None, &store);
        let b_first = (from_b.key(cell(0, 0)), from_b.key(cell(1, 0)));
        let b_second = from_b.key(cell(1, 0));
        assert!(a_first.0.is_some() && a_first.1.is_some());
        assert_eq!(a_first, b_first);
        assert_eq!(a_first.1, b_second);
    }

    #[test]
    fn deps_setup_cells_and_parameters_reach_the_right_keys() {
        let text = "# %% tags=[\"name=a\"]\na = 1\n\n# %% tags=[\"jc.setup\"]\nN = 1\n\n\
                    # %% tags=[\"name=b\", \"deps=a\", \"parameters\"]\nb = a\n\n# %% tags=[\"name=c\"]\nc = 1\n";
        let before = workspace(&[("notebooks/n.py", text)]);
        let after = workspace(&[("notebooks/n.py", &text.replace("a = 1", "a = 2"))]);
        let setup = workspace(&[("notebooks/n.py", &text.replace("N = 1", "N = 2"))]);
        let (_dir, store) = empty_store();
        let keys = |workspace: &Workspace, injection: Option<Injection>| {
            let mut context = KeyContext::new(workspace, injection, &store);
            [0, 1, 2, 3].map(|ordinal| context.key(cell(0, ordinal)))
        };
        let base = keys(&before, None);
        assert_eq!(base[1], None, "setup cells have no key");
        let edited = keys(&after, None);
        assert!(edited[0] != base[0] && edited[2] != base[2] && edited[3] == base[3]);
        let edited = keys(&setup, None);
        assert!(edited[0] == base[0] && edited[2] != base[2] && edited[3] != base[3]);
        let injection = Injection {
            notebook: 0,
            after: parameters_cell(&before, 0),
            source: "# Parameters\nb = 2\n".into(),
        };
        assert_eq!(injection.after, Some(2));
        let with = keys(&before, Some(injection));
        assert!(with[0] == base[0] && with[2] == base[2] && with[3] != base[3]);
    }

    #[test]
    fn whitespace_edits_keep_the_key_and_every_input_changes_it() {
        let base = inputs("x = 1\n");
        assert_eq!(base.key(), inputs("\n\nx = 1   \r\n\n").key());
        let mut other = base.clone();
        other.kernel = "python3-other".into();
        assert_ne!(base.key(), other.key());
        let mut other = base.clone();
        other.params = Some("a = 1\n".into());
        assert_ne!(base.key(), other.key());
        let mut other = base.clone();
        other.setup_hashes = vec![hash_hex(b"")];
        assert_ne!(base.key(), other.key());
        // Length prefixes keep fields apart: moving bytes between fields changes the key.
        let mut a = base.clone();
        a.env_hash = "ab".into();
        a.kernel = "c".into();
        let mut b = base.clone();
        b.env_hash = "a".into();
        b.kernel = "bc".into();
        assert_ne!(a.key(), b.key());
    }
}

//! The project graph: every cell of every notebook in a project, its name, what it
//! depends on and what artifacts it reads and writes, resolved into edges.
//!
//! Built from plain facts per cell ([`CellFacts`]), so it is tested without parsing.
//! Names resolve within the same notebook first, then across the project (jellycell
//! resolves only within a notebook and silently drops the rest; we resolve and report).
//! `jc.load("path")` resolves to the cells whose literal `jc.save`/`jc.figure`/`jc.table`
//! write that path, in any notebook. Problems (unknown, forward and setup deps, duplicate
//! names, cycles) are returned as [`GraphIssue`]s for the lint layer to word and rank.
//!
//! A graph is built at once ([`ProjectGraph::build`]) or from the previous one after some
//! notebooks changed ([`ProjectGraph::updated`], what the language server does per edit):
//! both give the same answers, which `graph_oracle.rs` (the former, rebuild-only
//! implementation, kept for tests) checks property by property.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

use crate::format::tags::CellKind;
use crate::text::Span;
use crate::text::chunk_list::ChunkList;

/// A cell's place in the project: notebook index and 0-based ordinal over all cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellRef {
    pub notebook: usize,
    pub ordinal: usize,
}

/// Where a dependency was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DepOrigin {
    /// A `deps=` tag in the header.
    Tag,
    /// A literal `jc.deps("...")` call in the code.
    JcDeps,
}

/// A dependency by name, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepRef {
    pub name: String,
    /// Where the name is written in the notebook text (`None` when unknown).
    pub span: Option<Span>,
    pub origin: DepOrigin,
}

/// An artifact path in a literal `jc.load`/`jc.save`/`jc.figure`/`jc.table` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRef {
    pub path: String,
    pub span: Option<Span>,
}

/// What the graph needs to know about one cell.
///
/// Inside a [`NotebookFacts`], every span is relative to the cell's start
/// ([`NotebookFacts::absolute`] gives it in the notebook's text), so that an edit above a
/// cell leaves its facts as they were and shared (`Arc`) with the previous reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellFacts {
    pub ordinal: usize,
    /// `None` for markdown and raw cells.
    pub kind: Option<CellKind>,
    /// The `name=` tag and where it is written.
    pub explicit_name: Option<(String, Option<Span>)>,
    pub deps: Vec<DepRef>,
    pub loads: Vec<PathRef>,
    pub produces: Vec<PathRef>,
}

/// One notebook's facts.
#[derive(Debug, Clone)]
pub struct NotebookFacts {
    /// Project-relative path, e.g. `notebooks/prep.py`.
    pub path: String,
    /// By position; each cell's spans are relative to its start (`starts`). In shared
    /// chunks: the facts after an edit share the untouched cells' chunks.
    pub cells: ChunkList<Arc<CellFacts>>,
    /// Where each cell starts in the notebook's text, by position.
    starts: Vec<usize>,
}

/// Facts are equal when they say the same of the same text, however their spans are
/// split between cell starts and cells.
impl PartialEq for NotebookFacts {
    fn eq(&self, other: &NotebookFacts) -> bool {
        self.path == other.path
            && self.cells.len() == other.cells.len()
            && (self.cells.iter().zip(&other.cells).enumerate()).all(|(position, (a, b))| {
                (Arc::ptr_eq(a, b) && self.start(position) == other.start(position))
                    || self.absolute_cell(position) == other.absolute_cell(position)
            })
    }
}

impl Eq for NotebookFacts {}

impl NotebookFacts {
    /// Facts whose spans are in the notebook's text (every cell "starts" at 0).
    pub fn new(path: String, cells: Vec<CellFacts>) -> NotebookFacts {
        NotebookFacts {
            path,
            starts: vec![0; cells.len()],
            cells: cells.into_iter().map(Arc::new).collect(),
        }
    }

    /// Facts of cells whose spans are relative to `starts` (one per cell).
    pub fn with_starts(
        path: String,
        cells: ChunkList<Arc<CellFacts>>,
        starts: Vec<usize>,
    ) -> NotebookFacts {
        debug_assert_eq!(cells.len(), starts.len());
        NotebookFacts {
            path,
            cells,
            starts,
        }
    }

    /// Where the cell at `position` starts: what its spans are relative to.
    pub fn start(&self, position: usize) -> usize {
        self.starts.get(position).copied().unwrap_or(0)
    }

    /// A span of the cell at `position`, in the notebook's text.
    pub fn absolute(&self, position: usize, span: Option<Span>) -> Option<Span> {
        let start = self.start(position);
        span.map(|span| Span::new(span.start + start, span.end + start))
    }

    /// The cell at `position` with its spans in the notebook's text.
    pub fn absolute_cell(&self, position: usize) -> Option<CellFacts> {
        let facts = self.cells.get(position)?;
        let start = self.start(position);
        Some(if start == 0 {
            CellFacts::clone(facts)
        } else {
            facts.moved_by(start as isize)
        })
    }

    /// The file stem that auto names use (`prep` for `notebooks/prep.py`).
    pub fn stem(&self) -> &str {
        let file = self.path.rsplit('/').next().unwrap_or(&self.path);
        file.rsplit_once('.').map_or(file, |(stem, _)| stem)
    }
}

impl CellFacts {
    /// These facts with every span moved by `delta` bytes.
    pub fn moved_by(&self, delta: isize) -> CellFacts {
        let mut facts = self.clone();
        let move_span = |span: &mut Option<Span>| {
            if let Some(span) = span {
                *span = Span::new(
                    span.start.saturating_add_signed(delta),
                    span.end.saturating_add_signed(delta),
                );
            }
        };
        if let Some((_, span)) = &mut facts.explicit_name {
            move_span(span);
        }
        for dep in &mut facts.deps {
            move_span(&mut dep.span);
        }
        for path in facts.loads.iter_mut().chain(&mut facts.produces) {
            move_span(&mut path.span);
        }
        facts
    }
}

/// Something wrong with the graph, for the lint layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphIssue {
    /// A dep on a name that no cell defines.
    UnknownDep { cell: CellRef, dep: DepRef },
    /// A dep on a later cell of the same notebook.
    ForwardDep {
        cell: CellRef,
        dep: DepRef,
        target: CellRef,
    },
    /// A dep on a setup, note, markdown or raw cell, which has no cache key.
    SetupDep {
        cell: CellRef,
        dep: DepRef,
        target: CellRef,
    },
    /// An explicit name used by more than one cell; `others` are the other cells.
    DuplicateName {
        cell: CellRef,
        name: String,
        span: Option<Span>,
        others: Vec<CellRef>,
    },
    /// A dep that closes a cycle; `cycle` lists the cells in it.
    Cycle {
        cell: CellRef,
        dep: DepRef,
        cycle: Vec<CellRef>,
    },
}

/// A dependency edge from a cell to the cell it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub target: CellRef,
    pub why: EdgeReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdgeReason {
    /// Written as a name (tag or `jc.deps`).
    Named(DepRef),
    /// A `jc.load` of a path the target writes.
    Loads(PathRef),
}

/// The resolved graph of one project.
///
/// Kept per notebook, so that [`ProjectGraph::updated`] re-resolves only the notebooks an
/// edit can change and shares everything else with the previous graph: the facts, each
/// notebook's resolved edges and issues (`Resolved`), the cyclic components and the
/// duplicate names. Edges are stored compactly (target and the index of the dep or load
/// that makes them) and turned into [`Edge`]s when asked for.
#[derive(Debug, Clone, Default)]
pub struct ProjectGraph {
    pub notebooks: Vec<Arc<NotebookFacts>>,
    resolved: Vec<Arc<Resolved>>,
    /// Per notebook, its edges with spans ([`ProjectGraph::dependencies`]): new for a
    /// notebook whose facts changed, even when they only moved.
    expanded: Vec<ExpandedEdges>,
    /// Cyclic strongly connected components (over dependencies and forward deps), each
    /// sorted.
    cycles: Arc<Vec<Vec<CellRef>>>,
    /// Explicit names used by more than one cell, with those cells (sorted), ordered by
    /// their first cell.
    duplicates: Arc<Vec<(String, Vec<CellRef>)>>,
    /// Where names and paths are defined across the project. Shared by the graphs of one
    /// line of updates and valid for the newest of them only (`version`); older graphs
    /// answer their queries from the facts instead.
    index: Arc<Mutex<GraphIndex>>,
    version: u64,
    /// Every issue in one list, built on first use ([`ProjectGraph::issues`]).
    all_issues: OnceLock<Vec<GraphIssue>>,
}

/// Explicit names, produced paths and stems across the project, for resolving.
///
/// Names and paths are keyed by a 64-bit hash of their text, so the index holds no copy
/// of them; every lookup checks the text in the facts, so two texts with the same hash
/// only share a bucket and never a result.
/// See [`ProjectGraph::resolution_token`]. Weak: it keeps no resolution alive, and
/// its allocation cannot be reused for another while the token exists.
#[derive(Debug, Clone)]
pub struct ResolutionToken(Weak<Resolved>);

impl ResolutionToken {
    /// Whether both tokens name the same resolution.
    pub fn same_as(&self, other: &ResolutionToken) -> bool {
        Weak::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Debug, Default)]
struct GraphIndex {
    /// The graph this index describes; 0 while it is being changed.
    version: u64,
    /// Explicit names → the cells that have them, sorted.
    names: HashMap<u64, Cells>,
    /// Artifact paths → the cells that write them, sorted.
    producers: HashMap<u64, Cells>,
    /// File stems → the notebooks with that stem (auto names are `<stem>:<ordinal>`).
    stems: HashMap<String, Vec<usize>>,
}

/// A sorted list of cells that is usually one cell long, held without an allocation
/// then, in 16 bytes either way (the index has an entry per name and path).
#[derive(Debug, Clone)]
enum Cells {
    One(u32, u32),
    #[expect(
        clippy::box_collection,
        reason = "a thin pointer keeps the enum at 16 bytes; shared names are rare"
    )]
    Many(Box<Vec<CellRef>>),
}

impl Cells {
    fn of(cell: CellRef) -> Cells {
        match (u32::try_from(cell.notebook), u32::try_from(cell.ordinal)) {
            (Ok(notebook), Ok(ordinal)) => Cells::One(notebook, ordinal),
            _ => Cells::Many(Box::new(vec![cell])),
        }
    }

    fn to_vec(&self) -> Vec<CellRef> {
        match self {
            Cells::One(notebook, ordinal) => vec![CellRef {
                notebook: *notebook as usize,
                ordinal: *ordinal as usize,
            }],
            Cells::Many(cells) => cells.to_vec(),
        }
    }

    /// Inserts `cell` in order; with `keep_duplicates` a cell already there is added again.
    fn insert(&mut self, cell: CellRef, keep_duplicates: bool) {
        let mut cells = self.to_vec();
        match cells.binary_search(&cell) {
            Ok(_) if !keep_duplicates => {}
            _ => {
                let at = cells.partition_point(|other| *other <= cell);
                cells.insert(at, cell);
            }
        }
        *self = Cells::Many(Box::new(cells));
    }

    /// Drops the cells of one notebook; `false` when none are left.
    fn remove_notebook(&mut self, notebook: usize) -> bool {
        let mut cells = self.to_vec();
        cells.retain(|cell| cell.notebook != notebook);
        *self = match cells[..] {
            [] => return false,
            [only] => Cells::of(only),
            _ => Cells::Many(Box::new(cells)),
        };
        true
    }
}

fn text_key(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// One notebook's cells resolved against the project.
#[derive(Debug, Default)]
struct Resolved {
    /// `edges[starts[p]..starts[p + 1]]` are the dependencies of the cell at position `p`
    /// of the notebook's facts.
    starts: Vec<u32>,
    edges: Vec<CompactEdge>,
    /// Deps on later cells of the same notebook, by position: not dependencies
    /// (jellycell drops them), but a cycle through one is still a cycle the author wrote.
    forward: Vec<(u32, CompactEdge)>,
    /// Unknown, setup and forward deps, in cell and dep order; by position, so that an
    /// edit that only moves the notebook's text keeps them ([`ProjectGraph::updated`]).
    issues: Vec<CompactIssue>,
    /// The other notebooks that edges and issues point into.
    targets: Vec<usize>,
}

/// A dep issue of the cell at `position`, about its dep `dep`: a [`GraphIssue`] once
/// its dep (with the span it has now) is taken from the facts.
#[derive(Debug, Clone, Copy)]
struct CompactIssue {
    position: u32,
    dep: u32,
    kind: CompactIssueKind,
}

#[derive(Debug, Clone, Copy)]
enum CompactIssueKind {
    Unknown,
    Setup(CellRef),
    Forward(CellRef),
}

/// One notebook's edges as [`Edge`]s (with a copy of the dep or load that makes each),
/// built when first asked for ([`ProjectGraph::dependencies`]): editing needs none.
type ExpandedEdges = Arc<OnceLock<Vec<Edge>>>;

#[derive(Debug, Clone, Copy)]
struct CompactEdge {
    target: CellRef,
    why: CompactReason,
}

#[derive(Debug, Clone, Copy)]
enum CompactReason {
    /// Index into the cell's `deps`.
    Named(u32),
    /// Index into the cell's `loads`.
    Loads(u32),
}

static NEXT_VERSION: AtomicU64 = AtomicU64::new(1);

fn next_version() -> u64 {
    NEXT_VERSION.fetch_add(1, Ordering::Relaxed)
}

/// The position of the facts of `ordinal` in a notebook's cells. Facts are usually listed
/// by ordinal; look there first (keeps resolving linear on notebooks of thousands of cells).
fn position_of(notebook: &NotebookFacts, ordinal: usize) -> Option<usize> {
    match notebook.cells.get(ordinal) {
        Some(facts) if facts.ordinal == ordinal => Some(ordinal),
        _ => notebook
            .cells
            .iter()
            .position(|facts| facts.ordinal == ordinal),
    }
}

fn facts_of(notebooks: &[Arc<NotebookFacts>], cell: CellRef) -> Option<&CellFacts> {
    let notebook = notebooks.get(cell.notebook)?;
    notebook
        .cells
        .get(position_of(notebook, cell.ordinal)?)
        .map(|facts| &**facts)
}

/// Code cells of kinds that run and are cached (not setup, not note).
fn has_cache_key(notebooks: &[Arc<NotebookFacts>], cell: CellRef) -> bool {
    matches!(
        facts_of(notebooks, cell).and_then(|facts| facts.kind),
        Some(CellKind::Load | CellKind::Step | CellKind::Figure | CellKind::Table)
    )
}

/// The ordinal of an auto name `<stem>:<ordinal>` and its stem, written exactly as the
/// auto name would be (`prep:01` is no auto name).
pub(crate) fn split_auto_name(name: &str) -> Option<(&str, usize)> {
    let (stem, digits) = name.rsplit_once(':')?;
    let ordinal: usize = digits.parse().ok()?;
    (ordinal.to_string() == digits).then_some((stem, ordinal))
}

impl GraphIndex {
    fn add_notebook(&mut self, notebook_index: usize, notebook: &NotebookFacts) {
        self.stems
            .entry(notebook.stem().to_string())
            .or_default()
            .push(notebook_index);
        for facts in &notebook.cells {
            let cell = CellRef {
                notebook: notebook_index,
                ordinal: facts.ordinal,
            };
            if let Some((name, _)) = &facts.explicit_name {
                self.names
                    .entry(text_key(name))
                    .and_modify(|cells| cells.insert(cell, true))
                    .or_insert_with(|| Cells::of(cell));
            }
            for produced in &facts.produces {
                self.producers
                    .entry(text_key(&produced.path))
                    .and_modify(|cells| cells.insert(cell, false))
                    .or_insert_with(|| Cells::of(cell));
            }
        }
    }

    fn remove_notebook(&mut self, notebook_index: usize, notebook: &NotebookFacts) {
        for facts in &notebook.cells {
            if let Some((name, _)) = &facts.explicit_name {
                let key = text_key(name);
                if let Some(cells) = self.names.get_mut(&key)
                    && !cells.remove_notebook(notebook_index)
                {
                    self.names.remove(&key);
                }
            }
            for produced in &facts.produces {
                let key = text_key(&produced.path);
                if let Some(cells) = self.producers.get_mut(&key)
                    && !cells.remove_notebook(notebook_index)
                {
                    self.producers.remove(&key);
                }
            }
        }
        if let Some(notebooks) = self.stems.get_mut(notebook.stem()) {
            notebooks.retain(|index| *index != notebook_index);
            if notebooks.is_empty() {
                self.stems.remove(notebook.stem());
            }
        }
    }

    /// The cells whose `name=` is `name`, sorted (a cell twice if it says it twice).
    fn explicit(&self, notebooks: &[Arc<NotebookFacts>], name: &str) -> Vec<CellRef> {
        let cells = self.names.get(&text_key(name)).map(Cells::to_vec);
        cells
            .unwrap_or_default()
            .into_iter()
            .filter(|cell| {
                facts_of(notebooks, *cell)
                    .and_then(|facts| facts.explicit_name.as_ref())
                    .is_some_and(|(explicit, _)| explicit == name)
            })
            .collect()
    }

    /// The cells that write `path`, sorted.
    fn producers_of(&self, notebooks: &[Arc<NotebookFacts>], path: &str) -> Vec<CellRef> {
        let cells = self.producers.get(&text_key(path)).map(Cells::to_vec);
        cells
            .unwrap_or_default()
            .into_iter()
            .filter(|cell| {
                facts_of(notebooks, *cell).is_some_and(|facts| {
                    facts.produces.iter().any(|produced| produced.path == path)
                })
            })
            .collect()
    }

    /// Every cell that `name` names, as [`ProjectGraph::cells_named`] lists them.
    fn candidates(&self, notebooks: &[Arc<NotebookFacts>], name: &str, out: &mut Vec<CellRef>) {
        out.clear();
        let explicit = self.explicit(notebooks, name);
        let auto = split_auto_name(name)
            .and_then(|(stem, ordinal)| Some((self.stems.get(stem)?, ordinal)));
        match auto {
            None => out.extend_from_slice(&explicit),
            Some((stem_notebooks, ordinal)) => {
                let auto_cells = stem_notebooks.iter().filter_map(|&notebook| {
                    let cell = CellRef { notebook, ordinal };
                    facts_of(notebooks, cell).map(|_| cell)
                });
                merge_auto_first(auto_cells, &explicit, out);
            }
        }
    }

    /// Every explicit name used by more than one cell, with those cells.
    fn duplicates(&self, notebooks: &[Arc<NotebookFacts>]) -> Vec<(String, Vec<CellRef>)> {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut duplicates = Vec::new();
        for cells in self.names.values() {
            let Cells::Many(cells) = cells else { continue };
            for cell in cells.iter() {
                let Some((name, _)) =
                    facts_of(notebooks, *cell).and_then(|facts| facts.explicit_name.as_ref())
                else {
                    continue;
                };
                if !seen.insert(name.as_str()) {
                    continue;
                }
                let named = self.explicit(notebooks, name);
                if named.len() > 1 {
                    duplicates.push((name.clone(), named));
                }
            }
        }
        duplicates
    }
}

/// Whether two readings of a notebook have the same facts but for where they are
/// written: what resolving them looks at (ordinals, kinds, names, deps, paths) is equal.
fn same_but_positions(old: &NotebookFacts, new: &NotebookFacts) -> bool {
    fn name(facts: &CellFacts) -> Option<&str> {
        facts.explicit_name.as_ref().map(|(name, _)| name.as_str())
    }
    let same_paths = |old: &[PathRef], new: &[PathRef]| {
        old.len() == new.len() && old.iter().zip(new).all(|(a, b)| a.path == b.path)
    };
    // Only the cells outside the chunks both share are compared.
    old.path == new.path
        && old.cells.len() == new.cells.len()
        && (old.cells.unshared(&new.cells).into_iter().flatten()).all(|position| {
            let (old, new) = (&old.cells[position], &new.cells[position]);
            Arc::ptr_eq(old, new)
                || old.ordinal == new.ordinal
                    && old.kind == new.kind
                    && name(old) == name(new)
                    && old.deps.len() == new.deps.len()
                    && old
                        .deps
                        .iter()
                        .zip(&new.deps)
                        .all(|(a, b)| a.name == b.name && a.origin == b.origin)
                    && same_paths(&old.loads, &new.loads)
                    && same_paths(&old.produces, &new.produces)
        })
}

/// Merges sorted auto-name cells and explicit-name cells, an auto name before an explicit
/// one of the same cell (the order the cells were indexed in before).
fn merge_auto_first(
    auto: impl Iterator<Item = CellRef>,
    explicit: &[CellRef],
    out: &mut Vec<CellRef>,
) {
    let mut auto: Vec<CellRef> = auto.collect();
    auto.sort_unstable();
    let (mut a, mut e) = (0, 0);
    while a < auto.len() || e < explicit.len() {
        let take_auto = match (auto.get(a), explicit.get(e)) {
            (Some(left), Some(right)) => left <= right,
            (Some(_), None) => true,
            _ => false,
        };
        if take_auto {
            out.push(auto[a]);
            a += 1;
        } else {
            out.push(explicit[e]);
            e += 1;
        }
    }
}

/// A name written in `from`'s notebook resolves there first, then project-wide when
/// exactly one cell elsewhere has it.
fn resolve_name(candidates: &[CellRef], from: CellRef) -> Option<CellRef> {
    candidates
        .iter()
        .find(|candidate| candidate.notebook == from.notebook)
        .or(match candidates {
            [only] => Some(only),
            _ => None,
        })
        .copied()
}

fn resolve_notebook(
    notebooks: &[Arc<NotebookFacts>],
    index: &GraphIndex,
    notebook_index: usize,
) -> Resolved {
    let Some(notebook) = notebooks.get(notebook_index) else {
        return Resolved::default();
    };
    let mut resolved = Resolved {
        starts: Vec::with_capacity(notebook.cells.len() + 1),
        ..Resolved::default()
    };
    let mut candidates = Vec::new();
    let mut targets = Vec::new();
    for (position, facts) in notebook.cells.iter().enumerate() {
        resolved.starts.push(resolved.edges.len() as u32);
        let first = resolved.edges.len();
        let cell = CellRef {
            notebook: notebook_index,
            ordinal: facts.ordinal,
        };
        for (dep_index, dep) in facts.deps.iter().enumerate() {
            index.candidates(notebooks, &dep.name, &mut candidates);
            let why = CompactReason::Named(dep_index as u32);
            let issue = |kind| CompactIssue {
                position: position as u32,
                dep: dep_index as u32,
                kind,
            };
            let Some(target) = resolve_name(&candidates, cell) else {
                resolved.issues.push(issue(CompactIssueKind::Unknown));
                continue;
            };
            targets.push(target.notebook);
            if !has_cache_key(notebooks, target) {
                resolved.issues.push(issue(CompactIssueKind::Setup(target)));
            } else if target.notebook == cell.notebook && target.ordinal > cell.ordinal {
                resolved
                    .forward
                    .push((position as u32, CompactEdge { target, why }));
                resolved
                    .issues
                    .push(issue(CompactIssueKind::Forward(target)));
            } else if !resolved.edges[first..]
                .iter()
                .any(|edge| edge.target == target)
            {
                resolved.edges.push(CompactEdge { target, why });
            }
        }
        for (load_index, load) in facts.loads.iter().enumerate() {
            for producer in index.producers_of(notebooks, &load.path) {
                targets.push(producer.notebook);
                let usable = producer != cell
                    && has_cache_key(notebooks, producer)
                    && !(producer.notebook == cell.notebook && producer.ordinal > cell.ordinal);
                if usable
                    && !resolved.edges[first..]
                        .iter()
                        .any(|edge| edge.target == producer)
                {
                    resolved.edges.push(CompactEdge {
                        target: producer,
                        why: CompactReason::Loads(load_index as u32),
                    });
                }
            }
        }
    }
    resolved.starts.push(resolved.edges.len() as u32);
    targets.sort_unstable();
    targets.dedup();
    targets.retain(|target| *target != notebook_index);
    resolved.targets = targets;
    resolved.edges.shrink_to_fit();
    resolved
}

/// Explicit names used by more than one cell, ordered by their first cell.
fn sort_duplicates(duplicates: &mut [(String, Vec<CellRef>)]) {
    duplicates.sort_by(|a, b| a.1.first().cmp(&b.1.first()));
}

/// What other notebooks can see of one notebook's cells, to tell which of them an edit
/// can change: the (ordinal, kind) of every cell, and of the cells behind each explicit
/// name and produced path.
struct Exports<'a> {
    cells: Vec<(usize, Option<CellKind>)>,
    names: HashMap<&'a str, Vec<(usize, Option<CellKind>)>>,
    paths: HashMap<&'a str, Vec<(usize, Option<CellKind>)>>,
}

impl<'a> Exports<'a> {
    fn of(notebook: &'a NotebookFacts) -> Exports<'a> {
        let mut exports = Exports {
            cells: Vec::with_capacity(notebook.cells.len()),
            names: HashMap::new(),
            paths: HashMap::new(),
        };
        for facts in &notebook.cells {
            let entry = (facts.ordinal, facts.kind);
            exports.cells.push(entry);
            if let Some((name, _)) = &facts.explicit_name {
                exports.names.entry(name.as_str()).or_default().push(entry);
            }
            for produced in &facts.produces {
                exports
                    .paths
                    .entry(produced.path.as_str())
                    .or_default()
                    .push(entry);
            }
        }
        exports
    }
}

/// The keys whose values differ between two maps.
fn changed_keys<'a, V: PartialEq>(
    old: &HashMap<&'a str, V>,
    new: &HashMap<&'a str, V>,
    into: &mut HashSet<&'a str>,
) {
    for (key, value) in old {
        if new.get(key) != Some(value) {
            into.insert(key);
        }
    }
    for (key, value) in new {
        if old.get(key) != Some(value) {
            into.insert(key);
        }
    }
}

/// Tarjan's strongly connected components over dependencies and forward deps.
struct Tarjan<'a> {
    notebooks: &'a [Arc<NotebookFacts>],
    resolved: &'a [Arc<Resolved>],
    next_index: u32,
    /// Per notebook, per cell position: the search's state (empty until a cell of the
    /// notebook is reached; a flat array is a fraction of a map over every cell).
    slots: Vec<Vec<Slot>>,
    stack: Vec<CellRef>,
    components: Vec<Vec<CellRef>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Visit {
    #[default]
    Not,
    OnStack,
    Done,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    index: u32,
    low: u32,
    visit: Visit,
}

impl<'a> Tarjan<'a> {
    fn new(notebooks: &'a [Arc<NotebookFacts>], resolved: &'a [Arc<Resolved>]) -> Self {
        Tarjan {
            notebooks,
            resolved,
            next_index: 0,
            slots: vec![Vec::new(); notebooks.len()],
            stack: Vec::new(),
            components: Vec::new(),
        }
    }

    fn slot(&mut self, cell: CellRef) -> Option<&mut Slot> {
        let notebook = self.notebooks.get(cell.notebook)?;
        let position = position_of(notebook, cell.ordinal)?;
        let slots = self.slots.get_mut(cell.notebook)?;
        if slots.is_empty() {
            slots.resize(notebook.cells.len(), Slot::default());
        }
        slots.get_mut(position)
    }

    fn visited(&mut self, cell: CellRef) -> bool {
        // A cell without facts cannot be visited: count it as done.
        self.slot(cell).is_none_or(|slot| slot.visit != Visit::Not)
    }

    fn connect(&mut self, cell: CellRef) {
        let index = self.next_index;
        self.next_index += 1;
        let Some(slot) = self.slot(cell) else { return };
        *slot = Slot {
            index,
            low: index,
            visit: Visit::OnStack,
        };
        self.stack.push(cell);
        let successors = all_edges(self.notebooks, self.resolved, cell);
        for edge in &successors {
            let target = edge.target;
            let Some(target_slot) = self.slot(target).copied() else {
                continue;
            };
            let lower = match target_slot.visit {
                Visit::Not => {
                    self.connect(target);
                    self.slot(target).map(|slot| slot.low)
                }
                Visit::OnStack => Some(target_slot.index),
                Visit::Done => None,
            };
            if let (Some(lower), Some(slot)) = (lower, self.slot(cell)) {
                slot.low = slot.low.min(lower);
            }
        }
        if self.slot(cell).is_some_and(|slot| slot.low == index) {
            let mut component = Vec::new();
            while let Some(member) = self.stack.pop() {
                if let Some(slot) = self.slot(member) {
                    slot.visit = Visit::Done;
                }
                component.push(member);
                if member == cell {
                    break;
                }
            }
            let cyclic = component.len() > 1 || successors.iter().any(|edge| edge.target == cell);
            if cyclic {
                component.sort_unstable();
                self.components.push(component);
            }
        }
    }
}

/// A cell's dependencies, then its forward deps: the edges cycles are looked for over.
fn all_edges(
    notebooks: &[Arc<NotebookFacts>],
    resolved: &[Arc<Resolved>],
    cell: CellRef,
) -> Vec<CompactEdge> {
    let (Some(notebook), Some(resolved)) =
        (notebooks.get(cell.notebook), resolved.get(cell.notebook))
    else {
        return Vec::new();
    };
    let Some(position) = position_of(notebook, cell.ordinal) else {
        return Vec::new();
    };
    let mut edges = resolved.edges_at(position).to_vec();
    edges.extend(resolved.forward_at(position).map(|(_, edge)| *edge));
    edges
}

impl Resolved {
    fn edges_at(&self, position: usize) -> &[CompactEdge] {
        match (self.starts.get(position), self.starts.get(position + 1)) {
            (Some(&start), Some(&end)) => &self.edges[start as usize..end as usize],
            _ => &[],
        }
    }

    fn forward_at(&self, position: usize) -> impl Iterator<Item = &(u32, CompactEdge)> {
        let start = self
            .forward
            .partition_point(|(at, _)| (*at as usize) < position);
        self.forward[start..]
            .iter()
            .take_while(move |(at, _)| *at as usize == position)
    }

    fn has_edges_at(&self, position: usize) -> bool {
        !self.edges_at(position).is_empty() || self.forward_at(position).next().is_some()
    }
}

impl ProjectGraph {
    pub fn build(notebooks: Vec<NotebookFacts>) -> Self {
        ProjectGraph::build_shared(notebooks.into_iter().map(Arc::new).collect())
    }

    /// [`ProjectGraph::build`] over facts that other graphs may share.
    pub fn build_shared(notebooks: Vec<Arc<NotebookFacts>>) -> Self {
        let version = next_version();
        let mut index = GraphIndex {
            version,
            ..GraphIndex::default()
        };
        for (notebook_index, notebook) in notebooks.iter().enumerate() {
            index.add_notebook(notebook_index, notebook);
        }
        let resolved: Vec<Arc<Resolved>> = (0..notebooks.len())
            .map(|notebook_index| Arc::new(resolve_notebook(&notebooks, &index, notebook_index)))
            .collect();
        let mut duplicates = index.duplicates(&notebooks);
        sort_duplicates(&mut duplicates);
        let mut starts = Vec::new();
        for (notebook_index, notebook) in notebooks.iter().enumerate() {
            for (position, facts) in notebook.cells.iter().enumerate() {
                if resolved[notebook_index].has_edges_at(position) {
                    starts.push(CellRef {
                        notebook: notebook_index,
                        ordinal: facts.ordinal,
                    });
                }
            }
        }
        let cycles = find_cycles(&notebooks, &resolved, starts, Vec::new());
        ProjectGraph {
            expanded: notebooks.iter().map(|_| ExpandedEdges::default()).collect(),
            notebooks,
            resolved,
            cycles: Arc::new(cycles),
            duplicates: Arc::new(duplicates),
            index: Arc::new(Mutex::new(index)),
            version,
            all_issues: OnceLock::new(),
        }
    }

    /// The identity of what this graph resolved for notebook `index`: a later graph of
    /// the same line of updates ([`ProjectGraph::updated`]) holds the same one only if
    /// that notebook's cell names, kinds, deps, loads and saves stayed as they were (its
    /// facts moved at most), so what other notebooks see of it is unchanged.
    pub fn resolution_token(&self, index: usize) -> Option<ResolutionToken> {
        self.resolved
            .get(index)
            .map(|resolved| ResolutionToken(Arc::downgrade(resolved)))
    }

    /// The graph with `notebooks` as its facts, re-resolving only what the notebooks
    /// that changed (by pointer) can affect: those notebooks, and the others only when
    /// a name, kind, ordinal or produced path they see changed. Equal to
    /// [`ProjectGraph::build_shared`] over the same facts; falls back to it when
    /// notebooks were added, removed or reordered, or when `self` is not the newest
    /// graph of its line.
    pub fn updated(&self, notebooks: Vec<Arc<NotebookFacts>>) -> ProjectGraph {
        // One pass: the notebooks that changed (by pointer), and whether each is still the
        // same path at the same index.
        let mut changed: Vec<usize> = Vec::new();
        let same_notebooks = notebooks.len() == self.notebooks.len()
            && notebooks
                .iter()
                .zip(&self.notebooks)
                .enumerate()
                .all(|(index, (new, old))| {
                    Arc::ptr_eq(new, old) || {
                        changed.push(index);
                        new.path == old.path
                    }
                });
        if !same_notebooks {
            return ProjectGraph::build_shared(notebooks);
        }
        // Facts that only moved (an edit that changed no name, kind, dep, load or save)
        // resolve as before: the index, the resolution, cycles and duplicates hold cells
        // and names, never spans, so they are kept; only the edges with spans are new.
        let mut expanded = self.expanded.clone();
        expanded.resize_with(notebooks.len(), ExpandedEdges::default);
        for &index in &changed {
            expanded[index] = ExpandedEdges::default();
        }
        let moved = !changed.is_empty();
        let changed: Vec<usize> = changed
            .into_iter()
            .filter(|&index| !same_but_positions(&self.notebooks[index], &notebooks[index]))
            .collect();
        if changed.is_empty() {
            // Built field by field: a clone of `self` would copy the notebooks and edges
            // replaced here, and the issues (they carry spans, so they are new if moved).
            let all_issues = match self.all_issues.get() {
                Some(issues) if !moved => OnceLock::from(issues.clone()),
                _ => OnceLock::new(),
            };
            return ProjectGraph {
                notebooks,
                resolved: self.resolved.clone(),
                expanded,
                cycles: self.cycles.clone(),
                duplicates: self.duplicates.clone(),
                index: self.index.clone(),
                version: self.version,
                all_issues,
            };
        }
        if changed.len() * 2 > notebooks.len() && notebooks.len() > 2 {
            return ProjectGraph::build_shared(notebooks);
        }
        let mut index = self
            .index
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if index.version != self.version {
            drop(index);
            return ProjectGraph::build_shared(notebooks);
        }
        // Invalid until the update is done, should it panic half-way.
        index.version = 0;

        let mut affected: Vec<bool> = vec![false; notebooks.len()];
        let mut changed_names: HashSet<&str> = HashSet::new();
        let mut changed_paths: HashSet<&str> = HashSet::new();
        let mut changed_stems: Vec<(usize, &str)> = Vec::new();
        for &notebook_index in &changed {
            affected[notebook_index] = true;
            let old = &self.notebooks[notebook_index];
            let new = &notebooks[notebook_index];
            index.remove_notebook(notebook_index, old);
            index.add_notebook(notebook_index, new);
            let (old_exports, new_exports) = (Exports::of(old), Exports::of(new));
            changed_keys(&old_exports.names, &new_exports.names, &mut changed_names);
            changed_keys(&old_exports.paths, &new_exports.paths, &mut changed_paths);
            if old_exports.cells != new_exports.cells {
                changed_stems.push((notebook_index, new.stem()));
            }
        }
        if !changed_names.is_empty() || !changed_paths.is_empty() || !changed_stems.is_empty() {
            for (other, notebook) in notebooks.iter().enumerate() {
                if affected[other] {
                    continue;
                }
                let points_into_changed = changed_stems.iter().any(|(changed, _)| {
                    self.resolved[other].targets.binary_search(changed).is_ok()
                });
                let names_changed = || {
                    notebook.cells.iter().any(|facts| {
                        facts.deps.iter().any(|dep| {
                            changed_names.contains(dep.name.as_str())
                                || split_auto_name(&dep.name).is_some_and(|(stem, _)| {
                                    changed_stems.iter().any(|(_, changed)| *changed == stem)
                                })
                        }) || facts
                            .loads
                            .iter()
                            .any(|load| changed_paths.contains(load.path.as_str()))
                    })
                };
                if points_into_changed || names_changed() {
                    affected[other] = true;
                }
            }
        }

        let mut resolved = self.resolved.clone();
        for (notebook_index, is_affected) in affected.iter().enumerate() {
            if *is_affected {
                resolved[notebook_index] =
                    Arc::new(resolve_notebook(&notebooks, &index, notebook_index));
                expanded[notebook_index] = ExpandedEdges::default();
            }
        }

        let mut duplicates = self.duplicates.clone();
        if !changed_names.is_empty() {
            let duplicates = Arc::make_mut(&mut duplicates);
            duplicates.retain(|(name, _)| !changed_names.contains(name.as_str()));
            for name in &changed_names {
                let cells = index.explicit(&notebooks, name);
                if cells.len() > 1 {
                    duplicates.push((name.to_string(), cells));
                }
            }
            sort_duplicates(duplicates);
        }

        // Components through an affected notebook are found again, starting from its
        // cells and from every cell of such a component before (the rest of a broken
        // cycle may still be one); the other components cannot have changed.
        let (dropped, kept): (Vec<Vec<CellRef>>, Vec<Vec<CellRef>>) = self
            .cycles
            .iter()
            .cloned()
            .partition(|component| component.iter().any(|cell| affected[cell.notebook]));
        let mut starts: Vec<CellRef> = dropped.into_iter().flatten().collect();
        for (notebook_index, is_affected) in affected.iter().enumerate() {
            if !*is_affected {
                continue;
            }
            let notebook = &notebooks[notebook_index];
            for (position, facts) in notebook.cells.iter().enumerate() {
                if resolved[notebook_index].has_edges_at(position) {
                    starts.push(CellRef {
                        notebook: notebook_index,
                        ordinal: facts.ordinal,
                    });
                }
            }
        }
        starts.sort_unstable();
        starts.dedup();
        let cycles = find_cycles(&notebooks, &resolved, starts, kept);

        let version = next_version();
        index.version = version;
        drop(index);
        ProjectGraph {
            notebooks,
            resolved,
            expanded,
            cycles: Arc::new(cycles),
            duplicates,
            index: self.index.clone(),
            version,
            all_issues: OnceLock::new(),
        }
    }

    /// The index, when it describes this graph.
    fn current_index(&self) -> Option<MutexGuard<'_, GraphIndex>> {
        let index = self.index.lock().ok()?;
        (index.version == self.version).then_some(index)
    }

    /// Every cell in a cycle (over dependencies and forward deps), unordered: a cell
    /// outside this set can never reach back to itself.
    pub fn cyclic_cells(&self) -> impl Iterator<Item = CellRef> + '_ {
        self.cycles.iter().flatten().copied()
    }

    /// The facts of one cell.
    /// A cell's facts; their spans are relative to the cell's start (see
    /// [`ProjectGraph::name_span`] and [`NotebookFacts::absolute`]).
    pub fn cell(&self, cell: CellRef) -> Option<&CellFacts> {
        facts_of(&self.notebooks, cell)
    }

    /// Where a cell's `name=` tag names it, in its notebook's text.
    pub fn name_span(&self, cell: CellRef) -> Option<Span> {
        let notebook = self.notebooks.get(cell.notebook)?;
        let position = position_of(notebook, cell.ordinal)?;
        let (_, span) = notebook.cells[position].explicit_name.as_ref()?;
        notebook.absolute(position, *span)
    }

    /// The name of a cell: its `name=` tag, else `<stem>:<ordinal>`.
    pub fn name_of(&self, cell: CellRef) -> String {
        let Some(notebook) = self.notebooks.get(cell.notebook) else {
            return String::new();
        };
        match self
            .cell(cell)
            .and_then(|facts| facts.explicit_name.as_ref())
        {
            Some((name, _)) => name.clone(),
            None => format!("{}:{}", notebook.stem(), cell.ordinal),
        }
    }

    /// Every cell defining `name` (explicitly or as an auto name), in project order.
    pub fn cells_named(&self, name: &str) -> Vec<CellRef> {
        let mut cells = Vec::new();
        if let Some(index) = self.current_index() {
            index.candidates(&self.notebooks, name, &mut cells);
            return cells;
        }
        for (notebook_index, notebook) in self.notebooks.iter().enumerate() {
            let auto = split_auto_name(name)
                .filter(|(stem, _)| *stem == notebook.stem())
                .map(|(_, ordinal)| ordinal);
            for facts in &notebook.cells {
                let cell = CellRef {
                    notebook: notebook_index,
                    ordinal: facts.ordinal,
                };
                if auto == Some(facts.ordinal) {
                    cells.push(cell);
                }
                if facts
                    .explicit_name
                    .as_ref()
                    .is_some_and(|(explicit, _)| explicit == name)
                {
                    cells.push(cell);
                }
            }
        }
        cells
    }

    /// The cells whose literal save/figure/table calls write `path`.
    pub fn producers_of(&self, path: &str) -> Vec<CellRef> {
        if let Some(index) = self.current_index() {
            return index.producers_of(&self.notebooks, path);
        }
        let mut cells = Vec::new();
        for (notebook_index, notebook) in self.notebooks.iter().enumerate() {
            for facts in &notebook.cells {
                if facts.produces.iter().any(|produced| produced.path == path) {
                    cells.push(CellRef {
                        notebook: notebook_index,
                        ordinal: facts.ordinal,
                    });
                }
            }
        }
        cells
    }

    /// Every artifact path some cell writes, sorted.
    pub fn produced_paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self
            .notebooks
            .iter()
            .flat_map(|notebook| &notebook.cells)
            .flat_map(|facts| &facts.produces)
            .map(|produced| produced.path.as_str())
            .collect();
        paths.sort_unstable();
        paths.dedup();
        paths
    }

    /// What `cell` depends on (resolved, without setup/note targets).
    pub fn dependencies(&self, cell: CellRef) -> &[Edge] {
        let (Some(notebook), Some(resolved)) = (
            self.notebooks.get(cell.notebook),
            self.resolved.get(cell.notebook),
        ) else {
            return &[];
        };
        let Some(position) = position_of(notebook, cell.ordinal) else {
            return &[];
        };
        let (Some(&start), Some(&end)) = (
            resolved.starts.get(position),
            resolved.starts.get(position + 1),
        ) else {
            return &[];
        };
        let Some(expanded) = self.expanded.get(cell.notebook) else {
            return &[];
        };
        let expanded = expanded.get_or_init(|| {
            let mut expanded = Vec::with_capacity(resolved.edges.len());
            for (position, facts) in notebook.cells.iter().enumerate() {
                expanded.extend(
                    resolved
                        .edges_at(position)
                        .iter()
                        .map(|edge| expand(notebook, position, facts, edge)),
                );
            }
            expanded
        });
        expanded.get(start as usize..end as usize).unwrap_or(&[])
    }

    /// The cells that depend on `cell` directly.
    pub fn dependents(&self, cell: CellRef) -> Vec<CellRef> {
        let mut dependents = Vec::new();
        for (notebook_index, (notebook, resolved)) in
            self.notebooks.iter().zip(&self.resolved).enumerate()
        {
            for (position, facts) in notebook.cells.iter().enumerate() {
                if resolved
                    .edges_at(position)
                    .iter()
                    .any(|edge| edge.target == cell)
                {
                    dependents.push(CellRef {
                        notebook: notebook_index,
                        ordinal: facts.ordinal,
                    });
                }
            }
        }
        dependents.sort_unstable();
        dependents
    }

    /// `cell` and everything it depends on, transitively, in an order where every cell
    /// comes after its dependencies (cycles are cut).
    pub fn closure_in_order(&self, cell: CellRef) -> Vec<CellRef> {
        let mut order = Vec::new();
        let mut state: HashMap<CellRef, bool> = HashMap::new();
        self.visit_post_order(cell, &mut state, &mut order);
        order
    }

    fn visit_post_order(
        &self,
        cell: CellRef,
        state: &mut HashMap<CellRef, bool>,
        order: &mut Vec<CellRef>,
    ) {
        if state.contains_key(&cell) {
            return;
        }
        state.insert(cell, false);
        for edge in self.dependencies(cell) {
            self.visit_post_order(edge.target, state, order);
        }
        state.insert(cell, true);
        order.push(cell);
    }

    /// Every issue of the project: duplicate names, then unknown, setup and forward deps
    /// by notebook and cell (without forward deps that close a cycle), then cycles by cell.
    pub fn issues(&self) -> &[GraphIssue] {
        self.all_issues.get_or_init(|| {
            let mut issues = self.duplicate_issues(None);
            for notebook_index in 0..self.notebooks.len() {
                issues.extend(self.dep_issues(notebook_index));
            }
            for notebook_index in 0..self.notebooks.len() {
                issues.extend(self.cycle_issues(notebook_index));
            }
            // Cycle issues by cell across notebooks: notebook order is cell order.
            issues
        })
    }

    /// The issues of the cells of one notebook, in the order [`ProjectGraph::issues`]
    /// lists them.
    pub fn issues_of(&self, notebook_index: usize) -> Vec<GraphIssue> {
        let mut issues = self.duplicate_issues(Some(notebook_index));
        issues.extend(self.dep_issues(notebook_index));
        issues.extend(self.cycle_issues(notebook_index));
        issues
    }

    fn duplicate_issues(&self, only: Option<usize>) -> Vec<GraphIssue> {
        let mut issues = Vec::new();
        for (name, cells) in self.duplicates.iter() {
            for &cell in cells {
                if only.is_some_and(|notebook| notebook != cell.notebook) {
                    continue;
                }
                let span = self.name_span(cell);
                let others = cells
                    .iter()
                    .copied()
                    .filter(|other| *other != cell)
                    .collect();
                issues.push(GraphIssue::DuplicateName {
                    cell,
                    name: name.clone(),
                    span,
                    others,
                });
            }
        }
        issues
    }

    fn dep_issues(&self, notebook_index: usize) -> Vec<GraphIssue> {
        let Some(resolved) = self.resolved.get(notebook_index) else {
            return Vec::new();
        };
        let cycles = self.cycle_issues(notebook_index);
        let closes_cycle = |cell: &CellRef, dep: &DepRef| {
            cycles.iter().any(|issue| {
                matches!(issue, GraphIssue::Cycle { cell: c, dep: d, .. } if c == cell && d == dep)
            })
        };
        let Some(notebook) = self.notebooks.get(notebook_index) else {
            return Vec::new();
        };
        resolved
            .issues
            .iter()
            .filter_map(|issue| {
                let position = issue.position as usize;
                let facts = notebook.cells.get(position)?;
                let dep = absolute_dep(notebook, position, facts.deps.get(issue.dep as usize)?);
                let cell = CellRef {
                    notebook: notebook_index,
                    ordinal: facts.ordinal,
                };
                Some(match issue.kind {
                    CompactIssueKind::Unknown => GraphIssue::UnknownDep { cell, dep },
                    CompactIssueKind::Setup(target) => GraphIssue::SetupDep { cell, dep, target },
                    CompactIssueKind::Forward(target) => {
                        GraphIssue::ForwardDep { cell, dep, target }
                    }
                })
            })
            .filter(|issue| match issue {
                GraphIssue::ForwardDep { cell, dep, .. } => !closes_cycle(cell, dep),
                _ => true,
            })
            .collect()
    }

    /// Every named edge inside a cyclic component, from the cells of one notebook, by cell.
    fn cycle_issues(&self, notebook_index: usize) -> Vec<GraphIssue> {
        let mut issues = Vec::new();
        for component in self.cycles.iter() {
            for &cell in component {
                if cell.notebook != notebook_index {
                    continue;
                }
                let Some(notebook) = self.notebooks.get(cell.notebook) else {
                    continue;
                };
                let Some(position) = position_of(notebook, cell.ordinal) else {
                    continue;
                };
                let facts = &notebook.cells[position];
                for edge in all_edges(&self.notebooks, &self.resolved, cell) {
                    let inside = component.binary_search(&edge.target).is_ok();
                    let is_cycle = inside && (component.len() > 1 || edge.target == cell);
                    if let (true, CompactReason::Named(dep)) = (is_cycle, edge.why)
                        && let Some(dep) = facts.deps.get(dep as usize)
                    {
                        issues.push(GraphIssue::Cycle {
                            cell,
                            dep: absolute_dep(notebook, position, dep),
                            cycle: component.clone(),
                        });
                    }
                }
            }
        }
        issues.sort_by_key(|issue| match issue {
            GraphIssue::Cycle { cell, .. } => *cell,
            _ => CellRef {
                notebook: 0,
                ordinal: 0,
            },
        });
        issues
    }
}

/// `dep` of the cell at `position` of `notebook`, with its span in the notebook's text.
fn absolute_dep(notebook: &NotebookFacts, position: usize, dep: &DepRef) -> DepRef {
    DepRef {
        span: notebook.absolute(position, dep.span),
        ..dep.clone()
    }
}

/// An edge with the dep or load that makes it, spans in the notebook's text.
fn expand(
    notebook: &NotebookFacts,
    position: usize,
    facts: &CellFacts,
    edge: &CompactEdge,
) -> Edge {
    let why = match edge.why {
        CompactReason::Named(dep) => facts
            .deps
            .get(dep as usize)
            .map(|dep| EdgeReason::Named(absolute_dep(notebook, position, dep))),
        CompactReason::Loads(load) => facts.loads.get(load as usize).map(|load| {
            EdgeReason::Loads(PathRef {
                path: load.path.clone(),
                span: notebook.absolute(position, load.span),
            })
        }),
    };
    Edge {
        target: edge.target,
        // The indices come from these facts; an empty reason is never seen.
        why: why.unwrap_or(EdgeReason::Loads(PathRef {
            path: String::new(),
            span: None,
        })),
    }
}

/// The cyclic components: those found from `starts`, and those of `kept` (components
/// through no changed cell) that none of them contains.
fn find_cycles(
    notebooks: &[Arc<NotebookFacts>],
    resolved: &[Arc<Resolved>],
    starts: Vec<CellRef>,
    kept: Vec<Vec<CellRef>>,
) -> Vec<Vec<CellRef>> {
    let mut tarjan = Tarjan::new(notebooks, resolved);
    for cell in starts {
        if !tarjan.visited(cell) {
            tarjan.connect(cell);
        }
    }
    // A component found is a component of the graph as it is now; a kept one it
    // overlaps is the same or was merged into it by a new edge.
    let mut cycles = kept;
    for component in tarjan.components {
        cycles.retain(|kept| {
            !kept
                .iter()
                .any(|cell| component.binary_search(cell).is_ok())
        });
        cycles.push(component);
    }
    cycles.sort_unstable();
    cycles
}

#[cfg(test)]
#[path = "graph_oracle.rs"]
mod oracle;

#[cfg(test)]
mod tests {
    use super::*;

    fn code(ordinal: usize, name: Option<&str>, deps: &[&str]) -> CellFacts {
        CellFacts {
            ordinal,
            kind: Some(CellKind::Step),
            explicit_name: name.map(|name| (name.to_string(), None)),
            deps: deps
                .iter()
                .map(|dep| DepRef {
                    name: dep.to_string(),
                    span: None,
                    origin: DepOrigin::Tag,
                })
                .collect(),
            loads: Vec::new(),
            produces: Vec::new(),
        }
    }

    fn notebook(path: &str, cells: Vec<CellFacts>) -> NotebookFacts {
        NotebookFacts::new(path.to_string(), cells)
    }

    fn at(notebook: usize, ordinal: usize) -> CellRef {
        CellRef { notebook, ordinal }
    }

    #[test]
    fn resolves_names_and_auto_names_within_a_notebook() {
        let graph = ProjectGraph::build(vec![notebook(
            "notebooks/prep.py",
            vec![
                code(0, Some("raw"), &[]),
                code(1, None, &["raw"]),
                code(2, None, &["prep:1"]),
            ],
        )]);
        assert!(graph.issues().is_empty(), "{:?}", graph.issues());
        assert_eq!(graph.dependencies(at(0, 1))[0].target, at(0, 0));
        assert_eq!(graph.dependencies(at(0, 2))[0].target, at(0, 1));
        assert_eq!(
            graph.closure_in_order(at(0, 2)),
            vec![at(0, 0), at(0, 1), at(0, 2)]
        );
        assert_eq!(graph.dependents(at(0, 0)), vec![at(0, 1)]);
    }

    #[test]
    fn resolves_a_unique_name_in_another_notebook() {
        let graph = ProjectGraph::build(vec![
            notebook("notebooks/prep.py", vec![code(0, Some("raw"), &[])]),
            notebook("notebooks/report.py", vec![code(0, None, &["raw"])]),
        ]);
        assert_eq!(graph.dependencies(at(1, 0))[0].target, at(0, 0));
    }

    #[test]
    fn reports_unknown_forward_and_setup_deps() {
        let mut setup = code(0, Some("config"), &[]);
        setup.kind = Some(CellKind::Setup);
        let graph = ProjectGraph::build(vec![notebook(
            "a.py",
            vec![
                setup,
                code(1, None, &["config", "later", "nope"]),
                code(2, Some("later"), &[]),
            ],
        )]);
        let kinds: Vec<_> = graph
            .issues()
            .iter()
            .map(|issue| match issue {
                GraphIssue::UnknownDep { dep, .. } => format!("unknown {}", dep.name),
                GraphIssue::ForwardDep { dep, .. } => format!("forward {}", dep.name),
                GraphIssue::SetupDep { dep, .. } => format!("setup {}", dep.name),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(kinds, ["setup config", "forward later", "unknown nope"]);
        assert!(graph.dependencies(at(0, 1)).is_empty());
    }

    #[test]
    fn reports_every_cell_of_a_duplicate_name() {
        let graph = ProjectGraph::build(vec![
            notebook("a.py", vec![code(0, Some("x"), &[])]),
            notebook("b.py", vec![code(0, Some("x"), &[])]),
        ]);
        let duplicates: Vec<_> = graph
            .issues()
            .iter()
            .filter_map(|issue| match issue {
                GraphIssue::DuplicateName { cell, others, .. } => Some((*cell, others.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            duplicates,
            vec![(at(0, 0), vec![at(1, 0)]), (at(1, 0), vec![at(0, 0)])]
        );
    }

    #[test]
    fn a_load_depends_on_the_producer_in_any_notebook() {
        let mut producer = code(0, Some("summary"), &[]);
        producer.produces.push(PathRef {
            path: "artifacts/summary.json".into(),
            span: None,
        });
        let mut consumer = code(0, None, &[]);
        consumer.loads.push(PathRef {
            path: "artifacts/summary.json".into(),
            span: None,
        });
        let graph = ProjectGraph::build(vec![
            notebook("notebooks/prep.py", vec![producer]),
            notebook("notebooks/report.py", vec![consumer]),
        ]);
        let edges = graph.dependencies(at(1, 0));
        assert_eq!(edges.len(), 1);
        assert_eq!(edges[0].target, at(0, 0));
        assert!(matches!(edges[0].why, EdgeReason::Loads(_)));
        assert_eq!(graph.produced_paths(), vec!["artifacts/summary.json"]);
    }

    #[test]
    fn finds_a_cycle_across_notebooks() {
        let graph = ProjectGraph::build(vec![
            notebook("a.py", vec![code(0, Some("x"), &["y"])]),
            notebook("b.py", vec![code(0, Some("y"), &["x"])]),
        ]);
        let cycles: Vec<_> = graph
            .issues()
            .iter()
            .filter_map(|issue| match issue {
                GraphIssue::Cycle { cell, cycle, .. } => Some((*cell, cycle.len())),
                _ => None,
            })
            .collect();
        assert_eq!(cycles, vec![(at(0, 0), 2), (at(1, 0), 2)]);
    }

    #[test]
    fn a_cycle_within_a_notebook_is_a_cycle_not_a_forward_dep() {
        let graph = ProjectGraph::build(vec![notebook(
            "a.py",
            vec![code(0, Some("x"), &["y"]), code(1, Some("y"), &["x"])],
        )]);
        let cycles = graph
            .issues()
            .iter()
            .filter(|issue| matches!(issue, GraphIssue::Cycle { .. }))
            .count();
        assert_eq!(cycles, 2);
        assert!(
            !graph
                .issues()
                .iter()
                .any(|issue| matches!(issue, GraphIssue::ForwardDep { .. }))
        );
        assert_eq!(
            graph.dependencies(at(0, 1))[0].target,
            at(0, 0),
            "the backward dep still counts"
        );
    }

    #[test]
    fn a_cell_naming_itself_is_a_cycle_of_one() {
        let graph = ProjectGraph::build(vec![notebook("a.py", vec![code(0, Some("x"), &["x"])])]);
        assert!(matches!(graph.issues(), [GraphIssue::Cycle { .. }]));
    }

    #[test]
    fn an_update_that_breaks_a_cycle_keeps_the_cycle_left_inside() {
        let before = vec![
            Arc::new(notebook("a.py", vec![code(0, Some("x"), &["y"])])),
            Arc::new(notebook(
                "b.py",
                vec![code(0, Some("y"), &["x", "z"]), code(1, Some("z"), &["y"])],
            )),
        ];
        let graph = ProjectGraph::build_shared(before.clone());
        let cycle_cells = |graph: &ProjectGraph| -> Vec<CellRef> {
            let mut cells: Vec<CellRef> = graph
                .issues()
                .iter()
                .filter_map(|issue| match issue {
                    GraphIssue::Cycle { cell, .. } => Some(*cell),
                    _ => None,
                })
                .collect();
            cells.dedup();
            cells
        };
        assert_eq!(cycle_cells(&graph), vec![at(0, 0), at(1, 0), at(1, 1)]);
        let after = vec![
            Arc::new(notebook("a.py", vec![code(0, Some("x"), &[])])),
            before[1].clone(),
        ];
        let updated = graph.updated(after);
        assert_eq!(cycle_cells(&updated), vec![at(1, 0), at(1, 1)]);
    }

    #[test]
    fn an_update_that_only_moves_spans_keeps_the_resolution_and_moves_issues_and_edges() {
        let with_spans = |shift: usize| {
            let mut cells = vec![
                code(0, Some("x"), &[]),
                code(1, Some("y"), &["x", "nowhere"]),
            ];
            for (ordinal, cell) in cells.iter_mut().enumerate() {
                for (index, dep) in cell.deps.iter_mut().enumerate() {
                    let start = shift + 10 * ordinal + 5 * index;
                    dep.span = Some(Span::new(start, start + 2));
                }
            }
            Arc::new(notebook("a.py", cells))
        };
        let graph = ProjectGraph::build_shared(vec![with_spans(0)]);
        assert_eq!(graph.dependencies(at(0, 1)).len(), 1);
        let moved = graph.updated(vec![with_spans(100)]);
        assert!(Arc::ptr_eq(&graph.resolved[0], &moved.resolved[0]));
        let fresh = ProjectGraph::build_shared(vec![with_spans(100)]);
        assert_eq!(moved.issues(), fresh.issues());
        assert_eq!(moved.issues_of(0), fresh.issues_of(0));
        assert_eq!(moved.dependencies(at(0, 1)), fresh.dependencies(at(0, 1)));
        assert!(matches!(
            moved.issues(),
            [GraphIssue::UnknownDep { dep, .. }] if dep.span == Some(Span::new(115, 117))
        ));
    }

    #[test]
    fn spans_relative_to_their_cells_come_out_in_the_notebooks_text() {
        let mut cells = vec![
            code(0, Some("x"), &[]),
            code(1, Some("y"), &["x", "nowhere"]),
        ];
        for cell in &mut cells {
            cell.explicit_name.as_mut().expect("named").1 = Some(Span::new(1, 2));
            for (index, dep) in cell.deps.iter_mut().enumerate() {
                dep.span = Some(Span::new(10 + 5 * index, 12 + 5 * index));
            }
        }
        let absolute = notebook(
            "a.py",
            cells
                .iter()
                .zip([100, 200])
                .map(|(cell, start)| cell.moved_by(start))
                .collect(),
        );
        let relative = NotebookFacts::with_starts(
            "a.py".into(),
            cells.into_iter().map(Arc::new).collect(),
            vec![100, 200],
        );
        assert_eq!(relative, absolute);
        let graph = ProjectGraph::build(vec![relative]);
        let expected = ProjectGraph::build(vec![absolute]);
        assert_eq!(graph.issues(), expected.issues());
        assert_eq!(
            graph.dependencies(at(0, 1)),
            expected.dependencies(at(0, 1))
        );
        assert_eq!(graph.name_span(at(0, 1)), Some(Span::new(201, 202)));
        assert!(matches!(
            graph.issues(),
            [GraphIssue::UnknownDep { dep, .. }] if dep.span == Some(Span::new(215, 217))
        ));
    }

    #[test]
    fn an_update_that_closes_a_cycle_through_a_kept_one_merges_them() {
        let before = vec![
            Arc::new(notebook("a.py", vec![code(0, Some("x"), &[])])),
            Arc::new(notebook("b.py", vec![code(0, Some("y"), &["y", "x"])])),
        ];
        let graph = ProjectGraph::build_shared(before.clone());
        let after = vec![
            Arc::new(notebook("a.py", vec![code(0, Some("x"), &["y"])])),
            before[1].clone(),
        ];
        let updated = graph.updated(after.clone());
        assert_eq!(updated.issues(), ProjectGraph::build_shared(after).issues());
        assert!(updated.issues().iter().any(|issue| matches!(
            issue,
            GraphIssue::Cycle { cycle, .. } if *cycle == [at(0, 0), at(1, 0)]
        )));
    }

    #[test]
    fn the_stem_ignores_folders_and_extension() {
        assert_eq!(notebook("notebooks/sub/prep.py", vec![]).stem(), "prep");
        assert_eq!(notebook("x.md", vec![]).stem(), "x");
    }
}

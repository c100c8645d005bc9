//! The project graph as it was built before it could be updated per notebook: every
//! notebook resolved from scratch. Test only: the oracle that the incremental graph must
//! agree with, issue for issue and edge for edge.

use std::collections::HashMap;

use super::{CellFacts, CellRef, DepRef, Edge, EdgeReason, GraphIssue, NotebookFacts};
use crate::format::tags::CellKind;
use crate::text::Span;

/// The resolved graph of one project.
#[derive(Debug, Clone, Default)]
pub struct ProjectGraph {
    pub notebooks: Vec<NotebookFacts>,
    names: HashMap<String, Vec<CellRef>>,
    producers: HashMap<String, Vec<CellRef>>,
    edges: HashMap<CellRef, Vec<Edge>>,
    /// Deps on later cells of the same notebook: not dependencies (jellycell drops them),
    /// but a cycle through one is still a cycle the author wrote.
    forward_edges: HashMap<CellRef, Vec<Edge>>,
    issues: Vec<GraphIssue>,
}

impl ProjectGraph {
    pub fn build(notebooks: Vec<NotebookFacts>) -> Self {
        // Spans in the notebooks' texts, as it was before facts were relative to cells.
        let notebooks = notebooks
            .into_iter()
            .map(|notebook| {
                let cells = (0..notebook.cells.len())
                    .filter_map(|position| notebook.absolute_cell(position))
                    .collect();
                NotebookFacts::new(notebook.path, cells)
            })
            .collect();
        let mut graph = ProjectGraph {
            notebooks,
            ..ProjectGraph::default()
        };
        graph.index_names_and_producers();
        graph.resolve_edges();
        graph.find_cycles();
        graph
    }

    /// The facts of one cell.
    pub fn cell(&self, cell: CellRef) -> Option<&CellFacts> {
        let cells = &self.notebooks.get(cell.notebook)?.cells;
        // Facts are usually listed by ordinal; look there first (keeps graph building
        // linear on notebooks with thousands of cells).
        match cells.get(cell.ordinal) {
            Some(facts) if facts.ordinal == cell.ordinal => Some(facts),
            _ => cells.iter().find(|facts| facts.ordinal == cell.ordinal),
        }
        .map(|facts| &**facts)
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

    /// Every cell defining `name` (explicitly or as an auto name).
    pub fn cells_named(&self, name: &str) -> &[CellRef] {
        self.names.get(name).map_or(&[], Vec::as_slice)
    }

    /// The cells whose literal save/figure/table calls write `path`.
    pub fn producers_of(&self, path: &str) -> &[CellRef] {
        self.producers.get(path).map_or(&[], Vec::as_slice)
    }

    /// Every artifact path some cell writes, sorted.
    pub fn produced_paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self.producers.keys().map(String::as_str).collect();
        paths.sort_unstable();
        paths
    }

    /// What `cell` depends on (resolved, without setup/note targets).
    pub fn dependencies(&self, cell: CellRef) -> &[Edge] {
        self.edges.get(&cell).map_or(&[], Vec::as_slice)
    }

    /// The cells that depend on `cell` directly.
    pub fn dependents(&self, cell: CellRef) -> Vec<CellRef> {
        let mut dependents: Vec<CellRef> = self
            .edges
            .iter()
            .filter(|(_, edges)| edges.iter().any(|edge| edge.target == cell))
            .map(|(source, _)| *source)
            .collect();
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

    pub fn issues(&self) -> &[GraphIssue] {
        &self.issues
    }

    fn index_names_and_producers(&mut self) {
        let mut explicit: HashMap<String, Vec<(CellRef, Option<Span>)>> = HashMap::new();
        for (notebook_index, notebook) in self.notebooks.iter().enumerate() {
            let stem = notebook.stem().to_string();
            for facts in &notebook.cells {
                let cell = CellRef {
                    notebook: notebook_index,
                    ordinal: facts.ordinal,
                };
                let auto_name = format!("{stem}:{}", facts.ordinal);
                self.names.entry(auto_name).or_default().push(cell);
                if let Some((name, span)) = &facts.explicit_name {
                    self.names.entry(name.clone()).or_default().push(cell);
                    explicit
                        .entry(name.clone())
                        .or_default()
                        .push((cell, *span));
                }
                for produced in &facts.produces {
                    let producers = self.producers.entry(produced.path.clone()).or_default();
                    if !producers.contains(&cell) {
                        producers.push(cell);
                    }
                }
            }
        }
        let mut duplicates: Vec<_> = explicit
            .into_iter()
            .filter(|(_, cells)| cells.len() > 1)
            .collect();
        duplicates.sort_by(|a, b| a.1[0].0.cmp(&b.1[0].0));
        for (name, cells) in duplicates {
            for (cell, span) in &cells {
                let others = cells
                    .iter()
                    .map(|(other, _)| *other)
                    .filter(|other| other != cell)
                    .collect();
                self.issues.push(GraphIssue::DuplicateName {
                    cell: *cell,
                    name: name.clone(),
                    span: *span,
                    others,
                });
            }
        }
    }

    /// A name written in `cell`'s notebook resolves there first, then project-wide
    /// when exactly one cell elsewhere has it.
    fn resolve_name(&self, from: CellRef, name: &str) -> Option<CellRef> {
        let candidates = self.cells_named(name);
        candidates
            .iter()
            .find(|candidate| candidate.notebook == from.notebook)
            .or(match candidates {
                [only] => Some(only),
                _ => None,
            })
            .copied()
    }

    fn resolve_edges(&mut self) {
        let mut edges: HashMap<CellRef, Vec<Edge>> = HashMap::new();
        let mut forward_edges: HashMap<CellRef, Vec<Edge>> = HashMap::new();
        let mut issues = Vec::new();
        for (notebook_index, notebook) in self.notebooks.iter().enumerate() {
            for facts in &notebook.cells {
                let cell = CellRef {
                    notebook: notebook_index,
                    ordinal: facts.ordinal,
                };
                let mut resolved: Vec<Edge> = Vec::new();
                for dep in &facts.deps {
                    match self.resolve_name(cell, &dep.name) {
                        None => issues.push(GraphIssue::UnknownDep {
                            cell,
                            dep: dep.clone(),
                        }),
                        Some(target) if !self.has_cache_key(target) => {
                            issues.push(GraphIssue::SetupDep {
                                cell,
                                dep: dep.clone(),
                                target,
                            })
                        }
                        Some(target)
                            if target.notebook == cell.notebook
                                && target.ordinal > cell.ordinal =>
                        {
                            forward_edges.entry(cell).or_default().push(Edge {
                                target,
                                why: EdgeReason::Named(dep.clone()),
                            });
                            issues.push(GraphIssue::ForwardDep {
                                cell,
                                dep: dep.clone(),
                                target,
                            })
                        }
                        Some(target) => {
                            if !resolved.iter().any(|edge| edge.target == target) {
                                resolved.push(Edge {
                                    target,
                                    why: EdgeReason::Named(dep.clone()),
                                });
                            }
                        }
                    }
                }
                for load in &facts.loads {
                    for &producer in self.producers_of(&load.path) {
                        let usable = producer != cell
                            && self.has_cache_key(producer)
                            && !(producer.notebook == cell.notebook
                                && producer.ordinal > cell.ordinal);
                        if usable && !resolved.iter().any(|edge| edge.target == producer) {
                            resolved.push(Edge {
                                target: producer,
                                why: EdgeReason::Loads(load.clone()),
                            });
                        }
                    }
                }
                if !resolved.is_empty() {
                    edges.insert(cell, resolved);
                }
            }
        }
        self.edges = edges;
        self.forward_edges = forward_edges;
        self.issues.extend(issues);
    }

    /// Code cells of kinds that run and are cached (not setup, not note).
    fn has_cache_key(&self, cell: CellRef) -> bool {
        matches!(
            self.cell(cell).and_then(|facts| facts.kind),
            Some(CellKind::Load | CellKind::Step | CellKind::Figure | CellKind::Table)
        )
    }

    /// Tarjan's strongly connected components over dependencies and forward deps; every
    /// named edge inside a component of more than one cell (or a self-edge) is reported
    /// as closing a cycle, instead of as a forward dep.
    fn find_cycles(&mut self) {
        let mut all_edges = self.edges.clone();
        for (cell, forward) in &self.forward_edges {
            all_edges
                .entry(*cell)
                .or_default()
                .extend(forward.iter().cloned());
        }
        let mut cells: Vec<CellRef> = all_edges.keys().copied().collect();
        cells.sort_unstable();
        let mut tarjan = Tarjan::default();
        for cell in cells {
            if !tarjan.index.contains_key(&cell) {
                tarjan.connect(cell, &all_edges);
            }
        }
        let mut issues = Vec::new();
        for mut component in tarjan.components {
            component.sort_unstable();
            for &cell in &component {
                for edge in all_edges.get(&cell).map_or(&[][..], Vec::as_slice) {
                    let inside = component.contains(&edge.target);
                    let is_cycle = inside && (component.len() > 1 || edge.target == cell);
                    if let (true, EdgeReason::Named(dep)) = (is_cycle, &edge.why) {
                        issues.push(GraphIssue::Cycle {
                            cell,
                            dep: dep.clone(),
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
        let closes_cycle = |cell: &CellRef, dep: &DepRef| {
            issues.iter().any(|issue| {
                matches!(issue, GraphIssue::Cycle { cell: c, dep: d, .. } if c == cell && d == dep)
            })
        };
        self.issues.retain(|issue| match issue {
            GraphIssue::ForwardDep { cell, dep, .. } => !closes_cycle(cell, dep),
            _ => true,
        });
        self.issues.extend(issues);
    }
}

/// Iterative-enough Tarjan over the (small) dependency graph.
#[derive(Default)]
struct Tarjan {
    next_index: usize,
    index: HashMap<CellRef, usize>,
    low_link: HashMap<CellRef, usize>,
    stack: Vec<CellRef>,
    on_stack: std::collections::HashSet<CellRef>,
    components: Vec<Vec<CellRef>>,
}

impl Tarjan {
    fn connect(&mut self, cell: CellRef, edges: &HashMap<CellRef, Vec<Edge>>) {
        self.index.insert(cell, self.next_index);
        self.low_link.insert(cell, self.next_index);
        self.next_index += 1;
        self.stack.push(cell);
        self.on_stack.insert(cell);
        for edge in edges.get(&cell).map_or(&[][..], Vec::as_slice) {
            let target = edge.target;
            if !self.index.contains_key(&target) {
                self.connect(target, edges);
                let low = self.low_link[&cell].min(self.low_link[&target]);
                self.low_link.insert(cell, low);
            } else if self.on_stack.contains(&target) {
                let low = self.low_link[&cell].min(self.index[&target]);
                self.low_link.insert(cell, low);
            }
        }
        if self.low_link[&cell] == self.index[&cell] {
            let mut component = Vec::new();
            while let Some(member) = self.stack.pop() {
                self.on_stack.remove(&member);
                component.push(member);
                if member == cell {
                    break;
                }
            }
            let cyclic = component.len() > 1
                || edges
                    .get(&cell)
                    .is_some_and(|out| out.iter().any(|edge| edge.target == cell));
            if cyclic {
                self.components.push(component);
            }
        }
    }
}

mod agreement {
    //! The graph, built at once or updated notebook by notebook, answers exactly as the
    //! oracle built from scratch over the same facts.

    use std::sync::Arc;

    use proptest::prelude::*;

    use super::super::{
        CellFacts, CellRef, DepOrigin, DepRef, NotebookFacts, PathRef, ProjectGraph,
    };
    use crate::format::tags::CellKind;
    use crate::text::Span;

    const NAMES: &[&str] = &["x", "y", "z", "a:0", "a:1", "b:2", "a:01", "q", "b:0"];
    const PATHS: &[&str] = &["p1", "p2", "p3"];
    const STEMS: &[&str] = &["a", "b", "a", "c", "b"];

    fn kind() -> impl Strategy<Value = Option<CellKind>> {
        prop_oneof![
            4 => Just(Some(CellKind::Step)),
            1 => Just(Some(CellKind::Load)),
            1 => Just(Some(CellKind::Setup)),
            1 => Just(Some(CellKind::Note)),
            1 => Just(None),
        ]
    }

    fn span() -> impl Strategy<Value = Option<Span>> {
        prop_oneof![
            1 => Just(None),
            3 => (0usize..4).prop_map(|start| Some(Span::new(start, start + 1))),
        ]
    }

    fn cell() -> impl Strategy<Value = CellFacts> {
        (
            kind(),
            proptest::option::of((proptest::sample::select(NAMES), span())),
            proptest::collection::vec(
                (proptest::sample::select(NAMES), span(), any::<bool>()),
                0..3,
            ),
            proptest::collection::vec(proptest::sample::select(PATHS), 0..2),
            proptest::collection::vec(proptest::sample::select(PATHS), 0..2),
        )
            .prop_map(|(kind, name, deps, loads, produces)| CellFacts {
                ordinal: 0,
                kind,
                explicit_name: name.map(|(name, span)| (name.to_string(), span)),
                deps: deps
                    .into_iter()
                    .map(|(name, span, tag)| DepRef {
                        name: name.to_string(),
                        span,
                        origin: if tag {
                            DepOrigin::Tag
                        } else {
                            DepOrigin::JcDeps
                        },
                    })
                    .collect(),
                loads: loads
                    .into_iter()
                    .map(|path| PathRef {
                        path: path.to_string(),
                        span: None,
                    })
                    .collect(),
                produces: produces
                    .into_iter()
                    .map(|path| PathRef {
                        path: path.to_string(),
                        span: None,
                    })
                    .collect(),
            })
    }

    fn cells() -> impl Strategy<Value = Vec<CellFacts>> {
        proptest::collection::vec(cell(), 0..5).prop_map(|mut cells| {
            for (ordinal, cell) in cells.iter_mut().enumerate() {
                cell.ordinal = ordinal;
            }
            cells
        })
    }

    fn notebook(index: usize, cells: Vec<CellFacts>) -> NotebookFacts {
        NotebookFacts::new(format!("n{index}/{}.py", STEMS[index % STEMS.len()]), cells)
    }

    /// A change to one notebook: all new cells, or one cell's deps or name only.
    #[derive(Debug, Clone)]
    enum Change {
        Replace(Vec<CellFacts>),
        Cell(usize, CellFacts),
    }

    fn change() -> impl Strategy<Value = (usize, Change)> {
        (
            0usize..4,
            prop_oneof![
                cells().prop_map(Change::Replace),
                (0usize..5, cell()).prop_map(|(at, cell)| Change::Cell(at, cell)),
            ],
        )
    }

    fn apply(notebook: &NotebookFacts, change: &Change) -> NotebookFacts {
        let mut notebook = notebook.clone();
        match change {
            Change::Replace(cells) => {
                notebook = NotebookFacts::new(notebook.path.clone(), cells.clone());
            }
            Change::Cell(at, cell) => {
                if let Some(slot) = notebook.cells.get_mut(*at) {
                    *slot = Arc::new(CellFacts {
                        ordinal: slot.ordinal,
                        ..cell.clone()
                    });
                }
            }
        }
        notebook
    }

    fn assert_agrees(graph: &ProjectGraph, notebooks: &[NotebookFacts]) {
        let oracle = super::ProjectGraph::build(notebooks.to_vec());
        assert_eq!(graph.issues(), oracle.issues());
        for notebook_index in 0..notebooks.len() {
            let of: Vec<_> = oracle
                .issues()
                .iter()
                .filter(|issue| issue_cell(issue).notebook == notebook_index)
                .cloned()
                .collect();
            assert_eq!(graph.issues_of(notebook_index), of);
        }
        for (notebook_index, notebook) in notebooks.iter().enumerate() {
            for facts in &notebook.cells {
                let cell = CellRef {
                    notebook: notebook_index,
                    ordinal: facts.ordinal,
                };
                assert_eq!(graph.dependencies(cell), oracle.dependencies(cell));
                assert_eq!(graph.dependents(cell), oracle.dependents(cell));
                assert_eq!(graph.closure_in_order(cell), oracle.closure_in_order(cell));
                assert_eq!(graph.name_of(cell), oracle.name_of(cell));
            }
        }
        for name in NAMES {
            assert_eq!(graph.cells_named(name), oracle.cells_named(name), "{name}");
        }
        for path in PATHS {
            assert_eq!(graph.producers_of(path), oracle.producers_of(path));
        }
        assert_eq!(graph.produced_paths(), oracle.produced_paths());
    }

    fn issue_cell(issue: &super::GraphIssue) -> CellRef {
        use super::GraphIssue;
        match issue {
            GraphIssue::UnknownDep { cell, .. }
            | GraphIssue::ForwardDep { cell, .. }
            | GraphIssue::SetupDep { cell, .. }
            | GraphIssue::DuplicateName { cell, .. }
            | GraphIssue::Cycle { cell, .. } => *cell,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1500))]

        #[test]
        fn a_graph_built_at_once_agrees_with_the_oracle(
            project in proptest::collection::vec(cells(), 1..5),
        ) {
            let notebooks: Vec<NotebookFacts> = project
                .into_iter()
                .enumerate()
                .map(|(index, cells)| notebook(index, cells))
                .collect();
            assert_agrees(&ProjectGraph::build(notebooks.clone()), &notebooks);
        }

        #[test]
        fn a_graph_updated_per_notebook_agrees_with_the_oracle(
            project in proptest::collection::vec(cells(), 4),
            batches in proptest::collection::vec(
                proptest::collection::vec(change(), 1..3),
                1..6,
            ),
        ) {
            let mut notebooks: Vec<NotebookFacts> = project
                .into_iter()
                .enumerate()
                .map(|(index, cells)| notebook(index, cells))
                .collect();
            let mut shared: Vec<Arc<NotebookFacts>> =
                notebooks.iter().cloned().map(Arc::new).collect();
            let mut graph = ProjectGraph::build_shared(shared.clone());
            // One or two notebooks changed per update (two of four still update in place).
            for changes in batches {
                for (index, change) in changes {
                    notebooks[index] = apply(&notebooks[index], &change);
                    shared[index] = Arc::new(notebooks[index].clone());
                }
                graph = graph.updated(shared.clone());
                assert_agrees(&graph, &notebooks);
            }
        }
    }
}

//! The project graph: every cell of every notebook in a project, its name, what it
//! depends on and what artifacts it reads and writes, resolved into edges.
//!
//! Built from plain facts per cell ([`CellFacts`]), so it is tested without parsing.
//! Names resolve within the same notebook first, then across the project (jellycell
//! resolves only within a notebook and silently drops the rest; we resolve and report).
//! `jc.load("path")` resolves to the cells whose literal `jc.save`/`jc.figure`/`jc.table`
//! write that path, in any notebook. Problems (unknown, forward and setup deps, duplicate
//! names, cycles) are returned as [`GraphIssue`]s for the lint layer to word and rank.

use std::collections::HashMap;

use crate::format::tags::CellKind;
use crate::text::Span;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotebookFacts {
    /// Project-relative path, e.g. `notebooks/prep.py`.
    pub path: String,
    pub cells: Vec<CellFacts>,
}

impl NotebookFacts {
    /// The file stem that auto names use (`prep` for `notebooks/prep.py`).
    pub fn stem(&self) -> &str {
        let file = self.path.rsplit('/').next().unwrap_or(&self.path);
        file.rsplit_once('.').map_or(file, |(stem, _)| stem)
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
        NotebookFacts {
            path: path.to_string(),
            cells,
        }
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
    fn the_stem_ignores_folders_and_extension() {
        assert_eq!(notebook("notebooks/sub/prep.py", vec![]).stem(), "prep");
        assert_eq!(notebook("x.md", vec![]).stem(), "x");
    }
}

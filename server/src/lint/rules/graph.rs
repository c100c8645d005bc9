//! Findings from the project graph for one notebook: `unknown-dep`, `ambiguous-dep`,
//! `forward-dep`, `setup-dep`, `duplicate-name` (within the notebook) and `dep-cycle`. jellycell drops such deps silently
//! (so a cell's cache key ignores them); we say so where the dep is written.

use crate::analysis::graph::{CellRef, DepOrigin, DepRef, GraphIssue, ProjectGraph};
use crate::analysis::workspace::Workspace;
use crate::format::tags::CellKind;
use crate::lint::Finding;
use crate::text::suggest::did_you_mean;

pub fn findings(workspace: &Workspace, file_index: usize) -> Vec<Finding> {
    findings_in(&workspace.graph, file_index)
}

/// The graph findings of notebook `file_index` of `graph` (what `--check`'s cache uses
/// when it has the graph but not the workspace).
pub fn findings_in(graph: &ProjectGraph, file_index: usize) -> Vec<Finding> {
    let describe = |cell: CellRef| -> String {
        let path = graph
            .notebooks
            .get(cell.notebook)
            .map_or("?", |notebook| notebook.path.as_str());
        format!(
            "\"{}\" ({path}, cell {})",
            graph.name_of(cell),
            cell.ordinal
        )
    };
    let mut findings = Vec::new();
    // Every known name, gathered once and only when a dependency is unknown.
    let mut names: Option<Vec<String>> = None;
    for issue in &graph.issues_of(file_index) {
        match issue {
            GraphIssue::UnknownDep { cell, dep } if cell.notebook == file_index => {
                // Not unknown but ambiguous: several other notebooks have the name (a
                // name is per notebook in jellycell, so that is legal there).
                let named = graph.cells_named(&dep.name);
                if named.len() > 1 {
                    let candidates: Vec<String> =
                        named.iter().map(|other| describe(*other)).collect();
                    findings.push(Finding::new(
                        "ambiguous-dep",
                        dep.span,
                        format!(
                            "\"{}\" names cells in several notebooks ({}), so this dependency is dropped; rename the cell you mean so its name is unique, or move this cell into its notebook",
                            dep.name,
                            candidates.join(", ")
                        ),
                    ));
                    continue;
                }
                let names = names.get_or_insert_with(|| known_names(graph));
                findings.push(Finding::new(
                    "unknown-dep",
                    dep.span,
                    format!(
                        "no cell is named \"{}\", so jellycell would drop this dependency silently{}",
                        dep.name,
                        did_you_mean(&dep.name, names.iter().map(String::as_str))
                    ),
                ));
            }
            GraphIssue::ForwardDep { cell, dep, target } if cell.notebook == file_index => {
                findings.push(Finding::new(
                    "forward-dep",
                    dep.span,
                    format!(
                        "{} comes after this cell, so jellycell drops this dependency; move this cell below it{}",
                        describe(*target),
                        removal_hint(dep)
                    ),
                ));
            }
            GraphIssue::SetupDep { cell, dep, target } if cell.notebook == file_index => {
                let what = match graph.cell(*target).and_then(|facts| facts.kind) {
                    Some(CellKind::Setup) => {
                        "a jc.setup cell (it runs before every run and has no cache key)"
                    }
                    Some(CellKind::Note) => "a jc.note cell (it never runs)",
                    _ => "not a code cell",
                };
                findings.push(Finding::new(
                    "setup-dep",
                    dep.span,
                    format!(
                        "{} is {what}, so jellycell drops this dependency{}",
                        describe(*target),
                        removal_hint(dep)
                    ),
                ));
            }
            GraphIssue::DuplicateName {
                cell,
                name,
                span,
                others,
            } if cell.notebook == file_index => {
                // jellycell resolves names per notebook: the same name in two notebooks is
                // legal (a dep on it from a third one is reported as `ambiguous-dep`).
                let elsewhere: Vec<String> = others
                    .iter()
                    .filter(|other| other.notebook == cell.notebook)
                    .map(|other| describe(*other))
                    .collect();
                if elsewhere.is_empty() {
                    continue;
                }
                findings.push(Finding::new(
                    "duplicate-name",
                    *span,
                    format!(
                        "the name \"{name}\" is also used by {}; deps on it are ambiguous, rename one",
                        elsewhere.join(", ")
                    ),
                ));
            }
            GraphIssue::Cycle { cell, dep, cycle } if cell.notebook == file_index => {
                let names: Vec<String> =
                    cycle.iter().map(|member| graph.name_of(*member)).collect();
                findings.push(Finding::new(
                    "dep-cycle",
                    dep.span,
                    format!(
                        "\"{}\" is part of a dependency cycle ({}); remove one of these deps",
                        dep.name,
                        names.join(" → ")
                    ),
                ));
            }
            _ => {}
        }
    }
    findings
}

fn removal_hint(dep: &DepRef) -> &'static str {
    match dep.origin {
        DepOrigin::Tag => " or remove the deps= tag",
        DepOrigin::JcDeps => " or remove it from jc.deps(...)",
    }
}

/// Every explicit cell name in the project, for "did you mean".
fn known_names(graph: &ProjectGraph) -> Vec<String> {
    let mut names: Vec<String> = graph
        .notebooks
        .iter()
        .flat_map(|notebook| &notebook.cells)
        .filter_map(|cell| cell.explicit_name.as_ref().map(|(name, _)| name.clone()))
        .collect();
    names.sort();
    names.dedup();
    names
}

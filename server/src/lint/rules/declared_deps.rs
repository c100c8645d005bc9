//! `enforce-declared-deps` (jellycell's rule, gated by `[lint] enforce_declared_deps`): a
//! cell that `jc.load`s an artifact another cell writes, without declaring that cell in
//! `deps=` or `jc.deps(...)`. jellycell finds producers in its run index, so it reports
//! only after a run and without a line; we find them statically (literal `jc.save` /
//! `jc.figure` paths in any notebook), point at the `jc.load` call, and offer to add the
//! tag.

use crate::analysis::graph::{CellRef, EdgeReason, PathRef, ProjectGraph};
use crate::analysis::workspace::{NotebookFile, Workspace};
use crate::lint::{Finding, tag_edit};

pub fn findings(workspace: &Workspace, file_index: usize) -> Vec<Finding> {
    match workspace.files.get(file_index) {
        Some(file) => findings_in(&workspace.graph, file_index, file),
        None => Vec::new(),
    }
}

/// The findings of notebook `file_index` of `graph`, whose file is `file` (its cells and
/// text give the fix; its analyses are not used).
pub fn findings_in(graph: &ProjectGraph, file_index: usize, file: &NotebookFile) -> Vec<Finding> {
    let mut findings = Vec::new();
    for undeclared in undeclared_loads(graph, file_index) {
        let tag = format!("deps={}", undeclared.producer);
        let finding = Finding::new(
            "enforce-declared-deps",
            undeclared.load.span,
            format!(
                "cell '{}' jc.load's artifacts from '{}' but doesn't declare {tag} — add it to the tag",
                undeclared.name, undeclared.producer
            ),
        );
        let cell = file.notebook.cells.get(undeclared.ordinal);
        let edit = cell.and_then(|cell| tag_edit::add_tag(&file.text, file.format, cell, &tag));
        findings.push(match edit {
            Some(edit) => finding.with_edits(format!("Declare {tag}"), vec![edit]),
            None => finding,
        });
    }
    findings
}

/// Whether notebook `file_index` has a finding of this rule (decided from the graph
/// alone, without reading the notebook).
pub fn any_in(graph: &ProjectGraph, file_index: usize) -> bool {
    !undeclared_loads(graph, file_index).is_empty()
}

/// A `jc.load` of an artifact whose producer the loading cell does not declare.
struct UndeclaredLoad<'g> {
    ordinal: usize,
    load: &'g PathRef,
    /// The producer's name, the dep to declare.
    producer: String,
    /// The loading cell's explicit name, else `anon` (jellycell's wording).
    name: &'g str,
}

fn undeclared_loads(graph: &ProjectGraph, file_index: usize) -> Vec<UndeclaredLoad<'_>> {
    let Some(notebook) = graph.notebooks.get(file_index) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for facts in &notebook.cells {
        let here = CellRef {
            notebook: file_index,
            ordinal: facts.ordinal,
        };
        for edge in graph.dependencies(here) {
            let EdgeReason::Loads(load) = &edge.why else {
                continue;
            };
            let producer = graph.name_of(edge.target);
            let declared = facts.deps.iter().any(|dep| {
                dep.name == producer || graph.cells_named(&dep.name).contains(&edge.target)
            });
            if declared {
                continue;
            }
            found.push(UndeclaredLoad {
                ordinal: facts.ordinal,
                load,
                producer,
                name: facts
                    .explicit_name
                    .as_ref()
                    .map_or("anon", |(name, _)| name.as_str()),
            });
        }
    }
    found
}

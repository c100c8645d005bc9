//! `enforce-declared-deps` (jellycell's rule, gated by `[lint] enforce_declared_deps`): a
//! cell that `jc.load`s an artifact another cell writes, without declaring that cell in
//! `deps=` or `jc.deps(...)`. jellycell finds producers in its run index, so it reports
//! only after a run and without a line; we find them statically (literal `jc.save` /
//! `jc.figure` paths in any notebook), point at the `jc.load` call, and offer to add the
//! tag.

use crate::analysis::graph::{CellRef, EdgeReason};
use crate::analysis::workspace::Workspace;
use crate::lint::{Finding, tag_edit};

pub fn findings(workspace: &Workspace, file_index: usize) -> Vec<Finding> {
    let Some(file) = workspace.files.get(file_index) else {
        return Vec::new();
    };
    let graph = &workspace.graph;
    let mut findings = Vec::new();
    for (ordinal, cell) in file.notebook.cells.iter().enumerate() {
        let here = CellRef {
            notebook: file_index,
            ordinal,
        };
        let Some(facts) = graph.cell(here) else {
            continue;
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
            let name = facts
                .explicit_name
                .as_ref()
                .map_or("anon", |(name, _)| name.as_str());
            let tag = format!("deps={producer}");
            let finding = Finding::new(
                "enforce-declared-deps",
                load.span,
                format!(
                    "cell '{name}' jc.load's artifacts from '{producer}' but doesn't declare {tag} — add it to the tag"
                ),
            );
            findings.push(
                match tag_edit::add_tag(&file.text, file.format, cell, &tag) {
                    Some(edit) => finding.with_edits(format!("Declare {tag}"), vec![edit]),
                    None => finding,
                },
            );
        }
    }
    findings
}

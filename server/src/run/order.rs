//! The order to run several notebooks of a project in: a notebook after every notebook
//! whose cells it depends on (a `jc.load` of a path another notebook's cell saves, a
//! `deps=` resolved to another notebook), otherwise in the order given. Notebooks in a
//! cycle keep the order given.

use crate::analysis::graph::{CellRef, ProjectGraph};

/// `notebooks` (indexes into the graph) in dependency order.
pub fn notebook_order(graph: &ProjectGraph, notebooks: &[usize]) -> Vec<usize> {
    let upstream: Vec<Vec<usize>> = notebooks
        .iter()
        .map(|&notebook| upstream_of(graph, notebook, notebooks))
        .collect();
    let mut done = vec![false; notebooks.len()];
    let mut order = Vec::with_capacity(notebooks.len());
    while order.len() < notebooks.len() {
        let ready = (0..notebooks.len()).find(|&at| {
            !done[at]
                && upstream[at].iter().all(|needed| {
                    notebooks
                        .iter()
                        .position(|notebook| notebook == needed)
                        .is_none_or(|position| done[position])
                })
        });
        // A cycle: take the first one left, in the order given.
        let Some(next) = ready.or_else(|| (0..notebooks.len()).find(|&at| !done[at])) else {
            break;
        };
        done[next] = true;
        order.push(notebooks[next]);
    }
    order
}

/// The notebooks among `among` that cells of `notebook` depend on, other than itself.
fn upstream_of(graph: &ProjectGraph, notebook: usize, among: &[usize]) -> Vec<usize> {
    let Some(facts) = graph.notebooks.get(notebook) else {
        return Vec::new();
    };
    let mut upstream: Vec<usize> = facts
        .cells
        .iter()
        .flat_map(|cell| {
            graph.dependencies(CellRef {
                notebook,
                ordinal: cell.ordinal,
            })
        })
        .map(|edge| edge.target.notebook)
        .filter(|target| *target != notebook && among.contains(target))
        .collect();
    upstream.sort_unstable();
    upstream.dedup();
    upstream
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::workspace::{NotebookInput, Workspace};

    fn workspace(notebooks: &[(&str, &str)]) -> Workspace {
        let root = std::path::PathBuf::from("/nonexistent-jellycell-order");
        let project = crate::project::Project::without_config(&root);
        Workspace::build(
            project,
            notebooks
                .iter()
                .map(|(path, text)| NotebookInput {
                    path: root.join(path),
                    text: text.to_string(),
                })
                .collect(),
        )
    }

    #[test]
    fn producers_of_loaded_paths_and_named_deps_run_first() {
        let workspace = workspace(&[
            (
                "notebooks/a_report.py",
                "# %% tags=[\"jc.load\"]\nimport jellycell.api as jc\nx = jc.load(\"artifacts/s.json\")\n",
            ),
            (
                "notebooks/b_mid.py",
                "# %% tags=[\"jc.step\", \"deps=raw\"]\nimport jellycell.api as jc\njc.save(1, \"artifacts/s.json\")\n",
            ),
            (
                "notebooks/c_raw.py",
                "# %% tags=[\"jc.load\", \"name=raw\"]\nr = 1\n",
            ),
        ]);
        let order = notebook_order(&workspace.graph, &[0, 1, 2]);
        assert_eq!(order, [2, 1, 0]);
    }

    #[test]
    fn independent_notebooks_keep_the_order_given() {
        let workspace = workspace(&[
            ("notebooks/a.py", "# %%\nx = 1\n"),
            ("notebooks/b.py", "# %%\ny = 1\n"),
        ]);
        assert_eq!(notebook_order(&workspace.graph, &[1, 0]), [1, 0]);
    }
}

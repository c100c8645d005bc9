//! A workspace of some notebooks of a project and only the others that can change their
//! graph ([`relevance`](crate::analysis::relevance)): what a one-notebook `--check`
//! (without its cache) and `export` load, so that they read the rest of the project's
//! notebooks as text and never parse them.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::analysis::relevance::{Candidate, Relevance};
use crate::analysis::workspace::{
    self, AnalysisDepth, LoadError, NotebookFile, NotebookInput, Workspace, discover_notebooks,
    notebook_format_of,
};
use crate::project::Project;
use crate::project::read::read_text_file;

/// Whether the workspace's graph must also hold every other notebook's cell names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherNames {
    /// Only the notebooks that matter (cache keys, outputs, rendering).
    Relevant,
    /// Also, when a reported notebook has an unknown dependency, the names of every other
    /// notebook (read without analysis), for `unknown-dep`'s "did you mean".
    WhenSuggesting,
}

impl Workspace {
    /// The notebooks at `reported` (fully analysed) and those of the project's other
    /// notebooks that can change their graph (to facts depth), in the order
    /// [`Workspace::load`] gives them. For the reported notebooks the graph answers as the
    /// whole project's does. Files that cannot be read are returned beside the workspace.
    pub fn load_relevant(
        project: Project,
        reported: &[PathBuf],
        names: OtherNames,
    ) -> (Workspace, Vec<LoadError>) {
        let reported: HashSet<PathBuf> = reported.iter().map(|path| absolute(path)).collect();
        let mut paths = discover_notebooks(&project);
        let mut known: HashSet<PathBuf> = paths.iter().cloned().collect();
        for path in &reported {
            if known.insert(path.clone()) {
                paths.push(path.clone());
            }
        }
        let limit = project.config.lint.max_file_bytes();
        let mut inputs = Vec::new();
        let mut errors = Vec::new();
        for path in paths
            .into_iter()
            .filter(|path| notebook_format_of(path).is_some())
        {
            match read_text_file(&path, limit) {
                Ok(text) => inputs.push(NotebookInput { path, text }),
                Err(error) => errors.push(LoadError::new(path, &error)),
            }
        }
        let (seeds, others): (Vec<usize>, Vec<usize>) =
            (0..inputs.len()).partition(|&index| reported.contains(&inputs[index].path));

        let seed_inputs = seeds.iter().map(|&index| inputs[index].clone()).collect();
        let full = |_: &Path| AnalysisDepth::Full;
        let seed_files = workspace::read_notebooks(&project, seed_inputs, full);
        let seed_facts: Vec<_> = seed_files.iter().map(workspace::facts).collect();
        let mut files: HashMap<usize, NotebookFile> =
            seeds.iter().copied().zip(seed_files).collect();

        let candidates: Vec<Candidate> = others
            .iter()
            .map(|&index| Candidate::Text {
                path: &inputs[index].path,
                text: &inputs[index].text,
            })
            .collect();
        let mut found_files: Vec<(usize, NotebookFile)> = Vec::new();
        let seed_refs: Vec<_> = seed_facts.iter().collect();
        let found = Relevance::search(&seed_refs, &candidates, |batch| {
            let batch_inputs = batch
                .iter()
                .map(|&candidate| inputs[others[candidate]].clone())
                .collect();
            let facts_depth = |_: &Path| AnalysisDepth::Facts;
            let read = workspace::read_notebooks(&project, batch_inputs, facts_depth);
            let facts = read.iter().map(workspace::facts).collect();
            found_files.extend(batch.iter().map(|&candidate| others[candidate]).zip(read));
            facts
        });
        files.extend(found_files);

        let ordered = |files: &mut HashMap<usize, NotebookFile>| -> Vec<Arc<NotebookFile>> {
            let mut indices: Vec<usize> = files.keys().copied().collect();
            indices.sort_unstable();
            indices
                .into_iter()
                .filter_map(|index| files.remove(&index).map(Arc::new))
                .collect()
        };
        let kept: Vec<usize> = {
            let mut kept: Vec<usize> = files.keys().copied().collect();
            kept.sort_unstable();
            kept
        };
        let workspace = Workspace::from_shared_files(project.clone(), ordered(&mut files));
        let reported_positions: Vec<usize> = kept
            .iter()
            .enumerate()
            .filter(|(_, index)| seeds.binary_search(index).is_ok())
            .map(|(position, _)| position)
            .collect();
        let suggesting = names == OtherNames::WhenSuggesting
            && Relevance::needs_every_name(&workspace.graph, &reported_positions);
        if !suggesting {
            return (workspace, errors);
        }
        // Every other notebook's names: read, not analysed (nothing else of them can
        // change the reported notebooks' graph, or the search would have found them).
        let mut all: Vec<(usize, Arc<NotebookFile>)> =
            kept.into_iter().zip(workspace.files).collect();
        for (candidate, &index) in others.iter().enumerate() {
            if found[candidate] {
                continue;
            }
            let input = &inputs[index];
            if let Some(format) = notebook_format_of(&input.path) {
                let file = NotebookFile::without_analysis(
                    &project,
                    input.path.clone(),
                    input.text.clone(),
                    format,
                );
                all.push((index, Arc::new(file)));
            }
        }
        all.sort_by_key(|(index, _)| *index);
        let files = all.into_iter().map(|(_, file)| file).collect();
        (Workspace::from_shared_files(project, files), errors)
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

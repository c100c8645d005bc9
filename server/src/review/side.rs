//! One side of a diff: a notebook, its cells' cache keys (for alignment) and outputs.
//!
//! An `.ipynb` side carries its own outputs (a code cell never run, with no execution
//! count and no outputs, has no result). A text side gets the outputs our cache holds for
//! each cell's *current* key, as `export --to ipynb` does; a cell whose key has no
//! manifest has no result. A text side read from elsewhere (a git revision) is keyed as
//! if it were the file at `path`, against the rest of the project as it is on disk.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::analysis::graph::CellRef;
use crate::analysis::workspace::{NotebookFile, Workspace};
use crate::cache::{KeyContext, Store, outputs_by_current_key};
use crate::format::{CellType, Notebook, NotebookFormat};
use crate::project::Project;

/// Where a side's outputs came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputOrigin {
    /// The `.ipynb` file itself.
    Ipynb,
    /// Our cache, by each cell's current key.
    Cache,
    /// Not looked up (an empty side, or outputs not wanted).
    None,
}

impl OutputOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputOrigin::Ipynb => "ipynb",
            OutputOrigin::Cache => "cache",
            OutputOrigin::None => "none",
        }
    }
}

/// The outputs known for one cell.
#[derive(Debug, Clone, PartialEq)]
pub enum CellOutputs {
    /// nbformat output objects.
    Recorded(Vec<Value>),
    /// A code cell without a result on this side.
    NoResult,
    /// A markdown or raw cell, or a side whose outputs were not looked up.
    NotApplicable,
}

#[derive(Debug, Clone)]
pub struct Side {
    /// How the side is named in the diff (`notebooks/prep.py`, `HEAD~1:notebooks/prep.py`).
    pub label: String,
    pub notebook: Notebook,
    pub origin: OutputOrigin,
    /// Per cell: its current cache key (text sides only).
    pub keys: Vec<Option<String>>,
    /// Per cell: its outputs.
    pub outputs: Vec<CellOutputs>,
}

impl Side {
    /// A side with no outputs looked up.
    pub fn without_outputs(label: impl Into<String>, notebook: Notebook) -> Side {
        let cells = notebook.cells.len();
        Side {
            label: label.into(),
            notebook,
            origin: OutputOrigin::None,
            keys: vec![None; cells],
            outputs: vec![CellOutputs::NotApplicable; cells],
        }
    }

    /// An `.ipynb` side, with the outputs it carries.
    pub fn from_ipynb(label: impl Into<String>, notebook: Notebook) -> Side {
        let outputs = notebook
            .cells
            .iter()
            .map(|cell| {
                let jupyter = cell.jupyter();
                match cell.cell_type {
                    CellType::Code
                        if jupyter.execution_count.is_some() || !jupyter.outputs.is_empty() =>
                    {
                        CellOutputs::Recorded(jupyter.outputs.clone())
                    }
                    CellType::Code => CellOutputs::NoResult,
                    _ => CellOutputs::NotApplicable,
                }
            })
            .collect();
        Side {
            origin: OutputOrigin::Ipynb,
            outputs,
            ..Side::without_outputs(label, notebook)
        }
    }

    /// A text side (`text` in `format`) keyed as the notebook at `path`, with the outputs
    /// our cache holds for its cells' current keys.
    pub fn from_cache(
        label: impl Into<String>,
        path: &Path,
        text: String,
        format: NotebookFormat,
    ) -> Side {
        let project = Project::discover(path);
        let (loaded, _) = Workspace::load(project.clone(), &[]);
        let this = NotebookFile::new(&project, path.to_path_buf(), text, format);
        let mut files: Vec<Arc<NotebookFile>> = loaded
            .files
            .iter()
            .filter(|file| file.relative != this.relative)
            .cloned()
            .collect();
        let notebook = this.notebook.clone();
        files.push(Arc::new(this));
        let file = files.len() - 1;
        let workspace = Workspace::from_shared_files(loaded.project, files);
        let store = Store::open(&workspace.project);
        let mut keys = KeyContext::new(&workspace, None, &store);
        let cell_keys = (0..notebook.cells.len())
            .map(|ordinal| {
                keys.key(CellRef {
                    notebook: file,
                    ordinal,
                })
            })
            .collect();
        let found = outputs_by_current_key(&workspace, file, &store, None);
        let outputs = notebook
            .cells
            .iter()
            .enumerate()
            .map(
                |(ordinal, cell)| match (cell.cell_type, found.get(ordinal)) {
                    (CellType::Code, Some(Some((outputs, _)))) => {
                        CellOutputs::Recorded(outputs.clone())
                    }
                    (CellType::Code, _) => CellOutputs::NoResult,
                    _ => CellOutputs::NotApplicable,
                },
            )
            .collect();
        Side {
            label: label.into(),
            notebook,
            origin: OutputOrigin::Cache,
            keys: cell_keys,
            outputs,
        }
    }

    /// The side for `text` of a notebook at `path`: `.ipynb` with its own outputs, text
    /// formats with the cache's.
    pub fn load(
        label: impl Into<String>,
        path: &Path,
        text: String,
        format: NotebookFormat,
    ) -> Side {
        match format {
            NotebookFormat::Ipynb => Side::from_ipynb(label, crate::format::read(&text, format)),
            _ => Side::from_cache(label, path, text, format),
        }
    }

    /// The outputs of cell `index`.
    pub fn outputs_of(&self, index: usize) -> &CellOutputs {
        self.outputs
            .get(index)
            .unwrap_or(&CellOutputs::NotApplicable)
    }
}

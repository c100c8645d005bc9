//! The names the environment hints ask about, kept across readings of one notebook (the
//! editor's buffer): each code cell's module-level imports, the first import of each
//! module and the first cell calling `jc.*`, as `module_imports` and
//! `NotebookNames::of` find them, but an edit scans only the cells it changed.
//!
//! The cells before and after an edit are the ones its re-read did not read again
//! (`NotebookFile::window_since`); for readings of other origins they are told apart
//! from the changed ones by pointer (a shared content with the same body length and the
//! same analysis, which also carries the aliases earlier cells bound). The cells in
//! between are scanned again. The modules
//! in file order are recomputed only when a scanned cell's imports differ from what it
//! had, which a keystroke outside an import line never does.

use std::collections::HashSet;
use std::sync::Arc;

use super::CellAnalysis;
use super::module_imports::{ModuleImport, body_imports};
use super::workspace::NotebookFile;

/// One import of a cell: the top-level module and its span, relative to the cell's body.
type CellImport = (String, usize, usize);

/// The hint names of one reading of a notebook, indexed for the next reading.
#[derive(Debug)]
pub struct HintNamesMemo {
    /// The reading the memo is for.
    file: Arc<NotebookFile>,
    /// Each cell's imports, by ordinal.
    cells: Vec<Vec<CellImport>>,
    /// The first import of each top-level module, in file order: the module, the
    /// ordinal of its cell and the index of the import in that cell's list.
    first: Vec<(String, usize, usize)>,
    /// The ordinal of the first cell with a `jc.*` call.
    first_jc: Option<usize>,
}

impl HintNamesMemo {
    /// The memo of `file`, computed from scratch.
    pub fn build(file: Arc<NotebookFile>) -> HintNamesMemo {
        let cells = (0..file.notebook.cells.len())
            .map(|ordinal| imports_of(&file, ordinal))
            .collect();
        let first_jc = (0..file.notebook.cells.len()).find(|&ordinal| calls_jc(&file, ordinal));
        let mut memo = HintNamesMemo {
            file,
            cells,
            first: Vec::new(),
            first_jc,
        };
        memo.index();
        memo
    }

    /// Makes this the memo of `file`, another reading of the same notebook: only the
    /// cells the edits changed are scanned. Returns the reading it was for, if another
    /// (the caller decides where it is freed).
    pub fn update(&mut self, file: Arc<NotebookFile>) -> Option<Arc<NotebookFile>> {
        if Arc::ptr_eq(&self.file, &file) {
            return None;
        }
        let old = std::mem::replace(&mut self.file, file);
        let new = self.file.clone();
        let new = &*new;
        let (old_len, new_len) = (old.notebook.cells.len(), new.notebook.cells.len());
        let (prefix, suffix) = match new.window_since(&old) {
            Some(window) => (window.prefix, new_len - window.new_stop),
            None => {
                let prefix = (0..old_len.min(new_len))
                    .take_while(|&ordinal| same_cell(&old, ordinal, new, ordinal))
                    .count();
                let room = old_len.min(new_len) - prefix;
                let suffix = (1..=room)
                    .take_while(|&back| same_cell(&old, old_len - back, new, new_len - back))
                    .count();
                (prefix, suffix)
            }
        };
        let (old_stop, new_stop) = (old_len - suffix, new_len - suffix);
        let scanned: Vec<Vec<CellImport>> = (prefix..new_stop)
            .map(|ordinal| imports_of(new, ordinal))
            .collect();
        let imports_changed = self.cells[prefix..old_stop] != scanned[..];
        if imports_changed {
            self.cells.splice(prefix..old_stop, scanned);
            self.index();
        }
        self.first_jc = match self.first_jc {
            Some(first) if first < prefix => Some(first),
            before => (prefix..new_stop)
                .find(|&ordinal| calls_jc(new, ordinal))
                .or_else(|| match before {
                    // The first call was in an untouched cell after the edit: it moved.
                    Some(first) if first >= old_stop => Some(first + new_stop - old_stop),
                    // The cell that held it changed and lost it: look after the edit.
                    Some(_) => (new_stop..new_len).find(|&ordinal| calls_jc(new, ordinal)),
                    None => None,
                }),
        };
        Some(old)
    }

    /// The reading the memo is for.
    pub fn file(&self) -> &Arc<NotebookFile> {
        &self.file
    }

    /// The first import of each top-level module, in file order, spans into the file's
    /// text: what `module_imports` gives for the memo's reading.
    pub fn imports(&self) -> Vec<ModuleImport> {
        let cells = &self.file.notebook.cells;
        self.first
            .iter()
            .filter_map(|(module, ordinal, index)| {
                let (_, start, end) = self.cells.get(*ordinal)?.get(*index)?;
                let body_start = cells.get(*ordinal)?.spans.body.start;
                Some(ModuleImport {
                    module: module.clone(),
                    span: crate::text::Span::new(body_start + start, body_start + end),
                })
            })
            .collect()
    }

    /// The ordinal of the first cell calling `jc.*`.
    pub fn first_jc_cell(&self) -> Option<usize> {
        self.first_jc
    }

    fn index(&mut self) {
        self.first.clear();
        let mut seen: HashSet<&str> = HashSet::new();
        for (ordinal, imports) in self.cells.iter().enumerate() {
            for (index, (module, _, _)) in imports.iter().enumerate() {
                if seen.insert(module.as_str()) {
                    self.first.push((module.clone(), ordinal, index));
                }
            }
        }
    }
}

fn imports_of(file: &NotebookFile, ordinal: usize) -> Vec<CellImport> {
    file.notebook
        .cells
        .get(ordinal)
        .map_or_else(Vec::new, |cell| body_imports(cell, &file.text))
}

fn calls_jc(file: &NotebookFile, ordinal: usize) -> bool {
    file.analyses
        .get(ordinal)
        .and_then(Option::as_ref)
        .is_some_and(|analysis| !analysis.jc_calls.is_empty())
}

/// Whether cell `a` of `old` and cell `b` of `new` are one cell the edit did not touch.
fn same_cell(old: &NotebookFile, a: usize, new: &NotebookFile, b: usize) -> bool {
    let (Some(before), Some(after)) = (old.notebook.cells.get(a), new.notebook.cells.get(b)) else {
        return false;
    };
    after.shares_content(before)
        && after.spans.body.len() == before.spans.body.len()
        && analysis_at(old, a) == analysis_at(new, b)
}

/// Where the analysis of cell `ordinal` lies, for telling shared analyses apart.
fn analysis_at(file: &NotebookFile, ordinal: usize) -> Option<*const CellAnalysis> {
    file.analyses
        .get(ordinal)
        .and_then(Option::as_ref)
        .map(Arc::as_ptr)
}

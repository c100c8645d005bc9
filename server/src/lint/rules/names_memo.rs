//! `undefined-name` and `use-before-define` kept across readings of one notebook (the
//! editor's buffer): the same findings as `names::findings`, but an edit re-checks only
//! the cells it changed and the cells that read a name whose definers it changed.
//!
//! A cell's findings depend on its own flow and on, per name it reads: whether a setup
//! cell or a cell above defines it, the first cell below that does (and that cell's
//! name), and where the first cell that may define anything lies. The memo keeps, per
//! name, the cells that define it and the cells that read it, so an edit that changes
//! cell k's definitions from D to D' re-checks cell k and the readers of D △ D' (of all
//! of D ∪ D' when cell k's kind or name changed). A cell whose content is shared with the
//! previous reading (`Cell::shares_content`) has the same flow, so its findings are kept,
//! their spans moved with its body. An edit that adds or removes a cell, gains or loses
//! a `from m import *`-like cell, or changes the notebook's language or path rebuilds
//! the memo (what `names::findings` costs).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use super::kept_findings::KeptFindings;
use super::names::{
    NameHasher, PRELUDE_NAMES, deferred_read_is_defined, finding, is_python, sorted_contains,
};
use crate::analysis::workspace::NotebookFile;
use crate::format::CellType;
use crate::format::tags::CellKind;
use crate::lint::Finding;

/// The names findings of one reading of a notebook, indexed for the next reading.
#[derive(Debug)]
pub struct NamesMemo {
    /// The reading the memo is for.
    file: Arc<NotebookFile>,
    python: bool,
    /// One entry per cell, by ordinal.
    cells: Vec<CellEntry>,
    /// For each name, the checked cells (ordinals) that define it.
    definers: HashMap<String, BTreeSet<usize>, NameHasher>,
    /// For each name, the checked cells that read it.
    readers: HashMap<String, BTreeSet<usize>, NameHasher>,
    /// For each name, how many setup cells define it.
    setup: HashMap<String, usize, NameHasher>,
    /// The checked cells that may define anything: none at or below the first is checked.
    everything: BTreeSet<usize>,
    /// The findings of the cells that have any.
    findings: KeptFindings,
}

/// What the rule needs of one cell.
#[derive(Debug, Default, PartialEq)]
struct CellEntry {
    /// A code cell that is not a note (notes never run).
    checked: bool,
    setup: bool,
    parses: bool,
    everything: bool,
    /// Sorted, deduplicated.
    defines: Vec<String>,
    /// Sorted, deduplicated.
    reads: Vec<String>,
}

impl NamesMemo {
    /// The memo of `file`, computed from scratch.
    pub fn build(file: Arc<NotebookFile>) -> NamesMemo {
        let python = is_python(&file);
        let mut memo = NamesMemo {
            python,
            cells: Vec::with_capacity(file.notebook.cells.len()),
            definers: HashMap::default(),
            readers: HashMap::default(),
            setup: HashMap::default(),
            everything: BTreeSet::new(),
            findings: KeptFindings::default(),
            file,
        };
        if !python {
            return memo;
        }
        for ordinal in 0..memo.file.notebook.cells.len() {
            let entry = entry_of(&memo.file, ordinal);
            memo.index(ordinal, &entry);
            memo.cells.push(entry);
        }
        for ordinal in 0..memo.cells.len() {
            memo.recheck(ordinal);
        }
        memo
    }

    /// Makes this the memo of `file`, a later reading of the same notebook: only the cells
    /// the edit changed, and the readers of the names whose definers changed, are checked.
    /// Returns the previous reading (the caller decides where it is freed).
    pub fn update(&mut self, file: Arc<NotebookFile>) -> Arc<NotebookFile> {
        let old = self.file.clone();
        let (old_cells, new_cells) = (&old.notebook.cells, &file.notebook.cells);
        if old_cells.len() != new_cells.len()
            || old.path != file.path
            || is_python(&file) != self.python
        {
            *self = NamesMemo::build(file);
            return old;
        }
        self.file = file.clone();
        if !self.python {
            return old;
        }
        let changed: Vec<usize> = match file.window_since(&old) {
            Some(window) => window.read_again().collect(),
            None => changed_cells(&old, &file),
        };
        let mut touched: HashSet<String, NameHasher> = HashSet::default();
        for &ordinal in &changed {
            let entry = entry_of(&file, ordinal);
            let before = &self.cells[ordinal];
            let renamed = old_cells[ordinal].spec.name != new_cells[ordinal].spec.name;
            if entry == *before && !renamed {
                continue;
            }
            if entry.everything != before.everything {
                *self = NamesMemo::build(file);
                return old;
            }
            if renamed || entry.checked != before.checked || entry.setup != before.setup {
                touched.extend(before.defines.iter().chain(&entry.defines).cloned());
            } else {
                touched.extend(symmetric_difference(&before.defines, &entry.defines));
            }
            let before = std::mem::take(&mut self.cells[ordinal]);
            self.unindex(ordinal, &before);
            self.index(ordinal, &entry);
            self.cells[ordinal] = entry;
        }
        let mut recheck: BTreeSet<usize> = changed.into_iter().collect();
        for name in &touched {
            if let Some(readers) = self.readers.get(name) {
                recheck.extend(readers.iter().copied());
            }
        }
        for ordinal in recheck {
            self.recheck(ordinal);
        }
        old
    }

    /// The reading the memo is for.
    pub fn file(&self) -> &Arc<NotebookFile> {
        &self.file
    }

    /// The findings of the memo's reading, in the order `names::findings` gives them.
    pub fn findings(&mut self) -> Vec<Finding> {
        self.findings.all(&self.file.notebook.cells)
    }

    fn index(&mut self, ordinal: usize, entry: &CellEntry) {
        if !entry.checked {
            return;
        }
        for name in &entry.defines {
            self.definers
                .entry(name.clone())
                .or_default()
                .insert(ordinal);
            if entry.setup {
                *self.setup.entry(name.clone()).or_default() += 1;
            }
        }
        for name in &entry.reads {
            self.readers
                .entry(name.clone())
                .or_default()
                .insert(ordinal);
        }
        if entry.everything {
            self.everything.insert(ordinal);
        }
    }

    fn unindex(&mut self, ordinal: usize, entry: &CellEntry) {
        if !entry.checked {
            return;
        }
        for name in &entry.defines {
            remove_from(&mut self.definers, name, ordinal);
            if entry.setup
                && let Some(count) = self.setup.get_mut(name.as_str())
            {
                *count -= 1;
                if *count == 0 {
                    self.setup.remove(name.as_str());
                }
            }
        }
        for name in &entry.reads {
            remove_from(&mut self.readers, name, ordinal);
        }
        if entry.everything {
            self.everything.remove(&ordinal);
        }
    }

    /// Computes the findings of the cell at `ordinal` again.
    fn recheck(&mut self, ordinal: usize) {
        let findings = self.check(ordinal);
        let body_start = self.file.notebook.cells.at(ordinal).spans.body.start;
        self.findings.set(ordinal, body_start, findings);
    }

    /// The findings of the cell at `ordinal`, as `names::findings` computes them.
    fn check(&self, ordinal: usize) -> Vec<Finding> {
        let file = &self.file;
        let Some(entry) = self.cells.get(ordinal) else {
            return Vec::new();
        };
        let below_everything = self
            .everything
            .first()
            .is_some_and(|&first| first <= ordinal);
        if !entry.checked || !entry.parses || below_everything {
            return Vec::new();
        }
        let cell = file.notebook.cells.at(ordinal);
        let flow = file.cell_flow(ordinal);
        let mut findings = Vec::new();
        for (name, span) in &flow.read_spans {
            let definers = self.definers.get(name.as_str());
            let defined_above = definers
                .and_then(|definers| definers.first())
                .is_some_and(|&first| first < ordinal);
            if PRELUDE_NAMES.contains(&name.as_str())
                || self.setup.contains_key(name.as_str())
                || defined_above
            {
                continue;
            }
            let here = sorted_contains(&entry.defines, name);
            let below = definers.and_then(|definers| {
                definers
                    .range((
                        std::ops::Bound::Excluded(ordinal),
                        std::ops::Bound::Unbounded,
                    ))
                    .next()
                    .copied()
            });
            if deferred_read_is_defined(&flow, name, here, below) {
                continue;
            }
            let span = Some(cell.text_span(&file.text, *span));
            findings.push(finding(file, name, span, here, below));
        }
        findings
    }
}

fn entry_of(file: &NotebookFile, ordinal: usize) -> CellEntry {
    let cell = file.notebook.cells.at(ordinal);
    if cell.cell_type != CellType::Code || cell.spec.kind == CellKind::Note {
        return CellEntry::default();
    }
    let flow = file.cell_flow(ordinal);
    let parses = file
        .analyses
        .get(ordinal)
        .and_then(Option::as_ref)
        .is_none_or(|analysis| analysis.syntax_errors.is_empty());
    let mut reads: Vec<String> = flow
        .read_spans
        .iter()
        .map(|(name, _)| name.clone())
        .collect();
    reads.sort_unstable();
    reads.dedup();
    CellEntry {
        checked: true,
        setup: cell.spec.kind == CellKind::Setup,
        parses,
        everything: flow.defines_everything,
        defines: flow.defines.clone(),
        reads,
    }
}

fn remove_from(
    index: &mut HashMap<String, BTreeSet<usize>, NameHasher>,
    name: &str,
    ordinal: usize,
) {
    if let Some(cells) = index.get_mut(name) {
        cells.remove(&ordinal);
        if cells.is_empty() {
            index.remove(name);
        }
    }
}

/// The names in exactly one of two sorted lists.
fn symmetric_difference<'a>(
    before: &'a [String],
    after: &'a [String],
) -> impl Iterator<Item = String> + 'a {
    let gone = before
        .iter()
        .filter(|name| after.binary_search(name).is_err());
    let new = after
        .iter()
        .filter(|name| before.binary_search(name).is_err());
    gone.chain(new).cloned()
}

/// The cells of `new` that are not `old`'s cell of the same ordinal, untouched (both have
/// the same count of cells): a different content, body length or analysis.
fn changed_cells(old: &NotebookFile, new: &NotebookFile) -> Vec<usize> {
    let (old_cells, new_cells) = (&old.notebook.cells, &new.notebook.cells);
    (0..new_cells.len())
        .filter(|&ordinal| {
            let (old_cell, new_cell) = (old_cells.at(ordinal), new_cells.at(ordinal));
            let same_analysis = match (old.analyses.get(ordinal), new.analyses.get(ordinal)) {
                (Some(Some(before)), Some(Some(after))) => Arc::ptr_eq(before, after),
                (before, after) => {
                    before.is_none_or(Option::is_none) && after.is_none_or(Option::is_none)
                }
            };
            !(new_cell.shares_content(old_cell)
                && new_cell.spans.body.len() == old_cell.spans.body.len()
                && same_analysis)
        })
        .collect()
}

//! `python-syntax-error` and `enforce-artifact-paths`, the rules whose findings on a cell
//! depend on that cell alone, kept across readings of one notebook (the editor's buffer):
//! an edit computes the findings of the cells its re-read read again
//! (`NotebookFile::window_since`) and moves the others' with their cells. A reading of
//! another origin, or another artifacts folder, computes them all.

use std::sync::Arc;

use super::artifact_paths::ArtifactsFolder;
use super::kept_findings::KeptFindings;
use crate::analysis::workspace::NotebookFile;
use crate::lint::Finding;

/// The per-cell findings of one reading of a notebook.
#[derive(Debug)]
pub struct CellRulesMemo {
    /// The reading the memo is for.
    file: Arc<NotebookFile>,
    /// The folder `enforce-artifact-paths` checks against; `None` when the rule is off.
    artifacts: Option<ArtifactsFolder>,
    findings: KeptFindings,
}

impl CellRulesMemo {
    /// The memo of `file`, computed from scratch.
    pub fn build(file: Arc<NotebookFile>, artifacts: Option<ArtifactsFolder>) -> CellRulesMemo {
        let mut memo = CellRulesMemo {
            file,
            artifacts,
            findings: KeptFindings::default(),
        };
        for ordinal in 0..memo.file.notebook.cells.len() {
            memo.check(ordinal);
        }
        memo
    }

    /// Makes this the memo of `file`, a later reading of the same notebook. Returns the
    /// previous reading (the caller decides where it is freed).
    pub fn update(
        &mut self,
        file: Arc<NotebookFile>,
        artifacts: Option<ArtifactsFolder>,
    ) -> Arc<NotebookFile> {
        let window = file
            .window_since(&self.file)
            .filter(|_| artifacts == self.artifacts);
        let Some(window) = window else {
            let rebuilt = CellRulesMemo::build(file, artifacts);
            return std::mem::replace(self, rebuilt).file;
        };
        let old = std::mem::replace(&mut self.file, file);
        self.findings.splice(&window);
        for ordinal in window.read_again() {
            self.check(ordinal);
        }
        old
    }

    /// The findings of the memo's reading, in cell order.
    pub fn findings(&mut self) -> Vec<Finding> {
        self.findings.all(&self.file.notebook.cells)
    }

    /// Computes the findings of the cell at `ordinal` again.
    fn check(&mut self, ordinal: usize) {
        let file = &self.file;
        let (Some(cell), Some(Some(analysis))) =
            (file.notebook.cells.get(ordinal), file.analyses.get(ordinal))
        else {
            return;
        };
        let mut findings = Vec::new();
        super::syntax::cell_findings(file, cell, analysis, &mut findings);
        if let Some(artifacts) = &self.artifacts {
            artifacts.cell_findings(file, cell, analysis, &mut findings);
        }
        self.findings.set(ordinal, cell.spans.body.start, findings);
    }
}

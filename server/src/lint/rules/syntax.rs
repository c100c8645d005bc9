//! `python-syntax-error`: what tree-sitter-python (with IPython magics masked) cannot
//! parse in a code cell, at the exact range in the notebook text.

use crate::analysis::CellAnalysis;
use crate::analysis::workspace::NotebookFile;
use crate::format::PlacedCell;
use crate::lint::Finding;

pub fn findings(file: &NotebookFile) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (cell, analysis) in file.notebook.cells.iter().zip(&file.analyses) {
        if let Some(analysis) = analysis {
            cell_findings(file, cell, analysis, &mut findings);
        }
    }
    findings
}

/// The findings of one cell (with its `analysis`) of `file`, added to `findings`.
pub fn cell_findings(
    file: &NotebookFile,
    cell: PlacedCell<'_>,
    analysis: &CellAnalysis,
    findings: &mut Vec<Finding>,
) {
    for error in &analysis.syntax_errors {
        let span = cell.text_span(&file.text, error.span);
        findings.push(Finding::new(
            "python-syntax-error",
            Some(span),
            format!("{}; the cell will fail when it runs", error.message),
        ));
    }
}

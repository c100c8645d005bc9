//! `python-syntax-error`: what tree-sitter-python (with IPython magics masked) cannot
//! parse in a code cell, at the exact range in the notebook text.

use crate::analysis::workspace::NotebookFile;
use crate::lint::Finding;

pub fn findings(file: &NotebookFile) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (cell, analysis) in file.notebook.cells.iter().zip(&file.analyses) {
        let Some(analysis) = analysis else { continue };
        for error in &analysis.syntax_errors {
            let span = cell.text_span(&file.text, error.span);
            findings.push(Finding::new(
                "python-syntax-error",
                Some(span),
                format!("{}; the cell will fail when it runs", error.message),
            ));
        }
    }
    findings
}

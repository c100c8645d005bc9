//! `enforce-artifact-paths` (jellycell's rule, same trigger): a literal `jc.save` or
//! `jc.figure` target that is not under the artifacts directory (`[paths] artifacts`).
//! Like jellycell, `jc.table` (which takes a name, not a path) is not checked, and the
//! finding starts where the call starts.

use crate::analysis::JcFunction;
use crate::analysis::workspace::NotebookFile;
use crate::lint::Finding;

pub fn findings(file: &NotebookFile, artifacts: &str) -> Vec<Finding> {
    let prefix = format!("{}/", artifacts.trim_end_matches('/'));
    let mut findings = Vec::new();
    for (cell, analysis) in file.notebook.cells.iter().zip(&file.analyses) {
        let Some(analysis) = analysis else { continue };
        for call in &analysis.jc_calls {
            if !matches!(call.function, JcFunction::Save | JcFunction::Figure) {
                continue;
            }
            for (target, span) in call.literal_targets() {
                if target.starts_with(&prefix) {
                    continue;
                }
                let stripped = target.trim_start_matches("./");
                let suggestion = if stripped.starts_with(&prefix) {
                    stripped.to_string()
                } else {
                    format!("{prefix}{stripped}")
                };
                // From the call's start to the path, as jellycell reports the line the
                // call starts on (a call spread over several lines names its first).
                let reported = crate::text::Span::new(call.span.start.min(span.start), span.end);
                findings.push(Finding::new(
                    "enforce-artifact-paths",
                    Some(cell.text_span(&file.text, reported)),
                    format!(
                        "jc.{} target '{target}' must live under {prefix}; write it as '{suggestion}'",
                        call.function.name()
                    ),
                ));
            }
        }
    }
    findings
}

//! The JSON format (schema_version 1), one object on one line:
//! `{"schema_version":1,"diagnostics":[{"path","rule","severity","line","column",
//! "end_line","end_column","message","fixable"}],"summary":{"files","errors","warnings",
//! "infos","fixed"}}`, lines and columns 1-based, `null` for whole-file findings.

use serde_json::{Value, json};

use super::report::CheckReport;
use crate::lint::Severity;

pub fn format(report: &CheckReport) -> String {
    let diagnostics: Vec<Value> = report
        .findings
        .iter()
        .map(|finding| {
            json!({
                "path": finding.path,
                "rule": finding.rule,
                "severity": finding.severity.as_str(),
                "line": finding.start.map(|(line, _)| line),
                "column": finding.start.map(|(_, column)| column),
                "end_line": finding.end.map(|(line, _)| line),
                "end_column": finding.end.map(|(_, column)| column),
                "message": finding.message,
                "fixable": finding.fixable,
            })
        })
        .collect();
    let document = json!({
        "schema_version": 1,
        "diagnostics": diagnostics,
        "summary": {
            "files": report.files,
            "errors": report.count(Severity::Error),
            "warnings": report.count(Severity::Warning),
            "infos": report.count(Severity::Info),
            "fixed": report.fixed,
        },
    });
    format!("{document}\n")
}

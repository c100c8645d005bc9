//! SARIF 2.1.0, for code-scanning dashboards: one run, the tool's rules with their
//! default levels, one result per finding with a physical location.

use serde_json::{Value, json};

use super::report::CheckReport;
use crate::lint::{RULES, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

pub fn format(report: &CheckReport) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id,
                "shortDescription": {"text": rule.summary},
                "defaultConfiguration": {"level": level(rule.default_severity)},
                "helpUri": format!("https://github.com/jellycell-lsp/jellycell-lsp/blob/main/docs/lint-rules.md#{}", rule.id),
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|finding| {
            let mut location = json!({"artifactLocation": {"uri": finding.path}});
            if let (Some((line, column)), Some((end_line, end_column))) =
                (finding.start, finding.end)
            {
                location["region"] = json!({
                    "startLine": line,
                    "startColumn": column,
                    "endLine": end_line,
                    "endColumn": end_column,
                });
            }
            json!({
                "ruleId": finding.rule,
                "ruleIndex": RULES.iter().position(|rule| rule.id == finding.rule),
                "level": level(finding.severity),
                "message": {"text": finding.message},
                "locations": [{"physicalLocation": location}],
            })
        })
        .collect();
    let document = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "jellycell-lsp",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/jellycell-lsp/jellycell-lsp",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&document).unwrap_or_default();
    out.push('\n');
    out
}

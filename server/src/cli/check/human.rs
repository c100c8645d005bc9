//! The human format, like ruff's: `path:line:col: rule message`, then a summary. Colour
//! only when writing to a terminal and `NO_COLOR` is unset.

use std::fmt::Write;

use super::report::CheckReport;
use crate::lint::Severity;

const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const RESET: &str = "\x1b[0m";

pub fn format(report: &CheckReport, colour: bool) -> String {
    let paint = |code: &str, text: &str| {
        if colour {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    };
    let mut out = String::new();
    for finding in &report.findings {
        let location = match finding.start {
            Some((line, column)) => format!("{}:{line}:{column}:", finding.path),
            None => format!("{}:", finding.path),
        };
        let severity_colour = match finding.severity {
            Severity::Error => RED,
            Severity::Warning => YELLOW,
            Severity::Info => CYAN,
        };
        let fixable = if finding.fixable { " [*]" } else { "" };
        let _ = writeln!(
            out,
            "{} {}{fixable} {}",
            paint(BOLD, &location),
            paint(severity_colour, finding.rule),
            finding.message
        );
    }
    let total = report.findings.len();
    if report.fixed > 0 {
        let _ = writeln!(
            out,
            "Fixed {} problem{}.",
            report.fixed,
            plural(report.fixed)
        );
    }
    if total == 0 {
        let _ = writeln!(
            out,
            "All checks passed ({} file{}).",
            report.files,
            plural(report.files)
        );
        return out;
    }
    let _ = writeln!(
        out,
        "Found {total} problem{} in {} file{} ({} error{}, {} warning{}, {} info{}); {} notebook{} checked.",
        plural(total),
        report.files_with_findings(),
        plural(report.files_with_findings()),
        report.count(Severity::Error),
        plural(report.count(Severity::Error)),
        report.count(Severity::Warning),
        plural(report.count(Severity::Warning)),
        report.count(Severity::Info),
        plural(report.count(Severity::Info)),
        report.files,
        plural(report.files),
    );
    let fixable = report.fixable();
    if fixable > 0 {
        let _ = writeln!(out, "[*] {fixable} fixable with `--fix`.");
    }
    if report.unsafe_fixable > 0 {
        let _ = writeln!(
            out,
            "{} more fixable with `--fix --unsafe-fixes` (creating folders).",
            report.unsafe_fixable
        );
    }
    out
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

//! GitHub Actions workflow commands: `::error file=…,line=…,col=…,endLine=…,
//! endColumn=…,title=RULE::message`, which GitHub shows as annotations on the diff.
//! Infos become `::notice`.

use std::fmt::Write;

use super::report::CheckReport;
use crate::lint::Severity;

pub fn format(report: &CheckReport) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        let command = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut properties = format!("file={}", escape_property(&finding.path));
        if let (Some((line, column)), Some((end_line, end_column))) = (finding.start, finding.end) {
            let _ = write!(
                properties,
                ",line={line},col={column},endLine={end_line},endColumn={end_column}"
            );
        }
        let _ = write!(properties, ",title={}", escape_property(finding.rule));
        let _ = writeln!(
            out,
            "::{command} {properties}::{}",
            escape_data(&finding.message)
        );
    }
    out
}

/// GitHub's escaping for the message part of a workflow command.
pub(in crate::cli) fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub's escaping for a property value (`:` and `,` are separators there).
pub(in crate::cli) fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_separators_in_properties_and_newlines_in_messages() {
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
        assert_eq!(escape_data("two\nlines"), "two%0Alines");
    }
}

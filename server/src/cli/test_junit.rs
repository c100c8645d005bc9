//! `test --junit FILE`: the results as JUnit XML (the Jenkins/pytest dialect CI systems
//! read): one `testsuite` per notebook, one `testcase` per code cell (`classname` the
//! notebook, `name` the cell, `file`/`line` where it starts) with a `failure` (outputs
//! differ), an `error` (it raised or did not run) or `skipped` (skipped, ignored,
//! without a reference).

use std::fmt::Write;

use crate::kernel::{plain_traceback, strip_ansi};
use crate::regress::{Mismatch, NotebookResult, Verdict};

pub fn junit_xml(results: &[NotebookResult]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let count = |wanted: &dyn Fn(&Verdict) -> bool, result: &NotebookResult| {
        result
            .cells
            .iter()
            .filter(|cell| wanted(&cell.verdict))
            .count()
    };
    let failure = |v: &Verdict| matches!(v, Verdict::Failed(_));
    let error = |v: &Verdict| matches!(v, Verdict::Raised(_) | Verdict::NotRun);
    let skipped = |v: &Verdict| {
        matches!(
            v,
            Verdict::Skipped(_) | Verdict::Ignored | Verdict::NoReference
        )
    };
    let total = |wanted: &dyn Fn(&Verdict) -> bool| -> usize {
        results.iter().map(|result| count(wanted, result)).sum()
    };
    let seconds: f64 = results.iter().map(|r| r.duration_ms as f64 / 1000.0).sum();
    let _ = writeln!(
        out,
        "<testsuites name=\"jellycell-lsp test\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{seconds:.3}\">",
        results.iter().map(|r| r.cells.len()).sum::<usize>(),
        total(&failure),
        total(&error),
        total(&skipped),
    );
    for result in results {
        let notebook = escape(&result.notebook);
        let _ = writeln!(
            out,
            "  <testsuite name=\"{notebook}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
            result.cells.len(),
            count(&failure, result),
            count(&error, result),
            count(&skipped, result),
            result.duration_ms as f64 / 1000.0
        );
        for cell in &result.cells {
            let _ = write!(
                out,
                "    <testcase classname=\"{notebook}\" name=\"{}\" file=\"{notebook}\" line=\"{}\" time=\"{:.3}\"",
                escape(&cell.name),
                cell.line,
                cell.duration_ms as f64 / 1000.0
            );
            let body = match &cell.verdict {
                Verdict::Passed | Verdict::Accepted(_) => None,
                Verdict::Failed(mismatches) => {
                    let summary: Vec<String> = mismatches.iter().map(Mismatch::summary).collect();
                    Some(format!(
                        "<failure message=\"{}\">{}</failure>",
                        escape(&summary.join("; ")),
                        escape(&detail(mismatches))
                    ))
                }
                Verdict::Raised(error) => Some(format!(
                    "<error message=\"{}\">{}</error>",
                    escape(&format!("{}: {}", error.ename, strip_ansi(&error.evalue))),
                    escape(&plain_traceback(&error.traceback))
                )),
                Verdict::NotRun => {
                    Some("<error message=\"the cell did not run\"></error>".to_string())
                }
                Verdict::Skipped(why) => Some(format!("<skipped message=\"{}\"/>", escape(why))),
                Verdict::Ignored => {
                    Some("<skipped message=\"outputs not compared (ignored)\"/>".to_string())
                }
                Verdict::NoReference => {
                    Some("<skipped message=\"no reference result to compare with\"/>".to_string())
                }
            };
            match body {
                Some(body) => {
                    let _ = writeln!(out, ">\n      {body}\n    </testcase>");
                }
                None => {
                    let _ = writeln!(out, "/>");
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn detail(mismatches: &[Mismatch]) -> String {
    let mut text = String::new();
    for mismatch in mismatches {
        let _ = writeln!(text, "{}", mismatch.summary());
        if let Mismatch::Value {
            key,
            reference,
            fresh,
            ..
        } = mismatch
        {
            let _ = writeln!(
                text,
                "reference:\n{}\nthis run:\n{}",
                crate::regress::compare::value_text(key, reference),
                crate::regress::compare::value_text(key, fresh)
            );
        }
    }
    text
}

/// Text as XML 1.0 character data or an attribute value: markup escaped, ANSI codes and
/// the control characters XML cannot hold removed.
fn escape(text: &str) -> String {
    strip_ansi(text)
        .chars()
        .filter(|&c| c == '\t' || c == '\n' || c == '\r' || c >= ' ')
        .fold(String::new(), |mut out, c| {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&apos;"),
                '\n' => out.push_str("&#10;"),
                other => out.push(other),
            }
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_ansi_and_control_characters_are_escaped_or_removed() {
        assert_eq!(
            escape("a<b & \"c\"\u{1b}[31mred\u{1b}[0m\u{7}\n"),
            "a&lt;b &amp; &quot;c&quot;red&#10;"
        );
    }
}

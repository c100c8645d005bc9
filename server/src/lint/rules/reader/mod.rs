//! Findings from what the notebook readers noticed (`Notebook::problems`): tag problems
//! (`deps-no-comma`, `unknown-kind`, `multiple-kinds`, `bad-timeout`, `bad-tag`), PEP-723
//! problems (`pep723-invalid`, `pep723-position`, `unknown-override-key`), marker and
//! comment problems of the percent reader, and metadata the readers could not parse.
//! Each keeps the reader's span and message; this file adds the safe fixes.

#[cfg(test)]
mod tests;

use crate::analysis::workspace::NotebookFile;
use crate::format::{Problem, pep723, tags};
use crate::lint::{Finding, TextEdit};
use crate::text::Span;

pub fn findings(file: &NotebookFile) -> Vec<Finding> {
    file.notebook
        .problems
        .iter()
        .map(|problem| {
            let finding = Finding::new(problem.code, Some(problem.span), problem.message.clone());
            match fix_for(file, problem) {
                Some((title, edits)) => finding.with_edits(title, edits),
                None => finding,
            }
        })
        .collect()
}

fn fix_for(file: &NotebookFile, problem: &Problem) -> Option<(String, Vec<TextEdit>)> {
    let text = &file.text;
    match problem.code {
        "deps-no-comma" => {
            let literal = problem.span.slice(text);
            let quote = literal.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let inner = literal.strip_prefix(quote)?.strip_suffix(quote)?;
            let split = tags::split_comma_deps(inner)?;
            let replacement = split
                .iter()
                .map(|tag| format!("\"{tag}\""))
                .collect::<Vec<_>>()
                .join(", ");
            Some((
                "Split into one deps= tag per dependency".into(),
                vec![TextEdit::new(problem.span, replacement)],
            ))
        }
        "missing-tag-comma" => {
            let written = problem.span.slice(text);
            let literal_end = tags::first_literal_end(written)?;
            Some((
                "Insert the missing comma".into(),
                vec![TextEdit::new(
                    Span::at(problem.span.start + literal_end),
                    ",",
                )],
            ))
        }
        "unknown-attribute" => {
            let literal = problem.span.slice(text);
            let quote = literal.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let inner = literal.strip_prefix(quote)?.strip_suffix(quote)?;
            let (key, value) = inner.split_once('=')?;
            let attribute = tags::misspelt_attribute(tags::python_strip(key))?;
            Some((
                format!("Write {attribute}= instead of {key}="),
                vec![TextEdit::new(
                    problem.span,
                    format!("{quote}{attribute}={value}{quote}"),
                )],
            ))
        }
        "pep723-position" => {
            let fix = pep723::move_to_top_fix(text)?;
            Some((
                "Move the PEP-723 block to the top".into(),
                vec![TextEdit::new(fix.span, fix.new_text)],
            ))
        }
        "marker-no-space" => {
            // `# %%tags=[...]`: a space after the run of `%` makes it a marker.
            let line = problem.span.slice(text);
            let percent = line.find("%%")?;
            let after = percent + line[percent..].chars().take_while(|c| *c == '%').count();
            Some((
                "Insert a space after `%%` (makes the line a cell marker: a new cell)".into(),
                vec![TextEdit::new(Span::at(problem.span.start + after), " ")],
            ))
        }
        "uncommented-comment" => {
            // jupytext's own escape: it reads `## ls the files` back as `# ls the files`.
            let line = problem.span.slice(text);
            let hash = line.find('#')?;
            Some((
                "Double the `#` so jupytext keeps the comment".into(),
                vec![TextEdit::new(Span::at(problem.span.start + hash), "#")],
            ))
        }
        _ => None,
    }
}

//! What a lint rule reports: a `Finding` (rule id, severity, where, message, optional
//! fix) and the `Fix` as plain text edits, so the CLI and the LSP apply the same edits.

use std::fmt;

use crate::text::Span;

/// How serious a finding is. `--check` exits 1 only for `Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Replace the bytes of `span` with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub span: Span,
    pub replacement: String,
}

/// What a fix does to the file's text, or to the file system for project-level fixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixAction {
    /// Non-overlapping edits to the notebook's text.
    Edits(Vec<TextEdit>),
    /// Create a directory (the `layout` rule), relative to the project root.
    CreateDirectory(std::path::PathBuf),
    /// Bring the notebook's jupytext-paired files up to date (`jellycell-lsp sync`), the
    /// `paired-out-of-sync` fix; the CLI applies it, the editor leaves it to the command.
    SyncPairedFiles,
}

/// A fix for one finding. Only safe fixes (that keep the notebook's meaning) exist; the
/// title is what an editor shows as the quick-fix label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub action: FixAction,
}

impl Fix {
    /// Whether `--fix` applies it without `--unsafe-fixes`: edits to a notebook's text
    /// and syncing paired files (refused when both sides changed) are; creating folders is not (a misspelt `[paths]` entry would get a folder).
    pub fn is_safe(&self) -> bool {
        matches!(
            self.action,
            FixAction::Edits(_) | FixAction::SyncPairedFiles
        )
    }
}

/// One finding of one rule in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule id, e.g. `unknown-dep`.
    pub rule: &'static str,
    pub severity: Severity,
    /// Where in the file; `None` for findings about the file or project as a whole.
    pub span: Option<Span>,
    /// What is wrong and how to fix it.
    pub message: String,
    pub fix: Option<Fix>,
}

impl Finding {
    /// A finding at the rule's default severity (the settings may change it later).
    pub fn new(rule: &'static str, span: Option<Span>, message: impl Into<String>) -> Self {
        Finding {
            rule,
            severity: super::rule_by_id(rule)
                .map_or(Severity::Error, |known| known.default_severity),
            span,
            message: message.into(),
            fix: None,
        }
    }

    /// The same finding with a fix made of text edits.
    pub fn with_edits(mut self, title: impl Into<String>, edits: Vec<TextEdit>) -> Self {
        self.fix = Some(Fix {
            title: title.into(),
            action: FixAction::Edits(edits),
        });
        self
    }
}

impl Finding {
    /// The same finding, fixed by syncing the notebook's paired files.
    pub fn with_sync_fix(mut self) -> Self {
        self.fix = Some(Fix {
            title: "Sync the paired files (jellycell-lsp sync)".into(),
            action: FixAction::SyncPairedFiles,
        });
        self
    }
}

impl TextEdit {
    pub fn new(span: Span, replacement: impl Into<String>) -> Self {
        TextEdit {
            span,
            replacement: replacement.into(),
        }
    }
}

/// Applies non-overlapping edits to `text`. Edits that overlap an earlier one, or that
/// fall outside the text or inside a character, are skipped (and counted in the result),
/// so a bad fix can never corrupt a file.
pub fn apply_edits(text: &str, edits: &[TextEdit]) -> (String, usize) {
    let mut sorted: Vec<&TextEdit> = edits.iter().collect();
    sorted.sort_by_key(|edit| (edit.span.start, edit.span.end));
    let mut out = String::with_capacity(text.len());
    let mut cursor = 0;
    let mut skipped = 0;
    for edit in sorted {
        let Span { start, end } = edit.span;
        let fits = start >= cursor
            && end <= text.len()
            && text.is_char_boundary(start)
            && text.is_char_boundary(end);
        if !fits {
            skipped += 1;
            continue;
        }
        out.push_str(&text[cursor..start]);
        out.push_str(&edit.replacement);
        cursor = end;
    }
    out.push_str(&text[cursor..]);
    (out, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(start: usize, end: usize, replacement: &str) -> TextEdit {
        TextEdit {
            span: Span::new(start, end),
            replacement: replacement.into(),
        }
    }

    #[test]
    fn applies_edits_in_any_order() {
        let (out, skipped) = apply_edits("abcdef", &[edit(4, 5, "E"), edit(0, 1, "A")]);
        assert_eq!((out.as_str(), skipped), ("AbcdEf", 0));
    }

    #[test]
    fn skips_overlapping_and_out_of_bounds_edits() {
        let (out, skipped) = apply_edits(
            "abcdef",
            &[edit(0, 3, "X"), edit(2, 4, "Y"), edit(5, 99, "Z")],
        );
        assert_eq!((out.as_str(), skipped), ("Xdef", 2));
    }

    #[test]
    fn skips_edits_that_split_a_character() {
        let (out, skipped) = apply_edits("é", &[edit(1, 2, "x")]);
        assert_eq!((out.as_str(), skipped), ("é", 1));
    }
}

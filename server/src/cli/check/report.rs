//! The check report that every output format prints: findings located by 1-based line
//! and column, sorted by path and position, plus the summary counts.

use std::path::Path;

use super::facts_cache::StoredFinding;
use crate::lint::{Finding, Severity};
use crate::text::LineIndex;

/// One finding, located for people and machines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedFinding {
    /// The file as given or found, relative to the current directory when possible.
    pub path: String,
    pub rule: &'static str,
    pub severity: Severity,
    /// 1-based line and character column of the start and end; `None` for findings about
    /// a whole file or directory.
    pub start: Option<(usize, usize)>,
    pub end: Option<(usize, usize)>,
    pub message: String,
    pub fixable: bool,
}

/// Everything `--check` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub findings: Vec<ReportedFinding>,
    /// How many files were checked.
    pub files: usize,
    /// How many findings `--fix` fixed.
    pub fixed: usize,
    /// Whether unsafe fixes count as fixable (`--unsafe-fixes`).
    pub unsafe_fixes: bool,
    /// Findings with a fix that only `--unsafe-fixes` applies (not counted as fixable).
    pub unsafe_fixable: usize,
}

impl CheckReport {
    /// Adds the findings of one file whose text is `text` (empty for directories).
    pub fn add(&mut self, path: &Path, text: &str, findings: &[Finding]) {
        let index = LineIndex::new(text);
        let display = display_path(path);
        for finding in findings {
            let safe = finding.fix.as_ref().is_some_and(|fix| fix.is_safe());
            let fixable = finding.fix.is_some() && (safe || self.unsafe_fixes);
            if finding.fix.is_some() && !fixable {
                self.unsafe_fixable += 1;
            }
            let (start, end) = match finding.span {
                Some(span) => (
                    Some(index.line_column(text, span.start)),
                    Some(index.line_column(text, span.end)),
                ),
                None => (None, None),
            };
            self.findings.push(ReportedFinding {
                path: display.clone(),
                rule: finding.rule,
                severity: finding.severity,
                start,
                end,
                message: finding.message.clone(),
                fixable,
            });
        }
    }

    /// Adds findings already located (by the check cache) with their severity.
    pub fn add_located(
        &mut self,
        path: &Path,
        findings: impl IntoIterator<Item = (StoredFinding, Severity)>,
    ) {
        let display = display_path(path);
        for (finding, severity) in findings {
            self.findings.push(ReportedFinding {
                path: display.clone(),
                rule: finding.rule,
                severity,
                start: finding.start,
                end: finding.end,
                message: finding.message,
                fixable: finding.fixable,
            });
        }
    }

    /// Sorts findings by path, then position (file-level findings first), then rule.
    pub fn sort(&mut self) {
        self.findings
            .sort_by(|a, b| (&a.path, a.start, a.rule).cmp(&(&b.path, b.start, b.rule)));
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|finding| finding.severity == severity)
            .count()
    }

    /// How many files (or directories) have at least one finding.
    pub fn files_with_findings(&self) -> usize {
        let mut paths: Vec<&str> = self.findings.iter().map(|f| f.path.as_str()).collect();
        paths.sort_unstable();
        paths.dedup();
        paths.len()
    }

    pub fn fixable(&self) -> usize {
        self.findings
            .iter()
            .filter(|finding| finding.fixable)
            .count()
    }
}

/// `path` relative to the current directory when it is inside it, else as given.
fn display_path(path: &Path) -> String {
    // Asked once: a whole-project report names hundreds of files.
    static CURRENT_DIR: std::sync::OnceLock<Option<std::path::PathBuf>> =
        std::sync::OnceLock::new();
    CURRENT_DIR
        .get_or_init(|| std::env::current_dir().ok())
        .as_ref()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

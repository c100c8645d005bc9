//! Project-level rules: `layout` (jellycell's: a directory declared in `[paths]` that does
//! not exist; the cache directory is exempt, as in jellycell), `config-invalid` (unknown
//! keys and bad values in `jellycell.toml` and our settings files, unknown rule ids) and
//! `config-deprecated` (our settings still in `jellycell.toml`).

use std::path::PathBuf;

use crate::lint::{Finding, Fix, FixAction, LintSettings};
use crate::project::{CONFIG_INVALID, Project};
use crate::text::Span;

/// Findings about one path of the project that is not a notebook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathFindings {
    pub path: PathBuf,
    /// The file's text when the findings have spans (jellycell.toml), else empty.
    pub text: String,
    pub findings: Vec<Finding>,
}

/// `layout` findings, one per missing declared directory (only for real projects).
pub fn layout(project: &Project) -> Vec<PathFindings> {
    if project.config_path.is_none() {
        return Vec::new();
    }
    let cache = project.cache_dir();
    project
        .declared_roots()
        .into_iter()
        .filter(|root| *root != cache && !root.is_dir())
        .map(|root| {
            let relative = project
                .relative_path(&root)
                .unwrap_or_else(|| root.clone())
                .display()
                .to_string();
            let mut finding = Finding::new(
                "layout",
                None,
                format!("Declared path {relative}/ does not exist; create it or change [paths] in jellycell.toml"),
            );
            finding.fix = Some(Fix {
                title: format!("Create {relative}/"),
                action: FixAction::CreateDirectory(root.clone()),
            });
            PathFindings {
                path: root,
                text: String::new(),
                findings: vec![finding],
            }
        })
        .collect()
}

/// `config-invalid` and `config-deprecated` findings on `jellycell.toml` and on our own
/// settings files (`jellycell-lsp.toml`, `pyproject.toml`), one entry per file.
pub fn config(project: &Project, settings: &LintSettings) -> Vec<PathFindings> {
    let Some(config_path) = project.config_path.clone() else {
        return Vec::new();
    };
    let mut files: Vec<PathFindings> = Vec::new();
    let file_for = |files: &mut Vec<PathFindings>, path: &PathBuf| -> usize {
        if let Some(index) = files.iter().position(|file| &file.path == path) {
            return index;
        }
        files.push(PathFindings {
            path: path.clone(),
            text: std::fs::read_to_string(path).unwrap_or_default(),
            findings: Vec::new(),
        });
        files.len() - 1
    };
    file_for(&mut files, &config_path);
    for problem in &project.problems {
        let index = file_for(&mut files, &problem.path);
        let code = crate::lint::rule_by_id(problem.code).map_or(CONFIG_INVALID, |rule| rule.id);
        files[index].findings.push(Finding::new(
            code,
            Some(problem.span),
            problem.message.clone(),
        ));
    }
    for unknown in settings.unknown_rule_ids() {
        let quoted = format!("\"{unknown}\"");
        let place = files.iter().position(|file| file.text.contains(&quoted));
        let index = place.unwrap_or(0);
        let at = files[index]
            .text
            .find(&quoted)
            .map_or(Span::at(0), |start| Span::new(start, start + quoted.len()));
        files[index].findings.push(Finding::new(
            CONFIG_INVALID,
            Some(at),
            unknown_rule_message(&unknown),
        ));
    }
    files.retain(|file| !file.findings.is_empty());
    files
}

/// `"x" is not a lint rule; did you mean "y"?`
pub fn unknown_rule_message(unknown: &str) -> String {
    let known = crate::lint::RULES.iter().map(|rule| rule.id);
    format!(
        "\"{unknown}\" is not a lint rule{}",
        crate::text::suggest::did_you_mean(unknown, known)
    )
}

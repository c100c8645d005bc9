//! Project-level rules: `layout` (jellycell's: a directory declared in `[paths]` that does
//! not exist; the cache directory is exempt, as in jellycell) and `config-invalid`
//! (unknown keys and bad values in `jellycell.toml`, and unknown rule ids in `[lint]`).

use std::path::PathBuf;

use crate::lint::{Finding, Fix, FixAction, LintSettings};
use crate::project::Project;
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

/// `config-invalid` findings on `jellycell.toml`.
pub fn config(project: &Project, settings: &LintSettings) -> Option<PathFindings> {
    let path = project.config_path.clone()?;
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut findings: Vec<Finding> = project
        .problems
        .iter()
        .map(|problem| {
            Finding::new(
                "config-invalid",
                Some(problem.span),
                problem.message.clone(),
            )
        })
        .collect();
    for unknown in settings.unknown_rule_ids() {
        let at = text
            .find(&format!("\"{unknown}\""))
            .map_or(Span::at(0), |start| {
                Span::new(start, start + unknown.len() + 2)
            });
        let known = crate::lint::RULES.iter().map(|rule| rule.id);
        findings.push(Finding::new(
            "config-invalid",
            Some(at),
            format!(
                "\"{unknown}\" is not a lint rule{}",
                crate::text::suggest::did_you_mean(&unknown, known)
            ),
        ));
    }
    (!findings.is_empty()).then_some(PathFindings {
        path,
        text,
        findings,
    })
}

//! Running the rules: `check_file` for one notebook of a workspace (what the editor shows
//! for a buffer), `check_project_paths` for the project's own files and folders, and
//! `check_output_sizes` for cached outputs, with the settings applied: rules that are off
//! are dropped, severities overridden.

use crate::analysis::workspace::{NotebookFile, Workspace};
use crate::lint::rules::artifact_paths::ArtifactsFolder;
use crate::lint::rules::{self, project::PathFindings};
use crate::lint::{Finding, LintSettings};
use crate::project::Project;

/// The findings of one notebook of `workspace`, sorted by position.
pub fn check_file(
    workspace: &Workspace,
    file_index: usize,
    settings: &LintSettings,
) -> Vec<Finding> {
    check_file_with(
        workspace,
        file_index,
        settings,
        rules::names::findings,
        cell_rules,
    )
}

/// `python-syntax-error` and `enforce-artifact-paths` (when given the folder) of `file`.
pub fn cell_rules(file: &NotebookFile, artifacts: Option<ArtifactsFolder>) -> Vec<Finding> {
    let mut findings = rules::syntax::findings(file);
    if let Some(artifacts) = artifacts {
        findings.extend(artifacts.findings(file));
    }
    findings
}

/// [`check_file`] with the `undefined-name` / `use-before-define` findings from `names`
/// and those of the rules of one cell each from `cells` ([`cell_rules`]): the editor keeps
/// them per cell across edits (`rules::names_memo`, `rules::cell_rules_memo`).
pub fn check_file_with(
    workspace: &Workspace,
    file_index: usize,
    settings: &LintSettings,
    names: impl FnOnce(&NotebookFile) -> Vec<Finding>,
    cells: impl FnOnce(&NotebookFile, Option<ArtifactsFolder>) -> Vec<Finding>,
) -> Vec<Finding> {
    let Some(file) = workspace.files.get(file_index) else {
        return Vec::new();
    };
    let mut findings = rules::reader::findings(file);
    let artifacts = settings
        .enforce_artifact_paths
        .then(|| ArtifactsFolder::new(&workspace.project.config.paths.artifacts));
    findings.extend(cells(file, artifacts));
    findings.extend(rules::graph::findings(workspace, file_index));
    if settings.severity_of("undefined-name").is_some()
        || settings.severity_of("use-before-define").is_some()
    {
        findings.extend(names(file));
    }
    if settings.severity_of("paired-out-of-sync").is_some() {
        findings.extend(rules::paired::findings(file));
    }
    if settings.enforce_declared_deps {
        findings.extend(rules::declared_deps::findings(workspace, file_index));
    }
    let mut findings = apply_settings(findings, settings);
    findings.sort_by_key(|finding| {
        (
            finding.span.map(|span| (span.start, span.end)),
            finding.rule,
        )
    });
    findings
}

/// `warn-on-large-cell-output` for notebook `file_index`, given the total size of each
/// cell's cached outputs for its current key (`cache::output_sizes`).
pub fn check_output_sizes(
    workspace: &Workspace,
    file_index: usize,
    sizes: &[(usize, u64)],
    settings: &LintSettings,
) -> Vec<Finding> {
    let lint = &workspace.project.config.lint;
    let (Some(file), Some(limit)) = (workspace.files.get(file_index), lint.large_output_limit())
    else {
        return Vec::new();
    };
    let findings =
        rules::large_output::findings(file, sizes, limit, &lint.warn_on_large_cell_output);
    apply_settings(findings, settings)
}

/// `missing-import` and `jc-without-jellycell` for a notebook summed up in `names`, given
/// what the kernel's environment lacks (probed by the caller, once per environment).
pub fn check_environment(
    names: &rules::environment::NotebookNames,
    facts: &rules::environment::EnvironmentFacts,
    settings: &LintSettings,
) -> Vec<Finding> {
    apply_settings(rules::environment::findings(names, facts), settings)
}

/// Findings about the project's own files and directories (`layout`, `config-invalid`),
/// the part of a whole-project check that is not about one notebook.
pub fn check_project_paths(project: &Project, settings: &LintSettings) -> Vec<PathFindings> {
    let mut paths = rules::project::layout(project);
    paths.extend(rules::project::config(project, settings));
    for path in &mut paths {
        path.findings = apply_settings(std::mem::take(&mut path.findings), settings);
    }
    paths.retain(|path| !path.findings.is_empty());
    paths
}

/// The config findings alone (per config file): what a check of single notebooks still
/// reports, since every notebook is checked under that config.
pub fn check_config(project: &Project, settings: &LintSettings) -> Vec<PathFindings> {
    let mut files = rules::project::config(project, settings);
    for file in &mut files {
        file.findings = apply_settings(std::mem::take(&mut file.findings), settings);
    }
    files.retain(|file| !file.findings.is_empty());
    files
}

fn apply_settings(findings: Vec<Finding>, settings: &LintSettings) -> Vec<Finding> {
    findings
        .into_iter()
        .filter_map(|mut finding| {
            finding.severity = settings.severity_of(finding.rule)?;
            Some(finding)
        })
        .collect()
}

//! `jellycell-lsp --check [PATH...]`: lint notebooks for CI and pre-commit.
//!
//! No path checks the project around the current directory (or, outside any project,
//! the notebooks in and below it). A path may be a notebook or
//! a folder; each is checked inside its project (found by walking up to
//! `jellycell.toml`), and the project's other notebooks still feed the graph so names
//! and producers resolve. Project-level rules (`layout`, `config-invalid`) run when a
//! whole project is checked. `--fix` applies safe fixes (with `--unsafe-fixes`, also the
//! folder creations of `layout`), re-checks, and repeats until nothing more can be fixed;
//! then the remaining findings are reported. An unknown rule id in `--select`,
//! `--ignore` or the settings is a usage error. Unchanged
//! notebooks are not analysed again: their facts and findings come from the check cache
//! (`cached`, `facts_cache`) unless `--no-cache` is given: that (and a check outside a
//! project) is the same check with an empty cache that reads and writes nothing.
//! Exit codes: 0 no error-severity finding, 1 at least one, 2 usage or internal failure.

mod cached;
mod codec;
mod environment;
mod facts_cache;
mod github;
pub(super) use github::{escape_data, escape_property};
mod human;
mod json;
mod report;
mod sarif;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use super::files::{same_file, write_atomically};
use super::{EXIT_USAGE, messages};
use crate::analysis::workspace::{LoadError, Workspace, looks_like_notebook, notebook_format_of};
use crate::analysis::workspace_subset::OtherNames;
use crate::format::NotebookFormat;
use crate::lint::{self, Finding, FixAction, LintSettings, Severity};
use crate::project::Project;
use crate::project::read::read_text_file;
use crate::project::walk::files_under;
use report::CheckReport;

/// How `--check` prints its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// `path:line:col: rule message` and a summary (colour on a terminal).
    #[default]
    Human,
    /// One JSON object, schema_version 1.
    Json,
    /// GitHub Actions annotations.
    Github,
    /// SARIF 2.1.0.
    Sarif,
}

/// What the command line asked for.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    pub paths: Vec<PathBuf>,
    pub format: OutputFormat,
    pub fix: bool,
    /// With `fix`: also apply fixes that are not safe (creating folders).
    pub unsafe_fixes: bool,
    pub select: Option<Vec<String>>,
    pub ignore: Vec<String>,
    /// Neither read nor write the check cache.
    pub no_cache: bool,
}

/// At most this many fix-and-recheck rounds (a fix can expose a new finding).
const FIX_ROUNDS: usize = 5;

pub fn run(options: &CheckOptions) -> i32 {
    let targets = match group_by_project(&options.paths) {
        Ok(targets) => targets,
        Err(message) => {
            messages::error(&message);
            return EXIT_USAGE;
        }
    };
    if let Some(message) = unknown_rule_ids(options, &targets) {
        messages::error(&message);
        return EXIT_USAGE;
    }
    let mut report = CheckReport {
        unsafe_fixes: options.unsafe_fixes,
        ..CheckReport::default()
    };
    let mut failed = false;
    for target in targets.values() {
        let settings = LintSettings::from_config(&target.project.config.lint)
            .with_command_line(options.select.clone(), &options.ignore);
        let remembered = target.project.config_path.is_some() && !options.no_cache;
        let early_environment =
            environment::EarlyEnvironment::start(&target.project, &settings, remembered);
        if options.fix {
            match fix_until_stable(target, &settings, options.unsafe_fixes) {
                Ok(fixed) => report.fixed += fixed,
                Err(message) => {
                    messages::error(&message);
                    failed = true;
                }
            }
        }
        // Outside a jellycell project there is no `.jellycell/` to keep a cache in (one
        // per folder of notebooks would litter a repository).
        let cacheable = target.project.config_path.is_some();
        let persist = if options.no_cache || !cacheable {
            cached::Persist::No
        } else {
            cached::Persist::Yes
        };
        let summaries = environment::AnalysedSummaries::when_wanted(&target.project, &settings);
        let checked =
            cached::check_target(target, &settings, &mut report, persist, summaries.as_ref());
        failed |= !checked;
        // The hints read the reported notebooks; without them the project is not walked
        // a second time.
        let reported = target.notebooks.clone().unwrap_or_else(|| {
            if environment::hints_wanted(&target.project, &settings) {
                crate::analysis::workspace::discover_notebooks(&target.project)
            } else {
                Vec::new()
            }
        });
        environment::add_hints(
            &target.project,
            &reported,
            &settings,
            cacheable && !options.no_cache,
            early_environment,
            summaries,
            &mut report,
        );
        if !target.whole_project {
            for config in lint::check_config(&target.project, &settings) {
                report.add(&config.path, &config.text, &config.findings);
            }
        }
    }
    report.sort();
    let output = match options.format {
        OutputFormat::Human => {
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            human::format(&report, colour)
        }
        OutputFormat::Json => json::format(&report),
        OutputFormat::Github => github::format(&report),
        OutputFormat::Sarif => sarif::format(&report),
    };
    print!("{output}");
    if failed {
        EXIT_USAGE
    } else if report.count(Severity::Error) > 0 {
        1
    } else {
        0
    }
}

/// A usage error for a rule id that no rule has, on the command line or in a project's
/// settings, naming the closest rule.
fn unknown_rule_ids(options: &CheckOptions, targets: &BTreeMap<PathBuf, Target>) -> Option<String> {
    let given = LintSettings::default().with_command_line(options.select.clone(), &options.ignore);
    if let Some(unknown) = given.unknown_rule_ids().first() {
        let flag = if options.select.iter().flatten().any(|id| id == unknown) {
            "--select"
        } else {
            "--ignore"
        };
        return Some(format!(
            "{flag}: {}",
            lint::rules::project::unknown_rule_message(unknown)
        ));
    }
    for target in targets.values() {
        let configured = LintSettings::from_config(&target.project.config.lint);
        if let Some(unknown) = configured.unknown_rule_ids().first() {
            let quoted = format!("\"{unknown}\"");
            let file = [
                target.project.root.join(crate::project::TOOL_CONFIG_FILE),
                target.project.root.join("pyproject.toml"),
            ]
            .into_iter()
            .chain(target.project.config_path.clone())
            .find(|file| std::fs::read_to_string(file).is_ok_and(|text| text.contains(&quoted)))
            .unwrap_or_else(|| target.project.root.join(crate::project::CONFIG_FILE));
            return Some(format!(
                "{}: {}",
                file.display(),
                lint::rules::project::unknown_rule_message(unknown)
            ));
        }
    }
    None
}

/// One project to check: which of its notebooks to report on, and whether the project
/// itself (its config and layout) is checked too.
struct Target {
    project: Project,
    /// Notebooks to report on; `None`: every notebook of the project.
    notebooks: Option<Vec<PathBuf>>,
    whole_project: bool,
}

fn group_by_project(paths: &[PathBuf]) -> Result<BTreeMap<PathBuf, Target>, String> {
    let mut targets: BTreeMap<PathBuf, Target> = BTreeMap::new();
    if paths.is_empty() {
        let cwd =
            std::env::current_dir().map_err(|error| format!("no current directory: {error}"))?;
        let project = Project::discover(&cwd);
        if project.config_path.is_none() {
            // No project: check the notebooks in and below the current directory.
            return group_by_project(&[cwd]);
        }
        targets.insert(
            project.root.clone(),
            Target {
                project,
                notebooks: None,
                whole_project: true,
            },
        );
        return Ok(targets);
    }
    for path in paths {
        let absolute =
            std::path::absolute(path).map_err(|error| format!("{}: {error}", path.display()))?;
        if !absolute.exists() {
            return Err(format!("{}: no such file or directory", path.display()));
        }
        let start = if absolute.is_dir() {
            absolute.clone()
        } else {
            absolute.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        let project = Project::discover(&start);
        let is_project_root =
            absolute.is_dir() && absolute == project.root && project.config_path.is_some();
        let target = targets
            .entry(project.root.clone())
            .or_insert_with(|| Target {
                project,
                notebooks: Some(Vec::new()),
                whole_project: false,
            });
        if is_project_root {
            target.notebooks = None;
            target.whole_project = true;
        } else if let Some(notebooks) = &mut target.notebooks {
            if absolute.is_dir() {
                let inside_notebooks = absolute.starts_with(target.project.notebooks_dir());
                collect_notebooks(&absolute, &target.project, inside_notebooks, notebooks);
            } else if notebook_format_of(&absolute) == Some(NotebookFormat::Ipynb) {
                return Err(format!(
                    "{}: --check reads .py and .md notebooks; an .ipynb is checked through the text notebook it is paired with (paired-out-of-sync)",
                    path.display()
                ));
            } else if notebook_format_of(&absolute).is_some() {
                notebooks.push(absolute);
            } else {
                return Err(format!(
                    "{}: not a notebook; expected a .py (py:percent) or .md (MyST) file",
                    path.display()
                ));
            }
        }
    }
    // A notebook named twice (`--check nb.py nb.py`, a folder and a file in it) is
    // checked and reported once.
    for target in targets.values_mut() {
        if let Some(notebooks) = &mut target.notebooks {
            let mut seen = std::collections::HashSet::new();
            notebooks.retain(|path| seen.insert(path.clone()));
        }
    }
    Ok(targets)
}

/// Notebook files under `folder`: every `.py` inside the notebooks directory, else those
/// that look like notebooks (`# %%` markers, `{code-cell}` blocks). Symlinks are followed
/// only inside the project (or `folder`), each folder once (`project::walk`).
pub(super) fn collect_notebooks(
    folder: &Path,
    project: &Project,
    inside_notebooks: bool,
    found: &mut Vec<PathBuf>,
) {
    let limit = project.config.lint.max_file_bytes();
    for path in files_under(folder, &project.root) {
        let counts = match notebook_format_of(&path) {
            Some(NotebookFormat::Percent) if inside_notebooks => true,
            Some(NotebookFormat::Percent | NotebookFormat::Myst) => {
                read_text_file(&path, limit).is_ok_and(|text| looks_like_notebook(&path, &text))
            }
            _ => false,
        };
        if counts {
            found.push(path);
        }
    }
}

/// The target's project, with only the reported notebooks fully analysed; for some of
/// its notebooks, only the others that can change their graph.
fn load(target: &Target) -> (Workspace, Vec<LoadError>) {
    match &target.notebooks {
        Some(reported) => {
            let names = OtherNames::WhenSuggesting;
            Workspace::load_relevant(target.project.clone(), reported, names)
        }
        None => Workspace::load(target.project.clone(), &[]),
    }
}

/// Which files of the workspace to report on.
fn reported_files(workspace: &Workspace, target: &Target) -> Vec<usize> {
    match &target.notebooks {
        None => (0..workspace.files.len()).collect(),
        Some(paths) => workspace.file_indices(paths),
    }
}

/// A notebook that could not be read: an `unreadable-file` finding on it when the check
/// reports on it. It never stops the check of the others (nor feeds the graph).
fn report_unreadable(
    error: &LoadError,
    target: &Target,
    settings: &LintSettings,
    report: &mut CheckReport,
) {
    let reported = target
        .notebooks
        .as_ref()
        .is_none_or(|notebooks| notebooks.contains(&error.path));
    let Some(severity) = settings.severity_of("unreadable-file") else {
        return;
    };
    if !reported {
        return;
    }
    let mut finding = Finding::new(
        "unreadable-file",
        Some(crate::text::Span::at(error.offset)),
        error.problem.clone(),
    );
    finding.severity = severity;
    report.add(&error.path, &error.lossy_text, &[finding]);
    report.files += 1;
}

/// Applies every safe fix, re-checks, and repeats while fixes change something. Returns
/// how many fixes were applied.
fn fix_until_stable(
    target: &Target,
    settings: &LintSettings,
    unsafe_fixes: bool,
) -> Result<usize, String> {
    let mut fixed = 0;
    for _ in 0..FIX_ROUNDS {
        let (workspace, _) = load(target);
        let mut applied_this_round = 0;
        for index in reported_files(&workspace, target) {
            let file = &workspace.files[index];
            let findings = lint::check_file(&workspace, index, settings);
            if findings.iter().any(is_sync_fix) {
                let (applied, rewrote_notebook) = sync_fix(&file.path);
                applied_this_round += applied;
                // The text was rewritten from the .ipynb: its edits are found next round.
                if rewrote_notebook {
                    continue;
                }
            }
            let (edits, count) = collect_edits(&findings);
            if count == 0 {
                continue;
            }
            let (fixed_text, skipped) = lint::apply_edits(&file.text, &edits);
            if fixed_text != file.text {
                write_atomically(&file.path, &fixed_text)?;
                applied_this_round += count.saturating_sub(skipped);
            }
        }
        // Creating folders is not a safe fix: a misspelt `[paths]` entry would get a folder.
        if target.whole_project && unsafe_fixes {
            for path in lint::check_project_paths(&workspace.project, settings) {
                for finding in &path.findings {
                    if let Some(FixAction::CreateDirectory(directory)) =
                        finding.fix.as_ref().map(|fix| &fix.action)
                    {
                        std::fs::create_dir_all(directory).map_err(|error| {
                            format!("cannot create {}: {error}", directory.display())
                        })?;
                        applied_this_round += 1;
                    }
                }
            }
        }
        fixed += applied_this_round;
        if applied_this_round == 0 {
            break;
        }
    }
    Ok(fixed)
}

fn is_sync_fix(finding: &Finding) -> bool {
    finding
        .fix
        .as_ref()
        .is_some_and(|fix| fix.action == FixAction::SyncPairedFiles)
}

/// `paired-out-of-sync`'s fix: `jellycell-lsp sync` of the notebook. Returns 1 when it
/// wrote a file (a refusal is said and leaves the finding), and whether the notebook
/// itself was rewritten.
fn sync_fix(path: &Path) -> (usize, bool) {
    match super::sync::sync_notebook(path) {
        Some(super::sync::Outcome::Written { source, written }) => {
            for written in &written {
                messages::note(&format!(
                    "wrote {} from {}",
                    written.display(),
                    source.display()
                ));
            }
            let rewrote = written.iter().any(|written| same_file(written, path));
            (usize::from(!written.is_empty()), rewrote)
        }
        Some(super::sync::Outcome::Refused { message, .. }) => {
            messages::error(&message);
            (0, false)
        }
        Some(super::sync::Outcome::UpToDate { .. }) | None => (0, false),
    }
}

/// The text edits of every fixable finding, and how many findings they fix.
fn collect_edits(findings: &[Finding]) -> (Vec<lint::TextEdit>, usize) {
    let mut edits = Vec::new();
    let mut count = 0;
    for finding in findings {
        if let Some(FixAction::Edits(fix_edits)) = finding.fix.as_ref().map(|fix| &fix.action) {
            edits.extend(fix_edits.iter().cloned());
            count += 1;
        }
    }
    (edits, count)
}

/// Deletes `--check`'s cache of the project (`cache clear` does it with the outputs).
/// True when there was one.
pub fn clear_check_cache(project: &Project) -> std::io::Result<bool> {
    let file = facts_cache::CheckCache::file_in(&project.lsp_cache_dir());
    let Some(dir) = file.parent() else {
        return Ok(false);
    };
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}

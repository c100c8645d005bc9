//! `jellycell-lsp sync [PATHS] [--json]`: what `jupytext --sync` does, without Python.
//! Every notebook with a jupytext `formats` pairing (`pairs`) has its paired files brought
//! up to date from the most recently changed one (`engine`), refused when more than one
//! changed since the last sync (`record`, else the last commit: `committed`). PATHS are
//! notebooks (`.py`, `.md`, `.ipynb`) or folders; none means the project's notebooks (the
//! current folder's without a project).
//! `--check --fix` mends `paired-out-of-sync` with [`sync_notebook`].
//! Exit codes: 0 synced or nothing to do, 1 a pairing refused or failed, 2 usage.

mod committed;
mod engine;
mod pairs;
mod record;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{EXIT_USAGE, messages};
use crate::project::Project;
use crate::project::read::read_text_file;
use crate::project::walk::files_under;

pub(crate) use engine::Outcome;
use pairs::{Pairing, notebook_extension, pairing_of};

#[derive(Debug, clap::Args)]
pub(super) struct SyncArgs {
    /// Notebooks (.py, .md, .ipynb) or folders to sync. Default: the project's notebooks
    /// (without a jellycell.toml, those in and below the current folder).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Print a JSON report `{"schema_version":1,"notebooks":[…]}` on stdout.
    #[arg(long)]
    json: bool,
}

pub(super) fn run(args: &SyncArgs) -> i32 {
    let notebooks = match notebooks_to_sync(&args.paths) {
        Ok(notebooks) => notebooks,
        Err(message) => {
            messages::error(&message);
            return EXIT_USAGE;
        }
    };
    let mut done: Vec<PathBuf> = Vec::new();
    let mut reports = Vec::new();
    let mut failed = false;
    for notebook in &notebooks {
        if done.iter().any(|path| same_path(path, notebook)) {
            continue;
        }
        let project = Project::discover(notebook);
        if let Err(message) = super::config_gate::require_valid_config(&project) {
            messages::error(&message);
            return EXIT_USAGE;
        }
        let (files, outcome) = sync_one(&project, notebook);
        done.extend(files);
        let Some(outcome) = outcome else {
            continue;
        };
        failed |= matches!(outcome, Outcome::Refused { .. });
        say(&outcome);
        reports.push(report(&outcome));
    }
    if args.json {
        println!(
            "{}",
            json!({"schema_version": 1, "notebooks": Value::Array(reports)})
        );
    }
    i32::from(failed)
}

/// Syncs the pairing of the notebook at `path` (`--check --fix` for `paired-out-of-sync`).
/// `None` when it is not paired.
pub(crate) fn sync_notebook(path: &Path) -> Option<Outcome> {
    let path = shown(path);
    sync_one(&Project::discover(&path), &path).1
}

/// `path` relative to the current folder when it lies below it, so that messages and the
/// JSON report name files as the user does.
fn shown(path: &Path) -> PathBuf {
    let Ok(cwd) = std::env::current_dir() else {
        return path.to_path_buf();
    };
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    absolute
        .strip_prefix(&cwd)
        .map_or_else(|_| path.to_path_buf(), Path::to_path_buf)
}

/// The files of `path`'s pairing and what syncing them did (`None`: not paired).
fn sync_one(project: &Project, path: &Path) -> (Vec<PathBuf>, Option<Outcome>) {
    let refused = |message: String| Outcome::Refused {
        source: path.to_path_buf(),
        message,
    };
    let text = match read_text_file(path, project.config.lint.max_file_bytes()) {
        Ok(text) => text,
        Err(error) => return (vec![path.to_path_buf()], Some(refused(error.message(path)))),
    };
    match pairing_of(path, &text) {
        Pairing::NotPaired => (vec![path.to_path_buf()], None),
        Pairing::Unsupported(why) => (
            vec![path.to_path_buf()],
            Some(refused(format!("{}: not synced: {why}", path.display()))),
        ),
        Pairing::Paired(files) => {
            let outcome = engine::sync_pair(project, &files, path);
            (
                files.into_iter().map(|file| file.path).collect(),
                Some(outcome),
            )
        }
    }
}

/// The notebooks named by `paths` (folders walked), or the project's.
fn notebooks_to_sync(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    if paths.is_empty() {
        let cwd = std::env::current_dir()
            .map_err(|error| format!("cannot read the current folder: {error}"))?;
        let project = Project::discover(&cwd);
        let folder = if project.config_path.is_some() {
            project.notebooks_dir()
        } else {
            cwd
        };
        return Ok(notebooks_under(&folder, &project.root)
            .iter()
            .map(|path| shown(path))
            .collect());
    }
    let mut notebooks = Vec::new();
    for path in paths {
        let metadata =
            std::fs::metadata(path).map_err(|error| format!("{}: {error}", path.display()))?;
        if metadata.is_dir() {
            let project = Project::discover(path);
            notebooks.extend(notebooks_under(path, &project.root));
        } else if notebook_extension(path).is_some() {
            notebooks.push(path.clone());
        } else {
            return Err(format!(
                "{}: not a notebook; sync reads .py, .md and .ipynb files (or folders of them)",
                path.display()
            ));
        }
    }
    Ok(notebooks)
}

/// Text notebooks first, so that a pairing is reported under its text file.
fn notebooks_under(folder: &Path, root: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = files_under(folder, root)
        .into_iter()
        .filter(|path| notebook_extension(path).is_some())
        .collect();
    found.sort_by_key(|path| (notebook_extension(path) == Some(".ipynb"), path.clone()));
    found
}

fn same_path(a: &Path, b: &Path) -> bool {
    let absolute = |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    absolute(a) == absolute(b)
}

/// What was done, for people (stderr).
fn say(outcome: &Outcome) {
    match outcome {
        Outcome::UpToDate { source } => {
            messages::note(&format!("{}: in sync", source.display()));
        }
        Outcome::Written { source, written } => {
            for path in written {
                messages::note(&format!(
                    "wrote {} from {}",
                    path.display(),
                    source.display()
                ));
            }
        }
        Outcome::Refused { message, .. } => messages::error(message),
    }
}

/// What was done, for machines (`--json`).
fn report(outcome: &Outcome) -> Value {
    let shown = |path: &PathBuf| Value::String(path.display().to_string());
    match outcome {
        Outcome::UpToDate { source } => {
            json!({"source": shown(source), "status": "in-sync", "written": []})
        }
        Outcome::Written { source, written } => json!({
            "source": shown(source),
            "status": if written.is_empty() { "in-sync" } else { "written" },
            "written": written.iter().map(shown).collect::<Vec<_>>(),
        }),
        Outcome::Refused { source, message } => json!({
            "source": shown(source),
            "status": "refused",
            "written": [],
            "message": message,
        }),
    }
}

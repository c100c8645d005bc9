//! `jellycell-lsp diff OLD NEW [--stat] [--format text|json] [--volatile]`: a cell-level
//! diff of two notebooks with their outputs. Either side is a path (`.py`, `.md`,
//! `.ipynb`) or a git revision `REV:path` read with `git show`. With git's seven external
//! diff arguments (`path old-file old-hex old-mode new-file new-hex new-mode`) it is a
//! git diff driver. Exit codes like diff(1): 0 same, 1 different, 2 trouble; as a git
//! driver 0 unless trouble (git treats any other code as a failure).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::ValueEnum;

use super::{EXIT_USAGE, messages};
use crate::analysis::workspace::notebook_format_of;
use crate::format::{Notebook, NotebookFormat};
use crate::review::{self, DiffOptions, Side};

#[path = "diff_text.rs"]
mod text;

#[derive(Debug, clap::Args)]
pub(super) struct DiffArgs {
    /// OLD and NEW: notebook paths or git revisions `REV:path` (`HEAD~1:notebooks/prep.py`);
    /// or the 7 arguments git gives an external diff driver.
    #[arg(value_name = "SIDE", num_args = 2..=7, required = true)]
    sides: Vec<String>,
    /// How to print the diff.
    #[arg(long, value_enum, default_value_t)]
    format: DiffFormat,
    /// One line per changed cell and a summary, instead of the hunks.
    #[arg(long)]
    stat: bool,
    /// Also compare execution counts and Jupyter's timing metadata.
    #[arg(long)]
    volatile: bool,
    /// Colour: `auto` (on a terminal, unless NO_COLOR is set), `always`, `never`.
    #[arg(long, value_enum, default_value_t)]
    color: ColorChoice,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub(super) enum DiffFormat {
    /// For people: cell headers and `-`/`+` lines.
    #[default]
    Text,
    /// nbdime's ops with `schema_version`.
    Json,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub(super) enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

pub(super) fn run(args: &DiffArgs) -> i32 {
    let driver = args.sides.len() == 7;
    if !driver && args.sides.len() != 2 {
        messages::error(&format!(
            "diff takes OLD and NEW (or git's 7 external diff arguments), not {} arguments",
            args.sides.len()
        ));
        return EXIT_USAGE;
    }
    let loaded = if driver {
        load_driver_sides(&args.sides)
    } else {
        load_side(&args.sides[0]).and_then(|old| {
            let new = load_side(&args.sides[1])?;
            Ok((old, new))
        })
    };
    let (old, new) = match loaded {
        Ok(sides) => sides,
        Err(message) => {
            messages::error(&message);
            return EXIT_USAGE;
        }
    };
    let options = DiffOptions {
        volatile: args.volatile,
    };
    let diff = review::diff_notebooks(&old, &new, options);
    let printed = match args.format {
        DiffFormat::Json => {
            format!("{}\n", review::ops::document(&old, &new, &diff, options))
        }
        DiffFormat::Text => {
            let colour = match args.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            };
            text::render(&old, &new, &diff, args.stat, colour)
        }
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout.write_all(printed.as_bytes())
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        messages::error(&format!("cannot write to stdout: {error}"));
        return EXIT_USAGE;
    }
    match (driver, diff.is_empty()) {
        (true, _) | (false, true) => 0,
        (false, false) => 1,
    }
}

/// git's `path old-file old-hex old-mode new-file new-hex new-mode`: both files are read
/// as the notebook at `path` (git's temporary file names say nothing about the format).
fn load_driver_sides(args: &[String]) -> Result<(Side, Side), String> {
    let path = PathBuf::from(&args[0]);
    let format = notebook_format_of(&path).ok_or_else(|| unknown_format(&path))?;
    let read = |file: &str, label: String| -> Result<Side, String> {
        if file == "/dev/null" {
            return Ok(Side::without_outputs(label, Notebook::empty(format)));
        }
        let text = std::fs::read_to_string(file)
            .map_err(|error| format!("{file}: cannot read: {error}"))?;
        Ok(side_for(label, &path, text, format))
    };
    let old = read(&args[1], format!("a/{}", args[0]))?;
    let new = read(&args[4], format!("b/{}", args[0]))?;
    Ok((old, new))
}

/// A path on disk, else `REV:path` through `git show`.
fn load_side(spec: &str) -> Result<Side, String> {
    let as_path = Path::new(spec);
    if as_path.is_file() {
        let format = notebook_format_of(as_path).ok_or_else(|| unknown_format(as_path))?;
        let text = std::fs::read_to_string(as_path)
            .map_err(|error| format!("{spec}: cannot read: {error}"))?;
        return Ok(side_for(spec.to_string(), as_path, text, format));
    }
    let Some((revision, path)) = spec
        .split_once(':')
        .filter(|(revision, _)| !revision.is_empty())
    else {
        return Err(format!(
            "{spec}: no such file; give a notebook path or a git revision like HEAD~1:{spec}"
        ));
    };
    let real_path = if path.starts_with("./") || path.starts_with("../") {
        PathBuf::from(path)
    } else {
        git_toplevel()?.join(path)
    };
    let format = notebook_format_of(&real_path).ok_or_else(|| unknown_format(&real_path))?;
    let output = Command::new("git")
        .args(["show", &format!("{revision}:{path}")])
        .output()
        .map_err(|error| format!("{spec}: cannot run git: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "{spec}: git show failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text = String::from_utf8(output.stdout)
        .map_err(|_| format!("{spec}: the notebook is not UTF-8 text"))?;
    Ok(side_for(spec.to_string(), &real_path, text, format))
}

fn side_for(label: String, path: &Path, text: String, format: NotebookFormat) -> Side {
    let side = Side::load(label, path, text.clone(), format);
    messages::warn_problems(path, &text, &side.notebook.problems);
    side
}

fn git_toplevel() -> Result<PathBuf, String> {
    let output = Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .output()
        .map_err(|error| format!("cannot run git: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "not in a git repository: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(PathBuf::from(
        String::from_utf8_lossy(&output.stdout).trim_end(),
    ))
}

fn unknown_format(path: &Path) -> String {
    format!(
        "{}: unknown notebook format; expected a .py (py:percent), .md (MyST) or .ipynb file",
        path.display()
    )
}

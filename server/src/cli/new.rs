//! `jellycell-lsp new NAME [--project DIR] [--force] [--json]`: a notebook from Python
//! jellycell's template (`notebooks/NAME.py`: a PEP-723 header, a title, a `jc.load`
//! cell and a `jc.step` that depends on it), in the project around the current folder.

use std::path::PathBuf;

use serde_json::json;

use super::{files::write_atomically, messages};
use crate::project::Project;

#[derive(Debug, clap::Args)]
pub(super) struct NewArgs {
    /// The notebook's name, with or without `.py`.
    name: String,
    /// The project root (default: the nearest jellycell.toml above the current folder).
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
    /// Overwrite an existing notebook.
    #[arg(long)]
    force: bool,
    /// Print `{"schema_version":1,"path","name"}` on stdout.
    #[arg(long)]
    json: bool,
}

/// jellycell 1.4.0's template (`cli/commands/new.py`).
const TEMPLATE: &str = r#"# /// script
# requires-python = ">=3.11"
# dependencies = []
# ///

# %% [markdown]
# # {title}
#
# One-paragraph description of what this notebook does.

# %% tags=["jc.load", "name=raw"]
# Load your input data here. Use `jc.load` for files under data/.
raw = None

# %% tags=["jc.step", "name=result", "deps=raw"]
# Transform `raw` into `result`. Declare deps so the cache invalidates correctly.
result = raw
"#;

pub(super) fn run(args: &NewArgs) -> i32 {
    match new(args) {
        Ok(()) => 0,
        Err(message) => {
            if args.json {
                println!("{}", json!({"schema_version": 1, "error": message}));
            }
            messages::error(&message);
            1
        }
    }
}

fn new(args: &NewArgs) -> Result<(), String> {
    let project = match &args.project {
        Some(root) => Project::load(root),
        None => Project::discover(
            &std::env::current_dir().map_err(|error| format!("no current directory: {error}"))?,
        ),
    };
    if project.config_path.is_none() {
        return Err(format!(
            "no jellycell.toml in {} or above; create a project first with `jellycell-lsp init`",
            project.root.display()
        ));
    }
    let stem = args.name.strip_suffix(".py").unwrap_or(&args.name);
    if stem.is_empty() || stem.contains(['/', '\\']) {
        return Err(format!(
            "{:?} is not a notebook name; give a file name such as `analysis`",
            args.name
        ));
    }
    let file_name = format!("{stem}.py");
    let target = project.notebooks_dir().join(&file_name);
    if target.exists() && !args.force {
        return Err(format!(
            "{} exists; pass --force to overwrite it",
            target.display()
        ));
    }
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|error| format!("cannot create {}: {error}", parent.display()))?;
    }
    write_atomically(&target, &TEMPLATE.replace("{title}", &title(stem)))?;
    if args.json {
        println!(
            "{}",
            json!({"schema_version": 1, "path": target.display().to_string(), "name": file_name})
        );
    } else {
        println!("created {}", target.display());
    }
    Ok(())
}

/// jellycell's title: `-` and `_` become spaces, then each word is capitalised.
fn title(stem: &str) -> String {
    stem.replace(['-', '_'], " ")
        .trim()
        .split(' ')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first
                    .to_uppercase()
                    .chain(chars.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::title;

    #[test]
    fn titles_are_written_as_jellycell_writes_them() {
        assert_eq!(title("sales-report_2024"), "Sales Report 2024");
        assert_eq!(title("mIXed"), "Mixed");
    }
}

//! `jellycell-lsp init [PATH] [--name NAME] [--force] [--json]`: a new project, as
//! Python jellycell's `init` makes it: `jellycell.toml` with every section at jellycell
//! 1.4.0's defaults, and `notebooks/`, `data/`, `artifacts/`, `site/`, `manuscripts/`,
//! each with a `.gitkeep`. An existing `jellycell.toml` is kept unless `--force`.

use std::path::PathBuf;

use serde_json::json;

use super::{files::write_atomically, messages};

#[derive(Debug, clap::Args)]
pub(super) struct InitArgs {
    /// The folder to make a project of (created when missing).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// The project name (default: the folder's name).
    #[arg(long)]
    name: Option<String>,
    /// Overwrite an existing jellycell.toml.
    #[arg(long)]
    force: bool,
    /// Print `{"schema_version":1,"path","name","created"}` on stdout.
    #[arg(long)]
    json: bool,
}

/// The folders of a project, in jellycell's order.
const FOLDERS: [&str; 5] = ["notebooks", "data", "artifacts", "site", "manuscripts"];

pub(super) fn run(args: &InitArgs) -> i32 {
    match init(args) {
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

fn init(args: &InitArgs) -> Result<(), String> {
    std::fs::create_dir_all(&args.path)
        .map_err(|error| format!("cannot create {}: {error}", args.path.display()))?;
    let root = std::fs::canonicalize(&args.path)
        .map_err(|error| format!("{}: {error}", args.path.display()))?;
    let config = root.join(crate::project::CONFIG_FILE);
    if config.exists() && !args.force {
        return Err(format!(
            "{} already exists; pass --force to overwrite it",
            config.display()
        ));
    }
    let name = match &args.name {
        Some(name) => name.clone(),
        None => root.file_name().map_or_else(
            || "project".to_string(),
            |name| name.to_string_lossy().into_owned(),
        ),
    };
    write_atomically(&config, &default_config(&name))?;
    let mut created = vec!["jellycell.toml".to_string()];
    for folder in FOLDERS {
        let path = root.join(folder);
        std::fs::create_dir_all(&path)
            .map_err(|error| format!("cannot create {}: {error}", path.display()))?;
        let keep = path.join(".gitkeep");
        if !keep.exists() {
            std::fs::write(&keep, "")
                .map_err(|error| format!("cannot write {}: {error}", keep.display()))?;
        }
        created.push(format!("{folder}/"));
    }
    if args.json {
        println!(
            "{}",
            json!({"schema_version": 1, "path": root.display().to_string(), "name": name, "created": created})
        );
    } else {
        println!(
            "initialized jellycell project {name:?} at {}",
            root.display()
        );
        for item in &created {
            println!("  + {item}");
        }
        println!("next: `jellycell-lsp new analysis` writes notebooks/analysis.py from a template");
    }
    Ok(())
}

/// jellycell 1.4.0's `default_config(name)` as its `init` writes it.
fn default_config(name: &str) -> String {
    let name = toml_edit::Value::from(name).to_string();
    format!(
        r#"[project]
name = {name}

[paths]
notebooks = "notebooks"
data = "data"
artifacts = "artifacts"
site = "site"
manuscripts = "manuscripts"
cache = ".jellycell/cache"

[run]
kernel = "python3"
subprocess = true
timeout_seconds = 600

[viewer]
host = "127.0.0.1"
port = 5179
watch = [
    "notebooks",
    "manuscripts",
    "artifacts",
]

[lint]
enforce_artifact_paths = true
enforce_declared_deps = false
warn_on_large_cell_output = "10MB"

[artifacts]
layout = "flat"
max_committed_size_mb = 50

[journal]
enabled = true
path = "journal.md"
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_config_reads_without_problems() {
        let text = default_config("my \"study\"");
        let (config, problems) =
            crate::project::read_config(&text, std::path::Path::new("jellycell.toml"), "x");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(config.project.name, "my \"study\"");
    }
}

//! `jellycell-lsp cache verify [--fix] [--project DIR] [--json]`: checks every manifest and
//! blob of the store in full (`Store::verify`) and lists what is damaged; `--fix` removes
//! it, so the cells concerned run again. Exit 0 when nothing is damaged (or all of it was
//! removed), 1 when damage remains, 2 when the store cannot be read or fixed.

use std::path::PathBuf;

use serde_json::json;

use super::{EXIT_USAGE, messages, run::project_for};
use crate::cache::Store;

#[derive(Debug, clap::Args)]
pub(super) struct VerifyArgs {
    /// The project root (default: the nearest jellycell.toml above the current directory).
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
    /// Remove the damaged manifests and blobs (the cells they belong to run again).
    #[arg(long)]
    fix: bool,
    /// Print JSON (`schema_version` 1) on stdout.
    #[arg(long)]
    json: bool,
}

pub(super) fn run(args: &VerifyArgs) -> i32 {
    let project = match project_for(args.project.as_deref()) {
        Ok(project) => project,
        Err(message) => {
            messages::error(&message);
            return EXIT_USAGE;
        }
    };
    let store = Store::open(&project);
    let damages = store.verify();
    let removed = if args.fix {
        match store.remove_damaged(&damages) {
            Ok(removed) => removed,
            Err(error) => {
                messages::error(&error.to_string());
                return EXIT_USAGE;
            }
        }
    } else {
        0
    };
    if args.json {
        let entries: Vec<_> = damages
            .iter()
            .map(|damage| {
                json!({"path": damage.path.display().to_string(), "problem": damage.problem})
            })
            .collect();
        println!(
            "{}",
            json!({
                "schema_version": 1,
                "project": project.root.display().to_string(),
                "store": store.root().display().to_string(),
                "damaged": entries,
                "removed": removed,
            })
        );
    } else {
        for damage in &damages {
            println!("{}: {}", damage.path.display(), damage.problem);
        }
        match (damages.len(), args.fix) {
            (0, _) => println!("the cache is intact ({})", store.root().display()),
            (count, true) => println!("removed {removed} of {count} damaged files"),
            (count, false) => {
                println!("{count} damaged files; `jellycell-lsp cache verify --fix` removes them")
            }
        }
    }
    if damages.is_empty() || (args.fix && removed == damages.len()) {
        0
    } else {
        1
    }
}

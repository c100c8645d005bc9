//! `jellycell-lsp cache list|clear|prune|rebuild-index|verify|show [--project DIR] [--json]`: our own
//! store under `<cache>/jellycell-lsp/` (jellycell's files beside it are never touched).
//! A held index never fails a command: `rebuild-index` then says the holder syncs itself.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::{EXIT_USAGE, messages, run::project_for};
use crate::cache::Store;
use crate::cache::key::KEY_VERSION;
use crate::cache::manifest::parse_utc;

#[derive(Debug, clap::Args)]
pub(super) struct CacheArgs {
    #[command(subcommand)]
    command: CacheCommand,
}

#[derive(Debug, clap::Subcommand)]
enum CacheCommand {
    /// List cached cell executions, newest first.
    List(CommonArgs),
    /// Remove every manifest and blob of jellycell-lsp's store.
    Clear(CommonArgs),
    /// Remove old manifests, then blobs no manifest refers to (older than an hour).
    Prune(PruneArgs),
    /// Rebuild the index from the manifest files.
    RebuildIndex(CommonArgs),
    /// Check every manifest and blob in full; --fix removes what is damaged.
    Verify(super::cache_verify::VerifyArgs),
    /// Print a cell's cached outputs: by name, NOTEBOOK:LINE, or every cell of a notebook.
    Show(super::cache_show::ShowArgs),
}

#[derive(Debug, clap::Args)]
struct CommonArgs {
    /// The project root (default: the nearest jellycell.toml above the current directory).
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
    /// Print JSON (`schema_version` 1) on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct PruneArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Remove manifests executed longer ago than this: 30s, 90m, 12h, 30d, 2w. Manifests
    /// of an older key version (which can never be hits) are always removed.
    #[arg(long, value_name = "AGE")]
    older_than: Option<String>,
    /// Keep only the newest N manifests of each notebook cell.
    #[arg(long, value_name = "N")]
    keep_last: Option<usize>,
    /// Say what would be removed without removing it.
    #[arg(long)]
    dry_run: bool,
}

pub(super) fn run(args: &CacheArgs) -> i32 {
    if let CacheCommand::Verify(verify) = &args.command {
        return super::cache_verify::run(verify);
    }
    match dispatch(args) {
        Ok(()) => 0,
        Err(message) => {
            messages::error(&message);
            EXIT_USAGE
        }
    }
}

fn dispatch(args: &CacheArgs) -> Result<(), String> {
    match &args.command {
        CacheCommand::List(common) => list(common),
        CacheCommand::Clear(common) => clear(common),
        CacheCommand::Prune(prune_args) => prune(prune_args),
        CacheCommand::RebuildIndex(common) => rebuild(common),
        CacheCommand::Verify(_) => Ok(()),
        CacheCommand::Show(show_args) => super::cache_show::show(show_args),
    }
}

fn list(args: &CommonArgs) -> Result<(), String> {
    let project = project_for(args.project.as_deref())?;
    let store = Store::open(&project);
    let mut manifests = store.manifests();
    manifests.sort_by(|a, b| b.executed_at.cmp(&a.executed_at));
    if args.json {
        let entries: Vec<_> = manifests
            .iter()
            .map(|manifest| {
                json!({
                    "cache_key": manifest.cache_key,
                    "notebook": manifest.notebook,
                    "cell": manifest.cell,
                    "cell_id": manifest.cell_id,
                    "cell_name": manifest.cell_name,
                    "executed_at": manifest.executed_at,
                    "duration_ms": manifest.duration_ms,
                    "status": manifest.status,
                    "snapshots": manifest.snapshots.len(),
                    "snapshot_bytes": manifest.snapshot_bytes(),
                })
            })
            .collect();
        println!(
            "{}",
            json!({"schema_version": 1, "project": project.root.display().to_string(), "entries": entries})
        );
    } else {
        for manifest in &manifests {
            println!(
                "{}  {}  {}  {:?}  {} ms  {}",
                manifest.cache_key.get(..12).unwrap_or(&manifest.cache_key),
                manifest.executed_at,
                manifest.notebook,
                manifest.name,
                manifest.duration_ms,
                serde_json::to_value(manifest.status)
                    .ok()
                    .and_then(|value| value.as_str().map(str::to_string))
                    .unwrap_or_default()
            );
        }
        let snapshots: usize = manifests.iter().map(|m| m.snapshots.len()).sum();
        if snapshots == 0 {
            println!("{} cached cell executions", manifests.len());
        } else {
            let bytes: u64 = manifests.iter().map(|m| m.snapshot_bytes()).sum();
            println!(
                "{} cached cell executions, {snapshots} value snapshots ({bytes} bytes)",
                manifests.len()
            );
        }
    }
    Ok(())
}

fn clear(args: &CommonArgs) -> Result<(), String> {
    let project = project_for(args.project.as_deref())?;
    let store = Store::open(&project);
    let snapshots: std::collections::HashSet<String> = store
        .manifests()
        .iter()
        .flat_map(|manifest| manifest.snapshots.iter().map(|s| s.blob.clone()))
        .collect();
    let snapshots = snapshots.len();
    let (manifests, blobs) = store
        .clear()
        .map_err(|error| format!("cannot clear {}: {error}", store.root().display()))?;
    let check_cache = super::check::clear_check_cache(&project)
        .map_err(|error| format!("cannot clear --check's cache: {error}"))?;
    if args.json {
        println!(
            "{}",
            json!({"schema_version": 1, "project": project.root.display().to_string(),
                   "removed_manifests": manifests, "removed_blobs": blobs,
                   "removed_snapshots": snapshots,
                   "removed_check_cache": check_cache})
        );
    } else if check_cache {
        println!(
            "removed {manifests} manifests, {blobs} blobs{} and --check's cache",
            of_them_snapshots(snapshots)
        );
    } else {
        println!(
            "removed {manifests} manifests and {blobs} blobs{}",
            of_them_snapshots(snapshots)
        );
    }
    Ok(())
}

/// ` (N of them value snapshots)`, or nothing when there were none.
fn of_them_snapshots(count: usize) -> String {
    if count == 0 {
        String::new()
    } else {
        format!(" ({count} of them value snapshots)")
    }
}

fn prune(args: &PruneArgs) -> Result<(), String> {
    let project = project_for(args.common.project.as_deref())?;
    let store = Store::open(&project);
    let max_age = args.older_than.as_deref().map(parse_age).transpose()?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let mut manifests = store.manifests();
    manifests.sort_by(|a, b| b.executed_at.cmp(&a.executed_at));
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut removed = Vec::new();
    let mut kept = 0;
    for manifest in &manifests {
        let rank = seen
            .entry((manifest.notebook.clone(), manifest.name.clone()))
            .or_default();
        *rank += 1;
        let too_old = max_age.is_some_and(|age| {
            parse_utc(&manifest.executed_at)
                .is_some_and(|at| now.saturating_sub(at) > age.as_secs())
        });
        let beyond = args.keep_last.is_some_and(|keep| *rank > keep);
        // A manifest of an older key layout can never be a hit again.
        let superseded = manifest.key_version != KEY_VERSION;
        if too_old || beyond || superseded {
            if !args.dry_run {
                store
                    .remove_manifest(&manifest.cache_key)
                    .map_err(|error| format!("cannot remove a manifest: {error}"))?;
            }
            removed.push(
                json!({"cache_key": manifest.cache_key, "notebook": manifest.notebook,
                                "cell_id": manifest.cell_id, "executed_at": manifest.executed_at,
                                "snapshots": manifest.snapshots.len()}),
            );
        } else {
            kept += 1;
        }
    }
    let garbage = store.collect_garbage(args.dry_run);
    if !args.dry_run && !removed.is_empty() {
        let _ = store.rebuild_index();
    }
    if args.common.json {
        println!(
            "{}",
            json!({"schema_version": 1, "project": project.root.display().to_string(),
                   "dry_run": args.dry_run, "removed": removed, "kept": kept,
                   "removed_files": garbage})
        );
    } else {
        let verb = if args.dry_run {
            "would remove"
        } else {
            "removed"
        };
        println!(
            "{verb} {} manifests and {garbage} unreferenced files; {kept} manifests kept",
            removed.len()
        );
    }
    Ok(())
}

fn rebuild(args: &CommonArgs) -> Result<(), String> {
    let project = project_for(args.project.as_deref())?;
    let store = Store::open(&project);
    let (indexed, note) = match store.rebuild_index() {
        Ok(count) => (count, None),
        Err(error) => (
            store.manifests().len(),
            Some(format!(
                "{error}; it keeps itself in sync with the manifest files, so nothing needs doing"
            )),
        ),
    };
    if args.json {
        println!(
            "{}",
            json!({"schema_version": 1, "project": project.root.display().to_string(),
                   "indexed": indexed, "note": note})
        );
    } else {
        println!("indexed {indexed} manifests");
        if let Some(note) = note {
            println!("note: {note}");
        }
    }
    Ok(())
}

/// `30s`, `90m`, `12h`, `30d`, `2w`.
fn parse_age(text: &str) -> Result<Duration, String> {
    let bad =
        || format!("--older-than {text:?}: expected a number and a unit (s, m, h, d, w), e.g. 30d");
    let split = text.len().checked_sub(1).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(bad()),
    };
    Ok(Duration::from_secs(number * seconds))
}

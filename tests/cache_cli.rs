//! `jellycell-lsp cache list|clear|prune|rebuild-index --json` on a store filled through
//! the library (no kernel needed), next to a jellycell cache that must stay untouched.

mod support;

use std::time::{Duration, SystemTime};

use jellycell_lsp::analysis::workspace::Workspace;
use jellycell_lsp::cache::key::KEY_VERSION;
use jellycell_lsp::cache::manifest::{Manifest, ManifestStatus, OutputRecord, utc_at};
use jellycell_lsp::cache::{CellStatus, Store, cell_statuses};
use serde_json::Value;
use support::project::TestProject;

fn manifest(store: &Store, key: &str, name: &str, executed_at: &str, text: &str) -> Manifest {
    let blob = store.blobs().put(text.as_bytes()).expect("blob written");
    Manifest {
        schema_version: 1,
        cache_key: key.to_string(),
        notebook: "notebooks/nb.py".into(),
        cell: 0,
        cell_id: "nb:0".into(),
        cell_name: Some(name.to_string()),
        name: name.to_string(),
        kind: "step".into(),
        kernel: "python3".into(),
        key_version: KEY_VERSION.into(),
        source_hash: String::new(),
        dep_keys: Vec::new(),
        setup_hashes: Vec::new(),
        env_hash: String::new(),
        params_hash: None,
        executed_at: executed_at.to_string(),
        duration_ms: 5,
        status: ManifestStatus::Ok,
        outputs: vec![OutputRecord::Stream {
            name: "stdout".into(),
            blob,
        }],
        artifacts: Vec::new(),
        blob_sizes: Default::default(),
        snapshots: Vec::new(),
        unsnapshotted: Vec::new(),
        inputs: Vec::new(),
        loads: Vec::new(),
    }
}

/// Every file under `folder`.
fn walk(folder: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// A timestamp `days` before the real clock's now, so that ages hold whatever the date.
fn days_ago(days: u64) -> String {
    utc_at(SystemTime::now() - Duration::from_secs(days * 86_400))
}

fn json(project: &TestProject, args: &[&str]) -> Value {
    let output = project.output(args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[test]
fn list_prune_rebuild_and_clear_work_on_our_store_only() {
    let project = TestProject::new(&[]);
    // Python jellycell's own cache beside ours.
    project.write(".jellycell/cache/manifests/theirs.json", "{}");
    let store = Store::at(project.path(".jellycell/cache/jellycell-lsp"));
    let old = manifest(&store, &"a".repeat(64), "x", &days_ago(6 * 365), "old");
    let new = manifest(&store, &"b".repeat(64), "x", &days_ago(1), "new");
    let other = manifest(&store, &"c".repeat(64), "y", &days_ago(60), "y");
    for manifest in [&old, &new, &other] {
        store.put_manifest(manifest).expect("manifest written");
    }
    drop(store);
    // The blobs were written now by this process's clock, whatever the file system says
    // (a faked clock, as `faketime` gives, leaves file times on the real one).
    for entry in walk(&project.path(".jellycell/cache/jellycell-lsp/blobs")) {
        std::fs::File::options()
            .write(true)
            .open(&entry)
            .and_then(|file| file.set_modified(SystemTime::now()))
            .expect("stamp the blob");
    }
    // An orphan blob old enough to collect.
    let orphan = project.path(".jellycell/cache/jellycell-lsp/blobs/ff/ff00");
    project.write(".jellycell/cache/jellycell-lsp/blobs/ff/ff00", "orphan");
    std::fs::File::options()
        .write(true)
        .open(&orphan)
        .and_then(|file| file.set_modified(SystemTime::now() - Duration::from_secs(7200)))
        .expect("age the orphan");

    let list = json(&project, &["cache", "list", "--json"]);
    assert_eq!(list["schema_version"], 1);
    let keys: Vec<&str> = list["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["cache_key"].as_str())
        .collect();
    assert_eq!(
        keys,
        [
            new.cache_key.as_str(),
            other.cache_key.as_str(),
            old.cache_key.as_str()
        ]
    );

    let rebuilt = json(&project, &["cache", "rebuild-index", "--json"]);
    assert_eq!(rebuilt["indexed"], 3);
    assert_eq!(rebuilt["note"], Value::Null);

    let dry = json(
        &project,
        &["cache", "prune", "--keep-last", "1", "--dry-run", "--json"],
    );
    assert_eq!(dry["removed"].as_array().map(Vec::len), Some(1));
    assert!(
        project
            .path(&format!(
                ".jellycell/cache/jellycell-lsp/manifests/{}.json",
                old.cache_key
            ))
            .exists()
    );

    let pruned = json(
        &project,
        &["cache", "prune", "--older-than", "30d", "--json"],
    );
    let removed: Vec<&str> = pruned["removed"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["cache_key"].as_str())
        .collect();
    assert_eq!(
        removed,
        [other.cache_key.as_str(), old.cache_key.as_str()],
        "{pruned}"
    );
    // Only the aged orphan: the removed manifests' blobs are younger than the grace period.
    assert_eq!(pruned["removed_files"], 1, "{pruned}");
    assert!(!orphan.exists());

    let bad = project.output(&["cache", "prune", "--older-than", "soon"]);
    assert_eq!(bad.status.code(), Some(2));

    project.write(
        ".jellycell/cache/jellycell-lsp/check/notebooks.bin",
        "stale",
    );
    let cleared = json(&project, &["cache", "clear", "--json"]);
    assert!(cleared["removed_manifests"].as_u64().unwrap_or(0) >= 1);
    assert_eq!(cleared["removed_check_cache"], true, "{cleared}");
    assert!(
        !project
            .path(".jellycell/cache/jellycell-lsp/check")
            .exists()
    );
    assert_eq!(
        json(&project, &["cache", "list", "--json"])["entries"],
        Value::Array(Vec::new())
    );
    assert_eq!(project.read(".jellycell/cache/manifests/theirs.json"), "{}");
}

#[test]
fn a_v1_store_reads_as_stale_and_prune_removes_it() {
    let project = TestProject::new(&[("notebooks/nb.py", "# %% tags=[\"name=x\"]\nprint(1)\n")]);
    let store = Store::at(project.path(".jellycell/cache/jellycell-lsp"));
    let mut old = manifest(&store, &"d".repeat(64), "x", &days_ago(1), "old");
    old.key_version = "jellycell-lsp-cache-v1".into();
    store.put_manifest(&old).expect("manifest written");
    let (workspace, _) =
        Workspace::load(jellycell_lsp::project::Project::load(project.root()), &[]);
    let file = (0..workspace.files.len())
        .find(|&index| workspace.files[index].relative == "notebooks/nb.py")
        .expect("the notebook is discovered");
    let states = cell_statuses(&workspace, file, &store);
    assert_eq!(states.len(), 1);
    assert_eq!(
        states[0].status,
        CellStatus::Stale,
        "a v1 result is never a hit"
    );
    drop(store);

    let pruned = json(&project, &["cache", "prune", "--json"]);
    let removed: Vec<&str> = pruned["removed"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["cache_key"].as_str())
        .collect();
    assert_eq!(removed, [old.cache_key.as_str()], "{pruned}");
    let list = json(&project, &["cache", "list", "--json"]);
    assert_eq!(list["entries"].as_array().map(Vec::len), Some(0), "{list}");
}

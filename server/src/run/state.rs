//! State restore, the runner's side of the kernel helper (`kernel_state.py`): installing
//! it, asking it to snapshot names into blobs and to restore names from blobs, and
//! [`Holdings`], which producer's value each name in a kernel currently holds.
//!
//! Values travel through files in the store: the kernel pickles into temporary files in
//! the blob folder, which [`BlobStore::adopt`] hashes and renames into content-addressed
//! blobs; a restore hands the kernel blob paths. Only small JSON requests and answers go
//! through the kernel's messages. How restore decides what to restore or replay is in
//! `restore.rs`.

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use crate::cache::blobs::BlobStore;
use crate::cache::manifest::{SnapshotRecord, UnsnapshottedRecord};
use crate::kernel::{ExecutionResult, ExecutionStatus, Kernel, Output};

/// The helper's source, sent once per kernel.
const KERNEL_HELPER: &str = include_str!("kernel_state.py");

/// What starts the helper's answer line on stdout.
const ANSWER_MARKER: &str = "\u{1e}jellycell-lsp-state ";

/// Pickling and unpickling run in the kernel; a value of hundreds of MB takes seconds.
const HELPER_TIMEOUT: Duration = Duration::from_secs(600);

/// Which value each name in one kernel holds: the cache key of the cell whose execution
/// (run, replay or restored snapshot) last set it there. A fresh kernel holds nothing.
#[derive(Debug, Clone, Default)]
pub struct Holdings {
    by_name: HashMap<String, String>,
}

impl Holdings {
    /// Whether the kernel holds `name` as produced by the cell keyed `key`.
    pub fn holds(&self, name: &str, key: &str) -> bool {
        self.by_name.get(name).is_some_and(|held| held == key)
    }

    pub fn record(&mut self, name: &str, key: &str) {
        self.by_name.insert(name.to_string(), key.to_string());
    }

    /// The value of `name` is unknown (its cell failed part way).
    pub fn forget(&mut self, name: &str) {
        self.by_name.remove(name);
    }
}

/// Installs the helper (hidden: no output, no execution count); false when it failed.
pub(crate) async fn install(kernel: &Kernel) -> bool {
    let result = kernel
        .execute_hidden(KERNEL_HELPER, Some(HELPER_TIMEOUT))
        .await;
    result.status == ExecutionStatus::Ok
}

#[derive(Debug, Deserialize)]
struct SnapshotAnswer {
    name: String,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    pickler: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// Snapshots `names` from the kernel's namespace into `blobs`, each pickled value at most
/// `limit` bytes (`0`: snapshots are off). Every name ends up in exactly one of the two
/// lists.
pub(crate) async fn snapshot(
    kernel: &Kernel,
    blobs: &BlobStore,
    names: &[String],
    limit: u64,
) -> (Vec<SnapshotRecord>, Vec<UnsnapshottedRecord>) {
    let unsnapshotted = |reason: &str| {
        names
            .iter()
            .map(|name| UnsnapshottedRecord {
                name: name.clone(),
                reason: reason.to_string(),
            })
            .collect()
    };
    if limit == 0 {
        return (
            Vec::new(),
            unsnapshotted("snapshots are off ([run] snapshot_max_mb = 0)"),
        );
    }
    let request = json!({
        "names": names,
        "dir": blobs.dir().to_string_lossy(),
        "limit": limit,
    });
    let result = call(kernel, "snapshot", &request.to_string()).await;
    let answers: Vec<SnapshotAnswer> = match answer(&result) {
        Ok(value) => serde_json::from_value(value).unwrap_or_default(),
        Err(problem) => return (Vec::new(), unsnapshotted(&problem)),
    };
    let mut stored = Vec::new();
    let mut missing = Vec::new();
    for answer in answers {
        match (answer.file, answer.pickler) {
            (Some(file), Some(pickler)) => match blobs.adopt(std::path::Path::new(&file)) {
                Ok((blob, size)) => stored.push(SnapshotRecord {
                    name: answer.name,
                    blob,
                    pickler,
                    size,
                }),
                Err(error) => missing.push(UnsnapshottedRecord {
                    name: answer.name,
                    reason: format!("the snapshot could not be stored: {error}"),
                }),
            },
            _ => missing.push(UnsnapshottedRecord {
                name: answer.name,
                reason: answer
                    .reason
                    .unwrap_or_else(|| "the kernel gave no snapshot".into()),
            }),
        }
    }
    for name in names {
        let answered = stored.iter().any(|record| &record.name == name)
            || missing.iter().any(|record| &record.name == name);
        if !answered {
            missing.push(UnsnapshottedRecord {
                name: name.clone(),
                reason: "the kernel gave no snapshot".into(),
            });
        }
    }
    (stored, missing)
}

/// Restores each snapshot into the kernel's namespace under its name; per snapshot, `None`
/// or why it failed (a missing blob, a module the kernel cannot import, an unpickling
/// error).
pub(crate) async fn restore(
    kernel: &Kernel,
    blobs: &BlobStore,
    snapshots: &[&SnapshotRecord],
) -> Vec<Option<String>> {
    let mut outcomes: Vec<Option<String>> = vec![None; snapshots.len()];
    let mut sent = Vec::new();
    let mut request = Vec::new();
    for (index, snapshot) in snapshots.iter().enumerate() {
        if let Err(error) = blobs.verify(&snapshot.blob) {
            outcomes[index] = Some(format!("its snapshot cannot be used: {error}"));
            continue;
        }
        sent.push(index);
        request.push(json!({
            "name": snapshot.name,
            "file": blobs.path(&snapshot.blob).to_string_lossy(),
            "pickler": snapshot.pickler,
        }));
    }
    if sent.is_empty() {
        return outcomes;
    }
    let result = call(
        kernel,
        "restore",
        &serde_json::Value::from(request).to_string(),
    )
    .await;
    let answers: Vec<Option<String>> = match answer(&result) {
        Ok(value) => serde_json::from_value(value).unwrap_or_default(),
        Err(problem) => vec![Some(problem); sent.len()],
    };
    for (position, index) in sent.into_iter().enumerate() {
        outcomes[index] = answers
            .get(position)
            .cloned()
            .unwrap_or_else(|| Some("the kernel gave no answer".into()));
    }
    outcomes
}

async fn call(kernel: &Kernel, function: &str, request: &str) -> ExecutionResult {
    // A JSON string literal is a valid Python string literal.
    let argument = serde_json::Value::String(request.to_string()).to_string();
    kernel
        .execute_hidden(
            format!("_jellycell_lsp.{function}({argument})"),
            Some(HELPER_TIMEOUT),
        )
        .await
}

/// The helper's JSON answer, or why there is none.
fn answer(result: &ExecutionResult) -> Result<serde_json::Value, String> {
    let stdout = result.stream_text("stdout");
    if let Some(line) = stdout
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix(ANSWER_MARKER))
        && let Ok(value) = serde_json::from_str(line)
    {
        return Ok(value);
    }
    let error = result.outputs.iter().find_map(|output| match output {
        Output::Error { ename, evalue, .. } => Some(format!("{ename}: {evalue}")),
        _ => None,
    });
    Err(error
        .or_else(|| result.failure.clone())
        .unwrap_or_else(|| "the kernel's state helper did not answer".into()))
}

//! The manifest of one executed cell: `manifests/<key>.json` (schema in `docs/cache.md`).
//!
//! jellycell's manifest fields (reference §4.5) plus the notebook-relative ordinal and
//! name, the kind, the kernel and every input of the key. Outputs are one record per
//! output with a MIME → blob map, so that a display's bundle is rebuilt exactly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::cache::blobs::{BlobRef, BlobStore, is_blob_name};

pub const MANIFEST_SCHEMA_VERSION: u32 = 1;

/// How a cell execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ManifestStatus {
    Ok,
    Error,
}

/// One output, in the order the cell produced it (after `clear_output` was applied).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputRecord {
    Stream {
        name: String,
        blob: String,
    },
    DisplayData {
        data: BTreeMap<String, BlobRef>,
        #[serde(default)]
        metadata: Map<String, Value>,
    },
    ExecuteResult {
        data: BTreeMap<String, BlobRef>,
        #[serde(default)]
        metadata: Map<String, Value>,
        execution_count: Option<u32>,
    },
    Error {
        ename: String,
        evalue: String,
        traceback: Vec<String>,
    },
}

/// A file under `artifacts/` that the cell created or changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactRecord {
    /// Project-relative, `/`-separated.
    pub path: String,
    pub blake3: String,
    pub size: u64,
}

/// A value the cell defined, pickled into a blob for state restore (`docs/cache.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRecord {
    /// The module-level name.
    pub name: String,
    pub blob: String,
    /// `pickle`, `cloudpickle`, `dill`, or `module` (the blob holds the module's name).
    pub pickler: String,
    pub size: u64,
}

/// A name the cell defined that has no snapshot, and why: restore replays the cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsnapshottedRecord {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub cache_key: String,
    /// Project-relative notebook path.
    pub notebook: String,
    /// The cell's ordinal when it ran (informational: outputs are found by key).
    pub cell: usize,
    /// `<stem>:<ordinal>` when it ran.
    pub cell_id: String,
    /// The `name=` tag, if any.
    pub cell_name: Option<String>,
    /// `cell_name`, else `cell_id`: what stale detection matches on.
    pub name: String,
    pub kind: String,
    pub kernel: String,
    pub key_version: String,
    pub source_hash: String,
    pub dep_keys: Vec<String>,
    pub setup_hashes: Vec<String>,
    pub env_hash: String,
    pub params_hash: Option<String>,
    /// UTC, RFC 3339 with microseconds and `Z`.
    pub executed_at: String,
    pub duration_ms: u64,
    pub status: ManifestStatus,
    pub outputs: Vec<OutputRecord>,
    pub artifacts: Vec<ArtifactRecord>,
    /// The size of every blob in `outputs`, recorded by `Store::put_manifest`, so a status
    /// query can tell a truncated blob without reading it (absent in older manifests).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub blob_sizes: BTreeMap<String, u64>,
    /// The names the cell defined, snapshotted when it ran (absent before state restore
    /// existed, and for cells that define nothing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<SnapshotRecord>,
    /// The names it defined that could not be snapshotted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsnapshotted: Vec<UnsnapshottedRecord>,
    /// The names the cell read from cells above and the cell each came from (absent in
    /// manifests older than key v2): what a stale cell's hover compares.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<InputRecord>,
    /// What each literal `jc.load` read (field 8 of the key).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub loads: Vec<LoadRecord>,
}

/// A name a cell read, the cell above it came from and that cell's key when it ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRecord {
    pub name: String,
    pub from_cell: String,
    pub key: String,
}

impl From<&crate::cache::key::NamedInput> for InputRecord {
    fn from(input: &crate::cache::key::NamedInput) -> InputRecord {
        InputRecord {
            name: input.name.clone(),
            from_cell: input.from_cell.clone(),
            key: input.key.clone(),
        }
    }
}

/// A literal `jc.load` path and what it read: `key <producer key>`, `blake3 <hex>` or
/// `missing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadRecord {
    pub path: String,
    pub content: String,
}

impl From<&crate::cache::key::LoadInput> for LoadRecord {
    fn from(load: &crate::cache::key::LoadInput) -> LoadRecord {
        LoadRecord {
            path: load.path.clone(),
            content: load.content.clone(),
        }
    }
}

impl Manifest {
    /// Why this manifest, read from the file named by `key`, cannot be trusted: it records
    /// another key (a file copied over another), or names a blob with something that is
    /// not a blob name (a path). `None` when it is consistent.
    pub fn inconsistency(&self, key: &str) -> Option<String> {
        if self.cache_key != key {
            return Some(format!(
                "it records the key {:?}, not the key its file is named by",
                self.cache_key
            ));
        }
        if let Some(bad) = self.blobs().into_iter().find(|blob| !is_blob_name(blob)) {
            return Some(format!(
                "it names the blob {bad:?}, which is not 64 lowercase hex characters"
            ));
        }
        None
    }

    /// Every blob the manifest refers to (outputs and snapshots).
    pub fn blobs(&self) -> Vec<&str> {
        let mut blobs = self.output_blobs();
        blobs.extend(self.snapshots.iter().map(|snapshot| snapshot.blob.as_str()));
        blobs
    }

    /// The blobs of the cell's outputs (what export, the preview and hovers show).
    pub fn output_blobs(&self) -> Vec<&str> {
        let mut blobs = Vec::new();
        for output in &self.outputs {
            match output {
                OutputRecord::Stream { blob, .. } => blobs.push(blob.as_str()),
                OutputRecord::DisplayData { data, .. }
                | OutputRecord::ExecuteResult { data, .. } => {
                    blobs.extend(data.values().map(|reference| reference.blob.as_str()));
                }
                OutputRecord::Error { .. } => {}
            }
        }
        blobs
    }

    /// The snapshot of `name`, if the cell left one.
    pub fn snapshot(&self, name: &str) -> Option<&SnapshotRecord> {
        self.snapshots.iter().find(|snapshot| snapshot.name == name)
    }

    /// How many bytes its snapshots take.
    pub fn snapshot_bytes(&self) -> u64 {
        self.snapshots.iter().map(|snapshot| snapshot.size).sum()
    }

    /// The outputs as nbformat 4 output objects, rebuilt from the blobs.
    pub fn nbformat_outputs(&self, blobs: &BlobStore) -> std::io::Result<Vec<Value>> {
        let bundle = |data: &BTreeMap<String, BlobRef>| -> std::io::Result<Map<String, Value>> {
            let mut bundle = Map::new();
            for (mime, reference) in data {
                bundle.insert(mime.clone(), blobs.get_mime(reference)?);
            }
            Ok(bundle)
        };
        let mut outputs = Vec::new();
        for output in &self.outputs {
            outputs.push(match output {
                OutputRecord::Stream { name, blob } => {
                    let text = String::from_utf8_lossy(&blobs.get(blob)?).into_owned();
                    json!({"output_type": "stream", "name": name, "text": text})
                }
                OutputRecord::DisplayData { data, metadata } => json!({
                    "output_type": "display_data", "data": bundle(data)?, "metadata": metadata,
                }),
                OutputRecord::ExecuteResult {
                    data,
                    metadata,
                    execution_count,
                } => json!({
                    "output_type": "execute_result", "data": bundle(data)?,
                    "metadata": metadata, "execution_count": execution_count,
                }),
                OutputRecord::Error {
                    ename,
                    evalue,
                    traceback,
                } => json!({
                    "output_type": "error", "ename": ename, "evalue": evalue,
                    "traceback": traceback,
                }),
            });
        }
        Ok(outputs)
    }

    /// The first error output, if any.
    pub fn error(&self) -> Option<(&str, &str, &[String])> {
        self.outputs.iter().find_map(|output| match output {
            OutputRecord::Error {
                ename,
                evalue,
                traceback,
            } => Some((ename.as_str(), evalue.as_str(), traceback.as_slice())),
            _ => None,
        })
    }
}

/// Now as UTC RFC 3339 with microseconds, e.g. `2026-11-21T22:39:19.459647Z`.
pub fn utc_now() -> String {
    utc_at(std::time::SystemTime::now())
}

/// `time` as UTC RFC 3339 with microseconds, the format of [`utc_now`] (times before the
/// epoch read as the epoch).
pub fn utc_at(time: std::time::SystemTime) -> String {
    let since_epoch = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format_utc(since_epoch.as_secs(), since_epoch.subsec_micros())
}

fn format_utc(seconds: u64, micros: u32) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Seconds since the epoch of a timestamp written by [`utc_now`] (for `cache prune`).
pub fn parse_utc(text: &str) -> Option<u64> {
    let year: i64 = text.get(0..4)?.parse().ok()?;
    let month: i64 = text.get(5..7)?.parse().ok()?;
    let day: i64 = text.get(8..10)?.parse().ok()?;
    let hour: u64 = text.get(11..13)?.parse().ok()?;
    let minute: u64 = text.get(14..16)?.parse().ok()?;
    let second: u64 = text.get(17..19)?.parse().ok()?;
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days)
        .ok()
        .map(|days| days * 86_400 + hour * 3600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_are_blobs_of_the_manifest_and_old_manifests_read_without_them() {
        let old = r#"{"schema_version":1,"cache_key":"k","notebook":"n.py","cell":0,
            "cell_id":"n:0","cell_name":null,"name":"n:0","kind":"step","kernel":"python3",
            "key_version":"v","source_hash":"s","dep_keys":[],"setup_hashes":[],
            "env_hash":"e","params_hash":null,"executed_at":"t","duration_ms":1,
            "status":"ok","outputs":[],"artifacts":[]}"#;
        let mut manifest: Manifest = serde_json::from_str(old).unwrap();
        assert!(manifest.snapshots.is_empty() && manifest.blobs().is_empty());
        manifest.snapshots.push(SnapshotRecord {
            name: "df".into(),
            blob: "ab".repeat(32),
            pickler: "pickle".into(),
            size: 7,
        });
        assert_eq!(manifest.blobs(), vec!["ab".repeat(32).as_str()]);
        assert_eq!(manifest.snapshot("df").map(|s| s.size), Some(7));
        assert_eq!(manifest.snapshot_bytes(), 7);
        let written = serde_json::to_string(&manifest).unwrap();
        assert!(
            !written.contains("unsnapshotted"),
            "empty lists are not written"
        );
    }

    #[test]
    fn timestamps_format_and_parse() {
        assert_eq!(format_utc(0, 0), "1970-01-01T00:00:00.000000Z");
        let text = format_utc(1_795_302_359, 459_647);
        assert_eq!(text, "2026-11-21T23:05:59.459647Z");
        assert_eq!(parse_utc(&text), Some(1_795_302_359));
    }
}

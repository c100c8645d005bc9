//! The `--check` cache on disk: per notebook, what a later check needs so that an
//! unchanged notebook is neither read nor analysed again (ruff's cache, for notebooks).
//!
//! One file per project, `<lsp cache>/check/notebooks.bin`, written atomically; its
//! header holds the format version, a context hash (tool version, the project's root
//! and parsed config), so a new release or a config edit starts from an empty cache,
//! and a blake3 of the rest, so damage anywhere is noticed.
//! Per notebook (by absolute path): its stamp (size, mtime, ctime), a blake3 of its
//! content, the graph facts of its cells (kept encoded; decoded only when the project
//! graph must be rebuilt), the findings of the rules that read only this file, and the
//! findings of the graph rules together with the graph hash they were computed under,
//! and the `warn-on-large-cell-output` findings with the token they hold for.
//! Findings are stored located (1-based line and column) at their default severity; the
//! settings are applied when they are reported.
//!
//! Anything unreadable (a missing, truncated or corrupt file, another version) loads as
//! an empty cache: the check recomputes and rewrites it, and the user never sees an error.

use std::collections::HashMap;
use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::codec::{Reader, Writer};
use crate::analysis::graph::{CellFacts, DepOrigin, DepRef, NotebookFacts, PathRef};
use crate::format::tags::CellKind;
use crate::text::Span;

/// First bytes of the file; bump the number when the layout changes.
const MAGIC: &[u8; 8] = b"JCLCHK02";

/// How long after a file's last change its stamp is not trusted alone: a second change
/// within one tick of the file system's clock would leave size and times unchanged
/// (git's "racy clean" problem), so such entries are also checked by content.
const RACY_WINDOW: Duration = Duration::from_secs(2);

pub(super) type Hash = [u8; 32];

/// What `stat` says about a file; equal stamps mean an unchanged file unless the entry
/// is racy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileStamp {
    pub size: u64,
    pub modified_ns: i64,
    /// The inode change time: unlike mtime it cannot be set back by `touch -d`.
    pub changed_ns: i64,
}

impl FileStamp {
    pub fn of(metadata: &Metadata) -> FileStamp {
        let modified_ns = metadata.modified().map_or(0, nanos_since_epoch);
        FileStamp {
            size: metadata.len(),
            modified_ns,
            changed_ns: changed_ns(metadata).unwrap_or(modified_ns),
        }
    }

    /// Whether the file changed so recently (or claims a time in the future) that a
    /// further change could still leave this stamp as it is.
    pub fn is_racy(&self, now: SystemTime) -> bool {
        let now = nanos_since_epoch(now);
        let window = i64::try_from(RACY_WINDOW.as_nanos()).unwrap_or(i64::MAX);
        self.modified_ns.max(self.changed_ns) > now.saturating_sub(window)
    }
}

#[cfg(unix)]
fn changed_ns(metadata: &Metadata) -> Option<i64> {
    use std::os::unix::fs::MetadataExt;
    metadata
        .ctime()
        .checked_mul(1_000_000_000)?
        .checked_add(metadata.ctime_nsec())
}

#[cfg(not(unix))]
fn changed_ns(_: &Metadata) -> Option<i64> {
    None
}

fn nanos_since_epoch(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    }
}

/// A finding as reported, without its path and before the settings are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StoredFinding {
    pub rule: &'static str,
    pub start: Option<(usize, usize)>,
    pub end: Option<(usize, usize)>,
    pub message: String,
    pub fixable: bool,
}

/// What the cache knows about one notebook.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub stamp: FileStamp,
    /// The stamp was taken within [`RACY_WINDOW`] of the file's last change.
    pub racy: bool,
    pub content_hash: Hash,
    /// Project-relative path, as the graph names the notebook.
    pub relative: String,
    /// The cells' graph facts, encoded (see [`encode_cells`]).
    pub facts: Vec<u8>,
    /// blake3 of `facts`.
    pub facts_hash: Hash,
    /// The notebook's own header pairs it with an `.ipynb` (jupytext `formats`).
    pub header_paired: bool,
    /// Findings of the rules that read only this notebook; `None` when the notebook was
    /// analysed only for the graph (a check that did not report on it).
    pub local: Option<Vec<StoredFinding>>,
    /// Findings of the graph rules and the graph hash they hold for.
    pub graph: Option<(Hash, Vec<StoredFinding>)>,
    /// `warn-on-large-cell-output` findings and the token (see `cached`) they hold for.
    pub outputs: Option<(Hash, Vec<StoredFinding>)>,
}

/// Every entry, by the notebook's absolute path.
#[derive(Debug, Default)]
pub(super) struct CheckCache {
    pub entries: HashMap<PathBuf, Entry>,
}

impl CheckCache {
    /// The cache file of a project whose jellycell-lsp cache folder is `lsp_cache_dir`.
    pub fn file_in(lsp_cache_dir: &Path) -> PathBuf {
        lsp_cache_dir.join("check").join("notebooks.bin")
    }

    /// The cache at `path` if it was written under `context`; empty otherwise (missing,
    /// unreadable, corrupt, or from another version or config).
    pub fn load(path: &Path, context: &Hash) -> CheckCache {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| decode(&bytes, context))
            .unwrap_or_default()
    }

    /// Writes the cache atomically (temporary file, then rename), with a `.gitignore`
    /// beside it so that a check in a folder that is not a jellycell project (whose
    /// `.jellycell/` nobody ignores yet) leaves nothing for git to show.
    pub fn save(&self, path: &Path, context: &Hash) -> std::io::Result<()> {
        crate::cache::blobs::write_atomically(path, &encode(self, context))?;
        if let Some(folder) = path.parent() {
            let ignore = folder.join(".gitignore");
            if !ignore.exists() {
                crate::cache::blobs::write_atomically(
                    &ignore,
                    b"# jellycell-lsp --check's cache, never committed.\n*\n",
                )?;
            }
        }
        Ok(())
    }
}

/// The file: magic, context hash, blake3 of the body, body (the entries). The checksum
/// catches any damage, so that no corrupt byte is ever reported as a finding.
fn encode(cache: &CheckCache, context: &Hash) -> Vec<u8> {
    let body = encode_entries(cache);
    let mut out = Writer::default();
    out.raw(MAGIC);
    out.raw(context);
    out.raw(blake3::hash(&body).as_bytes());
    out.raw(&body);
    out.into_bytes()
}

fn encode_entries(cache: &CheckCache) -> Vec<u8> {
    let mut out = Writer::default();
    let mut paths: Vec<&PathBuf> = cache.entries.keys().collect();
    paths.sort();
    out.size(paths.len());
    for path in paths {
        let entry = &cache.entries[path];
        out.str(&path.to_string_lossy());
        out.u64(entry.stamp.size);
        out.i64(entry.stamp.modified_ns);
        out.i64(entry.stamp.changed_ns);
        out.bool(entry.racy);
        out.raw(&entry.content_hash);
        out.str(&entry.relative);
        out.bytes(&entry.facts);
        out.raw(&entry.facts_hash);
        out.bool(entry.header_paired);
        match &entry.local {
            Some(findings) => {
                out.bool(true);
                encode_findings(&mut out, findings);
            }
            None => out.bool(false),
        }
        for held in [&entry.graph, &entry.outputs] {
            match held {
                Some((hash, findings)) => {
                    out.bool(true);
                    out.raw(hash);
                    encode_findings(&mut out, findings);
                }
                None => out.bool(false),
            }
        }
    }
    out.into_bytes()
}

fn decode(bytes: &[u8], context: &Hash) -> Option<CheckCache> {
    let mut header = Reader::new(bytes);
    if header.raw(MAGIC.len())? != MAGIC || &header.array::<32>()? != context {
        return None;
    }
    let checksum: Hash = header.array()?;
    let body = bytes.get(MAGIC.len() + 64..)?;
    if blake3::hash(body).as_bytes() != &checksum {
        return None;
    }
    let mut input = Reader::new(body);
    let count = input.count(64)?;
    let mut entries = HashMap::with_capacity(count);
    for _ in 0..count {
        let path = PathBuf::from(input.str()?);
        let stamp = FileStamp {
            size: input.u64()?,
            modified_ns: input.i64()?,
            changed_ns: input.i64()?,
        };
        let racy = input.bool()?;
        let content_hash = input.array()?;
        let relative = input.string()?;
        let facts = input.bytes()?.to_vec();
        let facts_hash: Hash = input.array()?;
        let header_paired = input.bool()?;
        let local = match input.bool()? {
            true => Some(decode_findings(&mut input)?),
            false => None,
        };
        let graph = match input.bool()? {
            true => Some((input.array()?, decode_findings(&mut input)?)),
            false => None,
        };
        let outputs = match input.bool()? {
            true => Some((input.array()?, decode_findings(&mut input)?)),
            false => None,
        };
        entries.insert(
            path,
            Entry {
                stamp,
                racy,
                content_hash,
                relative,
                facts,
                facts_hash,
                header_paired,
                local,
                graph,
                outputs,
            },
        );
    }
    input.is_at_end().then_some(CheckCache { entries })
}

fn encode_findings(out: &mut Writer, findings: &[StoredFinding]) {
    out.size(findings.len());
    for finding in findings {
        out.str(finding.rule);
        encode_position(out, finding.start);
        encode_position(out, finding.end);
        out.str(&finding.message);
        out.bool(finding.fixable);
    }
}

fn decode_findings(input: &mut Reader) -> Option<Vec<StoredFinding>> {
    let count = input.count(4)?;
    let mut findings = Vec::with_capacity(count);
    for _ in 0..count {
        findings.push(StoredFinding {
            rule: rule_id(input.str()?),
            start: decode_position(input)?,
            end: decode_position(input)?,
            message: input.string()?,
            fixable: input.bool()?,
        });
    }
    Some(findings)
}

/// The `&'static str` rule id for a stored one. Rule ids come from the registry or from
/// the readers' problem codes; an id from neither (written by another build) is leaked,
/// which a short-lived CLI process can afford.
fn rule_id(id: &str) -> &'static str {
    match crate::lint::rule_by_id(id) {
        Some(rule) => rule.id,
        None => String::leak(id.to_string()),
    }
}

fn encode_position(out: &mut Writer, position: Option<(usize, usize)>) {
    match position {
        Some((line, column)) => {
            out.bool(true);
            out.size(line);
            out.size(column);
        }
        None => out.bool(false),
    }
}

fn decode_position(input: &mut Reader) -> Option<Option<(usize, usize)>> {
    Some(match input.bool()? {
        true => Some((input.size()?, input.size()?)),
        false => None,
    })
}

/// Encodes a notebook's cell facts, spans in the notebook's text (what [`decode_cells`]
/// reads back).
pub(super) fn encode_cells(facts: &NotebookFacts) -> Vec<u8> {
    let mut out = Writer::default();
    out.size(facts.cells.len());
    for (position, cell) in facts.cells.iter().enumerate() {
        let absolute = |span: Option<Span>| facts.absolute(position, span);
        out.size(cell.ordinal);
        out.u8(match cell.kind {
            None => 0,
            Some(kind) => CellKind::ALL
                .iter()
                .position(|known| *known == kind)
                .map_or(0, |index| index as u8 + 1),
        });
        match &cell.explicit_name {
            Some((name, span)) => {
                out.bool(true);
                out.str(name);
                encode_span(&mut out, absolute(*span));
            }
            None => out.bool(false),
        }
        out.size(cell.deps.len());
        for dep in &cell.deps {
            out.str(&dep.name);
            encode_span(&mut out, absolute(dep.span));
            out.u8(match dep.origin {
                DepOrigin::Tag => 0,
                DepOrigin::JcDeps => 1,
            });
        }
        for paths in [&cell.loads, &cell.produces] {
            out.size(paths.len());
            for path in paths {
                out.str(&path.path);
                encode_span(&mut out, absolute(path.span));
            }
        }
    }
    out.into_bytes()
}

/// The cell facts [`encode_cells`] wrote, spans in the notebook's text (for
/// [`NotebookFacts::new`]); `None` if the bytes are not such an encoding.
pub(super) fn decode_cells(bytes: &[u8]) -> Option<Vec<CellFacts>> {
    let mut input = Reader::new(bytes);
    let count = input.count(4)?;
    let mut cells = Vec::with_capacity(count);
    for _ in 0..count {
        let ordinal = input.size()?;
        let kind = match input.u8()? {
            0 => None,
            index => Some(*CellKind::ALL.get(usize::from(index) - 1)?),
        };
        let explicit_name = match input.bool()? {
            true => Some((input.string()?, decode_span(&mut input)?)),
            false => None,
        };
        let dep_count = input.count(3)?;
        let mut deps = Vec::with_capacity(dep_count);
        for _ in 0..dep_count {
            deps.push(DepRef {
                name: input.string()?,
                span: decode_span(&mut input)?,
                origin: match input.u8()? {
                    0 => DepOrigin::Tag,
                    1 => DepOrigin::JcDeps,
                    _ => return None,
                },
            });
        }
        let mut path_lists = [Vec::new(), Vec::new()];
        for list in &mut path_lists {
            let path_count = input.count(2)?;
            for _ in 0..path_count {
                list.push(PathRef {
                    path: input.string()?,
                    span: decode_span(&mut input)?,
                });
            }
        }
        let [loads, produces] = path_lists;
        cells.push(CellFacts {
            ordinal,
            kind,
            explicit_name,
            deps,
            loads,
            produces,
        });
    }
    input.is_at_end().then_some(cells)
}

fn encode_span(out: &mut Writer, span: Option<Span>) {
    match span {
        Some(span) => {
            out.bool(true);
            out.size(span.start);
            out.size(span.end);
        }
        None => out.bool(false),
    }
}

fn decode_span(input: &mut Reader) -> Option<Option<Span>> {
    Some(match input.bool()? {
        true => Some(Span::new(input.size()?, input.size()?)),
        false => None,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn sample_cells() -> Vec<CellFacts> {
        vec![
            CellFacts {
                ordinal: 0,
                kind: None,
                explicit_name: None,
                deps: Vec::new(),
                loads: Vec::new(),
                produces: Vec::new(),
            },
            CellFacts {
                ordinal: 1,
                kind: Some(CellKind::Figure),
                explicit_name: Some(("plot".into(), Some(Span::new(3, 7)))),
                deps: vec![DepRef {
                    name: "raw".into(),
                    span: None,
                    origin: DepOrigin::JcDeps,
                }],
                loads: vec![PathRef {
                    path: "artifacts/a.json".into(),
                    span: Some(Span::new(10, 20)),
                }],
                produces: vec![PathRef {
                    path: "artifacts/b.png".into(),
                    span: None,
                }],
            },
        ]
    }

    fn sample_cache() -> CheckCache {
        let facts = encode_cells(&NotebookFacts::new("nb.py".into(), sample_cells()));
        let entry = Entry {
            stamp: FileStamp {
                size: 10,
                modified_ns: 1,
                changed_ns: 2,
            },
            racy: false,
            content_hash: [7; 32],
            relative: "notebooks/a.py".into(),
            facts_hash: *blake3::hash(&facts).as_bytes(),
            facts,
            header_paired: true,
            local: Some(vec![StoredFinding {
                rule: "unknown-kind",
                start: Some((1, 2)),
                end: Some((1, 5)),
                message: "bad".into(),
                fixable: true,
            }]),
            graph: Some(([3; 32], Vec::new())),
            outputs: None,
        };
        CheckCache {
            entries: HashMap::from([(PathBuf::from("/p/notebooks/a.py"), entry)]),
        }
    }

    #[test]
    fn cell_facts_read_back_as_written() {
        let cells = sample_cells();
        let facts = NotebookFacts::new("nb.py".into(), cells.clone());
        assert_eq!(decode_cells(&encode_cells(&facts)), Some(cells));
    }

    #[test]
    fn facts_relative_to_their_cells_are_written_in_the_notebooks_text() {
        let cells = sample_cells();
        let relative = NotebookFacts::with_starts(
            "nb.py".into(),
            cells
                .iter()
                .map(|cell| Arc::new(cell.moved_by(-3)))
                .collect(),
            vec![3; cells.len()],
        );
        assert_eq!(decode_cells(&encode_cells(&relative)), Some(cells));
    }

    #[test]
    fn a_cache_reads_back_only_under_its_own_context() {
        let bytes = encode(&sample_cache(), &[1; 32]);
        let read = decode(&bytes, &[1; 32]).expect("reads back");
        let entry = &read.entries[Path::new("/p/notebooks/a.py")];
        assert_eq!(entry.local.as_ref().map(Vec::len), Some(1));
        assert_eq!(entry.relative, "notebooks/a.py");
        assert!(decode(&bytes, &[2; 32]).is_none());
    }

    #[test]
    fn every_truncation_of_a_cache_is_rejected_without_panicking() {
        let bytes = encode(&sample_cache(), &[1; 32]);
        for length in 0..bytes.len() {
            assert!(decode(&bytes[..length], &[1; 32]).is_none(), "{length}");
        }
    }

    #[test]
    fn any_damaged_byte_is_rejected() {
        let bytes = encode(&sample_cache(), &[1; 32]);
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x01;
            assert!(decode(&damaged, &[1; 32]).is_none(), "byte {at}");
        }
    }

    #[test]
    fn racy_means_changed_within_the_window() {
        let now = SystemTime::now();
        let stamp_at = |time: SystemTime| FileStamp {
            size: 0,
            modified_ns: nanos_since_epoch(time),
            changed_ns: nanos_since_epoch(time),
        };
        assert!(stamp_at(now).is_racy(now));
        assert!(!stamp_at(now - Duration::from_secs(60)).is_racy(now));
    }
}

//! One notebook's regression test: the reference read first (the paired `.ipynb`, or our
//! cache by each cell's current key), then a fresh run of every code cell in one kernel
//! — into a scratch store, so the cache is not touched, except under `--accept` for a
//! notebook without an `.ipynb`, whose fresh results then become the cache's — and a
//! [`Verdict`] per cell. `--accept` on a paired notebook writes the fresh outputs into
//! the `.ipynb` instead.
//!
//! As nbval: every cell runs even after a failure (keep going); an exception fails its
//! cell unless it is marked to raise; `NBVAL_SKIP` cells are not run (a later cell that
//! reads what one defines gets it the way any run restores inputs); a cell with no
//! reference result is not compared (and counted).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::Value;

use super::compare::{self, CompareOptions, Mismatch};
use super::markers::{self, Markers};
use crate::analysis::workspace::Workspace;
use crate::cache::Store;
use crate::format::{self, CellType, NotebookFormat};
use crate::lint::rules::paired::{folder_pairs_with_ipynb, header_pairs_with_ipynb};
use crate::project::Project;
use crate::review::align::{self, Aligned, CellIdentity};
use crate::review::{CellOutputs, Side};
use crate::run::{
    CellError, CellOutcome, Parameters, RunEvent, RunOptions, execute_plan, plan_run,
};
use crate::text::LineIndex;

#[derive(Debug, Clone, Default)]
pub struct TestOptions {
    /// Compare only cells marked `NBVAL_CHECK_OUTPUT` (errors still fail).
    pub lax: bool,
    /// Record the fresh outputs as the new reference.
    pub accept: bool,
    pub compare: CompareOptions,
}

/// Where a notebook's reference outputs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// The paired `.ipynb` (its path).
    Ipynb(PathBuf),
    /// Our cache, by each cell's current key.
    Cache,
}

/// How one code cell fared.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Its outputs match the reference.
    Passed,
    /// Its outputs differ from the reference.
    Failed(Vec<Mismatch>),
    /// It raised and was not marked to (or it timed out, or the kernel died).
    Raised(CellError),
    /// It did not run (the kernel died before it).
    NotRun,
    /// Its outputs differed and `--accept` made them the reference.
    Accepted(Vec<Mismatch>),
    /// Ran, outputs not compared (`NBVAL_IGNORE_OUTPUT`, or `--lax` without
    /// `NBVAL_CHECK_OUTPUT`).
    Ignored,
    /// Ran; the reference has no result for it.
    NoReference,
    /// Not run: `NBVAL_SKIP`, or a note cell (jellycell never runs those).
    Skipped(&'static str),
}

impl Verdict {
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Verdict::Failed(_) | Verdict::Raised(_) | Verdict::NotRun
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CellResult {
    pub ordinal: usize,
    /// nbval's `Cell N`: the position among code cells, from 0 as nbval 0.11.0 counts.
    pub code_index: usize,
    /// `name=`, else `<stem>:<ordinal>`.
    pub name: String,
    /// The 1-based line of its header (or of its first line when it has none).
    pub line: usize,
    pub source: String,
    pub markers: Markers,
    pub verdict: Verdict,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NotebookResult {
    /// Project-relative path.
    pub notebook: String,
    pub reference: Reference,
    pub cells: Vec<CellResult>,
    /// Things the user should know that are not failures (overlapping markers).
    pub warnings: Vec<String>,
    pub duration_ms: u64,
}

impl NotebookResult {
    pub fn failed(&self) -> bool {
        self.cells.iter().any(|cell| cell.verdict.is_failure())
    }
}

/// Tests the notebook at `path` of `project`. An `Err` is a usage problem (not a
/// notebook, a paired `.ipynb` that is missing or unreadable, a kernel that cannot start).
pub async fn test_notebook(
    project: &Project,
    path: &Path,
    options: &TestOptions,
) -> Result<NotebookResult, String> {
    let started = Instant::now();
    let (workspace, _) = Workspace::load(project.clone(), &[path.to_path_buf()]);
    let file = workspace
        .file_index(path)
        .ok_or_else(|| format!("{} is not a notebook (.py or .md)", path.display()))?;
    let notebook_file = &workspace.files[file];
    if notebook_file.format == NotebookFormat::Ipynb {
        return Err(format!(
            "{}: `test` runs text notebooks (.py, .md); for an .ipynb use `pytest --nbval`, or pair it with a text notebook",
            path.display()
        ));
    }
    if let Some(problem) = notebook_file.notebook.unsupported_format() {
        return Err(format!("{}: {}", path.display(), problem.message));
    }
    let paired = header_pairs_with_ipynb(&notebook_file.notebook)
        || folder_pairs_with_ipynb(notebook_file.path.parent().unwrap_or(Path::new(".")));
    let (reference, references, ipynb) = if paired {
        let ipynb_path = notebook_file.path.with_extension("ipynb");
        let (references, ipynb) = ipynb_references(&ipynb_path, &notebook_file.notebook)?;
        (Reference::Ipynb(ipynb_path), references, Some(ipynb))
    } else {
        let side = Side::from_cache(
            notebook_file.relative.clone(),
            &notebook_file.path,
            notebook_file.text.clone(),
            notebook_file.format,
        );
        (Reference::Cache, side.outputs, None)
    };

    let real_store = Store::open(&workspace.project);
    let mut plan = plan_run(&workspace, file, &Parameters::default(), true, &real_store);
    let mut cell_markers = HashMap::new();
    let mut warnings = Vec::new();
    for planned in &mut plan.cells {
        let Some(cell) = notebook_file.notebook.cells.get(planned.ordinal) else {
            continue;
        };
        let (found, overlap) = markers::markers(&cell.source, cell.metadata.get("tags"));
        if overlap {
            warnings.push(format!(
                "{}: cell {}: markers in both comments and tags; the comments' are used",
                notebook_file.relative, planned.name
            ));
        }
        if found.skip && planned.key.is_some() {
            planned.selected = false;
        }
        cell_markers.insert(planned.ordinal, found);
    }

    // The fresh results go to a scratch store unless they are to become the cache's.
    let record_in_cache = options.accept && reference == Reference::Cache;
    let scratch = (!record_in_cache)
        .then(|| std::env::temp_dir().join(format!("jellycell-lsp-test-{}", uuid::Uuid::new_v4())));
    let store = match &scratch {
        Some(dir) => Store::at(dir.clone()),
        None => Store::open(&workspace.project),
    };
    drop(real_store);
    let mut fresh: HashMap<usize, Vec<Value>> = HashMap::new();
    let run_options = RunOptions {
        keep_going: true,
        ..RunOptions::new()
    };
    let result = execute_plan(
        &workspace.project,
        &plan,
        &store,
        &run_options,
        &mut |event| {
            if let RunEvent::CellOutputs { cell, outputs } = event {
                fresh.insert(
                    cell.ordinal,
                    outputs
                        .iter()
                        .filter_map(|output| output.to_nbformat())
                        .collect(),
                );
            }
        },
    )
    .await;
    store.flush();
    drop(store);
    if let Some(dir) = &scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    let report = result.map_err(|error| error.to_string())?;

    let index = LineIndex::new(&notebook_file.text);
    let mut cells = Vec::new();
    let mut accepted_outputs: Vec<(usize, Vec<Value>, Option<u32>)> = Vec::new();
    for (code_index, cell_report) in report.cells.iter().enumerate() {
        let ordinal = cell_report.cell;
        let Some(cell) = notebook_file.notebook.cells.get(ordinal) else {
            continue;
        };
        let found = cell_markers.get(&ordinal).copied().unwrap_or_default();
        let outputs = fresh.remove(&ordinal).unwrap_or_default();
        let verdict = verdict(
            cell_report.status,
            cell_report.error.as_ref(),
            found,
            references.get(ordinal),
            &outputs,
            options,
            cell_report.kind == "note",
        );
        if options.accept && cell_report.status != CellOutcome::Skipped {
            accepted_outputs.push((ordinal, outputs, cell_report.execution_count));
        }
        let start = cell.spans.header.unwrap_or(cell.spans.body).start;
        cells.push(CellResult {
            ordinal,
            code_index,
            name: cell_report.name.clone(),
            line: index.line_column(&notebook_file.text, start).0,
            source: cell.source.clone(),
            markers: found,
            verdict,
            duration_ms: cell_report.duration_ms,
        });
    }
    if let (Reference::Ipynb(ipynb_path), Some(mut ipynb)) = (&reference, ipynb)
        && options.accept
    {
        ipynb.accept(&accepted_outputs);
        ipynb.write(ipynb_path)?;
    }
    Ok(NotebookResult {
        notebook: notebook_file.relative.clone(),
        reference,
        cells,
        warnings,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

fn verdict(
    status: CellOutcome,
    error: Option<&CellError>,
    found: Markers,
    reference: Option<&CellOutputs>,
    fresh: &[Value],
    options: &TestOptions,
    note: bool,
) -> Verdict {
    if note {
        return Verdict::Skipped("a jc.note cell, never run");
    }
    if found.skip {
        return Verdict::Skipped("NBVAL_SKIP");
    }
    match status {
        CellOutcome::Skipped => return Verdict::NotRun,
        CellOutcome::Error if !found.raises || !fresh_has_error(fresh) => {
            if let Some(error) = error {
                return Verdict::Raised(error.clone());
            }
        }
        _ => {}
    }
    if !found.check.unwrap_or(!options.lax) {
        return Verdict::Ignored;
    }
    let Some(CellOutputs::Recorded(reference)) = reference else {
        return Verdict::NoReference;
    };
    let mismatches = compare::compare(reference, fresh, &options.compare);
    match (mismatches.is_empty(), options.accept) {
        (true, _) => Verdict::Passed,
        (false, true) => Verdict::Accepted(mismatches),
        (false, false) => Verdict::Failed(mismatches),
    }
}

fn fresh_has_error(outputs: &[Value]) -> bool {
    outputs
        .iter()
        .any(|output| output.get("output_type").and_then(Value::as_str) == Some("error"))
}

/// The paired `.ipynb` as JSON, and which of its cells each text cell is.
struct PairedIpynb {
    json: Value,
    /// Text cell ordinal → `.ipynb` cell index.
    cell_of: HashMap<usize, usize>,
}

/// Per text cell: its reference outputs from the `.ipynb` at `path`, aligned to the text
/// notebook's cells by name and source.
fn ipynb_references(
    path: &Path,
    text_notebook: &format::Notebook,
) -> Result<(Vec<CellOutputs>, PairedIpynb), String> {
    let sync_hint = "run `jupytext --sync` on the text notebook, or `jellycell-lsp test --accept` after creating it";
    let text = std::fs::read_to_string(path).map_err(|error| {
        format!(
            "{}: the notebook is paired with it, but it cannot be read ({error}); {sync_hint}",
            path.display()
        )
    })?;
    let json: Value = serde_json::from_str(&text).map_err(|error| {
        format!(
            "{}: not notebook JSON ({error}); {sync_hint}",
            path.display()
        )
    })?;
    let ipynb = format::read(&text, NotebookFormat::Ipynb);
    let side = Side::from_ipynb(path.display().to_string(), ipynb);
    let identities = |notebook: &format::Notebook| -> Vec<(CellType, Option<String>, String)> {
        notebook
            .cells
            .iter()
            .map(|cell| (cell.cell_type, cell.spec.name.clone(), cell.source.clone()))
            .collect()
    };
    let ours = identities(text_notebook);
    let theirs = identities(&side.notebook);
    let (ours_view, theirs_view) = (identity_view(&ours), identity_view(&theirs));
    let mut cell_of = HashMap::new();
    for step in align::align(&ours_view, &theirs_view) {
        if let Aligned::Pair { old, new } = step
            && ours[old].0 == theirs[new].0
        {
            cell_of.insert(old, new);
        }
    }
    let references = (0..ours.len())
        .map(|ordinal| match cell_of.get(&ordinal) {
            Some(&j) => side.outputs_of(j).clone(),
            None => CellOutputs::NoResult,
        })
        .collect();
    Ok((references, PairedIpynb { json, cell_of }))
}

fn identity_view(cells: &[(CellType, Option<String>, String)]) -> Vec<CellIdentity<'_>> {
    cells
        .iter()
        .map(|(cell_type, name, source)| CellIdentity {
            cell_type: *cell_type,
            name: name.as_deref(),
            key: None,
            source,
        })
        .collect()
}

impl PairedIpynb {
    /// Puts the fresh outputs and execution counts of the text cells into their `.ipynb`
    /// cells.
    fn accept(&mut self, accepted: &[(usize, Vec<Value>, Option<u32>)]) {
        let Some(cells) = self.json.get_mut("cells").and_then(Value::as_array_mut) else {
            return;
        };
        for (ordinal, outputs, count) in accepted {
            let Some(cell) = self
                .cell_of
                .get(ordinal)
                .and_then(|&j| cells.get_mut(j))
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            cell.insert("outputs".into(), Value::Array(outputs.clone()));
            cell.insert(
                "execution_count".into(),
                count.map_or(Value::Null, Value::from),
            );
        }
    }

    /// Writes the notebook as nbformat does (one-space indent, a final newline), through
    /// a temporary file and a rename.
    fn write(&self, path: &Path) -> Result<(), String> {
        let mut text = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
        let mut serializer = serde_json::Serializer::with_formatter(&mut text, formatter);
        serde::Serialize::serialize(&self.json, &mut serializer)
            .map_err(|error| format!("{}: cannot write the notebook: {error}", path.display()))?;
        text.push(b'\n');
        let temporary = path.with_extension("ipynb.jellycell-tmp");
        std::fs::write(&temporary, &text)
            .and_then(|()| std::fs::rename(&temporary, path))
            .map_err(|error| format!("{}: cannot write the notebook: {error}", path.display()))
    }
}

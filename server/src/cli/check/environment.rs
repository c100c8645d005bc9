//! `--check`'s environment hints (`missing-import`, `jc-without-jellycell`): each reported
//! notebook's kernel environment, found as `run` finds it without building anything
//! (`run::environment_hints`, the editor's copy too), is asked once about the names of all
//! the notebooks that use it (one Python subprocess per environment). Two small caches in
//! the project's check folder keep this off repeated checks: `environment-names.json`,
//! each notebook's names by file stamp (so an unchanged notebook is not read again; one
//! the check has just analysed hands its names over, [`AnalysedSummaries`]), and
//! `environments.json` (`kernel::ProbeMemory`): the answers per interpreter, whether the
//! `python3` on PATH imports ipykernel, and poetry's environment, each with the state of
//! the files it was read from, so a check whose environment did not change starts no
//! process, and installing a package or rebuilding a venv asks again.
//!
//! Which environment a notebook's kernel would use is decided once per distinct target
//! (most notebooks share the project's), and the project's default is looked up on a
//! thread while the check reads the notebooks ([`EarlyEnvironment`]): when the memory
//! cannot answer, finding a kernel may start Python (`import ipykernel`), which costs more
//! than checking 200 notebooks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::UNIX_EPOCH;

use serde_json::{Value, json};

use super::report::CheckReport;
use crate::analysis::workspace::{AnalysisDepth, NotebookFile};
use crate::cli::files::write_atomically;
use crate::kernel::{Environment, NotebookEnvironment, ProbeMemory, SpecSearch};
use crate::lint::rules::environment::NotebookNames;
use crate::lint::{self, LintSettings};
use crate::project::Project;
use crate::project::read::read_text_file;
use crate::run::environment_hints::{self, KernelTarget, environment_facts, hints_environment};
use crate::text::Span;

const NAMES_FILE: &str = "environment-names.json";

/// One reported notebook: its names and what picks its environment.
struct Summary {
    path: PathBuf,
    names: NotebookNames,
    target: KernelTarget,
}

/// The summaries of the notebooks the check analysed in full anyway (taken while each
/// analysis is alive), so the hints need not read and parse them a second time. Each is
/// kept with the file's stamp from before its text was read: one whose file changed since
/// is read again.
#[derive(Default)]
pub(super) struct AnalysedSummaries(Mutex<HashMap<PathBuf, (Value, Summary)>>);

impl AnalysedSummaries {
    /// An empty collection when the hints apply to `project`, else `None`.
    pub(super) fn when_wanted(project: &Project, settings: &LintSettings) -> Option<Self> {
        hints_wanted(project, settings).then(Self::default)
    }

    /// Keeps `file`'s summary, read from a file of `modified_ns` and `size`.
    pub(super) fn keep(&self, project: &Project, file: &NotebookFile, modified_ns: i64, size: u64) {
        let stamp = json!([u64::try_from(modified_ns).unwrap_or(0), size]);
        let summary = summary_of(project, file);
        if let Ok(mut summaries) = self.0.lock() {
            summaries.insert(summary.path.clone(), (stamp, summary));
        }
    }

    /// The summary of `path` if its file still has `stamp`.
    fn take(&self, path: &Path, stamp: &Value) -> Option<Summary> {
        let (kept, summary) = self.0.lock().ok()?.remove(path)?;
        (kept == *stamp).then_some(summary)
    }
}

/// Whether the hints apply to `project` under `settings`.
pub(super) fn hints_wanted(project: &Project, settings: &LintSettings) -> bool {
    let wanted = settings.severity_of("missing-import").is_some()
        || settings.severity_of("jc-without-jellycell").is_some();
    // A kernel on a Jupyter server imports from the server's environment, which this
    // machine cannot probe.
    wanted && project.config.run.server.is_none()
}

/// The environment of a notebook without a PEP-723 block, being found on a thread with
/// the memory of the previous checks (read there too).
pub(super) struct EarlyEnvironment {
    target: KernelTarget,
    lookup: JoinHandle<(ProbeMemory, Option<Environment>)>,
}

impl EarlyEnvironment {
    /// Starts finding the project's default environment, when the hints apply; with the
    /// memory in the cache when `cacheable`.
    pub(super) fn start(
        project: &Project,
        settings: &LintSettings,
        cacheable: bool,
    ) -> Option<EarlyEnvironment> {
        if !hints_wanted(project, settings) {
            return None;
        }
        let target = KernelTarget {
            kernel: project.config.run.kernel.clone(),
            notebook: NotebookEnvironment::default(),
        };
        let (project, looked_for) = (project.clone(), target.clone());
        let lookup = std::thread::Builder::new()
            .spawn(move || {
                let mut memory = read_memory(&project, cacheable);
                let search = SpecSearch::from_env();
                let environment = hints_environment(&project, &looked_for, &search, &mut memory);
                (memory, environment)
            })
            .ok()?;
        Some(EarlyEnvironment { target, lookup })
    }
}

/// The memory of the previous checks (`environments.json`), empty when not `cacheable`,
/// missing or damaged.
fn read_memory(project: &Project, cacheable: bool) -> ProbeMemory {
    if !cacheable {
        return ProbeMemory::default();
    }
    environment_hints::read_memory(project).unwrap_or_else(|error| {
        if std::env::var_os("JELLYCELL_LSP_CHECK_STATS").is_some() {
            crate::cli::messages::note(&format!("environment memory damaged, ignored: {error}"));
        }
        ProbeMemory::default()
    })
}

/// Adds the hints for `reported` (notebook paths of `project`) to the report.
pub(super) fn add_hints(
    project: &Project,
    reported: &[PathBuf],
    settings: &LintSettings,
    cacheable: bool,
    early: Option<EarlyEnvironment>,
    analysed: Option<AnalysedSummaries>,
    report: &mut CheckReport,
) {
    if !hints_wanted(project, settings) || reported.is_empty() {
        return;
    }
    let folder = project.lsp_cache_dir().join("check");
    let names_path = folder.join(NAMES_FILE);
    let mut names_cache = cacheable
        .then(|| read_json(&names_path))
        .flatten()
        .unwrap_or_else(|| json!({}));
    // Known by stamp, else read below (all at once, on every core).
    let mut summaries: Vec<Option<Summary>> = Vec::with_capacity(reported.len());
    let mut unread: Vec<(usize, &PathBuf, Value)> = Vec::new();
    for path in reported {
        let Some(stamp) = stamp_of(path) else {
            continue;
        };
        let known = names_cache
            .get(path.display().to_string())
            .filter(|entry| entry["stamp"] == stamp)
            .and_then(|entry| summary_from_json(path, entry));
        if known.is_none() {
            unread.push((summaries.len(), path, stamp));
        }
        summaries.push(known);
    }
    let names_changed = !unread.is_empty();
    let mut analysed_now: Vec<Option<Summary>> = unread
        .iter()
        .map(|(_, path, stamp)| {
            analysed
                .as_ref()
                .and_then(|analysed| analysed.take(path, stamp))
        })
        .collect();
    let paths: Vec<&PathBuf> = unread
        .iter()
        .zip(&analysed_now)
        .filter(|(_, summary)| summary.is_none())
        .map(|((_, path, _), _)| *path)
        .collect();
    let mut read = read_summaries(project, &paths).into_iter();
    for summary in analysed_now.iter_mut().filter(|summary| summary.is_none()) {
        *summary = read.next().flatten();
    }
    if std::env::var_os("JELLYCELL_LSP_CHECK_STATS").is_some() {
        crate::cli::messages::note(&format!(
            "environment hints: {} names remembered, {} from the check, {} read",
            summaries.len() - unread.len(),
            unread.len() - paths.len(),
            paths.len()
        ));
    }
    for ((index, path, stamp), summary) in unread.into_iter().zip(analysed_now) {
        if let (Some(summary), Some(object)) = (&summary, names_cache.as_object_mut()) {
            object.insert(path.display().to_string(), summary_to_json(summary, stamp));
        }
        summaries[index] = summary;
    }
    let summaries: Vec<Summary> = summaries.into_iter().flatten().collect();
    if cacheable && names_changed {
        write_json(&names_path, &names_cache);
    }

    let search = SpecSearch::from_env();
    // One lookup per distinct target: most notebooks share the project's environment.
    let mut environments: HashMap<KernelTarget, Option<Environment>> = HashMap::new();
    let mut memory = match early {
        Some(early) => {
            let (memory, environment) = early
                .lookup
                .join()
                .unwrap_or_else(|_| (read_memory(project, cacheable), None));
            environments.insert(early.target, environment);
            memory
        }
        None => read_memory(project, cacheable),
    };
    for summary in &summaries {
        let environment = environments
            .entry(summary.target.clone())
            .or_insert_with(|| hints_environment(project, &summary.target, &search, &mut memory));
        let Some(environment) = environment.clone() else {
            continue;
        };
        let Some(facts) = environment_facts(&mut memory, project, &environment, &summary.names)
        else {
            continue;
        };
        let findings = lint::check_environment(&summary.names, &facts, settings);
        if findings.is_empty() {
            continue;
        }
        let limit = project.config.lint.max_file_bytes();
        if let Ok(text) = read_text_file(&summary.path, limit) {
            report.add(&summary.path, &text, &findings);
        }
    }
    if cacheable && memory.changed() {
        environment_hints::write_memory(project, &mut memory);
    }
}

/// The summaries of `paths`, in their order, read on every core.
fn read_summaries(project: &Project, paths: &[&PathBuf]) -> Vec<Option<Summary>> {
    let threads = std::thread::available_parallelism().map_or(1, |count| count.get());
    let chunk_size = paths.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = paths
            .chunks(chunk_size)
            .map(|chunk| {
                let worker = scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|path| read_summary(project, path))
                        .collect::<Vec<_>>()
                });
                (chunk.len(), worker)
            })
            .collect();
        // A worker that panicked (a bug in a reader) loses its notebooks' hints only.
        workers
            .into_iter()
            .flat_map(|(count, worker)| {
                worker
                    .join()
                    .unwrap_or_else(|_| (0..count).map(|_| None).collect())
            })
            .collect()
    })
}

fn read_summary(project: &Project, path: &Path) -> Option<Summary> {
    let format = crate::analysis::workspace::notebook_format_of(path)?;
    let text = read_text_file(path, project.config.lint.max_file_bytes()).ok()?;
    // The names need the `jc.*` calls and the import lines, not a full analysis.
    let depth = AnalysisDepth::Facts;
    let file = NotebookFile::with_depth(project, path.to_path_buf(), text, format, depth);
    Some(summary_of(project, &file))
}

fn summary_of(project: &Project, file: &NotebookFile) -> Summary {
    Summary {
        path: file.path.clone(),
        names: NotebookNames::of(file),
        target: KernelTarget::of(project, file),
    }
}

/// `[mtime in ns, length]`, what tells that a notebook changed.
fn stamp_of(path: &Path) -> Option<Value> {
    let metadata = std::fs::metadata(path).ok()?;
    Some(json!([nanos(metadata.modified().ok()), metadata.len()]))
}

fn nanos(time: Option<std::time::SystemTime>) -> u64 {
    time.and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_nanos() as u64)
}

fn span_json(span: Span) -> Value {
    json!([span.start, span.end])
}

fn span_of(value: &Value) -> Option<Span> {
    Some(Span::new(
        value.get(0)?.as_u64()? as usize,
        value.get(1)?.as_u64()? as usize,
    ))
}

fn summary_to_json(summary: &Summary, stamp: Value) -> Value {
    let names = &summary.names;
    json!({
        "stamp": stamp,
        "kernel": summary.target.kernel,
        "python": summary.target.notebook.python,
        "requires_python": summary.target.notebook.requires_python,
        "all_dependencies": summary.target.notebook.dependencies,
        "modules": names.modules.iter().map(|(m, s)| json!([m, span_json(*s)])).collect::<Vec<_>>(),
        "dependencies": names.dependencies.iter()
            .map(|(d, n, s)| json!([d, n, span_json(*s)])).collect::<Vec<_>>(),
        "jc": names.first_jc_call.as_ref().map(|(c, s)| json!([c, span_json(*s)])),
    })
}

fn summary_from_json(path: &Path, entry: &Value) -> Option<Summary> {
    let text = |value: &Value| value.as_str().map(str::to_string);
    let modules = entry["modules"]
        .as_array()?
        .iter()
        .map(|item| Some((text(&item[0])?, span_of(&item[1])?)))
        .collect::<Option<Vec<_>>>()?;
    let dependencies = entry["dependencies"]
        .as_array()?
        .iter()
        .map(|item| Some((text(&item[0])?, text(&item[1])?, span_of(&item[2])?)))
        .collect::<Option<Vec<_>>>()?;
    let first_jc_call = match &entry["jc"] {
        Value::Null => None,
        item => Some((text(&item[0])?, span_of(&item[1])?)),
    };
    let all_dependencies = entry["all_dependencies"]
        .as_array()?
        .iter()
        .map(text)
        .collect::<Option<Vec<_>>>()?;
    Some(Summary {
        path: path.to_path_buf(),
        names: NotebookNames {
            modules,
            dependencies,
            first_jc_call,
        },
        target: KernelTarget {
            kernel: text(&entry["kernel"])?,
            notebook: NotebookEnvironment {
                python: text(&entry["python"]),
                dependencies: all_dependencies,
                requires_python: text(&entry["requires_python"]),
            },
        },
    })
}

fn read_json(path: &Path) -> Option<Value> {
    let value: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    value.is_object().then_some(value)
}

fn write_json(path: &Path, value: &Value) {
    if let Some(folder) = path.parent() {
        let _ = std::fs::create_dir_all(folder);
    }
    let _ = write_atomically(path, &value.to_string());
}

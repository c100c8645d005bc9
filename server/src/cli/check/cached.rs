//! `--check` of one project through the check cache (`facts_cache`): an unchanged
//! notebook is not read, parsed or analysed again; its stored facts feed the project
//! graph and its stored findings are reported.
//!
//! Per notebook the stamp decides: equal stamp (and not racy) → cached; else the content
//! is hashed, and an equal hash → cached (the stamp is refreshed). Everything else is
//! read and analysed as the uncached check does (on every core), and stored. The graph
//! rules' findings depend on every notebook: they are stored with the hash of all
//! notebooks' facts and recomputed from the (cached) facts when that hash changes.
//! `paired-out-of-sync` (it reads the `.ipynb` and jupytext's config files) is never
//! stored: it is computed on every check, for paired notebooks only.
//! `warn-on-large-cell-output` (it reads the run cache) is stored with a token over what
//! it depends on and recomputed when that changes; without any manifest it finds nothing.
//!
//! `JELLYCELL_LSP_CHECK_STATS=1` prints how many notebooks came from the cache and how
//! many were analysed on stderr (for tests and benchmarks).
//!
//! `--no-cache` is this check with an empty cache that stores nothing ([`Persist::No`]),
//! so it is never slower than a cold check. The output does not depend on the cache:
//! `tests/cli_check_cache.rs` compares cold, warm and `--no-cache` runs, and
//! `tests/check_one_notebook.rs` the findings with the library's `lint::check_file` over
//! the whole project's workspace.
//!
//! Memory: a notebook analysed here is reduced to its entry, facts and text as soon as
//! its analysis is done (`workspace::map_notebooks`); the graph rules and the pairing
//! check read the text again when they have something to say.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::Target;
use super::environment::AnalysedSummaries;
use super::facts_cache::{
    CheckCache, Entry, FileStamp, Hash, StoredFinding, decode_cells, encode_cells,
};
use super::messages;
use super::report::CheckReport;
use crate::analysis::graph::{NotebookFacts, ProjectGraph};
use crate::analysis::relevance::{Candidate, Relevance};
use crate::analysis::workspace::{
    self, AnalysisDepth, LoadError, NotebookFile, NotebookInput, Workspace, discover_notebooks,
    notebook_format_of,
};
use crate::cache::{self, Store};
use crate::format::NotebookFormat;
use crate::lint::{self, Finding, LintSettings, rules};
use crate::project::Project;
use crate::project::read::{ReadError, read_text_file};
use crate::text::LineIndex;

/// One notebook of the check, as far as it has been read.
struct Slot {
    path: PathBuf,
    format: NotebookFormat,
    reported: bool,
    /// The stored (or freshly computed) entry.
    entry: Entry,
    /// True when the entry came from the cache and still holds.
    cached: bool,
    /// The text, when it was read.
    text: Option<String>,
    /// The notebook read (and analysed, for a cache miss), when it was needed.
    file: Option<Arc<NotebookFile>>,
    /// Facts of a cache miss (cached ones are decoded from the entry when needed).
    facts: Option<NotebookFacts>,
}

/// Whether the check reads and writes the cache (`--no-cache` and checks outside a
/// project do neither: they are a cold check that stores nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Persist {
    Yes,
    No,
}

/// Adds the target's findings to the report, through the cache in the project's cache
/// folder (when `persist`); false when a file could not be read.
pub(super) fn check_target(
    target: &Target,
    settings: &LintSettings,
    report: &mut CheckReport,
    persist: Persist,
    summaries: Option<&AnalysedSummaries>,
) -> bool {
    let project = &target.project;
    let cache_path = CheckCache::file_in(&project.lsp_cache_dir());
    let context = context_hash(project);
    let mut cache = match persist {
        Persist::Yes => CheckCache::load(&cache_path, &context),
        Persist::No => CheckCache::default(),
    };
    let loaded_entries = cache.entries.len();
    let now = SystemTime::now();
    let mut ok = true;
    let mut changed = false;

    let reported: Option<HashSet<&Path>> = target
        .notebooks
        .as_ref()
        .map(|paths| paths.iter().map(PathBuf::as_path).collect());
    let mut paths = discover_notebooks(project);
    let mut known: HashSet<PathBuf> = paths.iter().cloned().collect();
    for extra in target.notebooks.iter().flatten() {
        if known.insert(extra.clone()) {
            paths.push(extra.clone());
        }
    }

    // Sort every notebook into cached (stamp or content unchanged) and to-analyse. When
    // only some notebooks are reported, the other misses wait (`pending`) until the
    // relevance search says whether they can change the reported notebooks' graph.
    let some_reported = reported.is_some();
    let mut slots: Vec<Option<Slot>> = Vec::with_capacity(paths.len());
    let mut misses: Vec<(usize, NotebookInput, AnalysisDepth, FileStamp)> = Vec::new();
    let mut pending: Vec<(usize, NotebookInput, FileStamp)> = Vec::new();
    for path in paths {
        let Some(format) = notebook_format_of(&path) else {
            continue;
        };
        let is_reported = reported
            .as_ref()
            .is_none_or(|reported| reported.contains(path.as_path()));
        let stamp = match std::fs::metadata(&path) {
            Ok(metadata) => FileStamp::of(&metadata),
            Err(error) => {
                let error = LoadError::new(path, &ReadError::Io(error));
                super::report_unreadable(&error, target, settings, report);
                continue;
            }
        };
        let usable = cache
            .entries
            .remove(&path)
            .filter(|entry| !is_reported || entry.local.is_some());
        let usable = match usable {
            Some(entry) if entry.stamp == stamp && !entry.racy => {
                slots.push(Some(Slot::cached(path, format, is_reported, entry, None)));
                continue;
            }
            usable => usable,
        };
        let text = match read_text_file(&path, project.config.lint.max_file_bytes()) {
            Ok(text) => text,
            Err(error) => {
                let error = LoadError::new(path, &error);
                super::report_unreadable(&error, target, settings, report);
                continue;
            }
        };
        match usable {
            Some(mut entry) if entry.content_hash == *blake3::hash(text.as_bytes()).as_bytes() => {
                entry.stamp = stamp;
                entry.racy = stamp.is_racy(now);
                changed = true;
                slots.push(Some(Slot::cached(
                    path,
                    format,
                    is_reported,
                    entry,
                    Some(text),
                )));
            }
            _ if some_reported && !is_reported => {
                pending.push((slots.len(), NotebookInput { path, text }, stamp));
                slots.push(None);
            }
            _ => {
                let depth = if is_reported {
                    AnalysisDepth::Full
                } else {
                    AnalysisDepth::Facts
                };
                misses.push((slots.len(), NotebookInput { path, text }, depth, stamp));
                slots.push(None);
            }
        }
    }

    // Analyse what changed, on every core (the uncached check's reader and analysis).
    let mut analysed = misses.len();
    changed |= !misses.is_empty() || !pending.is_empty();
    analyse(project, settings, misses, &mut slots, now, summaries);
    // The graph of a few notebooks needs only the notebooks that can change it, unless
    // every notebook is known and the stored findings hold for the whole project.
    let whole_project_hash = pending
        .is_empty()
        .then(|| graph_hash(slots.iter().flatten()));
    let stored_hold = |slot: &Slot, hash: &Hash| {
        slot.cached && slot.entry.graph.as_ref().map(|(held, _)| held) == Some(hash)
    };
    let reported_hold = whole_project_hash.as_ref().is_some_and(|hash| {
        slots
            .iter()
            .flatten()
            .filter(|slot| slot.reported)
            .all(|slot| stored_hold(slot, hash))
    });
    let mut bystanders: Vec<Slot> = Vec::new();
    if some_reported && !reported_hold {
        let members = relevant_slots(project, settings, &mut slots, &mut pending, now);
        analysed += members.analysed;
        for (slot, member) in slots.iter_mut().zip(members.of_slots) {
            if !member && let Some(slot) = slot.take() {
                bystanders.push(slot);
            }
        }
    }
    if persist == Persist::Yes && std::env::var_os("JELLYCELL_LSP_CHECK_STATS").is_some() {
        let known = slots.iter().flatten().count() + bystanders.len();
        eprintln!(
            "jellycell-lsp: check cache: {} cached, {analysed} analysed",
            known - analysed
        );
    }
    let mut slots: Vec<Slot> = slots.into_iter().flatten().collect();

    // The graph, rebuilt from the facts only when some reported notebook needs it.
    let graph_hash = graph_hash(&slots);
    let graph_is_stale = |slot: &Slot| {
        !stored_hold(slot, &graph_hash)
            && !whole_project_hash
                .as_ref()
                .is_some_and(|hash| stored_hold(slot, hash))
    };
    let needs_graph = slots
        .iter()
        .any(|slot| slot.reported && graph_is_stale(slot));
    let graph = needs_graph.then(|| {
        ProjectGraph::build(
            slots
                .iter_mut()
                .map(|slot| {
                    slot.facts.take().unwrap_or_else(|| {
                        NotebookFacts::new(
                            slot.entry.relative.clone(),
                            // The bytes match their stored hash, so they are our own encoding.
                            decode_cells(&slot.entry.facts).unwrap_or_default(),
                        )
                    })
                })
                .collect(),
        )
    });

    let output_sizes_apply = settings.severity_of("warn-on-large-cell-output").is_some()
        && project.config.lint.large_output_limit().is_some()
        && has_manifests(&Store::open(project));
    let mut paired_folders: HashMap<PathBuf, bool> = HashMap::new();
    for (index, slot) in slots.iter_mut().enumerate() {
        if !slot.reported {
            continue;
        }
        if let Some(graph) = &graph
            && graph_is_stale(slot)
        {
            match slot.graph_findings(project, graph, index, settings) {
                Ok(findings) => {
                    slot.entry.graph = Some((graph_hash, findings));
                    changed = true;
                }
                Err(message) => {
                    messages::error(&message);
                    ok = false;
                    continue;
                }
            }
        }
        let mut findings: Vec<StoredFinding> = Vec::new();
        findings.extend(slot.entry.local.iter().flatten().cloned());
        findings.extend(
            slot.entry
                .graph
                .iter()
                .flat_map(|(_, found)| found)
                .cloned(),
        );
        let folder = slot.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let paired = slot.entry.header_paired
            || *paired_folders
                .entry(folder)
                .or_insert_with_key(|folder| rules::paired::folder_pairs_with_ipynb(folder));
        if paired && settings.severity_of("paired-out-of-sync").is_some() {
            match slot.read(project) {
                Ok(file) => {
                    let file = Arc::clone(file);
                    findings.extend(locate(&file.text, &rules::paired::findings(&file)));
                }
                Err(message) => {
                    messages::error(&message);
                    ok = false;
                    continue;
                }
            }
        }
        let mut findings: Vec<(StoredFinding, lint::Severity)> = findings
            .into_iter()
            .filter_map(|finding| {
                let severity = settings.severity_of(finding.rule)?;
                Some((finding, severity))
            })
            .collect();
        findings.sort_by_key(|(finding, _)| (finding.start.zip(finding.end), finding.rule));
        report.add_located(&slot.path, findings);
        report.files += 1;
    }

    if output_sizes_apply {
        ok &= report_output_sizes(
            project,
            &mut slots,
            graph,
            &graph_hash,
            settings,
            report,
            &mut changed,
        );
    } else {
        leave_for_exit(graph);
    }
    if target.whole_project {
        for path in &lint::check_project_paths(project, settings) {
            report.add(&path.path, &path.text, &path.findings);
        }
    }

    slots.extend(bystanders);
    let stored_paths: HashSet<&Path> = slots.iter().map(|slot| slot.path.as_path()).collect();
    // Entries of notebooks this check did not look at (another target's extra files)
    // stay; those of notebooks it looked at are replaced.
    cache
        .entries
        .retain(|path, _| !stored_paths.contains(path.as_path()) && path.exists());
    changed |= cache.entries.len() + slots.len() != loaded_entries;
    if changed && persist == Persist::Yes {
        for slot in slots {
            cache.entries.insert(slot.path, slot.entry);
        }
        // A cache that cannot be written (read-only checkout) only costs speed.
        let _ = cache.save(&cache_path, &context);
    }
    leave_for_exit(cache);
    ok
}

/// Analyses `misses` (on every core, as the uncached check does) into their slots, giving
/// the fully analysed ones to `summaries` for the environment hints.
fn analyse(
    project: &Project,
    settings: &LintSettings,
    misses: Vec<(usize, NotebookInput, AnalysisDepth, FileStamp)>,
    slots: &mut [Option<Slot>],
    now: SystemTime,
    summaries: Option<&AnalysedSummaries>,
) {
    if misses.is_empty() {
        return;
    }
    let depths: HashMap<PathBuf, AnalysisDepth> = misses
        .iter()
        .map(|(_, input, depth, _)| (input.path.clone(), *depth))
        .collect();
    let inputs = misses
        .iter()
        .map(|(_, input, _, _)| input.clone())
        .collect();
    let stamps: HashMap<PathBuf, FileStamp> = misses
        .iter()
        .map(|(_, input, _, stamp)| (input.path.clone(), *stamp))
        .collect();
    let depth_of = |path: &Path| depths.get(path).copied().unwrap_or(AnalysisDepth::Facts);
    // Each notebook is reduced to its slot as soon as it is analysed.
    let analysed = workspace::map_notebooks(project, inputs, depth_of, |file| {
        let format = notebook_format_of(&file.path)?;
        let stamp = *stamps.get(&file.path)?;
        let depth = depth_of(&file.path);
        if let (Some(summaries), AnalysisDepth::Full) = (summaries, depth) {
            summaries.keep(project, &file, stamp.modified_ns, stamp.size);
        }
        Some(Slot::analysed(
            project, settings, file, format, depth, stamp, now,
        ))
    });
    let mut analysed: HashMap<PathBuf, Slot> = analysed
        .into_iter()
        .flatten()
        .map(|slot| (slot.path.clone(), slot))
        .collect();
    for (index, input, _, _) in misses {
        if let (Some(slot), Some(analysed)) = (slots.get_mut(index), analysed.remove(&input.path)) {
            *slot = Some(analysed);
        }
    }
}

/// Which slots take part in the graph of the reported notebooks.
struct Members {
    /// Per slot: in the graph (the reported notebooks and those that can change their
    /// graph, or every notebook when a reported one suggests names).
    of_slots: Vec<bool>,
    /// How many pending notebooks were analysed to find them.
    analysed: usize,
}

/// The reported slots and the others that can change their graph
/// ([`Relevance::search`]): cached ones judged by their facts, `pending` ones (not
/// analysed yet) by their text, and analysed (to facts depth) when they count. When a
/// reported notebook has an unknown dependency, whose "did you mean" looks at every name
/// of the project, every pending notebook is analysed and every slot takes part.
fn relevant_slots(
    project: &Project,
    settings: &LintSettings,
    slots: &mut [Option<Slot>],
    pending: &mut Vec<(usize, NotebookInput, FileStamp)>,
    now: SystemTime,
) -> Members {
    let decoded: Vec<Option<NotebookFacts>> = slots
        .iter()
        .map(|slot| {
            let slot = slot.as_ref()?;
            Some(match &slot.facts {
                Some(facts) => facts.clone(),
                None => NotebookFacts::new(
                    slot.entry.relative.clone(),
                    decode_cells(&slot.entry.facts).unwrap_or_default(),
                ),
            })
        })
        .collect();
    let seeds: Vec<&NotebookFacts> = slots
        .iter()
        .zip(&decoded)
        .filter(|(slot, _)| slot.as_ref().is_some_and(|slot| slot.reported))
        .filter_map(|(_, facts)| facts.as_ref())
        .collect();
    // Candidates: the other known slots by facts, then the pending ones by text.
    let known: Vec<usize> = (0..slots.len())
        .filter(|&index| {
            slots[index]
                .as_ref()
                .is_some_and(|slot| !slot.reported && decoded[index].is_some())
        })
        .collect();
    let mut candidates: Vec<Candidate> = known
        .iter()
        .filter_map(|&index| decoded[index].as_ref().map(Candidate::Facts))
        .collect();
    candidates.extend(pending.iter().map(|(_, input, _)| Candidate::Text {
        path: &input.path,
        text: &input.text,
    }));
    // The pending notebooks found, read to facts depth: (position in `pending`, file).
    let mut read: Vec<(usize, NotebookFile)> = Vec::new();
    let found = Relevance::search(&seeds, &candidates, |batch| {
        let batch: Vec<usize> = batch.iter().map(|&index| index - known.len()).collect();
        let inputs: Vec<NotebookInput> = batch
            .iter()
            .filter_map(|&index| pending.get(index).map(|(_, input, _)| input.clone()))
            .collect();
        let facts_depth = |_: &Path| AnalysisDepth::Facts;
        let files = workspace::read_notebooks(project, inputs, facts_depth);
        let facts = files.iter().map(workspace::facts).collect();
        read.extend(batch.into_iter().zip(files));
        facts
    });
    let mut of_slots: Vec<bool> = slots
        .iter()
        .map(|slot| slot.as_ref().is_some_and(|slot| slot.reported))
        .collect();
    for (position, &index) in known.iter().enumerate() {
        of_slots[index] = found[position];
    }
    let take = |pending: &mut Vec<(usize, NotebookInput, FileStamp)>, chosen: &[usize]| {
        let chosen: HashSet<usize> = chosen.iter().copied().collect();
        let mut taken = Vec::new();
        let mut kept = Vec::new();
        for (position, item) in std::mem::take(pending).into_iter().enumerate() {
            if chosen.contains(&position) {
                taken.push(item);
            } else {
                kept.push(item);
            }
        }
        *pending = kept;
        taken
    };
    let as_misses = |taken: Vec<(usize, NotebookInput, FileStamp)>| {
        taken
            .into_iter()
            .map(|(index, input, stamp)| (index, input, AnalysisDepth::Facts, stamp))
            .collect::<Vec<_>>()
    };
    // In `pending`'s order, as `take` returns them (the search reads in rounds).
    read.sort_by_key(|(position, _)| *position);
    let positions: Vec<usize> = read.iter().map(|(position, _)| *position).collect();
    let found_pending = take(pending, &positions);
    let mut analysed = found_pending.len();
    for ((index, input, stamp), (_, file)) in found_pending.into_iter().zip(read) {
        let Some(format) = notebook_format_of(&input.path) else {
            continue;
        };
        let depth = AnalysisDepth::Facts;
        if let (Some(member), Some(slot)) = (of_slots.get_mut(index), slots.get_mut(index)) {
            *member = true;
            *slot = Some(Slot::analysed(
                project, settings, file, format, depth, stamp, now,
            ));
        }
    }

    let graph = ProjectGraph::build(
        slots
            .iter()
            .zip(&of_slots)
            .filter(|(_, member)| **member)
            .filter_map(|(slot, _)| slot.as_ref())
            .map(|slot| match &slot.facts {
                Some(facts) => facts.clone(),
                None => NotebookFacts::new(
                    slot.entry.relative.clone(),
                    decode_cells(&slot.entry.facts).unwrap_or_default(),
                ),
            })
            .collect(),
    );
    let reported_positions: Vec<usize> = slots
        .iter()
        .zip(&of_slots)
        .filter(|(_, member)| **member)
        .enumerate()
        .filter(|(_, (slot, _))| slot.as_ref().is_some_and(|slot| slot.reported))
        .map(|(position, _)| position)
        .collect();
    if Relevance::needs_every_name(&graph, &reported_positions) {
        let everything: Vec<usize> = (0..pending.len()).collect();
        let rest = take(pending, &everything);
        analysed += rest.len();
        analyse(project, settings, as_misses(rest), slots, now, None);
        of_slots = slots.iter().map(Option::is_some).collect();
    }
    leave_for_exit(graph);
    Members { of_slots, analysed }
}

/// Keeps a large structure alive until the process exits (the check is the last thing
/// `--check` does): freeing a 10,000-cell graph piece by piece costs milliseconds and
/// gains nothing.
fn leave_for_exit<T>(value: T) {
    std::mem::forget(value);
}

impl Slot {
    fn cached(
        path: PathBuf,
        format: NotebookFormat,
        reported: bool,
        entry: Entry,
        text: Option<String>,
    ) -> Slot {
        Slot {
            path,
            format,
            reported,
            entry,
            cached: true,
            text,
            file: None,
            facts: None,
        }
    }

    /// A notebook just read and analysed: its entry, with the findings of the rules that
    /// read only this notebook when it was fully analysed. Of the file only the text is
    /// kept (the graph rules and the pairing check read it again if they need it).
    fn analysed(
        project: &Project,
        settings: &LintSettings,
        file: NotebookFile,
        format: NotebookFormat,
        depth: AnalysisDepth,
        stamp: FileStamp,
        now: SystemTime,
    ) -> Slot {
        let facts = workspace::facts(&file);
        let encoded = encode_cells(&facts);
        let local = (depth == AnalysisDepth::Full).then(|| {
            let mut findings = rules::reader::findings(&file);
            findings.extend(rules::syntax::findings(&file));
            findings.extend(rules::names::findings(&file));
            if settings.enforce_artifact_paths {
                let artifacts = &project.config.paths.artifacts;
                findings.extend(rules::artifact_paths::findings(&file, artifacts));
            }
            locate(&file.text, &findings)
        });
        let entry = Entry {
            stamp,
            racy: stamp.is_racy(now),
            content_hash: *blake3::hash(file.text.as_bytes()).as_bytes(),
            relative: file.relative.clone(),
            facts_hash: *blake3::hash(&encoded).as_bytes(),
            facts: encoded,
            header_paired: rules::paired::header_pairs_with_ipynb(&file.notebook),
            local,
            graph: None,
            outputs: None,
        };
        Slot {
            path: file.path,
            format,
            reported: depth == AnalysisDepth::Full,
            entry,
            cached: false,
            text: Some(file.text),
            file: None,
            facts: Some(facts),
        }
    }

    /// The notebook's cells and text (read now if need be; analysed only if it was a
    /// cache miss).
    fn read(&mut self, project: &Project) -> Result<&Arc<NotebookFile>, String> {
        if self.file.is_none() {
            let text = match self.text.take() {
                Some(text) => text,
                None => read_text_file(&self.path, project.config.lint.max_file_bytes())
                    .map_err(|error| error.message(&self.path))?,
            };
            self.file = Some(Arc::new(NotebookFile::without_analysis(
                project,
                self.path.clone(),
                text,
                self.format,
            )));
        }
        self.file
            .as_ref()
            .ok_or_else(|| format!("cannot read {}", self.path.display()))
    }

    /// The graph rules' findings for this notebook (`index` in `graph`); the notebook is
    /// read only when there is a finding to locate.
    fn graph_findings(
        &mut self,
        project: &Project,
        graph: &ProjectGraph,
        index: usize,
        settings: &LintSettings,
    ) -> Result<Vec<StoredFinding>, String> {
        let graph_rules = rules::graph::findings_in(graph, index);
        let declared = settings.enforce_declared_deps && rules::declared_deps::any_in(graph, index);
        if graph_rules.is_empty() && !declared {
            return Ok(Vec::new());
        }
        let file = Arc::clone(self.read(project)?);
        let mut findings = graph_rules;
        if declared {
            findings.extend(rules::declared_deps::findings_in(graph, index, &file));
        }
        Ok(locate(&file.text, &findings))
    }
}

/// `warn-on-large-cell-output`: its findings depend on every cell's current cache key
/// and on the run cache, so they are stored with a token over both (every notebook's
/// content and the graph, the lock files, the manifests folder's stamp) and recomputed
/// when it changes: then every notebook is read (not analysed: the graph comes from the
/// facts). Returns false when a file could not be read.
fn report_output_sizes(
    project: &Project,
    slots: &mut [Slot],
    graph: Option<ProjectGraph>,
    graph_hash: &Hash,
    settings: &LintSettings,
    report: &mut CheckReport,
    changed: &mut bool,
) -> bool {
    let store = Store::open(project);
    let token = outputs_token(project, &store, slots, graph_hash);
    let stored = |slot: &Slot| {
        slot.entry
            .outputs
            .as_ref()
            .filter(|(held, _)| Some(held) == token.as_ref())
            .is_some()
    };
    let reuse = slots.iter().filter(|slot| slot.reported).all(stored);
    if std::env::var_os("JELLYCELL_LSP_CHECK_STATS").is_some() {
        let what = if reuse { "reused" } else { "recomputed" };
        eprintln!("jellycell-lsp: check cache: large outputs {what}");
    }
    if !reuse {
        *changed = true;
        let graph = graph.unwrap_or_else(|| {
            ProjectGraph::build(
                slots
                    .iter()
                    .map(|slot| {
                        NotebookFacts::new(
                            slot.entry.relative.clone(),
                            decode_cells(&slot.entry.facts).unwrap_or_default(),
                        )
                    })
                    .collect(),
            )
        });
        let mut files = Vec::with_capacity(slots.len());
        for slot in slots.iter_mut() {
            match slot.read(project) {
                Ok(file) => files.push(Arc::clone(file)),
                Err(message) => {
                    messages::error(&message);
                    return false;
                }
            }
        }
        let workspace = Workspace {
            project: project.clone(),
            files,
            graph,
        };
        let lint = &project.config.lint;
        let Some(limit) = lint.large_output_limit() else {
            return true;
        };
        for (index, slot) in slots.iter_mut().enumerate() {
            if !slot.reported {
                continue;
            }
            let sizes = cache::output_sizes(&workspace, index, &store);
            let file = &workspace.files[index];
            let findings =
                rules::large_output::findings(file, &sizes, limit, &lint.warn_on_large_cell_output);
            // Without a token (a lock file or the run cache changed this very moment)
            // the findings are reported but kept only for this run.
            slot.entry.outputs = Some((token.unwrap_or_default(), locate(&file.text, &findings)));
        }
        leave_for_exit(workspace);
    } else {
        leave_for_exit(graph);
    }
    for slot in slots.iter_mut().filter(|slot| slot.reported) {
        let findings = slot.entry.outputs.iter().flat_map(|(_, found)| found);
        report.add_located(
            &slot.path,
            findings
                .filter_map(|finding| Some((finding.clone(), settings.severity_of(finding.rule)?))),
        );
        if token.is_none() {
            slot.entry.outputs = None;
        }
    }
    true
}

/// What the large-output findings depend on beyond the config; `None` when something
/// changed too recently for its stamp to be trusted.
fn outputs_token(
    project: &Project,
    store: &Store,
    slots: &[Slot],
    graph_hash: &Hash,
) -> Option<Hash> {
    let now = SystemTime::now();
    let mut hasher = blake3::Hasher::new();
    hasher.update(graph_hash);
    for slot in slots {
        hasher.update(&slot.entry.content_hash);
    }
    let manifests = store.root().join("manifests");
    let lock_files = ["uv.lock", "poetry.lock"].map(|name| project.root.join(name));
    for path in std::iter::once(&manifests).chain(&lock_files) {
        match std::fs::metadata(path) {
            Ok(metadata) => {
                let stamp = FileStamp::of(&metadata);
                if stamp.is_racy(now) {
                    return None;
                }
                hasher.update(&[1]);
                hasher.update(&stamp.size.to_le_bytes());
                hasher.update(&stamp.modified_ns.to_le_bytes());
                hasher.update(&stamp.changed_ns.to_le_bytes());
            }
            Err(_) => {
                hasher.update(&[0]);
            }
        }
    }
    Some(*hasher.finalize().as_bytes())
}

/// Whether the run cache holds any manifest (else no cell has cached outputs).
pub(super) fn has_manifests(store: &Store) -> bool {
    std::fs::read_dir(store.root().join("manifests"))
        .is_ok_and(|mut entries| entries.next().is_some())
}

/// Findings located in `text`, as stored.
fn locate(text: &str, findings: &[Finding]) -> Vec<StoredFinding> {
    // Most notebooks have no finding: no line index of their text for them.
    if findings.is_empty() {
        return Vec::new();
    }
    let index = LineIndex::new(text);
    findings
        .iter()
        .map(|finding| StoredFinding {
            rule: finding.rule,
            start: finding.span.map(|span| index.line_column(text, span.start)),
            end: finding.span.map(|span| index.line_column(text, span.end)),
            message: finding.message.clone(),
            fixable: finding.fix.is_some(),
        })
        .collect()
}

/// What every stored entry depends on besides its notebook: this build and the project
/// (root and parsed configuration, which includes the lint settings from the config).
fn context_hash(project: &Project) -> Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    hasher.update(b"\0");
    hasher.update(format!("{project:?}").as_bytes());
    *hasher.finalize().as_bytes()
}

/// The hash of the whole graph's input: every notebook's relative path and facts, in
/// order (a notebook's position is its index in the graph).
fn graph_hash<'a>(slots: impl IntoIterator<Item = &'a Slot>) -> Hash {
    let mut hasher = blake3::Hasher::new();
    for slot in slots {
        hasher.update(&(slot.entry.relative.len() as u64).to_le_bytes());
        hasher.update(slot.entry.relative.as_bytes());
        hasher.update(&slot.entry.facts_hash);
    }
    *hasher.finalize().as_bytes()
}

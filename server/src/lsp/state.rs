//! What the server knows between messages: the open documents (ropey, by URI), and per
//! project the notebooks read from disk, the analysed files and the latest workspace
//! snapshot (`Arc<Workspace>`) that request handlers read.
//!
//! One `std::sync::Mutex` guards it all and is held only to copy or swap small things;
//! parsing, analysis and disk reads happen outside it, in [`State::workspace`], called
//! from blocking threads. A snapshot is rebuilt only when an input changed (the
//! project's `generation` moved), and then only the notebooks whose text changed are
//! re-read (without the copies kept for write-back), reusing the analysis of every
//! unchanged cell (`NotebookFile::from_notebook_reusing`); notebooks that are only on
//! disk are analysed as far as the graph needs. The new snapshot's graph is the previous
//! one updated for the notebooks that changed (`Workspace::updated`), so an edit costs
//! the edited notebook, not the project.
//!
//! The heavy part of a rebuild runs on one builder thread, and what a rebuild replaces is
//! freed there too, after the answer that needed the new snapshot is out
//! ([`State::collect_garbage`]): one malloc arena at the peak instead of one per worker,
//! and no request waits for freeing a notebook of thousands of cells.

use std::collections::{BTreeMap, HashMap};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SendError, Sender, channel, sync_channel};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, Weak};

use tower_lsp_server::ls_types::Uri;

use crate::analysis::workspace::{
    AnalysisDepth, NotebookFile, Workspace, discover_notebooks, looks_like_notebook,
    notebook_format_of,
};
use crate::format::NotebookFormat;
use crate::lint::rules::cell_rules_memo::CellRulesMemo;
use crate::lint::rules::names_memo::NamesMemo;
use crate::lint::{Finding, LintSettings};
use crate::project::read::read_text_file;
use crate::project::{DEFAULT_MAX_FILE_MB, Project, SETTINGS_FILES, find_config};
use crate::text::changed::ChangedBytes;
use crate::text::{Document, PositionEncoding};

/// An open editor buffer.
#[derive(Debug, Clone)]
pub struct OpenDocument {
    pub uri: Uri,
    pub document: Document,
    /// The file path (canonical when the file exists), `None` for non-file URIs.
    pub path: Option<PathBuf>,
    /// The root of the project the file belongs to (where `jellycell.toml` is, else its
    /// own folder).
    pub root: Option<PathBuf>,
}

/// What a handler works on: the buffer as it is now and the project as last analysed.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub uri: Uri,
    pub document: Document,
    pub encoding: PositionEncoding,
    /// `None` when the buffer is not a notebook (an ordinary Python file gets nothing).
    pub workspace: Option<Arc<Workspace>>,
    /// The buffer's index in `workspace.files`.
    pub file_index: usize,
    /// Whether `workspace` was built from exactly `document`'s version.
    pub current: bool,
}

impl Snapshot {
    /// The buffer's analysed notebook file.
    pub fn file(&self) -> Option<&NotebookFile> {
        self.workspace
            .as_ref()?
            .files
            .get(self.file_index)
            .map(|file| &**file)
    }
}

/// Which version of an input a file was analysed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stamp {
    /// A buffer: its LSP version and its revision (`Document::revision`).
    Open(i32, u64),
    Disk(u64),
}

impl Stamp {
    fn of(document: &Document) -> Stamp {
        Stamp::Open(document.version(), document.revision())
    }

    /// The bytes of `document` that changed since the text this stamp is for, when it
    /// is an earlier reading of that buffer and its log reaches back to it.
    fn changes_to(self, document: &Document) -> Option<ChangedBytes> {
        match self {
            Stamp::Open(_, revision) => document.changes_since(revision),
            Stamp::Disk(_) => None,
        }
    }
}

#[derive(Debug, Default)]
struct ProjectEntry {
    project: Option<Project>,
    disk_loaded: bool,
    /// Notebooks discovered on disk, with their text and a stamp.
    disk: BTreeMap<PathBuf, (u64, Arc<str>)>,
    /// Files on disk that changed and must be read again.
    stale_disk: Vec<PathBuf>,
    /// The last analysis of every input, `None` when it is not a notebook.
    analysed: HashMap<PathBuf, (Stamp, Option<Arc<NotebookFile>>)>,
    /// Bumped whenever an input of the project changes.
    generation: u64,
    /// How many of those bumps were edits of an open buffer ([`State::change`]): while
    /// `generation - edits` stays, only buffers' texts changed (no open, close, disk read
    /// or reload), and a build can start from `base` ([`ProjectEntry::layout`]).
    edits: u64,
    /// The last workspace built, with the generation and input stamps it is for.
    snapshot: Option<(u64, Arc<Workspace>, Stamps)>,
    /// The workspace built last, even when its generation was already superseded: the
    /// next build updates its graph instead of building one from scratch.
    base: Option<Arc<Workspace>>,
    /// Where the open buffers sit in `base`, and the layout `base` was planned at.
    base_buffers: Option<(u64, Stamps)>,
    /// Held while a snapshot is built, so that two threads do not build the same one.
    build_lock: Arc<Mutex<()>>,
}

#[derive(Debug, Default)]
struct Inner {
    documents: HashMap<Uri, OpenDocument>,
    projects: HashMap<PathBuf, ProjectEntry>,
    /// The last findings per buffer, with the version and the workspace they are for
    /// (a change in another notebook changes them too).
    findings: HashMap<Uri, StoredFindings>,
    /// Per buffer, the findings of its last linted reading kept per cell for the next one.
    lint_memos: HashMap<Uri, LintMemos>,
    next_disk_stamp: u64,
}

/// A buffer's lint memos, each for the reading it was last linted at.
#[derive(Debug, Default)]
struct LintMemos {
    /// `undefined-name` / `use-before-define` (`lint::rules::names_memo`).
    names: Option<NamesMemo>,
    /// The rules of one cell each (`lint::rules::cell_rules_memo`).
    cells: Option<CellRulesMemo>,
}

/// The server's state; see the module docs.
#[derive(Default)]
pub struct State {
    inner: Mutex<Inner>,
    encoding: Mutex<PositionEncoding>,
    /// Replaced snapshots and files, freed by [`State::collect_garbage`] once the answer
    /// that needed the new ones is out: freeing a notebook of thousands of cells takes
    /// milliseconds no request should wait for.
    graveyard: Mutex<Vec<Box<dyn Send>>>,
    /// How many builds took the edit's path (`state_edit.rs`), for its tests.
    #[cfg(test)]
    edit_builds: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for State {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("State").finish_non_exhaustive()
    }
}

impl ProjectEntry {
    /// Moves with every change of the inputs but an open buffer's text.
    fn layout(&self) -> u64 {
        self.generation.wrapping_sub(self.edits)
    }
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn bury(&self, garbage: Vec<Box<dyn Send>>) {
        if garbage.is_empty() {
            return;
        }
        self.graveyard
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend(garbage);
    }

    /// Frees `replaced` (a reading a memo moved on from) with the rest of the garbage.
    pub fn bury_later(&self, replaced: Arc<NotebookFile>) {
        self.bury(vec![Box::new(replaced)]);
    }

    /// Frees what rebuilding snapshots replaced, on the builder thread that allocated it
    /// (no malloc lock contention with the next build). Call it after answering.
    pub fn collect_garbage(&self) {
        let garbage = std::mem::take(
            &mut *self
                .graveyard
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        if !garbage.is_empty() {
            on_builder_thread_later(move || drop(garbage));
        }
    }

    pub fn encoding(&self) -> PositionEncoding {
        *self
            .encoding
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn set_encoding(&self, encoding: PositionEncoding) {
        *self
            .encoding
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = encoding;
    }

    /// Opens (or replaces) a buffer. Cheap: finds the project root by looking for
    /// `jellycell.toml` upwards, reads nothing else.
    pub fn open(&self, uri: Uri, text: &str, version: i32) {
        let path = file_path(&uri);
        let root = path.as_deref().map(project_root);
        let document = OpenDocument {
            uri: uri.clone(),
            document: Document::new(text, version),
            path,
            root: root.clone(),
        };
        let mut inner = self.lock();
        inner.documents.insert(uri, document);
        if let Some(root) = root {
            inner.projects.entry(root).or_default().generation += 1;
        }
    }

    /// Applies edits to an open buffer, in order, with the negotiated encoding.
    pub fn change(
        &self,
        uri: &Uri,
        version: i32,
        changes: impl IntoIterator<Item = (Option<crate::text::PositionRange>, String)>,
    ) -> bool {
        let encoding = self.encoding();
        let mut inner = self.lock();
        let Some(open) = inner.documents.get_mut(uri) else {
            return false;
        };
        for (range, text) in changes {
            open.document.apply_change(range, &text, encoding);
        }
        open.document.set_version(version);
        let root = open.root.clone();
        if let Some(root) = root {
            let entry = inner.projects.entry(root).or_default();
            entry.generation += 1;
            entry.edits += 1;
        }
        true
    }

    /// Closes a buffer: the file goes back to its disk text (if it is a project notebook).
    pub fn close(&self, uri: &Uri) {
        let mut inner = self.lock();
        inner.findings.remove(uri);
        inner.lint_memos.remove(uri);
        if let Some(open) = inner.documents.remove(uri)
            && let Some(root) = open.root
            && let Some(entry) = inner.projects.get_mut(&root)
        {
            entry.generation += 1;
            if let Some(path) = open.path {
                entry.analysed.remove(&path);
                // The buffer may have been edited and saved (or created): read the file
                // again if it is one of the project's notebooks.
                let in_project = entry.project.as_ref().is_some_and(|project| {
                    project.config_path.is_some() && path.starts_with(project.notebooks_dir())
                });
                if entry.disk.contains_key(&path) || in_project {
                    entry.stale_disk.push(path);
                }
            }
        }
    }

    /// A file changed on disk: a settings file at a project root (`jellycell.toml`,
    /// `jellycell-lsp.toml`, `pyproject.toml`) reloads its project, a notebook is read
    /// again. Returns the roots of the projects affected.
    pub fn file_changed_on_disk(&self, path: &Path, deleted: bool) -> Vec<PathBuf> {
        let path = canonical(path);
        let mut inner = self.lock();
        let mut affected = Vec::new();

        for (root, entry) in &mut inner.projects {
            if !path.starts_with(root) {
                continue;
            }
            if path
                .file_name()
                .is_some_and(|name| SETTINGS_FILES.iter().any(|file| name == *file))
            {
                if path.parent() == Some(root.as_path()) {
                    entry.project = None;
                    entry.base = None;
                    entry.disk_loaded = false;
                    entry.disk.clear();
                    entry.analysed.clear();
                    entry.generation += 1;
                    affected.push(root.clone());
                }
                continue;
            }
            if notebook_format_of(&path).is_none() {
                continue;
            }
            let in_project = entry.project.as_ref().is_some_and(|project| {
                project.config_path.is_some() && path.starts_with(project.notebooks_dir())
            });
            if deleted {
                if entry.disk.remove(&path).is_none() {
                    continue;
                }
                entry.analysed.remove(&path);
            } else if entry.disk.contains_key(&path) || in_project {
                entry.stale_disk.push(path.clone());
            } else {
                continue;
            }
            entry.generation += 1;
            affected.push(root.clone());
        }
        affected
    }

    /// The open buffer at `uri`.
    pub fn document(&self, uri: &Uri) -> Option<OpenDocument> {
        self.lock().documents.get(uri).cloned()
    }

    /// The project root of the open buffer at `uri` (without copying the buffer).
    pub fn root_of(&self, uri: &Uri) -> Option<PathBuf> {
        self.lock()
            .documents
            .get(uri)
            .and_then(|open| open.root.clone())
    }

    /// The version of the open buffer at `uri`.
    pub fn version(&self, uri: &Uri) -> Option<i32> {
        self.lock()
            .documents
            .get(uri)
            .map(|open| open.document.version())
    }

    /// The URIs of the open buffers of the project at `root`.
    pub fn open_in_project(&self, root: &Path) -> Vec<Uri> {
        self.lock()
            .documents
            .values()
            .filter(|open| open.root.as_deref() == Some(root))
            .map(|open| open.uri.clone())
            .collect()
    }

    /// The URI to use for `path`: the open buffer's own URI when it is open.
    pub fn uri_for(&self, path: &Path) -> Option<Uri> {
        let inner = self.lock();
        inner
            .documents
            .values()
            .find(|open| open.path.as_deref() == Some(path))
            .map(|open| open.uri.clone())
            .or_else(|| Uri::from_file_path(path))
    }

    pub fn store_findings(
        &self,
        uri: &Uri,
        version: i32,
        workspace: &Arc<Workspace>,
        findings: Arc<Vec<Finding>>,
    ) {
        self.lock()
            .findings
            .insert(uri.clone(), (version, Arc::downgrade(workspace), findings));
    }

    /// The names memo of `uri`'s last linted reading, taken out (put it back with
    /// [`State::store_names_memo`]).
    pub fn take_names_memo(&self, uri: &Uri) -> Option<NamesMemo> {
        self.take_memo(uri, |memos| &mut memos.names)
    }

    /// Keeps `memo` for `uri`'s next lint; `replaced` (the reading it was for before) is
    /// freed later, off the answer's path.
    pub fn store_names_memo(
        &self,
        uri: &Uri,
        memo: NamesMemo,
        replaced: Option<Arc<NotebookFile>>,
    ) {
        self.store_memo(uri, memo, |memos| &mut memos.names, replaced);
    }

    /// [`State::take_names_memo`] for the memo of the rules of one cell each.
    pub fn take_cell_rules_memo(&self, uri: &Uri) -> Option<CellRulesMemo> {
        self.take_memo(uri, |memos| &mut memos.cells)
    }

    /// [`State::store_names_memo`] for the memo of the rules of one cell each.
    pub fn store_cell_rules_memo(
        &self,
        uri: &Uri,
        memo: CellRulesMemo,
        replaced: Option<Arc<NotebookFile>>,
    ) {
        self.store_memo(uri, memo, |memos| &mut memos.cells, replaced);
    }

    fn take_memo<T>(&self, uri: &Uri, slot: fn(&mut LintMemos) -> &mut Option<T>) -> Option<T> {
        slot(self.lock().lint_memos.get_mut(uri)?).take()
    }

    fn store_memo<T>(
        &self,
        uri: &Uri,
        memo: T,
        slot: fn(&mut LintMemos) -> &mut Option<T>,
        replaced: Option<Arc<NotebookFile>>,
    ) {
        let mut inner = self.lock();
        if inner.documents.contains_key(uri) {
            *slot(inner.lint_memos.entry(uri.clone()).or_default()) = Some(memo);
        }
        drop(inner);
        if let Some(replaced) = replaced {
            self.bury(vec![Box::new(replaced)]);
        }
    }

    /// The stored findings of `uri` if they are for `version` of it in `workspace`.
    pub fn findings(
        &self,
        uri: &Uri,
        version: i32,
        workspace: &Arc<Workspace>,
    ) -> Option<Arc<Vec<Finding>>> {
        let inner = self.lock();
        let (stored, built_on, findings) = inner.findings.get(uri)?;
        (*stored == version && Weak::ptr_eq(built_on, &Arc::downgrade(workspace)))
            .then(|| findings.clone())
    }

    /// The lint settings of the project at `root` (defaults until it is read).
    pub fn lint_settings(workspace: &Workspace) -> LintSettings {
        LintSettings::from_config(&workspace.project.config.lint)
    }

    /// Reads and analyses the project at `root` ahead of the first request. Blocking.
    pub fn prewarm(&self, root: &Path) {
        let _ = self.workspace(&canonical(root));
    }

    /// A snapshot of the buffer at `uri` with a workspace built from the current texts.
    /// Blocking: reads and analyses what changed. Call it on a blocking thread.
    pub fn snapshot(&self, uri: &Uri) -> Option<Snapshot> {
        // An edit may land between building and reading the buffer; try again a few
        // times so that offsets in the analysis match the buffer handed out.
        let mut snapshot = self.snapshot_with(uri, true)?;
        for _ in 0..3 {
            if snapshot.current || snapshot.workspace.is_none() {
                break;
            }
            snapshot = self.snapshot_with(uri, true)?;
        }
        Some(snapshot)
    }

    /// Like [`State::snapshot`] but happy with the last workspace built, even if the
    /// buffer changed since (completion only needs names from it).
    pub fn snapshot_latest(&self, uri: &Uri) -> Option<Snapshot> {
        self.snapshot_with(uri, false)
    }

    fn snapshot_with(&self, uri: &Uri, fresh: bool) -> Option<Snapshot> {
        let open = self.document(uri)?;
        let encoding = self.encoding();
        let (Some(path), Some(root)) = (open.path.clone(), open.root.clone()) else {
            return Some(Snapshot {
                uri: uri.clone(),
                document: open.document,
                encoding,
                workspace: None,
                file_index: 0,
                current: false,
            });
        };
        let cached = if fresh {
            None
        } else {
            self.cached_workspace(&root)
        };
        let (workspace, stamps) = match cached {
            Some(cached) => cached,
            None => self.workspace(&root),
        };
        let placed = stamps.get(&path);
        let current = placed.map(|placed| placed.stamp) == Some(Stamp::of(&open.document));
        // A buffer opened after the workspace was built may be in it as a disk file.
        let file_index = match placed {
            Some(placed) => placed.file,
            None => workspace.files.iter().position(|file| file.path == path),
        };
        Some(Snapshot {
            uri: uri.clone(),
            document: open.document,
            encoding,
            workspace: file_index.map(|_| workspace.clone()),
            file_index: file_index.unwrap_or(0),
            current,
        })
    }

    fn cached_workspace(&self, root: &Path) -> Option<Built> {
        let inner = self.lock();
        let (_, workspace, stamps) = inner.projects.get(root)?.snapshot.as_ref()?;
        Some((workspace.clone(), stamps.clone()))
    }

    /// The workspace of the project at `root`, rebuilt if any input changed, with the
    /// stamps of the inputs it was built from. Blocking.
    fn workspace(&self, root: &Path) -> Built {
        let build_lock = {
            let mut inner = self.lock();
            inner
                .projects
                .entry(root.to_path_buf())
                .or_default()
                .build_lock
                .clone()
        };
        let _building = build_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        loop {
            let plan = self.plan_build(root);
            match plan {
                BuildPlan::Ready(built) => return built,
                BuildPlan::LoadProject => {
                    let project = Project::discover(root);
                    let mut inner = self.lock();
                    let entry = inner.projects.entry(root.to_path_buf()).or_default();
                    entry.project = Some(project);
                    entry.generation += 1;
                }
                BuildPlan::ReadDisk { paths, full_scan } => {
                    // Only regular files, capped: a FIFO or `/dev/zero` in the notebooks
                    // folder must not hang or exhaust the server.
                    let limit = self
                        .lock()
                        .projects
                        .get(root)
                        .and_then(|entry| entry.project.as_ref())
                        .map_or(DEFAULT_MAX_FILE_MB as u64 * (1 << 20), |project| {
                            project.config.lint.max_file_bytes()
                        });
                    let read: Vec<(PathBuf, Option<String>)> = paths
                        .into_iter()
                        .map(|path| {
                            let text = read_text_file(&path, limit).ok();
                            (path, text)
                        })
                        .collect();
                    let mut inner = self.lock();
                    let mut stamp = inner.next_disk_stamp;
                    let entry = inner.projects.entry(root.to_path_buf()).or_default();
                    if full_scan {
                        entry.disk.clear();
                        entry.disk_loaded = true;
                    }
                    for (path, text) in read {
                        entry.stale_disk.retain(|stale| *stale != path);
                        match text {
                            Some(text) => {
                                stamp += 1;
                                entry.disk.insert(path, (stamp, Arc::from(text)));
                            }
                            None => {
                                entry.disk.remove(&path);
                                entry.analysed.remove(&path);
                            }
                        }
                    }
                    entry.generation += 1;
                    inner.next_disk_stamp = stamp;
                }
                BuildPlan::Edit(plan) => {
                    let (generation, layout) = (plan.generation, plan.layout);
                    let (built, analysed) = on_builder_thread(move || edit::build(*plan));
                    let Some((workspace, stamps)) = built else {
                        // A buffer became or stopped being a notebook: build it all,
                        // reusing what was just read.
                        let mut inner = self.lock();
                        let entry = inner.projects.entry(root.to_path_buf()).or_default();
                        entry.base_buffers = None;
                        for (path, stamp, file) in analysed {
                            entry.analysed.insert(path, (stamp, file));
                        }
                        continue;
                    };
                    #[cfg(test)]
                    self.edit_builds
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if let Some(built) =
                        self.store_build(root, generation, layout, workspace, stamps, analysed)
                    {
                        return built;
                    }
                }
                BuildPlan::Build {
                    generation,
                    layout,
                    project,
                    inputs,
                    base,
                } => {
                    let (workspace, stamps, analysed) =
                        on_builder_thread(move || build(*project, inputs, base));
                    if let Some(built) = self.store_build(
                        root,
                        generation,
                        layout,
                        workspace,
                        Arc::new(stamps),
                        analysed,
                    ) {
                        return built;
                    }
                    // An input changed while building: build again (reusing what was
                    // just analysed), so callers always see the newest texts.
                }
            }
        }
    }

    /// Remembers a build of the project at `root` planned at `generation` and `layout`;
    /// returns it when no input changed meanwhile.
    fn store_build(
        &self,
        root: &Path,
        generation: u64,
        layout: u64,
        workspace: Arc<Workspace>,
        stamps: Stamps,
        analysed: Analysed,
    ) -> Option<Built> {
        let mut garbage: Vec<Box<dyn Send>> = Vec::new();
        let mut inner = self.lock();
        let entry = inner.projects.entry(root.to_path_buf()).or_default();
        for (path, stamp, file) in analysed {
            if let Some(old) = entry.analysed.insert(path, (stamp, file)) {
                garbage.push(Box::new(old));
            }
        }
        if let Some(old) = entry.base.replace(workspace.clone()) {
            garbage.push(Box::new(old));
        }
        entry.base_buffers = Some((layout, stamps.clone()));
        let built = entry.generation == generation;
        if built {
            let new = (generation, workspace.clone(), stamps.clone());
            if let Some(old) = entry.snapshot.replace(new) {
                garbage.push(Box::new(old));
            }
        }
        drop(inner);
        self.bury(garbage);
        built.then_some((workspace, stamps))
    }

    fn plan_build(&self, root: &Path) -> BuildPlan {
        let mut inner = self.lock();
        let Inner {
            documents,
            projects,
            ..
        } = &mut *inner;
        let entry = projects.entry(root.to_path_buf()).or_default();
        if let Some((generation, workspace, stamps)) = &entry.snapshot
            && *generation == entry.generation
        {
            return BuildPlan::Ready((workspace.clone(), stamps.clone()));
        }
        let Some(project) = entry.project.clone() else {
            return BuildPlan::LoadProject;
        };
        if let Some(plan) = edit::plan(entry, documents, root, &project) {
            return BuildPlan::Edit(Box::new(plan));
        }
        if !entry.disk_loaded && project.config_path.is_some() {
            return BuildPlan::ReadDisk {
                paths: discover_notebooks(&project),
                full_scan: true,
            };
        }
        if !entry.stale_disk.is_empty() {
            let mut paths = entry.stale_disk.clone();
            paths.sort();
            paths.dedup();
            return BuildPlan::ReadDisk {
                paths,
                full_scan: false,
            };
        }
        let open_here: Vec<(&Path, &Document)> = documents
            .values()
            .filter(|open| open.root.as_deref() == Some(root))
            .filter_map(|open| Some((open.path.as_deref()?, &open.document)))
            .collect();
        for (path, _) in &open_here {
            // The buffer stands for the file while it is open, and closing it reads the
            // file again (`close`): its disk text need not be held meanwhile.
            if let Some((_, text)) = entry.disk.get_mut(*path)
                && !text.is_empty()
            {
                *text = Arc::from("");
            }
        }
        // In path order, as the disk map is: its entries, then each open buffer put in its
        // place by a binary search (a map of every path would compare paths, component by
        // component, some dozen times per notebook on every edit of a big project).
        let mut sources: Vec<(&Path, Stamp, InputText)> = entry
            .disk
            .iter()
            .map(|(path, (stamp, text))| {
                (
                    path.as_path(),
                    Stamp::Disk(*stamp),
                    InputText::Disk(text.clone()),
                )
            })
            .collect();
        for (path, document) in open_here {
            let source = (path, Stamp::of(document), InputText::Open(document));
            match sources.binary_search_by(|(other, _, _)| (*other).cmp(path)) {
                Ok(at) => sources[at] = source,
                Err(at) => sources.insert(at, source),
            }
        }
        let inputs = sources
            .into_iter()
            .map(|(path, stamp, text)| {
                let previous = entry.analysed.get(path);
                let work = match previous {
                    Some((previous_stamp, file)) if *previous_stamp == stamp => {
                        InputWork::Unchanged(file.clone())
                    }
                    _ => InputWork::Read {
                        change: match (&text, previous) {
                            (InputText::Open(document), Some((previous_stamp, _))) => {
                                previous_stamp.changes_to(document)
                            }
                            _ => None,
                        },
                        text: match text {
                            InputText::Disk(text) => text.to_string(),
                            InputText::Open(document) => document.text(),
                        },
                        previous: previous.and_then(|(_, file)| file.clone()),
                    },
                };
                Input {
                    path: path.to_path_buf(),
                    stamp,
                    work,
                }
            })
            .collect();
        BuildPlan::Build {
            generation: entry.generation,
            layout: entry.layout(),
            project: Box::new(project),
            inputs,
            base: entry.base.clone(),
        }
    }
}

/// Reads and analyses what changed and builds the workspace: the heavy, allocating part
/// of a rebuild.
fn build(
    project: Project,
    inputs: Vec<Input>,
    base: Option<Arc<Workspace>>,
) -> (Arc<Workspace>, HashMap<PathBuf, Placed>, Analysed) {
    let mut files = Vec::new();
    let mut analysed = Vec::new();
    let mut stamps = HashMap::new();
    for input in inputs {
        let open = matches!(input.stamp, Stamp::Open(..)).then(|| input.path.clone());
        let file = match input.work {
            InputWork::Unchanged(file) => file,
            InputWork::Read {
                text,
                previous,
                change,
            } => {
                let file = analyse(&project, &input.path, input.stamp, text, previous, change);
                analysed.push((input.path.clone(), input.stamp, file.clone()));
                file
            }
        };
        // Only buffers are asked about (`snapshot_with`); a map of every notebook of a big
        // project would be built and freed on every edit.
        if let Some(path) = open {
            let file = file.is_some().then_some(files.len());
            stamps.insert(
                path,
                Placed {
                    stamp: input.stamp,
                    file,
                },
            );
        }
        if let Some(file) = file {
            files.push(file);
        }
    }
    let workspace = match base {
        Some(base) => Workspace::updated(&base, project, files),
        None => Workspace::from_shared_files(project, files),
    };
    (Arc::new(workspace), stamps, analysed)
}

/// Files analysed by a build, to remember for the next one.
type Analysed = Vec<(PathBuf, Stamp, Option<Arc<NotebookFile>>)>;

type Job = Box<dyn FnOnce() + Send>;

/// Runs `work` on one dedicated thread and waits for it. Every rebuild allocates the
/// notebooks' many small values; doing it always on the same thread keeps one malloc
/// arena at that peak instead of one per worker thread. A panic in `work` is resumed
/// on the calling thread (so the request answers with an error) and the builder lives on.
fn on_builder_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (answer, result) = sync_channel(1);
    on_builder_thread_later(move || {
        let _ = answer.send(std::panic::catch_unwind(AssertUnwindSafe(work)));
    });
    match result.recv() {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => std::panic::resume_unwind(Box::new("the workspace build was lost")),
    }
}

/// Queues `job` on the builder thread without waiting (runs it here when there is no
/// builder thread). The job must not panic; [`on_builder_thread`] makes sure of it.
fn on_builder_thread_later(job: impl FnOnce() + Send + 'static) {
    static BUILDER: LazyLock<Option<Mutex<Sender<Job>>>> = LazyLock::new(|| {
        let (sender, receiver) = channel::<Job>();
        std::thread::Builder::new()
            .name("jellycell-build".into())
            .spawn(move || {
                for job in receiver {
                    // A panicking job must not take the builder thread down with it.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                }
            })
            .ok()?;
        Some(Mutex::new(sender))
    });
    let job: Job = Box::new(job);
    let Some(builder) = BUILDER.as_ref() else {
        job();
        return;
    };
    let sent = builder
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .send(job);
    if let Err(SendError(job)) = sent {
        job();
    }
}

enum InputText<'a> {
    Disk(Arc<str>),
    Open(&'a Document),
}

/// The stamps of the open buffers a workspace was built from, and where they sit in it.
type Stamps = Arc<HashMap<PathBuf, Placed>>;

/// An open buffer's stamp in a workspace, and its index in the workspace's files (`None`
/// when it is not a notebook).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Placed {
    stamp: Stamp,
    file: Option<usize>,
}

/// A workspace and the stamps of the inputs it was built from.
type Built = (Arc<Workspace>, Stamps);

/// Findings of a buffer, with its version and the workspace they were computed in.
type StoredFindings = (i32, Weak<Workspace>, Arc<Vec<Finding>>);

enum BuildPlan {
    Ready(Built),
    LoadProject,
    /// Only open buffers changed since `base` was built: read those, share the rest.
    Edit(Box<edit::EditPlan>),
    ReadDisk {
        paths: Vec<PathBuf>,
        full_scan: bool,
    },
    Build {
        generation: u64,
        layout: u64,
        project: Box<Project>,
        inputs: Vec<Input>,
        base: Option<Arc<Workspace>>,
    },
}

struct Input {
    path: PathBuf,
    stamp: Stamp,
    work: InputWork,
}

enum InputWork {
    Unchanged(Option<Arc<NotebookFile>>),
    Read {
        text: String,
        previous: Option<Arc<NotebookFile>>,
        /// What changed since `previous` was read, when the buffer's log knows.
        change: Option<ChangedBytes>,
    },
}

/// Reads one input, or `None` when it is not a notebook: a `.py` counts when it has
/// `# %%` markers or lies under `[paths] notebooks`, a `.md` when it has `{code-cell}`
/// blocks or a jupytext header. Open buffers are analysed fully (they are linted);
/// notebooks only on disk as far as the project graph needs.
fn analyse(
    project: &Project,
    path: &Path,
    stamp: Stamp,
    text: String,
    previous: Option<Arc<NotebookFile>>,
    change: Option<ChangedBytes>,
) -> Option<Arc<NotebookFile>> {
    let format = notebook_format_of(path)?;
    let under_notebooks =
        project.config_path.is_some() && path.starts_with(project.notebooks_dir());
    let is_notebook = match format {
        NotebookFormat::Percent | NotebookFormat::Light => {
            under_notebooks || looks_like_notebook(path, &text)
        }
        NotebookFormat::Myst | NotebookFormat::Markdown => looks_like_notebook(path, &text),
        NotebookFormat::Ipynb => false,
    };
    if !is_notebook {
        return None;
    }
    let depth = match stamp {
        Stamp::Open(..) => AnalysisDepth::Full,
        Stamp::Disk(_) => AnalysisDepth::Facts,
    };
    let deep_enough =
        |file: &NotebookFile| file.depth == AnalysisDepth::Full || file.depth == depth;
    // The buffer's log tells which bytes changed since `previous` was read (checked
    // against the lengths, so an empty change means the same text; without one the
    // texts are compared).
    let change = previous
        .as_ref()
        .and_then(|previous| change.filter(|change| change.fits(previous.text.len(), text.len())));
    debug_assert!(
        change.is_none_or(|change| previous
            .as_ref()
            .is_some_and(|previous| change.covers(previous.text.as_bytes(), text.as_bytes()))),
        "the edit log missed a change"
    );
    if let Some(previous) = &previous
        && deep_enough(previous)
        && match change {
            Some(change) => change.is_empty(),
            None => previous.text == text,
        }
    {
        return Some(previous.clone());
    }
    // The server never writes a notebook back: cells keep no copy for byte-exact
    // write-back (a third of a notebook's memory). After an edit only the cells around
    // it are read again.
    let path = path.to_path_buf();
    let file = match previous {
        Some(previous) if previous.format == format && depth == AnalysisDepth::Full => {
            NotebookFile::edited(project, path, text, format, &previous, change)
        }
        _ => {
            let notebook = crate::format::read_without_originals(&text, format);
            NotebookFile::from_notebook(project, path, text, format, notebook, depth)
        }
    };
    Some(Arc::new(file))
}

/// The path of a `file:` URI, canonical when the file exists.
pub fn file_path(uri: &Uri) -> Option<PathBuf> {
    if uri.scheme().as_str() != "file" {
        return None;
    }
    let path = uri.to_file_path()?;
    Some(canonical(&path))
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The project root of a file: the folder of the nearest `jellycell.toml` above it, else
/// its own folder.
pub fn project_root(path: &Path) -> PathBuf {
    let folder = path.parent().unwrap_or(path);
    find_config(folder)
        .and_then(|config| config.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| folder.to_path_buf())
}

#[path = "state_edit.rs"]
mod edit;

#[cfg(test)]
#[path = "state_incremental_tests.rs"]
mod incremental_tests;

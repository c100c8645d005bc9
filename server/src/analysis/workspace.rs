//! A project's notebooks read, analysed and linked into one graph: what the lint rules,
//! the language server and the runner work on.
//!
//! A workspace is built from texts (files on disk, or an editor's unsaved buffers), so
//! the same code serves `--check` and the LSP. Discovery follows jellycell: every `.py`
//! under `[paths] notebooks` (recursively), plus MyST `.md` files there that look like
//! notebooks, plus any file named explicitly.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::analysis::dataflow::{CellFlow, cell_flow};
use crate::analysis::graph::{CellFacts, DepOrigin, DepRef, NotebookFacts, PathRef, ProjectGraph};
use crate::analysis::{Aliases, CellAnalysis, JcFunction, analyze_cell_facts, analyze_cell_shared};
use crate::format::cell_window::CellWindow;
use crate::format::{self, CellType, Cells, Notebook, NotebookFormat, PlacedCell, tags};
use crate::project::Project;
use crate::project::read::{ReadError, read_text_file};
use crate::project::walk::files_under;
use crate::text::Span;
use crate::text::changed::ChangedBytes;
use crate::text::chunk_list::{ChunkList, ChunkListBuilder};

/// A notebook's path and text, as the workspace is given it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotebookInput {
    pub path: PathBuf,
    pub text: String,
}

/// How deeply a notebook's code cells are analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalysisDepth {
    /// Everything: syntax errors, `jc.*` calls, aliases, names (notebooks being reported).
    Full,
    /// What the project graph needs (`jc.*` calls, aliases): the other notebooks.
    Facts,
}

/// One notebook of the workspace, read and analysed.
#[derive(Debug, Clone)]
pub struct NotebookFile {
    /// The path as given (absolute when discovered).
    pub path: PathBuf,
    /// Project-relative, with `/` separators (e.g. `notebooks/prep.py`); the file name
    /// alone when the notebook lies outside the project.
    pub relative: String,
    pub format: NotebookFormat,
    pub text: String,
    pub notebook: Notebook,
    /// One entry per cell (by ordinal): the analysis of code cells, `None` for others.
    /// Shared: a re-read after an edit takes the unchanged cells' analyses by pointer,
    /// and the chunks of them it did not touch.
    pub analyses: Analyses,
    /// How deeply `analyses` went; lint needs `Full`.
    pub depth: AnalysisDepth,
    /// The code cells (ordinals, ascending) whose analysis binds a jellycell alias: the
    /// aliases in scope at any cell, without a walk over the cells above it.
    alias_cells: Vec<usize>,
    /// Which reading this is; a clone is the same reading.
    reading: ReadingId,
    /// After an edit read only the cells around it: the reading this one was built from,
    /// and those cells. Outside the window the cells and their analyses are that
    /// reading's (the same `Arc`s): see [`NotebookFile::window_since`].
    edited_from: Option<(ReadingId, CellWindow)>,
}

/// Per cell (by ordinal), the analysis of a code cell, `None` for others.
pub type Analyses = ChunkList<Option<Arc<CellAnalysis>>>;

/// One reading of a notebook, told apart from every other reading in the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReadingId(u64);

impl ReadingId {
    fn next() -> ReadingId {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        ReadingId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl NotebookFile {
    /// Reads and fully analyses one notebook.
    pub fn new(project: &Project, path: PathBuf, text: String, format: NotebookFormat) -> Self {
        NotebookFile::with_depth(project, path, text, format, AnalysisDepth::Full)
    }

    /// Reads one notebook and analyses it to `depth`.
    pub fn with_depth(
        project: &Project,
        path: PathBuf,
        text: String,
        format: NotebookFormat,
        depth: AnalysisDepth,
    ) -> Self {
        let notebook = format::read(&text, format);
        NotebookFile::from_notebook(project, path, text, format, notebook, depth)
    }

    /// Analyses a notebook already read from `text` (e.g. by
    /// [`format::read_without_originals`]) to `depth`.
    pub fn from_notebook(
        project: &Project,
        path: PathBuf,
        text: String,
        format: NotebookFormat,
        notebook: Notebook,
        depth: AnalysisDepth,
    ) -> Self {
        let analyses = if crate::format::language::is_python_notebook(&notebook) {
            analyze_code_cells(&notebook.cells, depth)
        } else {
            Analyses::new()
        };
        NotebookFile::assembled(project, path, text, format, notebook, analyses, depth, None)
    }

    /// The file of `notebook` (read from `text` at `path`) with its cells' `analyses`.
    /// `alias_cells`, when the caller knows them, are those of `analyses`.
    #[allow(clippy::too_many_arguments)]
    fn assembled(
        project: &Project,
        path: PathBuf,
        text: String,
        format: NotebookFormat,
        notebook: Notebook,
        analyses: Analyses,
        depth: AnalysisDepth,
        alias_cells: Option<Vec<usize>>,
    ) -> Self {
        let relative = relative_name(project, &path);
        // Cells in another language (an R or Julia kernel) are not Python: no Python
        // analysis, so no Python syntax errors; the format-level rules still apply.
        let (analyses, alias_cells) = if crate::format::language::is_python_notebook(&notebook) {
            let alias_cells = alias_cells.unwrap_or_else(|| {
                (analyses.iter().enumerate())
                    .filter(|(_, analysis)| binds_aliases(analysis))
                    .map(|(ordinal, _)| ordinal)
                    .collect()
            });
            (analyses, alias_cells)
        } else {
            let placeholders = notebook
                .cells
                .iter()
                .map(|cell| {
                    (cell.cell_type == CellType::Code).then(|| Arc::new(CellAnalysis::default()))
                })
                .collect();
            (placeholders, Vec::new())
        };
        // The format the text was read in (a `.py` may be py:light).
        let format = if format == NotebookFormat::Ipynb {
            format
        } else {
            notebook.format
        };
        NotebookFile {
            path,
            relative,
            format,
            text,
            notebook,
            analyses,
            depth,
            alias_cells,
            reading: ReadingId::next(),
            edited_from: None,
        }
    }

    /// Reads one notebook without analysing its code: enough for what needs only the
    /// cells and the text (cache keys, tag edits, the pairing check) when the graph
    /// comes from elsewhere (`--check`'s cache).
    pub fn without_analysis(
        project: &Project,
        path: PathBuf,
        text: String,
        format: NotebookFormat,
    ) -> Self {
        let notebook = format::read(&text, format);
        let no_analyses = Analyses::new();
        NotebookFile::assembled(
            project,
            path,
            text,
            format,
            notebook,
            no_analyses,
            AnalysisDepth::Facts,
            None,
        )
    }

    /// Reads `text` as [`NotebookFile::new`] does (fully analysed), but takes the analysis
    /// of every code cell whose source (and the import aliases in scope before it) did
    /// not change from `previous` (when that was fully analysed too), so an edit
    /// re-analyses only the cells it touched.
    pub fn reusing(
        project: &Project,
        path: PathBuf,
        text: String,
        format: NotebookFormat,
        previous: &NotebookFile,
    ) -> Self {
        let notebook = format::read(&text, format);
        NotebookFile::from_notebook_reusing(project, path, text, format, notebook, previous, None)
    }

    /// [`NotebookFile::reusing`] for an editor's buffer after an edit: only the cells
    /// around the edit are read again when that reads as a full read would
    /// (`resplit::reread_after_edit`), and the window of cells it read is recorded, so
    /// what is kept per cell (graph facts, lint memos) is carried over for the others
    /// ([`NotebookFile::window_since`]). Cells keep no originals: the reading is never
    /// written back.
    pub fn edited(
        project: &Project,
        path: PathBuf,
        text: String,
        format: NotebookFormat,
        previous: &NotebookFile,
        change: Option<ChangedBytes>,
    ) -> Self {
        let reread = crate::format::resplit::reread_after_edit(
            &previous.text,
            &previous.notebook,
            &text,
            format,
            change,
        );
        let (notebook, window) = match reread {
            Some((notebook, window)) => (notebook, Some(window)),
            None => (crate::format::read_without_originals(&text, format), None),
        };
        NotebookFile::from_notebook_reusing(project, path, text, format, notebook, previous, window)
    }

    /// [`NotebookFile::reusing`] for a notebook already read from `text`; `window`, when
    /// given, is which cells the reading read again since `previous`.
    pub fn from_notebook_reusing(
        project: &Project,
        path: PathBuf,
        text: String,
        format: NotebookFormat,
        notebook: Notebook,
        previous: &NotebookFile,
        window: Option<CellWindow>,
    ) -> Self {
        // Analyses of a notebook in another language are placeholders (`assembled`).
        let reusable = previous.depth == AnalysisDepth::Full
            && crate::format::language::is_python_notebook(&previous.notebook);
        let no_cells = Cells::new();
        let old_cells = if reusable {
            &previous.notebook.cells
        } else {
            &no_cells
        };
        let new_cells = &notebook.cells;
        let window = window.filter(|window| {
            reusable
                && previous.analyses.len() == old_cells.len()
                && window.prefix <= window.old_stop.min(window.new_stop)
                && window.old_stop <= old_cells.len()
                && window.new_stop <= new_cells.len()
                && old_cells.len() - window.old_stop == new_cells.len() - window.new_stop
        });
        // An edit leaves the cells before and after it as they were: those are matched by
        // position (no hashing of every source), the ones in between by source. The
        // re-read's window tells which they are; else they are compared.
        let (prefix, suffix) = match &window {
            Some(window) => (window.prefix, new_cells.len() - window.new_stop),
            None => same_ends(old_cells, new_cells),
        };
        let (old_stop, new_stop) = (old_cells.len() - suffix, new_cells.len() - suffix);
        let old_analysis = |index: usize| previous.analyses.get(index).and_then(Option::as_ref);
        // The prefix's cells and aliases are the same in both readings.
        let mut aliases_at_prefix = Aliases::new();
        let mut alias_cells = Vec::new();
        let mut outside_kept = true;
        let mut analyses = ChunkListBuilder::with_capacity(new_cells.len());
        if window.is_some() {
            // The window's prefix: the old analyses as they are, the aliases from the
            // cells that bind any.
            analyses.extend_from(&previous.analyses, 0..prefix);
            let binding = previous
                .alias_cells
                .partition_point(|&ordinal| ordinal < prefix);
            alias_cells.extend_from_slice(&previous.alias_cells[..binding]);
            aliases_at_prefix = aliases_of(alias_cells.iter().filter_map(|&at| old_analysis(at)));
        } else {
            // Walked once.
            for (index, cell) in new_cells.iter().take(prefix).enumerate() {
                let analysis =
                    (cell.cell_type == CellType::Code).then(|| match old_analysis(index) {
                        Some(analysis) => Arc::clone(analysis),
                        None => {
                            outside_kept = false;
                            analyze_cell_shared(&cell.source, &aliases_at_prefix)
                        }
                    });
                if let Some(analysis) = &analysis {
                    aliases_at_prefix.extend(&analysis.aliases_defined);
                }
                analyses.push(analysis);
            }
        }
        let (earlier, aliases_at_suffix) =
            analyses_by_source(previous, prefix..old_stop, aliases_at_prefix.clone());
        let mut aliases = aliases_at_prefix;
        let reuse_or_analyse = |cell: PlacedCell<'_>, aliases: &mut Aliases| {
            (cell.cell_type == CellType::Code).then(|| {
                let reused = earlier.get(cell.source.as_str()).and_then(|candidates| {
                    candidates
                        .iter()
                        .find(|(before, _)| before == aliases)
                        .map(|(_, analysis)| Arc::clone(analysis))
                });
                let analysis = reused.unwrap_or_else(|| analyze_cell_shared(&cell.source, aliases));
                aliases.extend(&analysis.aliases_defined);
                analysis
            })
        };
        for (index, cell) in new_cells.iter().enumerate().take(new_stop).skip(prefix) {
            let analysis = reuse_or_analyse(cell, &mut aliases);
            if binds_aliases(&analysis) {
                alias_cells.push(index);
            }
            analyses.push(analysis);
        }
        // The cells after the edit saw the same aliases as before it: theirs are kept.
        let suffix_kept = aliases == aliases_at_suffix;
        let suffix_start = if window.is_some() && suffix_kept {
            analyses.extend_from(&previous.analyses, old_stop..previous.analyses.len());
            let binding = previous
                .alias_cells
                .partition_point(|&ordinal| ordinal < old_stop);
            alias_cells.extend(
                previous.alias_cells[binding..]
                    .iter()
                    .map(|&ordinal| ordinal - old_stop + new_stop),
            );
            new_cells.len()
        } else {
            new_stop
        };
        for (index, cell) in new_cells.iter().enumerate().skip(suffix_start) {
            let kept = (suffix_kept && cell.cell_type == CellType::Code)
                .then(|| old_analysis(index - new_stop + old_stop))
                .flatten();
            let analysis = match kept {
                Some(analysis) => Some(Arc::clone(analysis)),
                None => {
                    if suffix_kept && cell.cell_type == CellType::Code {
                        // An old code cell without analysis: the kept cells before it
                        // were not added to the aliases.
                        outside_kept = false;
                        aliases = aliases_of(analyses.iter().flatten());
                    }
                    reuse_or_analyse(cell, &mut aliases)
                }
            };
            analyses.push(analysis);
        }
        let python = crate::format::language::is_python_notebook(&notebook);
        let depth = AnalysisDepth::Full;
        // Known unless the cells after the window were walked.
        let alias_cells =
            (suffix_start == new_cells.len() && window.is_some()).then_some(alias_cells);
        let mut file = NotebookFile::assembled(
            project,
            path,
            text,
            format,
            notebook,
            analyses.finish(),
            depth,
            alias_cells,
        );
        file.edited_from = window.filter(|_| python && outside_kept).map(|window| {
            let window = if suffix_kept {
                window
            } else {
                window.to_the_end(old_cells.len(), file.notebook.cells.len())
            };
            (previous.reading, window)
        });
        file
    }

    /// The cells an edit touched since `earlier`, when this reading was built from it by
    /// [`NotebookFile::edited`]. Outside the window the cells share their contents with
    /// `earlier`'s, their spans the same before it and moved by the change after it, and
    /// their analyses are the same `Arc`s.
    pub fn window_since(&self, earlier: &NotebookFile) -> Option<CellWindow> {
        let (reading, window) = self.edited_from?;
        (reading == earlier.reading).then_some(window)
    }

    /// The dataflow of the code cell at `ordinal`: kept with its analysis when it has one
    /// (so unchanged cells are never parsed again), else computed from its source.
    pub fn cell_flow(&self, ordinal: usize) -> Cow<'_, CellFlow> {
        let Some(cell) = self.notebook.cells.get(ordinal) else {
            return Cow::Owned(CellFlow::default());
        };
        match self.analyses.get(ordinal).and_then(Option::as_ref) {
            Some(analysis) => Cow::Borrowed(analysis.flow(&cell.source)),
            None => Cow::Owned(cell_flow(&cell.source)),
        }
    }

    /// The file stem used in auto names (`prep` for `notebooks/prep.py`).
    pub fn stem(&self) -> &str {
        self.path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("")
    }
}

/// How many cells at the start and at the end of two readings are the same cells (the
/// same content, or the same type and source), without overlapping.
fn same_ends(old_cells: &Cells, new_cells: &Cells) -> (usize, usize) {
    let same = |(old, new): (PlacedCell<'_>, PlacedCell<'_>)| {
        old.shares_content(new) || (old.cell_type == new.cell_type && old.source == new.source)
    };
    let prefix = old_cells
        .iter()
        .zip(new_cells)
        .take_while(|pair| same(*pair))
        .count();
    let room = old_cells.len().min(new_cells.len()) - prefix;
    let suffix = old_cells
        .iter()
        .rev()
        .zip(new_cells.iter().rev())
        .take(room)
        .take_while(|pair| same(*pair))
        .count();
    (prefix, suffix)
}

/// Analyses by their cell's source, each with the aliases in scope before its cell.
type AnalysesBySource<'a> = HashMap<&'a str, Vec<(Aliases, &'a Arc<CellAnalysis>)>>;

/// The analyses of `previous`'s cells in `cells`, by source, with the aliases each saw
/// (`aliases` before the first), and the aliases after the last.
fn analyses_by_source(
    previous: &NotebookFile,
    cells: std::ops::Range<usize>,
    mut aliases: Aliases,
) -> (AnalysesBySource<'_>, Aliases) {
    let mut by_source = AnalysesBySource::new();
    for index in cells {
        let (Some(cell), Some(Some(analysis))) = (
            previous.notebook.cells.get(index).map(PlacedCell::content),
            previous.analyses.get(index),
        ) else {
            continue;
        };
        by_source
            .entry(cell.source.as_str())
            .or_default()
            .push((aliases.clone(), analysis));
        aliases.extend(&analysis.aliases_defined);
    }
    (by_source, aliases)
}

/// The aliases `analyses` bind, in order (a later binding wins).
fn aliases_of<'a>(analyses: impl Iterator<Item = &'a Arc<CellAnalysis>>) -> Aliases {
    let mut aliases = Aliases::new();
    for analysis in analyses {
        aliases.extend(&analysis.aliases_defined);
    }
    aliases
}

/// Whether a cell's analysis binds a jellycell alias (`import jellycell.api as J`).
fn binds_aliases(analysis: &Option<Arc<CellAnalysis>>) -> bool {
    analysis
        .as_ref()
        .is_some_and(|analysis| !analysis.aliases_defined.is_empty())
}

/// A file the workspace could not read (left out of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub path: PathBuf,
    /// `path: what is wrong`.
    pub message: String,
    /// What is wrong, without the path (for a finding on the file).
    pub problem: String,
    /// Where in the file (the first invalid byte of text that is not UTF-8, else 0).
    pub offset: usize,
    /// The text read lossily, so that `offset` has a line and column (empty when none).
    pub lossy_text: String,
}

impl LoadError {
    pub fn new(path: PathBuf, error: &ReadError) -> LoadError {
        LoadError {
            message: error.message(&path),
            problem: error.describe(),
            offset: error.offset(),
            lossy_text: error.lossy_text().to_string(),
            path,
        }
    }
}

/// A workspace's files and their facts by path.
type FilesByPath<'a> = HashMap<&'a Path, (&'a Arc<NotebookFile>, &'a Arc<NotebookFacts>)>;

/// A project's notebooks and the graph that links their cells.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub project: Project,
    /// Shared, so that a workspace rebuilt after an edit to one notebook shares the
    /// others with the previous one.
    pub files: Vec<Arc<NotebookFile>>,
    pub graph: ProjectGraph,
}

impl Workspace {
    /// A workspace over already-read notebooks, all fully analysed (files that are not
    /// notebooks are skipped).
    pub fn build(project: Project, inputs: Vec<NotebookInput>) -> Workspace {
        Workspace::build_with_depth(project, inputs, |_| AnalysisDepth::Full)
    }

    /// A workspace over already-read notebooks, each analysed to the depth `depth_of`
    /// gives its path. Notebooks are read and analysed on every core.
    pub fn build_with_depth(
        project: Project,
        inputs: Vec<NotebookInput>,
        depth_of: impl Fn(&Path) -> AnalysisDepth + Sync,
    ) -> Workspace {
        let files = read_notebooks(&project, inputs, depth_of);
        Workspace::from_files(project, files)
    }

    /// A workspace over analysed files; builds the graph.
    pub fn from_files(project: Project, files: Vec<NotebookFile>) -> Workspace {
        Workspace::from_shared_files(project, files.into_iter().map(Arc::new).collect())
    }

    /// A workspace over analysed files that other workspaces may share; builds the graph.
    pub fn from_shared_files(project: Project, files: Vec<Arc<NotebookFile>>) -> Workspace {
        let graph =
            ProjectGraph::build_shared(files.iter().map(|file| Arc::new(facts(file))).collect());
        Workspace {
            project,
            files,
            graph,
        }
    }

    /// Like [`Workspace::from_shared_files`], but starting from `previous`: the facts of
    /// every file it shares with `previous` (the same `Arc`) are reused, and the graph is
    /// updated only as far as the other files can change it ([`ProjectGraph::updated`]).
    /// An edit of one notebook costs that notebook, not the project.
    pub fn updated(
        previous: &Workspace,
        project: Project,
        files: Vec<Arc<NotebookFile>>,
    ) -> Workspace {
        // A file the previous workspace shares is usually at its own index (an edit
        // replaces one file in place); facts by file, so that opening or closing a
        // notebook reuses the others' too, are only needed when files were added or
        // removed (a map of every file would cost a big project's edit).
        let known: std::cell::OnceCell<HashMap<*const NotebookFile, &Arc<NotebookFacts>>> =
            std::cell::OnceCell::new();
        let shared = |index: usize, file: &Arc<NotebookFile>| {
            let in_place = previous
                .files
                .get(index)
                .zip(previous.graph.notebooks.get(index))
                .filter(|(old, _)| Arc::ptr_eq(old, file))
                .map(|(_, facts)| facts);
            in_place.or_else(|| {
                if files.len() == previous.files.len() {
                    return None;
                }
                known
                    .get_or_init(|| {
                        previous
                            .files
                            .iter()
                            .zip(&previous.graph.notebooks)
                            .map(|(file, facts)| (Arc::as_ptr(file), facts))
                            .collect()
                    })
                    .get(&Arc::as_ptr(file))
                    .copied()
            })
        };
        // A file read again after an edit: the facts of its untouched cells are moved.
        // It is usually where it was; the map of every path (hashing each costs a big
        // project's edit) is built only when a file was added or removed.
        let by_path: std::cell::OnceCell<FilesByPath> = std::cell::OnceCell::new();
        let earlier = |index: usize, path: &Path| {
            let in_place = previous
                .files
                .get(index)
                .zip(previous.graph.notebooks.get(index))
                .filter(|(file, _)| file.path == path);
            in_place.or_else(|| {
                by_path
                    .get_or_init(|| {
                        previous
                            .files
                            .iter()
                            .zip(&previous.graph.notebooks)
                            .map(|(file, facts)| (file.path.as_path(), (file, facts)))
                            .collect()
                    })
                    .get(path)
                    .copied()
            })
        };
        // An edit replaces one file in place: every other one is the same `Arc` at the same
        // index, and its facts are shared without a lookup.
        let in_place =
            files.len() == previous.files.len() && previous.graph.notebooks.len() == files.len();
        let notebooks = files
            .iter()
            .enumerate()
            .map(|(index, file)| {
                if in_place && Arc::ptr_eq(file, &previous.files[index]) {
                    return Arc::clone(&previous.graph.notebooks[index]);
                }
                match shared(index, file) {
                    Some(facts) => Arc::clone(facts),
                    None => Arc::new(match earlier(index, &file.path) {
                        Some((old_file, old_facts)) => {
                            crate::analysis::facts_reuse::facts_reusing(file, old_file, old_facts)
                        }
                        None => facts(file),
                    }),
                }
            })
            .collect();
        Workspace {
            project,
            files,
            graph: previous.graph.updated(notebooks),
        }
    }

    /// Every notebook under the project's notebooks directory plus `extra` paths, read
    /// from disk and fully analysed. Files that cannot be read are returned beside the
    /// workspace.
    pub fn load(project: Project, extra: &[PathBuf]) -> (Workspace, Vec<LoadError>) {
        Workspace::load_reporting(project, extra, None)
    }

    /// Like [`Workspace::load`], but only the notebooks in `reported` (all when `None`)
    /// are fully analysed; the others are analysed only as far as the graph needs.
    pub fn load_reporting(
        project: Project,
        extra: &[PathBuf],
        reported: Option<&[PathBuf]>,
    ) -> (Workspace, Vec<LoadError>) {
        let mut paths = discover_notebooks(&project);
        let mut known: HashSet<PathBuf> = paths.iter().cloned().collect();
        for path in extra {
            let absolute = absolute(path);
            if known.insert(absolute.clone()) {
                paths.push(absolute);
            }
        }
        let mut inputs = Vec::new();
        let mut errors = Vec::new();
        let limit = project.config.lint.max_file_bytes();
        for path in paths {
            match read_text_file(&path, limit) {
                Ok(text) => inputs.push(NotebookInput { path, text }),
                Err(error) => errors.push(LoadError::new(path, &error)),
            }
        }
        let reported: Option<HashSet<PathBuf>> =
            reported.map(|paths| paths.iter().map(|path| absolute(path)).collect());
        let depth_of = |path: &Path| match &reported {
            Some(paths) if !paths.contains(path) => AnalysisDepth::Facts,
            _ => AnalysisDepth::Full,
        };
        (
            Workspace::build_with_depth(project, inputs, depth_of),
            errors,
        )
    }

    /// The index of each file at one of `paths` (those of the workspace), in their order:
    /// one pass over the files, however many paths are asked for.
    pub fn file_indices(&self, paths: &[PathBuf]) -> Vec<usize> {
        let mut by_path: HashMap<&Path, usize> = HashMap::with_capacity(self.files.len());
        for (index, file) in self.files.iter().enumerate() {
            by_path.entry(file.path.as_path()).or_insert(index);
        }
        paths
            .iter()
            .filter_map(|path| {
                by_path
                    .get(path.as_path())
                    .or_else(|| by_path.get(absolute(path).as_path()))
                    .copied()
            })
            .collect()
    }

    /// The index of the file at `path`.
    pub fn file_index(&self, path: &Path) -> Option<usize> {
        let absolute = absolute(path);
        self.files
            .iter()
            .position(|file| file.path == path || file.path == absolute)
    }
}

/// Reads and analyses notebooks (files that are not notebooks are skipped), each to the
/// depth `depth_of` gives its path, on every core; no graph is built.
pub fn read_notebooks(
    project: &Project,
    inputs: Vec<NotebookInput>,
    depth_of: impl Fn(&Path) -> AnalysisDepth + Sync,
) -> Vec<NotebookFile> {
    map_notebooks(project, inputs, depth_of, |file| file)
}

/// [`read_notebooks`], giving each file to `keep` as soon as it is analysed and returning
/// what `keep` returns, in the inputs' order: a caller that keeps only part of each file
/// never holds every analysed notebook at once.
pub fn map_notebooks<T: Send>(
    project: &Project,
    inputs: Vec<NotebookInput>,
    depth_of: impl Fn(&Path) -> AnalysisDepth + Sync,
    keep: impl Fn(NotebookFile) -> T + Sync,
) -> Vec<T> {
    let inputs: Vec<(NotebookInput, NotebookFormat)> = inputs
        .into_iter()
        .filter_map(|input| notebook_format_of(&input.path).map(|format| (input, format)))
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |count| count.get())
        .min(inputs.len())
        .max(1);
    // Each worker takes the next notebook not yet taken, so every core stays busy to the
    // end whatever the notebooks' sizes (fixed chunks left one core idle behind a big one).
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (depth_of, keep, inputs, next) = (&depth_of, &keep, &inputs, &next);
    let mut done: Vec<(usize, T)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((input, format)) = inputs.get(index) else {
                            break;
                        };
                        let depth = depth_of(&input.path);
                        done.push((index, keep(read_guarded(project, input, *format, depth))));
                    }
                    done
                })
            })
            .collect();
        // `read_guarded` catches panics, so a worker always returns its files (unless
        // `keep` panics: a bug of the caller's, whose files are then left out).
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap_or_default())
            .collect()
    });
    done.sort_unstable_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, kept)| kept).collect()
}

/// Reads and analyses one notebook; a panic in the reader or the analysis (a bug) keeps
/// the file in the workspace with one `internal-error` problem instead of losing it or
/// taking the process down.
fn read_guarded(
    project: &Project,
    input: &NotebookInput,
    format: NotebookFormat,
    depth: AnalysisDepth,
) -> NotebookFile {
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        NotebookFile::with_depth(
            project,
            input.path.clone(),
            input.text.clone(),
            format,
            depth,
        )
    }));
    read.unwrap_or_else(|_| {
        let mut notebook = Notebook::empty(format);
        notebook.problems.push(crate::format::Problem::new(
            "internal-error",
            crate::text::Span::at(0),
            "jellycell-lsp failed while reading this notebook (a bug); please report it with the file",
        ));
        NotebookFile {
            relative: relative_name(project, &input.path),
            path: input.path.clone(),
            format,
            text: input.text.clone(),
            notebook,
            analyses: Analyses::new(),
            depth,
            alias_cells: Vec::new(),
            reading: ReadingId::next(),
            edited_from: None,
        }
    })
}

/// The notebook format of a path, by extension: `.py` percent, `.md` MyST, `.ipynb`.
pub fn notebook_format_of(path: &Path) -> Option<NotebookFormat> {
    match path.extension()?.to_str()? {
        "py" => Some(NotebookFormat::Percent),
        "md" => Some(NotebookFormat::Myst),
        "ipynb" => Some(NotebookFormat::Ipynb),
        _ => None,
    }
}

/// Whether a text file is a notebook worth checking: a `.py` with `# %%` markers, or a
/// `.md` with `{code-cell}` blocks or a jupytext header. (Everything under the notebooks
/// directory counts as a notebook whatever it contains.)
pub fn looks_like_notebook(path: &Path, text: &str) -> bool {
    match notebook_format_of(path) {
        Some(NotebookFormat::Percent) => {
            text.lines().any(|line| {
                let line = line.trim_start();
                line.strip_prefix('#')
                    .is_some_and(|rest| rest.trim_start().starts_with("%%"))
            }) || py_has_jupytext_header(text)
        }
        Some(NotebookFormat::Myst) => {
            text.contains("{code-cell}") || myst_has_jupytext_header(text)
        }
        _ => false,
    }
}

/// A `# ---` … `# ---` header at the top with a `jupyter:` section (a py:light or other
/// jupytext script).
fn py_has_jupytext_header(text: &str) -> bool {
    let mut lines = text
        .lines()
        .skip_while(|line| line.starts_with("#!") || line.contains("coding"));
    if lines.next().map(str::trim_end) != Some("# ---") {
        return false;
    }
    lines
        .take_while(|line| line.trim_end() != "# ---")
        .any(|line| line.trim_end() == "# jupyter:")
}

fn myst_has_jupytext_header(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("---") else {
        return false;
    };
    rest.split("\n---")
        .next()
        .is_some_and(|front| front.contains("jupytext") || front.contains("\njupyter:"))
}

/// The notebooks under `[paths] notebooks`: every `.py`, and `.md` files that look like
/// notebooks, sorted; hidden folders, `__pycache__` and `.ipynb_checkpoints` skipped,
/// symlinks followed only inside the project, each folder once (`project::walk`).
pub fn discover_notebooks(project: &Project) -> Vec<PathBuf> {
    let limit = project.config.lint.max_file_bytes();
    let mut found: Vec<PathBuf> = files_under(&project.notebooks_dir(), &project.root)
        .into_iter()
        .filter(|path| match notebook_format_of(path) {
            Some(NotebookFormat::Percent) => true,
            Some(NotebookFormat::Myst) => {
                read_text_file(path, limit).is_ok_and(|text| looks_like_notebook(path, &text))
            }
            _ => false,
        })
        .collect();
    found.sort();
    found
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}

fn relative_name(project: &Project, path: &Path) -> String {
    let relative = project
        .relative_path(&absolute(path))
        .unwrap_or_else(|| path.file_name().map(PathBuf::from).unwrap_or_default());
    relative
        .components()
        .map(|component| component.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Analyses every code cell in order, threading import aliases from cell to cell.
fn analyze_code_cells(cells: &Cells, depth: AnalysisDepth) -> Analyses {
    let mut aliases = Aliases::new();
    cells
        .iter()
        .map(|cell| {
            (cell.cell_type == CellType::Code).then(|| {
                let analysis = match depth {
                    AnalysisDepth::Full => analyze_cell_shared(&cell.source, &aliases),
                    AnalysisDepth::Facts => Arc::new(analyze_cell_facts(&cell.source, &aliases)),
                };
                aliases.extend(&analysis.aliases_defined);
                analysis
            })
        })
        .collect()
}

/// The graph facts of one notebook.
pub fn facts(file: &NotebookFile) -> NotebookFacts {
    let cells = &file.notebook.cells;
    NotebookFacts::with_starts(
        file.relative.clone(),
        cells
            .iter()
            .enumerate()
            .map(|(ordinal, cell)| Arc::new(cell_facts(file, ordinal, cell)))
            .collect(),
        cells.iter().map(|cell| cell.spans.whole.start).collect(),
    )
}

/// The graph facts of `file`'s cell at `ordinal`, with spans relative to the cell's start
/// (what [`NotebookFacts`] holds).
pub(crate) fn cell_facts(file: &NotebookFile, ordinal: usize, cell: PlacedCell<'_>) -> CellFacts {
    let text = &file.text;
    let origin = cell.spans.whole.start;
    let relative = |span: Span| Span::new(span.start - origin, span.end - origin);
    let header = cell.spans.header.map(|span| (span.slice(text), span.start));
    let tag_texts = cell.tags();
    let tag_spans = match header {
        Some((header_text, start)) => tags::tag_spans(header_text, start, &tag_texts),
        None => vec![None; tag_texts.len()],
    };
    let span_of_tag = |prefix: &str, value: &str| {
        tag_texts
            .iter()
            .zip(&tag_spans)
            .rev()
            .find(|(tag, _)| {
                tag.strip_prefix(prefix)
                    .is_some_and(|rest| rest.split([';', ',']).any(|part| part.trim() == value))
            })
            .and_then(|(tag, span)| {
                let span = (*span)?;
                let inner = tag.find(value).map(|at| at + 1)?;
                let start = span.start + inner;
                Some(Span::new(start, start + value.len()))
                    .filter(|candidate| candidate.slice(text) == value)
                    .or(Some(span))
            })
            .map(relative)
    };
    let is_code = cell.cell_type == CellType::Code;
    let explicit_name = cell
        .spec
        .name
        .as_ref()
        .filter(|_| is_code)
        .map(|name| (name.clone(), span_of_tag("name=", name)));
    let mut deps: Vec<DepRef> = if is_code {
        cell.spec
            .deps
            .iter()
            .map(|name| DepRef {
                name: name.clone(),
                span: span_of_tag("deps=", name),
                origin: DepOrigin::Tag,
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut loads = Vec::new();
    let mut produces = Vec::new();
    if let Some(Some(analysis)) = file.analyses.get(ordinal) {
        for call in &analysis.jc_calls {
            for (value, span) in call.literal_targets() {
                let span = Some(relative(cell.text_span(text, span)));
                let path = PathRef {
                    path: normalize_artifact_path(value),
                    span,
                };
                match call.function {
                    JcFunction::Deps => {
                        if !deps.iter().any(|dep| dep.name == value) {
                            deps.push(DepRef {
                                name: value.to_string(),
                                span,
                                origin: DepOrigin::JcDeps,
                            });
                        }
                    }
                    JcFunction::Load => loads.push(path),
                    JcFunction::Save | JcFunction::Figure => produces.push(path),
                    JcFunction::Table | JcFunction::Path => {}
                }
            }
        }
    }
    CellFacts {
        ordinal,
        kind: is_code.then_some(cell.spec.kind),
        explicit_name,
        deps,
        loads,
        produces,
    }
}

/// `./artifacts/x.json` and `artifacts//x.json` name the same file as `artifacts/x.json`.
fn normalize_artifact_path(path: &str) -> String {
    path.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reusing_analyses_gives_what_a_fresh_read_gives() {
        let project = Project::without_config(Path::new("/project"));
        let path = PathBuf::from("/project/nb.py");
        let before = "# %%\nimport jellycell.api as J\n\n# %%\nJ.load('a')\n\n# %%\nx = (\n";
        let after = "# %%\nimport jellycell.api as J\n\n# %%\nJ.load('b')\n\n# %%\nx = (\n";
        let previous = NotebookFile::new(
            &project,
            path.clone(),
            before.into(),
            NotebookFormat::Percent,
        );
        for text in [before, after, "# %%\nJ.load('a')\n"] {
            let reused = NotebookFile::reusing(
                &project,
                path.clone(),
                text.into(),
                NotebookFormat::Percent,
                &previous,
            );
            let fresh =
                NotebookFile::new(&project, path.clone(), text.into(), NotebookFormat::Percent);
            assert_eq!(reused.analyses, fresh.analyses, "{text:?}");
        }
    }

    #[test]
    fn an_edit_keeps_the_facts_of_every_other_cell_shared() {
        let project = Project::without_config(Path::new("/project"));
        let path = PathBuf::from("/project/nb.py");
        let before = "# %% tags=[\"name=a\"]\njc.save(1, 'artifacts/a.json')\n\n\
                      # %% tags=[\"name=b\", \"deps=a\"]\nx = 1\n\n\
                      # %% tags=[\"name=c\", \"deps=b\"]\njc.load('artifacts/a.json')\n";
        let after = before.replace("x = 1", "x = 12345");
        let previous = NotebookFile::new(
            &project,
            path.clone(),
            before.into(),
            NotebookFormat::Percent,
        );
        let previous_facts = facts(&previous);
        let file = NotebookFile::reusing(
            &project,
            path,
            after.clone(),
            NotebookFormat::Percent,
            &previous,
        );
        let reused = crate::analysis::facts_reuse::facts_reusing(&file, &previous, &previous_facts);
        assert_eq!(reused, facts(&file));
        assert!(Arc::ptr_eq(&reused.cells[0], &previous_facts.cells[0]));
        assert!(
            Arc::ptr_eq(&reused.cells[2], &previous_facts.cells[2]),
            "moved, not copied"
        );
        let load = reused
            .absolute(2, reused.cells[2].loads[0].span)
            .expect("a span");
        assert_eq!(load.slice(&after), "'artifacts/a.json'");
    }

    use proptest::prelude::*;

    /// Pieces of cells, markers and imports: edits made of them move cell boundaries,
    /// change aliases and break syntax.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            Just("# %%\n"),
            Just("# %% tags=[\"name=a\"]\n"),
            Just("```{code-cell} ipython3\n"),
            Just("```\n"),
            Just("+++\n"),
            Just("import jellycell.api as J\n"),
            Just("J.load('artifacts/a.json')\n"),
            Just("jc.save(x, 'artifacts/b.json')\n"),
            Just("x = (\n"),
            Just("y = 1\n"),
            Just("%time y\n"),
            Just("\n"),
            Just("# prose\n"),
        ]
    }

    fn assert_reuse_matches_fresh(
        format: NotebookFormat,
        header: &str,
        parts: &[&str],
        edits: &[(usize, usize, Vec<&str>)],
    ) {
        let project = Project::without_config(Path::new("/project"));
        let path = PathBuf::from(match format {
            NotebookFormat::Myst => "/project/nb.md",
            _ => "/project/nb.py",
        });
        let mut text = format!("{header}{}", parts.concat());
        let mut previous = NotebookFile::new(&project, path.clone(), text.clone(), format);
        let mut previous_facts = facts(&previous);
        // The editor's chain: readings without originals, re-read around each edit.
        let notebook = crate::format::read_without_originals(&text, format);
        let depth = AnalysisDepth::Full;
        let mut buffer = NotebookFile::from_notebook(
            &project,
            path.clone(),
            text.clone(),
            format,
            notebook,
            depth,
        );
        let mut buffer_facts = facts(&buffer);
        for (at, length, inserted) in edits {
            let start = header.len() + at % (text.len() - header.len() + 1);
            let end = (start + length).min(text.len());
            text.replace_range(start..end, &inserted.concat());
            let reused =
                NotebookFile::reusing(&project, path.clone(), text.clone(), format, &previous);
            let fresh = NotebookFile::new(&project, path.clone(), text.clone(), format);
            assert_eq!(reused.notebook.cells, fresh.notebook.cells, "{text:?}");
            assert_eq!(reused.analyses, fresh.analyses, "{text:?}");
            assert_eq!(facts(&reused), facts(&fresh), "{text:?}");
            let reused_facts =
                crate::analysis::facts_reuse::facts_reusing(&reused, &previous, &previous_facts);
            assert_eq!(reused_facts, facts(&fresh), "{text:?}");
            previous = reused;
            previous_facts = reused_facts;

            let edited =
                NotebookFile::edited(&project, path.clone(), text.clone(), format, &buffer, None);
            assert_eq!(edited.analyses, fresh.analyses, "{text:?}");
            assert_eq!(edited.alias_cells, fresh.alias_cells, "{text:?}");
            if let Some(window) = edited.window_since(&buffer) {
                assert_window_keeps_analyses(&buffer, &edited, &window);
            }
            let edited_facts =
                crate::analysis::facts_reuse::facts_reusing(&edited, &buffer, &buffer_facts);
            assert_eq!(edited_facts, facts(&fresh), "{text:?}");
            buffer = edited;
            buffer_facts = edited_facts;
        }
    }

    /// What a reading's window promises beyond the re-read's: outside it, the analyses
    /// are the earlier reading's own.
    fn assert_window_keeps_analyses(old: &NotebookFile, new: &NotebookFile, window: &CellWindow) {
        let new_len = new.notebook.cells.len();
        for ordinal in (0..window.prefix).chain(window.new_stop..new_len) {
            let old_ordinal = window.old_ordinal(ordinal);
            assert!(
                new.notebook
                    .cells
                    .at(ordinal)
                    .shares_content(old.notebook.cells.at(old_ordinal))
            );
            match (&old.analyses[old_ordinal], &new.analyses[ordinal]) {
                (Some(before), Some(after)) => assert!(Arc::ptr_eq(before, after)),
                (None, None) => {}
                _ => panic!("cell {ordinal}: an analysis came or went outside the window"),
            }
        }
    }

    /// Where the tests' editor buffer lies: its project, path and format.
    fn buffer_place() -> (Project, PathBuf, NotebookFormat) {
        let project = Project::without_config(Path::new("/project"));
        (
            project,
            PathBuf::from("/project/nb.py"),
            NotebookFormat::Percent,
        )
    }

    /// `text` read as the server reads an open buffer: without originals, fully analysed.
    fn buffer_reading(text: &str) -> NotebookFile {
        let (project, path, format) = buffer_place();
        let notebook = crate::format::read_without_originals(text, format);
        let depth = AnalysisDepth::Full;
        NotebookFile::from_notebook(&project, path, text.to_string(), format, notebook, depth)
    }

    #[test]
    fn an_edit_in_one_cell_records_the_cells_it_read_again() {
        let (project, path, format) = buffer_place();
        let cell = |index: usize| format!("# %% tags=[\"name=c{index}\"]\nv{index} = {index}\n\n");
        let text: String = (0..40).map(cell).collect();
        let before = buffer_reading(&text);
        let after_text = text.replace("v20 = 20", "v20 = 2000\nmore = v20");
        let after = NotebookFile::edited(
            &project,
            path.clone(),
            after_text.clone(),
            format,
            &before,
            None,
        );
        let window = after
            .window_since(&before)
            .expect("re-read around the edit");
        assert!(window.prefix >= 18 && window.new_stop <= 22, "{window:?}");
        assert_eq!(window.old_stop, window.new_stop);
        assert_window_keeps_analyses(&before, &after, &window);
        // Only for the reading it was built from.
        assert_eq!(after.window_since(&buffer_reading(&text)), None);
        // An edit that binds an alias the cells below it see takes them in.
        let aliased = text.replace("v20 = 20", "import jellycell.api as J");
        let aliased = NotebookFile::edited(&project, path, aliased, format, &before, None);
        let window = aliased
            .window_since(&before)
            .expect("re-read around the edit");
        assert_eq!(window.new_stop, 40);
    }

    #[test]
    fn the_cells_binding_aliases_move_with_a_cell_added_above_them() {
        let (project, path, format) = buffer_place();
        let cell = |index: usize| match index {
            30 => "# %%\nimport jellycell.api as J\n\n".to_string(),
            _ => format!("# %% tags=[\"name=c{index}\"]\nv{index} = {index}\n\n"),
        };
        let text: String = (0..40).map(cell).collect();
        let before = buffer_reading(&text);
        assert_eq!(before.alias_cells, vec![30]);
        let split = text.replace("v10 = 10\n", "v10 = 10\n# %%\nnew = 1\n");
        let after =
            NotebookFile::edited(&project, path.clone(), split.clone(), format, &before, None);
        let window = after
            .window_since(&before)
            .expect("re-read around the edit");
        assert_eq!(window.new_stop, window.old_stop + 1);
        assert_eq!(after.alias_cells, vec![31]);
        // The alias is in scope below it after a second edit there.
        let used = split.replace("v35 = 35", "J.save(1, 'artifacts/x.json')");
        let again =
            NotebookFile::edited(&project, path.clone(), used.clone(), format, &after, None);
        assert!(again.window_since(&after).is_some());
        let fresh = NotebookFile::new(&project, path, used, format);
        assert_eq!(again.analyses, fresh.analyses);
        assert_eq!(
            again.analyses[36].as_ref().map(|a| a.jc_calls.len()),
            Some(1)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn percent_edits_reuse_what_a_fresh_read_gives(
            parts in proptest::collection::vec(piece(), 0..30),
            edits in proptest::collection::vec(
                (0usize..2000, 0usize..40, proptest::collection::vec(piece(), 0..3)),
                1..6,
            ),
        ) {
            assert_reuse_matches_fresh(NotebookFormat::Percent, "", &parts, &edits);
        }

        #[test]
        fn myst_edits_reuse_what_a_fresh_read_gives(
            parts in proptest::collection::vec(piece(), 0..30),
            edits in proptest::collection::vec(
                (0usize..2000, 0usize..40, proptest::collection::vec(piece(), 0..3)),
                1..6,
            ),
        ) {
            let header = "---\njupytext:\n  text_representation:\n    format_name: myst\n---\n";
            assert_reuse_matches_fresh(NotebookFormat::Myst, header, &parts, &edits);
        }
    }
}

//! Bringing one pairing up to date, as `jupytext --sync` does: the most recently changed
//! file is the source of the cells; the `.ipynb` keeps its outputs for the cells jupytext's
//! combine rule matches (and takes those cached for a text cell's current key); every file
//! is rewritten from the combined notebook, only when its content changes, atomically
//! (through a symlink: its target, as `export` writes). When more
//! than one file changed since the last sync (`record`), nothing is written.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::analysis::workspace::Workspace;
use crate::cache::{Store, outputs_by_current_key};
use crate::cli::files::write_output;
use crate::format::combine::combine_inputs_with_outputs;
use crate::format::{self, Notebook, NotebookFormat};
use crate::project::Project;
use crate::project::read::read_text_file;

use super::committed;
use super::pairs::PairedFile;
use super::record::{SyncRecord, cells_hash};

/// What syncing one pairing did.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Every file has the same cells; nothing written.
    UpToDate { source: PathBuf },
    /// `written` were rewritten from `source`.
    Written {
        source: PathBuf,
        written: Vec<PathBuf>,
    },
    /// Not synced, and why (both sides changed, a file that is not a regular file, …).
    Refused { source: PathBuf, message: String },
}

/// One file of the pairing as found on disk.
struct Side {
    file: PairedFile,
    /// The text, the notebook read from it, and its modification time; `None` when the
    /// file does not exist.
    read: Option<(String, Notebook, SystemTime)>,
}

impl Side {
    fn format(&self) -> NotebookFormat {
        match (&self.file.format, &self.read) {
            (Some(format), _) => *format,
            (None, Some((_, notebook, _))) => notebook.format,
            (None, None) if self.file.path.extension().is_some_and(|e| e == "md") => {
                NotebookFormat::Myst
            }
            (None, None) => NotebookFormat::Percent,
        }
    }
}

/// Syncs the pairing `files`; `asked` is the file the user named (shown in messages).
pub(crate) fn sync_pair(project: &Project, files: &[PairedFile], asked: &Path) -> Outcome {
    let refused = |message: String| Outcome::Refused {
        source: asked.to_path_buf(),
        message,
    };
    let limit = project.config.lint.max_file_bytes();
    let mut sides = Vec::new();
    for file in files {
        match read_side(file, limit) {
            Ok(side) => sides.push(side),
            Err(message) => return refused(message),
        }
    }
    let existing: Vec<&Side> = sides.iter().filter(|side| side.read.is_some()).collect();
    let hashes: Vec<Option<String>> = sides
        .iter()
        .map(|side| {
            side.read
                .as_ref()
                .map(|(_, notebook, _)| cells_hash(notebook))
        })
        .collect();
    let paths: Vec<&Path> = files.iter().map(|file| file.path.as_path()).collect();
    let record = SyncRecord::of(project, &paths);
    let in_sync =
        hashes.iter().all(Option::is_some) && hashes.windows(2).all(|pair| pair[0] == pair[1]);
    if existing.is_empty() {
        return refused(format!(
            "{}: no file of its pairing exists",
            asked.display()
        ));
    }
    if in_sync {
        save_record(project, &record, &paths, &hashes);
        return Outcome::UpToDate {
            source: asked.to_path_buf(),
        };
    }
    let source = match choose_source(project, &record, &sides, &hashes) {
        Ok(source) => source,
        Err(message) => return refused(message),
    };
    let Some((_, source_notebook, _)) = &sides[source].read else {
        return refused(format!("{}: the source file vanished", asked.display()));
    };
    let from_text = !sides[source].file.is_ipynb();
    // The notebook every other file is written from.
    let ipynb = sides.iter().find(|side| side.file.is_ipynb());
    let mut base = if from_text {
        let mut combined = match ipynb.and_then(|side| side.read.as_ref()) {
            Some((_, with_outputs, _)) => {
                combine_inputs_with_outputs(source_notebook, with_outputs)
            }
            None => source_notebook.clone(),
        };
        fill_from_cache(project, &sides[source].file.path, &mut combined);
        combined
    } else {
        source_notebook.clone()
    };
    base.problems.clear();
    let mut written = Vec::new();
    let mut new_hashes = hashes.clone();
    // Every file, the source too, as jupytext writes the combined notebook to each (a
    // text without a header gets the `.ipynb`'s kernel in one).
    for (index, side) in sides.iter().enumerate() {
        let target = side.format();
        let mut text = format::write(&base, target);
        // `jupytext.write` ends every file it writes with a newline.
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        new_hashes[index] = Some(cells_hash(&format::read(&text, target)));
        if side.read.as_ref().is_some_and(|(old, _, _)| *old == text) {
            continue;
        }
        if let Err(message) = write_output(&side.file.path, &text) {
            return Outcome::Refused {
                source: sides[source].file.path.clone(),
                message,
            };
        }
        written.push(side.file.path.clone());
    }
    save_record(project, &record, &paths, &new_hashes);
    Outcome::Written {
        source: sides[source].file.path.clone(),
        written,
    }
}

fn save_record(project: &Project, record: &SyncRecord, paths: &[&Path], hashes: &[Option<String>]) {
    let entries: Vec<(&Path, String)> = paths
        .iter()
        .zip(hashes)
        .filter_map(|(path, hash)| Some((*path, hash.clone()?)))
        .collect();
    record.save(project, &entries);
}

/// Reads one file of the pairing: a regular file, or none (to be created). A directory,
/// FIFO or device is refused before anything is opened.
fn read_side(file: &PairedFile, limit: u64) -> Result<Side, String> {
    let metadata = match std::fs::metadata(&file.path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Side {
                file: file.clone(),
                read: None,
            });
        }
        Err(error) => return Err(format!("cannot read {}: {error}", file.path.display())),
    };
    let text = read_text_file(&file.path, limit).map_err(|error| {
        format!(
            "{} (sync reads and writes only regular files; move it away to let sync \
             write the paired file there)",
            error.message(&file.path)
        )
    })?;
    let format = match file.format {
        Some(format) => format,
        None if file.path.extension().is_some_and(|e| e == "md") => NotebookFormat::Myst,
        None => NotebookFormat::Percent,
    };
    let notebook = format::read(&text, format);
    if let Some(problem) = notebook.unsupported_format() {
        return Err(format!("{}: {}", file.path.display(), problem.message));
    }
    if format == NotebookFormat::Ipynb
        && let Some(problem) = notebook.problems.first()
    {
        return Err(format!(
            "{}: cannot be read ({}); fix the JSON or delete the file to have sync \
             write it again",
            file.path.display(),
            problem.message
        ));
    }
    let modified = metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    Ok(Side {
        file: file.clone(),
        read: Some((text, notebook, modified)),
    })
}

/// What each side held when the pair was last in sync, and since when that is.
struct LastSync {
    hashes: Vec<Option<String>>,
    since: &'static str,
}

/// The record of the last sync, else the last commit when it held the pair in sync
/// (`committed`), else nothing.
fn last_sync(project: &Project, record: &SyncRecord, sides: &[Side]) -> Option<LastSync> {
    if let Some(recorded) = record.load() {
        let hashes = sides
            .iter()
            .map(|side| SyncRecord::hash_of(project, &recorded, &side.file.path).cloned())
            .collect();
        return Some(LastSync {
            hashes,
            since: "the last sync",
        });
    }
    let files: Vec<(&Path, NotebookFormat)> = sides
        .iter()
        .filter(|side| side.read.is_some())
        .map(|side| (side.file.path.as_path(), side.format()))
        .collect();
    if files.len() != sides.len() {
        return None;
    }
    let hashes = committed::in_sync_at_head(&files)?;
    Some(LastSync {
        hashes: hashes.into_iter().map(Some).collect(),
        since: "the last commit",
    })
}

/// The index of the side whose cells win. With a record of the last sync (or a last
/// commit that held the pair in sync): the one side whose cells changed since (refused
/// when several did, to different cells). Without one, or when none changed: jupytext's
/// rule, the most recently modified text file, or the `.ipynb` when it is more recent
/// than every text file.
fn choose_source(
    project: &Project,
    record: &SyncRecord,
    sides: &[Side],
    hashes: &[Option<String>],
) -> Result<usize, String> {
    if let Some(last) = last_sync(project, record, sides) {
        let changed: Vec<usize> = (0..sides.len())
            .filter(|&index| hashes[index].is_some() && last.hashes[index] != hashes[index])
            .collect();
        let distinct = changed
            .iter()
            .filter(|&&index| hashes[index] != hashes[changed[0]])
            .count();
        if distinct > 0 {
            let names: Vec<String> = changed
                .iter()
                .map(|&index| sides[index].file.path.display().to_string())
                .collect();
            let (first, last_name) = (&names[0], &names[names.len() - 1]);
            return Err(format!(
                "{} changed since {}, each to different cells: nothing was \
                 written. To keep {first}'s cells, undo the other side's edits (`git \
                 checkout -- {last_name}`) or delete it (`rm {last_name}`), then run \
                 `jellycell-lsp sync {first}` again; to keep {last_name}'s, the same the \
                 other way round (or bring the edits into one file by hand first)",
                names.join(" and "),
                last.since
            ));
        }
        if let Some(newest) = newest(sides, &changed) {
            return Ok(newest);
        }
    }
    let texts: Vec<usize> = (0..sides.len())
        .filter(|&index| !sides[index].file.is_ipynb())
        .collect();
    let ipynb: Vec<usize> = (0..sides.len())
        .filter(|&index| sides[index].file.is_ipynb())
        .collect();
    match (newest(sides, &texts), newest(sides, &ipynb)) {
        (Some(text), Some(ipynb)) if modified(&sides[ipynb]) > modified(&sides[text]) => Ok(ipynb),
        (Some(text), _) => Ok(text),
        (None, Some(ipynb)) => Ok(ipynb),
        (None, None) => Err("no file of the pairing exists".into()),
    }
}

fn modified(side: &Side) -> Option<SystemTime> {
    side.read.as_ref().map(|(_, _, modified)| *modified)
}

/// The most recently modified existing side among `candidates` (the first on a tie).
fn newest(sides: &[Side], candidates: &[usize]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for &index in candidates {
        let Some(time) = modified(&sides[index]) else {
            continue;
        };
        if best.is_none_or(|best| modified(&sides[best]).is_some_and(|known| time > known)) {
            best = Some(index);
        }
    }
    best
}

/// Gives each code cell the outputs cached for its current key, where there are some (the
/// text notebook at `path` is what the key is computed from; `notebook` has its cells).
fn fill_from_cache(project: &Project, path: &Path, notebook: &mut Notebook) {
    let (workspace, _) = Workspace::load(project.clone(), &[path.to_path_buf()]);
    let Some(file) = workspace.file_index(path) else {
        return;
    };
    if workspace.files[file].notebook.cells.len() != notebook.cells.len() {
        return;
    }
    let store = Store::open(&workspace.project);
    let outputs = outputs_by_current_key(&workspace, file, &store, None);
    let mut outputs = outputs.into_iter();
    notebook.cells.update(|cell| {
        if let Some(Some((outputs, execution_count))) = outputs.next() {
            cell.jupyter_mut().outputs = outputs;
            cell.jupyter_mut().execution_count = execution_count.map(i64::from);
        }
    });
}

//! The build after an edit: when only open buffers' texts changed since the last
//! workspace was built (no open, close, disk read or reload: the project's layout is the
//! same), the new workspace is the last one with those buffers read again. Nothing is
//! done per notebook of the project: the disk map is not walked, no path is hashed, and
//! the files are the previous list with the edited entries replaced, so an edit in a
//! 2,000-notebook project plans and builds what it does in a 20-notebook one. Any other
//! change goes through the full plan (`State::plan_build`), which this must equal.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tower_lsp_server::ls_types::Uri;

use super::{Analysed, OpenDocument, ProjectEntry, Stamp, Stamps, analyse};
use crate::analysis::workspace::{NotebookFile, Workspace};
use crate::project::Project;
use crate::text::changed::ChangedBytes;

/// What an edit's build reads: the buffers whose version moved, over `base`.
pub(super) struct EditPlan {
    pub generation: u64,
    pub layout: u64,
    project: Project,
    base: Arc<Workspace>,
    /// The open buffers' stamps and places once the build is done.
    stamps: Stamps,
    changed: Vec<ChangedBuffer>,
}

struct ChangedBuffer {
    path: PathBuf,
    stamp: Stamp,
    text: String,
    previous: Option<Arc<NotebookFile>>,
    /// What changed since `previous` was read, when the buffer's log knows.
    change: Option<ChangedBytes>,
    /// Its index in `base.files` (`None` when it was not a notebook).
    file: Option<usize>,
}

/// The edit plan for the project `entry` at `root`, or `None` when more than open
/// buffers' texts changed since its last build (or it has none).
pub(super) fn plan(
    entry: &ProjectEntry,
    documents: &HashMap<Uri, OpenDocument>,
    root: &Path,
    project: &Project,
) -> Option<EditPlan> {
    let (layout, placed) = entry.base_buffers.as_ref()?;
    if *layout != entry.layout() {
        return None;
    }
    let base = entry.base.as_ref()?;
    let mut stamps = (**placed).clone();
    let mut changed = Vec::new();
    let mut buffers = 0;
    for open in documents
        .values()
        .filter(|open| open.root.as_deref() == Some(root))
    {
        let Some(path) = open.path.as_deref() else {
            continue;
        };
        // A buffer the last build did not have (or two URIs of one file): the full plan.
        let placed = stamps.get_mut(path)?;
        buffers += 1;
        let stamp = Stamp::of(&open.document);
        if placed.stamp == stamp {
            continue;
        }
        placed.stamp = stamp;
        let previous = entry.analysed.get(path);
        let change = previous.and_then(|(stamp, _)| stamp.changes_to(&open.document));
        let previous = previous.and_then(|(_, file)| file.clone());
        // The analysed text and what changed since give the buffer's text without a walk
        // over every chunk of its rope.
        let text = previous
            .as_ref()
            .zip(change)
            .and_then(|(file, change)| open.document.text_after(&file.text, change))
            .unwrap_or_else(|| open.document.text());
        changed.push(ChangedBuffer {
            path: path.to_path_buf(),
            stamp,
            text,
            change,
            previous,
            file: placed.file,
        });
    }
    if buffers != stamps.len() {
        return None;
    }
    Some(EditPlan {
        generation: entry.generation,
        layout: *layout,
        project: project.clone(),
        base: base.clone(),
        stamps: Arc::new(stamps),
        changed,
    })
}

/// Reads the changed buffers and updates the workspace; `None` beside what was read
/// when a buffer became or stopped being a notebook (the files' list changes shape: the
/// caller builds in full).
pub(super) fn build(plan: EditPlan) -> (Option<(Arc<Workspace>, Stamps)>, Analysed) {
    let EditPlan {
        project,
        base,
        stamps,
        changed,
        ..
    } = plan;
    let mut files = base.files.clone();
    let mut analysed = Vec::with_capacity(changed.len());
    let mut same_shape = true;
    for buffer in changed {
        let file = analyse(
            &project,
            &buffer.path,
            buffer.stamp,
            buffer.text,
            buffer.previous,
            buffer.change,
        );
        match (buffer.file.and_then(|index| files.get_mut(index)), &file) {
            (Some(slot), Some(file)) => *slot = file.clone(),
            (None, None) => {}
            _ => same_shape = false,
        }
        analysed.push((buffer.path, buffer.stamp, file));
    }
    if !same_shape {
        return (None, analysed);
    }
    let workspace = Workspace::updated(&base, project, files);
    (Some((Arc::new(workspace), stamps)), analysed)
}

#[cfg(test)]
#[path = "state_edit_tests.rs"]
mod tests;

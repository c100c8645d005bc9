//! `textDocument/codeLens` and `codeLens/resolve`: on every code cell's header a status
//! lens (`✓ cached · 1.2 s · 3 min ago`, `● stale`, `✗ ValueError: kaboom`, `○ not run`,
//! `setup`, `note`, or `⟳ running…` / `… queued` while in the run queue) and the run
//! lenses (`▶ Run`, `▶ Run with deps`, `Run above`; `▶▶ Run all` on the first code cell,
//! whatever its kind). Every lens carries one of the advertised commands with
//! `{uri, cell}`, so clients run them with no plugin code.
//!
//! A notebook of up to [`RESOLVED_UP_TO`] code cells (`initializationOptions.
//! lensesResolvedUpTo`) gets its lenses resolved at once
//! (clients that never resolve keep working there). A longer one gets them unresolved, as
//! rust-analyzer does: a range and `data` = `[document, version, cell, lens]` (the buffer
//! as a small number this server handed out, the buffer version the lens was made for,
//! the cell's ordinal, which of its lenses), and `codeLens/resolve` fills in the command
//! of the lenses a client shows. Which lenses a cell has depends only on its kind, so the
//! unresolved answer needs no cache key, and is written as it is made (`encoded.rs`). A
//! resolve for another version of the buffer (or a buffer closed since, even if opened
//! again, or data that is not ours) answers the lens as it came, with no command, and
//! asks the client to fetch the lenses again: it never runs a cell that moved.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tower_lsp_server::ls_types::{CodeLens, Command, Range, Uri};

use super::cell_views::{CellView, cell_views, cell_views_in, header_of};
use super::commands::{INTERRUPT, OPEN_PREVIEW, RUN_ABOVE, RUN_ALL, RUN_CELL, RUN_WITH_DEPS};
use super::json_write;
use super::positions::Positions;
use super::progress::first_line;
use super::runs::{Queued, refresh_views};
use super::state::Snapshot;
use super::{Core, convert};
use crate::analysis::workspace::NotebookFile;
use crate::cache::CellStatus;
use crate::format::CellType;
use crate::format::tags::CellKind;
use crate::render::time_text::{ago_since, duration};

/// Up to this many code cells, lenses come resolved (unless the client says otherwise).
pub const RESOLVED_UP_TO: usize = 500;

/// One of a cell's lenses (the last number of an unresolved lens's `data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lens {
    Status,
    Run,
    RunWithDeps,
    RunAbove,
    RunAll,
}

impl Lens {
    const ALL: [Lens; 5] = [
        Lens::Status,
        Lens::Run,
        Lens::RunWithDeps,
        Lens::RunAbove,
        Lens::RunAll,
    ];

    fn number(self) -> u64 {
        self as u64
    }

    fn from_number(number: u64) -> Option<Lens> {
        Lens::ALL.get(usize::try_from(number).ok()?).copied()
    }
}

/// The lenses of a code cell, in order: `index` is its place among the code cells, and
/// `runs` whether it can run (not setup, not note).
fn lenses_of(index: usize, runs: bool) -> impl Iterator<Item = Lens> {
    let run = runs.then_some([Lens::Run, Lens::RunWithDeps]);
    let above = (runs && index > 0).then_some(Lens::RunAbove);
    // On the first code cell whatever its kind: notebooks often open with jc.setup.
    let all = (index == 0).then_some(Lens::RunAll);
    std::iter::once(Lens::Status)
        .chain(run.into_iter().flatten())
        .chain(above)
        .chain(all)
}

/// The buffers that unresolved lenses name, as small numbers (a URI in each of 400,000
/// lenses would be most of the answer). A number stands for one opening of a buffer:
/// versions start over when a buffer is reopened, so a lens from before a close must
/// not match the reopened buffer's version 1.
#[derive(Default)]
pub struct LensDocuments {
    table: Mutex<DocumentTable>,
}

#[derive(Default)]
struct DocumentTable {
    numbers: HashMap<Uri, u64>,
    /// By number; `None` once the buffer was closed.
    uris: Vec<Option<Uri>>,
}

impl LensDocuments {
    fn number(&self, uri: &Uri) -> u64 {
        let mut table = lock(&self.table);
        if let Some(&number) = table.numbers.get(uri) {
            return number;
        }
        let number = table.uris.len() as u64;
        table.uris.push(Some(uri.clone()));
        table.numbers.insert(uri.clone(), number);
        number
    }

    fn uri(&self, number: u64) -> Option<Uri> {
        let table = lock(&self.table);
        table.uris.get(usize::try_from(number).ok()?)?.clone()
    }

    /// A closed buffer: its lenses are stale, and its next opening gets a new number.
    pub fn forget(&self, uri: &Uri) {
        let mut table = lock(&self.table);
        if let Some(number) = table.numbers.remove(uri)
            && let Some(slot) = usize::try_from(number)
                .ok()
                .and_then(|index| table.uris.get_mut(index))
        {
            *slot = None;
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A notebook's lenses, as `encoded.rs` writes them.
pub enum Lenses<'a> {
    Resolved(Vec<CodeLens>),
    /// Written as they are made: 400,000 lenses are never all in memory at once.
    Unresolved(Unresolved<'a>),
}

impl Lenses<'_> {
    /// Writes the lenses as a JSON array.
    pub fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        match self {
            Lenses::Resolved(lenses) => serde_json::to_writer(out, lenses),
            Lenses::Unresolved(unresolved) => unresolved.write_json(out),
        }
    }
}

pub fn code_lenses<'a>(core: &Core, snapshot: &'a Snapshot) -> Option<Lenses<'a>> {
    let code_cells = snapshot.file().map_or(0, |file| {
        file.notebook
            .cells
            .iter()
            .filter(|cell| cell.cell_type == CellType::Code)
            .count()
    });
    if code_cells > core.flags().lenses_resolved_up_to
        && snapshot.current
        && let Some(file) = snapshot.file()
    {
        return Some(Lenses::Unresolved(Unresolved {
            snapshot,
            file,
            document: core.lens_documents.number(&snapshot.uri),
        }));
    }
    let views = cell_views(core, snapshot)?;
    let mut lenses = Vec::new();
    for (index, view) in views.iter().enumerate() {
        let range = convert::range(&snapshot.document, view.header, snapshot.encoding);
        let runs = !matches!(view.status, CellStatus::Setup | CellStatus::Note);
        for lens in lenses_of(index, runs) {
            lenses.push(CodeLens {
                range,
                command: Some(command(snapshot, view, lens)),
                data: None,
            });
        }
    }
    Some(Lenses::Resolved(lenses))
}

/// Every lens of a notebook, without its command.
pub struct Unresolved<'a> {
    snapshot: &'a Snapshot,
    file: &'a NotebookFile,
    /// The buffer's number in [`LensDocuments`].
    document: u64,
}

impl Unresolved<'_> {
    /// Writes `[{"range": …, "data": [document, version, cell, lens]}, …]`. A cell's
    /// lenses differ only in their last number: everything before it is written once
    /// per cell and copied (400,000 lenses through serde took ~2,000 instructions each).
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let snapshot = self.snapshot;
        let version = snapshot.document.version();
        let mut positions = Positions::of(snapshot);
        let code = self
            .file
            .notebook
            .cells
            .iter()
            .enumerate()
            .filter(|(_, cell)| cell.cell_type == CellType::Code);
        // A lens is ~100 bytes; most cells have four.
        let lenses = self.file.notebook.cells.len().saturating_mul(4);
        out.reserve(lenses.saturating_mul(100));
        let mut lens_start = Vec::with_capacity(128);
        let mut first = true;
        out.push(b'[');
        for (index, (ordinal, cell)) in code.enumerate() {
            let range = positions.range(header_of(&self.file.text, cell));
            lens_start.clear();
            lens_start.extend_from_slice(br#"{"range":"#);
            json_write::range(&mut lens_start, range);
            lens_start.extend_from_slice(br#","data":["#);
            json_write::number(&mut lens_start, self.document);
            lens_start.push(b',');
            if version < 0 {
                lens_start.push(b'-');
            }
            json_write::number(&mut lens_start, u64::from(version.unsigned_abs()));
            lens_start.push(b',');
            json_write::number(&mut lens_start, ordinal as u64);
            lens_start.push(b',');
            let runs = !matches!(cell.spec.kind, CellKind::Setup | CellKind::Note);
            for lens in lenses_of(index, runs) {
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(&lens_start);
                json_write::number(out, lens.number());
                out.extend_from_slice(b"]}");
            }
        }
        out.push(b']');
        Ok(())
    }
}

/// `codeLens/resolve`: the command of a lens [`Unresolved`] wrote.
pub fn resolve(core: &Arc<Core>, mut lens: CodeLens) -> CodeLens {
    if lens.command.is_some() {
        return lens;
    }
    let Some((uri, version, ordinal, which)) = parse_data(core, lens.data.as_ref()) else {
        return lens;
    };
    let resolved = core.state.snapshot(&uri).and_then(|snapshot| {
        if snapshot.document.version() != version || !snapshot.current {
            return None;
        }
        let view = cell_views_in(core, &snapshot, ordinal..ordinal + 1)?
            .into_iter()
            .find(|view| view.ordinal == ordinal)?;
        Some((command(&snapshot, &view, which), snapshot))
    });
    match resolved {
        Some((command, snapshot)) => {
            lens.range = cell_range(&snapshot, ordinal).unwrap_or(lens.range);
            lens.command = Some(command);
        }
        // Made for another version: the client's lenses are out of date.
        None => refresh_views(core, &uri),
    }
    lens
}

/// The header range of cell `ordinal` in the snapshot.
fn cell_range(snapshot: &Snapshot, ordinal: usize) -> Option<Range> {
    let file = snapshot.file()?;
    let cell = file.notebook.cells.get(ordinal)?;
    Some(convert::range(
        &snapshot.document,
        header_of(&file.text, cell),
        snapshot.encoding,
    ))
}

/// `[document, version, cell, lens]` of an unresolved lens.
fn parse_data(core: &Core, data: Option<&Value>) -> Option<(Uri, i32, usize, Lens)> {
    let numbers = data?.as_array()?;
    let [document, version, ordinal, which] = numbers.as_slice() else {
        return None;
    };
    let uri = core.lens_documents.uri(document.as_u64()?)?;
    let version = i32::try_from(version.as_i64()?).ok()?;
    let ordinal = usize::try_from(ordinal.as_u64()?).ok()?;
    Some((uri, version, ordinal, Lens::from_number(which.as_u64()?)?))
}

/// The command of one of a cell's lenses.
fn command(snapshot: &Snapshot, view: &CellView, lens: Lens) -> Command {
    let (title, command) = match lens {
        Lens::Status => status_lens(view),
        Lens::Run => ("▶ Run".to_string(), RUN_CELL),
        Lens::RunWithDeps => ("▶ Run with deps".to_string(), RUN_WITH_DEPS),
        Lens::RunAbove => ("Run above".to_string(), RUN_ABOVE),
        Lens::RunAll => ("▶▶ Run all".to_string(), RUN_ALL),
    };
    Command {
        title,
        command: command.to_string(),
        arguments: Some(vec![
            json!({"uri": snapshot.uri.as_str(), "cell": view.ordinal}),
        ]),
    }
}

/// The status lens's title and command (the running cell's lens interrupts it; the
/// others open the cell's outputs in the preview).
fn status_lens(view: &CellView) -> (String, &'static str) {
    match view.queued {
        Some(Queued::Running) => return ("⟳ running…".to_string(), INTERRUPT),
        Some(Queued::Waiting) => return ("… queued".to_string(), OPEN_PREVIEW),
        None => {}
    }
    let title = match view.status {
        CellStatus::Cached => {
            let mut title = "✓ cached".to_string();
            if let Some(milliseconds) = view.duration_ms {
                title.push_str(&format!(" · {}", duration(milliseconds)));
            }
            if let Some(at) = view.executed_at {
                title.push_str(&format!(" · {}", ago_since(at)));
            }
            title
        }
        CellStatus::Error => match &view.error {
            Some(error) if error.evalue.trim().is_empty() => format!("✗ {}", error.ename),
            Some(error) => format!("✗ {}: {}", error.ename, first_line(&error.evalue)),
            None => "✗ error".to_string(),
        },
        CellStatus::Stale => "● stale".to_string(),
        CellStatus::New => "○ not run".to_string(),
        CellStatus::Setup => "setup".to_string(),
        CellStatus::Note => "note".to_string(),
    };
    (title, OPEN_PREVIEW)
}

//! `textDocument/codeLens`: on every code cell's header a status lens (`✓ cached · 1.2 s ·
//! 3 min ago`, `● stale`, `✗ ValueError: kaboom`, `○ not run`, `setup`, `note`, or
//! `⟳ running…` / `… queued` while in the run queue) and the run lenses (`▶ Run`,
//! `▶ Run with deps`, `Run above`; `▶▶ Run all` on the first code cell, whatever its kind). Every lens
//! carries one of the advertised commands with `{uri, cell}`, so clients run them with
//! no plugin code. Lenses are resolved at once (no `codeLens/resolve`).

use serde_json::json;
use tower_lsp_server::ls_types::{CodeLens, Command};

use super::cell_views::{CellView, cell_views};
use super::commands::{INTERRUPT, OPEN_PREVIEW, RUN_ABOVE, RUN_ALL, RUN_CELL, RUN_WITH_DEPS};
use super::progress::first_line;
use super::runs::Queued;
use super::state::Snapshot;
use super::{Core, convert};
use crate::cache::CellStatus;
use crate::render::time_text::{ago_since, duration};

pub fn code_lenses(core: &Core, snapshot: &Snapshot) -> Option<Vec<CodeLens>> {
    let views = cell_views(core, snapshot)?;
    let mut lenses = Vec::new();
    for (index, view) in views.iter().enumerate() {
        let range = convert::range(&snapshot.document, view.header, snapshot.encoding);
        let lens = |title: String, command: &str| CodeLens {
            range,
            command: Some(Command {
                title,
                command: command.to_string(),
                arguments: Some(vec![
                    json!({"uri": snapshot.uri.as_str(), "cell": view.ordinal}),
                ]),
            }),
            data: None,
        };
        let (title, command) = status_lens(view);
        lenses.push(lens(title, command));
        // On the first code cell whatever its kind: notebooks often open with jc.setup.
        let run_all = index == 0;
        if !matches!(view.status, CellStatus::Setup | CellStatus::Note) {
            lenses.push(lens("▶ Run".to_string(), RUN_CELL));
            lenses.push(lens("▶ Run with deps".to_string(), RUN_WITH_DEPS));
            if index > 0 {
                lenses.push(lens("Run above".to_string(), RUN_ABOVE));
            }
        }
        if run_all {
            lenses.push(lens("▶▶ Run all".to_string(), RUN_ALL));
        }
    }
    Some(lenses)
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

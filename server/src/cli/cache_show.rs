//! `jellycell-lsp cache show TARGET [--project DIR] [--json]`: a cell's cached outputs in
//! the terminal. TARGET is a cell by name (`summary`, `prep:3`), `NOTEBOOK:LINE` (the cell
//! holding that line, as an editor or a traceback names it), or a notebook (every code
//! cell). Shows the outputs of the cell's current key, else its latest run marked stale.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::analysis::graph::CellRef;
use crate::analysis::workspace::Workspace;
use crate::cache::Store;
use crate::cache::key::KeyContext;
use crate::cache::manifest::Manifest;
use crate::cache::status::{CellStatus, cell_states_and_manifests};
use crate::kernel::terminal_text;
use crate::project::Project;
use crate::render::outputs_text::{PreviewPlace, outputs_text};
use crate::run::traceback::{CellPlace, with_file_lines};
use crate::text::LineIndex;

#[derive(Debug, clap::Args)]
pub(super) struct ShowArgs {
    /// A cell name (`summary`, `prep:3`), `NOTEBOOK:LINE`, or a notebook.
    target: String,
    /// The project root (default: the nearest jellycell.toml above the current directory).
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
    /// Print `{"schema_version":1,"cells":[...]}` with nbformat outputs on stdout.
    #[arg(long)]
    json: bool,
}

pub(super) fn show(args: &ShowArgs) -> Result<(), String> {
    let (file_hint, line) = split_target(&args.target);
    let start = match (&args.project, &file_hint) {
        (Some(root), _) => root.clone(),
        (None, Some(file)) => file.clone(),
        (None, None) => std::env::current_dir().map_err(|error| error.to_string())?,
    };
    let project = match &args.project {
        Some(root) => Project::load(root),
        None => Project::discover(&start),
    };
    // As every other cache command: an invalid config stops it (its paths are not used).
    super::config_gate::require_valid_config(&project)?;
    let extra: Vec<PathBuf> = file_hint.iter().cloned().collect();
    let (workspace, _) = Workspace::load(project, &extra);
    let cells = find_cells(&workspace, file_hint.as_deref(), line, &args.target)?;
    let store = Store::open(&workspace.project);
    let origin = crate::preview::configured_port(&workspace.project)
        .map(|port| format!("http://127.0.0.1:{port}"));
    let mut keys = KeyContext::new(&workspace, None, &store);
    let mut shown = Vec::new();
    for cell in cells {
        let states = cell_states_and_manifests(&mut keys, &workspace, cell.notebook, &store);
        let Some((state, manifest)) = states
            .into_iter()
            .find(|(state, _)| state.ordinal == cell.ordinal)
        else {
            continue;
        };
        let (Some(file), Some(spans)) = (
            workspace.files.get(cell.notebook),
            workspace
                .files
                .get(cell.notebook)
                .and_then(|file| file.notebook.cells.get(cell.ordinal))
                .map(|found| found.spans),
        ) else {
            continue;
        };
        let (manifest, stale) = match manifest {
            Some(manifest) => (Some(manifest), false),
            None => (
                store
                    .latest_for(&file.relative, &state.name)
                    .and_then(|key| store.manifest(&key)),
                true,
            ),
        };
        let index = LineIndex::new(&file.text);
        let (header_line, _) = index.line_column(&file.text, spans.whole.start);
        let (body_line, _) = index.line_column(&file.text, spans.body.start);
        shown.push(Shown {
            path: file.relative.clone(),
            line: header_line,
            body_line,
            ordinal: cell.ordinal,
            name: state.name,
            status: state.status,
            stale: stale && manifest.is_some(),
            manifest,
        });
    }
    if args.json {
        let cells: Vec<Value> = shown.iter().map(|cell| cell.json(&store)).collect();
        println!("{}", json!({"schema_version": 1, "cells": cells}));
        return Ok(());
    }
    // Outputs are untrusted: only colours may reach a terminal, and nothing but text a pipe.
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for cell in &shown {
        let preview = origin.as_ref().map(|origin| PreviewPlace {
            origin: origin.clone(),
            cell_page: format!(
                "{origin}{}#cell-{}",
                crate::render::notebook_url(&cell.path),
                cell.ordinal
            ),
        });
        print!(
            "{}",
            terminal_text(&cell.text(&store, preview.as_ref()), colour)
        );
    }
    Ok(())
}

/// `notebooks/prep.py:33` → (the file, line 33); a bare existing file → (file, None).
fn split_target(target: &str) -> (Option<PathBuf>, Option<usize>) {
    if let Some((path, line)) = target.rsplit_once(':')
        && let Ok(line) = line.parse::<usize>()
        && Path::new(path).is_file()
    {
        return (Some(PathBuf::from(path)), Some(line));
    }
    if Path::new(target).is_file() {
        return (Some(PathBuf::from(target)), None);
    }
    (None, None)
}

fn find_cells(
    workspace: &Workspace,
    file: Option<&Path>,
    line: Option<usize>,
    target: &str,
) -> Result<Vec<CellRef>, String> {
    if let Some(path) = file {
        let notebook = workspace
            .file_index(path)
            .ok_or_else(|| format!("{}: not a notebook of the project", path.display()))?;
        let entry = &workspace.files[notebook];
        let code = entry
            .notebook
            .cells
            .iter()
            .enumerate()
            .filter(|(_, cell)| cell.cell_type == crate::format::CellType::Code);
        let Some(line) = line else {
            return Ok(code
                .map(|(ordinal, _)| CellRef { notebook, ordinal })
                .collect());
        };
        let index = LineIndex::new(&entry.text);
        let holding = entry.notebook.cells.iter().position(|cell| {
            let (first, _) = index.line_column(&entry.text, cell.spans.whole.start);
            let (last, _) = index.line_column(&entry.text, cell.spans.whole.end.saturating_sub(1));
            (first..=last).contains(&line)
        });
        return match holding {
            Some(ordinal)
                if entry.notebook.cells[ordinal].cell_type == crate::format::CellType::Code =>
            {
                Ok(vec![CellRef { notebook, ordinal }])
            }
            Some(_) => Err(format!("{}:{line} is not in a code cell", path.display())),
            None => Err(format!(
                "{}:{line}: the notebook has no such line",
                path.display()
            )),
        };
    }
    let named = workspace.graph.cells_named(target);
    if named.is_empty() {
        let names = workspace.graph.notebooks.iter().flat_map(|notebook| {
            notebook
                .cells
                .iter()
                .filter_map(|cell| cell.explicit_name.as_ref().map(|(name, _)| name.as_str()))
        });
        return Err(format!(
            "no cell is named \"{target}\"{}; give a cell name, NOTEBOOK:LINE or a notebook",
            crate::text::suggest::did_you_mean(target, names)
        ));
    }
    Ok(named)
}

struct Shown {
    path: String,
    line: usize,
    body_line: usize,
    ordinal: usize,
    name: String,
    status: CellStatus,
    stale: bool,
    manifest: Option<Manifest>,
}

impl Shown {
    /// The traceback with this cell's own frame named by file and line.
    fn traceback(&self, frames: &[String]) -> Vec<String> {
        let count = frames.iter().find_map(|frame| {
            let plain = crate::kernel::strip_ansi(frame);
            let at = plain.find("In[")? + 3;
            plain[at..].split(']').next()?.trim().parse::<u32>().ok()
        });
        let places = count
            .map(|count| {
                (
                    count,
                    CellPlace {
                        notebook: self.path.clone(),
                        first_line: self.body_line,
                    },
                )
            })
            .into_iter()
            .collect();
        with_file_lines(frames, &places)
    }

    fn text(&self, store: &Store, preview: Option<&PreviewPlace>) -> String {
        let mut out = format!(
            "{}:{} [{}] {}",
            self.path, self.line, self.ordinal, self.name
        );
        match &self.manifest {
            None => {
                out.push_str(&format!(
                    " — {}: nothing cached yet; run it with `jellycell-lsp run {}`\n",
                    self.status.as_str(),
                    self.path
                ));
            }
            Some(manifest) => {
                let label = if self.stale {
                    "stale: these outputs are from an earlier version of the cell"
                } else {
                    self.status.as_str()
                };
                out.push_str(&format!(
                    " — {label}, ran {} in {} ms\n",
                    manifest.executed_at, manifest.duration_ms
                ));
                out.push_str(&outputs_text(
                    &manifest.outputs,
                    store.blobs(),
                    preview,
                    &|frames| self.traceback(frames),
                    "    ",
                ));
            }
        }
        out
    }

    fn json(&self, store: &Store) -> Value {
        let outputs = self
            .manifest
            .as_ref()
            .and_then(|manifest| manifest.nbformat_outputs(store.blobs()).ok());
        json!({
            "path": self.path,
            "line": self.line,
            "cell": self.ordinal,
            "name": self.name,
            "status": self.status.as_str(),
            "stale": self.stale,
            "executed_at": self.manifest.as_ref().map(|m| m.executed_at.clone()),
            "outputs": outputs,
        })
    }
}

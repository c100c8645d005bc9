//! The executed notebook of a parameterised run, as papermill writes it: the notebook's
//! cells with the outputs cached for their keys under these parameters, a code cell
//! tagged `injected-parameters` after the cell tagged `parameters` (at the top when there
//! is none), `metadata.papermill` with the parameters and each code cell's
//! `metadata.papermill.status`; on failure, papermill's two markdown cells tagged
//! `papermill-error-cell-tag`. Also papermill's check for parameters the notebook does
//! not declare.

use serde_json::{Map, Value, json};

use crate::analysis::workspace::Workspace;
use crate::cache::{Store, outputs_by_current_key};
use crate::format::{self, Cell, CellType, NotebookFormat};
use crate::run::params::Parameters;
use crate::run::plan::Plan;
use crate::run::report::{CellOutcome, RunReport};

/// The `.ipynb` text of the executed notebook `plan.file` of `workspace`.
pub fn executed_notebook(
    workspace: &Workspace,
    plan: &Plan,
    report: &RunReport,
    parameters: &Parameters,
    store: &Store,
    input_path: &str,
    output_path: &str,
) -> Option<String> {
    let file = workspace.files.get(plan.file)?;
    let mut notebook = file.notebook.clone();
    let outputs = outputs_by_current_key(workspace, plan.file, store, plan.injection.clone());
    let mut notebook_cells = notebook.cells.to_vec();
    for (ordinal, (cell, found)) in notebook_cells.iter_mut().zip(outputs).enumerate() {
        if cell.cell_type != CellType::Code {
            continue;
        }
        if let Some((outputs, execution_count)) = found {
            cell.jupyter_mut().outputs = outputs;
            cell.jupyter_mut().execution_count = execution_count.map(i64::from);
        }
        let outcome = report
            .cells
            .iter()
            .find(|reported| reported.cell == ordinal);
        let status = match outcome.map(|reported| reported.status) {
            Some(CellOutcome::Ok | CellOutcome::Cached | CellOutcome::Setup) => "completed",
            Some(CellOutcome::Error) => "failed",
            _ => "pending",
        };
        let duration = outcome.map_or(0.0, |reported| reported.duration_ms as f64 / 1000.0);
        cell.metadata.insert(
            "papermill".into(),
            json!({
                "status": status,
                "exception": status == "failed",
                "duration": duration,
            }),
        );
    }
    let failed_at = report
        .cells
        .iter()
        .find(|reported| reported.status == CellOutcome::Error)
        .map(|reported| reported.cell);
    let mut cells: Vec<Cell> = Vec::with_capacity(notebook.cells.len() + 3);
    let injected = plan.injection.as_ref().map(|injection| {
        let mut cell = Cell::new(CellType::Code, injection.source.trim_end());
        cell.metadata
            .insert("tags".into(), json!(["injected-parameters"]));
        cell.metadata.insert(
            "papermill".into(),
            json!({"status": "completed", "exception": false}),
        );
        (injection.after, cell)
    });
    if let Some(failed) = failed_at {
        cells.push(error_banner(failed));
    }
    if let Some((None, cell)) = &injected {
        cells.push(cell.clone());
    }
    for (ordinal, cell) in notebook_cells.into_iter().enumerate() {
        if failed_at == Some(ordinal) {
            cells.push(error_anchor());
        }
        cells.push(cell);
        if let Some((Some(after), injected)) = &injected
            && *after == ordinal
        {
            cells.push(injected.clone());
        }
    }
    notebook.cells = cells.into();
    let papermill = json!({
        "parameters": Value::Object(parameters.to_map()),
        "default_parameters": {},
        "environment_variables": {},
        "input_path": input_path,
        "output_path": output_path,
        "exception": failed_at.is_some(),
        "duration": report.total_duration_ms as f64 / 1000.0,
    });
    notebook.metadata.insert("papermill".into(), papermill);
    Some(format::write(&notebook, NotebookFormat::Ipynb))
}

/// Papermill's red banner at the top of a failed notebook.
fn error_banner(failed: usize) -> Cell {
    let text = format!(
        "<span style=\"color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; font-size:2em;\">An Exception was encountered at '<a href=\"#papermill-error-cell\">cell {failed}</a>'.</span>"
    );
    error_cell(&text)
}

/// Papermill's anchor just before the failing cell.
fn error_anchor() -> Cell {
    error_cell(
        "<span id=\"papermill-error-cell\" style=\"color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; font-size:2em;\">Execution using papermill encountered an exception here and stopped:</span>",
    )
}

fn error_cell(text: &str) -> Cell {
    let mut cell = Cell::new(CellType::Markdown, text);
    cell.metadata
        .insert("tags".into(), json!(["papermill-error-cell-tag"]));
    cell
}

/// The names `parameters` sets that the notebook's `parameters` cell does not assign
/// (all of them when no cell is tagged `parameters`), as papermill's
/// "Passed unknown parameter" warning finds them.
pub fn unknown_parameters(
    workspace: &Workspace,
    file: usize,
    parameters: &Parameters,
) -> Vec<String> {
    let declared: Vec<String> = crate::cache::key::parameters_cell(workspace, file)
        .and_then(|ordinal| workspace.files.get(file)?.notebook.cells.get(ordinal))
        .map(|cell| declared_names(&cell.source))
        .unwrap_or_default();
    parameters
        .names()
        .filter(|name| !declared.iter().any(|known| known == name))
        .map(str::to_string)
        .collect()
}

/// Top-level `name = value` and `name: type = value` lines, as papermill's Python
/// translator reads a parameters cell.
fn declared_names(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| {
            let name_end = line
                .char_indices()
                .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
                .map_or(line.len(), |(at, _)| at);
            let (name, rest) = line.split_at(name_end);
            let starts_well = name
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_');
            let rest = rest.trim_start();
            let assigns = match rest.strip_prefix(':') {
                Some(annotated) => annotated.contains('='),
                None => rest.starts_with('=') && !rest.starts_with("=="),
            };
            (starts_well && assigns).then(|| name.to_string())
        })
        .collect()
}

/// The parameters as a JSON object (for metadata).
impl Parameters {
    pub fn to_map(&self) -> Map<String, Value> {
        self.entries()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_cell_names_are_read_as_papermill_reads_them() {
        assert_eq!(
            declared_names("alpha = 0.1\nn: int = 3  # help\nif x == 1:\n    y = 2\n_z=1\n"),
            ["alpha", "n", "_z"]
        );
    }
}

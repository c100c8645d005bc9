//! `jellycell-lsp export NOTEBOOK --to ipynb|py|md|html [-o PATH|-] [--json]`: converts a
//! notebook between formats, or renders it to one self-contained HTML page. The source format comes from the file extension. Output
//! files are written atomically (a temporary file renamed into place) when they are
//! regular files or new, straight into a device or FIFO, never over a directory; the source
//! is never overwritten. Exporting a text notebook to ipynb attaches the outputs cached
//! for each cell's current key.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::{EXIT_USAGE, ExportArgs, ExportFormat, files::write_output, messages};
use crate::analysis::workspace::Workspace;
use crate::cache::{Store, outputs_by_current_key};
use crate::format::{self, NotebookFormat};
use crate::project::Project;
use crate::project::read::read_text_file;
use crate::render;

pub(super) fn run(args: &ExportArgs) -> i32 {
    match export(args) {
        Ok(()) => 0,
        Err(message) => {
            messages::error(&message);
            EXIT_USAGE
        }
    }
}

fn export(args: &ExportArgs) -> Result<(), String> {
    let source_format = format_of(&args.notebook)?;
    let project = Project::discover(&args.notebook);
    super::config_gate::require_valid_config(&project)?;
    let target_format = args.to.notebook_format();
    let text = read_text_file(&args.notebook, project.config.lint.max_file_bytes())
        .map_err(|error| error.message(&args.notebook))?;
    let mut notebook = format::read(&text, source_format);
    messages::warn_problems(&args.notebook, &text, &notebook.problems);
    let html = args.to == ExportFormat::Html;
    if html && source_format == NotebookFormat::Ipynb {
        return Err(format!(
            "{}: --to html renders text notebooks (.py, .md) with their cached outputs; \
             convert the .ipynb first with --to py",
            args.notebook.display()
        ));
    }
    if target_format == NotebookFormat::Ipynb && source_format != NotebookFormat::Ipynb {
        attach_outputs(&args.notebook, &mut notebook);
    }
    let converted = if html {
        render_html(&args.notebook)?
    } else {
        format::write(&notebook, target_format)
    };
    let extension = if html { "html" } else { target_format.name() };

    let to_stdout = args.output.as_deref() == Some(Path::new("-"));
    if to_stdout && args.json {
        return Err("--json reports on stdout, so it cannot be combined with `-o -`".into());
    }
    let output = match &args.output {
        Some(path) if !to_stdout => path.clone(),
        Some(_) => PathBuf::from("-"),
        None => args.notebook.with_extension(extension),
    };
    if to_stdout {
        let mut out = std::io::stdout().lock();
        if let Err(error) = out
            .write_all(converted.as_bytes())
            .and_then(|()| out.flush())
        {
            super::stdout::exit_on_write_error(&error);
        }
    } else {
        if same_file(&output, &args.notebook) {
            return Err(format!(
                "{} is the notebook being exported; pass -o with another path (or -o - for stdout)",
                output.display()
            ));
        }
        write_output(&output, &converted)?;
    }
    if args.json {
        let report = json!({
            "schema_version": 1,
            "source": args.notebook.display().to_string(),
            "output": output.display().to_string(),
            "format": extension,
        });
        println!("{report}");
    }
    Ok(())
}

/// Gives each code cell the outputs cached for its *current* key (never by ordinal, so a
/// moved or edited cell gets its own outputs or none).
fn attach_outputs(path: &Path, notebook: &mut format::Notebook) {
    let project = Project::discover(path);
    let (workspace, _) = Workspace::load(project, &[path.to_path_buf()]);
    let Some(file) = workspace.file_index(path) else {
        return;
    };
    let store = Store::open(&workspace.project);
    let outputs = outputs_by_current_key(&workspace, file, &store, None);
    for (cell, found) in notebook.cells.iter_mut().zip(outputs) {
        if let Some((outputs, execution_count)) = found {
            cell.jupyter_mut().outputs = outputs;
            cell.jupyter_mut().execution_count = execution_count.map(i64::from);
        }
    }
}

/// The notebook as one HTML page, outputs for each cell's current key, images inlined.
fn render_html(path: &Path) -> Result<String, String> {
    let project = Project::discover(path);
    let (workspace, _) = Workspace::load(project, &[path.to_path_buf()]);
    let file = workspace
        .file_index(path)
        .ok_or_else(|| format!("{}: not a notebook", path.display()))?;
    let store = Store::open(&workspace.project);
    render::render_notebook(&workspace, file, &store, render::UrlScheme::SelfContained)
        .ok_or_else(|| format!("{}: not a notebook", path.display()))
}

/// The format of a notebook file, from its extension.
fn format_of(path: &Path) -> Result<NotebookFormat, String> {
    match path.extension().and_then(|extension| extension.to_str()) {
        Some("py") => Ok(NotebookFormat::Percent),
        Some("md") => Ok(NotebookFormat::Myst),
        Some("ipynb") => Ok(NotebookFormat::Ipynb),
        _ => Err(format!(
            "{}: unknown notebook format; expected a .py (py:percent), .md (MyST) or .ipynb file",
            path.display()
        )),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

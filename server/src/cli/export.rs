//! `jellycell-lsp export NOTEBOOK --to ipynb|py|md|py:percent|py:light|md:myst|md:markdown|html
//! [-o PATH|-] [--json]`: converts a notebook between formats, or renders it to one
//! self-contained HTML page. The source format is the one jupytext reads the file in
//! (its extension, then its header); `py` and `md` keep a notebook's own format for that
//! file type (a light script stays light). Output
//! files are written atomically (a temporary file renamed into place) when they are
//! regular files or new, straight into a device or FIFO, never over a directory; the source
//! is never overwritten. Exporting a text notebook to ipynb attaches the outputs cached
//! for each cell's current key.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::files::{same_file, write_output};
use super::{EXIT_USAGE, ExportArgs, ExportFormat, messages};
use crate::analysis::workspace::Workspace;
use crate::analysis::workspace_subset::OtherNames;
use crate::cache::key::{Injection, parameters_cell};
use crate::cache::{Store, outputs_by_current_key};
use crate::format::{self, NotebookFormat};
use crate::project::Project;
use crate::project::read::read_text_file;
use crate::render;
use crate::run::Parameters;

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
    let text = read_text_file(&args.notebook, project.config.lint.max_file_bytes())
        .map_err(|error| error.message(&args.notebook))?;
    let mut notebook = format::read(&text, source_format);
    // The format the file is in (a `.py` may be light, a `.md` plain markdown).
    let source_format = notebook.format;
    let target_format = args.to.notebook_format(&notebook);
    if let Some(problem) = notebook.unsupported_format() {
        return Err(format!("{}: {}", args.notebook.display(), problem.message));
    }
    messages::warn_problems(&args.notebook, &text, &notebook.problems);
    let html = args.to == ExportFormat::Html;
    if html && source_format == NotebookFormat::Ipynb {
        return Err(format!(
            "{}: --to html renders text notebooks (.py, .md) with their cached outputs; \
             convert the .ipynb first with --to py",
            args.notebook.display()
        ));
    }
    let parameters = super::run::parameters_from(&args.parameters, args.params_file.as_deref())?;
    if !parameters.is_empty() && target_format != NotebookFormat::Ipynb && !html {
        return Err(
            "-p and --params-file choose the outputs of a parameterised run: use them with --to ipynb or --to html"
                .into(),
        );
    }
    if target_format == NotebookFormat::Ipynb && source_format != NotebookFormat::Ipynb {
        attach_outputs(&args.notebook, &mut notebook, &parameters);
    }
    let converted = if html {
        render_html(&args.notebook, &parameters)?
    } else {
        let mut converted = format::write(&notebook, target_format);
        // `jupytext.write` ends every file it writes with a newline.
        if target_format != source_format && !converted.is_empty() && !converted.ends_with('\n') {
            converted.push('\n');
        }
        converted
    };
    let extension = if html { "html" } else { target_format.name() };

    let to_stdout = args.output.as_deref() == Some(Path::new("-"));
    if to_stdout && args.json {
        return Err("--json reports on stdout, so it cannot be combined with `-o -`".into());
    }
    let output = match &args.output {
        Some(path) if !to_stdout => path.clone(),
        Some(_) => PathBuf::from("-"),
        None => default_output(&args.notebook, extension, target_format),
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
        if let Some(folder) = output
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
        {
            std::fs::create_dir_all(folder)
                .map_err(|error| format!("cannot create {}: {error}", folder.display()))?;
        }
        write_output(&output, &converted)?;
        messages::note(&format!(
            "wrote {} ({extension}) from {}",
            output.display(),
            args.notebook.display()
        ));
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

/// Where an export goes without `-o`: beside the notebook with the new extension, as
/// jupytext does, except for `--to py` and `--to md` of a notebook under the project's
/// `[paths] notebooks`: beside it, the result would be a second notebook of the project
/// with the same cells (duplicate names, runs twice), so it goes to `[paths] site` at the
/// same relative path (`notebooks/sub/prep.py` → `site/sub/prep.md`).
fn default_output(notebook: &Path, extension: &str, target: NotebookFormat) -> PathBuf {
    let beside = notebook.with_extension(extension);
    let is_text = target != NotebookFormat::Ipynb;
    let project = Project::discover(notebook);
    if !is_text || project.config_path.is_none() {
        return beside;
    }
    let canonical = |path: &Path| path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let notebooks = canonical(&project.notebooks_dir());
    let Ok(relative) = canonical(notebook)
        .strip_prefix(&notebooks)
        .map(Path::to_path_buf)
    else {
        return beside;
    };
    let site = project.site_dir().join(relative).with_extension(extension);
    // Shown relative to the current folder when it lies below it.
    let cwd = std::env::current_dir().map(|cwd| canonical(&cwd));
    let root = canonical(&project.root);
    match cwd {
        Ok(cwd) if root.starts_with(&cwd) => {
            let below = root.strip_prefix(&cwd).unwrap_or(&root);
            below.join(site.strip_prefix(&project.root).unwrap_or(&site))
        }
        _ => site,
    }
}

/// Gives each code cell the outputs cached for its *current* key (never by ordinal, so a
/// moved or edited cell gets its own outputs or none).
/// With parameters, the outputs are those of the run with them, and the injected cell is
/// written after the `parameters` cell (tagged `injected-parameters`, as papermill does).
fn attach_outputs(path: &Path, notebook: &mut format::Notebook, parameters: &Parameters) {
    let project = Project::discover(path);
    let (workspace, _) =
        Workspace::load_relevant(project, &[path.to_path_buf()], OtherNames::Relevant);
    let Some(file) = workspace.file_index(path) else {
        return;
    };
    let store = Store::open(&workspace.project);
    let injection = parameters.injected_source().map(|source| Injection {
        notebook: file,
        after: parameters_cell(&workspace, file),
        source,
    });
    let outputs = outputs_by_current_key(&workspace, file, &store, injection.clone());
    let mut outputs = outputs.into_iter();
    notebook.cells.update(|cell| {
        if let Some(Some((outputs, execution_count))) = outputs.next() {
            cell.jupyter_mut().outputs = outputs;
            cell.jupyter_mut().execution_count = execution_count.map(i64::from);
        }
    });
    if let Some(injection) = injection {
        let mut cell = format::Cell::new(format::CellType::Code, injection.source.trim_end());
        cell.metadata
            .insert("tags".into(), json!(["injected-parameters"]));
        let at = injection
            .after
            .map_or(0, |after| after + 1)
            .min(notebook.cells.len());
        notebook.cells.insert(at, cell);
        notebook.metadata.insert(
            "papermill".into(),
            json!({"parameters": Value::Object(parameters.to_map())}),
        );
    }
}

/// The notebook as one HTML page, outputs for each cell's current key (under
/// `parameters`), images inlined.
fn render_html(path: &Path, parameters: &Parameters) -> Result<String, String> {
    let project = Project::discover(path);
    let (workspace, _) =
        Workspace::load_relevant(project, &[path.to_path_buf()], OtherNames::Relevant);
    let file = workspace
        .file_index(path)
        .ok_or_else(|| format!("{}: not a notebook", path.display()))?;
    let store = Store::open(&workspace.project);
    render::render_notebook_with(
        &workspace,
        file,
        &store,
        render::UrlScheme::SelfContained,
        parameters,
    )
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

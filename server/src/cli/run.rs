//! `jellycell-lsp run [NOTEBOOK|FOLDER]... [--force] [--keep-going] [--no-deps]
//! [-p NAME VALUE]... [--params-file FILE] [--output OUT.ipynb] [--json]`: plans each
//! notebook against the cache and executes what misses, one kernel per notebook, after
//! the producers in other notebooks of what it `jc.load`s that are not current. With no path it runs every
//! notebook of the project around the current directory; a folder means the notebooks
//! in it. Several notebooks run in dependency order (the producers of what a notebook
//! `jc.load`s first) and end with one summary. Prints a line per cell (a live progress
//! line on a terminal) with tracebacks named by notebook file and line, or one JSON
//! report. `--output` writes the executed notebook as papermill does. Exit 0 when every
//! cell is ok or cached, 1 when a cell failed, 2 for usage errors and a kernel that
//! cannot be found or started.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::files::{same_file, write_output};

use crate::analysis::graph::CellRef;
use crate::analysis::workspace::{Workspace, discover_notebooks};
use crate::cache::Store;
use crate::format::scraps::{Scrap, scraps_in_outputs};
use crate::kernel::{plain_traceback, strip_ansi};
use crate::project::Project;
use crate::project::read::read_text_file;
use crate::run::order::notebook_order;
use crate::run::papermill::{executed_notebook, unknown_parameters};
use crate::run::plan::{closure_in_notebook, stale_producers_elsewhere};
use crate::run::traceback::{CellPlace, with_file_lines};
use crate::run::{
    CellOutcome, Parameters, RunEvent, RunOptions, RunReport, RunStatus, execute_plan, plan_run,
};
use crate::text::LineIndex;

#[derive(Debug, clap::Args)]
pub(super) struct RunArgs {
    /// Notebooks (.py or .md) or folders of notebooks to run, in dependency order.
    /// Default: every notebook of the project around the current directory.
    notebooks: Vec<PathBuf>,
    /// Re-run every cell, ignoring cached results.
    #[arg(long)]
    force: bool,
    /// Keep running after a cell fails (the run still exits 1); with several notebooks,
    /// also run the notebooks after a failed one.
    #[arg(long)]
    keep_going: bool,
    /// Set a parameter (repeatable), injected after the cell tagged `parameters` as
    /// papermill does. VALUE is read as True/False/None, an integer, a float, else a string.
    #[arg(short = 'p', long = "parameter", num_args = 2, value_names = ["NAME", "VALUE"])]
    parameters: Vec<String>,
    /// Read parameters from a YAML or JSON mapping (-p values win).
    #[arg(long, value_name = "FILE")]
    params_file: Option<PathBuf>,
    /// Write the executed notebook (.ipynb: the injected parameters cell, the outputs,
    /// papermill's metadata) to FILE. One notebook only.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The project root (default: the nearest jellycell.toml above the notebook).
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
    /// Print one JSON report on stdout instead of a line per cell.
    #[arg(long)]
    json: bool,
    /// Do not run first the producers in other notebooks of what this notebook
    /// `jc.load`s when they are not current; the cells that load from them still run but
    /// their results are not cached.
    #[arg(long)]
    no_deps: bool,
    /// Run the kernel on this Jupyter server (Jupyter Server, Kernel Gateway, a JupyterHub
    /// user's server: `https://hub/user/NAME/`) instead of locally; over `[run] server`. The
    /// token comes from the variable `[run] token_env` names (default JUPYTER_TOKEN).
    #[arg(long, value_name = "URL")]
    server: Option<String>,
}

pub(super) fn run(args: &RunArgs) -> i32 {
    super::kernel_command_exit(|| run_notebooks(args))
}

/// Runs every notebook asked for; true when a cell failed.
fn run_notebooks(args: &RunArgs) -> Result<bool, String> {
    let (project, notebooks) = resolve_notebooks(args)?;
    if args.output.is_some() && notebooks.len() != 1 {
        return Err(format!(
            "--output writes one executed notebook, but {} notebooks were given; run them one at a time",
            notebooks.len()
        ));
    }
    if let Some(output) = &args.output {
        refuse_output(output, &notebooks)?;
    }
    let parameters = parameters(args)?;
    if let Some(server) = &args.server {
        crate::kernel::check_server_url(server).map_err(|error| error.to_string())?;
    }
    for notebook in &notebooks {
        // Say what is wrong with a file that cannot be read (rather than "not a notebook").
        read_text_file(notebook, project.config.lint.max_file_bytes())
            .map_err(|error| error.message(notebook))?;
    }
    let order = {
        let (workspace, _) = Workspace::load(project.clone(), &notebooks);
        let mut indexes = Vec::new();
        for path in &notebooks {
            let index = workspace
                .file_index(path)
                .ok_or_else(|| format!("{} is not a notebook (.py or .md)", path.display()))?;
            indexes.push(index);
        }
        notebook_order(&workspace.graph, &indexes)
            .into_iter()
            .filter_map(|index| workspace.files.get(index).map(|file| file.path.clone()))
            .collect::<Vec<PathBuf>>()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the async runtime: {error}"))?;
    let several = order.len() > 1;
    let mut reports = Vec::new();
    let mut failed = false;
    for notebook in &order {
        if failed && !args.keep_going {
            break;
        }
        let report = run_one(args, &project, notebook, &parameters, &runtime)?;
        failed |= report.0.status == RunStatus::Error;
        reports.push(report);
    }
    let reports_len = reports.len();
    if args.json {
        if several {
            let status = if failed { "error" } else { "ok" };
            let notebooks: Vec<Value> = reports.into_iter().map(|(_, json)| json).collect();
            println!(
                "{}",
                json!({"schema_version": 1, "status": status, "notebooks": notebooks})
            );
        } else if let Some((_, json)) = reports.into_iter().next() {
            println!("{json}");
        }
    } else if several {
        project_summary(&reports.iter().map(|(report, _)| report).collect::<Vec<_>>());
        let not_run: Vec<String> = order
            .iter()
            .skip(reports_len)
            .map(|path| {
                project
                    .relative_path(path)
                    .unwrap_or_else(|| path.clone())
                    .display()
                    .to_string()
            })
            .collect();
        if !not_run.is_empty() {
            println!(
                "not run after the failure: {} (--keep-going runs them)",
                not_run.join(", ")
            );
        }
    }
    Ok(failed)
}

/// The project and the notebooks the command line names, in the order given.
fn resolve_notebooks(args: &RunArgs) -> Result<(Project, Vec<PathBuf>), String> {
    let cwd = std::env::current_dir().map_err(|error| format!("no current directory: {error}"))?;
    let given: Vec<PathBuf> = args
        .notebooks
        .iter()
        .map(|path| match &args.project {
            // As jellycell: with --project, a relative path is tried against the root.
            Some(root) if !path.exists() && root.join(path).exists() => root.join(path),
            _ => path.clone(),
        })
        .collect();
    let start = given.first().cloned().unwrap_or_else(|| cwd.clone());
    let project = match &args.project {
        Some(root) => Project::load(root),
        None => Project::discover(&start),
    };
    super::config_gate::require_valid_config(&project)?;
    if given.is_empty() {
        if project.config_path.is_none() {
            return Err(format!(
                "no jellycell.toml in {} or above; pass the notebooks to run, or create a project with `jellycell-lsp init`",
                cwd.display()
            ));
        }
        let all = discover_notebooks(&project);
        if all.is_empty() {
            return Err(format!(
                "the project has no notebooks under {}; add one with `jellycell-lsp new NAME`",
                project.notebooks_dir().display()
            ));
        }
        return Ok((project, all));
    }
    let mut notebooks = Vec::new();
    for path in &given {
        if path.is_dir() {
            let before = notebooks.len();
            let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            let inside = absolute.starts_with(project.notebooks_dir());
            super::check::collect_notebooks(&absolute, &project, inside, &mut notebooks);
            if notebooks.len() == before {
                return Err(format!(
                    "{}: no notebooks (.py or .md) in this folder",
                    path.display()
                ));
            }
        } else if path.is_file() || path.exists() {
            // A FIFO or device is taken here so that the read says what it is.
            notebooks.push(path.clone());
        } else {
            return Err(format!(
                "{}: no such notebook or folder; pass a .py or .md notebook, a folder of them, or nothing for the whole project",
                path.display()
            ));
        }
    }
    let mut absolute: Vec<PathBuf> = notebooks
        .iter()
        .map(|path| std::path::absolute(path).unwrap_or_else(|_| path.clone()))
        .collect();
    let mut seen = std::collections::HashSet::new();
    absolute.retain(|path| seen.insert(path.clone()));
    Ok((project, absolute))
}

/// Runs one notebook: its report and its JSON.
fn run_one(
    args: &RunArgs,
    project: &Project,
    notebook: &Path,
    parameters: &Parameters,
    runtime: &tokio::runtime::Runtime,
) -> Result<(RunReport, Value), String> {
    // Loaded again per notebook: an earlier notebook's run may have changed what this one
    // reads (the artifacts behind its `jc.load` keys).
    let (workspace, _) = Workspace::load(project.clone(), &[notebook.to_path_buf()]);
    let file = workspace
        .file_index(notebook)
        .ok_or_else(|| format!("{} is not a notebook (.py or .md)", notebook.display()))?;
    if let Some(problem) = workspace.files[file].notebook.unsupported_format() {
        return Err(format!("{}: {}", notebook.display(), problem.message));
    }
    let places = cell_places(&workspace, file);
    if !parameters.is_empty() {
        for name in unknown_parameters(&workspace, file, parameters) {
            eprintln!(
                "jellycell-lsp: warning: {}: Passed unknown parameter: {name}",
                workspace.files[file].relative
            );
        }
    }
    let store = Store::open(&workspace.project);
    let options = RunOptions {
        keep_going: args.keep_going,
        server: args.server.clone(),
        ..RunOptions::new()
    };
    let mut unrecorded = BTreeSet::new();
    if args.no_deps {
        unrecorded.extend(
            stale_producers_elsewhere(&workspace, file, &store)
                .into_iter()
                .map(|stale| stale.consumer),
        );
    } else {
        let upstream = Upstream {
            workspace: &workspace,
            store: &store,
            runtime,
            options: &options,
            human: !args.json,
        };
        if let Some(failed) = upstream.run_before(file, &mut BTreeSet::from([file]))? {
            store.flush();
            let json = report_json(&failed, &Places::default(), &HashMap::new());
            return Ok((failed, json));
        }
    }
    let mut plan = plan_run(&workspace, file, parameters, args.force, &store);
    plan.unrecorded = unrecorded;
    let mut progress = Progress::new(!args.json, plan.cells.len(), places.clone());
    let result = runtime.block_on(execute_plan(
        &workspace.project,
        &plan,
        &store,
        &options,
        &mut |event| progress.show(event),
    ));
    store.flush();
    let report = result.map_err(|error| error.to_string())?;
    if let Some(output) = &args.output {
        let text = executed_notebook(
            &workspace,
            &plan,
            &report,
            parameters,
            &store,
            &notebook.display().to_string(),
            &output.display().to_string(),
        )
        .ok_or_else(|| format!("{}: not a notebook", notebook.display()))?;
        write_output(output, &text)?;
        if !args.json {
            println!("wrote the executed notebook to {}", output.display());
        }
    }
    if !args.json {
        progress.summary(&report);
    }
    let mut scraps = std::mem::take(&mut progress.scraps);
    for cell in &plan.cells {
        if let Some(hit) = &cell.hit
            && let Ok(outputs) = hit.nbformat_outputs(store.blobs())
        {
            scraps.insert(cell.ordinal, scraps_in_outputs(&outputs));
        }
    }
    let json = report_json(&report, &progress.places, &scraps);
    Ok((report, json))
}

/// Runs, before a notebook, the producers in other notebooks of what it `jc.load`s that
/// are not current (each in its own kernel, with the cells of its notebook they depend
/// on), their own upstream first.
struct Upstream<'a> {
    workspace: &'a Workspace,
    store: &'a Store,
    runtime: &'a tokio::runtime::Runtime,
    options: &'a RunOptions,
    human: bool,
}

impl Upstream<'_> {
    /// The report of the first upstream run that failed, if one did.
    fn run_before(
        &self,
        file: usize,
        visited: &mut BTreeSet<usize>,
    ) -> Result<Option<RunReport>, String> {
        let mut by_notebook: BTreeMap<usize, Vec<CellRef>> = BTreeMap::new();
        for stale in stale_producers_elsewhere(self.workspace, file, self.store) {
            by_notebook
                .entry(stale.producer.notebook)
                .or_default()
                .push(stale.producer);
        }
        for (notebook, producers) in by_notebook {
            if !visited.insert(notebook) {
                continue;
            }
            if let Some(failed) = self.run_before(notebook, visited)? {
                return Ok(Some(failed));
            }
            let mut plan = plan_run(
                self.workspace,
                notebook,
                &Parameters::default(),
                false,
                self.store,
            );
            plan.select(
                &closure_in_notebook(self.workspace, self.store, &producers),
                false,
            );
            if !plan.needs_kernel() {
                continue;
            }
            let consumer = self
                .workspace
                .files
                .get(file)
                .map_or("", |file| file.relative.as_str());
            if self.human {
                println!(
                    "running {} first: {consumer} loads what it writes",
                    plan.notebook
                );
            }
            let places = cell_places(self.workspace, notebook);
            let mut progress = Progress::new(self.human, plan.cells.len(), places);
            let report = self
                .runtime
                .block_on(execute_plan(
                    &self.workspace.project,
                    &plan,
                    self.store,
                    self.options,
                    &mut |event| progress.show(event),
                ))
                .map_err(|error| error.to_string())?;
            if self.human {
                progress.summary(&report);
            }
            if report.status == RunStatus::Error {
                return Ok(Some(report));
            }
        }
        Ok(None)
    }
}

/// For each cell of notebook `file`, by ordinal: where its executed source starts.
fn cell_places(workspace: &Workspace, file: usize) -> Vec<Option<CellPlace>> {
    let Some(notebook) = workspace.files.get(file) else {
        return Vec::new();
    };
    let index = LineIndex::new(&notebook.text);
    notebook
        .notebook
        .cells
        .iter()
        .map(|cell| {
            let (line, _) = index.line_column(&notebook.text, cell.spans.body.start);
            Some(CellPlace {
                notebook: notebook.relative.clone(),
                first_line: line,
            })
        })
        .collect()
}

/// The `run --json` object: the report, each error's traceback without ANSI colours and
/// with file lines, the kernel's own text beside it as `traceback_raw`, and where the
/// cell failed as `location` (`{"path", "line"}`), and each cell's scrapbook values as
/// `scraps` (`[{"name", "encoder", "data"}]`).
fn report_json(report: &RunReport, places: &Places, scraps: &HashMap<usize, Vec<Scrap>>) -> Value {
    let mut json = serde_json::to_value(report).unwrap_or(Value::Null);
    let Some(cells) = json.get_mut("cells").and_then(Value::as_array_mut) else {
        return json;
    };
    for (cell, reported) in cells.iter_mut().zip(&report.cells) {
        let cell_scraps: Vec<Value> = scraps
            .get(&reported.cell)
            .into_iter()
            .flatten()
            .map(|scrap| json!({"name": scrap.name, "encoder": scrap.encoder, "data": scrap.data}))
            .collect();
        if let Some(object) = cell.as_object_mut() {
            object.insert("scraps".into(), Value::Array(cell_scraps));
        }
        let Some(error) = &reported.error else {
            continue;
        };
        let located = with_file_lines(&error.traceback, &places.by_count);
        let plain: Vec<String> = located.iter().map(|line| strip_ansi(line)).collect();
        let location = crate::run::traceback::failing_line(&error.traceback).and_then(|line| {
            let place = places.by_ordinal.get(reported.cell)?.as_ref()?;
            Some(json!({"path": place.notebook, "line": place.first_line + line - 1}))
        });
        if let Some(error_json) = cell.get_mut("error").and_then(Value::as_object_mut) {
            error_json.insert("traceback_raw".into(), json!(error.traceback));
            error_json.insert("traceback".into(), json!(plain));
            error_json.insert("location".into(), location.unwrap_or(Value::Null));
        }
    }
    json
}

/// Where cells are, by ordinal and by the `In[N]` they ran as in this kernel.
#[derive(Debug, Clone, Default)]
struct Places {
    by_ordinal: Vec<Option<CellPlace>>,
    by_count: HashMap<u32, CellPlace>,
}

/// `--output` before anything runs: never the notebook being run (it would be replaced
/// by its .ipynb), never a folder.
fn refuse_output(output: &Path, notebooks: &[PathBuf]) -> Result<(), String> {
    if let Some(notebook) = notebooks
        .iter()
        .find(|notebook| same_file(output, notebook))
    {
        return Err(format!(
            "--output {} is the notebook being run; pass another path, e.g. {}",
            output.display(),
            notebook.with_extension("out.ipynb").display()
        ));
    }
    if output.is_dir() {
        return Err(format!(
            "--output {} is a directory; pass a file path (e.g. {}/out.ipynb)",
            output.display(),
            output.display()
        ));
    }
    Ok(())
}

fn parameters(args: &RunArgs) -> Result<Parameters, String> {
    parameters_from(&args.parameters, args.params_file.as_deref())
}

/// `-p NAME VALUE` pairs over a `--params-file`.
pub(super) fn parameters_from(
    pairs: &[String],
    params_file: Option<&Path>,
) -> Result<Parameters, String> {
    let mut parameters = Parameters::default();
    if let Some(file) = params_file {
        let text = std::fs::read_to_string(file)
            .map_err(|error| format!("cannot read --params-file {}: {error}", file.display()))?;
        parameters
            .read_file_text(&text)
            .map_err(|error| format!("--params-file {}: {error}", file.display()))?;
    }
    for pair in pairs.chunks(2) {
        if let [name, value] = pair {
            parameters
                .set_inferred(name, value)
                .map_err(|error| format!("-p {name}: {error}"))?;
        }
    }
    Ok(parameters)
}

/// Human output: a line per cell; on a terminal, a live progress line while cells run.
struct Progress {
    /// The scrapbook values of each cell that executed, by ordinal.
    scraps: HashMap<usize, Vec<Scrap>>,
    enabled: bool,
    live: bool,
    total: usize,
    done: usize,
    places: Places,
}

impl Progress {
    fn new(enabled: bool, total: usize, by_ordinal: Vec<Option<CellPlace>>) -> Progress {
        Progress {
            scraps: HashMap::new(),
            enabled,
            live: enabled && std::io::stdout().is_terminal(),
            total,
            done: 0,
            places: Places {
                by_ordinal,
                by_count: HashMap::new(),
            },
        }
    }

    fn show(&mut self, event: RunEvent<'_>) {
        if let RunEvent::CellFinished { report } = &event
            && let (Some(count), Some(Some(place))) = (
                report.execution_count,
                self.places.by_ordinal.get(report.cell),
            )
        {
            self.places.by_count.insert(count, place.clone());
        }
        if let RunEvent::CellOutputs { cell, outputs } = &event {
            let outputs: Vec<Value> = outputs.iter().filter_map(|o| o.to_nbformat()).collect();
            self.scraps
                .insert(cell.ordinal, scraps_in_outputs(&outputs));
        }
        if !self.enabled {
            return;
        }
        let mut out = std::io::stdout().lock();
        match event {
            RunEvent::CellOutputs { .. } => {}
            RunEvent::KernelStarting { name } => {
                if self.live {
                    let _ = write!(out, "\r\x1b[2K{} starting kernel {name}…", self.bar());
                    let _ = out.flush();
                }
            }
            RunEvent::CellStarted { cell } => {
                if self.live {
                    let _ = write!(out, "\r\x1b[2K{} running {}…", self.bar(), cell.name);
                    let _ = out.flush();
                }
            }
            RunEvent::CellFinished { report } => {
                self.done += 1;
                if self.live {
                    let _ = write!(out, "\r\x1b[2K");
                }
                let status = match report.status {
                    CellOutcome::Cached => "cached",
                    CellOutcome::Ok => "ok",
                    CellOutcome::Error => "error",
                    CellOutcome::Skipped => "skipped",
                    CellOutcome::Setup => "setup",
                };
                let _ = writeln!(
                    out,
                    "  {status:<7} [{}] {} ({}) {} ms",
                    report.cell, report.name, report.kind, report.duration_ms
                );
                if let Some(state) = report.state_summary() {
                    let _ = writeln!(out, "    {state}");
                }
                if let Some(error) = &report.error {
                    let located = with_file_lines(&error.traceback, &self.places.by_count);
                    let traceback = plain_traceback(&located);
                    if traceback.trim().is_empty() {
                        let _ = writeln!(out, "    {}: {}", error.ename, error.evalue);
                    } else {
                        for line in traceback.lines() {
                            let _ = writeln!(out, "    {line}");
                        }
                    }
                }
            }
        }
    }

    fn bar(&self) -> String {
        const WIDTH: usize = 20;
        let filled = (self.done * WIDTH).checked_div(self.total).unwrap_or(WIDTH);
        format!(
            "[{}{}] {}/{}",
            "#".repeat(filled),
            "-".repeat(WIDTH - filled.min(WIDTH)),
            self.done,
            self.total
        )
    }

    fn summary(&self, report: &RunReport) {
        let count = |outcome| report.count(outcome);
        let environment = report
            .environment
            .as_ref()
            .map(|environment| format!(" (kernel: {})", environment.describe()))
            .unwrap_or_default();
        println!(
            "{}: {} ran, {} cached, {} failed, {} skipped in {} ms{}{environment}",
            report.notebook,
            count(CellOutcome::Ok) + count(CellOutcome::Setup),
            count(CellOutcome::Cached),
            count(CellOutcome::Error),
            count(CellOutcome::Skipped),
            report.total_duration_ms,
            kernel_note(report.kernel_started, report.kernel_start_ms)
        );
    }
}

fn kernel_note(started: bool, start_ms: u64) -> String {
    if started {
        format!(" (+ {start_ms} ms starting the kernel)")
    } else {
        " (no kernel started)".to_string()
    }
}

/// The one summary of a run of several notebooks.
fn project_summary(reports: &[&RunReport]) {
    let total = |outcome| -> usize { reports.iter().map(|report| report.count(outcome)).sum() };
    let cells_ms: u64 = reports.iter().map(|report| report.total_duration_ms).sum();
    let kernels: Vec<&&RunReport> = reports
        .iter()
        .filter(|report| report.kernel_started)
        .collect();
    let kernel_ms: u64 = kernels.iter().map(|report| report.kernel_start_ms).sum();
    let failed: Vec<&str> = reports
        .iter()
        .filter(|report| report.status == RunStatus::Error)
        .map(|report| report.notebook.as_str())
        .collect();
    println!(
        "{} notebook{}: {} ran, {} cached, {} failed, {} skipped in {cells_ms} ms (+ {kernel_ms} ms starting {} kernel{}){}",
        reports.len(),
        if reports.len() == 1 { "" } else { "s" },
        total(CellOutcome::Ok) + total(CellOutcome::Setup),
        total(CellOutcome::Cached),
        total(CellOutcome::Error),
        total(CellOutcome::Skipped),
        kernels.len(),
        if kernels.len() == 1 { "" } else { "s" },
        if failed.is_empty() {
            String::new()
        } else {
            format!("; failed: {}", failed.join(", "))
        }
    );
}

/// The project a `cache` command works on: the one at `root` (or around the current
/// directory), refused when its config has problems.
pub(super) fn project_for(root: Option<&Path>) -> Result<Project, String> {
    let project = match root {
        Some(root) => Project::load(root),
        None => Project::discover(&std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))),
    };
    super::config_gate::require_valid_config(&project)?;
    Ok(project)
}

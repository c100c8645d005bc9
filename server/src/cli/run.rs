//! `jellycell-lsp run NOTEBOOK [--force] [--keep-going] [-p NAME VALUE]... [--params-file
//! FILE] [--json]`: plans the notebook against the cache, executes what misses in one
//! kernel, and prints a line per cell (a live progress line on a terminal) or one JSON
//! report. Exit 0 when every cell is ok or cached, 1 when a cell failed, 2 for usage
//! errors and a kernel that cannot be found or started.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use super::{EXIT_USAGE, messages};
use crate::analysis::workspace::Workspace;
use crate::cache::Store;
use crate::kernel::plain_traceback;
use crate::project::Project;
use crate::project::read::read_text_file;
use crate::run::{
    CellOutcome, Parameters, RunEvent, RunOptions, RunReport, RunStatus, execute_plan, plan_run,
};

#[derive(Debug, clap::Args)]
pub(super) struct RunArgs {
    /// The notebook to run (.py or .md).
    notebook: PathBuf,
    /// Re-run every cell, ignoring cached results.
    #[arg(long)]
    force: bool,
    /// Keep running after a cell fails (the run still exits 1).
    #[arg(long)]
    keep_going: bool,
    /// Set a parameter (repeatable), injected after the cell tagged `parameters` as
    /// papermill does. VALUE is read as True/False/None, an integer, a float, else a string.
    #[arg(short = 'p', long = "parameter", num_args = 2, value_names = ["NAME", "VALUE"])]
    parameters: Vec<String>,
    /// Read parameters from a YAML or JSON mapping (-p values win).
    #[arg(long, value_name = "FILE")]
    params_file: Option<PathBuf>,
    /// The project root (default: the nearest jellycell.toml above the notebook).
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
    /// Print one JSON report on stdout instead of a line per cell.
    #[arg(long)]
    json: bool,
}

pub(super) fn run(args: &RunArgs) -> i32 {
    // Ctrl-C kills the kernel and removes its connection file before exiting.
    crate::kernel::clean_up_on_signals();
    match run_notebook(args) {
        Ok(report) => {
            if report.status == RunStatus::Error {
                1
            } else {
                0
            }
        }
        Err(message) => {
            messages::error(&message);
            EXIT_USAGE
        }
    }
}

fn run_notebook(args: &RunArgs) -> Result<RunReport, String> {
    let notebook = resolve_notebook(args)?;
    let project = match &args.project {
        Some(root) => Project::load(root),
        None => Project::discover(&notebook),
    };
    super::config_gate::require_valid_config(&project)?;
    // Say what is wrong with a file that cannot be read (rather than "not a notebook").
    read_text_file(&notebook, project.config.lint.max_file_bytes())
        .map_err(|error| error.message(&notebook))?;
    let parameters = parameters(args)?;
    let (workspace, _) = Workspace::load(project, std::slice::from_ref(&notebook));
    let file = workspace
        .file_index(&notebook)
        .ok_or_else(|| format!("{} is not a notebook (.py or .md)", notebook.display()))?;
    let store = Store::open(&workspace.project);
    let plan = plan_run(&workspace, file, &parameters, args.force, &store);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the async runtime: {error}"))?;
    let mut progress = Progress::new(!args.json, plan.cells.len());
    let options = RunOptions {
        keep_going: args.keep_going,
        ..RunOptions::new()
    };
    let result = runtime.block_on(execute_plan(
        &workspace.project,
        &plan,
        &store,
        &options,
        &mut |event| progress.show(event),
    ));
    store.flush();
    let report = result.map_err(|error| error.to_string())?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        progress.summary(&report);
    }
    Ok(report)
}

fn resolve_notebook(args: &RunArgs) -> Result<PathBuf, String> {
    let given = &args.notebook;
    // A FIFO or device is "found" here so that the read says what it is.
    if given.is_file() || (given.exists() && !given.is_dir()) {
        return Ok(given.clone());
    }
    // As jellycell: with --project, a relative notebook path is tried against the root.
    if let Some(root) = &args.project {
        let candidate = root.join(given);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(format!(
        "{}: no such notebook; pass the path of a .py or .md notebook",
        given.display()
    ))
}

fn parameters(args: &RunArgs) -> Result<Parameters, String> {
    let mut parameters = Parameters::default();
    if let Some(file) = &args.params_file {
        let text = std::fs::read_to_string(file)
            .map_err(|error| format!("cannot read --params-file {}: {error}", file.display()))?;
        parameters
            .read_file_text(&text)
            .map_err(|error| format!("--params-file {}: {error}", file.display()))?;
    }
    for pair in args.parameters.chunks(2) {
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
    enabled: bool,
    live: bool,
    total: usize,
    done: usize,
}

impl Progress {
    fn new(enabled: bool, total: usize) -> Progress {
        Progress {
            enabled,
            live: enabled && std::io::stdout().is_terminal(),
            total,
            done: 0,
        }
    }

    fn show(&mut self, event: RunEvent<'_>) {
        if !self.enabled {
            return;
        }
        let mut out = std::io::stdout().lock();
        match event {
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
                if let Some(error) = &report.error {
                    let traceback = plain_traceback(&error.traceback);
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
            if report.kernel_started {
                ""
            } else {
                " (no kernel started)"
            }
        );
    }
}

/// The project a `cache` command works on.
/// The project at `root` (or around the current directory), refused when its config has
/// problems.
pub(super) fn project_for(root: Option<&Path>) -> Result<Project, String> {
    let project = match root {
        Some(root) => Project::load(root),
        None => Project::discover(&std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))),
    };
    super::config_gate::require_valid_config(&project)?;
    Ok(project)
}

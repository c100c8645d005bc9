//! The headless CLI: argument parsing (clap) and dispatch to one file per command.
//!
//! `jellycell-lsp` with no command (or `--stdio`) is the language server (`crate::lsp`);
//! `--check` lints notebooks for CI; `init` and `new` make a project and a notebook as
//! Python jellycell does; `export` converts between notebook formats; `run` executes
//! notebooks (a project in dependency order) with the cache; `cache` lists, clears, prunes and re-indexes it;
//! `preview` serves rendered notebooks; `diff` compares two notebooks; `test` re-runs
//! notebooks and compares their outputs with a reference (nbval); `sync` brings jupytext-paired files up to date. Commands print what people read on stderr and
//! what machines read (JSON with `schema_version`) or the notebook itself on stdout.
//! Exit codes: 0 success, 1 findings or a failed run, 2 usage or internal failure.

#![allow(clippy::print_stdout, clippy::print_stderr)]

// Every command's output goes through `stdout::write` (declared before the modules, so
// they all see these instead of std's panicking macros).
macro_rules! println {
    () => {
        $crate::cli::stdout::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::stdout::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

macro_rules! print {
    ($($arg:tt)*) => {
        $crate::cli::stdout::write(format_args!($($arg)*))
    };
}

mod cache;
mod cache_show;
mod cache_verify;
mod check;
mod config_gate;
mod diff;
mod export;
mod files;
mod init;
mod messages;
mod new;
mod preview;
mod run;
mod stdout;
mod sync;
mod test;
mod test_junit;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::format::NotebookFormat;

/// Exit code for a usage error, an unreadable input or an internal failure.
pub const EXIT_USAGE: i32 = 2;

/// The exit code of a command that runs kernels (`run`, `test`): 0, 1 when a cell failed,
/// [`EXIT_USAGE`] (after saying why) when it could not run. Ctrl-C during it kills the
/// kernels and removes their connection files before exiting.
fn kernel_command_exit(command: impl FnOnce() -> Result<bool, String>) -> i32 {
    crate::kernel::clean_up_on_signals();
    match command() {
        Ok(failed) => i32::from(failed),
        Err(message) => {
            messages::error(&message);
            EXIT_USAGE
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "jellycell-lsp",
    version,
    about = "Language server and headless CLI for plain-text notebooks (py:percent, MyST)",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    /// Speak the Language Server Protocol on stdin/stdout (the default with no command).
    #[arg(long)]
    stdio: bool,

    /// Lint notebooks (files or folders; default: the project around the current
    /// directory) and exit 1 if an error-severity finding remains.
    #[arg(long)]
    check: bool,

    /// With --check: the notebooks or folders to check.
    #[arg(requires = "check", value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// With --check: how to print findings.
    #[arg(long, value_enum, default_value_t, requires = "check")]
    format: check::OutputFormat,

    /// With --check: apply safe fixes, then report what remains.
    #[arg(long, requires = "check")]
    fix: bool,

    /// With --check --fix: also apply fixes that are not safe (creating the folders
    /// `layout` asks for), as ruff's `--unsafe-fixes`.
    #[arg(long, requires = "check")]
    unsafe_fixes: bool,

    /// With --check: run only these rules (comma-separated ids; replaces `[lint] select`).
    #[arg(long, value_delimiter = ',', requires = "check", value_name = "RULE")]
    select: Option<Vec<String>>,

    /// With --check: never run these rules (comma-separated ids; adds to `[lint] ignore`).
    #[arg(long, value_delimiter = ',', requires = "check", value_name = "RULE")]
    ignore: Vec<String>,

    /// With --check: neither read nor write the check cache (`.jellycell/cache/jellycell-lsp/check/`).
    #[arg(long, requires = "check")]
    no_cache: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Convert a notebook between py:percent (.py), MyST (.md) and Jupyter (.ipynb), or
    /// render it with its cached outputs to one HTML page (--to html).
    Export(ExportArgs),
    /// Run a notebook's cells in a Jupyter kernel, re-using cached results.
    Run(run::RunArgs),
    /// Inspect and maintain jellycell-lsp's cache (.jellycell/cache/jellycell-lsp/).
    Cache(cache::CacheArgs),
    /// Serve notebooks with their cached outputs on 127.0.0.1, reloading on changes.
    Preview(preview::PreviewArgs),
    /// Make a folder a jellycell project (jellycell.toml and the project folders).
    Init(init::InitArgs),
    /// Write a new notebook from jellycell's template into the project's notebooks folder.
    New(new::NewArgs),
    /// Diff two notebooks cell by cell with their outputs (paths or git `REV:path`);
    /// also a git external diff driver.
    Diff(diff::DiffArgs),
    /// Run notebooks fresh and compare every code cell's outputs with the paired .ipynb's
    /// or the cache's (nbval for plain-text notebooks).
    Test(test::TestArgs),
    /// Bring jupytext-paired files (.ipynb, .py, .md) up to date from the most recently
    /// changed one, keeping the .ipynb's outputs (jupytext --sync without Python).
    Sync(sync::SyncArgs),
}

#[derive(Debug, clap::Args)]
struct ExportArgs {
    /// The notebook to convert (.py, .md or .ipynb).
    notebook: PathBuf,
    /// The format to write.
    #[arg(long, value_enum)]
    to: ExportFormat,
    /// Where to write; `-` for stdout. Default: beside the notebook with the new extension.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Print a JSON report `{"schema_version":1,"source","output","format"}` on stdout.
    #[arg(long)]
    json: bool,
    /// With --to ipynb: the outputs of the run with this parameter (repeatable, as `run -p`),
    /// and the injected parameters cell.
    #[arg(short = 'p', long = "parameter", num_args = 2, value_names = ["NAME", "VALUE"])]
    parameters: Vec<String>,
    /// With --to ipynb: parameters from a YAML or JSON mapping (-p values win).
    #[arg(long, value_name = "FILE")]
    params_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExportFormat {
    /// Jupyter notebook JSON (nbformat 4.5).
    Ipynb,
    /// A `.py` script: py:light for a light notebook, else py:percent (or what the
    /// notebook's `jupytext.formats` names for `py`).
    Py,
    /// A `.md` notebook: md:markdown for a plain-markdown notebook, else MyST (or what the
    /// notebook's `jupytext.formats` names for `md`).
    Md,
    /// jupytext py:percent.
    #[value(name = "py:percent")]
    PyPercent,
    /// jupytext py:light.
    #[value(name = "py:light")]
    PyLight,
    /// MyST markdown (jupytext md:myst).
    #[value(name = "md:myst")]
    MdMyst,
    /// jupytext's plain markdown (md:markdown).
    #[value(name = "md:markdown")]
    MdMarkdown,
    /// One self-contained HTML page with the cached outputs (images inlined).
    Html,
}

impl ExportFormat {
    /// The format to write `notebook` in.
    fn notebook_format(self, notebook: &crate::format::Notebook) -> NotebookFormat {
        match self {
            ExportFormat::Ipynb => NotebookFormat::Ipynb,
            ExportFormat::Py => crate::format::written_format(notebook, NotebookFormat::Percent),
            ExportFormat::Md => crate::format::written_format(notebook, NotebookFormat::Myst),
            ExportFormat::PyPercent => NotebookFormat::Percent,
            ExportFormat::PyLight => NotebookFormat::Light,
            ExportFormat::MdMyst => NotebookFormat::Myst,
            ExportFormat::MdMarkdown => NotebookFormat::Markdown,
            // Not a notebook format: `export` renders HTML before it gets here.
            ExportFormat::Html => NotebookFormat::Percent,
        }
    }
}

/// Runs the CLI with the process arguments and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            if let Some(hint) = command_hint() {
                messages::error(&hint);
                return EXIT_USAGE;
            }
            let code = if error.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = error.print();
            return code;
        }
    };
    if cli.check {
        return check::run(&check::CheckOptions {
            paths: cli.paths,
            format: cli.format,
            fix: cli.fix,
            unsafe_fixes: cli.unsafe_fixes,
            select: cli.select,
            ignore: cli.ignore,
            no_cache: cli.no_cache,
        });
    }
    match cli.command {
        Some(Command::Export(args)) => export::run(&args),
        Some(Command::Run(args)) => run::run(&args),
        Some(Command::Cache(args)) => cache::run(&args),
        Some(Command::Preview(args)) => preview::run(&args),
        Some(Command::Init(args)) => init::run(&args),
        Some(Command::New(args)) => new::run(&args),
        Some(Command::Diff(args)) => diff::run(&args),
        Some(Command::Test(args)) => test::run(&args),
        Some(Command::Sync(args)) => sync::run(&args),
        None => crate::lsp::run_stdio(),
    }
}

/// For `jellycell-lsp check` or `lint` (a command that is a flag here): the flag to use.
fn command_hint() -> Option<String> {
    let first = std::env::args().nth(1)?;
    matches!(first.as_str(), "check" | "lint").then(|| {
        let rest: Vec<String> = std::env::args().skip(2).collect();
        let suggestion = std::iter::once("jellycell-lsp --check".to_string())
            .chain(rest)
            .collect::<Vec<_>>()
            .join(" ");
        format!("`{first}` is not a command: linting is the --check flag; run `{suggestion}`")
    })
}

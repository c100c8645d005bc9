//! `jellycell-lsp test [PATH]... [--accept] [--lax] [--images] [--sanitize NAME,...]
//! [--sanitize-with FILE] [--junit FILE] [--format text|github] [--project DIR]`: nbval
//! for plain-text notebooks (`crate::regress`). Each notebook runs fresh in its own
//! kernel; every code cell's outputs are compared with the reference and the failures are
//! reported as pytest does (notebook path, cell name and line, a `-`/`+` diff). Keeps
//! going past failing cells and notebooks. `--junit` writes JUnit XML; GitHub Actions
//! annotations are printed when `GITHUB_ACTIONS=true` (or with `--format github`).
//! Exit 0 when every cell passed, 1 when one failed, 2 for usage errors.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::ValueEnum;

use super::check::{escape_data, escape_property};
use super::test_junit;
use crate::analysis::workspace::discover_notebooks;
use crate::kernel::{plain_traceback, strip_ansi};
use crate::project::Project;
use crate::regress::compare::value_text;
use crate::regress::sanitize::{self, Sanitizer};
use crate::regress::{
    CellResult, CompareOptions, Mismatch, NotebookResult, Reference, TestOptions, Verdict,
    test_notebook,
};
use crate::review::lines::diff_lines;

#[derive(Debug, clap::Args)]
pub(super) struct TestArgs {
    /// Notebooks (.py or .md) or folders of them. Default: every notebook of the project
    /// around the current directory.
    paths: Vec<PathBuf>,
    /// Record this run's outputs as the new reference (into the paired .ipynb, else the
    /// cache) instead of failing on differences.
    #[arg(long)]
    accept: bool,
    /// Compare only the cells marked NBVAL_CHECK_OUTPUT (errors still fail), as nbval's
    /// --nbval-lax.
    #[arg(long)]
    lax: bool,
    /// Compare image/png and image/jpeg outputs too (skipped by default, as in nbval).
    #[arg(long)]
    images: bool,
    /// Built-in sanitizers to apply (comma-separated): addresses, timestamps, figures, or
    /// all.
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    sanitize: Vec<String>,
    /// An nbval sanitizer file (`regex:` lines, each followed by a `replace:` line).
    #[arg(long, value_name = "FILE", alias = "nbval-sanitize-with")]
    sanitize_with: Option<PathBuf>,
    /// Write a JUnit XML report to FILE (one testcase per code cell).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// `github` adds GitHub Actions annotations (`::error file=…,line=…::…`) to the
    /// report. Default: github when GITHUB_ACTIONS=true, else text.
    #[arg(long, value_enum)]
    format: Option<TestFormat>,
    /// The project root (default: the nearest jellycell.toml above the first path).
    #[arg(long, value_name = "DIR")]
    project: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TestFormat {
    Text,
    Github,
}

pub(super) fn run(args: &TestArgs) -> i32 {
    super::kernel_command_exit(|| test_all(args))
}

fn test_all(args: &TestArgs) -> Result<bool, String> {
    let started = Instant::now();
    let options = TestOptions {
        lax: args.lax,
        accept: args.accept,
        compare: CompareOptions {
            images: args.images,
            sanitizers: sanitizers(args)?,
        },
    };
    let (project, notebooks) = resolve(args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the async runtime: {error}"))?;
    let github = match args.format {
        Some(format) => format == TestFormat::Github,
        None => std::env::var("GITHUB_ACTIONS").is_ok_and(|value| value == "true"),
    };
    let mut results = Vec::new();
    for notebook in &notebooks {
        let result = runtime.block_on(test_notebook(&project, notebook, &options))?;
        print_notebook(&result);
        if github {
            print!("{}", annotations(&result));
        }
        results.push(result);
    }
    let failed = results.iter().any(NotebookResult::failed);
    print_summary(&results, started.elapsed().as_secs_f64());
    if let Some(path) = &args.junit {
        let xml = test_junit::junit_xml(&results);
        super::files::write_atomically(path, &xml)?;
    }
    Ok(failed)
}

fn sanitizers(args: &TestArgs) -> Result<Vec<Sanitizer>, String> {
    let mut all = Vec::new();
    for name in &args.sanitize {
        let names: Vec<&str> = if name == "all" {
            sanitize::BUILT_IN.iter().map(|(name, _)| *name).collect()
        } else {
            vec![name.as_str()]
        };
        for name in names {
            let found = sanitize::built_in(name).ok_or_else(|| {
                let known: Vec<&str> = sanitize::BUILT_IN.iter().map(|(name, _)| *name).collect();
                format!(
                    "--sanitize {name}: no such sanitizer; use {}, or all",
                    known.join(", ")
                )
            })?;
            all.extend(found);
        }
    }
    if let Some(file) = &args.sanitize_with {
        let text = std::fs::read_to_string(file)
            .map_err(|error| format!("cannot read --sanitize-with {}: {error}", file.display()))?;
        all.extend(sanitize::parse_file(&file.display().to_string(), &text)?);
    }
    Ok(all)
}

/// The project and the notebooks named (folders expanded), in the order given.
fn resolve(args: &TestArgs) -> Result<(Project, Vec<PathBuf>), String> {
    let cwd = std::env::current_dir().map_err(|error| format!("no current directory: {error}"))?;
    let start = args.paths.first().cloned().unwrap_or_else(|| cwd.clone());
    let project = match &args.project {
        Some(root) => Project::load(root),
        None => Project::discover(&start),
    };
    super::config_gate::require_valid_config(&project)?;
    if args.paths.is_empty() {
        let all = discover_notebooks(&project);
        if project.config_path.is_none() || all.is_empty() {
            return Err(format!(
                "no notebooks to test around {}; pass the notebooks (.py, .md) or folders to test",
                cwd.display()
            ));
        }
        return Ok((project, all));
    }
    let mut notebooks = Vec::new();
    for path in &args.paths {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
        if path.is_dir() {
            let before = notebooks.len();
            let inside = absolute.starts_with(project.notebooks_dir());
            super::check::collect_notebooks(&absolute, &project, inside, &mut notebooks);
            if notebooks.len() == before {
                return Err(format!(
                    "{}: no notebooks (.py or .md) in this folder",
                    path.display()
                ));
            }
        } else if path.exists() {
            notebooks.push(absolute);
        } else {
            return Err(format!(
                "{}: no such notebook or folder; pass a .py or .md notebook or a folder of them",
                path.display()
            ));
        }
    }
    let mut seen = std::collections::HashSet::new();
    notebooks.retain(|path| seen.insert(path.clone()));
    Ok((project, notebooks))
}

fn reference_label(result: &NotebookResult, project_root: Option<&Path>) -> String {
    match &result.reference {
        Reference::Ipynb(path) => {
            let shown = project_root
                .and_then(|root| path.strip_prefix(root).ok())
                .unwrap_or(path);
            format!("the outputs in {}", shown.display())
        }
        Reference::Cache => "the cache".to_string(),
    }
}

fn print_notebook(result: &NotebookResult) {
    for warning in &result.warnings {
        eprintln!("jellycell-lsp: warning: {warning}");
    }
    for cell in &result.cells {
        match &cell.verdict {
            Verdict::Failed(mismatches) => {
                banner(result, cell);
                println!("Cell outputs differ from {}", reference_label(result, None));
                print_input(cell);
                print_mismatches(mismatches);
            }
            Verdict::Raised(error) => {
                banner(result, cell);
                println!("Cell execution caused an exception");
                print_input(cell);
                println!("Traceback:");
                let traceback = plain_traceback(&error.traceback);
                if traceback.trim().is_empty() {
                    println!("  {}: {}", error.ename, strip_ansi(&error.evalue));
                } else {
                    for line in traceback.lines() {
                        println!("  {line}");
                    }
                }
                println!();
            }
            Verdict::NotRun => {
                banner(result, cell);
                println!("Cell did not run (the kernel died before it)\n");
            }
            Verdict::Accepted(mismatches) => {
                println!(
                    "accepted {}::{} (line {}): {}",
                    result.notebook,
                    cell.name,
                    cell.line,
                    mismatches
                        .iter()
                        .map(Mismatch::summary)
                        .collect::<Vec<_>>()
                        .join("; ")
                );
            }
            _ => {}
        }
    }
    let count =
        |wanted: fn(&Verdict) -> bool| result.cells.iter().filter(|c| wanted(&c.verdict)).count();
    let mut parts = vec![
        format!("{} passed", count(|v| matches!(v, Verdict::Passed))),
        format!("{} failed", count(Verdict::is_failure)),
    ];
    for (label, n) in [
        ("accepted", count(|v| matches!(v, Verdict::Accepted(_)))),
        ("ignored", count(|v| matches!(v, Verdict::Ignored))),
        ("skipped", count(|v| matches!(v, Verdict::Skipped(_)))),
        (
            "without a reference",
            count(|v| matches!(v, Verdict::NoReference)),
        ),
    ] {
        if n > 0 {
            parts.push(format!("{n} {label}"));
        }
    }
    println!(
        "{}: {} (against {}) in {} ms",
        result.notebook,
        parts.join(", "),
        reference_label(result, None),
        result.duration_ms
    );
    if options_hint_needed(result) {
        println!(
            "  cells without a reference were run but not compared; `jellycell-lsp test --accept` records them"
        );
    }
}

fn options_hint_needed(result: &NotebookResult) -> bool {
    result
        .cells
        .iter()
        .any(|cell| cell.verdict == Verdict::NoReference)
}

fn banner(result: &NotebookResult, cell: &CellResult) {
    let title = format!(
        " {}::{} (Cell {}, line {}) ",
        result.notebook, cell.name, cell.code_index, cell.line
    );
    let width = 80usize.saturating_sub(title.chars().count());
    println!(
        "{}{title}{}",
        "_".repeat(width / 2),
        "_".repeat(width - width / 2)
    );
}

fn print_input(cell: &CellResult) {
    println!("\nInput:");
    for line in cell.source.lines() {
        println!("  {line}");
    }
    println!();
}

fn print_mismatches(mismatches: &[Mismatch]) {
    for mismatch in mismatches {
        println!("{}", mismatch.summary());
        if let Mismatch::Value {
            key,
            reference,
            fresh,
            ..
        } = mismatch
        {
            for line in diff_text(key, reference, fresh).lines() {
                println!("  {line}");
            }
        }
    }
    println!();
}

/// `-` reference lines and `+` lines of this run, for a mismatched value.
fn diff_text(key: &str, reference: &serde_json::Value, fresh: &serde_json::Value) -> String {
    let mut old = value_text(key, reference);
    let mut new = value_text(key, fresh);
    for text in [&mut old, &mut new] {
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    let mut out = String::new();
    for hunk in diff_lines(&old, &new) {
        out.push_str(&format!(
            "@@ reference line {}, this run line {} @@\n",
            hunk.old_start + 1,
            hunk.new_start + 1
        ));
        for line in &hunk.removed {
            out.push_str(&format!("- {}\n", line.trim_end_matches('\n')));
        }
        for line in &hunk.added {
            out.push_str(&format!("+ {}\n", line.trim_end_matches('\n')));
        }
    }
    out
}

fn print_summary(results: &[NotebookResult], seconds: f64) {
    let cells = || results.iter().flat_map(|result| &result.cells);
    let failed = cells().filter(|cell| cell.verdict.is_failure()).count();
    let passed = cells()
        .filter(|cell| cell.verdict == Verdict::Passed)
        .count();
    let others = cells().count() - failed - passed;
    println!(
        "{} {failed} failed, {passed} passed, {others} not compared in {} notebook{}, {seconds:.2} s {}",
        "=".repeat(10),
        results.len(),
        if results.len() == 1 { "" } else { "s" },
        "=".repeat(10)
    );
}

/// GitHub Actions workflow commands, one `::error` per failing cell at its header line.
fn annotations(result: &NotebookResult) -> String {
    let mut out = String::new();
    for cell in &result.cells {
        let message = match &cell.verdict {
            Verdict::Failed(mismatches) => {
                let mut message = format!(
                    "{}: outputs differ from {}",
                    cell.name,
                    reference_label(result, None)
                );
                for mismatch in mismatches {
                    message.push('\n');
                    message.push_str(&mismatch.summary());
                    if let Mismatch::Value {
                        key,
                        reference,
                        fresh,
                        ..
                    } = mismatch
                    {
                        message.push('\n');
                        message.push_str(diff_text(key, reference, fresh).trim_end());
                    }
                }
                message
            }
            Verdict::Raised(error) => format!(
                "{}: the cell raised {}: {}",
                cell.name,
                error.ename,
                strip_ansi(&error.evalue)
            ),
            Verdict::NotRun => format!("{}: the cell did not run", cell.name),
            _ => continue,
        };
        out.push_str(&format!(
            "::error file={},line={},title={}::{}\n",
            escape_property(&result.notebook),
            cell.line,
            escape_property("jellycell-lsp test"),
            escape_data(&message)
        ));
    }
    out
}

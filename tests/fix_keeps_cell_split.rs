//! A fix must never change how jupytext splits a file into cells: over every notebook
//! under `fixtures/` (the sample projects, the format fixtures and jupytext's own
//! conformance notebooks), each fix the linter offers is applied on its own, and then all
//! of them together, and the text is read again; the cells (how many, of which type) must
//! be the ones read before. Only the fixes of `FIXES_THAT_SPLIT_CELLS` are meant to change
//! the split, and their titles say so.

#![allow(clippy::print_stdout)]

mod support;

use std::path::{Path, PathBuf};

use jellycell_lsp::analysis::workspace::{Workspace, notebook_format_of};
use jellycell_lsp::format::{self, CellType};
use jellycell_lsp::lint::registry::FIXES_THAT_SPLIT_CELLS;
use jellycell_lsp::lint::{FixAction, LintSettings, TextEdit, apply_edits, check_file};
use jellycell_lsp::project::Project;

fn notebooks_under(folder: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            notebooks_under(&path, found);
        } else if matches!(
            path.extension().and_then(|ext| ext.to_str()),
            Some("py" | "md")
        ) && !path.ends_with("README.md")
        {
            found.push(path);
        }
    }
}

/// jupytext's `unesc`: one `# ` (or `#`) removed after the indentation.
fn unescape(line: &str) -> String {
    let rest = line.trim_start();
    let indent = &line[..line.len() - rest.len()];
    let rest = rest.strip_prefix('#').unwrap_or(rest);
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    format!("{indent}{rest}")
}

fn split(text: &str, path: &Path) -> Vec<CellType> {
    let format = notebook_format_of(path).expect("a .py or .md");
    format::read(text, format)
        .cells
        .iter()
        .map(|cell| cell.cell_type)
        .collect()
}

#[test]
fn no_fix_changes_the_cell_split() {
    let mut files = Vec::new();
    notebooks_under(&support::fixture(""), &mut files);
    files.sort();
    assert!(files.len() > 100, "only {} notebooks found", files.len());
    let mut fixes_tried = 0;
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("utf-8");
        let project = Project::discover(path);
        let settings = LintSettings::from_config(&project.config.lint);
        let (workspace, _) = Workspace::load(project, std::slice::from_ref(path));
        let Some(index) = workspace.file_index(path) else {
            continue;
        };
        let before = split(&text, path);
        let mut all_edits: Vec<TextEdit> = Vec::new();
        for finding in check_file(&workspace, index, &settings) {
            let Some(fix) = &finding.fix else { continue };
            let FixAction::Edits(edits) = &fix.action else {
                continue;
            };
            if FIXES_THAT_SPLIT_CELLS.contains(&finding.rule) {
                // Only where jupytext really glues the line to the cell as a magic.
                let line = finding.span.map_or("", |span| span.slice(&text));
                let as_magic = unescape(line);
                let glued = format::read(&text, notebook_format_of(path).expect("format"))
                    .cells
                    .iter()
                    .any(|cell| cell.source.lines().any(|source| source == as_magic));
                assert!(
                    glued,
                    "{}: {} on {line:?}, which jupytext keeps as a comment",
                    path.display(),
                    finding.rule
                );
                assert!(
                    fix.title.contains("new cell"),
                    "{}: the fix of {} changes the split and must say so: {:?}",
                    path.display(),
                    finding.rule,
                    fix.title
                );
                continue;
            }
            fixes_tried += 1;
            let (fixed, _) = apply_edits(&text, edits);
            if split(&fixed, path) != before {
                failures.push(format!(
                    "{}: the {} fix ({:?}) changes the cells",
                    path.display(),
                    finding.rule,
                    fix.title
                ));
            }
            all_edits.extend(edits.iter().cloned());
        }
        let (fixed, _) = apply_edits(&text, &all_edits);
        if split(&fixed, path) != before {
            failures.push(format!(
                "{}: all fixes together change the cells",
                path.display()
            ));
        }
    }
    println!("{} notebooks, {fixes_tried} fixes applied", files.len());
    assert!(
        fixes_tried > 0,
        "no fixture offers a fix: the test proves nothing"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! Every rule in `docs/lint-rules.md` has a **Bad** example that fires it and a **Good**
//! example that is clean. This test builds each example as a real project, runs the real
//! `jellycell-lsp --check --format json` on it, and checks both, so the docs cannot drift
//! from the code. It also checks that the doc covers every registered rule.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use jellycell_lsp::lint::RULES;
use serde_json::Value;
use support::repo_root;

/// Rules whose examples cannot run here, with the reason.
const NOT_RUNNABLE: &[(&str, &str)] = &[
    (
        "warn-on-large-cell-output",
        "needs a run in a real kernel first; tests/check_parity.rs covers it (firing and quiet)",
    ),
    (
        "jc-without-jellycell",
        "needs an environment without jellycell; tests/check_environment_hints.rs covers it (firing and quiet)",
    ),
    (
        "unreadable-file",
        "needs a file that is not text (a FIFO, invalid UTF-8, no permission); tests/fs_hardening.rs covers it",
    ),
];

/// Rules about the machine's Python rather than the notebook (a `pandas` dependency is
/// fine in a Good example): checked only in their own sections.
const ENVIRONMENT_RULES: &str = "missing-import,jc-without-jellycell";

/// One rule's section of the doc.
struct RuleDoc {
    rule: String,
    bad: Option<Example>,
    good: Option<Example>,
}

struct Example {
    language: String,
    body: String,
}

fn parse_doc(text: &str) -> Vec<RuleDoc> {
    let mut rules: Vec<RuleDoc> = Vec::new();
    let mut pending: Option<&'static str> = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("## `") {
            rules.push(RuleDoc {
                rule: rest.trim_end_matches('`').to_string(),
                bad: None,
                good: None,
            });
            pending = None;
        } else if line.starts_with("**Bad**") {
            pending = Some("bad");
        } else if line.starts_with("**Good**") {
            pending = Some("good");
        } else if let (Some(which), Some(fence)) = (pending, fence_of(line)) {
            let language = line.trim_start_matches('`').to_string();
            let mut body = String::new();
            for inner in lines.by_ref() {
                if inner == fence {
                    break;
                }
                body.push_str(inner);
                body.push('\n');
            }
            let example = Some(Example { language, body });
            if let Some(current) = rules.last_mut() {
                if which == "bad" {
                    current.bad = example;
                } else {
                    current.good = example;
                }
            }
            pending = None;
        }
    }
    rules
}

/// The fence that opens a code block (three or more backticks), if `line` is one.
fn fence_of(line: &str) -> Option<&str> {
    let ticks = line.len() - line.trim_start_matches('`').len();
    (ticks >= 3).then(|| &line[..ticks])
}

/// Writes the example as a project in `root`: a default `jellycell.toml` and folders,
/// then the example's files (`//- path` headers) or the lone notebook.
fn materialize(root: &Path, example: &Example) {
    std::fs::write(
        root.join("jellycell.toml"),
        "[project]\nname = \"example\"\n",
    )
    .unwrap();
    for folder in ["notebooks", "data", "artifacts", "site", "manuscripts"] {
        std::fs::create_dir_all(root.join(folder)).unwrap();
    }
    if !example.body.starts_with("//- ") {
        let name = if example.language == "markdown" {
            "notebooks/example.md"
        } else {
            "notebooks/example.py"
        };
        std::fs::write(root.join(name), &example.body).unwrap();
        return;
    }
    for chunk in example.body.split("//- ").filter(|chunk| !chunk.is_empty()) {
        let (path, content) = chunk.split_once('\n').unwrap_or((chunk, ""));
        let target = root.join(path.trim());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, content).unwrap();
    }
}

/// The rule ids `--check` reports for the project at `root`, for `rule`'s section.
fn rules_fired(root: &Path, rule: &str) -> (BTreeSet<String>, Value) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"));
    if !ENVIRONMENT_RULES.split(',').any(|id| id == rule) {
        command.args(["--ignore", ENVIRONMENT_RULES]);
    }
    let output = command
        .args(["--check", "--format", "json"])
        .current_dir(root)
        .output()
        .unwrap();
    assert_ne!(
        output.status.code(),
        Some(2),
        "--check failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let fired = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|diagnostic| diagnostic["rule"].as_str().map(str::to_string))
        .collect();
    (fired, report)
}

#[test]
fn every_bad_example_fires_its_rule_and_every_good_example_is_clean() {
    let doc = std::fs::read_to_string(repo_root().join("docs/lint-rules.md")).unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for section in parse_doc(&doc) {
        if NOT_RUNNABLE.iter().any(|(rule, _)| *rule == section.rule) {
            continue;
        }
        let (Some(bad), Some(good)) = (&section.bad, &section.good) else {
            failures.push(format!("{}: needs a Bad and a Good example", section.rule));
            continue;
        };
        let bad_dir = tempfile::tempdir().unwrap();
        materialize(bad_dir.path(), bad);
        let (fired, report) = rules_fired(bad_dir.path(), &section.rule);
        if !fired.contains(&section.rule) {
            failures.push(format!(
                "{}: the Bad example does not fire it: {report}",
                section.rule
            ));
        }
        let good_dir = tempfile::tempdir().unwrap();
        materialize(good_dir.path(), good);
        let (fired, report) = rules_fired(good_dir.path(), &section.rule);
        if !fired.is_empty() {
            failures.push(format!(
                "{}: the Good example is not clean: {report}",
                section.rule
            ));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 20, "only {checked} rules were checked");
}

#[test]
fn the_doc_has_a_section_for_every_registered_rule() {
    let doc = std::fs::read_to_string(repo_root().join("docs/lint-rules.md")).unwrap();
    let documented: BTreeSet<String> = parse_doc(&doc)
        .into_iter()
        .map(|section| section.rule)
        .collect();
    let registered: BTreeSet<String> = RULES.iter().map(|rule| rule.id.to_string()).collect();
    assert_eq!(documented, registered);
}

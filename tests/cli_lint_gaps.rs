//! The lint gaps a new user hits in the first hour, through the real binary: a typo of an
//! attribute key, a missing comma between tags, the summary's file count, unknown rule
//! ids as usage errors, folder creation as an unsafe fix, and two places where we match
//! Python jellycell 1.4.0's own `lint` (run here for the comparison).

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::jellycell::jellycell;

fn project(notebook: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"demo\"\n").unwrap();
    for folder in ["notebooks", "data", "artifacts", "site", "manuscripts"] {
        std::fs::create_dir_all(root.join(folder)).unwrap();
    }
    std::fs::write(root.join("notebooks/a.py"), notebook).unwrap();
    dir
}

fn check(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
        .arg("--check")
        .args(args)
        .current_dir(root)
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// (rule, line) of every diagnostic of `--check --format json`.
fn diagnostics(root: &Path) -> Vec<(String, u64)> {
    let output = check(root, &["--format", "json"]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

const TYPOS: &str = r#"# %% tags=["jc.load", "name=a"]
a = 1

# %% tags=["jc.step", "dep=a"]
b = a

# %% tags=["jc.step", "name=e" "deps=a"]
e = a
"#;

#[test]
fn a_dep_typo_and_a_missing_comma_are_reported_with_their_fix() {
    let dir = project(TYPOS);
    let output = check(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let out = text(&output);
    assert!(
        out.contains(
            "notebooks/a.py:4:23: unknown-attribute [*] \"dep=\" is not a cell attribute, so this tag is ignored; did you mean \"deps=a\"?"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "notebooks/a.py:7:23: missing-tag-comma [*] tag \"name=edeps=a\" is two tags with no comma between them (Python joins adjacent strings); write \"name=e\", \"deps=a\""
        ),
        "{out}"
    );
    let fixed = check(dir.path(), &["--fix"]);
    assert_eq!(fixed.status.code(), Some(0), "{}", text(&fixed));
    let notebook = std::fs::read_to_string(dir.path().join("notebooks/a.py")).unwrap();
    assert!(
        notebook.contains(r#"# %% tags=["jc.step", "deps=a"]"#),
        "{notebook}"
    );
    assert!(
        notebook.contains(r#"# %% tags=["jc.step", "name=e", "deps=a"]"#),
        "{notebook}"
    );
}

#[test]
fn foreign_key_value_tags_pass_silently() {
    let dir =
        project("# %% tags=[\"jc.step\", \"papermill=x\", \"seed=3\", \"parameters\"]\nx = 1\n");
    let output = check(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

#[test]
fn the_summary_counts_the_files_that_have_problems() {
    let dir = project(TYPOS);
    std::fs::write(
        dir.path().join("notebooks/clean.py"),
        "# %% tags=[\"jc.step\"]\nx = 1\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notebooks/clean2.py"), "# %%\ny = 1\n").unwrap();
    let out = text(&check(dir.path(), &[]));
    assert!(
        out.contains(
            "Found 2 problems in 1 file (2 errors, 0 warnings, 0 infos); 3 notebooks checked."
        ),
        "{out}"
    );
}

#[test]
fn an_unknown_rule_id_is_a_usage_error_naming_the_closest_rule() {
    let dir = project("# %%\nx = 1\n");
    let output = check(dir.path(), &["--select", "unknwon-dep"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains(
            "--select: \"unknwon-dep\" is not a lint rule; did you mean \"unknown-dep\"?"
        ),
        "{}",
        text(&output)
    );
    let output = check(dir.path(), &["--ignore", "layuot"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("did you mean \"layout\"?"),
        "{}",
        text(&output)
    );
    std::fs::write(
        dir.path().join("jellycell-lsp.toml"),
        "[lint]\nselect = [\"unknwon-dep\"]\n",
    )
    .unwrap();
    let output = check(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains(
            "jellycell-lsp.toml: \"unknwon-dep\" is not a lint rule; did you mean \"unknown-dep\"?"
        ),
        "{}",
        text(&output)
    );
}

#[test]
fn fix_creates_folders_only_with_unsafe_fixes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("jellycell.toml"),
        "[project]\nname = \"demo\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("notebooks")).unwrap();
    std::fs::write(dir.path().join("notebooks/a.py"), "# %%\nx = 1\n").unwrap();
    let output = check(dir.path(), &["--fix"]);
    let out = text(&output);
    assert!(!dir.path().join("site").exists(), "--fix made site/: {out}");
    assert!(!dir.path().join("manuscripts").exists());
    assert!(out.contains("layout Declared path site/"), "{out}");
    assert!(
        out.contains("more fixable with `--fix --unsafe-fixes`"),
        "{out}"
    );
    let output = check(dir.path(), &["--fix", "--unsafe-fixes"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(dir.path().join("site").is_dir() && dir.path().join("manuscripts").is_dir());
}

/// Every (rule, line) Python jellycell's `lint` reports on the project is ours too.
fn assert_jellycell_parity(root: &Path) -> Vec<(String, u64)> {
    let output = jellycell(root, &["--json", "lint"]);
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("jellycell lint: {}", text(&output)));
    let ours = diagnostics(root);
    let theirs: Vec<(String, u64)> = report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["rule"].as_str().unwrap().to_string(),
                v["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert!(!theirs.is_empty(), "jellycell found nothing: {report}");
    for violation in &theirs {
        assert!(
            ours.contains(violation),
            "jellycell reported {violation:?}; we: {ours:?}"
        );
    }
    ours
}

#[test]
fn a_marker_without_space_also_gets_deps_no_comma_as_in_jellycell() {
    let dir = project(
        "# %% tags=[\"jc.load\", \"name=a\"]\na = 1\n\n# %%tags=[\"jc.step\", \"deps=a,b\"]\nb = a\n",
    );
    let ours = assert_jellycell_parity(dir.path());
    assert!(
        ours.contains(&("marker-no-space".to_string(), 4)),
        "{ours:?}"
    );
    assert!(ours.contains(&("deps-no-comma".to_string(), 4)), "{ours:?}");
}

#[test]
fn a_save_over_several_lines_is_reported_where_the_call_starts_as_in_jellycell() {
    let dir = project(
        "# %% tags=[\"jc.step\", \"name=a\"]\nimport jellycell.api as jc\na = 1\njc.save(\n    a,\n    \"out/x.json\",\n)\n",
    );
    let ours = assert_jellycell_parity(dir.path());
    assert!(
        ours.contains(&("enforce-artifact-paths".to_string(), 4)),
        "{ours:?}"
    );
}

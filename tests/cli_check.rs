//! `jellycell-lsp --check` through the real binary: every output format, `--fix`,
//! `--select`/`--ignore`, paths as files and folders, and the exit codes.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// A project with one error (`unknown-dep`), one fixable error (`deps-no-comma`) and
/// one warning (`forward-dep`).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"demo\"\n").unwrap();
    for folder in ["notebooks", "data", "artifacts", "site", "manuscripts"] {
        std::fs::create_dir_all(root.join(folder)).unwrap();
    }
    std::fs::write(
        root.join("notebooks/prep.py"),
        r#"# %% tags=["jc.load", "name=raw"]
x = 1

# %% tags=["jc.load", "name=other"]
y = 2

# %% tags=["jc.step", "name=summary", "deps=raw,other"]
z = x + y

# %% tags=["jc.step", "deps=rwa"]
w = z

# %% tags=["jc.step", "deps=later"]
v = 1

# %% tags=["jc.step", "name=later"]
u = 2
"#,
    )
    .unwrap();
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

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn json_rules(output: &Output) -> Vec<String> {
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|diagnostic| diagnostic["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn human_output_is_path_line_col_rule_message_with_a_summary() {
    let dir = project();
    let output = check(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains(
            "notebooks/prep.py:10:29: unknown-dep no cell is named \"rwa\", so jellycell would drop this dependency silently; did you mean \"raw\"?"
        ),
        "{text}"
    );
    assert!(text.contains("deps-no-comma [*]"), "{text}");
    assert!(
        text.contains(
            "Found 3 problems in 1 file (2 errors, 1 warning, 0 infos); 1 notebook checked."
        ),
        "{text}"
    );
    assert!(text.contains("[*] 1 fixable with `--fix`."), "{text}");
    assert!(
        !text.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
}

#[test]
fn json_output_has_the_schema_and_one_based_positions() {
    let dir = project();
    let output = check(dir.path(), &["--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["summary"]["files"], 1);
    assert_eq!(report["summary"]["errors"], 2);
    assert_eq!(report["summary"]["warnings"], 1);
    let unknown = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|diagnostic| diagnostic["rule"] == "unknown-dep")
        .unwrap();
    assert_eq!(unknown["path"], "notebooks/prep.py");
    assert_eq!(
        (unknown["line"].as_u64(), unknown["column"].as_u64()),
        (Some(10), Some(29))
    );
    assert_eq!(
        (unknown["end_line"].as_u64(), unknown["end_column"].as_u64()),
        (Some(10), Some(32))
    );
    assert_eq!(unknown["severity"], "error");
    assert_eq!(unknown["fixable"], false);
}

#[test]
fn github_output_is_workflow_commands() {
    let dir = project();
    let text = stdout(&check(dir.path(), &["--format", "github"]));
    assert!(
        text.contains("::error file=notebooks/prep.py,line=10,col=29,endLine=10,endColumn=32,title=unknown-dep::no cell is named"),
        "{text}"
    );
    assert!(
        text.contains("::warning file=notebooks/prep.py,line=13"),
        "{text}"
    );
}

#[test]
fn sarif_output_is_sarif_2_1_0_with_rules_and_regions() {
    let dir = project();
    let output = check(dir.path(), &["--format", "sarif"]);
    let sarif: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "jellycell-lsp");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|rule| rule["id"] == "unknown-dep"));
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let result = results
        .iter()
        .find(|result| result["ruleId"] == "unknown-dep")
        .unwrap();
    let region = &result["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 10);
    assert_eq!(region["startColumn"], 29);
    assert_eq!(result["level"], "error");
    let index = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "unknown-dep");
}

#[test]
fn fix_applies_safe_fixes_and_reports_what_remains() {
    let dir = project();
    let output = check(dir.path(), &["--fix", "--format", "json"]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["summary"]["fixed"], 1);
    let mut rules = json_rules(&output);
    rules.sort();
    assert_eq!(rules, ["forward-dep", "unknown-dep"]);
    let fixed = std::fs::read_to_string(dir.path().join("notebooks/prep.py")).unwrap();
    assert!(
        fixed.contains(r#"# %% tags=["jc.step", "name=summary", "deps=raw", "deps=other"]"#),
        "{fixed}"
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "unknown-dep is still an error"
    );
}

#[test]
fn fix_with_unsafe_fixes_creates_missing_declared_folders() {
    let dir = project();
    std::fs::remove_dir(dir.path().join("site")).unwrap();
    let output = check(
        dir.path(),
        &["--fix", "--unsafe-fixes", "--select", "layout"],
    );
    assert!(dir.path().join("site").is_dir());
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("Fixed 1 problem."));
}

#[test]
fn select_and_ignore_choose_rules_and_decide_the_exit_code() {
    let dir = project();
    let only_warnings = check(dir.path(), &["--select", "forward-dep", "--format", "json"]);
    assert_eq!(json_rules(&only_warnings), ["forward-dep"]);
    assert_eq!(
        only_warnings.status.code(),
        Some(0),
        "warnings alone exit 0"
    );
    let ignored = check(
        dir.path(),
        &["--ignore", "unknown-dep,deps-no-comma", "--format", "json"],
    );
    assert_eq!(json_rules(&ignored), ["forward-dep"]);
    assert_eq!(ignored.status.code(), Some(0));
}

#[test]
fn severity_overrides_in_the_config_change_the_exit_code() {
    let dir = project();
    std::fs::write(
        dir.path().join("jellycell-lsp.toml"),
        "[lint]\nignore = [\"unknown-dep\", \"deps-no-comma\"]\n\n[lint.severity]\nforward-dep = \"error\"\n",
    )
    .unwrap();
    let output = check(dir.path(), &["--format", "json"]);
    assert_eq!(json_rules(&output), ["forward-dep"]);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn a_clean_project_exits_0() {
    let dir = project();
    std::fs::write(
        dir.path().join("notebooks/prep.py"),
        "# %% tags=[\"jc.step\"]\nx = 1\n",
    )
    .unwrap();
    let output = check(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("All checks passed (1 file)."));
}

#[test]
fn paths_may_be_files_or_folders_and_still_see_the_whole_project() {
    let dir = project();
    std::fs::write(
        dir.path().join("notebooks/report.py"),
        "# %% tags=[\"jc.step\", \"deps=raw\"]\nprint(1)\n",
    )
    .unwrap();
    let file = check(dir.path(), &["notebooks/report.py", "--format", "json"]);
    assert_eq!(
        file.status.code(),
        Some(0),
        "raw resolves in prep.py: {}",
        stdout(&file)
    );
    let report: Value = serde_json::from_slice(&file.stdout).unwrap();
    assert_eq!(report["summary"]["files"], 1);
    let folder = check(dir.path(), &["notebooks", "--format", "json"]);
    let report: Value = serde_json::from_slice(&folder.stdout).unwrap();
    assert_eq!(report["summary"]["files"], 2);
}

#[test]
fn an_ordinary_python_file_outside_the_notebooks_folder_is_skipped_in_a_folder() {
    let dir = project();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("scripts/tool.py"),
        "import sys\nprint(sys.argv\n",
    )
    .unwrap();
    let output = check(dir.path(), &["scripts", "--format", "json"]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["summary"]["files"], 0);
}

#[test]
fn without_a_project_no_path_means_the_current_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nb.py"),
        "# %% tags=[\"jc.stepp\"]\nx = 1\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("tool.py"), "print(1)\n").unwrap();
    let output = check(dir.path(), &["--format", "json"]);
    assert_eq!(json_rules(&output), ["unknown-kind"]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["summary"]["files"], 1, "tool.py is not a notebook");
}

#[test]
fn usage_errors_exit_2() {
    let dir = project();
    let missing = check(dir.path(), &["no/such/path.py"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("no/such/path.py: no such file or directory")
    );
    let bad_format = check(dir.path(), &["--format", "xml"]);
    assert_eq!(bad_format.status.code(), Some(2));
    let not_a_notebook = check(dir.path(), &["jellycell.toml"]);
    assert_eq!(not_a_notebook.status.code(), Some(2));
    std::fs::write(dir.path().join("notebooks/prep.ipynb"), "{}").unwrap();
    let ipynb = check(dir.path(), &["notebooks/prep.ipynb"]);
    assert_eq!(ipynb.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&ipynb.stderr).contains("paired-out-of-sync"));
}

#[test]
fn a_notebook_named_twice_is_checked_and_reported_once() {
    let dir = project();
    let once = check(dir.path(), &["--format", "json", "notebooks/prep.py"]);
    for args in [
        &["--format", "json", "notebooks/prep.py", "notebooks/prep.py"][..],
        &["--format", "json", "notebooks", "notebooks/prep.py"],
    ] {
        for cache in [&[][..], &["--no-cache"]] {
            let twice = check(dir.path(), &[args, cache].concat());
            assert_eq!(stdout(&twice), stdout(&once), "{args:?} {cache:?}");
        }
    }
    assert!(stdout(&once).contains("\"files\":1"), "{}", stdout(&once));
}

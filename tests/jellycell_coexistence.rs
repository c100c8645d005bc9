//! Living beside Python jellycell 1.4.0 (the real package, from `tests/requirements.txt`):
//! names are per notebook as jellycell resolves them (its own `examples/timeseries`,
//! from the sdist on PyPI, passes `--check`), a cross-notebook dep that matches several
//! notebooks is an ambiguity, and our settings live where jellycell does not look, so
//! `jellycell lint` and `jellycell run` accept a project configured for us.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::jellycell::{jellycell, sdist};

fn check(root: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"));
    command.arg("--check").args(args).current_dir(root);
    command.output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn rules(root: &Path) -> Vec<String> {
    let output = check(root, &["--format", "json"]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap().to_string())
        .collect()
}

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = jellycell(dir.path(), &["init", ".", "--name", "coexist"]);
    assert!(out.status.success(), "jellycell init: {}", text(&out));
    for (path, body) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    dir
}

#[test]
fn jellycells_timeseries_example_passes_check() {
    let dir = tempfile::tempdir().unwrap();
    support::copy_dir(&sdist().join("examples/timeseries"), dir.path());
    let output = check(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        !text(&output).contains("duplicate-name"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_name_in_two_notebooks_is_legal_but_a_dep_on_it_from_a_third_is_ambiguous() {
    let dir = project(&[
        (
            "notebooks/one.py",
            "# %% tags=[\"jc.load\", \"name=loaded\"]\nx = 1\n",
        ),
        (
            "notebooks/two.py",
            "# %% tags=[\"jc.load\", \"name=loaded\"]\ny = 1\n",
        ),
        (
            "notebooks/three.py",
            "# %% tags=[\"jc.step\", \"deps=loaded\"]\nz = 1\n",
        ),
    ]);
    let output = check(dir.path(), &[]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(!out.contains("duplicate-name"), "{out}");
    assert!(
        out.contains("notebooks/three.py:1:29: ambiguous-dep \"loaded\" names cells in several notebooks (\"loaded\" (notebooks/one.py, cell 0), \"loaded\" (notebooks/two.py, cell 0))"),
        "{out}"
    );
}

#[test]
fn a_name_twice_in_one_notebook_is_a_duplicate() {
    let dir = project(&[(
        "notebooks/one.py",
        "# %% tags=[\"jc.load\", \"name=loaded\"]\nx = 1\n\n# %% tags=[\"jc.step\", \"name=loaded\"]\ny = 1\n",
    )]);
    let found = rules(dir.path());
    assert_eq!(
        found
            .iter()
            .filter(|rule| *rule == "duplicate-name")
            .count(),
        2,
        "{found:?}"
    );
}

const NOTEBOOK: &str = "# %% tags=[\"jc.load\", \"name=raw\"]\nraw = 1\n\n# %% tags=[\"jc.step\", \"deps=rwa\"]\nprint(raw + 1)\n";

/// `jellycell lint` and `jellycell run` both accept the project (exit 0).
fn assert_jellycell_accepts(root: &Path) {
    let lint = jellycell(root, &["lint"]);
    assert_eq!(
        lint.status.code(),
        Some(0),
        "jellycell lint: {}",
        text(&lint)
    );
    let run = jellycell(root, &["--json", "run", "notebooks/n.py"]);
    assert_eq!(run.status.code(), Some(0), "jellycell run: {}", text(&run));
    let report: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["status"], "ok", "{report}");
}

#[test]
fn settings_in_jellycell_lsp_toml_apply_and_jellycell_still_lints_and_runs_the_project() {
    let dir = project(&[("notebooks/n.py", NOTEBOOK)]);
    assert!(rules(dir.path()).contains(&"unknown-dep".to_string()));
    std::fs::write(
        dir.path().join("jellycell-lsp.toml"),
        "[lint]\nignore = [\"unknown-dep\"]\n",
    )
    .unwrap();
    let output = check(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_jellycell_accepts(dir.path());
}

#[test]
fn settings_in_pyproject_apply_and_jellycell_still_lints_and_runs_the_project() {
    let dir = project(&[("notebooks/n.py", NOTEBOOK)]);
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"x\"\nversion = \"0\"\n\n[tool.jellycell-lsp.lint.severity]\nunknown-dep = \"warning\"\n",
    )
    .unwrap();
    let output = check(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        text(&output).contains("unknown-dep"),
        "still reported, as a warning"
    );
    assert_jellycell_accepts(dir.path());
}

#[test]
fn the_old_keys_in_jellycell_toml_still_work_with_a_deprecation_warning() {
    let dir = project(&[("notebooks/n.py", NOTEBOOK)]);
    let config = dir.path().join("jellycell.toml");
    let mut toml = std::fs::read_to_string(&config).unwrap();
    toml = toml.replace("[lint]\n", "[lint]\nignore = [\"unknown-dep\"]\n");
    std::fs::write(&config, &toml).unwrap();
    // Why they moved: jellycell refuses the file.
    let lint = jellycell(dir.path(), &["lint"]);
    assert_ne!(
        lint.status.code(),
        Some(0),
        "jellycell accepted unknown keys"
    );
    let output = check(dir.path(), &[]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(
        !out.contains("unknown-dep"),
        "the old key still applies: {out}"
    );
    assert!(
        out.contains("config-deprecated [lint] ignore is jellycell-lsp's setting"),
        "{out}"
    );
    assert!(out.contains("jellycell-lsp.toml"), "{out}");
}

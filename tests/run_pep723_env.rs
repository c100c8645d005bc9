//! Environments a notebook declares, through the real binary, a real `uv` from PyPI (the
//! test venv's, `tests/requirements.txt`) and a real ipykernel: `[run] env = "pep723"`
//! builds the notebook's environment from its PEP-723 `dependencies` (with `six`, a small
//! pure-Python package from PyPI) once, reuses it, and builds another when the list
//! changes; without uv the run names the fix; `[tool.jellycell] python` picks the
//! notebook's Python over `[run] python`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::project::{TestProject, key_of};
use support::python::{python, python_bin_dir};

const PEP723_CONFIG: &str = "[project]\nname = \"t\"\n[run]\nenv = \"pep723\"\n";

fn notebook(dependencies: &[&str]) -> String {
    let list: Vec<String> = dependencies.iter().map(|d| format!("{d:?}")).collect();
    format!(
        "# /// script\n# dependencies = [{}]\n# ///\n\n\
         # %% tags=[\"jc.step\", \"name=where\"]\n\
         import sys, six\nprint(sys.executable)\nprint(six.__name__)\n",
        list.join(", ")
    )
}

/// The binary in the project root with `path` as PATH, no virtual environment active.
fn run_with_path(project: &TestProject, args: &[&str], path: &[PathBuf]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
        .args(args)
        .current_dir(project.root())
        .env("PATH", std::env::join_paths(path).unwrap_or_default())
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .env_remove("UV_PROJECT_ENVIRONMENT")
        .env_remove("JUPYTER_PATH")
        .env_remove("PYTHONPATH")
        .output()
        .expect("the binary runs")
}

/// PATH: the test venv (its python3 and uv) first, then this process's.
fn path_with_uv() -> Vec<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::iter::once(python_bin_dir())
        .chain(std::env::split_paths(&path))
        .collect()
}

fn run_json(project: &TestProject, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["run", "notebooks/env.py", "--json"];
    args.extend_from_slice(extra);
    let output = run_with_path(project, &args, &path_with_uv());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = serde_json::from_str(stdout.trim()).unwrap_or_else(|error| {
        panic!(
            "no JSON ({error}):\nstdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), report)
}

fn envs_dir(project: &TestProject) -> PathBuf {
    project.root().join(".jellycell/cache/jellycell-lsp/envs")
}

fn env_folders(project: &TestProject) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(envs_dir(project))
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_pep723_env_is_built_once_reused_and_rebuilt_when_the_dependencies_change() {
    let project = TestProject::new(&[("notebooks/env.py", &notebook(&["six"]))]);
    project.write("jellycell.toml", PEP723_CONFIG);

    let (code, first) = run_json(&project, &[]);
    assert_eq!(code, 0, "{first}");
    let environment = &first["environment"];
    assert_eq!(environment["kind"], "pep723", "{first}");
    assert_eq!(environment["built"], true, "{first}");
    let python = environment["python"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        Path::new(&python).starts_with(envs_dir(&project)),
        "the environment lives in the project's cache folder: {python}"
    );
    assert_eq!(
        project.stdout_of(&key_of(&first, "where")),
        format!("{python}\nsix\n"),
        "the kernel runs in the built environment and imports six from it"
    );
    assert_eq!(
        env_folders(&project).len(),
        1,
        "{:?}",
        env_folders(&project)
    );

    // Forced again: the same environment, not built a second time.
    let (code, second) = run_json(&project, &["--force"]);
    assert_eq!(code, 0, "{second}");
    assert_eq!(second["environment"]["built"], false, "{second}");
    assert_eq!(second["environment"]["python"], python.as_str());

    // A changed dependency list gets an environment of its own.
    project.write("notebooks/env.py", &notebook(&["six", "toolz"]));
    let (code, third) = run_json(&project, &[]);
    assert_eq!(code, 0, "{third}");
    assert_eq!(third["environment"]["built"], true, "{third}");
    let rebuilt = third["environment"]["python"].as_str().unwrap_or_default();
    assert_ne!(rebuilt, python, "a new environment for the new list");
    let toolz = Command::new(rebuilt)
        .args(["-c", "import toolz"])
        .status()
        .expect("the new environment's python runs");
    assert!(toolz.success(), "toolz is installed in the new environment");
    assert_eq!(
        env_folders(&project).len(),
        2,
        "{:?}",
        env_folders(&project)
    );
}

#[test]
fn without_uv_a_pep723_env_names_the_fix_and_exits_2() {
    let project = TestProject::new(&[("notebooks/env.py", &notebook(&["six"]))]);
    project.write("jellycell.toml", PEP723_CONFIG);
    let path: Vec<PathBuf> = path_with_uv()
        .into_iter()
        .filter(|dir| !dir.join("uv").exists())
        .collect();
    let output = run_with_path(&project, &["run", "notebooks/env.py"], &path);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("uv, which is not on PATH"), "{stderr}");
    assert!(stderr.contains("pip install uv"), "{stderr}");
    assert!(
        env_folders(&project).is_empty(),
        "nothing half-built is left"
    );
}

#[test]
fn the_notebooks_python_override_wins_over_run_python() {
    let chosen = python().display().to_string();
    let text = format!(
        "# /// script\n# [tool.jellycell]\n# python = {chosen:?}\n# ///\n\n\
         # %% tags=[\"jc.step\", \"name=where\"]\nimport sys\nprint(sys.executable)\n"
    );
    let project = TestProject::new(&[("notebooks/env.py", &text)]);
    project.write(
        "jellycell.toml",
        "[project]\nname = \"t\"\n[run]\npython = \"nowhere/bin/python\"\n",
    );
    let (code, report) = run_json(&project, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["environment"]["kind"], "notebook", "{report}");
    assert_eq!(
        project.stdout_of(&key_of(&report, "where")),
        format!("{chosen}\n")
    );
    let check = run_with_path(&project, &["--check"], &path_with_uv());
    assert!(
        check.status.success(),
        "python is an allowed [tool.jellycell] key: {}",
        String::from_utf8_lossy(&check.stdout)
    );
}

//! Which Python runs the kernel, through the real binary and a real ipykernel: the
//! project's `.venv` with no PATH change, a `.venv` without ipykernel (the fix named, exit
//! 2), and `[run] python` winning over `.venv`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::project::{TestProject, key_of};
use support::python::python;

const WHERE: &str = "# %% tags=[\"jc.step\", \"name=where\"]\nimport sys\nprint(sys.executable)\n";

/// `<root>/.venv` made from the test Python without pip (no download); with `ipykernel`,
/// a `.pth` file makes the test venv's packages importable in it.
fn make_venv(root: &Path, with_ipykernel: bool) -> PathBuf {
    let venv = root.join(".venv");
    let status = Command::new(python())
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .expect("python runs");
    assert!(status.success(), "python -m venv failed");
    let venv_python = venv.join("bin/python");
    if with_ipykernel {
        let purelib = |python: &Path| {
            let output = Command::new(python)
                .args([
                    "-c",
                    "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                ])
                .output()
                .expect("python runs");
            PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
        };
        let packages = purelib(python());
        std::fs::write(
            purelib(&venv_python).join("test-packages.pth"),
            format!("{}\n", packages.display()),
        )
        .expect("write .pth");
    }
    venv_python
}

/// The binary in the project root with no virtual environment active and the test venv
/// nowhere on PATH: only the project can point at a Python.
fn run(project: &TestProject, args: &[&str]) -> Output {
    let test_bin = python().parent().map(Path::to_path_buf);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|dir| Some(dir) != test_bin.as_ref())
        .collect();
    Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
        .args(args)
        .current_dir(project.root())
        .env("PATH", std::env::join_paths(dirs).unwrap_or_default())
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .env_remove("JUPYTER_PATH")
        .env_remove("PYTHONPATH")
        .output()
        .expect("the binary runs")
}

fn run_json(project: &TestProject) -> (i32, Value) {
    let output = run(project, &["run", "notebooks/where.py", "--json"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = serde_json::from_str(stdout.trim()).unwrap_or_else(|error| {
        panic!(
            "no JSON ({error}):\nstdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), report)
}

#[test]
fn the_projects_venv_runs_the_kernel_without_a_path_change() {
    let project = TestProject::new(&[("notebooks/where.py", WHERE)]);
    let venv_python = make_venv(project.root(), true);
    let (code, report) = run_json(&project);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["environment"]["kind"], "venv", "{report}");
    assert_eq!(
        report["environment"]["python"],
        venv_python.display().to_string()
    );
    assert_eq!(
        project.stdout_of(&key_of(&report, "where")),
        format!("{}\n", venv_python.display()),
        "the kernel's sys.executable is the project's .venv"
    );

    // The human summary names it too; a cached run starts no kernel and names none.
    project.write(
        "notebooks/where.py",
        &WHERE.replace("import sys", "import sys  # again"),
    );
    let output = run(&project, &["run", "notebooks/where.py"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("(kernel: project venv {})", venv_python.display())),
        "{stdout}"
    );
    let (_, cached) = run_json(&project);
    assert_eq!(cached["kernel_started"], false);
    assert_eq!(cached["environment"], Value::Null);
}

#[test]
fn a_venv_without_ipykernel_names_the_fix_and_exits_2() {
    let project = TestProject::new(&[("notebooks/where.py", WHERE)]);
    let venv_python = make_venv(project.root(), false);
    let output = run(&project, &["run", "notebooks/where.py"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot import ipykernel"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{} -m pip install ipykernel",
            venv_python.display()
        )),
        "{stderr}"
    );
}

#[test]
fn run_python_in_the_config_wins_over_the_venv() {
    let project = TestProject::new(&[("notebooks/where.py", WHERE)]);
    make_venv(project.root(), false);
    let configured = python();
    project.write(
        "jellycell.toml",
        &format!(
            "[project]\nname = \"t\"\n[run]\npython = {:?}\n",
            configured.display().to_string()
        ),
    );
    let (code, report) = run_json(&project);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["environment"]["kind"], "config");
    assert_eq!(
        project.stdout_of(&key_of(&report, "where")),
        format!("{}\n", configured.display())
    );
}

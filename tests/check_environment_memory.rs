//! `--check` remembers what the kernel environment answered (`check/environments.json`):
//! through the real binary, with real venvs made by `python -m venv` whose `python` is a
//! shim that logs each start and `exec`s the real interpreter (as itself, so Python sees
//! the venv; `support::counted_python`), a check whose environment did not change starts
//! no process at all (project `.venv`, the `python3` on PATH, `[run] python`, a version
//! manager's shim), and a change of each input the answers were read from (a module or
//! ipykernel installed, the venv rebuilt, `pyvenv.cfg`, `PYTHONPATH`, `PATH`, `[run]
//! python`, a kernelspec, `.python-version`, another poetry environment (poetry itself is
//! not installed here: a stand-in script answers `poetry env info --path`), a damaged
//! memory) makes the next check ask again and report what is true now.
//!
//! An answer read within 2 s of a change to what it was read from is not trusted (a file
//! system's clock may not have ticked), so a fixture waits until its files are 2 s old
//! before the check that must be remembered: a property of file times, not of the load.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use serde_json::Value;
use support::counted_python::{counted_venv, site_packages, starts, write_executable};
use support::project::TestProject;

const NOTEBOOK: &str = "# %% tags=[\"jc.step\", \"name=a\"]\nimport json\n\
import memo_probe_module\nrows = jc.load(\"data/rows.csv\")\n";

/// A project, the venvs it may use, and the log of every interpreter start.
struct Fixture {
    project: TestProject,
    /// Holds the venvs, the log, a `HOME` without kernelspecs and extra `PATH` folders.
    outside: tempfile::TempDir,
    /// Prepended to `PATH` (a venv's `bin/` for the `python3` on PATH).
    path_first: Vec<PathBuf>,
    /// Extra variables for the check.
    variables: Vec<(String, String)>,
    changed_at: SystemTime,
}

/// The hints of one check, and how many interpreters it started.
#[derive(Debug)]
struct Checked {
    hints: Vec<(String, String)>,
    starts: usize,
    stderr: String,
}

impl Fixture {
    fn new() -> Fixture {
        let fixture = Fixture {
            project: TestProject::new(&[("notebooks/a.py", NOTEBOOK)]),
            outside: tempfile::tempdir().expect("temp dir"),
            path_first: Vec::new(),
            variables: Vec::new(),
            changed_at: SystemTime::now(),
        };
        std::fs::create_dir_all(fixture.home()).expect("home");
        fixture
    }

    fn log(&self) -> PathBuf {
        self.outside.path().join("starts.log")
    }

    fn home(&self) -> PathBuf {
        self.outside.path().join("home")
    }

    /// A venv at `folder` whose interpreters log to [`log`](Self::log).
    fn venv(&mut self, folder: &Path, clear: bool) -> PathBuf {
        let python = counted_venv(folder, &self.log(), clear);
        self.changed_at = SystemTime::now();
        python
    }

    fn site_packages(&self, venv: &Path) -> PathBuf {
        site_packages(venv)
    }

    /// Something changed just now.
    fn changed(&mut self) {
        self.changed_at = SystemTime::now();
    }

    /// Waits until every change is 2 s old, so that what a check reads now is trusted.
    fn settle(&self) {
        let settled = self.changed_at + Duration::from_millis(2_100);
        while let Ok(left) = settled.duration_since(SystemTime::now()) {
            std::thread::sleep(left);
        }
    }

    fn starts(&self) -> usize {
        starts(&self.log())
    }

    fn check(&self) -> Checked {
        let before = self.starts();
        let mut path = self.path_first.clone();
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let mut command = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"));
        command
            .args(["--check", "--format", "json", "notebooks/a.py"])
            .current_dir(self.project.root())
            .env("PATH", std::env::join_paths(path).expect("PATH"))
            .env("HOME", self.home())
            .env("JELLYCELL_LSP_CHECK_STATS", "1");
        for name in [
            "VIRTUAL_ENV",
            "CONDA_PREFIX",
            "JUPYTER_PATH",
            "JUPYTER_DATA_DIR",
            "XDG_DATA_HOME",
            "PYTHONPATH",
            "UV_PROJECT_ENVIRONMENT",
        ] {
            command.env_remove(name);
        }
        command.envs(self.variables.iter().map(|(name, value)| (name, value)));
        let output = command.output().expect("the binary runs");
        let hints = support::hints::environment_hints(&output)
            .into_iter()
            .map(|(rule, _, message)| (rule, message))
            .collect();
        Checked {
            hints,
            starts: self.starts() - before,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Checks twice: the first asks, the second is answered from the memory.
    fn remembered(&self) -> Checked {
        self.settle();
        let first = self.check();
        assert!(first.starts >= 1, "the first check asks: {first:?}");
        let second = self.check();
        assert_eq!(second.starts, 0, "nothing changed: {second:?}");
        assert_eq!(second.hints, first.hints);
        second
    }
}

fn reports_module(checked: &Checked) -> bool {
    checked
        .hints
        .iter()
        .any(|(_, message)| message.contains("\"memo_probe_module\""))
}

/// The project's `.venv`, remembered.
fn project_venv() -> (Fixture, PathBuf) {
    let mut fixture = Fixture::new();
    let venv = fixture.project.path(".venv");
    fixture.venv(&venv, false);
    let checked = fixture.remembered();
    assert!(reports_module(&checked), "{checked:?}");
    (fixture, venv)
}

/// No venv, no kernelspec: the `python3` on PATH, remembered.
fn python3_on_path() -> (Fixture, PathBuf) {
    let mut fixture = Fixture::new();
    let venv = fixture.outside.path().join("onpath");
    fixture.venv(&venv, false);
    fixture.path_first.push(venv.join("bin"));
    let checked = fixture.remembered();
    let label = format!("(python3 on PATH {})", venv.join("bin/python3").display());
    assert!(
        checked
            .hints
            .iter()
            .all(|(_, message)| message.contains(&label)),
        "{checked:?}"
    );
    (fixture, venv)
}

#[test]
fn a_remembered_project_venv_starts_no_process() {
    let (fixture, _) = project_venv();
    let checked = fixture.check();
    assert_eq!(checked.starts, 0, "{checked:?}");
    let rules: Vec<&str> = checked
        .hints
        .iter()
        .map(|(rule, _)| rule.as_str())
        .collect();
    assert_eq!(
        rules,
        ["missing-import", "jc-without-jellycell"],
        "{checked:?}"
    );
}

#[test]
fn a_remembered_python3_on_path_starts_no_process() {
    python3_on_path();
}

#[test]
fn installing_a_module_asks_again() {
    let (fixture, venv) = project_venv();
    std::fs::write(
        fixture.site_packages(&venv).join("memo_probe_module.py"),
        "",
    )
    .expect("install a module");
    let checked = fixture.check();
    assert!(checked.starts >= 1, "{checked:?}");
    assert!(!reports_module(&checked), "installed: {checked:?}");
}

#[test]
fn installing_ipykernel_makes_the_python3_on_path_a_kernel() {
    let (fixture, venv) = python3_on_path();
    let package = fixture.site_packages(&venv).join("ipykernel");
    std::fs::create_dir_all(&package).expect("mkdir");
    std::fs::write(package.join("__init__.py"), "").expect("install ipykernel");
    let checked = fixture.check();
    assert!(checked.starts >= 1, "{checked:?}");
    let label = format!(
        "(kernelspec python3 ({}))",
        venv.join("bin/python3").display()
    );
    assert!(
        !checked.hints.is_empty() && checked.hints.iter().all(|(_, m)| m.contains(&label)),
        "{checked:?}"
    );
}

#[test]
fn a_rebuilt_venv_asks_again() {
    let (mut fixture, venv) = project_venv();
    fixture.venv(&venv, true);
    let checked = fixture.check();
    assert!(checked.starts >= 1, "{checked:?}");
    assert!(reports_module(&checked), "{checked:?}");
}

#[test]
fn a_changed_pyvenv_cfg_asks_again() {
    let (fixture, venv) = project_venv();
    let config = venv.join("pyvenv.cfg");
    let text = std::fs::read_to_string(&config).expect("pyvenv.cfg");
    std::fs::write(&config, text.replace("= false", "= true")).expect("write pyvenv.cfg");
    let checked = fixture.check();
    assert!(checked.starts >= 1, "{checked:?}");
}

#[test]
fn a_pythonpath_with_the_module_asks_again() {
    let (mut fixture, _) = project_venv();
    let folder = fixture.outside.path().join("extra");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(folder.join("memo_probe_module.py"), "").expect("write a module");
    fixture
        .variables
        .push(("PYTHONPATH".into(), folder.display().to_string()));
    let checked = fixture.check();
    assert!(checked.starts >= 1, "{checked:?}");
    assert!(!reports_module(&checked), "on PYTHONPATH: {checked:?}");
}

#[test]
fn another_path_asks_again() {
    let (mut fixture, _) = python3_on_path();
    let other = fixture.outside.path().join("other");
    fixture.venv(&other, false);
    std::fs::write(
        fixture.site_packages(&other).join("memo_probe_module.py"),
        "",
    )
    .expect("install a module");
    fixture.path_first.insert(0, other.join("bin"));
    let checked = fixture.check();
    assert!(checked.starts >= 1, "{checked:?}");
    assert!(
        !reports_module(&checked),
        "the other python3 has it: {checked:?}"
    );
}

#[test]
fn another_run_python_is_asked() {
    let (mut fixture, _) = project_venv();
    let other = fixture.outside.path().join("configured");
    let python = fixture.venv(&other, false);
    std::fs::write(
        fixture.site_packages(&other).join("memo_probe_module.py"),
        "",
    )
    .expect("install a module");
    fixture.project.write(
        "jellycell.toml",
        &format!(
            "[project]\nname = \"t\"\n[run]\npython = {:?}\n",
            python.display().to_string()
        ),
    );
    fixture.changed();
    let checked = fixture.check();
    assert!(checked.starts >= 1, "{checked:?}");
    assert!(!reports_module(&checked), "{checked:?}");
    let again = fixture.remembered();
    assert!(
        again.hints.iter().all(|(_, m)| m.contains("[run] python")),
        "{again:?}"
    );
}

#[test]
fn an_installed_kernelspec_is_asked() {
    let (mut fixture, _) = python3_on_path();
    let other = fixture.outside.path().join("specced");
    let python = fixture.venv(&other, false);
    let spec = fixture.home().join(".local/share/jupyter/kernels/python3");
    std::fs::create_dir_all(&spec).expect("mkdir");
    let argv = serde_json::json!([
        python,
        "-m",
        "ipykernel_launcher",
        "-f",
        "{connection_file}"
    ]);
    std::fs::write(
        spec.join("kernel.json"),
        serde_json::json!({"argv": argv, "display_name": "P", "language": "python"}).to_string(),
    )
    .expect("write kernel.json");
    let checked = fixture.check();
    assert!(checked.starts >= 1, "{checked:?}");
    let label = format!("(kernelspec python3 ({}))", python.display());
    assert!(
        !checked.hints.is_empty() && checked.hints.iter().all(|(_, m)| m.contains(&label)),
        "{checked:?}"
    );
}

#[test]
fn a_damaged_memory_is_ignored_and_rewritten() {
    let (fixture, _) = project_venv();
    let memory = fixture
        .project
        .path(".jellycell/cache/jellycell-lsp/check/environments.json");
    assert!(memory.is_file());
    std::fs::write(&memory, "{\"version\": 2, \"environments\": [").expect("damage it");
    let checked = fixture.check();
    assert!(checked.starts >= 1, "{checked:?}");
    assert!(reports_module(&checked), "{checked:?}");
    assert!(
        checked.stderr.contains("environment memory damaged"),
        "a debug line only: {checked:?}"
    );
    let text = std::fs::read_to_string(&memory).expect("rewritten");
    assert!(serde_json::from_str::<Value>(&text).is_ok(), "{text}");
}

#[test]
fn a_version_managers_shim_is_remembered_with_its_version_files() {
    // As pyenv's: `shims/python3` starts the Python `.python-version` names (from the
    // folder it starts in up), else the global `version` file's.
    let mut fixture = Fixture::new();
    let manager = fixture.outside.path().join("manager");
    for version in ["a", "b"] {
        let venv = manager.join("versions").join(version);
        let status = Command::new(support::python::python())
            .args(["-m", "venv", "--without-pip"])
            .arg(&venv)
            .status()
            .expect("python runs");
        assert!(status.success());
    }
    std::fs::write(
        site_packages(&manager.join("versions/b")).join("memo_probe_module.py"),
        "",
    )
    .expect("install a module");
    std::fs::write(manager.join("version"), "a\n").expect("global version");
    std::fs::create_dir_all(manager.join("shims")).expect("mkdir");
    let shim = format!(
        "#!/bin/bash\necho \"$0 $*\" >> '{log}'\nversion=\"\"\ndir=$(pwd -P)\n\
         while :; do\n  if [ -f \"$dir/.python-version\" ]; then version=$(cat \"$dir/.python-version\"); break; fi\n\
         \x20 [ \"$dir\" = / ] && break\n  dir=$(dirname \"$dir\")\ndone\n\
         [ -z \"$version\" ] && version=$(cat '{manager}/version')\n\
         exec '{manager}/versions/'\"$version\"'/bin/python' \"$@\"\n",
        log = fixture.log().display(),
        manager = manager.display(),
    );
    write_executable(&manager.join("shims/python3"), &shim);
    fixture.path_first.push(manager.join("shims"));
    fixture.changed();
    let checked = fixture.remembered();
    assert!(reports_module(&checked), "version a lacks it: {checked:?}");

    fixture.project.write(".python-version", "b\n");
    let checked = fixture.check();
    assert!(checked.starts >= 1, "{checked:?}");
    assert!(!reports_module(&checked), "version b has it: {checked:?}");
}

#[test]
fn poetrys_environment_is_remembered_until_another_one_is_made() {
    // poetry is not installed here: a stand-in on PATH answers `poetry env info --path`
    // as poetry does (the folder named in `choice`), and logs its start like the venvs.
    let mut fixture = Fixture::new();
    let environments = fixture.outside.path().join("poetry-envs");
    let first = environments.join("t-abc-py3.11");
    fixture.venv(&first, false);
    let choice = fixture.outside.path().join("choice");
    std::fs::write(&choice, first.display().to_string()).expect("write the choice");
    let bin = fixture.outside.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    write_executable(
        &bin.join("poetry"),
        &format!(
            "#!/bin/bash\necho \"$0 $*\" >> '{}'\n[ \"$*\" = \"env info --path\" ] && cat '{}'\n",
            fixture.log().display(),
            choice.display()
        ),
    );
    fixture.path_first.push(bin);
    fixture
        .project
        .write("pyproject.toml", "[tool.poetry]\nname = \"t\"\n");
    fixture.project.write("poetry.lock", "# poetry\n");
    fixture.changed();
    let checked = fixture.remembered();
    let label = format!(
        "(project environment {})",
        first.join("bin/python").display()
    );
    assert!(
        !checked.hints.is_empty() && checked.hints.iter().all(|(_, m)| m.contains(&label)),
        "{checked:?}"
    );

    // `poetry env use`: another environment beside the first, with the module.
    let second = environments.join("t-abc-py3.12");
    fixture.venv(&second, false);
    std::fs::write(site_packages(&second).join("memo_probe_module.py"), "")
        .expect("install a module");
    std::fs::write(&choice, second.display().to_string()).expect("write the choice");
    let checked = fixture.check();
    assert!(checked.starts >= 1, "{checked:?}");
    assert!(
        !reports_module(&checked),
        "the new environment has it: {checked:?}"
    );
}

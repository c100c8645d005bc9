//! `--check`'s environment hints through the real binary and a real Python: a project
//! `.venv` made without pip (so it has neither `six` nor jellycell) gets `missing-import`
//! on the PEP-723 dependency and on a module-level import, and `jc-without-jellycell` on
//! the first `jc.*` call, each naming the environment and the install command; a module
//! that appears in the environment's `site-packages` is no longer reported (the cached
//! answers are keyed by that folder's modification time); guarded imports never are.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::project::TestProject;
use support::python::python;

const NOTEBOOK: &str = "# /// script\n# dependencies = [\"six\"]\n# ///\n\n\
# %% tags=[\"jc.step\", \"name=a\"]\nimport json\nimport hint_probe_module\n\
try:\n    import guarded_module\nexcept ImportError:\n    pass\nrows = jc.load(\"data/rows.csv\")\n";

fn make_venv(root: &Path) -> PathBuf {
    let status = Command::new(python())
        .args(["-m", "venv", "--without-pip"])
        .arg(root.join(".venv"))
        .status()
        .expect("python runs");
    assert!(status.success());
    root.join(".venv/bin/python")
}

fn site_packages(venv_python: &Path) -> PathBuf {
    let output = Command::new(venv_python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ])
        .output()
        .expect("the venv's python runs");
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// `(rule, line, message)` of each environment hint of `--check --format json`.
fn hints(project: &TestProject) -> Vec<(String, u64, String)> {
    let output = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
        .args(["--check", "--format", "json", "notebooks/a.py"])
        .current_dir(project.root())
        .env_remove("VIRTUAL_ENV")
        .output()
        .expect("the binary runs");
    support::hints::environment_hints(&output)
}

#[test]
fn what_the_projects_venv_lacks_is_reported_with_the_install_command() {
    let project = TestProject::new(&[("notebooks/a.py", NOTEBOOK)]);
    let venv_python = make_venv(project.root());
    let found = hints(&project);
    let rules: Vec<(&str, u64)> = found.iter().map(|(r, l, _)| (r.as_str(), *l)).collect();
    assert_eq!(
        rules,
        [
            ("missing-import", 2),
            ("missing-import", 7),
            ("jc-without-jellycell", 12)
        ],
        "{found:?}"
    );
    // The venv has no pip: the command that works there goes through uv.
    let install = format!("`uv pip install --python {}", venv_python.display());
    for (_, _, message) in &found {
        assert!(
            message.contains(&format!("(project venv {})", venv_python.display())),
            "{message}"
        );
        assert!(message.contains(&install), "{message}");
    }
    assert!(found[0].2.contains("\"six\""), "{found:?}");
    assert!(found[1].2.contains("\"hint_probe_module\""), "{found:?}");
    assert!(found[2].2.contains(" jellycell`"), "{found:?}");

    // The module appears in the environment: asked again, no longer reported.
    std::fs::write(site_packages(&venv_python).join("hint_probe_module.py"), "")
        .expect("write a module");
    let again = hints(&project);
    assert!(
        !again
            .iter()
            .any(|(_, _, message)| message.contains("hint_probe_module")),
        "{again:?}"
    );
    assert_eq!(again.len(), 2, "{again:?}");
}

#[test]
fn an_environment_with_everything_gets_no_hint() {
    let project = TestProject::new(&[(
        "notebooks/a.py",
        "# %% tags=[\"jc.step\", \"name=a\"]\nimport json\nrows = jc.load(\"data/rows.csv\")\n",
    )]);
    // The test venv has jellycell (tests/requirements.txt): `[run] python` picks it.
    project.write(
        "jellycell.toml",
        &format!(
            "[project]\nname = \"t\"\n[run]\npython = {:?}\n",
            python().display().to_string()
        ),
    );
    assert_eq!(hints(&project), []);
}

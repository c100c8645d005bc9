//! Finds a Python 3 that can import what a test needs (ipykernel, nbformat, jupytext,
//! jupyter_client, jellycell), provisioning a venv under `target/py` from PyPI when the machine's
//! `python3` cannot. Tests run in parallel, so provisioning is serialised with a lock
//! directory.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Every module the test suite imports; installed together so one venv serves all tests.
const TEST_PACKAGES: &[&str] = &[
    "ipykernel",
    "jupyter_client",
    "nbformat",
    "jupytext==1.19.6",
    "jellycell==1.4.0",
    "nbval==0.11.0",
    "pytest",
    "nbclient",
    "jupyter_server==2.21.1",
    "jupyter_kernel_gateway==3.0.1",
    "jupyterhub==6.1.1",
    "configurable-http-proxy==0.4.0",
];
const TEST_MODULES: &[&str] = &[
    "ipykernel",
    "jupyter_client",
    "nbformat",
    "jupytext",
    "jellycell",
    "nbval",
    "pytest",
    "nbclient",
    "jupyter_server",
    "kernel_gateway",
    "jupyterhub",
];

/// A `python3` that imports every test module. Panics with the pip output if it cannot be
/// provisioned (a test environment problem, not a product one).
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(find_or_provision)
}

/// The venv's `bin/` directory (or the system python's), to put first on PATH for
/// processes that look for `python3`, `jupyter` or kernelspecs there.
pub fn python_bin_dir() -> PathBuf {
    python()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/usr/bin"))
}

/// Runs `script` with the test Python, `input` as JSON on its stdin, and reads the JSON
/// it prints. Panics (naming `what`) when the script fails.
pub fn run_json<T: serde::de::DeserializeOwned>(
    what: &str,
    script: &str,
    input: &(impl serde::Serialize + ?Sized),
) -> T {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(serde_json::to_string(input).expect("JSON").as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("python finishes");
    assert!(output.status.success(), "{what} failed");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| panic!("{what}'s JSON: {error}"))
}

fn imports_all(python: &Path) -> bool {
    let script = TEST_MODULES
        .iter()
        .map(|module| format!("import {module}"))
        .collect::<Vec<_>>()
        .join("; ");
    Command::new(python)
        .args(["-c", &script])
        .output()
        .is_ok_and(|output| output.status.success())
}

fn find_or_provision() -> PathBuf {
    if let Ok(explicit) = std::env::var("JELLYCELL_TEST_PYTHON") {
        let explicit = PathBuf::from(explicit);
        assert!(
            imports_all(&explicit),
            "JELLYCELL_TEST_PYTHON={} cannot import {TEST_MODULES:?}",
            explicit.display()
        );
        return explicit;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/py");
    let venv_python = venv.join("bin/python3");
    if imports_all(&venv_python) {
        return venv_python;
    }
    let lock = venv.with_extension("lock");
    let deadline = Instant::now() + Duration::from_secs(600);
    while std::fs::create_dir_all(lock.parent().unwrap()).is_ok()
        && std::fs::create_dir(&lock).is_err()
    {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {}",
            lock.display()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    if !imports_all(&venv_python) {
        provision(&venv);
    }
    let _ = std::fs::remove_dir(&lock);
    assert!(
        imports_all(&venv_python),
        "provisioned venv at {} is incomplete",
        venv.display()
    );
    venv_python
}

fn provision(venv: &Path) {
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(venv)
        .status()
        .expect("python3 must be installed to run the tests");
    assert!(
        status.success(),
        "python3 -m venv {} failed",
        venv.display()
    );
    let output = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(TEST_PACKAGES)
        .output()
        .expect("pip from the new venv");
    assert!(
        output.status.success(),
        "pip install {TEST_PACKAGES:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

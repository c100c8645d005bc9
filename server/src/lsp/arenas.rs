//! Fewer malloc arenas for the long-running server process (glibc on Linux).
//!
//! glibc gives each thread that allocates its own arena (up to eight per core), and an
//! arena keeps most of what it freed for that thread's next allocation. The server
//! parses and analyses on a builder thread but answers requests, converts diagnostics
//! and writes large JSON answers on tokio's worker and blocking threads, so every one
//! of them ends up holding freed memory: with 20 notebooks of 2,000 cells open that was
//! ~8 MiB of the server's resident memory. `MALLOC_ARENA_MAX` caps the arenas, but glibc
//! reads it only at start-up and the crate forbids the `unsafe` a `mallopt` call needs,
//! so the server sets it for itself by executing itself again, once, with the variable
//! set (same process id, same open pipes). A user's own `MALLOC_ARENA_MAX` wins.

/// Two arenas: the builder thread's, and one shared by the threads that answer (one
/// arena saved another 1 MiB but made large answers slower under contention).
const ARENAS: &str = "2";

/// Re-executes the current process with `MALLOC_ARENA_MAX` set, unless it is set
/// already. Returns only when it is set already or the re-execution failed (the server
/// then runs as it is).
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let error = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env("MALLOC_ARENA_MAX", ARENAS)
            .exec();
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "jellycell-lsp: could not limit malloc arenas ({error}); continuing"
        );
    }
}

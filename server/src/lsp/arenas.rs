//! Fewer malloc arenas for the long-running server process (Linux with glibc).
//!
//! An allocator gives threads their own arenas, and an arena keeps what it freed for its
//! next allocation. The server parses and analyses on a builder thread but answers
//! requests, converts diagnostics and writes large JSON answers on tokio's worker and
//! blocking threads, so every arena they spread over ends up holding freed memory: with
//! 20 notebooks of 2,000 cells open that was ~8 MiB of glibc arenas, and ~17 MiB more
//! with jemalloc's default of four arenas per core after a 16,000-cell edit session.
//! Both allocators read their arena count only at start-up and the crate forbids the
//! `unsafe` that setting it from inside needs, so the server sets it for itself by
//! executing itself again, once, with the variables set (same process id, same open
//! pipes): `_RJEM_MALLOC_CONF` for jemalloc (the Rust side, `--features jemalloc`, the
//! default) and `MALLOC_ARENA_MAX` for glibc (the C parts). A user who sets either
//! variable chooses for themselves: the server then runs as it is.
//!
//! `--check` and the other commands are short-lived and use every core, so they keep
//! the allocators' defaults.

/// Two arenas in each allocator: the builder thread's, and one shared by the threads
/// that answer (one arena saved another 1 MiB but made large answers slower under
/// contention).
const GLIBC_ARENAS: &str = "2";
const JEMALLOC_CONF: &str = "narenas:2";

/// Re-executes the current process with the arena counts set, unless either is set
/// already. Returns only when one is set already or the re-execution failed (the
/// server then runs as it is).
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os("MALLOC_ARENA_MAX").is_some()
            || std::env::var_os("_RJEM_MALLOC_CONF").is_some()
        {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let error = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env("MALLOC_ARENA_MAX", GLIBC_ARENAS)
            .env("_RJEM_MALLOC_CONF", JEMALLOC_CONF)
            .exec();
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "jellycell-lsp: could not limit malloc arenas ({error}); continuing"
        );
    }
}

//! Writing to stdout without panicking: `println!` and `print!` in `cli/` are shadowed by
//! macros that call [`write`], so a closed pipe (`--check | head -1`) ends the process
//! quietly with exit 0, as ruff and ripgrep do, and any other failure (a full disk behind
//! `> file`) is an error message and exit 2, never std's "failed printing to stdout" panic.

use std::io::Write;

/// Writes `arguments` to stdout; on failure exits the process (see the module header).
pub fn write(arguments: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let result = out.write_fmt(arguments).and_then(|()| out.flush());
    if let Err(error) = result {
        exit_on_write_error(&error);
    }
}

/// Ends the process after a failed write to stdout: quietly for a closed pipe, with a
/// message otherwise.
pub fn exit_on_write_error(error: &std::io::Error) -> ! {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    let _ = writeln!(
        std::io::stderr(),
        "jellycell-lsp: error: cannot write to stdout: {error}"
    );
    std::process::exit(super::EXIT_USAGE);
}

//! PLACEHOLDER (owned by the lead): the headless CLI.

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    0
}

//! How the CLI speaks to people on stderr: one line per error or warning, prefixed with
//! the program name, naming the file and the fix.

use std::path::Path;

use crate::format::Problem;
use crate::text::LineIndex;

/// `jellycell-lsp: error: MESSAGE`
pub fn error(message: &str) {
    eprintln!("jellycell-lsp: error: {message}");
}

/// One line per reader problem, `path:line:col: code: message`, as warnings: a problem
/// never stops a conversion, it only says what may not be what the author meant.
pub fn warn_problems(path: &Path, text: &str, problems: &[Problem]) {
    if problems.is_empty() {
        return;
    }
    let index = LineIndex::new(text);
    for problem in problems {
        let (line, column) = index.line_column(text, problem.span.start);
        eprintln!(
            "{}:{line}:{column}: warning: {}: {}",
            path.display(),
            problem.code,
            problem.message
        );
    }
}

/// `jellycell-lsp: MESSAGE`: what a command did, for people (stderr).
pub fn note(message: &str) {
    eprintln!("jellycell-lsp: {message}");
}

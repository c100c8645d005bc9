//! jellycell-lsp's own settings beside `jellycell.toml`, where Python jellycell (which
//! refuses unknown keys in its file) never looks: `jellycell-lsp.toml` (`[lint]`) at the
//! project root, else `[tool.jellycell-lsp.lint]` in the root's `pyproject.toml`. What
//! they set replaces the deprecated `[lint] select/ignore/severity` of `jellycell.toml`.

use std::path::Path;

use super::config::{Config, ConfigProblem, TOOL_CONFIG_FILE, read_tool_lint};

/// Reads the first of the two files that has our settings into `config`, adding its
/// problems to `problems`.
pub fn overlay(root: &Path, config: &mut Config, problems: &mut Vec<ConfigProblem>) {
    let own = root.join(TOOL_CONFIG_FILE);
    if let Ok(text) = std::fs::read_to_string(&own) {
        if let Some(found) = read_tool_lint(&text, &own, &["lint"], &mut config.lint) {
            problems.extend(found);
        }
        return;
    }
    let pyproject = root.join("pyproject.toml");
    if let Ok(text) = std::fs::read_to_string(&pyproject)
        && let Some(found) = read_tool_lint(
            &text,
            &pyproject,
            &["tool", "jellycell-lsp", "lint"],
            &mut config.lint,
        )
    {
        problems.extend(found);
    }
}

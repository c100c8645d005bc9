//! jellycell-lsp's own settings beside `jellycell.toml`, where Python jellycell (which
//! refuses unknown keys in its file) never looks: `jellycell-lsp.toml` (`[lint]`, `[run]`)
//! at the project root, else `[tool.jellycell-lsp.lint]` / `[tool.jellycell-lsp.run]` in
//! the root's `pyproject.toml`. What they set replaces what `jellycell.toml` set for the
//! same keys (the deprecated `[lint] select/ignore/severity`, our `[run]` keys).

use std::path::Path;

use super::config::{Config, ConfigProblem, TOOL_CONFIG_FILE, read_tool_settings};

/// Reads the first of the two files that has our settings into `config`, adding its
/// problems to `problems`.
pub fn overlay(root: &Path, config: &mut Config, problems: &mut Vec<ConfigProblem>) {
    let own = root.join(TOOL_CONFIG_FILE);
    if let Ok(text) = std::fs::read_to_string(&own) {
        if let Some(found) = read_tool_settings(&text, &own, &[], config) {
            problems.extend(found);
        }
        return;
    }
    let pyproject = root.join("pyproject.toml");
    if let Ok(text) = std::fs::read_to_string(&pyproject)
        && let Some(found) =
            read_tool_settings(&text, &pyproject, &["tool", "jellycell-lsp"], config)
    {
        problems.extend(found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overlaid(files: &[(&str, &str)]) -> (Config, Vec<ConfigProblem>) {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        let mut config = Config::default_named("p");
        let mut problems = Vec::new();
        overlay(dir.path(), &mut config, &mut problems);
        (config, problems)
    }

    #[test]
    fn run_keys_come_from_our_own_file() {
        let (config, problems) = overlaid(&[(
            TOOL_CONFIG_FILE,
            "[run]\npython = \".venv-3.12/bin/python\"\nsnapshot_max_mb = 64\ntimeout_seconds = 30\n[lint]\nselect = [\"JC\"]\n",
        )]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(config.run.python.as_deref(), Some(".venv-3.12/bin/python"));
        assert_eq!(config.run.snapshot_max_mb, 64);
        assert_eq!(config.run.timeout_seconds, 30);
        assert_eq!(config.run.kernel, "python3", "a key it does not set stays");
        assert_eq!(config.lint.select, Some(vec!["JC".to_string()]));
    }

    #[test]
    fn run_keys_come_from_pyproject_and_bad_ones_are_named() {
        let (config, problems) = overlaid(&[(
            "pyproject.toml",
            "[project]\nname = \"x\"\n[tool.jellycell-lsp.run]\nsnapshot_max_mb = 8\npyhton = \"py\"\n[tool.jellycell-lsp.lint]\nignore = [\"JC001\"]\n",
        )]);
        assert_eq!(config.run.snapshot_max_mb, 8);
        assert_eq!(config.lint.ignore, ["JC001"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let message = problems[0].to_string();
        assert!(
            message.contains("pyhton") && message.contains("did you mean \"python\"?"),
            "{message}"
        );
    }

    #[test]
    fn a_run_that_is_not_a_table_or_an_unknown_section_is_a_problem() {
        let (_, problems) = overlaid(&[(TOOL_CONFIG_FILE, "run = 3\n[paths]\nx = 1\n")]);
        let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages
                .iter()
                .any(|message| message.contains("[run] must be a table")),
            "{messages:?}"
        );
    }
}

//! Every folder `[paths]` names must stay inside the project root once symlinks are
//! resolved: the preview serves `[paths] artifacts` over HTTP and export and the preview
//! read the cache, so `artifacts = "../../etc"` (or `"out"` where `out` links to `/etc`)
//! would publish files from elsewhere. A value that escapes is refused with a
//! `config-invalid` problem on its line and replaced by the default (which is checked
//! too, and refused the same way when a symlink takes it out of the project).

use std::path::{Component, Path, PathBuf};

use toml_edit::Item;

use super::config::{CONFIG_INVALID, Config, ConfigProblem, PathsConfig};
use crate::text::Span;

/// Checks the `[paths]` values written in `text` (the `jellycell.toml` at `config_path`)
/// against `root`, pushing a problem and restoring the default for each that escapes.
pub fn contain_paths(
    root: &Path,
    config_path: &Path,
    text: &str,
    config: &mut Config,
    problems: &mut Vec<ConfigProblem>,
) {
    let Ok(document) = toml_edit::Document::parse(text) else {
        return;
    };
    let Some(table) = document
        .as_table()
        .get("paths")
        .and_then(Item::as_table_like)
    else {
        return;
    };
    let Ok(canonical_root) = root.canonicalize() else {
        return;
    };
    let defaults = PathsConfig::default();
    let paths = &mut config.paths;
    let slots: [(&str, &mut String, &str); 6] = [
        ("notebooks", &mut paths.notebooks, &defaults.notebooks),
        ("data", &mut paths.data, &defaults.data),
        ("artifacts", &mut paths.artifacts, &defaults.artifacts),
        ("site", &mut paths.site, &defaults.site),
        ("manuscripts", &mut paths.manuscripts, &defaults.manuscripts),
        ("cache", &mut paths.cache, &defaults.cache),
    ];
    for (key, value, default) in slots {
        let Some(item) = table.get(key) else {
            continue;
        };
        let resolved = resolve_existing(&canonical_root.join(&*value));
        if resolved.starts_with(&canonical_root) {
            continue;
        }
        let default_resolved = resolve_existing(&canonical_root.join(default));
        let fallback = if default_resolved.starts_with(&canonical_root) {
            format!("using the default, \"{default}\"")
        } else {
            format!("and so does the default \"{default}\"")
        };
        let message = format!(
            "[paths] {key} = \"{value}\" resolves to {}, outside the project root {}; \
             name a folder inside the project ({fallback})",
            resolved.display(),
            canonical_root.display()
        );
        let range = item.span().unwrap_or(0..0);
        problems.push(problem_at(
            config_path,
            text,
            range.start,
            range.end,
            message,
        ));
        value.clone_from(&default.to_string());
    }
    problems.sort_by_key(|problem| problem.span.start);
}

/// `path` with symlinks resolved as far as it exists, the rest folded lexically (a
/// folder not created yet still resolves).
pub fn resolve_existing(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    // The components below the part that exists, last first; `None` is a `..`.
    let mut rest: Vec<Option<std::ffi::OsString>> = Vec::new();
    loop {
        if let Ok(mut resolved) = existing.canonicalize() {
            for component in rest.iter().rev() {
                match component {
                    Some(name) => resolved.push(name),
                    None => {
                        resolved.pop();
                    }
                }
            }
            return resolved;
        }
        match existing.components().next_back() {
            Some(Component::Normal(name)) => rest.push(Some(name.to_os_string())),
            Some(Component::ParentDir) => rest.push(None),
            Some(Component::CurDir) => {}
            _ => return path.to_path_buf(),
        }
        if !existing.pop() {
            return path.to_path_buf();
        }
    }
}

fn problem_at(path: &Path, text: &str, start: usize, end: usize, message: String) -> ConfigProblem {
    let start = start.min(text.len());
    let before = text.get(..start).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    let column = before[line_start..].chars().count() + 1;
    ConfigProblem {
        code: CONFIG_INVALID,
        path: path.to_path_buf(),
        line,
        column,
        span: Span::new(start, end.max(start)),
        message,
    }
}

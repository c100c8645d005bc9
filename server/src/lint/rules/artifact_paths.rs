//! `enforce-artifact-paths` (jellycell's rule, same trigger): a literal `jc.save` or
//! `jc.figure` target that is not under the artifacts directory (`[paths] artifacts`).
//! Like jellycell, `jc.table` (which takes a name, not a path) is not checked, and the
//! finding starts where the call starts. Unlike jellycell, a target that starts with the
//! prefix but leaves the folder through `..` (`artifacts/../notes.json`) is flagged too,
//! and the suggested path for one that leaves the project (`../x`, `/tmp/x`) keeps only
//! its file name (`artifacts/x`), never a path that still leads out.

use crate::analysis::workspace::NotebookFile;
use crate::analysis::{CellAnalysis, JcFunction};
use crate::format::PlacedCell;
use crate::lint::Finding;

pub fn findings(file: &NotebookFile, artifacts: &str) -> Vec<Finding> {
    ArtifactsFolder::new(artifacts).findings(file)
}

/// The artifacts folder (`[paths] artifacts`) as the rule compares targets with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactsFolder {
    /// The folder with one trailing `/`.
    prefix: String,
    /// Its lexical segments.
    folder: Vec<String>,
    /// Whether it is its own lexical form (`artifacts`, not `./artifacts`).
    plain: bool,
}

impl ArtifactsFolder {
    pub fn new(artifacts: &str) -> ArtifactsFolder {
        ArtifactsFolder {
            prefix: format!("{}/", artifacts.trim_end_matches('/')),
            folder: lexical(artifacts)
                .unwrap_or_default()
                .into_iter()
                .map(str::to_string)
                .collect(),
            plain: is_plain(artifacts.trim_end_matches('/')),
        }
    }

    /// The findings of every cell of `file`.
    pub fn findings(&self, file: &NotebookFile) -> Vec<Finding> {
        let mut findings = Vec::new();
        for (cell, analysis) in file.notebook.cells.iter().zip(&file.analyses) {
            if let Some(analysis) = analysis {
                self.cell_findings(file, cell, analysis, &mut findings);
            }
        }
        findings
    }

    /// The findings of one cell (with its `analysis`) of `file`, added to `findings`.
    pub fn cell_findings(
        &self,
        file: &NotebookFile,
        cell: PlacedCell<'_>,
        analysis: &CellAnalysis,
        findings: &mut Vec<Finding>,
    ) {
        let prefix = &self.prefix;
        for call in &analysis.jc_calls {
            if !matches!(call.function, JcFunction::Save | JcFunction::Figure) {
                continue;
            }
            for (target, span) in call.literal_targets() {
                // The usual `artifacts/x.json` is inside without resolving its segments.
                let inside = || {
                    (self.plain && is_plain(&target[prefix.len()..]))
                        || lexical(target).is_some_and(|parts| {
                            parts.len() > self.folder.len()
                                && parts[..self.folder.len()] == self.folder[..]
                        })
                };
                if target.starts_with(prefix.as_str()) && inside() {
                    continue;
                }
                let suggestion = suggestion(target, prefix);
                // From the call's start to the path, as jellycell reports the line the
                // call starts on (a call spread over several lines names its first).
                let reported = crate::text::Span::new(call.span.start.min(span.start), span.end);
                findings.push(Finding::new(
                    "enforce-artifact-paths",
                    Some(cell.text_span(&file.text, reported)),
                    format!(
                        "jc.{} target '{target}' must live under {prefix}; write it as '{suggestion}'",
                        call.function.name()
                    ),
                ));
            }
        }
    }
}

/// Whether `path` is relative with no empty, `.` or `..` segment (its own lexical form).
fn is_plain(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..")
}

/// The segments of a relative `/`-separated path with `.` and `..` resolved, or `None`
/// when it is absolute or climbs above its start.
fn lexical(path: &str) -> Option<Vec<&str>> {
    if path.starts_with('/') {
        return None;
    }
    let mut parts = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            segment => parts.push(segment),
        }
    }
    Some(parts)
}

/// Where `target` should go: under the artifacts folder at the same relative path, or,
/// for a path that is absolute or uses `..`, by its file name alone.
fn suggestion(target: &str, prefix: &str) -> String {
    let stripped = target.trim_start_matches("./");
    if stripped.starts_with('/') || stripped.split('/').any(|segment| segment == "..") {
        let name = stripped
            .rsplit('/')
            .find(|segment| !segment.is_empty() && *segment != "." && *segment != "..")
            .unwrap_or("output");
        format!("{prefix}{name}")
    } else if stripped.starts_with(prefix) {
        stripped.to_string()
    } else {
        format!("{prefix}{stripped}")
    }
}

#[cfg(test)]
mod tests {
    use super::{is_plain, lexical, suggestion};

    #[test]
    fn suggestions_never_lead_out_of_the_artifacts_folder() {
        assert_eq!(
            suggestion("out/a.json", "artifacts/"),
            "artifacts/out/a.json"
        );
        assert_eq!(
            suggestion("./artifacts/a.json", "artifacts/"),
            "artifacts/a.json"
        );
        assert_eq!(
            suggestion("../outside.json", "artifacts/"),
            "artifacts/outside.json"
        );
        assert_eq!(
            suggestion("/tmp/abs.json", "artifacts/"),
            "artifacts/abs.json"
        );
        assert_eq!(
            suggestion("artifacts/../../x.csv", "artifacts/"),
            "artifacts/x.csv"
        );
    }

    #[test]
    fn plain_paths_are_their_own_lexical_form() {
        for path in [
            "artifacts",
            "artifacts/a.json",
            "a/b/c",
            "",
            "/etc",
            "a//b",
            "a/./b",
            "a/..",
            "a/",
        ] {
            let resolved = lexical(path);
            let own = resolved
                .as_ref()
                .is_some_and(|parts| !parts.is_empty() && parts.join("/") == path);
            assert_eq!(is_plain(path), own, "{path:?}");
        }
    }

    #[test]
    fn lexical_paths_resolve_dots_and_refuse_climbing_out() {
        assert_eq!(lexical("artifacts/./a/../b"), Some(vec!["artifacts", "b"]));
        assert_eq!(lexical("artifacts/../.."), None);
        assert_eq!(lexical("/etc"), None);
    }
}

//! Every rule this linter knows: its id, default severity, whether it can fix, and a
//! one-line summary. Ids of jellycell's own six rules are kept exactly; the rest fill the
//! gaps jellycell leaves (see `docs/lint-rules.md`).

use super::Severity;

/// Static facts about one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub default_severity: Severity,
    pub fixable: bool,
    /// Whether Python jellycell 1.4.0 has this rule (same id, same trigger).
    pub from_jellycell: bool,
    pub summary: &'static str,
}

const fn rule(
    id: &'static str,
    default_severity: Severity,
    fixable: bool,
    from_jellycell: bool,
    summary: &'static str,
) -> Rule {
    Rule {
        id,
        default_severity,
        fixable,
        from_jellycell,
        summary,
    }
}

use Severity::{Error, Warning};

/// Rules whose fix is meant to change how jupytext splits the file into cells (their
/// fix titles say so); every other fix keeps the cells as they are
/// (`tests/fix_keeps_cell_split.rs`).
pub const FIXES_THAT_SPLIT_CELLS: &[&str] = &["marker-no-space"];

/// All rules, sorted by id.
pub const RULES: &[Rule] = &[
    rule(
        "ambiguous-dep",
        Error,
        false,
        false,
        "a dependency on a name that cells of several other notebooks have",
    ),
    rule(
        "bad-tag",
        Error,
        false,
        false,
        "a tag nbformat rejects: empty, not a string, or with a comma",
    ),
    rule(
        "bad-timeout",
        Error,
        false,
        false,
        "a `timeout=` tag whose value is not integer seconds",
    ),
    rule(
        "config-deprecated",
        Warning,
        false,
        false,
        "jellycell-lsp's `[lint]` settings in jellycell.toml, which Python jellycell rejects",
    ),
    rule(
        "config-invalid",
        Error,
        false,
        false,
        "an unknown key or a bad value in jellycell.toml",
    ),
    rule(
        "dep-cycle",
        Error,
        false,
        false,
        "cells that depend on each other in a cycle",
    ),
    rule(
        "deps-no-comma",
        Error,
        true,
        true,
        "a `deps=` tag with a comma, which nbformat's tag schema rejects",
    ),
    rule(
        "duplicate-name",
        Error,
        false,
        false,
        "two cells of one notebook with the same `name=`",
    ),
    rule(
        "enforce-artifact-paths",
        Warning,
        false,
        true,
        "a `jc.save`/`jc.figure` target outside the artifacts directory",
    ),
    rule(
        "enforce-declared-deps",
        Warning,
        true,
        true,
        "a `jc.load` of an artifact whose producing cell is not declared in `deps=`",
    ),
    rule(
        "forward-dep",
        Warning,
        false,
        false,
        "a dependency on a cell further down the same notebook, which jellycell silently drops",
    ),
    rule(
        "front-matter-invalid",
        Error,
        false,
        false,
        "MyST front matter that is not valid YAML",
    ),
    rule(
        "jc-without-jellycell",
        Warning,
        false,
        false,
        "jc.* calls in a notebook whose kernel environment cannot import jellycell",
    ),
    rule(
        "jupytext-format",
        Warning,
        false,
        false,
        "a header that jupytext reads differently from what it seems to say (MyST without `extension: .md`)",
    ),
    rule(
        "layout",
        Warning,
        true,
        true,
        "a directory declared in `[paths]` that does not exist",
    ),
    rule(
        "marker-no-space",
        Warning,
        true,
        false,
        "`# %%tags=...` with no space after `%%`, which is not a cell marker",
    ),
    rule(
        "metadata-invalid",
        Error,
        false,
        false,
        "cell metadata in a header that cannot be parsed",
    ),
    rule(
        "missing-import",
        Warning,
        false,
        false,
        "a PEP-723 dependency or module-level import the kernel's environment cannot import",
    ),
    rule(
        "missing-tag-comma",
        Error,
        true,
        false,
        "two tags written with no comma between them, which Python joins into one",
    ),
    rule(
        "multiple-kinds",
        Error,
        false,
        false,
        "more than one `jc.*` kind tag on one cell",
    ),
    rule(
        "myst-options-invalid",
        Error,
        false,
        false,
        "MyST code-cell options that cannot be parsed",
    ),
    rule(
        "paired-out-of-sync",
        Error,
        true,
        false,
        "a notebook whose paired `.ipynb` has different cells",
    ),
    rule(
        "pep723-invalid",
        Error,
        false,
        false,
        "a PEP-723 `# /// script` block that is not valid",
    ),
    rule(
        "pep723-position",
        Warning,
        true,
        true,
        "a PEP-723 block that is not at the top of the file",
    ),
    rule(
        "python-syntax-error",
        Error,
        false,
        false,
        "a code cell that is not valid Python",
    ),
    rule(
        "setup-dep",
        Warning,
        false,
        false,
        "a dependency on a `jc.setup` or `jc.note` cell, which jellycell silently drops",
    ),
    rule(
        "uncommented-comment",
        Warning,
        true,
        false,
        "a comment that jupytext turns into a shell command when it reads the file",
    ),
    rule(
        "undefined-name",
        Warning,
        false,
        false,
        "a name a cell reads that no cell above defines, nor an import, a builtin or `jc`",
    ),
    rule(
        "unknown-attribute",
        Error,
        true,
        false,
        "a `key=value` tag whose key is a typo of `name`, `deps` or `timeout`",
    ),
    rule(
        "unknown-dep",
        Error,
        false,
        false,
        "a dependency on a cell name that no notebook of the project defines",
    ),
    rule(
        "unknown-kind",
        Error,
        false,
        false,
        "a `jc.*` tag that is not a cell kind",
    ),
    rule(
        "unknown-override-key",
        Error,
        false,
        false,
        "a `[tool.jellycell]` key that jellycell does not accept",
    ),
    rule(
        "unreadable-file",
        Error,
        false,
        false,
        "a notebook that cannot be read: no permission, not a regular file, larger than `[lint] max_file_mb`, or not UTF-8",
    ),
    rule(
        "unsupported-format",
        Error,
        false,
        false,
        "a notebook in a jupytext format we do not read exactly (sphinx, hydrogen, nomarker, pandoc, ...): neither linted nor run",
    ),
    rule(
        "use-before-define",
        Warning,
        false,
        false,
        "a name a cell reads that only a cell below (or later in the cell) defines",
    ),
    rule(
        "warn-on-large-cell-output",
        Warning,
        false,
        true,
        "cached outputs of a cell larger than `[lint] warn_on_large_cell_output`",
    ),
];

/// The rule with this id.
pub fn rule_by_id(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|rule| rule.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_sorted_and_unique() {
        let ids: Vec<_> = RULES.iter().map(|rule| rule.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted);
    }

    #[test]
    fn jellycell_has_exactly_six_of_them() {
        let ours: Vec<_> = RULES
            .iter()
            .filter(|rule| rule.from_jellycell)
            .map(|rule| rule.id)
            .collect();
        assert_eq!(
            ours,
            [
                "deps-no-comma",
                "enforce-artifact-paths",
                "enforce-declared-deps",
                "layout",
                "pep723-position",
                "warn-on-large-cell-output"
            ]
        );
    }
}

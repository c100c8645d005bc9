//! `missing-import` and `jc-without-jellycell`: what the selected kernel environment
//! cannot give a notebook — a PEP-723 dependency that is not installed in it, a
//! module-level `import` it cannot import, `jc.*` calls when it lacks jellycell. The facts
//! come from one probe of the environment's Python (`kernel::probe_environment`), made and
//! cached by the caller off the keystroke path; the rules only compare names.

use std::collections::BTreeSet;

use crate::analysis::module_imports::{ModuleImport, distribution_name, module_imports};
use crate::analysis::module_imports_memo::HintNamesMemo;
use crate::analysis::workspace::NotebookFile;
use crate::lint::Finding;
use crate::text::Span;

/// What the environment that would run a notebook's kernel lacks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvironmentFacts {
    /// How the run summary names it (`project venv /p/.venv/bin/python`).
    pub description: String,
    /// Its interpreter, for the install command.
    pub python: String,
    /// Top-level modules it cannot import.
    pub missing_modules: BTreeSet<String>,
    /// PEP-723 distributions it does not have installed.
    pub missing_distributions: BTreeSet<String>,
    /// Whether it can import jellycell.
    pub has_jellycell: bool,
    /// Whether it has pip (environments made by uv, `python -m venv --without-pip`, and
    /// `[run] env = "pep723"` ones have none): the install command then goes through uv.
    pub has_pip: bool,
}

/// What of a notebook the rules look at: a summary small enough to keep in a cache.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotebookNames {
    /// Module-level imports: top-level module and its span.
    pub modules: Vec<(String, Span)>,
    /// PEP-723 dependencies: as written, their distribution, and the span.
    pub dependencies: Vec<(String, String, Span)>,
    /// The first `jc.*` call's callee (as written) and span.
    pub first_jc_call: Option<(String, Span)>,
}

impl NotebookNames {
    pub fn of(file: &NotebookFile) -> NotebookNames {
        NotebookNames::of_parts(file, module_imports(file), Some(0))
    }

    /// The names of the memo's reading (`HintNamesMemo`, kept by the editor across
    /// edits): what [`NotebookNames::of`] gives for it, without scanning every cell.
    pub fn of_memo(memo: &HintNamesMemo) -> NotebookNames {
        NotebookNames::of_parts(memo.file(), memo.imports(), memo.first_jc_cell())
    }

    /// The names of `file` given its module imports and a cell at or before the first
    /// with a `jc.*` call (`None`: there is none).
    fn of_parts(
        file: &NotebookFile,
        imports: Vec<ModuleImport>,
        jc_from: Option<usize>,
    ) -> NotebookNames {
        let modules = imports
            .into_iter()
            .map(|import| (import.module, import.span))
            .collect();
        let dependencies = file
            .notebook
            .pep723
            .iter()
            .flat_map(|block| {
                block.dependencies.iter().filter_map(|dependency| {
                    let name = distribution_name(dependency)?;
                    let span =
                        dependency_span(&file.text, block.span, dependency).unwrap_or(block.span);
                    Some((dependency.clone(), name, span))
                })
            })
            .collect();
        let first_jc_call = jc_from.and_then(|from| {
            file.notebook
                .cells
                .iter()
                .zip(&file.analyses)
                .skip(from)
                .find_map(|(cell, analysis)| {
                    let call = analysis.as_ref()?.jc_calls.first()?;
                    let span = cell.text_span(&file.text, call.callee_span);
                    Some((file.text.get(span.start..span.end)?.to_string(), span))
                })
        });
        NotebookNames {
            modules,
            dependencies,
            first_jc_call,
        }
    }

    /// The names a probe of the environment must answer: modules, then distributions
    /// (jellycell among the modules when there is a `jc.*` call).
    pub fn asked(&self) -> (Vec<String>, Vec<String>) {
        let mut modules: Vec<String> = self.modules.iter().map(|(m, _)| m.clone()).collect();
        if self.first_jc_call.is_some() && !modules.iter().any(|m| m == "jellycell") {
            modules.push("jellycell".into());
        }
        let distributions = self
            .dependencies
            .iter()
            .map(|(_, d, _)| d.clone())
            .collect();
        (modules, distributions)
    }
}

pub fn findings(names: &NotebookNames, facts: &EnvironmentFacts) -> Vec<Finding> {
    let mut findings = Vec::new();
    let install = |what: &str| match facts.has_pip {
        true => format!("`{} -m pip install {what}`", facts.python),
        false => format!("`uv pip install --python {} {what}`", facts.python),
    };
    let mut reported_dependencies = Vec::new();
    for (dependency, name, span) in &names.dependencies {
        if !facts.missing_distributions.contains(name) {
            continue;
        }
        reported_dependencies.push(name.clone());
        findings.push(Finding::new(
            "missing-import",
            Some(*span),
            format!(
                "PEP-723 dependency {dependency:?} is not installed in the kernel's \
                 environment ({}); install it: {}",
                facts.description,
                install(&shell_quote(dependency))
            ),
        ));
    }
    for (module, span) in &names.modules {
        let said = reported_dependencies
            .iter()
            .any(|name| same_name(name, module));
        if !facts.missing_modules.contains(module) || said {
            continue;
        }
        findings.push(Finding::new(
            "missing-import",
            Some(*span),
            format!(
                "\"{module}\" cannot be imported in the kernel's environment ({}); install \
                 the package that provides it, e.g. {}",
                facts.description,
                install(module)
            ),
        ));
    }
    if !facts.has_jellycell
        && let Some((callee, span)) = &names.first_jc_call
    {
        findings.push(Finding::new(
            "jc-without-jellycell",
            Some(*span),
            format!(
                "{callee} needs the jellycell package, which the kernel's environment ({}) \
                 cannot import; install it: {}",
                facts.description,
                install("jellycell")
            ),
        ));
    }
    findings
}

/// Whether a distribution and a module name are the same name (`-`, `_`, `.` and case
/// aside), the common case of a package named as its module.
fn same_name(distribution: &str, module: &str) -> bool {
    let normal = |name: &str| name.to_ascii_lowercase().replace(['-', '.'], "_");
    normal(distribution) == normal(module)
}

fn shell_quote(requirement: &str) -> String {
    if requirement
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        requirement.to_string()
    } else {
        format!("'{}'", requirement.replace('\'', ""))
    }
}

/// The span of `"dependency"` (its quoted string) inside the block.
fn dependency_span(text: &str, block: Span, dependency: &str) -> Option<Span> {
    let inside = text.get(block.start..block.end)?;
    for quoted in [format!("\"{dependency}\""), format!("'{dependency}'")] {
        if let Some(at) = inside.find(&quoted) {
            return Some(Span::new(block.start + at, block.start + at + quoted.len()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::format::NotebookFormat;
    use crate::project::Project;

    const NOTEBOOK: &str = "# /// script\n# dependencies = [\"six\", \"toolz>=0.12\"]\n# ///\n\n\
        # %% tags=[\"jc.step\", \"name=a\"]\nimport six\nimport pandas as pd\nimport toolz\n\
        try:\n    import optional\nexcept ImportError:\n    pass\njc.save(1, \"artifacts/x.json\")\n";

    fn file() -> NotebookFile {
        let project = Project::without_config(&PathBuf::from("/tmp"));
        NotebookFile::new(
            &project,
            PathBuf::from("/tmp/x.py"),
            NOTEBOOK.to_string(),
            NotebookFormat::Percent,
        )
    }

    fn facts(modules: &[&str], distributions: &[&str], has_jellycell: bool) -> EnvironmentFacts {
        EnvironmentFacts {
            description: "project venv /p/.venv/bin/python".into(),
            python: "/p/.venv/bin/python".into(),
            missing_modules: modules.iter().map(|m| m.to_string()).collect(),
            missing_distributions: distributions.iter().map(|d| d.to_string()).collect(),
            has_jellycell,
            has_pip: true,
        }
    }

    #[test]
    fn the_probe_is_asked_about_module_level_imports_and_dependencies() {
        let (modules, distributions) = NotebookNames::of(&file()).asked();
        assert_eq!(modules, ["six", "pandas", "toolz", "jellycell"]);
        assert_eq!(distributions, ["six", "toolz"]);
    }

    #[test]
    fn missing_names_are_reported_where_they_are_written_with_the_install_command() {
        let file = file();
        let names = NotebookNames::of(&file);
        let findings = findings(&names, &facts(&["pandas", "toolz"], &["toolz"], false));
        let texts: Vec<(&str, &str, String)> = findings
            .iter()
            .map(|finding| {
                let span = finding.span.unwrap_or_default();
                (
                    finding.rule,
                    &file.text[span.start..span.end],
                    finding.message.clone(),
                )
            })
            .collect();
        assert_eq!(texts.len(), 3, "{texts:?}");
        assert_eq!(texts[0].1, "\"toolz>=0.12\"");
        assert!(
            texts[0].2.contains("-m pip install 'toolz>=0.12'"),
            "{texts:?}"
        );
        assert_eq!((texts[1].0, texts[1].1), ("missing-import", "pandas"));
        assert!(texts[1].2.contains("(project venv /p/.venv/bin/python)"));
        assert!(
            texts[1]
                .2
                .contains("`/p/.venv/bin/python -m pip install pandas`")
        );
        assert_eq!(
            (texts[2].0, texts[2].1),
            ("jc-without-jellycell", "jc.save")
        );
        assert!(texts[2].2.contains("-m pip install jellycell"), "{texts:?}");
    }

    #[test]
    fn an_environment_without_pip_is_told_to_install_through_uv() {
        let facts = EnvironmentFacts {
            has_pip: false,
            ..facts(&["pandas"], &[], false)
        };
        let texts: Vec<String> = findings(&NotebookNames::of(&file()), &facts)
            .into_iter()
            .map(|finding| finding.message)
            .collect();
        assert!(
            texts
                .iter()
                .any(|text| text.contains("`uv pip install --python /p/.venv/bin/python pandas`")),
            "{texts:?}"
        );
        assert!(
            !texts.iter().any(|text| text.contains("-m pip")),
            "{texts:?}"
        );
    }

    #[test]
    fn an_environment_with_everything_gives_nothing() {
        assert!(findings(&NotebookNames::of(&file()), &facts(&[], &[], true)).is_empty());
    }
}

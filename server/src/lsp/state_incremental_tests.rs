//! An open buffer edited many times, analysed as the server does after each edit
//! (re-reading around the edit, reusing the previous analysis, updating the workspace),
//! against the same final text opened afresh: the same cells, analyses, facts and lint
//! findings (its own, and those of a second notebook that names its cells), for
//! py:percent and MyST; and the findings the editor keeps per cell across the edits
//! (`lint::rules::names_memo`, `lint::rules::cell_rules_memo`) equal to the fresh open's, and so the names the
//! environment hints ask about (`analysis::module_imports_memo`).

use proptest::prelude::*;
use std::path::{Path, PathBuf};

use super::{Stamp, analyse};
use crate::analysis::graph::NotebookFacts;
use crate::analysis::module_imports_memo::HintNamesMemo;
use crate::analysis::workspace::{NotebookFile, Workspace, facts};
use crate::format::NotebookFormat;
use crate::lint::rules::artifact_paths::ArtifactsFolder;
use crate::lint::rules::cell_rules_memo::CellRulesMemo;
use crate::lint::rules::environment::NotebookNames;
use crate::lint::rules::names_memo::NamesMemo;
use crate::lint::{LintSettings, check_file, check_file_with};
use crate::project::Project;
use crate::text::{Document, Span};

const MYST_HEADER: &str = "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n    format_version: 0.13\nkernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n---\n\n";

fn piece() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("# %%\n"),
        Just("# %% tags=[\"jc.step\", \"name=b\", \"deps=c3\"]\n"),
        Just("```{code-cell} ipython3\n"),
        Just("```\n"),
        Just("+++\n"),
        Just("import jellycell.api as J\n"),
        Just("import numpy, os.path as p  # two\n"),
        Just("J.load('artifacts/a.json')\n"),
        Just("jc.save(v1, 'artifacts/v1.json')\n"),
        Just("jc.save(v2, 'outside/v2.json')\n"),
        Just("print(undefined_thing)\n"),
        Just("v2 = v1 + 1\n"),
        Just("x = (\n"),
        Just("\n"),
        Just("# prose\n"),
        // Definitions and reads across cells, for `undefined-name` / `use-before-define`.
        Just("shared = v3\n"),
        Just("print(shared, v15)\n"),
        Just("def later_use():\n    return shared\n"),
        Just("del v2\n"),
        Just("from pylab import *\n"),
        Just("# %% tags=[\"jc.setup\"]\n"),
        Just("# %% tags=[\"jc.note\"]\n"),
        Just("# %% tags=[\"name=renamed\"]\n"),
        Just("```{code-cell} ipython3\n:tags: [jc.setup]\n\n"),
    ]
}

fn notebook(format: NotebookFormat, cells: usize) -> String {
    let mut text = match format {
        NotebookFormat::Myst => MYST_HEADER.to_string(),
        _ => String::new(),
    };
    for index in 0..cells {
        let deps = if index > 1 {
            format!(", \"deps=c{}\"", index - 1)
        } else {
            String::new()
        };
        // Each cell reads the one above's name, and one below's (a use-before-define).
        let read = match index {
            0 => String::new(),
            5 => "print(v9, v4)\n".to_string(),
            _ => format!("print(v{})\n", index - 1),
        };
        let body =
            format!("v{index} = {index}\n{read}jc.save(v{index}, 'artifacts/v{index}.json')\n");
        text.push_str(&match format {
            NotebookFormat::Myst => format!(
                "```{{code-cell}} ipython3\n:tags: [jc.step, name=c{index}]\n\n{body}```\n\n"
            ),
            _ => format!("# %% tags=[\"jc.step\", \"name=c{index}\"{deps}]\n{body}\n"),
        });
    }
    text
}

fn check_edits(format: NotebookFormat, edits: &[(usize, usize, Vec<&str>)]) {
    let project = Project::without_config(Path::new("/project"));
    let path = PathBuf::from(match format {
        NotebookFormat::Myst => "/project/nb.md",
        _ => "/project/nb.py",
    });
    let settings = LintSettings::from_config(&project.config.lint);
    let mut text = notebook(format, 16);
    // The buffer, whose edit log tells the analysis what each edit replaced.
    let mut document = Document::new(&text, 0);
    let Some(mut file) = analyse(
        &project,
        &path,
        Stamp::of(&document),
        text.clone(),
        None,
        None,
    ) else {
        panic!("not a notebook: {text:?}");
    };
    // A second notebook that names cells of the edited one (and a name it lacks), so
    // that the graph's update across notebooks is linted too.
    let other_path = PathBuf::from("/project/other.py");
    let other_text = "# %% tags=[\"jc.step\", \"name=o1\", \"deps=c3\"]\nx = 1\n\n# %% tags=[\"jc.step\", \"deps=b\", \"deps=nowhere\"]\njc.load('artifacts/v5.json')\n";
    let other = std::sync::Arc::new(NotebookFile::new(
        &project,
        other_path,
        other_text.to_string(),
        NotebookFormat::Percent,
    ));
    let mut workspace =
        Workspace::from_shared_files(project.clone(), vec![file.clone(), other.clone()]);
    // The editor's names findings, kept across the edits as the diagnostics job keeps them.
    let mut names = NamesMemo::build(file.clone());
    // The rules of one cell each, kept the same way.
    let artifacts = || {
        settings
            .enforce_artifact_paths
            .then(|| ArtifactsFolder::new(&project.config.paths.artifacts))
    };
    let mut cell_rules = CellRulesMemo::build(file.clone(), artifacts());
    // The environment hints' names, kept as the hints keep them.
    let mut hint_names = HintNamesMemo::build(file.clone());
    for (version, (at, length, inserted)) in edits.iter().enumerate() {
        let token_before = workspace.graph.resolution_token(0);
        let facts_before = workspace.graph.notebooks[0].clone();
        let mut start = at % (text.len() + 1);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let end = (start + length).min(text.len());
        text.replace_range(start..end, &inserted.concat());
        // As an editor sends it: one change, or (every other edit) two, the replacement
        // and then the rest of the insertion typed after it.
        let previous_stamp = Stamp::of(&document);
        let inserted = inserted.concat();
        let split = if version % 2 == 1 {
            (0..=inserted.len() / 2)
                .rev()
                .find(|&at| inserted.is_char_boundary(at))
                .unwrap_or(0)
        } else {
            inserted.len()
        };
        document.replace(Span::new(start, end), &inserted[..split]);
        document.replace(Span::new(start + split, start + split), &inserted[split..]);
        assert_eq!(document.text(), text);
        let change = previous_stamp.changes_to(&document);
        assert!(change.is_some());
        document.set_version(version as i32 + 1);
        let stamp = Stamp::of(&document);
        let Some(edited) = analyse(
            &project,
            &path,
            stamp,
            text.clone(),
            Some(file.clone()),
            change,
        ) else {
            return;
        };
        file = edited;
        workspace = Workspace::updated(
            &workspace,
            project.clone(),
            vec![file.clone(), other.clone()],
        );
        // The diagnostics job reuses the notebook's signature while the graph keeps its
        // resolution: that must mean nothing other notebooks see of it changed.
        let token_after = workspace.graph.resolution_token(0);
        if let (Some(before), Some(after)) = (&token_before, &token_after)
            && before.same_as(after)
        {
            assert_eq!(
                seen_by_others(&facts_before),
                seen_by_others(&workspace.graph.notebooks[0]),
                "{text:?}"
            );
        }
        let fresh = NotebookFile::new(&project, path.clone(), text.clone(), format);
        let mut fresh_notebook = crate::format::read_without_originals(&text, format);
        crate::format::resplit::sort_problems(&mut fresh_notebook.problems);
        let mut notebook = file.notebook.clone();
        crate::format::resplit::sort_problems(&mut notebook.problems);
        assert_eq!(notebook, fresh_notebook, "{text:?}");
        assert_eq!(file.analyses, fresh.analyses, "{text:?}");
        assert_eq!(facts(&file), facts(&fresh), "{text:?}");
        assert_eq!(*workspace.graph.notebooks[0], facts(&fresh), "{text:?}");
        let fresh_other = (*other).clone();
        let fresh_workspace = Workspace::from_files(project.clone(), vec![fresh, fresh_other]);
        for index in 0..2 {
            assert_eq!(
                check_file(&workspace, index, &settings),
                check_file(&fresh_workspace, index, &settings),
                "{text:?}"
            );
        }
        hint_names.update(file.clone());
        assert_eq!(
            NotebookNames::of_memo(&hint_names),
            NotebookNames::of(&file),
            "{text:?}"
        );
        names.update(file.clone());
        cell_rules.update(file.clone(), artifacts());
        assert_eq!(
            check_file_with(
                &workspace,
                0,
                &settings,
                |_| names.findings(),
                |_, _| cell_rules.findings()
            ),
            check_file(&fresh_workspace, 0, &settings),
            "{text:?}"
        );
        assert_eq!(
            workspace.graph.issues(),
            fresh_workspace.graph.issues(),
            "{text:?}"
        );
    }
}

/// What `lsp::diagnostics`' signature hashes: every cell's ordinal, kind, name, deps,
/// loads and saves, without positions.
fn seen_by_others(facts: &NotebookFacts) -> Vec<String> {
    facts
        .cells
        .iter()
        .map(|cell| {
            format!(
                "{} {:?} {:?} {:?} {:?} {:?}",
                cell.ordinal,
                cell.kind,
                cell.explicit_name.as_ref().map(|(name, _)| name),
                cell.deps.iter().map(|dep| &dep.name).collect::<Vec<_>>(),
                cell.loads.iter().map(|path| &path.path).collect::<Vec<_>>(),
                cell.produces
                    .iter()
                    .map(|path| &path.path)
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

fn edits() -> impl Strategy<Value = Vec<(usize, usize, Vec<&'static str>)>> {
    proptest::collection::vec(
        (
            0usize..4000,
            0usize..50,
            proptest::collection::vec(piece(), 0..3),
        ),
        1..8,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn percent_edits_lint_like_a_fresh_open(edits in edits()) {
        check_edits(NotebookFormat::Percent, &edits);
    }

    #[test]
    fn myst_edits_lint_like_a_fresh_open(edits in edits()) {
        check_edits(NotebookFormat::Myst, &edits);
    }
}

/// A keystroke in a cell body keeps the graph's resolution of the notebook (so the
/// diagnostics job does not hash its facts again); renaming a cell does not.
#[test]
fn a_body_edit_keeps_the_resolution_and_a_rename_does_not() {
    let project = Project::without_config(Path::new("/project"));
    let path = PathBuf::from("/project/nb.py");
    let text = notebook(NotebookFormat::Percent, 8);
    let Some(file) = analyse(&project, &path, Stamp::Open(0, 0), text.clone(), None, None) else {
        panic!("not a notebook");
    };
    let workspace = Workspace::from_shared_files(project.clone(), vec![file.clone()]);
    let token = |workspace: &Workspace| workspace.graph.resolution_token(0);
    let edited = |new_text: String, version: i32| {
        let Some(edited) = analyse(
            &project,
            &path,
            Stamp::Open(version, 0),
            new_text,
            Some(file.clone()),
            None,
        ) else {
            panic!("not a notebook");
        };
        Workspace::updated(&workspace, project.clone(), vec![edited])
    };
    let (Some(before), Some(body), Some(renamed)) = (
        token(&workspace),
        token(&edited(text.replacen("v4 = 4", "v4 = 44", 1), 1)),
        token(&edited(text.replacen("name=c4", "name=c44", 1), 2)),
    ) else {
        panic!("no resolution");
    };
    assert!(before.same_as(&body));
    assert!(!before.same_as(&renamed));
}

//! The reader rules' fixes, applied to real notebook text and read back.

use std::path::PathBuf;

use super::findings;
use crate::analysis::workspace::NotebookFile;
use crate::format::{self, NotebookFormat};
use crate::lint::{FixAction, apply_edits};
use crate::project::Project;

fn fixed(text: &str, rule: &str) -> String {
    let project = Project::without_config(&PathBuf::from("/tmp"));
    let file = NotebookFile::new(
        &project,
        PathBuf::from("/tmp/x.py"),
        text.to_string(),
        NotebookFormat::Percent,
    );
    let finding = findings(&file)
        .into_iter()
        .find(|finding| finding.rule == rule)
        .unwrap_or_else(|| panic!("{rule} did not fire on {text:?}"));
    let Some(FixAction::Edits(edits)) = finding.fix.map(|fix| fix.action) else {
        panic!("{rule} has no fix");
    };
    apply_edits(text, &edits).0
}

#[test]
fn marker_no_space_fix_makes_a_real_marker() {
    let text = "# %% tags=[\"jc.step\"]\nx = 1\n\n# %%tags=[\"jc.step\", \"name=b\"]\ny = 2\n";
    let after = fixed(text, "marker-no-space");
    assert!(
        after.contains("# %% tags=[\"jc.step\", \"name=b\"]"),
        "{after}"
    );
    let notebook = format::read(&after, NotebookFormat::Percent);
    assert_eq!(notebook.cells.len(), 2);
    assert_eq!(notebook.cells[1].spec.name.as_deref(), Some("b"));
}

#[test]
fn uncommented_comment_fix_keeps_the_comment_a_comment() {
    let text = "# %%\n# ls the files\nx = 1\n";
    let after = fixed(text, "uncommented-comment");
    assert_eq!(after, "# %%\n## ls the files\nx = 1\n");
    let notebook = format::read(&after, NotebookFormat::Percent);
    assert_eq!(notebook.cells[0].source, "# ls the files\nx = 1");
    assert!(notebook.problems.is_empty(), "{:?}", notebook.problems);
}

#[test]
fn deps_no_comma_fix_splits_the_tag() {
    let text = "# %% tags=['jc.step', 'deps=a,b']\nx = 1\n";
    let after = fixed(text, "deps-no-comma");
    assert_eq!(
        after,
        "# %% tags=['jc.step', \"deps=a\", \"deps=b\"]\nx = 1\n"
    );
}

#[test]
fn pep723_position_fix_moves_the_block_to_the_top() {
    let text = "# %%\nx = 1\n\n# /// script\n# dependencies = []\n# ///\n";
    let after = fixed(text, "pep723-position");
    assert!(
        after.starts_with("# /// script\n# dependencies = []\n# ///\n"),
        "{after}"
    );
    assert!(
        format::read(&after, NotebookFormat::Percent)
            .problems
            .is_empty()
    );
}

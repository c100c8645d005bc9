//! `reread_after_edit` against a full read of the edited text: random edits made of
//! markers, fences, headers and code, at random places and at cell boundaries.

use proptest::prelude::*;

use super::reread_after_edit;
use crate::format::cell_window::CellWindow;
use crate::format::{Notebook, NotebookFormat, read_without_originals};
use crate::text::changed::ChangedBytes;

const PERCENT_HEADER: &str = "# ---\n# jupyter:\n#   kernelspec:\n#     name: python3\n# ---\n\n";
const MYST_HEADER: &str = "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n    format_version: 0.13\nkernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n---\n\n";

/// Pieces of notebooks in both formats: markers appear and vanish, fences open and close,
/// PEP-723 blocks and header lines come and go.
fn piece() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("# %%\n"),
        Just("# %% tags=[\"jc.step\", \"name=a\"]\n"),
        Just("# %% [markdown]\n"),
        Just("#%%\n"),
        Just("```{code-cell} ipython3\n"),
        Just("```{code-cell} python\n:tags: [jc.step]\n"),
        Just("```\n"),
        Just("+++\n"),
        Just("+++ {\"tags\": [\"x\"]}\n"),
        Just("# ```\n"),
        Just("# /// script\n"),
        Just("# ///\n"),
        Just("# ---\n"),
        Just("---\n"),
        Just("\"\"\"\n"),
        Just("x = (\n"),
        Just("y = 1\n"),
        Just("!ls\n"),
        Just("# ls\n"),
        Just("\n"),
        Just("\n\n"),
        Just("# prose é\n"),
        Just("%time y\n"),
    ]
}

/// A notebook of many cells, so that most edits fall between untouched cells.
fn base(format: NotebookFormat, cells: usize) -> String {
    let mut text = String::new();
    for index in 0..cells {
        match format {
            NotebookFormat::Myst if index % 4 == 0 => {
                text.push_str(&format!("+++\n\n## Part {index}\n\n"));
            }
            NotebookFormat::Myst => text.push_str(&format!(
                "```{{code-cell}} ipython3\n:tags: [jc.step, name=c{index}]\n\nv{index} = {index}\n```\n\n"
            )),
            _ if index % 4 == 0 => text.push_str(&format!("# %% [markdown]\n# Part {index}\n\n")),
            _ => text.push_str(&format!(
                "# %% tags=[\"jc.step\", \"name=c{index}\"]\nv{index} = {index}\n\n"
            )),
        }
    }
    text
}

/// The offset an edit aims at: anywhere, or exactly at a cell boundary.
fn target(text: &str, notebook: &Notebook, at: usize, on_boundary: bool) -> usize {
    if on_boundary && !notebook.cells.is_empty() {
        let cell = notebook.cells.at(at % notebook.cells.len());
        return match at % 3 {
            0 => cell.spans.whole.start,
            1 => cell.spans.whole.end,
            _ => cell.spans.body.end,
        };
    }
    let mut offset = at % (text.len() + 1);
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

fn assert_rereads_like_a_full_read(
    format: NotebookFormat,
    text: &mut String,
    edits: &[(usize, bool, usize, Vec<&str>)],
) -> usize {
    let mut notebook = read_without_originals(text, format);
    let mut incremental = 0;
    for (index, (at, on_boundary, length, inserted)) in edits.iter().enumerate() {
        let start = target(text, &notebook, *at, *on_boundary);
        let mut end = (start + length).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let before = text.clone();
        text.replace_range(start..end, &inserted.concat());
        let mut fresh = read_without_originals(text, format);
        super::sort_problems(&mut fresh.problems);
        // Every other edit says what it replaced, as an editor's change does (which may
        // cover more than what differs); the others are found by comparing the texts.
        let change = (index % 2 == 1).then(|| ChangedBytes {
            start,
            old_end: end,
            new_end: start + inserted.concat().len(),
        });
        if let Some((reread, window)) = reread_after_edit(&before, &notebook, text, format, change)
        {
            incremental += 1;
            assert_window_holds(&notebook, &reread, &window);
            assert_eq!(reread.cells, fresh.cells, "{before:?} → {text:?}");
            assert_eq!(reread.problems, fresh.problems, "{before:?} → {text:?}");
            assert_eq!(reread, fresh, "{before:?} → {text:?}");
            notebook = reread;
        } else {
            notebook = fresh;
        }
    }
    incremental
}

/// What the window promises: the cells outside it are the old reading's, the same
/// contents, with the same spans before it and spans moved by the change after it.
fn assert_window_holds(old: &Notebook, new: &Notebook, window: &CellWindow) {
    let (old_cells, new_cells) = (&old.cells, &new.cells);
    assert_eq!(
        old_cells.len() - window.old_stop,
        new_cells.len() - window.new_stop
    );
    assert!(window.prefix <= window.new_stop && window.prefix <= window.old_stop);
    for ordinal in (0..window.prefix).chain(window.new_stop..new_cells.len()) {
        let (before, after) = (
            old_cells.at(window.old_ordinal(ordinal)),
            new_cells.at(ordinal),
        );
        assert!(
            after.shares_content(before),
            "cell {ordinal} was read again"
        );
        if ordinal < window.prefix {
            assert_eq!(after.spans, before.spans);
        } else {
            assert!(before.spans.whole.start >= window.change.old_end);
            assert_eq!(
                after.spans.whole.start,
                window.change.moved(before.spans.whole.start).unwrap()
            );
            assert_eq!(
                after.spans.body.end,
                window.change.moved(before.spans.body.end).unwrap()
            );
        }
    }
}

fn edits() -> impl Strategy<Value = Vec<(usize, bool, usize, Vec<&'static str>)>> {
    proptest::collection::vec(
        (
            0usize..100_000,
            proptest::bool::ANY,
            0usize..60,
            proptest::collection::vec(piece(), 0..3),
        ),
        1..8,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn percent_rereads_like_a_full_read(
        pieces in proptest::collection::vec(piece(), 0..12),
        header in proptest::bool::ANY,
        edits in edits(),
    ) {
        let mut text = format!(
            "{}{}{}",
            if header { PERCENT_HEADER } else { "" },
            base(NotebookFormat::Percent, 12),
            pieces.concat()
        );
        assert_rereads_like_a_full_read(NotebookFormat::Percent, &mut text, &edits);
    }

    #[test]
    fn myst_rereads_like_a_full_read(
        pieces in proptest::collection::vec(piece(), 0..12),
        edits in edits(),
    ) {
        let mut text = format!("{MYST_HEADER}{}{}", base(NotebookFormat::Myst, 12), pieces.concat());
        assert_rereads_like_a_full_read(NotebookFormat::Myst, &mut text, &edits);
    }
}

/// The fast path is taken for the common edit (a body in the middle), in both formats:
/// the property tests above would pass vacuously if it never were.
#[test]
fn a_body_edit_in_the_middle_is_reread_locally() {
    for (format, header) in [
        (NotebookFormat::Percent, PERCENT_HEADER),
        (NotebookFormat::Myst, MYST_HEADER),
    ] {
        let mut text = format!("{header}{}", base(format, 40));
        let at = text.find("v21 = 21").map(|at| at + "v21 = 2".len());
        let edits = [(at.unwrap_or(0), false, 1, vec!["y = 1\n"])];
        let incremental = assert_rereads_like_a_full_read(format, &mut text, &edits);
        assert_eq!(incremental, 1, "{format:?}");
    }
}

/// A PEP-723 block after the cells: an edit before it moves it and can change what is
/// said about its position, so it is read in full (found by the property test).
#[test]
fn a_block_after_the_cells_is_read_in_full() {
    let mut text = format!(
        "{}# /// script\n# %%\n# ///\n",
        base(NotebookFormat::Percent, 12)
    );
    let edits = [(15841, false, 7, vec![])];
    assert_rereads_like_a_full_read(NotebookFormat::Percent, &mut text, &edits);
}

//! Text edits that add a tag to a cell's header, in the header's own spelling: used by
//! the `enforce-declared-deps` fix and the editor's "declare deps=X" quick fix.
//!
//! py:percent: into `tags=[...]` or a JSON header's `"tags": [...]`, else appends
//! ` tags=["X"]`. MyST: into a `:tags: [...]` option.

use crate::format::{NotebookFormat, PlacedCell};
use crate::lint::TextEdit;
use crate::text::Span;

/// The edit that adds `tag` to `cell`'s tags, or `None` when the header has no place
/// this can be done safely (no header, or a MyST cell without a `:tags:` list).
pub fn add_tag(
    text: &str,
    format: NotebookFormat,
    cell: PlacedCell<'_>,
    tag: &str,
) -> Option<TextEdit> {
    let header = cell.spans.header?;
    let header_text = header.slice(text);
    let quoted = serde_json::to_string(tag).ok()?;
    match format {
        // A ```` ```python ```` line of md:markdown takes `key=value` options as `# %%` does.
        NotebookFormat::Markdown if !header_text.starts_with("```") => None,
        NotebookFormat::Percent | NotebookFormat::Light | NotebookFormat::Markdown => {
            let list_start = ["tags=[", "\"tags\": [", "\"tags\":["]
                .iter()
                .find_map(|opening| header_text.find(opening).map(|at| at + opening.len()));
            match list_start {
                Some(start) => insert_into_list(header, header_text, start, &quoted),
                None => Some(TextEdit::new(
                    Span::at(header.end),
                    format!(" tags=[{quoted}]"),
                )),
            }
        }
        NotebookFormat::Myst => {
            let body = cell.spans.whole.slice(text);
            let option = body.find(":tags: [")?;
            let start = option + ":tags: [".len();
            insert_into_list(cell.spans.whole, body, start, tag)
        }
        NotebookFormat::Ipynb => None,
    }
}

/// Inserts `item` before the `]` that closes the list whose items start at `start`.
fn insert_into_list(base: Span, text: &str, start: usize, item: &str) -> Option<TextEdit> {
    let close = start + text.get(start..)?.find(']')?;
    let is_empty = text.get(start..close)?.trim().is_empty();
    let insertion = if is_empty {
        item.to_string()
    } else {
        format!(", {item}")
    };
    Some(TextEdit::new(Span::at(base.start + close), insertion))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Cell, CellSpans, CellType};
    use crate::lint::apply_edits;

    fn header_cell(text: &str) -> Cell {
        let header_end = text.find('\n').unwrap_or(text.len());
        let mut cell = Cell::new(CellType::Code, "");
        cell.spans = CellSpans {
            whole: Span::new(0, text.len()),
            header: Some(Span::new(0, header_end)),
            body: Span::new(header_end, text.len()),
        };
        cell
    }

    fn added(text: &str, format: NotebookFormat) -> Option<String> {
        let edit = add_tag(text, format, header_cell(text).view(), "deps=raw")?;
        Some(apply_edits(text, &[edit]).0)
    }

    #[test]
    fn appends_to_an_existing_percent_tag_list() {
        assert_eq!(
            added("# %% tags=[\"jc.step\"]\nx\n", NotebookFormat::Percent).as_deref(),
            Some("# %% tags=[\"jc.step\", \"deps=raw\"]\nx\n")
        );
    }

    #[test]
    fn fills_an_empty_list_and_a_json_header() {
        assert_eq!(
            added("# %% tags=[]\n", NotebookFormat::Percent).as_deref(),
            Some("# %% tags=[\"deps=raw\"]\n")
        );
        assert_eq!(
            added("# %% {\"tags\": [\"jc.load\"]}\n", NotebookFormat::Percent).as_deref(),
            Some("# %% {\"tags\": [\"jc.load\", \"deps=raw\"]}\n")
        );
    }

    #[test]
    fn adds_a_tag_list_to_a_bare_marker_keeping_the_title() {
        assert_eq!(
            added("# %% Load it\nx\n", NotebookFormat::Percent).as_deref(),
            Some("# %% Load it tags=[\"deps=raw\"]\nx\n")
        );
    }

    #[test]
    fn adds_to_a_myst_tags_option() {
        let text = "```{code-cell} ipython3\n:tags: [jc.step]\nx\n```\n";
        assert_eq!(
            added(text, NotebookFormat::Myst).as_deref(),
            Some("```{code-cell} ipython3\n:tags: [jc.step, deps=raw]\nx\n```\n")
        );
    }
}

//! Writes a notebook as MyST markdown. A cell unchanged since it was read from MyST is
//! written as its original bytes; any other cell as `jupytext.writes(nb, "md:myst")` writes
//! it (one blank line before each cell, `+++` between markdown cells or before markdown
//! metadata, options as `:key: value` lines when they fit, else a `---` YAML block). The
//! front matter is written back verbatim unless the notebook metadata changed.

use crate::format::percent::lines::is_python_line_break;
use serde_json::{Map, Value};

use super::front_matter::{default_lexer, front_matter_keys, write_front_matter};
use super::lines::is_python_space;
use super::metadata_filter::filter_cell_metadata;
use crate::format::jupytext::python_json_dumps;
use crate::format::yaml;
use crate::format::{CellType, Notebook, NotebookFormat, PlacedCell};

/// Writes `notebook` as MyST markdown.
pub fn write_myst(notebook: &Notebook) -> String {
    let lexer = default_lexer(&notebook.metadata);
    let cell_filter = notebook
        .metadata
        .get("jupytext")
        .and_then(|jupytext| jupytext.get("cell_metadata_filter"));
    let newline = if uses_crlf(notebook) { "\r\n" } else { "\n" };

    let mut out = String::new();
    // Whether the last piece written was generated here (it then needs a blank line after).
    let mut previous_generated = false;
    let all_cells: Vec<PlacedCell<'_>> = notebook.cells.iter().collect();
    let mut cells = all_cells.as_slice();
    // A preamble read from another format (a `# ---` percent header) is not front matter.
    if notebook.format == NotebookFormat::Myst && notebook.metadata == notebook.preamble.metadata {
        out.push_str(&notebook.preamble.text);
    } else if read_from_text_without_header(notebook) {
        // jupytext reads a script with no header with `notebook_metadata_filter: -all`,
        // so it writes no front matter for it.
    } else {
        let first_raw = cells
            .first()
            .filter(|cell| cell.cell_type == CellType::Raw)
            .map(|cell| cell.source.as_str());
        let (front_matter, merged_first_cell) = write_front_matter(
            &notebook.metadata,
            first_raw,
            &front_matter_keys(&notebook.preamble.text),
        );
        if merged_first_cell {
            cells = &cells[1..];
        }
        out.push_str(&front_matter.replace('\n', newline));
        previous_generated = true;
    }

    let mut previous_markdown = false;
    for &cell in cells {
        let reusable = cell.is_unchanged_since_read(NotebookFormat::Myst)
            // Two markdown cells need a `+++` between them, or they read back as one.
            && !(cell.cell_type == CellType::Markdown && previous_markdown && cell.spans.header.is_none());
        let original = cell.original.as_ref().filter(|_| reusable);
        if !out.is_empty() {
            if previous_generated {
                // jupytext writes "\n" before every cell; generated text ends with a newline.
                out.push_str(newline);
            } else {
                end_line(&mut out, newline);
                if original.is_none() {
                    end_with_blank_line(&mut out, newline);
                }
            }
        }
        match original {
            Some(original) => {
                out.push_str(&original.text);
                previous_generated = false;
            }
            None => {
                let text = cell_text(cell, previous_markdown, lexer.as_deref(), cell_filter);
                out.push_str(&text.replace('\n', newline));
                previous_generated = true;
            }
        }
        previous_markdown = cell.cell_type == CellType::Markdown;
    }
    if previous_generated {
        // jupytext ends the text with `string.rstrip() + "\n"`.
        let kept = out.trim_end_matches(is_python_space).len();
        out.truncate(kept);
        out.push_str(newline);
    }
    out.push_str(&notebook.trailer);
    out
}

/// Whether the notebook was read from text with CRLF line endings: cells written anew then
/// use them too.
fn uses_crlf(notebook: &Notebook) -> bool {
    let texts = std::iter::once(notebook.preamble.text.as_str()).chain(
        notebook.cells.iter().filter_map(|cell| {
            cell.content()
                .original
                .as_ref()
                .map(|original| original.text.as_str())
        }),
    );
    for text in texts {
        if let Some(index) = text.find('\n') {
            return text[..index].ends_with('\r');
        }
    }
    false
}

fn end_line(out: &mut String, newline: &str) {
    if !out.ends_with('\n') && !out.ends_with('\r') {
        out.push_str(newline);
    }
}

fn end_with_blank_line(out: &mut String, newline: &str) {
    let without_last = out
        .strip_suffix('\n')
        .map(|rest| rest.strip_suffix('\r').unwrap_or(rest));
    let blank = match without_last {
        Some(rest) => rest.is_empty() || rest.ends_with('\n') || rest.ends_with('\r'),
        None => out.is_empty(),
    };
    if !blank {
        out.push_str(newline);
    }
}

/// One cell as jupytext's `notebook_to_myst` writes it, without the blank line before it.
fn cell_text(
    cell: PlacedCell<'_>,
    previous_markdown: bool,
    lexer: Option<&str>,
    cell_filter: Option<&Value>,
) -> String {
    let metadata = filter_cell_metadata(&cell.metadata, cell_filter);
    let mut text = String::new();
    match cell.cell_type {
        CellType::Markdown => {
            if !metadata.is_empty() {
                text.push_str(&format!(
                    "+++ {}\n\n",
                    python_json_dumps(&Value::Object(metadata))
                ));
            } else if previous_markdown {
                text.push_str("+++\n\n");
            }
            text.push_str(&cell.source);
            if !cell.source.ends_with('\n') {
                text.push('\n');
            }
        }
        CellType::Code | CellType::Raw => {
            let delimiter = backticks_for(&cell.source);
            text.push_str(&delimiter);
            if cell.cell_type == CellType::Code {
                text.push_str("{code-cell}");
                if let Some(lexer) = lexer {
                    text.push(' ');
                    text.push_str(lexer);
                }
            } else {
                text.push_str("{raw-cell}");
            }
            text.push('\n');
            if !metadata.is_empty() {
                text.push_str(&options_text(&metadata));
            } else if cell.source.starts_with("---") || cell.source.starts_with(':') {
                text.push('\n');
            }
            text.push_str(&cell.source);
            if !cell.source.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&delimiter);
            text.push('\n');
        }
    }
    text
}

/// jupytext's `three_backticks_or_more`: grows the fence for each source line that starts
/// with the fence so far, by one more than that line's extra backticks.
fn backticks_for(source: &str) -> String {
    let mut delimiter = String::from("```");
    for line in source.lines() {
        if !line.starts_with(delimiter.as_str()) {
            continue;
        }
        for c in line[delimiter.len()..].chars() {
            if c != '`' {
                break;
            }
            delimiter.push('`');
        }
        delimiter.push('`');
    }
    delimiter
}

/// jupytext's `dump_yaml_blocks(metadata, compact=True)`.
fn options_text(metadata: &Map<String, Value>) -> String {
    let dumped = yaml::dump(metadata);
    // Python's `splitlines` also splits at `\x85` and the like, which PyYAML may write.
    let compact = dumped
        .trim_end_matches('\n')
        .split(is_python_line_break)
        .all(|line| line.chars().next().is_some_and(char::is_alphabetic));
    if compact {
        let mut text: String = dumped
            .lines()
            .map(|line| format!(":{line}"))
            .collect::<Vec<_>>()
            .join("\n");
        text.push_str("\n\n");
        text
    } else {
        format!("---\n{dumped}---\n")
    }
}

/// A notebook read from a text format whose file had no jupytext header, its metadata
/// unchanged since (our percent reader records only `jupytext.cell_metadata_json`).
fn read_from_text_without_header(notebook: &Notebook) -> bool {
    let from_text = matches!(
        notebook.format,
        NotebookFormat::Percent | NotebookFormat::Light | NotebookFormat::Markdown
    );
    let mut header = notebook.preamble.metadata.clone();
    if let Some(Value::Object(jupytext)) = header.get_mut("jupytext") {
        jupytext.shift_remove("cell_metadata_json");
        if jupytext.is_empty() {
            header.shift_remove("jupytext");
        }
    }
    from_text && header.is_empty() && notebook.metadata == notebook.preamble.metadata
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::format::Cell;

    fn notebook(cells: Vec<Cell>) -> Notebook {
        let mut notebook = Notebook::empty(NotebookFormat::Myst);
        notebook.cells = cells.into();
        notebook
    }

    fn with_metadata(mut cell: Cell, metadata: Value) -> Cell {
        if let Value::Object(map) = metadata {
            cell.metadata = map;
        }
        cell
    }

    #[test]
    fn built_cells_are_written_like_jupytext() {
        let text = write_myst(&notebook(vec![
            Cell::new(CellType::Markdown, "# Title"),
            Cell::new(CellType::Code, "x = 1"),
            Cell::new(CellType::Markdown, "a"),
            Cell::new(CellType::Markdown, "b"),
            Cell::new(CellType::Raw, "raw"),
        ]));
        assert_eq!(
            text,
            "# Title\n\n```{code-cell}\nx = 1\n```\n\na\n\n+++\n\nb\n\n```{raw-cell}\nraw\n```\n"
        );
    }

    #[test]
    fn cell_options_are_compact_when_flat() {
        let cell = with_metadata(
            Cell::new(CellType::Code, "x"),
            json!({"tags": ["hide-input"]}),
        );
        assert_eq!(
            write_myst(&notebook(vec![cell])),
            "```{code-cell}\n:tags: [hide-input]\n\nx\n```\n"
        );
    }

    #[test]
    fn nested_options_use_a_yaml_block() {
        let cell = with_metadata(Cell::new(CellType::Code, "x"), json!({"a": {"b": 1}}));
        assert_eq!(
            write_myst(&notebook(vec![cell])),
            "```{code-cell}\n---\na:\n  b: 1\n---\nx\n```\n"
        );
    }

    #[test]
    fn markdown_metadata_goes_after_the_break() {
        let cell = with_metadata(
            Cell::new(CellType::Markdown, "text"),
            json!({"slideshow": {"slide_type": "slide"}}),
        );
        assert_eq!(
            write_myst(&notebook(vec![cell])),
            "+++ {\"slideshow\": {\"slide_type\": \"slide\"}}\n\ntext\n"
        );
    }

    #[test]
    fn source_with_fences_gets_longer_delimiters() {
        let cell = Cell::new(CellType::Code, "```\ninner\n````");
        assert_eq!(
            write_myst(&notebook(vec![cell])),
            "`````{code-cell}\n```\ninner\n````\n`````\n"
        );
    }

    #[test]
    fn fence_grows_only_for_lines_that_start_with_it() {
        assert_eq!(backticks_for("```a\n```b"), "````");
        assert_eq!(backticks_for("```a\n````b"), "`````");
    }

    #[test]
    fn source_starting_like_options_gets_a_blank_line() {
        let cell = Cell::new(CellType::Code, ":not: options");
        assert_eq!(
            write_myst(&notebook(vec![cell])),
            "```{code-cell}\n\n:not: options\n```\n"
        );
    }

    #[test]
    fn python_json_matches_json_dumps() {
        assert_eq!(
            python_json_dumps(&json!({"a": [1, 2.5, "é\n"], "b": null})),
            r#"{"a": [1, 2.5, "\u00e9\n"], "b": null}"#
        );
        assert_eq!(python_json_dumps(&json!(1e16)), "1e+16");
        assert_eq!(python_json_dumps(&json!("😀")), r#""\ud83d\ude00""#);
    }
}

#[cfg(test)]
mod mixed_tests {
    use serde_json::json;

    use super::*;
    use crate::format::Cell;
    use crate::format::myst::read_myst;

    #[test]
    fn a_changed_cell_is_rewritten_and_the_rest_kept_byte_for_byte() {
        let text = "# Title  \n\n\n```{code-cell}  ipython3\n:tags: [a]\nx = 1\n```\n\n\n~~~{code-cell}\ny\n~~~\n";
        let mut notebook = read_myst(text);
        notebook.cells[1].source = "x = 2".into();
        assert_eq!(
            write_myst(&notebook),
            "# Title  \n\n\n```{code-cell} ipython3\n:tags: [a]\n\nx = 2\n```\n\n~~~{code-cell}\ny\n~~~\n"
        );
    }

    #[test]
    fn a_markdown_cell_after_a_new_markdown_cell_gets_a_break() {
        let mut notebook = read_myst("```{code-cell}\nx\n```\n\ntext\n");
        notebook
            .cells
            .insert(1, Cell::new(CellType::Markdown, "new"));
        assert_eq!(
            write_myst(&notebook),
            "```{code-cell}\nx\n```\n\nnew\n\n+++\n\ntext\n"
        );
    }

    #[test]
    fn a_cell_appended_after_text_without_final_newline() {
        let mut notebook = read_myst("text");
        notebook.cells.push(Cell::new(CellType::Code, "x"));
        assert_eq!(write_myst(&notebook), "text\n\n```{code-cell}\nx\n```\n");
    }

    #[test]
    fn changed_metadata_regenerates_the_front_matter() {
        let mut notebook = read_myst("---\nkernelspec:\n  name: python3\n---\n\ntext\n");
        notebook
            .metadata
            .insert("kernelspec".into(), json!({"name": "other"}));
        let written = write_myst(&notebook);
        assert!(
            written.starts_with("---\njupytext:\n  text_representation:\n"),
            "{written}"
        );
        assert!(
            written.ends_with("kernelspec:\n  name: other\n---\n\ntext\n"),
            "{written}"
        );
    }

    #[test]
    fn new_cells_use_the_files_crlf_line_endings() {
        let mut notebook = read_myst("a\r\n");
        notebook.cells.push(Cell::new(CellType::Code, "x"));
        assert_eq!(
            write_myst(&notebook),
            "a\r\n\r\n```{code-cell}\r\nx\r\n```\r\n"
        );
    }

    #[test]
    fn jupyter_only_cell_metadata_is_not_written() {
        let mut cell = Cell::new(CellType::Code, "x");
        cell.metadata.insert("collapsed".into(), json!(true));
        cell.metadata.insert("ExecuteTime".into(), json!({}));
        let mut notebook = Notebook::empty(NotebookFormat::Myst);
        notebook.cells.push(cell);
        assert_eq!(write_myst(&notebook), "```{code-cell}\nx\n```\n");
    }
}

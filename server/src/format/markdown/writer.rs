//! Writes a notebook as jupytext's **md:markdown**, as `jupytext.writes(nb, "md")` does
//! (`MarkdownCellExporter`): the `---` header with the `jupyter:` section, code cells as
//! ```` ```python ```` blocks (more backticks when the code holds a fence), markdown as it
//! is unless it has metadata or would read back as something else (then a
//! `<!-- #region -->` block), raw cells as `<!-- #raw -->` blocks; one blank line after
//! each cell, two between markdown cells with no region around them. Cells unchanged since
//! they were read from md:markdown are written as their original bytes.

use serde_json::{Map, Value};

use super::reader::{Options, read_markdown_cell};
use crate::format::jupytext::CellOptions;
use crate::format::percent::default_language;
use crate::format::percent::header::metadata_to_text;
use crate::format::percent::lines::{Line, is_python_line_break};
use crate::format::percent::magics::comment_magics_with;
use crate::format::percent::reader::is_active;
use crate::format::percent::writer::{
    CellMetadataFilter, cell_language, cell_source, frontmatter_lines, header_with_frontmatter,
    lines_to_next_cell,
};
use crate::format::percent::yaml_header::MARKDOWN_HEADER;
use crate::format::{CellType, Notebook, NotebookFormat, PlacedCell};

/// Writes `notebook` as md:markdown text.
pub fn write_markdown(notebook: &Notebook) -> String {
    let all_cells: Vec<PlacedCell<'_>> = notebook.cells.iter().collect();
    let mut cells: &[PlacedCell<'_>] = &all_cells;
    let first_is_changed_frontmatter = cells.first().is_some_and(|cell| {
        frontmatter_lines(*cell).is_some()
            && !cell.is_unchanged_since_read(NotebookFormat::Markdown)
    });
    let regenerate_header = notebook.format != NotebookFormat::Markdown
        || notebook.metadata != notebook.preamble.metadata
        || first_is_changed_frontmatter;
    let mut header: Vec<String> = Vec::new();
    let mut header_blank_lines: Option<usize> = None;
    if regenerate_header {
        (header, header_blank_lines, cells) =
            header_with_frontmatter(&notebook.metadata, cells, MARKDOWN_HEADER);
    }

    let language = default_language(&notebook.metadata);
    let filter = CellMetadataFilter::for_notebook_with_header_line(notebook, "---");
    let options = CellOptions::from_metadata(&notebook.metadata);
    let jupytext = notebook.metadata.get("jupytext");
    let flag = |key: &str| jupytext.and_then(|j| j.get(key)) == Some(&Value::Bool(true));
    let reader_options = Options {
        split_at_heading: flag("split_at_heading"),
        comment_magics: flag("comment_magics"),
    };
    let plain_json = flag("cell_metadata_json");
    let exported: Vec<Exported> = cells
        .iter()
        .map(|&cell| {
            if cell.is_unchanged_since_read(NotebookFormat::Markdown)
                && let Some(original) = &cell.original
            {
                let first = original.text.lines().next().unwrap_or("").to_string();
                return Exported {
                    lines: Vec::new(),
                    original: Some(original.text.clone()),
                    first_line: first,
                    is_code: is_code_after_export(cell),
                };
            }
            export_cell(
                cell,
                &language,
                &filter,
                &options,
                reader_options,
                plain_json,
            )
        })
        .collect();

    let mut chunks: Vec<String> = Vec::with_capacity(exported.len());
    for (index, cell) in exported.iter().enumerate() {
        if let Some(original) = &cell.original {
            chunks.push(original.clone());
            continue;
        }
        let mut lines = cell.lines.clone();
        // `pep8_lines_between_cells` outside `.py`: one blank line, none before nothing.
        let blank = lines_to_next_cell(cells[index]).unwrap_or(1);
        lines.extend(std::iter::repeat_n(String::new(), blank));
        if let Some(next) = exported.get(index + 1)
            && !cell.is_code
            && !next.is_code
            && !cell.first_line.starts_with("<!-- #")
            && !next.first_line.starts_with("<!-- #")
            && !(reader_options.split_at_heading && next.first_line.starts_with('#'))
        {
            lines.push(String::new());
        }
        let mut chunk = lines.join("\n");
        if index + 1 < exported.len() {
            chunk.push('\n');
        }
        chunks.push(chunk);
    }

    let mut out = String::new();
    if regenerate_header {
        if !header.is_empty() {
            // `pep8_lines_between_cells` outside `.py`: one blank line.
            let blank = header_blank_lines.unwrap_or(1);
            out.push_str(&header.join("\n"));
            if chunks.is_empty() {
                out.push_str(&"\n".repeat(blank));
            } else {
                out.push('\n');
                out.push_str(&"\n".repeat(blank));
            }
        }
    } else {
        out.push_str(&notebook.preamble.text);
    }
    for (chunk, cell) in chunks.iter().zip(&exported) {
        if cell.original.is_none()
            && !out.is_empty()
            && !out.chars().next_back().is_some_and(is_python_line_break)
        {
            out.push('\n');
        }
        out.push_str(chunk);
    }
    out
}

/// A cell as the exporter gave it.
struct Exported {
    lines: Vec<String>,
    /// The original bytes of an unchanged cell, written instead of `lines`.
    original: Option<String>,
    first_line: String,
    /// `is_code()` after `cell_to_text`: code, or raw made active.
    is_code: bool,
}

fn has_active_tag(metadata: &Map<String, Value>) -> bool {
    metadata
        .get("tags")
        .and_then(Value::as_array)
        .is_some_and(|tags| {
            tags.iter()
                .filter_map(Value::as_str)
                .any(|tag| tag.starts_with("active-"))
        })
}

/// `is_code()` once the cell is exported (a raw cell's `active: ""` is gone by then).
fn is_code_after_export(cell: PlacedCell<'_>) -> bool {
    cell.cell_type == CellType::Code
        || (cell.cell_type == CellType::Raw
            && cell
                .metadata
                .get("active")
                .is_some_and(|active| active.as_str() != Some("")))
        || has_active_tag(&cell.metadata)
}

/// `MarkdownCellExporter(cell, default_language, fmt).cell_to_text()`.
fn export_cell(
    cell: PlacedCell<'_>,
    default_language: &str,
    filter: &CellMetadataFilter,
    options: &CellOptions,
    reader_options: Options,
    plain_json: bool,
) -> Exported {
    let mut source = cell_source(&cell.source);
    let mut metadata = filter.apply(&cell.metadata);
    let language = cell_language(cell, &mut source, &mut metadata, default_language, options);
    if cell.cell_type == CellType::Raw
        && !metadata.contains_key("active")
        && !has_active_tag(&metadata)
    {
        metadata.insert("active".into(), Value::String(String::new()));
    }

    if cell.cell_type == CellType::Markdown {
        let protect =
            !metadata.is_empty() || !reads_back_as_one_markdown_cell(&source, reader_options);
        let lines = if protect {
            let name = match metadata.shift_remove("region_name") {
                Some(Value::String(name)) => name,
                Some(other) => other.to_string(),
                None => "region".to_string(),
            };
            html_comment(&source, &mut metadata, &name, plain_json)
        } else {
            source
        };
        let first_line = lines.first().cloned().unwrap_or_default();
        return Exported {
            lines,
            original: None,
            first_line,
            is_code: has_active_tag(&cell.metadata),
        };
    }

    // `code_to_text`
    let mut text = source.clone();
    let comment_magics = reader_options.comment_magics;
    comment_magics_with(&mut text, &language, comment_magics, true);
    if metadata.get("active") == Some(&Value::String(String::new())) {
        metadata.shift_remove("active");
    }
    let language = match metadata.shift_remove("language") {
        Some(Value::String(language)) => language,
        Some(other) => other.to_string(),
        None => language,
    };
    let is_code = cell.cell_type == CellType::Code
        || (cell.cell_type == CellType::Raw && metadata.contains_key("active"))
        || has_active_tag(&metadata);
    let lines = if cell.cell_type == CellType::Raw && !is_active("md", &metadata, false) {
        html_comment(&source, &mut metadata, "raw", plain_json)
    } else {
        let options = metadata_to_text(&language, &metadata, false);
        let fence = three_backticks_or_more(&source);
        let mut lines = Vec::with_capacity(text.len() + 2);
        lines.push(format!("{fence}{options}"));
        lines.extend(text);
        lines.push(fence);
        lines
    };
    let first_line = lines.first().cloned().unwrap_or_default();
    Exported {
        lines,
        original: None,
        first_line,
        is_code,
    }
}

/// `html_comment`: the source between `<!-- #region … -->` (or `#raw`, `#md`) and its end.
fn html_comment(
    source: &[String],
    metadata: &mut Map<String, Value>,
    code: &str,
    plain_json: bool,
) -> Vec<String> {
    let start = if metadata.is_empty() {
        format!("<!-- #{code} -->")
    } else {
        // `metadata_to_text(metadata)`: a plain title comes first, unquoted.
        let mut title = String::new();
        if let Some(Value::String(found)) = metadata.get("title")
            && !found.contains('{')
            && !found.contains('=')
        {
            title = found.clone();
            metadata.shift_remove("title");
        }
        format!(
            "<!-- #{code} {} -->",
            metadata_to_text(&title, metadata, plain_json)
        )
    };
    let mut lines = Vec::with_capacity(source.len() + 2);
    lines.push(start);
    lines.extend(source.iter().cloned());
    lines.push(format!("<!-- #end{code} -->"));
    lines
}

/// Whether the markdown reader reads `source` back as one markdown cell.
fn reads_back_as_one_markdown_cell(source: &[String], options: Options) -> bool {
    let mut offset = 0;
    let lines: Vec<Line<'_>> = source
        .iter()
        .map(|line| {
            let start = offset;
            offset += line.len() + 1;
            Line {
                text: line,
                start,
                end: offset,
            }
        })
        .collect();
    let read = read_markdown_cell(&lines, "python", options);
    read.next >= lines.len() && read.cell_type == CellType::Markdown
}

/// `three_backticks_or_more`: a fence longer than the code's lines that start with it.
fn three_backticks_or_more(lines: &[String]) -> String {
    let mut fence = "```".to_string();
    for line in lines {
        if !line.starts_with(fence.as_str()) {
            continue;
        }
        let rest: Vec<char> = line.chars().skip(fence.len()).collect();
        for c in rest {
            if c != '`' {
                break;
            }
            fence.push('`');
        }
        fence.push('`');
    }
    fence
}

#[cfg(test)]
mod tests {
    use crate::format::{NotebookFormat, ipynb, read, write};

    fn notebook(cells: &[(&str, &str, &str)]) -> crate::format::Notebook {
        ipynb::notebook_of_cells(cells)
    }

    const HEADER: &str = "---\njupyter:\n  jupytext:\n    text_representation:\n      extension: .md\n      format_name: markdown\n      format_version: '1.3'\n      jupytext_version: 1.19.6\n---\n\n";

    // Expected texts: `jupytext.writes(nb, "md")` of the same notebooks (1.19.6).

    #[test]
    fn regions_raw_blocks_two_blank_lines_and_longer_fences() {
        let nb = notebook(&[
            ("markdown", "One", "{}"),
            ("markdown", "Two", "{}"),
            ("markdown", "Tagged", r#"{"tags": ["x"]}"#),
            ("raw", "raw", "{}"),
            ("code", "```\ninner\n```", "{}"),
            ("code", "%%bash\nls", "{}"),
        ]);
        let expected = format!(
            "{HEADER}One\n\n\nTwo\n\n<!-- #region tags=[\"x\"] -->\nTagged\n<!-- #endregion -->\n\n<!-- #raw -->\nraw\n<!-- #endraw -->\n\n````python\n```\ninner\n```\n````\n\n```bash\nls\n```\n"
        );
        assert_eq!(write(&nb, NotebookFormat::Markdown), expected);
    }

    #[test]
    fn code_cells_carry_their_metadata_on_the_fence() {
        let nb = notebook(&[("code", "x = 1", r#"{"tags": ["jc.step"]}"#)]);
        let expected = format!("{HEADER}```python tags=[\"jc.step\"]\nx = 1\n```\n");
        assert_eq!(write(&nb, NotebookFormat::Markdown), expected);
    }

    #[test]
    fn an_unchanged_markdown_notebook_is_written_back_byte_for_byte() {
        let text = format!(
            "{HEADER}# Title\n\nSome text\n\n\nMore\n\n```python tags=[\"a\"]\nx = 1\n```\n\n<!-- #raw -->\nraw\n<!-- #endraw -->\n"
        );
        let nb = read(&text, NotebookFormat::Myst);
        assert_eq!(nb.format, NotebookFormat::Markdown);
        assert_eq!(write(&nb, NotebookFormat::Markdown), text);
    }
}

//! Writes one cell of jupytext's **light** script format, as `LightScriptCellExporter`
//! does: code as it is (magics commented, `# +` look-alikes escaped), markdown as `# `
//! comments, and an explicit `# +` [options] … `# -` region for a cell with metadata, a
//! raw cell, a cell of comments only, or code the light reader would split; the `# -`
//! end marker is dropped when the next cell starts with its own `# +`
//! (`remove_eoc_marker`). The notebook around the cells is `writer::write_light`.

use serde_json::{Map, Value};

use super::light::read_light_cell;
use super::lines::Line;
use super::magics::{comment_magics_with, escape_code_start, need_explicit_marker};
use super::pep8::pep8_lines_between_cells;
use super::reader::is_active;
use super::writer::{
    CellMetadataFilter, cell_language, cell_source, commented, double_percent_options,
    usual_language,
};
use crate::format::jupytext::{CellOptions, python_truthy};
use crate::format::{CellType, PlacedCell};

/// A cell exported as light text, before the end marker and blank lines are settled.
pub(crate) struct LightCell {
    lines: Vec<String>,
    is_code: bool,
    lines_to_next_cell: Option<usize>,
    lines_to_end_of_cell_marker: Option<usize>,
}

fn count(metadata: &Map<String, Value>, key: &str) -> Option<usize> {
    metadata
        .get(key)
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
}

impl LightCell {
    /// `LightScriptCellExporter(cell, default_language, fmt).cell_to_text()`.
    pub(crate) fn export(
        cell: PlacedCell<'_>,
        default_language: &str,
        plain_json: bool,
        filter: &CellMetadataFilter,
        options: &CellOptions,
    ) -> LightCell {
        let comment_magics = !options.no_comment_magics;
        let mut source = cell_source(&cell.source);
        let mut metadata = filter.apply(&cell.metadata);
        let mut cell_type = cell.cell_type;
        let mut cell_marker = cell.metadata.get("cell_marker").cloned();

        let language = cell_language(cell, &mut source, &mut metadata, default_language, options);
        if default_language == "go" && language == "go" {
            super::magics::escape_go_double_percent(&mut source);
        }
        if cell_type == CellType::Raw
            && !metadata.contains_key("active")
            && !has_active_tag(&metadata)
        {
            metadata.insert("active".into(), Value::String(String::new()));
        }
        if let Some(end) = cell.metadata.get("endofcell") {
            metadata.insert("endofcell".into(), end.clone());
        }
        if cell_type != CellType::Code
            && metadata.is_empty()
            && uses_triple_quotes(cell_marker.as_ref())
        {
            metadata.insert("cell_type".into(), Value::String(cell_type.as_str().into()));
        }

        // `is_code`: markdown with metadata (or triple quotes) is written as a code region.
        let mut is_code = cell_type == CellType::Code
            || (cell_type == CellType::Raw && metadata.contains_key("active"))
            || has_active_tag(&metadata);
        if (cell_type == CellType::Markdown && !metadata.is_empty())
            || uses_triple_quotes(cell_marker.as_ref())
        {
            if is_active("py", &metadata, true) {
                metadata.insert("cell_type".into(), Value::String(cell_type.as_str().into()));
                source = markdown_to_text(
                    source,
                    cell_marker.as_ref(),
                    &metadata,
                    cell_type,
                    &language,
                    comment_magics,
                );
                cell_type = CellType::Code;
                cell_marker = None;
            }
            is_code = true;
        }
        let lines_to_next_cell = count(&cell.metadata, "lines_to_next_cell");
        let lines_to_end_of_cell_marker = count(&cell.metadata, "lines_to_end_of_cell_marker");
        let lines = if is_code {
            code_to_text(
                source,
                metadata,
                &language,
                default_language,
                cell_marker.as_ref(),
                cell_type,
                (plain_json, comment_magics, options),
            )
        } else {
            markdown_to_text(
                source,
                cell_marker.as_ref(),
                &metadata,
                cell_type,
                &language,
                comment_magics,
            )
        };
        LightCell {
            lines,
            is_code,
            lines_to_next_cell,
            lines_to_end_of_cell_marker,
        }
    }

    /// `remove_eoc_marker(text, next_text)`: the cell's lines and the blank lines it asks
    /// for before the next cell (`None`: the PEP 8 rule decides).
    pub(crate) fn remove_end_marker<'a, I>(self, following: I) -> (Vec<String>, Option<usize>)
    where
        I: Iterator<Item = &'a str> + Clone,
    {
        let LightCell {
            mut lines,
            is_code,
            mut lines_to_next_cell,
            lines_to_end_of_cell_marker,
        } = self;
        if !is_code || lines.last().map(String::as_str) != Some("# -") {
            return (lines, lines_to_next_cell);
        }
        let next_first = following.clone().next();
        if next_first.is_none_or(|line| line.starts_with("# +")) {
            lines.pop();
            if let Some(end) = lines_to_end_of_cell_marker.filter(|end| *end > 0)
                && lines_to_next_cell.is_none_or(|next| end > next)
            {
                lines_to_next_cell = Some(end);
            }
        } else {
            let blank_lines = lines_to_end_of_cell_marker.unwrap_or_else(|| {
                let before: Vec<&str> = lines[..lines.len() - 1]
                    .iter()
                    .map(String::as_str)
                    .collect();
                if pep8_lines_between_cells(&before, following.clone()) < 2 {
                    0
                } else {
                    2
                }
            });
            let end = lines.pop().unwrap_or_default();
            lines.extend(std::iter::repeat_n(String::new(), blank_lines));
            lines.push(end);
        }
        (lines, lines_to_next_cell)
    }
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

/// `use_triple_quotes`: the cell was read from a `"""` string.
fn uses_triple_quotes(cell_marker: Option<&Value>) -> bool {
    let Some(Value::String(marker)) = cell_marker else {
        return false;
    };
    if marker == "\"\"\"" || marker == "'''" {
        return true;
    }
    match marker.split_once(',') {
        Some((left, right)) if !right.contains(',') => {
            let head = left.get(..3).unwrap_or(left);
            let tail = right.get(right.len().saturating_sub(3)..).unwrap_or(right);
            head == tail && (head == "\"\"\"" || head == "'''")
        }
        _ => false,
    }
}

/// `markdown_to_text` for the light format: inside the cell's triple quotes when it was
/// read from them, else magics commented (as in any `.py` text) and every line commented.
fn markdown_to_text(
    mut source: Vec<String>,
    cell_marker: Option<&Value>,
    metadata: &Map<String, Value>,
    cell_type: CellType,
    language: &str,
    comment_magics: bool,
) -> Vec<String> {
    if let Some(Value::String(marker)) = cell_marker {
        let (left, right) = match marker.split_once(',') {
            Some((left, right)) => (left.to_string(), right.to_string()),
            None => {
                let bare = marker.strip_prefix(['r', 'R']).unwrap_or(marker);
                (format!("{marker}\n"), format!("\n{bare}"))
            }
        };
        let tail = right.get(right.len().saturating_sub(3)..).unwrap_or("");
        let raw_prefixed = left.starts_with(['r', 'R']);
        let matches = left.get(..3) == Some(tail) || (raw_prefixed && left.get(1..4) == Some(tail));
        if matches && (tail == "\"\"\"" || tail == "'''") {
            if let Some(first) = source.first_mut() {
                first.insert_str(0, &left);
            }
            if let Some(last) = source.last_mut() {
                last.push_str(&right);
            }
            return source;
        }
    }
    if is_active("py", metadata, true) {
        comment_magics_with(
            &mut source,
            language,
            comment_magics,
            cell_type == CellType::Code,
        );
    }
    commented(source)
}

/// `LightScriptCellExporter.code_to_text`.
fn code_to_text(
    source: Vec<String>,
    mut metadata: Map<String, Value>,
    language: &str,
    default_language: &str,
    cell_marker: Option<&Value>,
    cell_type: CellType,
    (plain_json, comment_magics, options): (bool, bool, &CellOptions),
) -> Vec<String> {
    let same_language = usual_language(language) == usual_language(default_language);
    let active = is_active("py", &metadata, same_language);
    let mut text = source.clone();
    escape_code_start(&mut text, language);
    let comment_questions = metadata
        .shift_remove("comment_questions")
        .is_none_or(|value| python_truthy(&value));
    if active {
        comment_magics_with(&mut text, language, comment_magics, comment_questions);
    } else {
        text = markdown_to_text(
            text,
            cell_marker,
            &metadata,
            cell_type,
            language,
            comment_magics,
        );
    }
    let needs_marker =
        active && comment_questions && comment_magics && need_explicit_marker(&source, language);
    if needs_marker || explicit_start_marker(&text, &source, &metadata, options) {
        metadata.insert("endofcell".into(), Value::String(end_of_cell_marker(&text)));
    }
    if metadata.is_empty() {
        return text;
    }
    let end = match metadata.get("endofcell") {
        Some(Value::String(end)) => end.clone(),
        Some(other) => other.to_string(),
        None => "-".to_string(),
    };
    if end == "-" {
        metadata.shift_remove("endofcell");
    }
    let options = double_percent_options(&mut metadata, plain_json);
    let mut lines = Vec::with_capacity(text.len() + 2);
    lines.push(if options.is_empty() {
        "# +".to_string()
    } else {
        format!("# + {options}")
    });
    lines.extend(text);
    lines.push(format!("# {end}"));
    lines
}

/// `explicit_start_marker`: metadata, a cell of comments only, or code that the light
/// reader would not read back as one cell.
fn explicit_start_marker(
    text: &[String],
    source: &[String],
    metadata: &Map<String, Value>,
    options: &CellOptions,
) -> bool {
    if !metadata.is_empty() {
        return true;
    }
    if source.iter().all(|line| line.starts_with('#')) {
        return true;
    }
    let mut offset = 0;
    let lines: Vec<Line<'_>> = text
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
    read_light_cell(&lines, "python", options).next < lines.len()
}

/// `endofcell_marker`: `-`, or more dashes when the cell holds a `# -` line.
fn end_of_cell_marker(source: &[String]) -> String {
    let mut end = "-".to_string();
    loop {
        let taken = source.iter().any(|line| {
            line.strip_prefix("# ")
                .and_then(|rest| rest.strip_prefix(end.as_str()))
                .is_some_and(|rest| rest.chars().all(super::lines::is_py_space))
        });
        if !taken {
            return end;
        }
        end.push('-');
    }
}

#[cfg(test)]
mod tests {
    use crate::format::{NotebookFormat, ipynb, read, write};

    fn notebook(cells: &[(&str, &str, &str)]) -> crate::format::Notebook {
        ipynb::notebook_of_cells(cells)
    }

    const HEADER: &str = "# ---\n# jupyter:\n#   jupytext:\n#     text_representation:\n#       extension: .py\n#       format_name: light\n#       format_version: '1.5'\n#       jupytext_version: 1.19.6\n# ---\n\n";

    // Expected texts: `jupytext.writes(nb, "py:light")` of the same notebooks (1.19.6).

    #[test]
    fn metadata_opens_a_region_whose_end_marker_goes_before_another_region() {
        let nb = notebook(&[
            ("code", "x = 1", r#"{"tags": ["jc.step"]}"#),
            ("code", "def f():\n    return 1\n\n\ny = 2", "{}"),
            ("markdown", "Text", "{}"),
            ("code", "%matplotlib inline\nz = 3", "{}"),
        ]);
        let expected = format!(
            "{HEADER}# + tags=[\"jc.step\"]\nx = 1\n\n\n# +\ndef f():\n    return 1\n\n\ny = 2\n# -\n\n# Text\n\n# %matplotlib inline\nz = 3\n"
        );
        assert_eq!(write(&nb, NotebookFormat::Light), expected);
    }

    #[test]
    fn raw_cells_and_comment_only_code_get_explicit_regions() {
        let nb = notebook(&[
            ("raw", "raw text", "{}"),
            ("code", "# only a comment", "{}"),
            ("code", "a = 1", "{}"),
        ]);
        let expected =
            format!("{HEADER}# + active=\"\"\n# raw text\n\n# +\n# only a comment\n# -\n\na = 1\n");
        assert_eq!(write(&nb, NotebookFormat::Light), expected);
    }

    #[test]
    fn markdown_with_metadata_and_language_magics() {
        let nb = notebook(&[
            ("markdown", "One", "{}"),
            ("markdown", "Tagged", r#"{"tags": ["x"]}"#),
            ("code", "%%bash\nls", "{}"),
        ]);
        let expected = format!(
            "{HEADER}# One\n\n# + [markdown] tags=[\"x\"]\n# Tagged\n\n# + language=\"bash\"\n# ls\n"
        );
        assert_eq!(write(&nb, NotebookFormat::Light), expected);
    }

    #[test]
    fn an_unchanged_light_notebook_is_written_back_byte_for_byte() {
        let text = format!(
            "{HEADER}# A title\n\n# + tags=[\"a\"]\nx = 1\n\n\n\ny = 2\n# -\n\n\nz = 3\n# + active=\"\"\n# raw\n"
        );
        let nb = read(&text, NotebookFormat::Percent);
        assert_eq!(nb.format, NotebookFormat::Light);
        assert_eq!(write(&nb, NotebookFormat::Light), text);
    }
}

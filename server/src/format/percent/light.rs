//! Reads one cell of jupytext's **light** script format (`LightScriptCellReader`), the
//! format a `.py` is in when its jupytext header says `format_name: light`: cells are
//! paragraphs separated by blank lines (a blank line followed by indented code does not
//! end a cell), a paragraph of comments is a markdown cell, and an explicit region
//! `# +` [options] … `# -` is one cell whatever blank lines it holds.

use crate::format::jupytext::CellOptions;
use std::borrow::Cow;

use serde_json::{Map, Value};

use super::header::{is_json_metadata, options_to_metadata};
use super::lines::{Line, WS, is_blank};
use super::magics::{magic_kind, need_explicit_marker, uncomment_magics_in, unescape_code_start};
use super::pep8::pep8_lines_between_cells;
use super::reader::{ReadCell, is_active, uncomment_line, unquoted_cell};
use super::strings::StringParser;
use crate::format::CellType;
use regex::Regex;
use std::sync::LazyLock;

/// `^#\s*\+(.*)$`: the start of an explicit region.
static START: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = format!(r"^#{WS}*\+(.*)$");
    Regex::new(&pattern).unwrap_or_else(|error| panic!("bad pattern {pattern}: {error}"))
});

/// The options after `# +`, when the line starts a region.
fn region_options(line: &str) -> Option<&str> {
    if !line.starts_with('#') || !line.contains('+') {
        return None;
    }
    START
        .captures(line)
        .and_then(|captures| captures.get(1))
        .map(|options| options.as_str())
}

/// `^# <end>\s*$`: the end of a region (`-`, or the cell's `endofcell` value).
fn is_region_end(line: &str, end: &str) -> bool {
    line.strip_prefix("# ")
        .and_then(|rest| rest.strip_prefix(end))
        .is_some_and(is_blank)
}

/// `paragraph_is_fully_commented`.
fn paragraph_is_fully_commented(lines: &[Line<'_>], language: &str) -> bool {
    for (i, line) in lines.iter().enumerate() {
        let text = line.text;
        if let Some(rest) = text.strip_prefix('#') {
            if rest
                .trim_start_matches(super::lines::is_py_space)
                .starts_with('#')
            {
                continue;
            }
            if magic_kind(text, language, false).is_some() {
                return false;
            }
            continue;
        }
        return i > 0 && is_blank(text);
    }
    true
}

/// `next_code_is_indented`: the first non-blank line starts with whitespace.
fn next_code_is_indented(lines: &[Line<'_>]) -> bool {
    lines
        .iter()
        .find(|line| !is_blank(line.text))
        .is_some_and(|line| line.text.starts_with(super::lines::is_py_space))
}

fn last_two_blank(lines: &[&str]) -> bool {
    let n = lines.len();
    n >= 3 && !is_blank(lines[n - 3]) && is_blank(lines[n - 2]) && is_blank(lines[n - 1])
}

/// Reads the light-format cell starting at `lines[0]`.
pub(crate) fn read_light_cell(
    lines: &[Line<'_>],
    default_language: &str,
    cell_options: &CellOptions,
) -> ReadCell {
    let total = lines.len();
    let first = lines.first().map_or("", |line| line.text);
    // metadata_and_language_from_option_line
    let options = region_options(first);
    let json_metadata = options.is_some_and(is_json_metadata);
    let mut metadata: Option<Map<String, Value>> = options.map(options_to_metadata);
    let explicit_start = options.is_some();
    let mut language: Option<Value> = metadata
        .as_mut()
        .and_then(|metadata| metadata.shift_remove("language"));
    let language_name = language
        .as_ref()
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .map(str::to_string);
    let effective_language = language_name.as_deref().unwrap_or(default_language);

    // find_cell_end
    let mut cell_type = CellType::Code;
    let (cell_end, mut next, explicit_end) =
        if metadata.is_none() && paragraph_is_fully_commented(lines, default_language) {
            cell_type = CellType::Markdown;
            match lines.iter().position(|line| is_blank(line.text)) {
                Some(i) => (i, i + 1, false),
                None => (total, total, false),
            }
        } else {
            if let Some(found) = metadata
                .as_mut()
                .and_then(|metadata| metadata.shift_remove("cell_type"))
            {
                cell_type = match found.as_str() {
                    Some("code") => CellType::Code,
                    Some("markdown") => CellType::Markdown,
                    _ => CellType::Raw,
                };
            }
            let end_of_cell: Option<String> =
                metadata
                    .as_ref()
                    .map(|metadata| match metadata.get("endofcell") {
                        Some(Value::String(end)) => end.clone(),
                        Some(other) if !other.is_null() => other.to_string(),
                        _ => "-".to_string(),
                    });
            find_region_end(
                lines,
                explicit_start,
                end_of_cell.as_deref(),
                effective_language,
            )
        };

    // find_cell_content
    let mut metadata = metadata.unwrap_or_default();
    let cell_start = usize::from(explicit_start).min(cell_end);
    // The cell's own lines only: copying every remaining line per cell was quadratic.
    let texts = |range: std::ops::Range<usize>| -> Vec<&str> {
        lines[range].iter().map(|line| line.text).collect()
    };
    let texts_from = |start: usize| lines[start..].iter().map(|line| line.text);
    let org_content: Vec<&str> = texts(cell_start..cell_end);
    let mut content_end = cell_end;
    if explicit_end {
        let lines_to_end_marker = if last_two_blank(&org_content) {
            content_end -= 2;
            2
        } else {
            0
        };
        let source = texts(cell_start..content_end);
        let pep8 = pep8_lines_between_cells(&source, texts_from(cell_end));
        if lines_to_end_marker != if pep8 == 1 { 0 } else { 2 } {
            metadata.insert(
                "lines_to_end_of_cell_marker".into(),
                Value::from(lines_to_end_marker),
            );
        }
    }
    let source = texts(cell_start..content_end);
    let mut uncommented = Vec::new();
    let content = extract_content(
        &source,
        &mut cell_type,
        &mut metadata,
        language_name.as_deref(),
        (default_language, cell_options),
        explicit_start,
        &mut uncommented,
    );
    if cell_type == CellType::Code && !is_active("ipynb", &metadata, true) {
        if metadata.get("active") == Some(&Value::String(String::new())) {
            metadata.shift_remove("active");
        }
        cell_type = CellType::Raw;
    }
    if next + 1 < total && is_blank(lines[next].text) && !is_blank(lines[next + 1].text) {
        next += 1;
    } else if explicit_end
        && next + 2 < total
        && is_blank(lines[next].text)
        && is_blank(lines[next + 1].text)
        && !is_blank(lines[next + 2].text)
    {
        next += 2;
    }
    let lines_to_next_cell = if cell_end < total {
        let mut count = next - cell_end;
        if explicit_end {
            count = count.saturating_sub(1);
        }
        if next >= total {
            count += 1;
        }
        count
    } else {
        1
    };

    // read
    let previous: Vec<&str> = if org_content.is_empty() {
        vec![""]
    } else {
        org_content
    };
    let expected = pep8_lines_between_cells(&previous, texts_from(next.min(total)));
    if lines_to_next_cell != expected {
        metadata.insert("lines_to_next_cell".into(), Value::from(lines_to_next_cell));
    }
    if let Some(language) = language
        .take()
        .filter(crate::format::jupytext::python_truthy)
    {
        metadata.insert("language".into(), language);
    }
    ReadCell {
        cell_type,
        source: content,
        metadata,
        has_header: explicit_start,
        content_start: cell_start,
        content_end,
        next,
        json_metadata,
        uncommented,
    }
}

/// `find_region_end`: (end of content, start of the next cell, explicit end marker).
fn find_region_end(
    lines: &[Line<'_>],
    explicit_start: bool,
    end_of_cell: Option<&str>,
    language: &str,
) -> (usize, usize, bool) {
    let total = lines.len();
    let mut parser = StringParser::new(language);
    for (i, line) in lines.iter().enumerate() {
        if explicit_start && i == 0 {
            continue;
        }
        if parser.is_quoted() {
            parser.read_line(line.text);
            continue;
        }
        parser.read_line(line.text);
        if region_options(line.text).is_some() {
            if i > 0 && is_blank(lines[i - 1].text) {
                if i > 1 && is_blank(lines[i - 2].text) {
                    return (i - 2, i, false);
                }
                return (i - 1, i, false);
            }
            return (i, i, false);
        }
        if explicit_start {
            if let Some(end) = end_of_cell
                && is_region_end(line.text, end)
            {
                return (i, i + 1, true);
            }
        } else if is_blank(line.text) && !next_code_is_indented(&lines[i..]) {
            if i > 0 {
                return (i, i + 1, false);
            }
            if total > 1 && !is_blank(lines[1].text) {
                return (1, 1, false);
            }
            return (1, 2, false);
        }
    }
    (total, total, false)
}

/// `extract_content` then `ScriptCellReader.uncomment_code_and_magics`.
fn extract_content(
    lines: &[&str],
    cell_type: &mut CellType,
    metadata: &mut Map<String, Value>,
    language: Option<&str>,
    (default_language, options): (&str, &CellOptions),
    explicit_start: bool,
    uncommented: &mut Vec<super::magics::Uncommented>,
) -> String {
    if !is_active("py", metadata, *cell_type == CellType::Code)
        && let Some(content) = unquoted_cell(lines, metadata)
    {
        return content;
    }
    let other_language =
        !metadata.contains_key("active") && language.is_some_and(|l| l != default_language);
    if !is_active("py", metadata, true) || other_language {
        return lines
            .iter()
            .map(|line| uncomment_line(line, "#"))
            .collect::<Vec<_>>()
            .join("\n");
    }
    let language = language.unwrap_or(default_language);
    let mut source: Vec<Cow<'_, str>> = lines.iter().map(|line| Cow::Borrowed(*line)).collect();
    let changed = if options.no_comment_magics {
        Vec::new()
    } else {
        uncomment_magics_in(&mut source, language, explicit_start)
    };
    if default_language == "go" && language == "go" {
        super::magics::unescape_go_double_percent(&mut source);
    }
    if *cell_type == CellType::Code {
        if !options.no_comment_magics && !explicit_start && need_explicit_marker(&source, language)
        {
            metadata.insert("comment_questions".into(), Value::Bool(false));
        }
        *uncommented = changed;
        unescape_code_start(&mut source, language);
        return source.join("\n");
    }
    source
        .iter()
        .map(|line| uncomment_line(line, "#"))
        .collect::<Vec<_>>()
        .join("\n")
}

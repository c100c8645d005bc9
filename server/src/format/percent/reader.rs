//! Reads one cell from the remaining lines, as jupytext's `DoublePercentScriptCellReader`
//! does: where the cell ends (markers hidden by strings and, in markdown/raw cells, by
//! fenced blocks), its type and metadata, its source after uncommenting, and the blank
//! lines before the next cell (`lines_to_next_cell`).

use crate::format::jupytext::CellOptions;
use crate::format::jupytext::python_truthy;
use std::borrow::Cow;

use serde_json::{Map, Value};

use super::header::{is_json_metadata, options_to_metadata};
use super::lines::{Line, is_blank, py_splitlines, py_strip};
use super::magics::{Uncommented, uncomment_magics, unescape_code_start};
use super::markers::{is_marker, is_marker_with_options, marker_options};
use super::pep8::pep8_lines_between_cells;
use super::strings::StringParser;
use crate::format::CellType;

/// A cell as read, with line indices relative to the lines it was read from.
#[derive(Debug)]
pub(crate) struct ReadCell {
    pub cell_type: CellType,
    pub source: String,
    pub metadata: Map<String, Value>,
    /// Line 0 is a marker.
    pub has_header: bool,
    /// Content lines are `content_start..content_end`.
    pub content_start: usize,
    pub content_end: usize,
    /// The next cell starts at this line.
    pub next: usize,
    /// The header used the `{...}` JSON form (jupytext then writes the notebook that way).
    pub json_metadata: bool,
    /// Lines (relative) that comment-magic uncommenting changed, and why.
    pub uncommented: Vec<Uncommented>,
}

/// For each line, the closing fence it could be (character, length), and suffix maxima so
/// that "does any later line close this fence" is O(1) — jupytext rescans the rest of the
/// file for every opening fence.
pub(crate) struct FenceIndex {
    /// `[uncommented with "#", as is]` × `[backtick, tilde]` suffix maxima.
    suffix_max: [[Vec<usize>; 2]; 2],
}

/// `_CODE_FENCE`: `^ {0,3}(`{3,}|~{3,})(.*)$` → (char, length, rest).
fn code_fence(text: &str) -> Option<(u8, usize, &str)> {
    let indent = text.bytes().take_while(|b| *b == b' ').count();
    if indent > 3 {
        return None;
    }
    let rest = &text[indent..];
    let fence_char = *rest.as_bytes().first()?;
    if fence_char != b'`' && fence_char != b'~' {
        return None;
    }
    let length = rest.bytes().take_while(|b| *b == fence_char).count();
    (length >= 3).then(|| (fence_char, length, &rest[length..]))
}

fn opening_fence(text: &str) -> Option<(u8, usize)> {
    let (fence_char, length, info) = code_fence(text)?;
    if fence_char == b'`' && info.contains('`') {
        return None;
    }
    Some((fence_char, length))
}

fn closing_fence(text: &str) -> Option<(u8, usize)> {
    let (fence_char, length, info) = code_fence(text)?;
    py_strip(info).is_empty().then_some((fence_char, length))
}

fn closes(text: &str, fence: (u8, usize)) -> bool {
    closing_fence(text).is_some_and(|(c, length)| c == fence.0 && length >= fence.1)
}

/// jupytext's `uncomment([line], prefix)` for one line.
pub(crate) fn uncomment_line<'a>(line: &'a str, prefix: &str) -> &'a str {
    if prefix.is_empty() {
        return line;
    }
    if let Some(rest) = line.strip_prefix(prefix) {
        return rest.strip_prefix(' ').unwrap_or(rest);
    }
    line
}

impl FenceIndex {
    pub fn new(lines: &[Line<'_>]) -> Self {
        let build = |prefix: &str| {
            let mut backtick = vec![0; lines.len() + 1];
            let mut tilde = vec![0; lines.len() + 1];
            for (i, line) in lines.iter().enumerate().rev() {
                backtick[i] = backtick[i + 1];
                tilde[i] = tilde[i + 1];
                if let Some((c, length)) = closing_fence(uncomment_line(line.text, prefix)) {
                    let slot = if c == b'`' {
                        &mut backtick[i]
                    } else {
                        &mut tilde[i]
                    };
                    *slot = (*slot).max(length);
                }
            }
            [backtick, tilde]
        };
        FenceIndex {
            suffix_max: [build("#"), build("")],
        }
    }

    fn closed_after(&self, absolute: usize, prefix: &str, fence: (u8, usize)) -> bool {
        let table = &self.suffix_max[usize::from(prefix.is_empty())][usize::from(fence.0 != b'`')];
        table.get(absolute).is_some_and(|max| *max >= fence.1)
    }
}

/// `is_active(ext, metadata, default)`.
pub(crate) fn is_active(ext: &str, metadata: &Map<String, Value>, default: bool) -> bool {
    if let Some(Value::Object(run_control)) = metadata.get("run_control")
        && run_control.get("frozen") == Some(&Value::Bool(true))
    {
        return ext == "ipynb";
    }
    if let Some(Value::Array(tags)) = metadata.get("tags") {
        for tag in tags.iter().filter_map(Value::as_str) {
            if tag.starts_with("active-") {
                return tag.split('-').any(|part| part == ext);
            }
        }
    }
    match metadata.get("active") {
        None => default,
        Some(Value::String(active)) => active.split(['.', ',']).any(|part| part == ext),
        Some(_) => false,
    }
}

fn last_two_lines_blank(lines: &[Line<'_>]) -> bool {
    let n = lines.len();
    n >= 3
        && !is_blank(lines[n - 3].text)
        && is_blank(lines[n - 2].text)
        && is_blank(lines[n - 1].text)
}

/// Reads the cell starting at `lines[0]`; `base` is the index of `lines[0]` among all
/// lines (for the fence index).
pub(crate) fn read_cell(
    lines: &[Line<'_>],
    base: usize,
    fences: &FenceIndex,
    default_language: &str,
    options: &CellOptions,
) -> ReadCell {
    let first = lines.first().map_or("", |line| line.text);
    let with_options = is_marker_with_options(first);
    let json_metadata = with_options && is_json_metadata(marker_options(first));
    let mut metadata = if with_options {
        options_to_metadata(marker_options(first))
    } else {
        Map::new()
    };
    let language = metadata.shift_remove("language");
    let language_name = language
        .as_ref()
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let effective_language = language_name.unwrap_or(default_language);

    // find_cell_end
    let mut comment = "#";
    let type_name: String = if let Some(cell_type) = metadata.shift_remove("cell_type") {
        match cell_type {
            Value::String(s) => s,
            other => other.to_string(),
        }
    } else if !is_active("ipynb", &metadata, true) {
        if metadata.get("active") == Some(&Value::String(String::new())) {
            metadata.shift_remove("active");
        }
        if is_active("py", &metadata, true) {
            comment = "";
        }
        "raw".into()
    } else {
        "code".into()
    };
    let cell_type = match type_name.as_str() {
        "code" => CellType::Code,
        "markdown" => CellType::Markdown,
        _ => CellType::Raw,
    };
    let fenced = type_name == "markdown" || type_name == "raw";
    let mut parser = StringParser::new(effective_language);
    let mut fence: Option<(u8, usize)> = None;
    let mut next_cell = lines.len();
    for (i, line) in lines.iter().enumerate() {
        if parser.is_quoted() {
            parser.read_line(line.text);
            continue;
        }
        parser.read_line(line.text);
        if fenced {
            // jupytext #1533: `%%` lines inside a fenced block of a markdown/raw cell are
            // not markers, provided the fence is closed somewhere below.
            let text = uncomment_line(line.text, comment);
            if let Some(open) = fence {
                if closes(text, open) {
                    fence = None;
                }
                continue;
            }
            if let Some(open) = opening_fence(text)
                && fences.closed_after(base + i + 1, comment, open)
            {
                fence = Some(open);
                continue;
            }
        }
        if i > 0 && is_marker(line.text) {
            next_cell = i;
            break;
        }
    }
    let (content_end, next) = if last_two_lines_blank(&lines[..next_cell]) {
        (next_cell - 2, next_cell)
    } else if next_cell > 0 && lines[next_cell - 1].text.is_empty() {
        // jupytext #1599: only an empty line separates cells; whitespace is content.
        (next_cell - 1, next_cell)
    } else {
        (next_cell, next_cell)
    };

    // find_cell_content
    let has_header = is_marker(first);
    let content_start = usize::from(has_header).min(content_end);
    let source_lines: Vec<&str> = lines[content_start..content_end]
        .iter()
        .map(|l| l.text)
        .collect();
    let mut uncommented = Vec::new();
    let content = extract_content(
        &source_lines,
        cell_type,
        &mut metadata,
        comment,
        language_name,
        (default_language, options),
        &mut uncommented,
    );
    let total = lines.len();
    let lines_to_next_cell = if content_end < total {
        next - content_end + usize::from(next >= total)
    } else {
        1
    };

    // read
    let org_content: Vec<&str> = if source_lines.is_empty() {
        vec![""]
    } else {
        source_lines
    };
    let expected = pep8_lines_between_cells(&org_content, lines[next..].iter().map(|l| l.text));
    if lines_to_next_cell != expected {
        metadata.insert("lines_to_next_cell".into(), Value::from(lines_to_next_cell));
    }
    if let Some(language) = language.filter(python_truthy) {
        metadata.insert("language".into(), language);
    }
    ReadCell {
        cell_type,
        source: content,
        metadata,
        has_header,
        content_start,
        content_end,
        next,
        json_metadata,
        uncommented,
    }
}

/// The text of a cell that is one triple-quoted string (jupytext's `cell_marker` for a
/// quoted markdown or inactive cell: `"""`, `r"""`, or `left,right`, recorded in
/// `metadata`), or `None` when it is not one.
pub(super) fn unquoted_cell(lines: &[&str], metadata: &mut Map<String, Value>) -> Option<String> {
    let joined = lines.join("\n");
    let content = py_strip(&joined);
    for prefix in ["", "r", "R"] {
        for quote in ["\"\"\"", "'''"] {
            let mut left = format!("{prefix}{quote}");
            let mut right = quote.to_string();
            if content.starts_with(&left)
                && content.ends_with(&right)
                && content.len() >= left.len() + right.len()
            {
                let mut inner = &content[left.len()..content.len() - right.len()];
                if let Some(rest) = inner.strip_prefix('\n') {
                    inner = rest;
                    left.push('\n');
                }
                if let Some(rest) = inner.strip_suffix('\n') {
                    inner = rest;
                    right.insert(0, '\n');
                }
                let marker = if prefix.is_empty() {
                    (left.len() == 4 && right.len() == 4).then(|| left[..3].to_string())
                } else if left.len() - 1 == 4 && right.len() == 4 {
                    Some(left[..4].to_string())
                } else {
                    Some(format!("{left},{right}"))
                };
                if let Some(marker) = marker {
                    metadata.insert("cell_marker".into(), Value::String(marker));
                }
                return Some(py_splitlines(inner).join("\n"));
            }
        }
    }
    None
}

/// `extract_content`: triple-quoted markdown, plain uncommenting, or comment magics.
fn extract_content(
    lines: &[&str],
    cell_type: CellType,
    metadata: &mut Map<String, Value>,
    comment: &str,
    language: Option<&str>,
    (default_language, options): (&str, &CellOptions),
    uncommented: &mut Vec<Uncommented>,
) -> String {
    // Only a cell whose text starts with a (raw) triple quote can be a quoted markdown cell.
    let may_be_quoted = lines
        .iter()
        .map(|line| super::lines::py_lstrip(line))
        .find(|line| !line.is_empty())
        .is_some_and(|line| line.starts_with(['"', '\'', 'r', 'R']));
    if may_be_quoted
        && !is_active("py", metadata, cell_type == CellType::Code)
        && let Some(content) = unquoted_cell(lines, metadata)
    {
        return content;
    }
    let other_language =
        !metadata.contains_key("active") && language.is_some_and(|l| l != default_language);
    if !is_active("py", metadata, true) || other_language {
        let uncommented_lines: Vec<&str> =
            lines.iter().map(|l| uncomment_line(l, comment)).collect();
        return uncommented_lines.join("\n");
    }
    let language = language.unwrap_or(default_language);
    let mut source: Vec<Cow<'_, str>> = lines.iter().map(|l| Cow::Borrowed(*l)).collect();
    let changed = if options.no_comment_magics {
        Vec::new()
    } else {
        uncomment_magics(&mut source, language)
    };
    if default_language == "go" && language == "go" {
        super::magics::unescape_go_double_percent(&mut source);
    }
    if cell_type == CellType::Code {
        *uncommented = changed;
        unescape_code_start(&mut source, language);
        return source.join("\n");
    }
    let uncommented_lines: Vec<&str> = source.iter().map(|l| uncomment_line(l, comment)).collect();
    uncommented_lines.join("\n")
}

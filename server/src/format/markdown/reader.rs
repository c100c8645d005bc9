//! Reads one cell of jupytext's `md:markdown` format (`MarkdownCellReader`): a
//! ```` ```LANG ```` block whose language is a Jupyter language is a code cell (ending at
//! the first line that starts with its backticks), `<!-- #region -->` … `<!-- #endregion
//! -->` (and `#md`, `#markdown`, `#raw`) is one markdown or raw cell, and other text
//! makes markdown cells that end at two blank lines, except inside fenced or indented
//! code blocks.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::format::CellType;
use crate::format::percent::JUPYTER_LANGUAGES;
use crate::format::percent::header::{
    INCORRECTLY_ENCODED, parse_key_equal_value, relax_json_loads, text_to_metadata,
};
use crate::format::percent::lines::{Line, WS, is_blank, is_py_space, py_strip};
use crate::format::percent::magics::uncomment_magics;
use crate::format::percent::reader::{ReadCell, is_active};
use crate::format::percent::strings::StringParser;

fn regex(pattern: &str) -> Regex {
    let pattern = pattern.replace("WS", WS);
    Regex::new(&pattern).unwrap_or_else(|error| panic!("bad pattern {pattern}: {error}"))
}

/// `^<!--\s*#(region|markdown|md|raw)(.*)-->\s*$`.
static START_REGION: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^<!--WS*#(region|markdown|md|raw)(.*)-->WS*$"));

/// The format options a markdown notebook's header sets.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Options {
    /// `jupytext.split_at_heading`: a heading after a blank line starts a cell.
    pub split_at_heading: bool,
    /// `jupytext.comment_magics`: magics in code cells are uncommented (off by default
    /// in markdown).
    pub comment_magics: bool,
}

/// How a code cell ends: `^```\s*$`, or (after a ```` ```LANG ```` line) any line that
/// starts with that many backticks.
#[derive(Debug, Clone)]
enum EndCode {
    BareFence,
    Prefix(String),
}

impl EndCode {
    fn matches(&self, line: &str) -> bool {
        match self {
            EndCode::BareFence => line.strip_prefix("```").is_some_and(is_blank),
            EndCode::Prefix(prefix) => line.starts_with(prefix.as_str()),
        }
    }
}

/// `is_jupyter_language`: one of jupytext's languages, ignoring case.
fn is_jupyter_language(language: &str) -> bool {
    let lower = language.to_lowercase();
    JUPYTER_LANGUAGES
        .iter()
        .any(|known| known.to_lowercase() == lower)
}

/// A language of `_JUPYTER_LANGUAGES_LOWER_AND_UPPER`.
fn is_fence_language(language: &str) -> bool {
    JUPYTER_LANGUAGES
        .iter()
        .any(|known| *known == language || known.to_uppercase() == language)
}

/// `start_code_re`: ```` ^```(`*)(\s*)(LANG)($|\s.*$) ```` → (extra backticks, the options
/// text `" ".join(groups[1:])`).
fn start_code(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix("```")?;
    let extra = rest.bytes().take_while(|b| *b == b'`').count();
    let after_ticks = &rest[extra..];
    let language_start = after_ticks.trim_start_matches(is_py_space);
    let space = &after_ticks[..after_ticks.len() - language_start.len()];
    let mut best: Option<&str> = None;
    for known in JUPYTER_LANGUAGES {
        for spelling in [known.to_string(), known.to_uppercase()] {
            if let Some(after) = language_start.strip_prefix(spelling.as_str())
                && (after.is_empty() || after.starts_with(is_py_space))
                && best.is_none_or(|found| found.len() < spelling.len())
            {
                best = Some(&language_start[..spelling.len()]);
            }
        }
    }
    let language = best?;
    let after = &language_start[language.len()..];
    Some(("`".repeat(extra), format!("{space} {language} {after}")))
}

/// `text_to_metadata(options)` without a title: (language, metadata).
fn options_to_metadata(options: &str) -> (String, Map<String, Value>) {
    let text = py_strip(options);
    let curly = text.find('{');
    let equal = text.find('=');
    let key_value = match (curly, equal) {
        (None, _) => true,
        (Some(curly), Some(equal)) => equal < curly,
        (Some(_), None) => false,
    };
    if key_value {
        if is_jupyter_language(text) {
            return (text.to_string(), Map::new());
        }
        let Some((language, rest)) = text.split_once(' ') else {
            return (String::new(), parse_key_equal_value(text));
        };
        if is_jupyter_language(language) {
            return (language.to_string(), parse_key_equal_value(rest));
        }
        return (String::new(), parse_key_equal_value(text));
    }
    let curly = curly.unwrap_or(0);
    let json = &text[curly..];
    let metadata = match relax_json_loads(json) {
        Some(Value::Object(map)) => map,
        _ => {
            let mut map = Map::new();
            map.insert(
                INCORRECTLY_ENCODED.into(),
                Value::String(py_strip(json).into()),
            );
            map
        }
    };
    (py_strip(&text[..curly]).to_string(), metadata)
}

/// `.noeval` given as a bare attribute (`{.noeval}` reads as the key with value null).
fn is_noeval(metadata: &Map<String, Value>) -> bool {
    metadata.get(".noeval") == Some(&Value::Null)
}

/// The reader's state for one cell, as jupytext's `MarkdownCellReader` instance.
struct CellReader {
    metadata: Option<Map<String, Value>>,
    language: Option<String>,
    cell_type: CellType,
    in_region: Option<String>,
    end_code: EndCode,
    json_metadata: bool,
}

impl CellReader {
    fn option_line(&mut self, line: &str) {
        if let Some(captures) = START_REGION.captures(line) {
            let name = captures.get(1).map_or("", |m| m.as_str()).to_string();
            let options = captures.get(2).map_or("", |m| m.as_str());
            self.json_metadata |= crate::format::percent::header::is_json_metadata(options);
            let (title, mut metadata) = text_to_metadata(options);
            self.cell_type = if name == "raw" {
                CellType::Raw
            } else {
                CellType::Markdown
            };
            if !title.is_empty() {
                metadata.insert("title".into(), Value::String(title));
            }
            if name == "markdown" || name == "md" {
                metadata.insert("region_name".into(), Value::String(name.clone()));
            }
            self.metadata = Some(metadata);
            self.in_region = Some(name);
        } else if let Some((extra, options)) = start_code(line) {
            self.end_code = EndCode::Prefix(format!("```{extra}"));
            self.json_metadata |= crate::format::percent::header::is_json_metadata(&options);
            let (language, metadata) = options_to_metadata(&options);
            if is_noeval(&metadata) {
                self.cell_type = CellType::Markdown;
                self.metadata = Some(Map::new());
                self.language = None;
            } else {
                self.metadata = Some(metadata);
                self.language = Some(language).filter(|language| !language.is_empty());
            }
        }
    }

    /// `find_cell_end`: (end of content, start of the next cell, explicit end).
    fn find_cell_end(
        &mut self,
        lines: &[Line<'_>],
        default_language: &str,
        options: Options,
    ) -> (usize, usize, bool) {
        let total = lines.len();
        if let Some(name) = &self.in_region {
            let end = regex(&format!(r"^<!--WS*#end{}WS*-->WS*$", regex::escape(name)));
            for (i, line) in lines.iter().enumerate() {
                if end.is_match(line.text) {
                    return (i, i + 1, true);
                }
            }
        } else if self.metadata.is_none() {
            self.cell_type = CellType::Markdown;
            let mut prev_blank = 0usize;
            let mut in_explicit = false;
            let mut in_indented = false;
            for (i, line) in lines.iter().enumerate() {
                let text = line.text;
                if in_explicit && self.end_code.matches(text) {
                    in_explicit = false;
                    continue;
                }
                if prev_blank > 0 && text.starts_with("    ") && !is_blank(text) {
                    in_indented = true;
                    prev_blank = 0;
                    continue;
                }
                if in_indented && !is_blank(text) && !text.starts_with("    ") {
                    in_indented = false;
                }
                if in_indented || in_explicit {
                    continue;
                }
                if START_REGION.is_match(text) {
                    if i > 1 && prev_blank > 0 {
                        return (i - 1, i, false);
                    }
                    return (i, i, false);
                }
                if let Some((extra, code_options)) = start_code(text) {
                    self.end_code = EndCode::Prefix(format!("```{extra}"));
                    let (language, metadata) = options_to_metadata(&code_options);
                    if !is_fence_language(&language) || is_noeval(&metadata) {
                        in_explicit = true;
                        prev_blank = 0;
                        continue;
                    }
                    if i > 1 && prev_blank > 0 {
                        return (i - 1, i, false);
                    }
                    return (i, i, false);
                } else if text.starts_with("```{") {
                    in_explicit = true;
                    prev_blank = 0;
                    continue;
                }
                if text.starts_with("```") {
                    if prev_blank >= 2 {
                        return (i - 2, i, true);
                    }
                    in_explicit = true;
                    prev_blank = 0;
                    continue;
                }
                if options.split_at_heading && text.starts_with('#') && prev_blank >= 1 {
                    return (i - 1, i, false);
                }
                if is_blank(text) {
                    prev_blank += 1;
                } else if prev_blank >= 2 {
                    return (i - 2, i, true);
                } else {
                    prev_blank = 0;
                }
            }
        } else {
            self.cell_type = CellType::Code;
            let mut parser =
                StringParser::new(self.language.as_deref().unwrap_or(default_language));
            for (i, line) in lines.iter().enumerate().skip(1) {
                if parser.is_quoted() {
                    parser.read_line(line.text);
                    continue;
                }
                parser.read_line(line.text);
                if self.end_code.matches(line.text) {
                    return (i, i + 1, true);
                }
            }
        }
        (total, total, false)
    }
}

/// Reads the markdown-format cell starting at `lines[0]`.
pub(crate) fn read_markdown_cell(
    lines: &[Line<'_>],
    default_language: &str,
    options: Options,
) -> ReadCell {
    let total = lines.len();
    let mut reader = CellReader {
        metadata: None,
        language: None,
        cell_type: CellType::Markdown,
        in_region: None,
        end_code: EndCode::BareFence,
        json_metadata: false,
    };
    reader.option_line(lines.first().map_or("", |line| line.text));
    if let Some(metadata) = reader.metadata.as_mut()
        && let Some(language) = metadata.shift_remove("language")
    {
        reader.language = match language {
            Value::String(language) => Some(language),
            Value::Null => None,
            other => Some(other.to_string()),
        };
    }
    // find_cell_content
    let (mut cell_end, mut next, mut explicit_end) =
        reader.find_cell_end(lines, default_language, options);
    let has_header = reader.metadata.is_some();
    let mut metadata = reader.metadata.take().unwrap_or_default();
    let cell_start = usize::from(has_header).min(cell_end);
    // The cell's own lines only: copying every remaining line per cell was quadratic.
    let source: Vec<&str> = lines[cell_start..cell_end]
        .iter()
        .map(|line| line.text)
        .collect();
    let other_language = !metadata.contains_key("active")
        && reader
            .language
            .as_deref()
            .is_some_and(|language| language != default_language);
    let mut content: Vec<Cow<'_, str>> = source.iter().map(|line| Cow::Borrowed(*line)).collect();
    if is_active("md", &metadata, true)
        && !other_language
        && reader.cell_type == CellType::Code
        && options.comment_magics
    {
        let language = reader.language.as_deref().unwrap_or(default_language);
        uncomment_magics(&mut content, language);
    }
    let mut content_start = cell_start;
    let mut content_end = cell_end;
    let mut cell_type = reader.cell_type;
    if cell_type == CellType::Code {
        if !is_active("ipynb", &metadata, true) {
            if metadata.get("active") == Some(&Value::String(String::new())) {
                metadata.shift_remove("active");
            }
            cell_type = CellType::Raw;
        } else if reader.language.is_none() {
            // A code block with no language is a markdown cell (format 1.3 and later).
            cell_type = CellType::Markdown;
            explicit_end = false;
            cell_end += 1;
            content_start = 0;
            content_end = cell_end.min(total);
            content = lines[..content_end]
                .iter()
                .map(|line| Cow::Borrowed(line.text))
                .collect();
        }
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
        let mut count = next.saturating_sub(cell_end);
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
    if lines_to_next_cell != 1 {
        metadata.insert("lines_to_next_cell".into(), Value::from(lines_to_next_cell));
    }
    if let Some(language) = reader.language.filter(|language| !language.is_empty()) {
        metadata.insert("language".into(), Value::String(language));
    }
    ReadCell {
        cell_type,
        source: content.join("\n"),
        metadata,
        has_header: has_header && content_start > 0,
        content_start,
        content_end,
        next,
        json_metadata: reader.json_metadata,
        uncommented: Vec::new(),
    }
}

//! Writes a notebook as py:percent. Cells unchanged since they were read from percent text
//! are written as their original bytes; other cells as `jupytext.writes(nb, "py:percent")`
//! writes them (`DoublePercentCellExporter`): the `# %%` header with title, `[markdown]`
//! and key=value metadata in jupytext's spelling, commented markdown, re-commented
//! magics, and blank lines from `lines_to_next_cell` or the PEP 8 rule.

use super::lines::is_python_line_break;
use crate::format::jupytext::python_truthy;
use serde_json::{Map, Value};

use super::header::metadata_to_text;
use super::lines::{is_py_space, py_splitlines, py_strip};
use super::magics::comment_magics;
use super::pep8::pep8_lines_between_cells;
use super::reader::is_active;
use super::yaml_header::{HeaderFormat, write_header_for};
use super::{JUPYTER_LANGUAGES, default_language};
use crate::format::jupytext::{CellOptions, IGNORED_CELL_METADATA};
use crate::format::{CellType, Notebook, NotebookFormat, PlacedCell};

/// Which cell metadata jupytext writes in a cell header (`filter_metadata`).
pub(crate) enum CellMetadataFilter {
    /// A notebook without a jupytext header: jupytext's reader sets the filter to "the
    /// keys seen", so everything is written (we also keep keys added since, which
    /// jupytext would silently drop).
    KeepAll,
    /// `cell_metadata_filter: a,b,-all`: only these keys.
    Only(Vec<String>),
    /// The default: all but jupytext's ignored keys, the user's `-key`s and empty tags.
    AllBut {
        excluded: Vec<String>,
        drop_empty_tags: bool,
    },
}

impl CellMetadataFilter {
    pub(crate) fn for_notebook(notebook: &Notebook) -> Self {
        Self::for_notebook_with_header_line(notebook, "# ---")
    }

    /// [`CellMetadataFilter::for_notebook`] for a format whose header lines are
    /// `header_line` (`---` in markdown).
    pub(crate) fn for_notebook_with_header_line(notebook: &Notebook, header_line: &str) -> Self {
        let metadata = &notebook.metadata;
        let read_a_yaml_header = notebook
            .preamble
            .text
            .lines()
            .any(|line| line.trim_end() == header_line)
            || notebook.cells.first().and_then(frontmatter_lines).is_some();
        // What the reader adds without a `jupyter:` header does not count as one.
        let header_less = metadata.iter().all(|(key, value)| {
            key == "jupytext"
                && value.as_object().is_some_and(|jupytext| {
                    jupytext.keys().all(|k| {
                        matches!(k.as_str(), "cell_metadata_json" | "executable" | "encoding")
                    })
                })
        });
        if header_less && !read_a_yaml_header {
            return CellMetadataFilter::KeepAll;
        }
        let user = metadata
            .get("jupytext")
            .and_then(|jupytext| jupytext.get("cell_metadata_filter"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let mut additional: Vec<String> = Vec::new();
        let mut excluded: Vec<String> = Vec::new();
        for entry in user.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match entry.strip_prefix('-') {
                Some(key) => excluded.push(key.to_string()),
                None => additional.push(entry.to_string()),
            }
        }
        if excluded.iter().any(|key| key == "all") {
            return CellMetadataFilter::Only(additional);
        }
        if additional.iter().any(|key| key == "all") {
            return CellMetadataFilter::AllBut {
                excluded,
                drop_empty_tags: false,
            };
        }
        excluded.extend(
            IGNORED_CELL_METADATA
                .iter()
                .filter(|key| !additional.iter().any(|a| a == *key))
                .map(|key| key.to_string()),
        );
        CellMetadataFilter::AllBut {
            excluded,
            drop_empty_tags: true,
        }
    }

    pub(crate) fn apply(&self, metadata: &Map<String, Value>) -> Map<String, Value> {
        let valid_key = |key: &str| {
            !key.is_empty()
                && key.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'@' | b'/' | b'-')
                })
        };
        metadata
            .iter()
            .filter(|(key, value)| {
                valid_key(key)
                    && match self {
                        CellMetadataFilter::KeepAll => true,
                        CellMetadataFilter::Only(keys) => keys.iter().any(|k| k == *key),
                        CellMetadataFilter::AllBut {
                            excluded,
                            drop_empty_tags,
                        } => {
                            let excluded_key = excluded.iter().any(|k| k == *key);
                            let empty_tags =
                                *drop_empty_tags && key.as_str() == "tags" && !python_truthy(value);
                            !excluded_key && !empty_tags
                        }
                    }
            })
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }
}

/// Writes `notebook` as py:percent text.
pub fn write_percent(notebook: &Notebook) -> String {
    write_script(notebook, NotebookFormat::Percent)
}

/// Writes `notebook` as py:light text (`LightScriptCellExporter`).
pub fn write_light(notebook: &Notebook) -> String {
    write_script(notebook, NotebookFormat::Light)
}

/// The script writer shared by percent and light: the same header, cells written back to
/// front so each can look at the lines after it.
fn write_script(notebook: &Notebook, format: NotebookFormat) -> String {
    let header_format = if format == NotebookFormat::Light {
        super::yaml_header::LIGHT_HEADER
    } else {
        super::yaml_header::PERCENT_HEADER
    };
    let all_cells: Vec<PlacedCell<'_>> = notebook.cells.iter().collect();
    let mut cells: &[PlacedCell<'_>] = &all_cells;
    let first_is_changed_frontmatter = cells.first().is_some_and(|cell| {
        frontmatter_lines(*cell).is_some() && !cell.is_unchanged_since_read(format)
    });
    // A preamble read from another format (MyST front matter, a light header) is not a
    // header of this format: jupytext writes the header anew from the metadata.
    let regenerate_header = notebook.format != format
        || notebook.metadata != notebook.preamble.metadata
        || first_is_changed_frontmatter;

    let mut out = String::new();
    let mut header_lines: Vec<String> = Vec::new();
    let mut header_blank_lines: Option<usize> = None;
    if regenerate_header {
        out.push_str(pep723_prefix(&notebook.preamble.text));
        (header_lines, header_blank_lines, cells) =
            header_with_frontmatter(&notebook.metadata, cells, header_format);
        // `encoding_and_executable`: a notebook in another language with non-ASCII text
        // gets a coding line (after a `#!` line, if any).
        let has_encoding = notebook
            .metadata
            .get("jupytext")
            .is_some_and(|jupytext| jupytext.get("encoding").is_some());
        if !has_encoding
            && default_language(&notebook.metadata) != "python"
            && notebook.cells.iter().any(|cell| !cell.source.is_ascii())
        {
            let at = usize::from(
                header_lines
                    .first()
                    .is_some_and(|line| line.starts_with("#!")),
            );
            header_lines.insert(at, "# -*- coding: utf-8 -*-".into());
        }
    } else {
        out.push_str(&notebook.preamble.text);
    }

    let language = default_language(&notebook.metadata);
    let filter = CellMetadataFilter::for_notebook(notebook);
    let options = CellOptions::from_metadata(&notebook.metadata);
    let plain_json = notebook
        .metadata
        .get("jupytext")
        .and_then(|jupytext| jupytext.get("cell_metadata_json"))
        == Some(&Value::Bool(true));
    // Built back to front, as jupytext does, so each generated cell can look at the lines
    // that follow it (PEP 8 blank lines).
    // (text, generated by us rather than the original bytes)
    let mut chunks: Vec<(String, bool)> = Vec::with_capacity(cells.len());
    for (i, &cell) in cells.iter().enumerate().rev() {
        let is_last = i + 1 == cells.len();
        if cell.is_unchanged_since_read(format)
            && let Some(original) = &cell.original
        {
            chunks.push((original.text.clone(), false));
            continue;
        }
        let following = chunks.iter().rev().flat_map(|(chunk, _)| chunk.lines());
        let (mut lines, lines_to_next) = if format == NotebookFormat::Light {
            let exported = super::light_writer::LightCell::export(
                cell, &language, plain_json, &filter, &options,
            );
            exported.remove_end_marker(following.clone())
        } else {
            (
                cell_to_lines(cell, &language, plain_json, &filter, &options),
                lines_to_next_cell(cell),
            )
        };
        let blank_lines = lines_to_next.unwrap_or_else(|| {
            let prev: Vec<&str> = lines.iter().map(String::as_str).collect();
            pep8_lines_between_cells(&prev, following)
        });
        lines.extend(std::iter::repeat_n(String::new(), blank_lines));
        let mut chunk = lines.join("\n");
        if !is_last {
            chunk.push('\n');
        }
        chunks.push((chunk, true));
    }
    chunks.reverse();

    if regenerate_header && !header_lines.is_empty() {
        let following = chunks.iter().flat_map(|(chunk, _)| chunk.lines());
        // The YAML block only: a shebang or coding line alone asks for no blank line.
        let content: Vec<&str> = header_lines
            .iter()
            .map(String::as_str)
            .skip_while(|line| *line != "# ---")
            .collect();
        let blank =
            header_blank_lines.unwrap_or_else(|| pep8_lines_between_cells(&content, following));
        for line in &header_lines {
            out.push_str(line);
            out.push('\n');
        }
        if chunks.is_empty() {
            // jupytext joins with "\n": the last line carries no terminator of its own.
            out.pop();
            out.push_str(&"\n".repeat(blank));
        } else {
            out.push_str(&"\n".repeat(blank));
        }
    }
    for (chunk, generated) in chunks {
        // A generated cell after an original last line without a line ending.
        if generated && !out.is_empty() && !ends_with_line_break(&out) {
            out.push('\n');
        }
        out.push_str(&chunk);
    }
    out
}

fn ends_with_line_break(text: &str) -> bool {
    text.chars().next_back().is_some_and(is_python_line_break)
}

/// The PEP-723 block (and the blank lines after it) at the start of a preamble.
fn pep723_prefix(preamble: &str) -> &str {
    let mut end = 0;
    let mut in_block = false;
    let mut after_block = false;
    for line in preamble.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if after_block {
            if content.chars().all(is_py_space) {
                end += line.len();
                continue;
            }
            break;
        }
        if !in_block && content.chars().all(is_py_space) {
            end += line.len();
            continue;
        }
        if !in_block && content.starts_with("# /// ") {
            in_block = true;
        } else if in_block && content == "# ///" {
            after_block = true;
        } else if !in_block {
            return "";
        }
        end += line.len();
    }
    if after_block { &preamble[..end] } else { "" }
}

pub(crate) fn lines_to_next_cell(cell: PlacedCell<'_>) -> Option<usize> {
    cell.metadata
        .get("lines_to_next_cell")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
}

/// jupytext's regenerated header: the notebook's metadata, with the first cell's text
/// when that cell is a front-matter raw cell (which the header then replaces). Returns the
/// header lines, the blank lines the first cell asked for after it, and the cells left.
pub(crate) fn header_with_frontmatter<'c>(
    metadata: &Map<String, Value>,
    cells: &'c [PlacedCell<'c>],
    format: HeaderFormat,
) -> (Vec<String>, Option<usize>, &'c [PlacedCell<'c>]) {
    let first = cells.first().copied();
    match first.and_then(|first| Some((first, frontmatter_lines(first)?))) {
        Some((first, frontmatter)) => {
            let borrowed: Vec<&str> = frontmatter.iter().map(String::as_str).collect();
            (
                write_header_for(metadata, &borrowed, format),
                lines_to_next_cell(first),
                &cells[1..],
            )
        }
        None => (write_header_for(metadata, &[], format), None, cells),
    }
}

/// A first raw cell `---` … `---` is YAML front matter that jupytext puts in the header.
pub(crate) fn frontmatter_lines(cell: PlacedCell<'_>) -> Option<Vec<String>> {
    if cell.cell_type != CellType::Raw {
        return None;
    }
    let trimmed = cell.source.trim_matches(['\n', '\t', ' ']);
    let lines = py_splitlines(trimmed);
    let is_dashes = |line: &str| {
        line.strip_prefix("---")
            .is_some_and(|rest| rest.chars().all(is_py_space))
    };
    if lines.len() >= 2 && is_dashes(lines[0]) && is_dashes(lines[lines.len() - 1]) {
        Some(
            lines[1..lines.len() - 1]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        )
    } else {
        None
    }
}

/// `cell_source`: the source as lines, a trailing newline giving a last empty line.
/// `metadata_to_double_percent_options`: title, `cell_depth` and `[cell_type]` first.
pub(crate) fn double_percent_options(
    metadata: &mut Map<String, Value>,
    plain_json: bool,
) -> String {
    let mut words: Vec<String> = Vec::new();
    if let Some(title) = metadata.shift_remove("title") {
        words.push(match title {
            Value::String(s) => s,
            other => other.to_string(),
        });
    }
    if let Some(depth) = metadata.shift_remove("cell_depth") {
        let depth = depth.as_u64().unwrap_or(0).min(64) as usize;
        words.insert(0, "%".repeat(depth));
    }
    if let Some(cell_type) = metadata.shift_remove("cell_type") {
        let shown = metadata.shift_remove("region_name").unwrap_or(cell_type);
        words.push(format!(
            "[{}]",
            shown
                .as_str()
                .map_or_else(|| shown.to_string(), String::from)
        ));
    }
    metadata_to_text(&words.join(" "), metadata, plain_json)
}

/// jupytext's `cell_language` step of every text exporter: a first line `%%R args` that
/// names a language magic is taken out of `source` into `metadata` (`language`,
/// `magic_args`); the cell's language is that one, else its `language` metadata, else the
/// notebook's.
pub(crate) fn cell_language(
    cell: PlacedCell<'_>,
    source: &mut Vec<String>,
    metadata: &mut Map<String, Value>,
    default_language: &str,
    options: &CellOptions,
) -> String {
    let mut language: Option<String> = None;
    if let Some(magic) = source.first().and_then(|line| line.strip_prefix("%%")) {
        let (name, args) = magic.split_once(' ').unwrap_or((magic, ""));
        if options.is_language_magic(name, JUPYTER_LANGUAGES) {
            let (name, args) = (name.to_string(), args.to_string());
            source.remove(0);
            if !args.is_empty() {
                metadata.insert("magic_args".into(), Value::String(args));
            }
            metadata.insert("language".into(), Value::String(name.clone()));
            language = Some(name);
        }
    }
    language
        .or_else(|| {
            cell.metadata
                .get("language")
                .and_then(Value::as_str)
                .map(String::from)
        })
        .unwrap_or_else(|| default_language.to_string())
}

pub(crate) fn cell_source(source: &str) -> Vec<String> {
    if source.is_empty() {
        return vec![String::new()];
    }
    let mut lines: Vec<String> = py_splitlines(source)
        .into_iter()
        .map(String::from)
        .collect();
    if source.ends_with('\n') {
        lines.push(String::new());
    }
    lines
}

pub(crate) fn usual_language(language: &str) -> String {
    let lower = language.to_lowercase();
    if lower == "r" { "R".into() } else { lower }
}

/// `DoublePercentCellExporter.cell_to_text`.
fn cell_to_lines(
    cell: PlacedCell<'_>,
    default_language: &str,
    plain_json: bool,
    filter: &CellMetadataFilter,
    format_options: &CellOptions,
) -> Vec<String> {
    let mut source = cell_source(&cell.source);
    let mut metadata = filter.apply(&cell.metadata);

    let language = cell_language(
        cell,
        &mut source,
        &mut metadata,
        default_language,
        format_options,
    );
    if default_language == "go" && language == "go" {
        super::magics::escape_go_double_percent(&mut source);
    }
    let tags_activate = |metadata: &Map<String, Value>| {
        metadata
            .get("tags")
            .and_then(Value::as_array)
            .is_some_and(|tags| {
                tags.iter()
                    .filter_map(Value::as_str)
                    .any(|tag| tag.starts_with("active-"))
            })
    };
    if cell.cell_type == CellType::Raw
        && !metadata.contains_key("active")
        && !tags_activate(&metadata)
    {
        metadata.insert("active".into(), Value::String(String::new()));
    }

    let same_language = usual_language(&language) == usual_language(default_language);
    let active = is_active("py", &metadata, same_language);
    if cell.cell_type == CellType::Raw
        && metadata.get("active") == Some(&Value::String(String::new()))
    {
        metadata.shift_remove("active");
    }
    let is_code = cell.cell_type == CellType::Code
        || (cell.cell_type == CellType::Raw && metadata.contains_key("active"))
        || tags_activate(&metadata);
    if !is_code {
        metadata.insert(
            "cell_type".into(),
            Value::String(cell.cell_type.as_str().into()),
        );
    }

    let options = double_percent_options(&mut metadata, plain_json);

    let mut indent = String::new();
    if is_code
        && active
        && let Some(first) = source.first()
        && !py_strip(first).is_empty()
    {
        indent = first[..first.len() - first.trim_start_matches(is_py_space).len()].to_string();
    }
    let marker = if options.starts_with('%') || options.is_empty() {
        format!("{indent}# %%{options}")
    } else {
        format!("{indent}# %% {options}")
    };
    let mut lines = vec![marker];
    if is_code && active {
        if !format_options.no_comment_magics {
            comment_magics(&mut source, &language);
        }
        if source.len() == 1 && source[0].is_empty() {
            return lines;
        }
        lines.extend(source);
        return lines;
    }
    lines.extend(markdown_to_lines(cell, source));
    lines
}

/// `markdown_to_text` for the percent format: triple-quoted when the cell was read that
/// way, else commented with `# `.
fn markdown_to_lines(cell: PlacedCell<'_>, mut source: Vec<String>) -> Vec<String> {
    if let Some(Value::String(marker)) = cell.metadata.get("cell_marker") {
        let (mut left, right) = match marker.split_once(',') {
            Some((left, right)) => (left.to_string(), right.to_string()),
            None => {
                let bare = marker.strip_prefix(['r', 'R']).unwrap_or(marker);
                (format!("{marker}\n"), format!("\n{bare}"))
            }
        };
        let tail = |s: &str| s.get(s.len().saturating_sub(3)..).unwrap_or("").to_string();
        let raw_prefixed = left.starts_with(['r', 'R']);
        let matches = left.get(..3) == Some(tail(&right).as_str())
            || (raw_prefixed && left.get(1..4) == Some(tail(&right).as_str()));
        if matches && (tail(&right) == "\"\"\"" || tail(&right) == "'''") {
            if !raw_prefixed && source.iter().any(|line| line.contains('\\')) {
                left.insert(0, 'r');
            }
            if let Some(first) = source.first_mut() {
                first.insert_str(0, &left);
            }
            if let Some(last) = source.last_mut() {
                last.push_str(&right);
            }
            return source;
        }
    }
    commented(source)
}

/// Each line behind `# ` (an empty line as a bare `#`), as jupytext comments a markdown
/// or raw cell's text.
pub(crate) fn commented(source: Vec<String>) -> Vec<String> {
    source
        .into_iter()
        .map(|line| {
            if line.is_empty() {
                "#".to_string()
            } else {
                format!("# {line}")
            }
        })
        .collect()
}

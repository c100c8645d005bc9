//! `.md` notebooks: which jupytext format a file is in (`read_md`, deciding as
//! `jupytext.read("x.md")` does, see `format::detect`) and jupytext's plain
//! **md:markdown** format (`read_markdown`), exact to jupytext 1.19.6: a `---` header whose
//! `jupyter:` section is the notebook metadata (other root-level keys make a first raw
//! cell), ```` ```python ```` blocks as code cells, `<!-- #region -->` regions, markdown
//! between them. `reader` reads one cell.

mod reader;
mod writer;

pub use self::writer::write_markdown;

use serde_json::{Map, Value};

use crate::format::detect::{self, MarkdownDetection};
use crate::format::percent::lines::{Line, is_blank, split_lines};
use crate::format::percent::reader::ReadCell;
use crate::format::percent::yaml_header::read_header_with_prefix;
use crate::format::percent::{JUPYTER_LANGUAGES, default_language};
use crate::format::{
    Cell, CellContent, CellSpans, Notebook, NotebookFormat, OriginalCell, Preamble, Problem, myst,
    tags,
};
use crate::text::Span;

/// Reads a `.md` notebook in the format jupytext reads it in: MyST, plain markdown, or
/// (for the formats we do not read: pandoc, an old markdown version) plain markdown with
/// an `unsupported-format` problem. A MyST front matter that jupytext ignores (no
/// `extension: .md`) gives a `jupytext-format` problem saying how to make it MyST.
pub fn read_md(text: &str) -> Notebook {
    let lines = split_lines(text, 0);
    let header = read_header_with_prefix(&lines, "");
    let front_matter = root_front_matter(text, &lines);
    let detected =
        detect::detect_markdown(text, &header.metadata, front_matter.as_ref().map(|f| &f.0));
    let front_span = front_matter.as_ref().map_or(Span::at(0), |f| f.1);
    let MarkdownDetection {
        format_name,
        myst_name_ignored,
    } = detected;
    if format_name == "myst" {
        return myst::read_myst(text);
    }
    let mut notebook = read_markdown(text);
    let version = format_version(&notebook.metadata);
    if format_name != "markdown" || matches!(version.as_deref(), Some("1.0" | "1.1")) {
        let name = if format_name == "markdown" {
            format!("markdown (format version {})", version.unwrap_or_default())
        } else {
            format_name
        };
        // Not read as cells at all: whatever we made of them would be misread.
        let mut refused = Notebook::empty(NotebookFormat::Markdown);
        refused.metadata = notebook.metadata.clone();
        refused.preamble = Preamble {
            text: text.to_string(),
            metadata: notebook.metadata,
        };
        refused.problems.push(Problem::new(
            "unsupported-format",
            front_span,
            detect::unsupported_message("md", &name, format_name_from_header(&header.metadata)),
        ));
        return refused;
    } else if myst_name_ignored {
        notebook.problems.insert(
            0,
            Problem::new(
                "jupytext-format",
                front_span,
                "jupytext reads this file as plain markdown (md:markdown), not MyST: the front \
                 matter names `format_name: myst` under `jupytext.text_representation` but no \
                 `extension: .md`, and jupytext then ignores the name; ```{code-cell} blocks are \
                 markdown text and nothing runs. Add `extension: .md` under `text_representation` \
                 to make it a MyST notebook",
            ),
        );
    }
    notebook
}

/// Whether the markdown header names a format (else jupytext guessed it).
fn format_name_from_header(metadata: &Map<String, Value>) -> bool {
    detect::header_format_name(metadata, ".md").is_some()
}

/// The first YAML block of a text that starts with `---` (what `yaml.safe_load_all`
/// gives first), with its span.
fn root_front_matter(text: &str, lines: &[Line<'_>]) -> Option<(Map<String, Value>, Span)> {
    let first = lines.first()?;
    if !first.text.starts_with("---") || !is_blank(&first.text[3..]) {
        return None;
    }
    let end = lines.iter().skip(1).position(|line| {
        (line.text.starts_with("---") || line.text.starts_with("...")) && is_blank(&line.text[3..])
    })? + 1;
    let yaml: Vec<&str> = lines[1..end].iter().map(|line| line.text).collect();
    let span = Span::new(first.start, lines[end].content_end().min(text.len()));
    match crate::format::yaml::parse(&yaml.join("\n")) {
        Ok(Value::Object(map)) => Some((map, span)),
        _ => None,
    }
}

/// `jupytext.text_representation.format_version` when the header says it is markdown.
fn format_version(metadata: &Map<String, Value>) -> Option<String> {
    let representation = metadata
        .get("jupytext")?
        .get("text_representation")?
        .as_object()?;
    let is_markdown = representation.get("extension").and_then(Value::as_str) == Some(".md")
        && representation.get("format_name").and_then(Value::as_str) == Some("markdown");
    if !is_markdown {
        return None;
    }
    match representation.get("format_version")? {
        Value::String(version) => Some(version.clone()),
        other => Some(other.to_string()),
    }
}

/// Reads `text` as jupytext's md:markdown format. Never fails.
pub fn read_markdown(text: &str) -> Notebook {
    let mut notebook = Notebook::empty(NotebookFormat::Markdown);
    let lines = split_lines(text, 0);
    let line_start = |index: usize| lines.get(index).map_or(text.len(), |line| line.start);
    let header = read_header_with_prefix(&lines, "");
    if let Some(error) = &header.error {
        notebook.problems.push(Problem::new(
            "metadata-invalid",
            Span::new(0, line_start(header.consumed)),
            format!("the jupytext YAML header cannot be parsed ({error}); fix the YAML between the `---` lines"),
        ));
    }
    let mut pos = header.consumed;
    let jupytext = header.metadata.get("jupytext");
    let flag = |key: &str| jupytext.and_then(|j| j.get(key)) == Some(&Value::Bool(true));
    let options = reader::Options {
        split_at_heading: flag("split_at_heading"),
        comment_magics: flag("comment_magics"),
    };
    let main_language = main_language_of_header(&header.metadata);
    let reader_language = main_language.clone().unwrap_or_else(|| "python".into());
    let preamble_end = if header.raw_cell.is_some() { 0 } else { pos };
    notebook.preamble = Preamble {
        text: text[..line_start(preamble_end)].to_string(),
        metadata: header.metadata.clone(),
    };
    notebook.metadata = header.metadata;

    let mut read_cells: Vec<(usize, ReadCell)> = Vec::new();
    let mut cells: Vec<Cell> = Vec::new();
    while pos < lines.len() {
        let cell = reader::read_markdown_cell(&lines[pos..], &reader_language, options);
        let next = cell.next.max(1);
        read_cells.push((pos, cell));
        pos += next;
    }
    let main_language = main_language.unwrap_or_else(|| vote_main_language(&read_cells));

    if let Some((source, metadata)) = header.raw_cell {
        let whole = Span::new(0, line_start(header.consumed));
        let body_end = lines[..header.consumed]
            .iter()
            .rev()
            .find(|line| !is_blank(line.text))
            .map_or(0, Line::content_end);
        let cell = Cell::from_content(
            CellContent::raw(source, metadata),
            CellSpans {
                whole,
                header: None,
                body: Span::new(0, body_end),
            },
        );
        push_cell(&mut notebook, &mut cells, cell, text, "", 0);
    }
    for (start, mut read) in read_cells {
        set_cell_language(&mut read, &main_language);
        let first = &lines[start];
        let whole = Span::new(first.start, line_start(start + read.next.max(1)));
        let header_span = read
            .has_header
            .then(|| Span::new(first.start, first.content_end()));
        let body = if read.content_start < read.content_end {
            Span::new(
                lines[start + read.content_start].start,
                lines[start + read.content_end - 1].content_end(),
            )
        } else {
            Span::at(header_span.map_or(whole.start, |span| span.end.min(whole.end)))
        };
        let header_text = header_span.map_or("", |span| span.slice(text));
        let header_offset = header_span.map_or(whole.start, |span| span.start);
        let cell = Cell::from_content(
            CellContent {
                cell_type: read.cell_type,
                source: read.source,
                metadata: read.metadata,
                spec: tags::CellSpec::default(),
                original: None,
                jupyter: None,
            },
            CellSpans {
                whole,
                header: header_span,
                body,
            },
        );
        push_cell(
            &mut notebook,
            &mut cells,
            cell,
            text,
            header_text,
            header_offset,
        );
    }
    notebook.cells = cells.into();
    notebook.problems.sort_by_key(|problem| problem.span.start);
    notebook
}

/// `default_language_from_metadata_and_ext(metadata, ".md")`: none when the header names
/// neither `jupytext.main_language` nor a kernel language.
fn main_language_of_header(metadata: &Map<String, Value>) -> Option<String> {
    let main = metadata
        .get("jupytext")
        .and_then(|jupytext| jupytext.get("main_language"))
        .and_then(Value::as_str);
    let kernel = metadata
        .get("kernelspec")
        .and_then(|kernelspec| kernelspec.get("language"))
        .and_then(Value::as_str)
        .filter(|language| !language.is_empty());
    main.or(kernel).map(|_| default_language(metadata))
}

/// `usual_language_name`.
fn usual_language_name(language: &str) -> String {
    let lower = language.to_lowercase();
    match lower.as_str() {
        "r" => "R".into(),
        "octave" => "matlab".into(),
        "cs" | "c#" => "csharp".into(),
        "fs" | "f#" => "fsharp".into(),
        _ if lower.starts_with("c++") => "c++".into(),
        _ => lower,
    }
}

/// `set_main_and_cell_language` with no language in the header: the cells' most used
/// language (python counts one half to start with; ties go to the first seen).
fn vote_main_language(cells: &[(usize, ReadCell)]) -> String {
    let mut counts: Vec<(String, f64)> = vec![("python".into(), 0.5)];
    for (_, cell) in cells {
        if let Some(Value::String(language)) = cell.metadata.get("language") {
            let language = usual_language_name(language);
            match counts.iter_mut().find(|(known, _)| *known == language) {
                Some((_, count)) => *count += 1.0,
                None => counts.push((language, 1.0)),
            }
        }
    }
    let mut best = counts[0].clone();
    for candidate in &counts[1..] {
        if candidate.1 > best.1 {
            best = candidate.clone();
        }
    }
    best.0
}

/// `set_main_and_cell_language` for one cell: the main language is dropped, another
/// Jupyter language becomes a `%%lang` cell magic (`#!lang` in a C# notebook).
fn set_cell_language(cell: &mut ReadCell, main_language: &str) {
    let Some(Value::String(language)) = cell.metadata.get("language").cloned() else {
        return;
    };
    if language == main_language {
        cell.metadata.shift_remove("language");
        return;
    }
    if usual_language_name(&language) == main_language {
        return;
    }
    if JUPYTER_LANGUAGES.contains(&language.as_str()) {
        cell.metadata.shift_remove("language");
        let magic = if main_language == "csharp" {
            "#!"
        } else {
            "%%"
        };
        let line = match cell.metadata.shift_remove("magic_args") {
            Some(Value::String(args)) => format!("{magic}{language} {args}\n"),
            Some(other) => format!("{magic}{language} {other}\n"),
            None => format!("{magic}{language}\n"),
        };
        cell.source.insert_str(0, &line);
    }
}

/// Adds the spec, its problems and the original text, then appends the cell.
fn push_cell(
    notebook: &mut Notebook,
    cells: &mut Vec<Cell>,
    mut cell: Cell,
    text: &str,
    header: &str,
    header_start: usize,
) {
    let (spec, problems) =
        tags::spec_for_cell(cell.cell_type, &cell.metadata, header, header_start);
    cell.spec = spec;
    notebook.problems.extend(problems);
    cell.original = Some(Box::new(OriginalCell {
        format: NotebookFormat::Markdown,
        text: cell.spans.whole.slice(text).to_string(),
        cell_type: cell.cell_type,
        source: cell.source.clone(),
        metadata: cell.metadata.clone(),
    }));
    cells.push(cell);
}

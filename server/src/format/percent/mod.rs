//! jupytext py:percent (`# %%` cells in a `.py` file): reader and writer, exact to
//! jupytext 1.19.6.
//!
//! [`read_percent`] gives the cells `jupytext.reads(text, fmt="py:percent")` gives (after
//! jellycell removes the first PEP-723 `# /// script` block), with byte spans for every
//! cell and its original text, so that [`write_percent`] of an unchanged notebook is the
//! input byte for byte. Changed or foreign cells are written as `jupytext.writes` writes
//! them. The pieces: `lines` (Python line splitting), `markers`, `header` (marker options
//! and metadata), `python_literal`, `strings` (triple-quote tracking), `magics`, `pep8`
//! (blank lines between cells), `yaml_header` (the `# ---` notebook header), `reader`
//! (one cell), `writer`.

pub(crate) mod header;
mod light;
mod light_writer;
pub(crate) mod lines;
pub(crate) mod magics;
mod markers;
pub(crate) mod pep8;
mod python_literal;
pub(crate) mod reader;
pub(crate) mod strings;
pub(crate) mod writer;
pub(crate) mod yaml_header;

use std::borrow::Cow;

use serde_json::{Map, Value};

use self::lines::{Line, is_blank, split_lines};
use self::magics::MagicKind;
use self::reader::{FenceIndex, ReadCell, read_cell};
use crate::format::jupytext::CellOptions;
use crate::format::{
    Cell, CellContent, CellSpans, CellType, Notebook, NotebookFormat, OriginalCell, Preamble,
    Problem, pep723, tags,
};
use crate::text::Span;

pub use self::writer::{write_light, write_percent};

/// Reads py:percent text. Never fails; problems are in `Notebook::problems`, the PEP-723
/// block's first (`pep723::scan` reports them, including blocks jellycell cannot see).
pub fn read_percent(text: &str) -> Notebook {
    read_percent_keeping(text, Originals::Keep)
}

/// [`read_percent`] without the per-cell copies for byte-exact write-back
/// (`Cell::original` stays `None`): for readers that never write the notebook back,
/// such as the language server, which saves their memory and the time to copy them.
pub fn read_percent_without_originals(text: &str) -> Notebook {
    read_percent_keeping(text, Originals::Drop)
}

/// Whether cells keep a copy of what they were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Originals {
    Keep,
    Drop,
}

/// Reads `text` as jupytext's py:light format whatever its header says, as
/// `jupytext.reads(text, "py:light")` does for a header that names no format.
pub fn read_light(text: &str) -> Notebook {
    let (block, block_problems) = pep723::scan(text);
    let mut notebook = read_with_block_as(text, block, Originals::Keep, Some("light"));
    notebook.problems.splice(0..0, block_problems);
    notebook
}

fn read_percent_keeping(text: &str, originals: Originals) -> Notebook {
    let (block, block_problems) = pep723::scan(text);
    let mut notebook = read_with_block(text, block, originals);
    notebook.problems.splice(0..0, block_problems);
    notebook
}

/// [`read_percent`] with the PEP-723 block already found (tests give their own).
fn read_with_block(
    text: &str,
    block: Option<pep723::Pep723Block>,
    originals: Originals,
) -> Notebook {
    read_with_block_as(text, block, originals, None)
}

/// [`read_with_block`] in the format `forced` names (else the header's, else percent).
fn read_with_block_as(
    text: &str,
    block: Option<pep723::Pep723Block>,
    originals: Originals,
    forced: Option<&str>,
) -> Notebook {
    let mut notebook = Notebook::empty(NotebookFormat::Percent);
    let block = block.filter(|block| {
        let span = block.span;
        span.start <= span.end
            && span.end <= text.len()
            && text.is_char_boundary(span.start)
            && text.is_char_boundary(span.end)
    });
    // jellycell removes the block before calling jupytext: the text jupytext sees.
    let removed = block.as_ref().map(|block| block.span);
    let seen: Cow<'_, str> = match removed {
        Some(span) => Cow::Owned(format!("{}{}", &text[..span.start], &text[span.end..])),
        None => Cow::Borrowed(text),
    };
    let to_original = |offset: usize| match removed {
        Some(span) if offset > span.start => offset + span.len(),
        _ => offset,
    };
    let lines: Vec<Line<'_>> = split_lines(&seen, 0)
        .into_iter()
        .map(|line| Line {
            text: line.text,
            start: to_original(line.start),
            end: to_original(line.end),
        })
        .collect();
    let line_start = |index: usize| lines.get(index).map_or(text.len(), |line| line.start);

    // The preamble: a PEP-723 block at the top and the blank lines after it (jellycell
    // strips them before jupytext), then the jupytext header.
    let mut pos = 0;
    if let Some(span) = removed
        && text[..span.start].chars().all(lines::is_py_space)
    {
        // A line starting before the block has the same offset in `seen` and the text.
        pos = lines
            .iter()
            .take_while(|line| line.start < span.start)
            .count();
        while pos < lines.len() && is_blank(lines[pos].text) {
            pos += 1;
        }
    }
    let header_start = pos;
    let header = yaml_header::read_header(&lines[pos..]);
    if let Some(error) = &header.error {
        let span = Span::new(line_start(header_start), line_start(pos + header.consumed));
        notebook.problems.push(Problem::new(
            "metadata-invalid",
            span,
            format!("the jupytext YAML header cannot be parsed ({error}); fix the YAML between the `# ---` lines"),
        ));
    }
    pos += header.consumed;
    // jupytext honours the header's format even when asked for py:percent.
    let format_name = crate::format::detect::header_format_name(&header.metadata, ".py")
        .or_else(|| forced.map(str::to_string))
        .unwrap_or_else(|| "percent".into());
    let light = format_name == "light" && !has_custom_cell_markers(&header.metadata);
    if light {
        notebook.format = NotebookFormat::Light;
    } else if format_name != "percent" {
        let name = if format_name == "light" {
            "light (with custom cell_markers)"
        } else {
            &format_name
        };
        let span = Span::new(
            line_start(header_start),
            line_start(pos).max(line_start(header_start)),
        );
        notebook.problems.push(Problem::new(
            "unsupported-format",
            span,
            crate::format::detect::unsupported_message("py", name, true),
        ));
        // Not read as cells at all: whatever we made of them would be misread.
        notebook.preamble = Preamble {
            text: text.to_string(),
            metadata: header.metadata.clone(),
        };
        notebook.metadata = header.metadata;
        notebook.pep723 = block;
        return notebook;
    }
    let default_language = default_language(&header.metadata);
    let cell_options = CellOptions::from_metadata(&header.metadata);
    let fences = FenceIndex::new(&lines);

    let mut read_cells: Vec<(usize, ReadCell)> = Vec::new();
    let mut cells: Vec<Cell> = Vec::new();
    // Root-level YAML keys make the header a raw cell (jupytext's front-matter cell).
    let frontmatter: Option<(String, Map<String, Value>)> = header.raw_cell;
    let preamble_end = if frontmatter.is_some() {
        header_start
    } else {
        pos
    };
    notebook.preamble = Preamble {
        text: text[..line_start(preamble_end)].to_string(),
        metadata: header.metadata.clone(),
    };
    notebook.metadata = header.metadata;
    notebook.pep723 = block;

    if let Some((source, metadata)) = frontmatter {
        let whole = Span::new(line_start(header_start), line_start(pos));
        let body_end = lines[header_start..pos]
            .iter()
            .rev()
            .find(|line| !is_blank(line.text))
            .map_or(whole.start, Line::content_end);
        let cell = Cell::from_content(
            CellContent::raw(source, metadata),
            CellSpans {
                whole,
                header: None,
                body: Span::new(whole.start, body_end.max(whole.start)),
            },
        );
        push_cell(
            &mut notebook,
            &mut cells,
            cell,
            text,
            "",
            whole.start,
            originals,
        );
    }

    while pos < lines.len() {
        let cell = if light {
            light::read_light_cell(&lines[pos..], &default_language, &cell_options)
        } else {
            read_cell(
                &lines[pos..],
                pos,
                &fences,
                &default_language,
                &cell_options,
            )
        };
        let next = cell.next.max(1);
        read_cells.push((pos, cell));
        pos += next;
    }
    if read_cells.iter().any(|(_, cell)| cell.json_metadata) {
        // jupytext records the JSON header form in the notebook metadata, and its writer
        // follows it.
        for metadata in [&mut notebook.metadata, &mut notebook.preamble.metadata] {
            let jupytext = metadata
                .entry("jupytext")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(jupytext) = jupytext {
                jupytext
                    .entry("cell_metadata_json")
                    .or_insert(Value::Bool(true));
            }
        }
    }
    for (start, mut cell) in read_cells {
        set_cell_language(&mut cell, &default_language, &cell_options);
        let first = &lines[start];
        let whole = Span::new(first.start, line_start(start + cell.next.max(1)));
        let header_span = cell
            .has_header
            .then(|| Span::new(first.start, first.content_end()));
        let body = if cell.content_start < cell.content_end {
            Span::new(
                lines[start + cell.content_start].start,
                lines[start + cell.content_end - 1].content_end(),
            )
        } else {
            Span::at(if cell.has_header {
                first.end.min(whole.end)
            } else {
                whole.start
            })
        };
        let mut problems = Vec::new();
        if let Some(header_span) = header_span
            && let Some(bad) = cell.metadata.get(header::INCORRECTLY_ENCODED)
        {
            let bad = bad.as_str().unwrap_or_default();
            problems.push(Problem::new(
                "metadata-invalid",
                header_span,
                format!(
                    "cannot parse the cell metadata `{bad}`: write `key=value` pairs with JSON values, e.g. `tags=[\"jc.step\"]`"
                ),
            ));
        }
        if cell.cell_type == CellType::Code {
            let markers = if light {
                &[][..]
            } else {
                &lines[start + cell.content_start..start + cell.content_end]
            };
            for (index, line) in markers.iter().enumerate() {
                // Only a line jupytext uncomments into a `%%magic` is glued to the cell;
                // `#       %%bash` (a space after the hash) stays a comment.
                let uncommented = cell
                    .uncommented
                    .iter()
                    .any(|changed| changed.index == index);
                if uncommented && markers::is_marker_without_space(line.text) {
                    let options = markers::marker_options(line.text);
                    problems.push(Problem::new(
                        "marker-no-space",
                        Span::new(line.start, line.content_end()),
                        format!(
                            "`{}` is not a cell marker: jupytext needs a space after `%%`, so it reads this line as the magic `%%{options}` in the cell above; write `# %% {options}`",
                            line.text.trim()
                        ),
                    ));
                    problems.extend(tags::comma_deps_in_text(line.text, line.start));
                }
            }
            let shell_words = cell
                .uncommented
                .iter()
                .filter(|c| c.kind == Some(MagicKind::ShellWord));
            let source_lines: Vec<&str> = match shell_words.clone().next() {
                Some(_) => cell.source.split('\n').collect(),
                None => Vec::new(),
            };
            for changed in shell_words {
                let Some(line) = lines.get(start + cell.content_start + changed.index) else {
                    continue;
                };
                let now = source_lines.get(changed.index).copied().unwrap_or_default();
                if now.trim_start().starts_with('#') {
                    continue;
                }
                let rest = now.trim_start();
                let word = rest.split_whitespace().next().unwrap_or_default();
                let after = rest[word.len()..].trim_start();
                let rephrased = match after {
                    "" => format!("# {}", plain_word(word)),
                    _ => format!("# {} {after}", plain_word(word)),
                };
                problems.push(Problem::new(
                    "uncommented-comment",
                    Span::new(line.start, line.content_end()),
                    format!(
                        "jupytext reads this comment as the shell command `{rest}` (it starts with the shell word `{word}`), which fails at run time; rephrase the comment (e.g. `{rephrased}`) or double the hash (`## {rest}`), or write `!{rest}` if you meant the command"
                    ),
                ));
            }
        }
        let header_text = header_span.map_or("", |span| span.slice(text));
        let header_offset = header_span.map_or(whole.start, |span| span.start);
        let built = Cell::from_content(
            CellContent {
                cell_type: cell.cell_type,
                source: cell.source,
                metadata: cell.metadata,
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
        notebook.problems.extend(problems);
        push_cell(
            &mut notebook,
            &mut cells,
            built,
            text,
            header_text,
            header_offset,
            originals,
        );
    }
    notebook.cells = cells.into();
    notebook.problems.sort_by_key(|problem| problem.span.start);
    notebook
}

/// An English word for a shell command, to suggest a comment jupytext leaves alone.
fn plain_word(command: &str) -> &'static str {
    match command {
        "cat" => "show",
        "cd" => "enter",
        "cp" | "copy" => "copy",
        "mv" => "move",
        "rm" | "rmdir" => "remove",
        "mkdir" => "create",
        "echo" => "print",
        "ren" => "rename",
        _ => "list",
    }
}

/// `map` rebuilt with every map and list at exact capacity.
fn compact_map(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .map(|(key, value)| (key, compact_value(value)))
        .collect()
}

fn compact_value(value: Value) -> Value {
    match value {
        Value::Array(items) => {
            // Collecting in place would keep the capacity.
            let mut items: Vec<Value> = items.into_iter().map(compact_value).collect();
            items.shrink_to_fit();
            Value::Array(items)
        }
        Value::Object(map) => Value::Object(compact_map(map)),
        Value::String(mut text) => {
            text.shrink_to_fit();
            Value::String(text)
        }
        other => other,
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
    originals: Originals,
) {
    let (spec, problems) =
        tags::spec_for_cell(cell.cell_type, &cell.metadata, header, header_start);
    cell.spec = spec;
    notebook.problems.extend(problems);
    if originals == Originals::Drop {
        // Kept for long (by the language server): at exact capacity, the metadata of a
        // code cell (a one-key map with a list of tags) takes half the memory it is
        // parsed into.
        cell.metadata = compact_map(std::mem::take(&mut cell.metadata));
        cell.source.shrink_to_fit();
        cell.spec.deps.shrink_to_fit();
        cell.spec.foreign_tags.shrink_to_fit();
    } else {
        cell.original = Some(Box::new(OriginalCell {
            format: notebook.format,
            text: cell.spans.whole.slice(text).to_string(),
            cell_type: cell.cell_type,
            source: cell.source.clone(),
            metadata: cell.metadata.clone(),
        }));
    }
    cells.push(cell);
}

/// A light header with `jupytext.cell_markers` other than `+,-` (`{{{,}}}`, `region,
/// endregion`): markers we do not read.
fn has_custom_cell_markers(metadata: &Map<String, Value>) -> bool {
    metadata
        .get("jupytext")
        .and_then(|jupytext| jupytext.get("cell_markers"))
        .is_some_and(|markers| markers.as_str() != Some("+,-"))
}

/// `default_language_from_metadata_and_ext(metadata, ".py")`.
pub(crate) fn default_language(metadata: &Map<String, Value>) -> String {
    let main = metadata
        .get("jupytext")
        .and_then(|j| j.get("main_language"))
        .and_then(Value::as_str);
    let kernel = metadata
        .get("kernelspec")
        .and_then(|k| k.get("language"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let language = main.or(kernel).unwrap_or("python");
    if language == "R" || language == "sas" {
        return language.to_string();
    }
    if language.starts_with("C++") {
        return "c++".into();
    }
    language.to_lowercase().replace('#', "sharp")
}

/// Jupyter cell magics that are also languages (`_JUPYTER_LANGUAGES`).
pub(crate) const JUPYTER_LANGUAGES: &[&str] = &[
    "R",
    "bash",
    "c#",
    "c++",
    "clojure",
    "coconut",
    "cs",
    "csharp",
    "cython",
    "f#",
    "fs",
    "fsharp",
    "gnuplot",
    "go",
    "groovy",
    "haskell",
    "html",
    "idl",
    "java",
    "javascript",
    "jenner",
    "js",
    "julia",
    "latex",
    "logtalk",
    "lua",
    "markdown",
    "matlab",
    "maxima",
    "ocaml",
    "octave",
    "perl",
    "powershell",
    "pypy",
    "python",
    "python2",
    "python3",
    "q",
    "robotframework",
    "ruby",
    "rust",
    "sage",
    "sas",
    "scala",
    "scheme",
    "script",
    "sh",
    "sos",
    "spark",
    "sql",
    "stata",
    "svg",
    "tcl",
    "typescript",
    "wolfram language",
    "xonsh",
];

/// `set_main_and_cell_language`: a `language=` cell in another language becomes a
/// `%%language` cell magic.
fn set_cell_language(cell: &mut ReadCell, main_language: &str, options: &CellOptions) {
    let Some(Value::String(language)) = cell.metadata.get("language").cloned() else {
        return;
    };
    if language == main_language {
        cell.metadata.shift_remove("language");
        return;
    }
    if language.to_lowercase() == main_language.to_lowercase() && language != "R" {
        return;
    }
    if options.is_language_magic(&language, JUPYTER_LANGUAGES) {
        cell.metadata.shift_remove("language");
        let magic = match cell.metadata.shift_remove("magic_args") {
            Some(Value::String(args)) => format!("%%{language} {args}\n"),
            Some(other) => format!("%%{language} {other}\n"),
            None => format!("%%{language}\n"),
        };
        cell.source.insert_str(0, &magic);
    }
}

#[cfg(test)]
mod tests;

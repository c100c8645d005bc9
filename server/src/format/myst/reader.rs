//! Builds the notebook from a MyST text: cells as `jupytext.reads(text, "md:myst")` gives
//! them, each with exact spans and its original text, plus the problems found.
//!
//! Cells partition the text after the preamble: a cell's whole span runs from its header
//! (a fence line or `+++` line) or its first non-empty line to the start of the next cell,
//! so blank lines, and `+++` breaks with nothing after them, belong to the cell before.

use serde_json::{Map, Value};

use super::blocks::{Block, scan_blocks};
use super::front_matter::{find_front_matter, notebook_metadata, parse_front_matter};
use super::lines::{Line, is_python_space, split_lines};
use super::options::{ContentLine, parse_break_metadata, parse_directive_options};
use crate::format::{
    Cell, CellSpans, CellType, Notebook, NotebookFormat, OriginalCell, Preamble, Problem, tags,
};
use crate::text::Span;

const CODE_DIRECTIVE: &str = "{code-cell}";
const RAW_DIRECTIVE: &str = "{raw-cell}";

/// Reads a MyST notebook. Never fails: what could not be read is in `problems`.
pub fn read_myst(text: &str) -> Notebook {
    let lines = split_lines(text);
    let mut reader = Reader {
        text,
        lines: &lines,
        cells: Vec::new(),
        problems: Vec::new(),
    };
    let mut front_metadata = Map::new();
    let mut body_start = 0;
    if let Some(front) = find_front_matter(text, &lines) {
        body_start = front.end_line;
        match parse_front_matter(&front) {
            Ok(map) => front_metadata = map,
            Err(error) => reader.problems.push(Problem::new(
                "front-matter-invalid",
                Span::new(front.yaml_start, front.yaml_end),
                format!(
                    "the front matter is not a YAML mapping ({error}); fix the YAML between the \
                     `---` lines so that it reads as `key: value` entries"
                ),
            )),
        }
    }

    let mut default_lexer: Option<String> = None;
    let mut markdown = PendingMarkdown {
        start_line: body_start,
        metadata: Map::new(),
        header: None,
    };
    for block in scan_blocks(text, &lines, body_start) {
        match block {
            Block::Fence {
                start_line,
                end_line,
                closed,
                info,
                indent,
            } => {
                let cell_type = if info.starts_with(CODE_DIRECTIVE) {
                    CellType::Code
                } else if info.starts_with(RAW_DIRECTIVE) {
                    CellType::Raw
                } else {
                    continue;
                };
                reader.flush_markdown(&markdown, start_line);
                if cell_type == CellType::Code {
                    let lexer = info[CODE_DIRECTIVE.len()..].trim_matches(is_python_space);
                    if !lexer.is_empty() && default_lexer.is_none() {
                        default_lexer = Some(lexer.to_string());
                    }
                }
                reader.read_fenced_cell(cell_type, start_line, end_line, closed, indent);
                markdown = PendingMarkdown {
                    start_line: end_line,
                    metadata: Map::new(),
                    header: None,
                };
            }
            Block::Break { line, content } => {
                reader.flush_markdown(&markdown, line);
                let metadata = reader.break_metadata(line, &content);
                markdown = PendingMarkdown {
                    start_line: line + 1,
                    metadata,
                    header: Some(line),
                };
            }
        }
    }
    reader.flush_markdown(&markdown, lines.len());

    let Reader {
        mut cells,
        mut problems,
        ..
    } = reader;
    let starts: Vec<usize> = cells.iter().map(|cell| cell.spans.whole.start).collect();
    for (index, cell) in cells.iter_mut().enumerate() {
        let end = starts.get(index + 1).copied().unwrap_or(text.len());
        cell.spans.whole = Span::new(cell.spans.whole.start, end);
        if let Some(original) = cell.original.as_mut() {
            original.text = text[cell.spans.whole.range()].to_string();
        }
    }
    for cell in &mut cells {
        let header = cell.spans.header.unwrap_or(Span::at(cell.spans.body.start));
        let header_text = match cell.cell_type {
            // A fenced cell's tags are written in its options, below the fence line.
            CellType::Code | CellType::Raw => {
                &text[header.start..cell.spans.body.start.max(header.end)]
            }
            CellType::Markdown => header.slice(text),
        };
        let (spec, spec_problems) = tags::spec_for_cell(
            cell.cell_type,
            &cell.metadata,
            header_text.trim_end(),
            header.start,
        );
        cell.spec = spec;
        problems.extend(spec_problems);
    }

    let preamble_end = starts.first().copied().unwrap_or(text.len());
    let (metadata, raw_cell) = notebook_metadata(front_metadata, default_lexer.as_deref());
    if let Some(source) = raw_cell {
        // Front matter keys that `root_level_metadata_filter` keeps out of the metadata:
        // jupytext shows them as a first raw cell, which has no text of its own here.
        let at = Span::at(preamble_end);
        let metadata = Map::new();
        let (spec, _) = tags::spec_for_cell(CellType::Raw, &metadata, "", preamble_end);
        let original = OriginalCell {
            format: NotebookFormat::Myst,
            text: String::new(),
            cell_type: CellType::Raw,
            source: source.clone(),
            metadata: metadata.clone(),
        };
        let spans = CellSpans {
            whole: at,
            header: None,
            body: at,
        };
        cells.insert(
            0,
            Cell {
                cell_type: CellType::Raw,
                source,
                metadata,
                spec,
                spans,
                original: Some(original),
            },
        );
    }
    Notebook {
        format: NotebookFormat::Myst,
        preamble: Preamble {
            text: text[..preamble_end].to_string(),
            metadata: metadata.clone(),
        },
        metadata,
        cells,
        pep723: None,
        trailer: String::new(),
        problems,
    }
}

/// The markdown cell being collected: from `start_line`, opened by the `+++` on `header`.
struct PendingMarkdown {
    start_line: usize,
    metadata: Map<String, Value>,
    header: Option<usize>,
}

struct Reader<'a> {
    text: &'a str,
    lines: &'a [Line],
    cells: Vec<Cell>,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn line_span(&self, index: usize) -> Span {
        self.lines
            .get(index)
            .map_or(Span::at(self.text.len()), |line| {
                Span::new(line.start, line.content_end)
            })
    }

    fn break_metadata(&mut self, line: usize, content: &str) -> Map<String, Value> {
        match parse_break_metadata(content) {
            Ok(metadata) => metadata,
            Err(error) => {
                self.problems.push(Problem::new(
                    "metadata-invalid",
                    self.line_span(line),
                    format!(
                        "the metadata after `+++` is not a JSON object ({error}); write it as \
                         `+++ {{\"key\": \"value\"}}` or remove it"
                    ),
                ));
                Map::new()
            }
        }
    }

    /// jupytext's `_flush_markdown`: the lines `start..end`, without leading empty lines and
    /// trailing whitespace, make a markdown cell unless nothing is left.
    fn flush_markdown(&mut self, pending: &PendingMarkdown, end_line: usize) {
        let lines = self
            .lines
            .get(pending.start_line..end_line.min(self.lines.len()))
            .unwrap_or(&[]);
        let Some(last) = lines.iter().rposition(|line| {
            !line
                .content(self.text)
                .trim_end_matches(is_python_space)
                .is_empty()
        }) else {
            return;
        };
        let Some(first) = lines.iter().position(|line| !line.is_empty()) else {
            return;
        };
        let last_line = lines[last];
        let body_end = last_line.start
            + last_line
                .content(self.text)
                .trim_end_matches(is_python_space)
                .len();
        let mut source = String::new();
        for (index, line) in lines[first..=last].iter().enumerate() {
            if index > 0 {
                source.push('\n');
            }
            let end = if first + index == last {
                body_end
            } else {
                line.content_end
            };
            source.push_str(&self.text[line.start..end]);
        }
        let body = Span::new(lines[first].start, body_end);
        let header = pending.header.map(|line| self.line_span(line));
        let start = header.map_or(body.start, |header| header.start);
        self.push_cell(
            CellType::Markdown,
            source,
            pending.metadata.clone(),
            header,
            body,
            start,
        );
    }

    fn read_fenced_cell(
        &mut self,
        cell_type: CellType,
        start_line: usize,
        end_line: usize,
        closed: bool,
        indent: usize,
    ) {
        let header = self.line_span(start_line);
        let content_end = if closed {
            end_line.saturating_sub(1)
        } else {
            end_line
        };
        let mut content: Vec<ContentLine> = self
            .lines
            .get(start_line + 1..content_end.min(self.lines.len()).max(start_line + 1))
            .unwrap_or(&[])
            .iter()
            .map(|line| dedent_line(line.content(self.text), line.start, indent))
            .collect();
        // markdown-it reads `text + "\n"`: an unclosed fence in a text that ends with a line
        // break runs over one more, empty, line.
        if !closed && self.text.ends_with(['\n', '\r']) {
            content.push(ContentLine {
                offset: self.text.len(),
                end: self.text.len(),
                text: String::new(),
            });
        }
        let options = parse_directive_options(&content);
        if let Some(error) = &options.error {
            let first = content.first().map_or(header.end, |line| line.offset);
            let last = content
                .get(options.option_lines.saturating_sub(1))
                .map_or(first, |line| line.end);
            let span = if options.option_lines == 0 {
                header
            } else {
                Span::new(first, last.max(first))
            };
            let directive = if cell_type == CellType::Code {
                CODE_DIRECTIVE
            } else {
                RAW_DIRECTIVE
            };
            self.problems.push(Problem::new(
                "myst-options-invalid",
                span,
                format!(
                    "the options of this {directive} cell are not a YAML mapping ({error}); write them \
                     as `:key: value` lines or as YAML between `---` lines, e.g. `:tags: [hide-input]`"
                ),
            ));
        }
        let source = options
            .body
            .iter()
            .map(|line| line.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let body = match (options.body.first(), options.body.last()) {
            (Some(first), Some(last)) => Span::new(first.offset, last.end.max(first.offset)),
            _ => {
                let at = content.get(options.option_lines).map_or_else(
                    || {
                        if closed {
                            self.line_span(end_line - 1).start
                        } else {
                            self.text.len()
                        }
                    },
                    |line| line.offset,
                );
                Span::at(at.min(self.text.len()))
            }
        };
        self.push_cell(
            cell_type,
            source,
            options.metadata,
            Some(header),
            body,
            header.start,
        );
    }

    fn push_cell(
        &mut self,
        cell_type: CellType,
        source: String,
        metadata: Map<String, Value>,
        header: Option<Span>,
        body: Span,
        start: usize,
    ) {
        let original = OriginalCell {
            format: NotebookFormat::Myst,
            text: String::new(),
            cell_type,
            source: source.clone(),
            metadata: metadata.clone(),
        };
        self.cells.push(Cell {
            cell_type,
            source,
            metadata,
            spec: tags::CellSpec::default(),
            spans: CellSpans {
                whole: Span::at(start),
                header,
                body,
            },
            original: Some(original),
        });
    }
}

/// markdown-it's `getLines` with an indent: removes up to `indent` columns of leading
/// whitespace (a tab that reaches past them leaves the rest as spaces).
fn dedent_line(content: &str, offset: usize, indent: usize) -> ContentLine {
    let end = offset + content.len();
    let mut columns = 0;
    for (index, byte) in content.bytes().enumerate() {
        if columns >= indent {
            return ContentLine {
                offset: offset + index,
                end,
                text: content[index..].to_string(),
            };
        }
        match byte {
            b' ' => columns += 1,
            b'\t' => {
                columns += 4 - columns % 4;
                if columns > indent {
                    let text = format!("{}{}", " ".repeat(columns - indent), &content[index + 1..]);
                    return ContentLine {
                        offset: offset + index + 1,
                        end,
                        text,
                    };
                }
            }
            _ => {
                return ContentLine {
                    offset: offset + index,
                    end,
                    text: content[index..].to_string(),
                };
            }
        }
    }
    ContentLine {
        offset: end,
        end,
        text: String::new(),
    }
}

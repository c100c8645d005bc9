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
    Cell, CellContent, CellSpans, CellType, Notebook, NotebookFormat, OriginalCell, Preamble,
    Problem, tags,
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
        let whole = Span::new(cell.spans.whole.start, end);
        cell.spans.whole = whole;
        if let Some(original) = cell.original.as_mut() {
            original.text = text[whole.range()].to_string();
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
            Cell::from_content(
                CellContent {
                    cell_type: CellType::Raw,
                    source,
                    metadata,
                    spec,
                    original: Some(Box::new(original)),
                    jupyter: None,
                },
                spans,
            ),
        );
    }
    Notebook {
        format: NotebookFormat::Myst,
        preamble: Preamble {
            text: text[..preamble_end].to_string(),
            metadata: metadata.clone(),
        },
        metadata,
        cells: cells.into(),
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
        self.cells.push(Cell::from_content(
            CellContent {
                cell_type,
                source,
                metadata,
                spec: tags::CellSpec::default(),
                original: Some(Box::new(original)),
                jupyter: None,
            },
            CellSpans {
                whole: Span::at(start),
                header,
                body,
            },
        ));
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::format::PlacedCell;

    fn sources(notebook: &Notebook) -> Vec<(CellType, &str)> {
        notebook
            .cells
            .iter()
            .map(PlacedCell::content)
            .map(|cell| (cell.cell_type, cell.source.as_str()))
            .collect()
    }

    fn slice(text: &str, span: Span) -> &str {
        &text[span.range()]
    }

    #[test]
    fn code_cell_spans_and_lexer() {
        let text = "# Title\n\n```{code-cell} ipython3\nx = 1\n```\n\nafter\n";
        let notebook = read_myst(text);
        assert_eq!(
            sources(&notebook),
            [
                (CellType::Markdown, "# Title"),
                (CellType::Code, "x = 1"),
                (CellType::Markdown, "after")
            ]
        );
        let code = notebook.cells.at(1);
        assert_eq!(
            code.spans.header.map(|header| slice(text, header)),
            Some("```{code-cell} ipython3")
        );
        assert_eq!(slice(text, code.spans.body), "x = 1");
        assert_eq!(
            slice(text, code.spans.whole),
            "```{code-cell} ipython3\nx = 1\n```\n\n"
        );
        assert_eq!(slice(text, notebook.cells.at(0).spans.whole), "# Title\n\n");
        let lexer = notebook
            .metadata
            .get("jupytext")
            .and_then(|jupytext| jupytext.get("default_lexer"));
        assert_eq!(lexer, Some(&json!("ipython3")));
    }

    #[test]
    fn colon_options_become_cell_metadata() {
        let text = "```{code-cell}\n:tags: [jc.step, name=x]\n\nprint(1)\n```\n";
        let notebook = read_myst(text);
        let cell = notebook.cells.at(0);
        assert_eq!(
            cell.metadata.get("tags"),
            Some(&json!(["jc.step", "name=x"]))
        );
        assert_eq!(cell.source, "print(1)");
        assert_eq!(slice(text, cell.spans.body), "print(1)");
    }

    #[test]
    fn yaml_block_options_become_cell_metadata() {
        let text = "```{code-cell}\n---\ntags: [a]\nslideshow:\n  slide_type: slide\n---\nx\n```\n";
        let notebook = read_myst(text);
        let cell = notebook.cells.at(0);
        assert_eq!(
            Value::Object(cell.metadata.clone()),
            json!({"tags": ["a"], "slideshow": {"slide_type": "slide"}})
        );
        assert_eq!(cell.source, "x");
    }

    #[test]
    fn raw_cells_and_tilde_fences() {
        let notebook = read_myst("```{raw-cell}\nraw text\n```\n\n~~~{code-cell}\ny\n~~~\n");
        assert_eq!(
            sources(&notebook),
            [(CellType::Raw, "raw text"), (CellType::Code, "y")]
        );
    }

    #[test]
    fn break_metadata_goes_to_the_next_markdown_cell() {
        let text = "a\n\n+++ {\"slideshow\": {\"slide_type\": \"slide\"}}\n\nb\n";
        let notebook = read_myst(text);
        assert_eq!(
            sources(&notebook),
            [(CellType::Markdown, "a"), (CellType::Markdown, "b")]
        );
        let second = notebook.cells.at(1);
        assert_eq!(
            second.metadata.get("slideshow"),
            Some(&json!({"slide_type": "slide"}))
        );
        assert_eq!(
            second.spans.header.map(|header| slice(text, header)),
            Some("+++ {\"slideshow\": {\"slide_type\": \"slide\"}}")
        );
        assert_eq!(slice(text, second.spans.body), "b");
    }

    #[test]
    fn a_break_with_nothing_after_it_makes_no_cell() {
        let text = "```{code-cell}\nx\n```\n+++\n```{code-cell}\ny\n```\n";
        let notebook = read_myst(text);
        assert_eq!(
            sources(&notebook),
            [(CellType::Code, "x"), (CellType::Code, "y")]
        );
        assert_eq!(
            slice(text, notebook.cells.at(0).spans.whole),
            "```{code-cell}\nx\n```\n+++\n"
        );
    }

    #[test]
    fn fences_that_are_not_cells_stay_markdown() {
        let text = "````md\n```{code-cell}\nx\n```\n````\n\n- item\n\n  ```{code-cell}\n  y\n  ```\n\n```python\nz\n```\n";
        let notebook = read_myst(text);
        assert_eq!(notebook.cells.len(), 1);
        assert_eq!(notebook.cells[0].cell_type, CellType::Markdown);
    }

    #[test]
    fn longer_fences_hold_inner_fences() {
        let text = "`````{code-cell}\n```\ninner\n```\n`````\n";
        assert_eq!(
            sources(&read_myst(text)),
            [(CellType::Code, "```\ninner\n```")]
        );
    }

    #[test]
    fn indented_fence_content_is_dedented() {
        let text = "  ```{code-cell}\n  x\n    y\n  ```\n";
        assert_eq!(sources(&read_myst(text)), [(CellType::Code, "x\n  y")]);
    }

    #[test]
    fn unclosed_fence_keeps_the_extra_line_markdown_it_reads() {
        assert_eq!(
            sources(&read_myst("```{code-cell}\nx\n")),
            [(CellType::Code, "x\n")]
        );
        assert_eq!(
            sources(&read_myst("```{code-cell}\nx")),
            [(CellType::Code, "x")]
        );
    }

    #[test]
    fn markdown_keeps_leading_space_lines_but_not_empty_ones() {
        let text = "\n\n  \nfoo  \n\n";
        let notebook = read_myst(text);
        assert_eq!(sources(&notebook), [(CellType::Markdown, "  \nfoo")]);
        assert_eq!(notebook.preamble.text, "\n\n");
    }

    #[test]
    fn front_matter_becomes_notebook_metadata() {
        let text = "---\nkernelspec:\n  name: python3\n---\n\n# Title\n";
        let notebook = read_myst(text);
        assert_eq!(
            notebook.metadata.get("kernelspec"),
            Some(&json!({"name": "python3"}))
        );
        assert_eq!(
            notebook.preamble.text,
            "---\nkernelspec:\n  name: python3\n---\n\n"
        );
        assert_eq!(sources(&notebook), [(CellType::Markdown, "# Title")]);
    }

    #[test]
    fn crlf_text_reads_without_carriage_returns() {
        let text = "a\r\nb\r\n\r\n```{code-cell}\r\n:tags: [t]\r\nx\r\ny\r\n```\r\n";
        let notebook = read_myst(text);
        assert_eq!(
            sources(&notebook),
            [(CellType::Markdown, "a\nb"), (CellType::Code, "x\ny")]
        );
        assert_eq!(slice(text, notebook.cells.at(1).spans.body), "x\r\ny");
        assert_eq!(notebook.cells[1].metadata.get("tags"), Some(&json!(["t"])));
    }

    #[test]
    fn invalid_options_are_a_problem_on_the_option_lines() {
        let text = "```{code-cell}\n:tags: [a\nx\n```\n";
        let notebook = read_myst(text);
        let problem = &notebook.problems[0];
        assert_eq!(problem.code, "myst-options-invalid");
        assert_eq!(slice(text, problem.span), ":tags: [a");
        assert!(problem.message.contains(":key: value"));
        assert_eq!(notebook.cells[0].source, "x");
    }

    #[test]
    fn invalid_yaml_block_is_a_problem() {
        let text = "```{code-cell}\n---\na: [\n---\nx\n```\n";
        let notebook = read_myst(text);
        assert_eq!(notebook.problems[0].code, "myst-options-invalid");
        assert_eq!(slice(text, notebook.problems[0].span), "---\na: [\n---");
    }

    #[test]
    fn invalid_front_matter_is_a_problem_on_its_yaml() {
        let text = "---\na: [\n---\ntext\n";
        let notebook = read_myst(text);
        assert_eq!(notebook.problems[0].code, "front-matter-invalid");
        assert_eq!(slice(text, notebook.problems[0].span), "a: [");
        assert_eq!(sources(&notebook), [(CellType::Markdown, "text")]);
    }

    #[test]
    fn invalid_break_metadata_is_a_problem_on_the_break_line() {
        let text = "a\n+++ {bad}\nb\n";
        let notebook = read_myst(text);
        assert_eq!(notebook.problems[0].code, "metadata-invalid");
        assert_eq!(slice(text, notebook.problems[0].span), "+++ {bad}");
        assert!(notebook.cells[1].metadata.is_empty());
    }

    #[test]
    fn root_level_filter_makes_a_raw_cell_without_text() {
        let text = "---\ntitle: T\njupytext:\n  root_level_metadata_filter: -title\n---\n\nx\n";
        let notebook = read_myst(text);
        assert_eq!(
            sources(&notebook),
            [
                (CellType::Raw, "---\ntitle: T\n---"),
                (CellType::Markdown, "x")
            ]
        );
        assert!(notebook.cells.at(0).spans.whole.is_empty());
        assert_eq!(notebook.metadata.get("title"), None);
    }

    #[test]
    fn every_cell_keeps_its_original_text() {
        let text = "a\n\n```{code-cell}\nx\n```\n";
        let notebook = read_myst(text);
        let originals: String = notebook
            .cells
            .iter()
            .map(PlacedCell::content)
            .filter_map(|cell| cell.original.as_ref())
            .map(|original| original.text.as_str())
            .collect();
        assert_eq!(originals, text);
    }
}

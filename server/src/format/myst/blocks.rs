//! The block structure jupytext's MyST reader acts on: top-level fenced code blocks and
//! top-level `+++` block breaks, found with tree-sitter-md's block grammar.
//!
//! jupytext parses with markdown-it plus the MyST block plugin, where `+++` is a block of
//! its own that interrupts paragraphs, lists and block quotes. tree-sitter-md knows nothing
//! of `+++`, so it sees such a line as paragraph text (or a lazy continuation line inside a
//! list or quote). We walk the top-level nodes in order; at the first `+++` line that
//! markdown-it would read as a top-level break we record it and parse again from the next
//! line, as markdown-it starts a fresh block there. The plugin's `% comment` lines and
//! `(target)=` lines also interrupt paragraphs, lists and quotes (so that, say, an HTML block
//! may start right after them and hide a fence): we parse again after those too. Fences
//! nested in lists or quotes, inside HTML blocks or indented code stay markdown, as in
//! jupytext.

use tree_sitter::{Node, Parser};

use super::lines::{Line, is_python_space};

/// A top-level block that delimits notebook cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Block {
    /// A fenced code block: lines `start_line..end_line`, the closing fence (if any) on
    /// `end_line - 1`.
    Fence {
        start_line: usize,
        end_line: usize,
        closed: bool,
        /// markdown-it's `token.info`: the opening line after the fence characters, not
        /// trimmed.
        info: String,
        /// Columns of indentation of the opening fence, removed from the content lines.
        indent: usize,
    },
    /// A `+++` line, with the text after the pluses (trimmed).
    Break { line: usize, content: String },
}

/// The top-level fences and breaks of `text` from line `first_line` on, in order.
///
/// Parsing starts afresh after every `+++`, comment or target line that interrupts a node;
/// to keep that linear, each parse covers a window that ends at a candidate line (one that
/// may be such a block). When the window ends in the open (after a paragraph, a closed
/// fence, ...) the candidate is a block of its own; when it may be inside something (an
/// unclosed fence, an HTML block, a list item) the window grows to twice as many candidates.
pub(crate) fn scan_blocks(text: &str, lines: &[Line], first_line: usize) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut parser = Parser::new();
    if parser
        .set_language(&tree_sitter_md::LANGUAGE.into())
        .is_err()
    {
        return blocks;
    }
    let candidates: Vec<usize> = (first_line..lines.len())
        .filter(|&index| is_candidate(lines[index].content(text)))
        .collect();
    let mut from_line = first_line;
    let mut window_candidates = 1;
    while from_line < lines.len() {
        let next = candidates.partition_point(|&line| line <= from_line);
        let window_end = candidates
            .get(next + window_candidates - 1)
            .copied()
            .unwrap_or(lines.len());
        let base = lines[from_line].start;
        let end = lines.get(window_end).map_or(text.len(), |line| line.start);
        // A leading blank line keeps tree-sitter-md from reading `---`/`+++` at the start
        // as YAML/TOML metadata: the front matter was handled already.
        let mut source = String::with_capacity(end - base + 1);
        source.push('\n');
        source.push_str(&text[base..end]);
        let Some(tree) = parser.parse(&source, None) else {
            return blocks;
        };
        let kept = blocks.len();
        let mut walker = Walker {
            text,
            lines,
            base,
            blocks: &mut blocks,
            restart_line: None,
            last: LastNode::None,
        };
        walker.visit_children(tree.root_node());
        let (restart, last) = (walker.restart_line, walker.last);
        if let Some(line) = restart.filter(|&line| line > from_line) {
            from_line = line;
            window_candidates = 1;
            continue;
        }
        if window_end >= lines.len() {
            break;
        }
        let candidate_indent = indentation(lines[window_end].content(text)).0;
        let in_the_open = match last {
            LastNode::OpenFence | LastNode::Html => false,
            LastNode::List { content_indent } => candidate_indent < content_indent,
            LastNode::None | LastNode::Other => true,
        };
        if !in_the_open {
            blocks.truncate(kept);
            window_candidates *= 2;
            continue;
        }
        let Some((block, after)) = boundary_at(text, lines, window_end) else {
            break;
        };
        blocks.extend(block);
        from_line = after;
        window_candidates = 1;
    }
    blocks
}

/// The MyST block a line starts wherever markdown-it tries block rules on it (`+++`, a run
/// of `%` comment lines, a `(target)=` line): the break to record, if any, and the line
/// after the block.
fn boundary_at(text: &str, lines: &[Line], index: usize) -> Option<(Option<Block>, usize)> {
    let content = lines.get(index)?.content(text);
    let (indent, start) = indentation(content);
    if indent >= 4 {
        return None;
    }
    let rest = &content[start..];
    if let Some((_, after)) = block_break(content) {
        return Some((
            Some(Block::Break {
                line: index,
                content: after,
            }),
            index + 1,
        ));
    }
    if rest.starts_with('%') {
        let comment_end = (index + 1..lines.len()).find(|&next| {
            let next = lines[next].content(text);
            !next[indentation(next).1..].starts_with('%')
        });
        return Some((None, comment_end.unwrap_or(lines.len())));
    }
    is_target(rest).then_some((None, index + 1))
}

/// Whether a line may start a `+++`, comment or target block (cheap: no look-ahead).
fn is_candidate(content: &str) -> bool {
    let (indent, start) = indentation(content);
    let rest = &content[start..];
    indent < 4 && (rest.starts_with('%') || is_target(rest) || block_break(content).is_some())
}

/// The last top-level node of a parse, as far as whether it may go on past the window.
#[derive(Debug, Clone, Copy)]
enum LastNode {
    None,
    OpenFence,
    Html,
    List { content_indent: usize },
    Other,
}

struct Walker<'a> {
    text: &'a str,
    lines: &'a [Line],
    base: usize,
    blocks: &'a mut Vec<Block>,
    /// Where markdown-it starts a fresh block after a `+++`, comment or target line.
    restart_line: Option<usize>,
    last: LastNode,
}

impl Walker<'_> {
    /// The text offset of a byte in the parsed source (which has one extra leading byte).
    fn offset(&self, byte: usize) -> usize {
        (self.base + byte).saturating_sub(1).max(self.base)
    }

    fn line_of(&self, offset: usize) -> usize {
        self.lines
            .partition_point(|line| line.start <= offset)
            .saturating_sub(1)
    }

    /// The lines a node covers (its end byte is exclusive and often the next line's start).
    fn node_lines(&self, node: Node) -> (usize, usize) {
        let first = self.line_of(self.offset(node.start_byte()));
        let end_byte = node.end_byte().max(node.start_byte() + 1);
        let last = self.line_of(self.offset(end_byte - 1)).max(first);
        (first, last)
    }

    fn visit_children(&mut self, node: Node) {
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            if self.restart_line.is_some() {
                return;
            }
            self.visit_top_level(child);
        }
    }

    fn visit_top_level(&mut self, node: Node) {
        self.last = match node.kind() {
            "section" => self.last,
            "html_block" => LastNode::Html,
            "list" => {
                let mut cursor = node.walk();
                let last_item = node.children(&mut cursor).last();
                let first = last_item.map_or(0, |item| self.node_lines(item).0);
                LastNode::List {
                    content_indent: self.list_content_indent(first),
                }
            }
            _ => LastNode::Other,
        };
        match node.kind() {
            "section" => self.visit_children(node),
            "fenced_code_block" => self.record_fence(node),
            "indented_code_block" | "html_block" | "thematic_break" | "atx_heading" => {}
            "block_quote" => {
                let (first, last) = self.node_lines(node);
                self.find_break(first, last, |_| true);
            }
            "list" => {
                let mut cursor = node.walk();
                for item in node.children(&mut cursor) {
                    if self.restart_line.is_some() {
                        return;
                    }
                    let (first, last) = self.node_lines(item);
                    let content_indent = self.list_content_indent(first);
                    // The item's own line can only match if it is `+ + +`, which markdown-it
                    // reads as a break before trying a list; later lines only break out of
                    // the list when they are indented less than the item's content.
                    self.find_break(first, last, |indent| indent < content_indent);
                }
            }
            _ => {
                let (first, last) = self.node_lines(node);
                self.find_break(first, last, |_| true);
            }
        }
    }

    /// Finds the lines in `first..=last` (one top-level node) where markdown-it ends the
    /// node with a MyST block of its own (`top_level` says whether a line indented so far
    /// is outside the node). A break is recorded; when such a block ends inside the node,
    /// what follows must be parsed afresh. When it ends the node, tree-sitter already read
    /// what follows afresh, so the walk goes on without a new parse.
    fn find_break(&mut self, first: usize, last: usize, top_level: impl Fn(usize) -> bool) {
        let mut index = first;
        while index <= last {
            let Some(line) = self.lines.get(index) else {
                return;
            };
            let indent = indentation(line.content(self.text)).0;
            let boundary = if top_level(indent) {
                boundary_at(self.text, self.lines, index)
            } else {
                None
            };
            match boundary {
                Some((block, end)) => {
                    self.blocks.extend(block);
                    if end != last + 1 {
                        self.restart_line = Some(end);
                        return;
                    }
                    index = end;
                }
                None => index += 1,
            }
        }
    }

    fn list_content_indent(&self, line: usize) -> usize {
        let content = self
            .lines
            .get(line)
            .map_or("", |line| line.content(self.text));
        let (indent, rest_start) = indentation(content);
        let rest = &content[rest_start..];
        let marker_len = if rest.starts_with(['-', '+', '*']) {
            1
        } else {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            digits + 1
        };
        let after = rest.get(marker_len..).unwrap_or("");
        let spaces = after.bytes().take_while(|&byte| byte == b' ').count();
        let spaces = if spaces == 0 || spaces > 4 || spaces == after.len() {
            1
        } else {
            spaces
        };
        indent + marker_len + spaces
    }

    fn record_fence(&mut self, node: Node) {
        let (start_line, last_line) = self.node_lines(node);
        let mut delimiters = Vec::new();
        let mut cursor = node.walk();
        for child in node.children(&mut cursor) {
            if child.kind() == "fenced_code_block_delimiter" {
                delimiters.push(child);
            }
        }
        let Some(opening) = delimiters.first() else {
            return;
        };
        let Some(line) = self.lines.get(start_line) else {
            return;
        };
        let params_start = self
            .offset(opening.end_byte())
            .clamp(line.start, line.content_end);
        let info = self
            .text
            .get(params_start..line.content_end)
            .unwrap_or("")
            .to_string();
        let (indent, _) = indentation(line.content(self.text));
        if delimiters.len() < 2 {
            self.last = LastNode::OpenFence;
        }
        let (end_line, closed) = match delimiters.get(1) {
            Some(closing) => (self.line_of(self.offset(closing.start_byte())) + 1, true),
            None => (self.lines.len().max(last_line + 1), false),
        };
        self.blocks.push(Block::Fence {
            start_line,
            end_line,
            closed,
            info,
            indent,
        });
    }
}

/// A MyST target line: `(label)=`.
fn is_target(rest: &str) -> bool {
    let text = rest.trim_matches(is_python_space);
    text.len() > 3 && text.starts_with('(') && text.ends_with(")=")
}

/// Columns of leading spaces and tabs (tabs to the next multiple of 4) and the byte where
/// the rest of the line starts.
pub(crate) fn indentation(content: &str) -> (usize, usize) {
    let mut columns = 0;
    for (index, byte) in content.bytes().enumerate() {
        match byte {
            b' ' => columns += 1,
            b'\t' => columns += 4 - columns % 4,
            _ => return (columns, index),
        }
    }
    (columns, content.len())
}

/// The MyST block-break rule: up to three columns of indentation, then at least three `+`
/// (spaces and tabs may be mixed in). Returns the indentation and the trimmed rest.
pub(crate) fn block_break(content: &str) -> Option<(usize, String)> {
    let (indent, start) = indentation(content);
    if indent >= 4 || !content[start..].starts_with('+') {
        return None;
    }
    let mut count = 0;
    let mut rest = content.len();
    for (index, byte) in content[start..].bytes().enumerate() {
        match byte {
            b'+' => count += 1,
            b' ' | b'\t' => {}
            _ => {
                rest = start + index;
                break;
            }
        }
    }
    (count >= 3).then(|| {
        (
            indent,
            content[rest..].trim_matches(is_python_space).to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::super::lines::split_lines;
    use super::*;

    fn scan(text: &str) -> Vec<Block> {
        scan_blocks(text, &split_lines(text), 0)
    }

    fn fence_lines(blocks: &[Block]) -> Vec<(usize, usize)> {
        blocks
            .iter()
            .filter_map(|block| match block {
                Block::Fence {
                    start_line,
                    end_line,
                    ..
                } => Some((*start_line, *end_line)),
                Block::Break { .. } => None,
            })
            .collect()
    }

    fn break_lines(blocks: &[Block]) -> Vec<usize> {
        blocks
            .iter()
            .filter_map(|block| match block {
                Block::Break { line, .. } => Some(*line),
                Block::Fence { .. } => None,
            })
            .collect()
    }

    #[test]
    fn finds_top_level_fence_with_raw_info() {
        let blocks = scan("text\n\n```{code-cell} ipython3\nx = 1\n```\nafter\n");
        assert_eq!(
            blocks,
            [Block::Fence {
                start_line: 2,
                end_line: 5,
                closed: true,
                info: "{code-cell} ipython3".into(),
                indent: 0
            }]
        );
    }

    #[test]
    fn unclosed_fence_runs_to_the_end() {
        assert_eq!(fence_lines(&scan("```{code-cell}\nx\ny\n")), [(0, 3)]);
    }

    #[test]
    fn fences_in_lists_and_quotes_are_not_top_level() {
        assert!(fence_lines(&scan("- item\n\n  ```{code-cell}\n  x\n  ```\n")).is_empty());
        assert!(fence_lines(&scan("> ```{code-cell}\n> x\n> ```\n")).is_empty());
    }

    #[test]
    fn longer_outer_fence_hides_inner_fence() {
        let blocks = scan("````\n```{code-cell}\nx\n```\n````\n");
        assert_eq!(fence_lines(&blocks), [(0, 5)]);
    }

    #[test]
    fn tilde_fences_count() {
        assert_eq!(fence_lines(&scan("~~~{code-cell}\nx\n~~~\n")), [(0, 3)]);
    }

    #[test]
    fn break_interrupts_a_paragraph() {
        assert_eq!(break_lines(&scan("para\n+++\nmore\n")), [1]);
    }

    #[test]
    fn break_with_spaces_between_pluses_beats_a_list() {
        assert_eq!(break_lines(&scan("+ + +\n")), [0]);
    }

    #[test]
    fn lazy_break_ends_a_list_and_a_quote() {
        assert_eq!(break_lines(&scan("- item\n+++\n")), [1]);
        assert_eq!(break_lines(&scan("> quote\n+++\n")), [1]);
        assert!(break_lines(&scan("- item\n\n  +++\n")).is_empty());
    }

    #[test]
    fn break_ends_a_table() {
        assert_eq!(break_lines(&scan("| a | b |\n|---|---|\n+++\n")), [2]);
    }

    #[test]
    fn break_inside_fence_or_indented_code_is_content() {
        assert!(break_lines(&scan("```\n+++\n```\n")).is_empty());
        assert!(break_lines(&scan("    +++\n")).is_empty());
    }

    #[test]
    fn after_a_break_parsing_starts_afresh() {
        let blocks = scan("+++\n```{code-cell}\nx\n```\n+++ {\"a\": 1}\ntext\n");
        assert_eq!(break_lines(&blocks), [0, 4]);
        assert_eq!(fence_lines(&blocks), [(1, 4)]);
        assert!(blocks.contains(&Block::Break {
            line: 4,
            content: "{\"a\": 1}".into()
        }));
    }

    #[test]
    fn comment_and_target_lines_end_a_paragraph_so_html_hides_what_follows() {
        // After `(t)=` a `<span>` line starts an HTML block, which runs to a blank line.
        assert!(break_lines(&scan("(t)=\n<span>\n+++\n")).is_empty());
        assert!(fence_lines(&scan("% c\n<span>\n```{code-cell}\nx\n```\n")).is_empty());
        // In a paragraph, `<span>` cannot start an HTML block.
        assert_eq!(break_lines(&scan("text\n<span>\n+++\n")), [2]);
    }

    #[test]
    fn candidates_inside_a_long_fence_are_content() {
        let text = format!(
            "```{{code-cell}}\n{}```\n+++\n",
            "+++\n% c\n(t)=\n".repeat(20)
        );
        let blocks = scan(&text);
        assert_eq!(fence_lines(&blocks), [(0, 62)]);
        assert_eq!(break_lines(&blocks), [62]);
    }

    #[test]
    fn candidates_nested_in_a_list_item_are_content() {
        let blocks = scan(
            "- item

  +++

  % c

  ```{code-cell}
  x
  ```

+++
",
        );
        assert!(fence_lines(&blocks).is_empty());
        assert_eq!(break_lines(&blocks), [10]);
    }

    #[test]
    fn many_interrupting_comments_stay_linear() {
        let text = "% c\ntext\n+++\nmore\n".repeat(2000);
        let start = std::time::Instant::now();
        assert_eq!(break_lines(&scan(&text)).len(), 2000);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn block_break_pattern() {
        assert_eq!(block_break("+++"), Some((0, String::new())));
        assert_eq!(block_break("   +++ x "), Some((3, "x".into())));
        assert_eq!(block_break("++"), None);
        assert_eq!(block_break("    +++"), None);
        assert_eq!(block_break("+++{}"), Some((0, "{}".into())));
    }
}

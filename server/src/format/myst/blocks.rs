//! The block structure jupytext's MyST reader acts on: top-level fenced code blocks and
//! top-level `+++` block breaks, found by `scanner` (a port of the markdown-it block parse
//! jupytext runs, MyST block plugin included), plus the MyST line patterns it shares.
//!
//! Fences nested in lists or quotes, inside HTML blocks or indented code stay markdown, as
//! in jupytext; `+++`, `% comment` and `(target)=` lines interrupt paragraphs, lists and
//! quotes as markdown-it's MyST plugin makes them.

use super::lines::{Line, is_python_space};
use super::scanner;

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
pub(crate) fn scan_blocks(text: &str, lines: &[Line], first_line: usize) -> Vec<Block> {
    scanner::scan(text, lines, first_line)
}

/// A MyST target line: `(label)=`.
pub(crate) fn is_target(rest: &str) -> bool {
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

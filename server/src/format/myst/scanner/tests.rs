//! The scanner on the cases where the block structure decides what is top level, each
//! checked with jupytext 1.19.6 (markdown-it-py 4.3, mdit-py-plugins 0.7) in the test venv.

use super::super::blocks::Block;
use super::super::lines::split_lines;
use super::scan;

/// The top-level fences as `(first line, end line, info)` and the breaks' lines.
fn structure(text: &str) -> (Vec<(usize, usize, String)>, Vec<usize>) {
    let mut fences = Vec::new();
    let mut breaks = Vec::new();
    for block in scan(text, &split_lines(text), 0) {
        match block {
            Block::Fence {
                start_line,
                end_line,
                info,
                ..
            } => fences.push((start_line, end_line, info)),
            Block::Break { line, .. } => breaks.push(line),
        }
    }
    (fences, breaks)
}

fn fence_lines(text: &str) -> Vec<(usize, usize)> {
    structure(text)
        .0
        .into_iter()
        .map(|(start, end, _)| (start, end))
        .collect()
}

const CELL: &str = "```{code-cell}\nx\n```\n";

#[test]
fn a_lazy_line_after_a_quoted_fence_is_read_afresh() {
    // The quote holds `<span>` as a lazy line, but its fence ends before it, so
    // markdown-it reads `<span>` again at the top level: an HTML block that hides the cell.
    assert!(fence_lines(&format!("> ```\n> x\n<span>\n{CELL}")).is_empty());
    assert_eq!(fence_lines(&format!("> x\n<span>\n{CELL}")), [(2, 5)]);
}

#[test]
fn after_a_reference_definition_a_lone_tag_starts_an_html_block() {
    assert!(fence_lines(&format!("[a]: /url\n<span>\n{CELL}")).is_empty());
    assert!(fence_lines(&format!("[a]:\n/url\n\"title\"\n<span>\n{CELL}")).is_empty());
    // In a paragraph `<span>` is text, and the fence ends the paragraph.
    assert_eq!(fence_lines(&format!("text\n<span>\n{CELL}")), [(2, 5)]);
    // An unsafe destination makes no definition: a paragraph.
    assert_eq!(
        fence_lines(&format!("[a]: javascript:x\n<span>\n{CELL}")),
        [(2, 5)]
    );
    // Not at the start of a block, `[x]: /u` is paragraph text.
    assert_eq!(
        fence_lines(&format!("a\n    b\n[x]: /u\n<span>\n{CELL}")),
        [(4, 7)]
    );
}

#[test]
fn a_lone_tag_after_an_indented_paragraph_line_is_paragraph_text() {
    // tree-sitter-md starts an HTML block at `<span>` here; markdown-it does not.
    assert_eq!(
        fence_lines(&format!("a\n    > quote\n<span>\n{CELL}")),
        [(3, 6)]
    );
    assert_eq!(
        fence_lines(&format!("| a | b |\n    ```\n<span>\n{CELL}")),
        [(3, 6)]
    );
}

#[test]
fn two_blank_lines_after_an_html_block_in_a_list_item_do_not_hold_the_list_open() {
    // The next line is not indented as the item's content: the list ends (tree-sitter-md
    // keeps it open).
    assert_eq!(
        fence_lines(&format!("- item\n  <div>\n\n\n{CELL}")),
        [(4, 7)]
    );
}

#[test]
fn after_a_setext_heading_a_lone_tag_starts_an_html_block() {
    assert!(fence_lines(&format!("Title\n===\n<span>\n{CELL}")).is_empty());
}

#[test]
fn html_blocks_hide_fences_until_their_end() {
    assert!(fence_lines(&format!("<div>\n{CELL}")).is_empty());
    assert_eq!(fence_lines(&format!("<div>\n\n{CELL}")), [(2, 5)]);
    assert!(fence_lines(&format!("<!--\n{CELL}-->\n")).is_empty());
    assert_eq!(fence_lines(&format!("<!-- c -->\n{CELL}")), [(1, 4)]);
    assert!(fence_lines(&format!("<script>\n\n{CELL}</script>\n")).is_empty());
}

#[test]
fn indented_code_and_tabs_hide_fences() {
    assert!(fence_lines("    ```{code-cell}\n    x\n    ```\n").is_empty());
    // The tab makes indented code; `x` is a paragraph and the bare fence runs to the end.
    assert_eq!(
        structure("\t```{code-cell}\nx\n```\n").0,
        [(2, 3, String::new())]
    );
}

#[test]
fn list_items_end_at_an_outdented_fence() {
    assert!(fence_lines(&format!("- item\n\n  {}", "```{code-cell}\n  x\n  ```\n")).is_empty());
    assert_eq!(fence_lines(&format!("- item\n{CELL}")), [(1, 4)]);
    assert_eq!(fence_lines(&format!("- item\nlazy\n{CELL}")), [(2, 5)]);
    // The item's fence is ended by the outdented line, which then opens a fence of its own.
    assert_eq!(
        fence_lines("- ```\n  x\n```{code-cell}\ny\n```\n"),
        [(2, 5)]
    );
}

#[test]
fn lists_nested_past_the_nesting_limit_swallow_the_rest() {
    // Ten nested lists reach markdown-it's maxNesting of 20: the rest of the text is skipped.
    assert!(fence_lines(&format!("{}a\n\n{CELL}", "- ".repeat(10))).is_empty());
    assert_eq!(
        fence_lines(&format!("{}a\n\n{CELL}", "- ".repeat(9))),
        [(2, 5)]
    );
}

#[test]
fn fence_opening_and_closing_rules() {
    // A closing fence needs as many markers and nothing but spaces after them.
    assert_eq!(fence_lines("```{code-cell}\n``` x\n````\n"), [(0, 3)]);
    assert_eq!(fence_lines("````{code-cell}\n```\n````\n"), [(0, 3)]);
    assert_eq!(fence_lines("~~~{code-cell}\n```\n~~~  \n"), [(0, 3)]);
    // A backtick fence's info string cannot hold a backtick; a tilde fence's can.
    assert_eq!(fence_lines(&format!("``` a`b\n{CELL}")), [(1, 4)]);
    assert_eq!(
        structure("~~~{code-cell} `x`\ny\n~~~\n").0,
        [(0, 3, "{code-cell} `x`".to_string())]
    );
    // Up to three spaces of indentation.
    assert_eq!(fence_lines("   ```{code-cell}\nx\n   ```\n"), [(0, 3)]);
}

#[test]
fn tables_end_at_a_fence_or_a_break() {
    assert_eq!(fence_lines(&format!("| a |\n|---|\n| b\n{CELL}")), [(3, 6)]);
    assert_eq!(structure("| a | b |\n|---|---|\n+++\n").1, [2]);
}

#[test]
fn comment_lines_go_on_at_any_indentation() {
    assert_eq!(structure("% a\n    % b\n+++\n").1, [2]);
}

#[test]
fn a_break_after_a_quote_line_ends_the_quote() {
    assert_eq!(structure("> a\n+++\n").1, [1]);
}

#[test]
fn pathological_texts_take_linear_work() {
    // Each would make a parser that restarts (or looks ahead to the end) quadratic.
    let texts = [
        "% c\ntext\n+++\nmore\n".repeat(3000),
        "- a\n".repeat(5000) + &"  - b\n".repeat(5000),
        "> a\n".repeat(10000),
        "[a]: /u\n".repeat(10000),
        "<div>\n".repeat(10000),
        "| a | b |\n|---|---|\n".to_string() + &"| c | d |\n".repeat(10000),
        "````\n".to_string() + &"```{code-cell}\nx\n```\n".repeat(5000),
    ];
    for text in texts {
        let lines = split_lines(&text).len();
        let mut scanner = super::Scanner::new(&text, &split_lines(&text));
        let end = scanner.line_max;
        scanner.tokenize(0, end);
        assert!(
            scanner.steps.get() <= 40 * lines,
            "{} steps for {lines} lines of {:?}…",
            scanner.steps.get(),
            &text[..20]
        );
    }
}

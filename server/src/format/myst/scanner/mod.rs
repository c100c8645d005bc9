//! A hand-written port of the block tokenizer jupytext's MyST reader runs (markdown-it-py's
//! CommonMark preset with tables, front matter and the MyST block plugin), reduced to what
//! decides the cells: the top-level fences and `+++` breaks.
//!
//! Every block rule is here with markdown-it's line arithmetic (`bMarks`, `tShift`,
//! `sCount`, `bsCount`, `blkIndent`, lazy lines as `sCount = -1`, the terminator chains, the
//! nesting limit), so containers end where markdown-it ends them: a fence in a list item,
//! a block quote, an HTML block or indented code stays markdown, and a lazy line after a
//! quote is read afresh as markdown-it reads it. Only token output is left out: a rule
//! records a [`Block`] when it is at nesting level 0 and otherwise just moves the line.
//! Each line is visited a bounded number of times per container depth (at most 20 deep,
//! markdown-it's `maxNesting`), so scanning is linear in the text.

mod containers;
mod html;
mod leaf;
mod reference;
mod table;

use std::cell::Cell;

use super::blocks::Block;
use super::lines::Line;

/// markdown-it's `maxNesting` in the CommonMark preset.
const MAX_NESTING: usize = 20;

/// markdown-it's `state.parentType`, as far as rules read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parent {
    Root,
    Paragraph,
    Reference,
    Blockquote,
    List,
    Table,
}

/// The rule chains whose members may end a block early (markdown-it's `alt` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chain {
    /// `paragraph` and `reference` (the same rules end both).
    Paragraph,
    Blockquote,
    List,
}

/// The top-level fences and `+++` breaks of `text` (split into `lines`) from line
/// `first_line` on, in order, as markdown-it's block parse of `text + "\n"` gives them.
pub(crate) fn scan(text: &str, lines: &[Line], first_line: usize) -> Vec<Block> {
    let mut scanner = Scanner::new(text, lines);
    let end = scanner.line_max;
    scanner.tokenize(first_line.min(end), end);
    scanner.blocks
}

/// markdown-it's `StateBlock`: per-line marks (one extra line when the text ends with a
/// line break, as `text + "\n"` has, and a fake last entry) and the parser variables.
struct Scanner<'a> {
    text: &'a str,
    src: &'a [u8],
    /// Lines of the text (the virtual empty last line is not among them).
    text_lines: usize,
    b_marks: Vec<usize>,
    e_marks: Vec<usize>,
    t_shift: Vec<usize>,
    s_count: Vec<i64>,
    bs_count: Vec<i64>,
    blk_indent: i64,
    list_indent: i64,
    line: usize,
    line_max: usize,
    parent: Parent,
    level: usize,
    blocks: Vec<Block>,
    /// Block starts and terminator checks made (the tests bound it per line).
    steps: Cell<usize>,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str, lines: &[Line]) -> Self {
        let src = text.as_bytes();
        let ends_with_break = text.ends_with(['\n', '\r']);
        let count = lines.len() + usize::from(ends_with_break) + 1;
        let mut scanner = Scanner {
            text,
            src,
            text_lines: lines.len(),
            b_marks: Vec::with_capacity(count),
            e_marks: Vec::with_capacity(count),
            t_shift: Vec::with_capacity(count),
            s_count: Vec::with_capacity(count),
            bs_count: Vec::with_capacity(count),
            blk_indent: 0,
            list_indent: -1,
            line: 0,
            line_max: 0,
            parent: Parent::Root,
            level: 0,
            blocks: Vec::new(),
            steps: Cell::new(0),
        };
        for line in lines {
            scanner.push_line(line.start, line.content_end);
        }
        if ends_with_break {
            scanner.push_line(text.len(), text.len());
        }
        scanner.line_max = scanner.b_marks.len();
        scanner.push_line(text.len(), text.len());
        scanner
    }

    fn push_line(&mut self, start: usize, end: usize) {
        let mut shift = 0;
        let mut columns: i64 = 0;
        for &byte in &self.src[start..end] {
            match byte {
                b' ' => columns += 1,
                b'\t' => columns += 4 - columns % 4,
                _ => break,
            }
            shift += 1;
        }
        self.b_marks.push(start);
        self.e_marks.push(end);
        self.t_shift.push(shift);
        self.s_count.push(columns);
        self.bs_count.push(0);
    }

    /// The byte at `pos`, or a line feed past the end (the `"\n"` jupytext appends).
    fn byte(&self, pos: usize) -> u8 {
        self.src.get(pos).copied().unwrap_or(b'\n')
    }

    /// Where a line's content starts (after its indentation).
    fn content_start(&self, line: usize) -> usize {
        self.b_marks[line] + self.t_shift[line]
    }

    /// The text of a line after its indentation.
    fn line_text(&self, line: usize) -> &'a str {
        let start = self.content_start(line).min(self.e_marks[line]);
        self.text.get(start..self.e_marks[line]).unwrap_or("")
    }

    fn is_empty(&self, line: usize) -> bool {
        self.content_start(line) >= self.e_marks[line]
    }

    fn is_code_block(&self, line: usize) -> bool {
        self.s_count[line] - self.blk_indent >= 4
    }

    fn skip_empty_lines(&self, mut from: usize) -> usize {
        while from < self.line_max && self.is_empty(from) {
            from += 1;
        }
        from
    }

    fn skip_spaces(&self, mut pos: usize) -> usize {
        while matches!(self.src.get(pos), Some(b' ' | b'\t')) {
            pos += 1;
        }
        pos
    }

    fn skip_byte(&self, mut pos: usize, byte: u8) -> usize {
        while self.src.get(pos) == Some(&byte) {
            pos += 1;
        }
        pos
    }

    /// markdown-it's `ParserBlock.tokenize`.
    fn tokenize(&mut self, start: usize, end: usize) {
        let mut line = start;
        while line < end {
            line = self.skip_empty_lines(line);
            self.line = line;
            if line >= end || self.s_count[line] < self.blk_indent {
                break;
            }
            if self.level >= MAX_NESTING {
                self.line = end;
                break;
            }
            self.steps.set(self.steps.get() + 1);
            self.run_rules(line, end);
            // Every rule moves past its first line; the guard keeps a slip from looping.
            line = self.line.max(line + 1);
            self.line = line;
            if line < end && self.is_empty(line) {
                line += 1;
                self.line = line;
            }
        }
    }

    /// The block rules in markdown-it's order; the paragraph takes what no other rule does.
    fn run_rules(&mut self, line: usize, end: usize) {
        let matched = self.front_matter(line, end)
            || self.table(line, end)
            || self.code(line, end)
            || self.fence(line, end)
            || self.line_comment(line, end)
            || self.blockquote(line, end)
            || self.block_break(line)
            || self.target(line)
            || self.hr(line)
            || self.list(line, end)
            || self.reference(line)
            || self.html_block(line, end)
            || self.heading(line)
            || self.lheading(line, end);
        if !matched {
            self.paragraph(line);
        }
    }

    /// Whether a rule of `chain` starts a block at `line` (markdown-it's terminator check;
    /// the front-matter rule never matches past line 0, so it is left out).
    fn terminates(&self, chain: Chain, line: usize, end: usize) -> bool {
        self.steps.set(self.steps.get() + 1);
        if !may_start_a_block(self.byte(self.content_start(line))) {
            // Most paragraph lines: only a table (whose header may be any text) can start.
            return chain == Chain::Paragraph && self.is_table(line, end);
        }
        let common = self.is_fence(line)
            || self.is_line_comment(line)
            || self.is_blockquote(line)
            || self.is_block_break(line)
            || self.is_target(line)
            || self.is_hr(line);
        match chain {
            Chain::List => common,
            Chain::Blockquote => {
                common || self.is_list(line) || self.html_interrupts(line) || self.is_heading(line)
            }
            Chain::Paragraph => {
                common
                    || self.is_table(line, end)
                    || self.is_list(line)
                    || self.html_interrupts(line)
                    || self.is_heading(line)
            }
        }
    }

    fn record(&mut self, block: Block) {
        if self.level == 0 {
            self.blocks.push(block);
        }
    }
}

/// Whether a line whose content starts with `byte` may start a block other than a table:
/// the markers of fences, `%`, `>`, `+++`, thematic breaks, lists, HTML and headings, `(`
/// of a target, and what may be whitespace to Python's `strip` before a target's `(`.
fn may_start_a_block(byte: u8) -> bool {
    !byte.is_ascii_graphic() || b"`~%>+(*-_<#0123456789".contains(&byte)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tree_sitter_oracle;

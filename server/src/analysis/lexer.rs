//! Just enough of Python's tokenizer to know where logical lines start, where strings
//! and brackets open and close, which of them never do, and where indentation is wrong
//! (tree-sitter-python accepts `x = 1` followed by an over-indented line).
//!
//! Fed one physical line at a time, so that the magic masker can look at a line before
//! the lexer consumes it (a shell command such as `!echo "it's` must never reach it).
//! Understands string prefixes, triple quotes, backslash continuations, comments and
//! PEP 701 f-strings (replacement fields, nested quotes, format specs). It does not
//! produce tokens: tree-sitter does the real parse; this only reports what tree-sitter
//! reports badly (unclosed brackets and strings) or not at all (indentation).

use crate::text::Span;

/// A lexical problem: an unclosed bracket or string (the kind of root cause that makes
/// tree-sitter swallow the rest of a cell into one ERROR node), or bad indentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LexicalError {
    /// Tight range: the offending bracket or the opening of the string.
    pub span: Span,
    pub message: String,
    /// The text this error throws the parser off for; tree-sitter errors inside it are
    /// consequences, not separate mistakes.
    pub affects: Span,
    /// Indentation errors are often the consequence of a mistake tree-sitter sees
    /// better (`if x` without `:` makes the next line look over-indented).
    pub indentation: bool,
}

#[derive(Debug, Clone, Copy)]
enum Frame {
    Bracket {
        open: u8,
        at: usize,
    },
    String {
        quote: u8,
        triple: bool,
        formatted: bool,
        /// Where the string starts, prefix included.
        at: usize,
        /// Length of prefix and opening quotes.
        open_len: usize,
    },
    /// Inside `{...}` of an f-string: Python code again.
    Field,
    /// After the `:` of an f-string replacement field: text with nested fields.
    FormatSpec,
}

#[derive(Debug, Default)]
pub(crate) struct Lexer {
    stack: Vec<Frame>,
    continued: bool,
    errors: Vec<LexicalError>,
    /// Indentation widths of the open blocks; the first logical line sets the base
    /// (IPython strips a cell's common leading indent).
    indents: Vec<usize>,
    /// The `:` that ended the last logical line: the next one must be indented.
    expect_block: Option<usize>,
    /// The `:` if it is the last code byte so far of the current logical line.
    last_colon: Option<usize>,
}

impl Lexer {
    /// True when the next physical line begins a new logical line: not inside brackets
    /// or a string, and not continued with a backslash.
    pub fn at_logical_line_start(&self) -> bool {
        self.stack.is_empty() && !self.continued
    }

    /// Consume one physical line: `text[start..end]`, without its line ending.
    pub fn scan_line(&mut self, text: &str, start: usize, end: usize) {
        let bytes = text.as_bytes();
        if self.at_logical_line_start() {
            self.check_indentation(text, start, end);
        }
        self.continued = false;
        let mut i = start;
        while i < end {
            let byte = bytes[i];
            match self.stack.last().copied() {
                Some(Frame::String {
                    quote,
                    triple,
                    formatted,
                    ..
                }) => {
                    if byte == b'\\' {
                        // Skips the escaped byte; in raw strings too, `\"` does not close.
                        i += 2;
                        continue;
                    }
                    if byte == quote {
                        if !triple {
                            self.stack.pop();
                            self.last_colon = None;
                            i += 1;
                            continue;
                        }
                        if bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote) {
                            self.stack.pop();
                            self.last_colon = None;
                            i += 3;
                            continue;
                        }
                    }
                    if formatted && byte == b'{' {
                        if bytes.get(i + 1) == Some(&b'{') {
                            i += 2;
                            continue;
                        }
                        self.stack.push(Frame::Field);
                    }
                    i += 1;
                }
                Some(Frame::FormatSpec) => {
                    match byte {
                        b'{' => self.stack.push(Frame::Field),
                        b'}' => {
                            self.stack.pop();
                        }
                        _ => {}
                    }
                    i += 1;
                }
                top => {
                    i = self.scan_code(text, i, end, top);
                }
            }
        }
        if end > start && bytes[end - 1] == b'\\' && self.in_code() {
            self.continued = true;
        }
        if let Some(&Frame::String {
            triple: false,
            at,
            open_len,
            ..
        }) = self.stack.last()
            && !Self::continued_string(text, end)
        {
            self.errors.push(LexicalError {
                span: Span::new(at, at + open_len),
                message: "unterminated string literal".to_string(),
                affects: Span::new(at, end),
                indentation: false,
            });
            self.drop_single_line_strings();
        }
        if self.at_logical_line_start()
            && let Some(colon) = self.last_colon.take()
        {
            self.expect_block = Some(colon);
        }
    }

    /// Python's INDENT/DEDENT rules for a line that starts a logical line.
    fn check_indentation(&mut self, text: &str, start: usize, end: usize) {
        let content = text.get(start..end).unwrap_or("");
        let rest = content.trim_start_matches([' ', '\t', '\x0c']);
        if rest.is_empty() || rest.starts_with('#') {
            return;
        }
        let indent = &content[..content.len() - rest.len()];
        let width = indent.bytes().fold(0, |width, byte| match byte {
            b'\t' => (width / 8 + 1) * 8,
            b'\x0c' => 0,
            _ => width + 1,
        });
        let first = start + indent.len();
        let first_word = Span::new(
            first,
            first + rest.find(char::is_whitespace).unwrap_or(rest.len()),
        );
        let Some(&top) = self.indents.last() else {
            self.indents.push(width);
            self.expect_block = None;
            return;
        };
        let error = |message: &str| LexicalError {
            span: first_word,
            message: message.to_string(),
            affects: Span::new(first, end),
            indentation: true,
        };
        if self.expect_block.take().is_some() {
            if width > top {
                self.indents.push(width);
            } else {
                let error = error("expected an indented block");
                self.errors.push(error);
            }
            return;
        }
        if width > top {
            let error = error("unexpected indent");
            self.errors.push(error);
            self.indents.push(width);
            return;
        }
        while self.indents.last().is_some_and(|&open| open > width) {
            self.indents.pop();
        }
        if self.indents.last() != Some(&width) {
            let error = error("unindent does not match any outer indentation level");
            self.errors.push(error);
            self.indents.push(width);
        }
    }

    /// Finish: anything still open is never closed.
    pub fn finish(mut self, text_len: usize) -> Vec<LexicalError> {
        if let Some(colon) = self.expect_block {
            self.errors.push(LexicalError {
                span: Span::new(colon, colon + 1),
                message: "expected an indented block after `:`".to_string(),
                affects: Span::new(colon, text_len),
                indentation: true,
            });
        }
        // The outermost unclosed bracket throws off everything after it: the ones opened
        // later are one finding with it, however many there are.
        let mut unclosed = None;
        let mut opened_after = 0usize;
        for frame in std::mem::take(&mut self.stack) {
            match frame {
                Frame::Bracket { open, at } => match unclosed {
                    None => unclosed = Some((open, at)),
                    Some(_) => opened_after += 1,
                },
                Frame::String {
                    triple: true,
                    at,
                    open_len,
                    ..
                } => self.errors.push(LexicalError {
                    span: Span::new(at, at + open_len),
                    message: "unterminated triple-quoted string literal".to_string(),
                    affects: Span::new(at, text_len),
                    indentation: false,
                }),
                _ => {}
            }
        }
        if let Some((open, at)) = unclosed {
            let mut message = format!("`{}` was never closed", open as char);
            match opened_after {
                0 => {}
                1 => message.push_str(", nor was the bracket opened after it"),
                more => {
                    message.push_str(&format!(", nor were the {more} brackets opened after it"))
                }
            }
            self.errors.push(LexicalError {
                span: Span::new(at, at + 1),
                message,
                affects: Span::new(at, text_len),
                indentation: false,
            });
        }
        self.errors.sort_by_key(|error| error.span);
        self.errors
    }

    fn in_code(&self) -> bool {
        matches!(
            self.stack.last(),
            None | Some(Frame::Bracket { .. }) | Some(Frame::Field)
        )
    }

    /// A single-quoted string may go on to the next line only after a backslash.
    fn continued_string(text: &str, end: usize) -> bool {
        let bytes = text.as_bytes();
        let mut backslashes = 0;
        let mut i = end;
        while i > 0 && bytes[i - 1] == b'\\' {
            backslashes += 1;
            i -= 1;
        }
        backslashes % 2 == 1
    }

    fn drop_single_line_strings(&mut self) {
        if let Some(outermost) = self
            .stack
            .iter()
            .position(|frame| matches!(frame, Frame::String { triple: false, .. }))
        {
            self.stack.truncate(outermost);
        }
    }

    /// Scan code from `i`; returns where to continue.
    fn scan_code(&mut self, text: &str, i: usize, end: usize, top: Option<Frame>) -> usize {
        let bytes = text.as_bytes();
        let byte = bytes[i];
        if !byte.is_ascii_whitespace() && byte != b'#' {
            self.last_colon = (byte == b':').then_some(i);
        }
        match byte {
            b'#' => end,
            b'"' | b'\'' => self.open_string(text, i, i, ""),
            b'(' | b'[' | b'{' => {
                self.stack.push(Frame::Bracket { open: byte, at: i });
                i + 1
            }
            b')' | b']' | b'}' => {
                self.close_bracket(i, byte, top);
                i + 1
            }
            b':' if matches!(top, Some(Frame::Field)) && bytes.get(i + 1) != Some(&b'=') => {
                self.stack.pop();
                self.stack.push(Frame::FormatSpec);
                i + 1
            }
            b'!' if matches!(top, Some(Frame::Field)) && bytes.get(i + 1) != Some(&b'=') => {
                // A conversion (`!r`): the field goes on to `:` or `}`.
                i + 1
            }
            _ if byte.is_ascii_alphabetic() || byte == b'_' || byte >= 0x80 => {
                let mut j = i;
                while j < end
                    && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_' || bytes[j] >= 0x80)
                {
                    j += 1;
                }
                let word = text.get(i..j).unwrap_or("");
                if j < end && (bytes[j] == b'"' || bytes[j] == b'\'') && is_string_prefix(word) {
                    self.open_string(text, i, j, word)
                } else {
                    j
                }
            }
            _ => i + 1,
        }
    }

    fn open_string(&mut self, text: &str, at: usize, quote_at: usize, prefix: &str) -> usize {
        let bytes = text.as_bytes();
        let quote = bytes[quote_at];
        let triple =
            bytes.get(quote_at + 1) == Some(&quote) && bytes.get(quote_at + 2) == Some(&quote);
        let quotes = if triple { 3 } else { 1 };
        let lower = prefix.to_ascii_lowercase();
        self.stack.push(Frame::String {
            quote,
            triple,
            formatted: lower.contains('f') || lower.contains('t'),
            at,
            open_len: quote_at - at + quotes,
        });
        quote_at + quotes
    }

    fn close_bracket(&mut self, i: usize, close: u8, top: Option<Frame>) {
        match top {
            Some(Frame::Bracket { open, at }) => {
                self.stack.pop();
                if matching_close(open) != close {
                    self.errors.push(LexicalError {
                        span: Span::new(i, i + 1),
                        message: format!(
                            "closing `{}` does not match opening `{}`",
                            close as char, open as char
                        ),
                        affects: Span::new(at, i + 1),
                        indentation: false,
                    });
                }
            }
            Some(Frame::Field) if close == b'}' => {
                self.stack.pop();
            }
            _ => self.errors.push(LexicalError {
                span: Span::new(i, i + 1),
                message: format!("unmatched `{}`", close as char),
                affects: Span::new(i, i + 1),
                indentation: false,
            }),
        }
    }
}

fn matching_close(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    }
}

/// `r`, `b`, `f`, `u`, `t` and the two-letter combinations Python accepts, any case.
fn is_string_prefix(word: &str) -> bool {
    matches!(
        word.to_ascii_lowercase().as_str(),
        "r" | "u" | "b" | "f" | "t" | "br" | "rb" | "fr" | "rf" | "tr" | "rt"
    )
}

/// Lexical errors in a whole (masked) cell.
pub(crate) fn lexical_errors(text: &str) -> Vec<LexicalError> {
    let mut lexer = Lexer::default();
    for line in lines(text) {
        lexer.scan_line(text, line.start, line.end);
    }
    collapse_runs(text, lexer.finish(text.len()))
}

/// One finding for a run of the same error on one line (`)))))…`, a hundred thousand
/// of them, is one mistake to fix, not a hundred thousand findings): the first,
/// its message counting the others, its `affects` covering them all.
fn collapse_runs(text: &str, errors: Vec<LexicalError>) -> Vec<LexicalError> {
    // (the first error of a run, how many more, where the last of them ended)
    let mut collapsed: Vec<(LexicalError, usize, usize)> = Vec::with_capacity(errors.len());
    for error in errors {
        if let Some((first, more, last_end)) = collapsed.last_mut() {
            let gap = text.get(*last_end..error.span.start);
            let same_line = gap.is_some_and(|gap| !gap.contains(['\n', '\r']));
            if same_line && first.message == error.message && !error.indentation {
                first.affects = Span::new(
                    first.affects.start.min(error.affects.start),
                    first.affects.end.max(error.affects.end),
                );
                *more += 1;
                *last_end = error.span.end;
                continue;
            }
        }
        let end = error.span.end;
        collapsed.push((error, 0, end));
    }
    collapsed
        .into_iter()
        .map(|(mut error, more, _)| {
            if more > 0 {
                error
                    .message
                    .push_str(&format!(" (and {more} more like it after it)"));
            }
            error
        })
        .collect()
}

/// A physical line: `start..end` is its content without the line ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line {
    pub start: usize,
    pub end: usize,
}

/// The physical lines of `text`; `\n` and `\r\n` end a line.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = Line> + '_ {
    let bytes = text.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let (end, next) = match bytes[start..].iter().position(|&b| b == b'\n') {
            Some(offset) => {
                let newline = start + offset;
                let end = if newline > start && bytes[newline - 1] == b'\r' {
                    newline - 1
                } else {
                    newline
                };
                (end, newline + 1)
            }
            None => (bytes.len(), bytes.len()),
        };
        let line = Line { start, end };
        start = next;
        Some(line)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(text: &str) -> Vec<(&str, String)> {
        lexical_errors(text)
            .into_iter()
            .map(|error| (error.span.slice(text), error.message))
            .collect()
    }

    #[test]
    fn balanced_code_has_no_lexical_errors() {
        assert!(messages("x = [f(a)[0], {'k': (1, 2)}]\n").is_empty());
    }

    #[test]
    fn fstring_with_nested_quotes_and_format_spec_is_balanced() {
        assert!(messages("x = f\"{d[\"a\"]:>{width}} {y!r} {{literal}}\"\n").is_empty());
        assert!(messages("x = f'{f'{1}'}'\n").is_empty());
        assert!(messages("x = f\"{x:=^10}\"\n").is_empty());
    }

    #[test]
    fn brackets_inside_strings_and_comments_do_not_count() {
        assert!(messages("x = '(' + \"[\"  # {\n").is_empty());
        assert!(messages("x = r'\\'('\n").is_empty());
    }

    #[test]
    fn unclosed_bracket_points_at_the_opener() {
        assert_eq!(
            messages("f(1,\n  2\n"),
            [("(", "`(` was never closed".to_string())]
        );
    }

    #[test]
    fn nested_unclosed_brackets_are_one_finding_at_the_outermost() {
        let text = format!("x = {}\ny = [1,\n", "(".repeat(100_000));
        assert_eq!(
            messages(&text),
            [(
                "(",
                "`(` was never closed, nor were the 100000 brackets opened after it".to_string()
            )]
        );
        assert_eq!(lexical_errors(&text)[0].span.start, 4);
    }

    #[test]
    fn a_run_of_one_error_on_a_line_is_one_finding_with_a_count() {
        assert_eq!(
            messages(&format!("x = 1{}\n", ") ".repeat(3))),
            [(
                ")",
                "unmatched `)` (and 2 more like it after it)".to_string()
            )]
        );
        let errors = lexical_errors("x = 1)\ny = 2)\n");
        assert_eq!(
            errors.len(),
            2,
            "the same error on another line is its own finding"
        );
    }

    #[test]
    fn unmatched_closer_points_at_itself() {
        assert_eq!(messages("x = 1)\n"), [(")", "unmatched `)`".to_string())]);
    }

    #[test]
    fn mismatched_closer_names_both_brackets() {
        assert_eq!(
            messages("x = (1]\n"),
            [("]", "closing `]` does not match opening `(`".to_string())]
        );
    }

    #[test]
    fn unterminated_string_points_at_its_opening() {
        assert_eq!(
            messages("x = rb'abc\ny = 1\n"),
            [("rb'", "unterminated string literal".to_string())]
        );
    }

    #[test]
    fn backslash_newline_continues_a_single_quoted_string() {
        assert!(messages("x = 'abc\\\ndef'\n").is_empty());
    }

    #[test]
    fn unterminated_triple_quoted_string_points_at_its_opening() {
        assert_eq!(
            messages("x = \"\"\"abc\n\ny = 1\n"),
            [(
                "\"\"\"",
                "unterminated triple-quoted string literal".to_string()
            )]
        );
    }

    #[test]
    fn over_indented_line_is_an_unexpected_indent() {
        assert_eq!(
            messages("x = 1\n  y = 2\n"),
            [("y", "unexpected indent".to_string())]
        );
    }

    #[test]
    fn block_header_without_a_body_expects_an_indented_block() {
        assert_eq!(
            messages("if x:\ny = 2\n"),
            [("y", "expected an indented block".to_string())]
        );
        assert_eq!(
            messages("for i in x:  # loop\n"),
            [(":", "expected an indented block after `:`".to_string())]
        );
    }

    #[test]
    fn dedent_to_an_unknown_level_is_reported() {
        assert_eq!(
            messages("if x:\n    a = 1\n  b = 2\n"),
            [(
                "b",
                "unindent does not match any outer indentation level".to_string()
            )]
        );
    }

    #[test]
    fn consistent_indentation_is_fine() {
        let text = "if x:\n    a = {\n  'k': 1}\n    # note\n\n    b = f'{a:>3}'\nelse:\n\tc = 1\nd = (1,\n2)\n";
        assert!(messages(text).is_empty(), "{:?}", messages(text));
    }

    #[test]
    fn an_indented_first_line_sets_the_base_level() {
        assert!(messages("    x = 1\n    if x:\n        y = 2\n").is_empty());
    }

    #[test]
    fn logical_lines_end_outside_brackets_and_continuations() {
        let text = "x = (1,\n2)\ny = 1 + \\\n2\nz\n";
        let mut lexer = Lexer::default();
        let mut starts = Vec::new();
        for line in lines(text) {
            starts.push(lexer.at_logical_line_start());
            lexer.scan_line(text, line.start, line.end);
        }
        assert_eq!(starts, [true, false, true, false, true]);
    }
}

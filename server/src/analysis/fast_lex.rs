//! The fast parser's tokenizer: the tokens of the common subset of Python, with
//! NEWLINE/INDENT/DEDENT as Python's tokenizer makes them and strings split as
//! tree-sitter-python shapes them (start, content with escape sequences, interpolations,
//! end).
//!
//! Comments and line continuations come apart from the tokens, as extras for
//! `fast_tree` to place. `None` declines: tabs in indentation, form feeds, carriage
//! returns, non-ASCII outside strings, a continuation before a string, raw strings with
//! backslashes, `{{` in f-strings, format specifiers and conversions, nested f-strings,
//! comments or line breaks in an interpolation, unknown escapes, anything unclosed.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Name,
    Integer,
    Float,
    /// An operator or delimiter; its text is the token's bytes.
    Operator,
    StringStart,
    StringContent,
    EscapeSequence,
    /// The `{` of an f-string interpolation.
    InterpolationStart,
    /// Its `}`.
    InterpolationEnd,
    StringEnd,
    Newline,
    Indent,
    Dedent,
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub start: u32,
    pub end: u32,
}

/// The length of the operator or delimiter `rest` starts with (the longest one).
fn operator_length(rest: &[u8]) -> Option<usize> {
    let second = rest.get(1).copied().unwrap_or(0);
    let third = rest.get(2).copied().unwrap_or(0);
    match rest.first()? {
        b'(' | b')' | b'[' | b']' | b'{' | b'}' | b',' | b';' | b'~' => Some(1),
        b'.' => Some(if second == b'.' && third == b'.' {
            3
        } else {
            1
        }),
        b'-' => Some(if second == b'=' || second == b'>' {
            2
        } else {
            1
        }),
        b':' | b'=' | b'+' | b'%' | b'@' | b'&' | b'|' | b'^' => {
            Some(if second == b'=' { 2 } else { 1 })
        }
        b'!' => (second == b'=').then_some(2),
        &first @ (b'*' | b'/' | b'<' | b'>') => Some(if second == first {
            if third == b'=' { 3 } else { 2 }
        } else if second == b'=' {
            2
        } else {
            1
        }),
        _ => None,
    }
}

struct Lexer<'s> {
    bytes: &'s [u8],
    position: usize,
    tokens: Vec<Token>,
    extras: Vec<Extra>,
    depth: usize,
}

/// A comment or a line continuation: tree-sitter's extras, named nodes that sit in the
/// tree wherever they fall (`fast_tree` places them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Extra {
    pub kind: &'static str,
    pub start: u32,
    pub end: u32,
}

/// The tokens of `text`, ending with `End`, and its extras; `None` if any part is
/// outside the subset.
pub(crate) fn tokenize(text: &str) -> Option<(Vec<Token>, Vec<Extra>)> {
    let bytes = text.as_bytes();
    if bytes.iter().any(|&byte| byte == b'\r' || byte == 0x0c) {
        return None;
    }
    let mut lexer = Lexer {
        bytes,
        position: 0,
        tokens: Vec::with_capacity(bytes.len() / 3),
        extras: Vec::new(),
        depth: 0,
    };
    let mut indents: Vec<usize> = vec![0];
    loop {
        // At the start of a logical line.
        let line_start = lexer.position;
        let mut column = line_start;
        while column < bytes.len() && bytes[column] == b' ' {
            column += 1;
        }
        if column >= bytes.len() {
            break;
        }
        match bytes[column] {
            b'\n' => {
                lexer.position = column + 1;
                continue;
            }
            b'#' => {
                lexer.position = column;
                lexer.comment();
                continue;
            }
            b'\t' => return None,
            _ => {}
        }
        let indent = column - line_start;
        let current = *indents.last()?;
        if indent > current {
            indents.push(indent);
            lexer.push(TokenKind::Indent, column, column);
        } else {
            while indent < *indents.last()? {
                indents.pop();
                lexer.push(TokenKind::Dedent, column, column);
            }
            if indent != *indents.last()? {
                return None;
            }
        }
        lexer.position = column;
        lexer.line()?;
    }
    let end = bytes.len();
    for _ in 1..indents.len() {
        lexer.push(TokenKind::Dedent, end, end);
    }
    lexer.push(TokenKind::End, end, end);
    Some((lexer.tokens, lexer.extras))
}

impl Lexer<'_> {
    fn push(&mut self, kind: TokenKind, start: usize, end: usize) {
        self.tokens.push(Token {
            kind,
            start: start as u32,
            end: end as u32,
        });
    }

    fn peek(&self, offset: usize) -> u8 {
        self.bytes.get(self.position + offset).copied().unwrap_or(0)
    }

    /// The tokens of one logical line, through its NEWLINE.
    fn line(&mut self) -> Option<()> {
        loop {
            self.skip_spaces()?;
            let byte = self.peek(0);
            if self.position >= self.bytes.len() {
                if self.depth > 0 {
                    return None;
                }
                self.push(TokenKind::Newline, self.position, self.position);
                return Some(());
            }
            if byte == b'#' {
                self.comment();
                continue;
            }
            if byte == b'\n' {
                if self.depth == 0 {
                    self.push(TokenKind::Newline, self.position, self.position + 1);
                    self.position += 1;
                    return Some(());
                }
                self.position += 1;
                continue;
            }
            self.token(None)?;
        }
    }

    /// Spaces, and (outside a line's end) backslash continuations.
    fn skip_spaces(&mut self) -> Option<()> {
        loop {
            match self.peek(0) {
                b' ' | b'\t' => self.position += 1,
                b'\\' if self.peek(1) == b'\n' => {
                    // Before a string, tree-sitter's scanner takes the continuation as
                    // whitespace: no node.
                    let next = &self.bytes[self.position + 2..];
                    let next = &next[next.iter().take_while(|&&byte| byte == b' ').count()..];
                    let letters = next
                        .iter()
                        .take(3)
                        .take_while(|byte| byte.is_ascii_alphabetic())
                        .count();
                    if matches!(next.get(letters), Some(b'"' | b'\'')) {
                        return None;
                    }
                    self.extras.push(Extra {
                        kind: "line_continuation",
                        start: self.position as u32,
                        end: self.position as u32 + 2,
                    });
                    self.position += 2;
                }
                b'\\' => return None,
                _ => return Some(()),
            }
        }
    }

    /// The comment at `position`, up to its line's end.
    fn comment(&mut self) {
        let start = self.position;
        let end =
            memchr::memchr(b'\n', &self.bytes[start..]).map_or(self.bytes.len(), |at| start + at);
        self.extras.push(Extra {
            kind: "comment",
            start: start as u32,
            end: end as u32,
        });
        self.position = end;
    }

    /// One token at `position`; inside an interpolation, `quote` is the enclosing
    /// string's quote (which may not appear).
    fn token(&mut self, quote: Option<u8>) -> Option<()> {
        let start = self.position;
        let byte = self.peek(0);
        if byte.is_ascii_alphabetic() || byte == b'_' {
            let mut end = start;
            while end < self.bytes.len()
                && (self.bytes[end].is_ascii_alphanumeric() || self.bytes[end] == b'_')
            {
                end += 1;
            }
            let next = self.bytes.get(end).copied().unwrap_or(0);
            if next == b'"' || next == b'\'' {
                return self.string(start, end, quote);
            }
            if next >= 0x80 {
                return None;
            }
            self.position = end;
            self.push(TokenKind::Name, start, end);
            return Some(());
        }
        if byte.is_ascii_digit() || (byte == b'.' && self.peek(1).is_ascii_digit()) {
            return self.number();
        }
        if byte == b'"' || byte == b'\'' {
            return self.string(start, start, quote);
        }
        let length = operator_length(&self.bytes[start..])?;
        match byte {
            b'(' | b'[' | b'{' => self.depth += 1,
            b')' | b']' | b'}' => self.depth = self.depth.checked_sub(1)?,
            _ => {}
        }
        self.position += length;
        self.push(TokenKind::Operator, start, self.position);
        Some(())
    }

    fn number(&mut self) -> Option<()> {
        let start = self.position;
        let bytes = self.bytes;
        let mut end = start;
        let digits = |end: &mut usize| {
            while *end < bytes.len() && (bytes[*end].is_ascii_digit() || bytes[*end] == b'_') {
                *end += 1;
            }
        };
        let mut float = false;
        if bytes[end] == b'0'
            && matches!(
                bytes.get(end + 1),
                Some(b'x' | b'X' | b'o' | b'O' | b'b' | b'B')
            )
        {
            end += 2;
            while end < bytes.len() && (bytes[end].is_ascii_hexdigit() || bytes[end] == b'_') {
                end += 1;
            }
        } else {
            digits(&mut end);
            if bytes.get(end) == Some(&b'.') && bytes.get(end + 1) != Some(&b'.') {
                float = true;
                end += 1;
                digits(&mut end);
            }
            if matches!(bytes.get(end), Some(b'e' | b'E')) {
                float = true;
                end += 1;
                if matches!(bytes.get(end), Some(b'+' | b'-')) {
                    end += 1;
                }
                if !bytes.get(end).is_some_and(u8::is_ascii_digit) {
                    return None;
                }
                digits(&mut end);
            }
        }
        // `1j`, `1L`, `1if x else y`, `1.real`: left to tree-sitter.
        if bytes.get(end).is_some_and(|&next| {
            next.is_ascii_alphanumeric() || next == b'_' || next == b'.' || next >= 0x80
        }) {
            return None;
        }
        self.position = end;
        self.push(
            if float {
                TokenKind::Float
            } else {
                TokenKind::Integer
            },
            start,
            end,
        );
        Some(())
    }

    /// A string literal whose prefix is `start..quote_at`.
    fn string(&mut self, start: usize, quote_at: usize, outer: Option<u8>) -> Option<()> {
        let prefix = &self.bytes[start..quote_at];
        if prefix.len() > 2 {
            return None;
        }
        let mut raw = false;
        let mut format = false;
        for &letter in prefix {
            match letter.to_ascii_lowercase() {
                b'r' => raw = true,
                b'f' => format = true,
                b'b' | b'u' => {}
                _ => return None,
            }
        }
        let quote = self.bytes[quote_at];
        if outer.is_some() && (format || outer == Some(quote)) {
            return None;
        }
        let triple = self.bytes.get(quote_at + 1) == Some(&quote)
            && self.bytes.get(quote_at + 2) == Some(&quote);
        let delimiter = if triple { 3 } else { 1 };
        let content_start = quote_at + delimiter;
        self.push(TokenKind::StringStart, start, content_start);
        let bytes = self.bytes;
        let mut position = content_start;
        let mut content_from = content_start;
        let mut escapes: Vec<Token> = Vec::new();
        loop {
            let byte = *bytes.get(position)?;
            if byte == quote
                && (!triple
                    || (bytes.get(position + 1) == Some(&quote)
                        && bytes.get(position + 2) == Some(&quote)))
            {
                self.content(content_from, position, &mut escapes);
                self.push(TokenKind::StringEnd, position, position + delimiter);
                self.position = position + delimiter;
                return Some(());
            }
            match byte {
                b'\n' if !triple => return None,
                b'\\' => {
                    if raw {
                        return None;
                    }
                    let length = escape_length(&bytes[position..])?;
                    escapes.push(Token {
                        kind: TokenKind::EscapeSequence,
                        start: position as u32,
                        end: (position + length) as u32,
                    });
                    position += length;
                }
                b'{' | b'}' if format => {
                    if byte == b'}' || bytes.get(position + 1) == Some(&b'{') {
                        return None;
                    }
                    self.content(content_from, position, &mut escapes);
                    self.push(TokenKind::InterpolationStart, position, position + 1);
                    self.position = position + 1;
                    self.interpolation(quote)?;
                    position = self.position;
                    content_from = position;
                }
                _ => position += 1,
            }
        }
    }

    fn content(&mut self, start: usize, end: usize, escapes: &mut Vec<Token>) {
        if end > start {
            self.push(TokenKind::StringContent, start, end);
            self.tokens.append(escapes);
        }
    }

    /// The tokens of an f-string interpolation after its `{`, through its `}`.
    fn interpolation(&mut self, quote: u8) -> Option<()> {
        let outer_depth = self.depth;
        self.depth = 0;
        loop {
            while self.peek(0) == b' ' {
                self.position += 1;
            }
            match self.peek(0) {
                b'}' if self.depth == 0 => {
                    self.push(
                        TokenKind::InterpolationEnd,
                        self.position,
                        self.position + 1,
                    );
                    self.position += 1;
                    self.depth = outer_depth;
                    return Some(());
                }
                b':' | b'!' | b'=' | b'\n' | b'\\' | b'#' | 0 if self.depth == 0 => return None,
                b'\n' | b'\\' | b'#' | 0 => return None,
                _ => self.token(Some(quote))?,
            }
        }
    }
}

/// The length of the escape sequence at the start of `bytes` (a backslash), as
/// tree-sitter-python's `escape_sequence` matches it; `None` for any other.
fn escape_length(bytes: &[u8]) -> Option<usize> {
    let hex = |count: usize| {
        (bytes.len() > count + 1 && bytes[2..2 + count].iter().all(u8::is_ascii_hexdigit))
            .then_some(2 + count)
    };
    match *bytes.get(1)? {
        b'\\' | b'\'' | b'"' | b'a' | b'b' | b'f' | b'n' | b'r' | b't' | b'v' => Some(2),
        b'x' => hex(2),
        b'u' => hex(4),
        b'U' => hex(8),
        b'0'..=b'7' => {
            let digits = bytes[1..]
                .iter()
                .take(3)
                .take_while(|byte| (b'0'..=b'7').contains(byte))
                .count();
            Some(1 + digits)
        }
        _ => None,
    }
}

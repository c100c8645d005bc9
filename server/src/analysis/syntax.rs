//! Syntax errors in a (masked) cell, with tight ranges and messages that say what was
//! expected.
//!
//! Two sources. The lexer finds what tree-sitter's error recovery reports badly,
//! because the rest of the cell gets swallowed into one ERROR node: unclosed or
//! mismatched brackets and unterminated strings; tree-sitter errors inside the text such
//! a mistake throws off are dropped as consequences. Tree-sitter finds the rest: a
//! MISSING node is "expected `X`" where it was inserted; an ERROR node is narrowed to the
//! token that went wrong (its last token: error recovery wraps what it could not use up
//! to and including the token it choked on), with a message for the common shapes (a
//! block header without `:`, an operator with nothing after it).

use tree_sitter::Node;

use super::SyntaxError;
use super::lexer::lexical_errors;
use crate::text::Span;

pub(crate) fn syntax_errors(root: Node, text: &str) -> Vec<SyntaxError> {
    let lexical = lexical_errors(text);
    let mut errors: Vec<SyntaxError> = lexical
        .iter()
        .map(|error| SyntaxError {
            span: error.span,
            message: error.message.clone(),
        })
        .collect();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.is_missing() || node.is_error() {
            let node_range = Span::new(node.start_byte(), node.end_byte());
            let consequence = lexical
                .iter()
                .any(|error| overlaps(error.affects, node_range));
            if !consequence {
                errors.push(if node.is_missing() {
                    missing_error(node)
                } else {
                    error_node_error(node, text)
                });
            }
            continue;
        }
        if !node.has_error() {
            continue;
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    errors.sort_by_key(|error| error.span);
    errors.dedup_by_key(|error| error.span);
    errors
}

/// Ranges overlap, or an empty one sits inside (or at the start of) the other.
fn overlaps(a: Span, b: Span) -> bool {
    a.start < b.end.max(b.start + 1) && b.start < a.end.max(a.start + 1)
}

fn missing_error(node: Node) -> SyntaxError {
    let kind = node.kind();
    let expected = if node.is_named() {
        describe_named(kind).to_string()
    } else {
        format!("`{kind}`")
    };
    SyntaxError {
        span: Span::at(node.start_byte()),
        message: format!("expected {expected}"),
    }
}

fn describe_named(kind: &str) -> &str {
    match kind {
        "identifier" => "a name",
        "block" => "an indented block",
        "string_end" => "the end of the string",
        _ => "an expression",
    }
}

fn error_node_error(node: Node, text: &str) -> SyntaxError {
    let leaves = leaves(node);
    let Some(last) = leaves.last().copied() else {
        // An ERROR with no tokens in it: an empty range where recovery started.
        return SyntaxError {
            span: Span::at(node.start_byte()),
            message: "invalid syntax".to_string(),
        };
    };
    if let Some(error) = missing_colon(node, &leaves, text) {
        return error;
    }
    let token = last.kind();
    let token_text = text.get(last.start_byte()..last.end_byte()).unwrap_or("");
    let span = Span::new(last.start_byte(), last.end_byte());
    if needs_operand(token) && line_ends_after(text, last.end_byte()) {
        return SyntaxError {
            span,
            message: format!("expected an expression after `{token_text}`"),
        };
    }
    let message = if token_text.is_empty() || token_text.contains('\n') {
        "invalid syntax".to_string()
    } else {
        format!("unexpected `{token_text}`")
    };
    SyntaxError { span, message }
}

/// The tokens inside `node`, in order, without comments.
fn leaves(node: Node) -> Vec<Node> {
    let mut leaves = Vec::new();
    let mut stack = vec![node];
    while let Some(current) = stack.pop() {
        if current.child_count() == 0 {
            if current.kind() != "comment" && current.end_byte() > current.start_byte() {
                leaves.push(current);
            }
            continue;
        }
        let mut cursor = current.walk();
        let children: Vec<Node> = current.children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    leaves
}

/// `if x` / `def f()` / `else` ... without the `:` before the line ends.
fn missing_colon(node: Node, leaves: &[Node], text: &str) -> Option<SyntaxError> {
    const HEADERS: &[&str] = &[
        "if", "elif", "else", "while", "for", "def", "class", "with", "try", "except", "finally",
        "async",
    ];
    let first = leaves.first()?;
    if !HEADERS.contains(&first.kind()) {
        return None;
    }
    let line_end = text
        .get(first.start_byte()..)?
        .find('\n')
        .map_or(text.len(), |offset| first.start_byte() + offset);
    let on_line: Vec<&Node> = leaves
        .iter()
        .filter(|leaf| leaf.start_byte() < line_end)
        .collect();
    if on_line.iter().any(|leaf| leaf.kind() == ":") || node.end_byte() <= first.end_byte() {
        return None;
    }
    let last = on_line.last()?;
    if !line_ends_after(text, last.end_byte()) {
        return None;
    }
    Some(SyntaxError {
        span: Span::new(last.start_byte(), last.end_byte()),
        message: "expected `:`".to_string(),
    })
}

/// Tokens that must be followed by an expression.
fn needs_operand(kind: &str) -> bool {
    matches!(
        kind,
        "=" | "+"
            | "-"
            | "*"
            | "/"
            | "//"
            | "%"
            | "**"
            | "@"
            | "|"
            | "&"
            | "^"
            | "<<"
            | ">>"
            | "<"
            | ">"
            | "<="
            | ">="
            | "=="
            | "!="
            | "+="
            | "-="
            | "*="
            | "/="
            | "//="
            | "%="
            | "**="
            | "@="
            | "|="
            | "&="
            | "^="
            | "<<="
            | ">>="
            | ":="
            | "and"
            | "or"
            | "not"
            | "in"
            | "is"
            | "await"
            | "lambda"
            | "assert"
            | "del"
            | "import"
            | "from"
    )
}

/// Only blanks or a comment between `offset` and the end of its line.
fn line_ends_after(text: &str, offset: usize) -> bool {
    let rest = text.get(offset..).unwrap_or("");
    let line = rest.split('\n').next().unwrap_or("");
    let code = line.split('#').next().unwrap_or("");
    code.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::super::{Aliases, analyze_cell};

    /// (covered text, message) for each error.
    fn errors(source: &str) -> Vec<(&str, String)> {
        analyze_cell(source, &Aliases::new())
            .syntax_errors
            .into_iter()
            .map(|error| (error.span.slice(source), error.message))
            .collect()
    }

    fn error_at(source: &str) -> (usize, usize, String) {
        let found = analyze_cell(source, &Aliases::new()).syntax_errors;
        assert_eq!(found.len(), 1, "{found:?}");
        (
            found[0].span.start,
            found[0].span.end,
            found[0].message.clone(),
        )
    }

    #[test]
    fn valid_python_312_has_no_errors() {
        let source = r#"
type Vector = list[float]
def first[T](items: list[T], /, *, default: T | None = None) -> T:
    return items[0] if items else default
class Box[T: (int, str), *Ts, **P]:
    pass
match command.split():
    case [action]:
        pass
    case ["go", direction] if direction in exits:
        pass
    case {"x": x, **rest}:
        pass
    case Point(x=0, y=0) | None:
        pass
    case _:
        pass
if (n := len(a)) > 10:
    print(f"{n=} {a["key"]!r:>{width}} {'\n'.join(x)} {f'{1}'}")
async def fetch():
    async with session as s:
        async for chunk in s:
            await chunk
@decorator
@other(1)
def g(): ...
try:
    pass
except* ValueError as group:
    pass
x = [i for i in range(3) if i]
lambda: (yield)
print(*args, **kwargs, sep="")
"#;
        assert_eq!(errors(source), []);
    }

    #[test]
    fn magics_are_not_syntax_errors() {
        let source = "%matplotlib inline\nx = !ls\n!pip install x\n?obj\nobj??\nfor i in x:\n    %time f(i)\n";
        assert_eq!(errors(source), []);
    }

    #[test]
    fn foreign_cell_magic_body_is_not_a_syntax_error() {
        assert_eq!(errors("%%bash\necho 'unbalanced (\n"), []);
    }

    #[test]
    fn unclosed_paren_points_at_the_paren() {
        assert_eq!(
            error_at("print((1, 2)\nx = 1\n"),
            (5, 6, "`(` was never closed".into())
        );
    }

    #[test]
    fn unterminated_string_points_at_its_quote_and_not_the_next_line() {
        assert_eq!(
            error_at("x = \"abc\ny = 2\n"),
            (4, 5, "unterminated string literal".into())
        );
    }

    #[test]
    fn unterminated_triple_quoted_string_points_at_its_quotes() {
        assert_eq!(
            error_at("x = '''abc\n"),
            (4, 7, "unterminated triple-quoted string literal".into())
        );
    }

    #[test]
    fn unmatched_closer_is_reported() {
        assert_eq!(error_at("x = )\n"), (4, 5, "unmatched `)`".into()));
    }

    #[test]
    fn missing_colon_after_a_block_header_is_reported() {
        assert_eq!(
            errors("if x\n    pass\n"),
            [("x", "expected `:`".to_string())]
        );
        assert_eq!(
            errors("def f()\n    return 1\n"),
            [(")", "expected `:`".to_string())]
        );
    }

    #[test]
    fn dangling_operator_expects_an_expression() {
        assert_eq!(
            error_at("x = 1 +\n"),
            (6, 7, "expected an expression after `+`".into())
        );
    }

    #[test]
    fn stray_token_is_unexpected() {
        assert_eq!(error_at("foo(1 2)\n"), (6, 7, "unexpected `2`".into()));
        assert_eq!(error_at("x = f(a,, b)\n"), (7, 8, "unexpected `,`".into()));
    }

    #[test]
    fn error_on_one_line_does_not_cover_the_cell() {
        let source = "a = 1\nb = = 2\nc = 3\n";
        assert_eq!(errors(source), [("=", "unexpected `=`".to_string())]);
    }

    #[test]
    fn independent_errors_are_each_reported() {
        let source = "x = 1 +\ny = 2\nfoo(1 2)\n";
        assert_eq!(errors(source).len(), 2);
    }

    #[test]
    fn uncommented_english_comment_is_a_syntax_error() {
        assert_eq!(
            errors("ls the files\n"),
            [("the", "unexpected `the`".to_string())]
        );
    }
}

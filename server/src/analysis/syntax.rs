//! Syntax errors in a (masked) cell, with tight ranges and messages that say what was
//! expected.
//!
//! Two sources. The lexer (`lexer.rs`) finds what tree-sitter reports badly or not at
//! all: unclosed and mismatched brackets and unterminated strings (tree-sitter's error
//! recovery swallows the rest of the cell into one ERROR node, so its errors inside the
//! text such a mistake throws off are dropped as consequences), and indentation errors
//! (tree-sitter-python accepts an over-indented line; these give way to any tree-sitter
//! error on the same text, which is usually the cause).
//!
//! Tree-sitter finds the rest. A MISSING node is "expected `X`" where it was inserted.
//! An ERROR node is narrowed to the token that went wrong, its last token (recovery
//! wraps what it could not use up to and including the token it choked on), with
//! messages for the common shapes: a block header without `:`, an operator with nothing
//! after it, two expressions side by side, `else` with nothing to belong to. Python 2
//! `print x`, which the grammar still accepts, is an error too.

use tree_sitter::Node;

use super::SyntaxError;
use super::lexer::{LexicalError, lexical_errors};
use super::node_access::kind;
use crate::text::Span;

pub(crate) fn syntax_errors(root: Node, text: &str) -> Vec<SyntaxError> {
    let (indentation, lexical): (Vec<LexicalError>, Vec<LexicalError>) = lexical_errors(text)
        .into_iter()
        .partition(|error| error.indentation);
    let mut errors: Vec<SyntaxError> = lexical.iter().map(to_syntax_error).collect();
    let mut tree_ranges = Vec::new();
    let mut stack = vec![root];
    let mut cursor = root.walk();
    while let Some(node) = stack.pop() {
        if node.is_missing() || node.is_error() {
            let node_range = Span::new(node.start_byte(), node.end_byte());
            let consequence = lexical
                .iter()
                .any(|error| overlaps(error.affects, node_range));
            if !consequence {
                tree_ranges.push(node_range);
                errors.push(if node.is_missing() {
                    missing_error(node)
                } else {
                    error_node_error(node, text)
                });
            }
            continue;
        }
        if let Some(error) = python2_statement(node, text) {
            tree_ranges.push(Span::new(node.start_byte(), node.end_byte()));
            errors.push(error);
        }
        // Below an error-free node only a Python 2 statement can be wrong, and those sit
        // only where statements do: expressions are not walked.
        if !node.has_error() && !holds_statements(kind(node)) {
            continue;
        }
        stack.extend(node.children(&mut cursor));
    }
    errors.extend(
        indentation
            .iter()
            .filter(|error| {
                !tree_ranges
                    .iter()
                    .chain(lexical.iter().map(|lexical| &lexical.affects))
                    .any(|range| overlaps(*range, error.span))
            })
            .map(to_syntax_error),
    );
    errors.sort_by_key(|error| error.span);
    errors.dedup_by_key(|error| error.span);
    errors
}

/// The errors with their spans widened to whole characters of `source`. They were found
/// in the masked text, whose words can end inside a character of the source: a masked
/// `日本?` is `0` and spaces, so "the first word" of that line ends after one byte.
pub(crate) fn on_char_boundaries(mut errors: Vec<SyntaxError>, source: &str) -> Vec<SyntaxError> {
    for error in &mut errors {
        let mut start = error.span.start.min(source.len());
        while !source.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = error.span.end.clamp(start, source.len());
        while !source.is_char_boundary(end) {
            end += 1;
        }
        error.span = Span::new(start, end);
    }
    errors
}

fn to_syntax_error(error: &LexicalError) -> SyntaxError {
    SyntaxError {
        span: error.span,
        message: error.message.clone(),
    }
}

/// Ranges overlap, or an empty one sits inside (or at the start of) the other.
fn overlaps(a: Span, b: Span) -> bool {
    a.start < b.end.max(b.start + 1) && b.start < a.end.max(a.start + 1)
}

fn missing_error(node: Node) -> SyntaxError {
    let kind = node.kind();
    let expected = if node.is_named() {
        let names_something = node.parent().is_some_and(|parent| {
            matches!(
                parent.kind(),
                "function_definition" | "class_definition" | "aliased_import" | "dotted_name"
            )
        });
        if kind == "identifier" && names_something {
            "a name".to_string()
        } else {
            describe_named(kind).to_string()
        }
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
        "block" => "an indented block",
        "string_end" => "the end of the string",
        _ => "an expression",
    }
}

/// Whether a node of this kind can have statements below it (without passing through
/// another node that can).
fn holds_statements(kind: &str) -> bool {
    matches!(
        kind,
        "module"
            | "block"
            | "if_statement"
            | "for_statement"
            | "while_statement"
            | "try_statement"
            | "with_statement"
            | "match_statement"
            | "function_definition"
            | "class_definition"
            | "decorated_definition"
            | "elif_clause"
            | "else_clause"
            | "except_clause"
            | "except_group_clause"
            | "finally_clause"
            | "case_clause"
    )
}

/// tree-sitter-python still accepts Python 2's `print x` and `exec code`. Error
/// recovery sometimes picks that reading for a broken call (`print(a for)`), whose real
/// error is inside the parentheses.
fn python2_statement(node: Node, text: &str) -> Option<SyntaxError> {
    let keyword = match kind(node) {
        "print_statement" => "print",
        "exec_statement" => "exec",
        _ => return None,
    };
    let first = node.child(0)?;
    if text.get(first.end_byte()..)?.trim_start().starts_with('(') {
        return None;
    }
    Some(SyntaxError {
        span: Span::new(first.start_byte(), first.end_byte()),
        message: format!(
            "missing parentheses in call to `{keyword}`; did you mean `{keyword}(...)`?"
        ),
    })
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
    if let Some(error) = missing_colon(node, &leaves, text)
        .or_else(|| orphan_clause(&leaves, text))
        .or_else(|| adjacent_expressions(node))
    {
        return error;
    }
    let token = last.kind();
    let token_text = text.get(last.start_byte()..last.end_byte()).unwrap_or("");
    let span = Span::new(last.start_byte(), last.end_byte());
    if needs_operand(token) && nothing_follows(text, last.end_byte()) {
        let what = match token {
            "import" | "from" => "a module name",
            _ => "an expression",
        };
        return SyntaxError {
            span,
            message: format!("expected {what} after `{token_text}`"),
        };
    }
    if token != "if"
        && let Some(conditional) = leaves.iter().find(|leaf| leaf.kind() == "if")
        && !leaves.iter().any(|leaf| leaf.kind() == "else")
        && !leaves.iter().any(|leaf| leaf.kind() == ":")
        && !starts_line(text, conditional.start_byte())
    {
        return SyntaxError {
            span: Span::new(conditional.start_byte(), last.end_byte()),
            message: "expected `else` after `if` expression".to_string(),
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

/// `else:` / `except:` / ... starting a line with nothing before it to belong to.
fn orphan_clause(leaves: &[Node], text: &str) -> Option<SyntaxError> {
    let first = leaves.first()?;
    let owners = match first.kind() {
        "else" => "`if`, `for`, `while` or `try`",
        "elif" => "`if`",
        "except" | "finally" => "`try`",
        _ => return None,
    };
    let line_start = text
        .get(..first.start_byte())?
        .rfind('\n')
        .map_or(0, |i| i + 1);
    if !text.get(line_start..first.start_byte())?.trim().is_empty() {
        return None;
    }
    Some(SyntaxError {
        span: Span::new(first.start_byte(), first.end_byte()),
        message: format!(
            "`{}` does not follow an {owners} block at the same indentation",
            first.kind()
        ),
    })
}

/// `x = 1 2`, `f(a b)`: an expression where tree-sitter skipped a lone expression right
/// next to another one on the same line.
fn adjacent_expressions(node: Node) -> Option<SyntaxError> {
    let mut cursor = node.walk();
    let children: Vec<Node> = node.children(&mut cursor).collect();
    let [only] = children.as_slice() else {
        return None;
    };
    if !is_expression(only.kind()) {
        return None;
    }
    let row = node.start_position().row;
    let on_same_line = |other: &Node| {
        is_expression(other.kind())
            && other.start_position().row <= row
            && other.end_position().row >= row
    };
    let (start, end) = if let Some(before) = node.prev_sibling().filter(on_same_line) {
        (before.start_byte(), node.end_byte())
    } else if let Some(after) = node.next_sibling().filter(on_same_line) {
        (node.start_byte(), after.end_byte())
    } else {
        return None;
    };
    Some(SyntaxError {
        span: Span::new(start, end),
        message: "invalid syntax; perhaps a missing comma or operator".to_string(),
    })
}

fn is_expression(kind: &str) -> bool {
    matches!(
        kind,
        "identifier"
            | "integer"
            | "float"
            | "string"
            | "concatenated_string"
            | "true"
            | "false"
            | "none"
            | "call"
            | "attribute"
            | "subscript"
            | "list"
            | "tuple"
            | "dictionary"
            | "set"
            | "parenthesized_expression"
            | "expression_statement"
    )
}

/// Only blanks between the start of the line and `offset`.
fn starts_line(text: &str, offset: usize) -> bool {
    let before = text.get(..offset).unwrap_or("");
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    before[line_start..].trim().is_empty()
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
            | "->"
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

/// Only blanks, a comment, or a closing token between `offset` and the end of its line:
/// nothing that could be the operand the token before `offset` needs.
fn nothing_follows(text: &str, offset: usize) -> bool {
    let rest = text
        .get(offset..)
        .unwrap_or("")
        .trim_start_matches([' ', '\t']);
    line_ends_after(text, offset) || rest.starts_with([')', ']', '}', ':', ','])
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
        assert_eq!(error_at("x = f(a,, b)\n"), (7, 8, "unexpected `,`".into()));
        assert_eq!(error_at("x = 1 = = 2\n"), (8, 9, "unexpected `=`".into()));
    }

    #[test]
    fn missing_expression_is_an_empty_range_where_it_belongs() {
        assert_eq!(
            error_at("x = [i for i in]\n"),
            (15, 15, "expected an expression".into())
        );
    }

    #[test]
    fn broken_print_call_is_not_called_python2() {
        assert_eq!(
            errors("print(a for)\n"),
            [("for", "unexpected `for`".to_string())]
        );
    }

    #[test]
    fn python2_print_asks_for_parentheses() {
        assert_eq!(
            errors("print 'hello'\n"),
            [(
                "print",
                "missing parentheses in call to `print`; did you mean `print(...)`?".to_string()
            )]
        );
    }

    #[test]
    fn python2_print_is_found_in_every_kind_of_block() {
        let source = "def f():\n    print 1\nclass C:\n    print 2\n@d\ndef g():\n    print 3\nif x:\n    print 4\nelif y:\n    print 5\nelse:\n    print 6\nfor i in y:\n    print 7\nelse:\n    print 8\nwhile x:\n    print 9\ntry:\n    print 10\nexcept E:\n    print 11\nfinally:\n    print 12\nwith o:\n    print 13\nmatch x:\n    case 1:\n        print 14\nasync def h():\n    print 15\nif a:\n    if b:\n        print 16\n";
        let found = errors(source);
        assert_eq!(found.len(), 16, "{found:?}");
        assert!(
            found.iter().all(|(token, _)| *token == "print"),
            "{found:?}"
        );
    }

    #[test]
    fn two_expressions_side_by_side_suggest_a_missing_comma() {
        let message = "invalid syntax; perhaps a missing comma or operator".to_string();
        assert_eq!(errors("x = 1 2\n"), [("1 2", message.clone())]);
        assert_eq!(errors("foo(a b)\n"), [("a b", message.clone())]);
        assert_eq!(errors("x = [1, 2 3]\n"), [("2 3", message)]);
    }

    #[test]
    fn conditional_expression_without_else_is_reported() {
        assert_eq!(
            errors("x = (1 if y)\n"),
            [("if y", "expected `else` after `if` expression".to_string())]
        );
    }

    #[test]
    fn import_without_a_module_is_reported() {
        assert_eq!(
            errors("import\n"),
            [(
                "import",
                "expected a module name after `import`".to_string()
            )]
        );
    }

    #[test]
    fn else_without_if_points_at_else() {
        assert_eq!(
            errors("else:\n    pass\n"),
            [(
                "else",
                "`else` does not follow an `if`, `for`, `while` or `try` block at the same indentation"
                    .to_string()
            )]
        );
    }

    #[test]
    fn operator_before_a_closing_bracket_expects_an_expression() {
        assert_eq!(
            errors("f(1 +)\n"),
            [("+", "expected an expression after `+`".to_string())]
        );
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
    fn unexpected_indent_is_reported() {
        assert_eq!(
            errors("x = 1\n    y = 2\n"),
            [("y", "unexpected indent".to_string())]
        );
    }

    #[test]
    fn block_without_body_is_reported() {
        assert_eq!(
            errors("for i in x:\nprint(i)\n"),
            [("print(i)", "expected an indented block".to_string())]
        );
    }

    #[test]
    fn uncommented_english_comment_is_a_syntax_error() {
        assert_eq!(
            errors("ls the files\n"),
            [("the", "unexpected `the`".to_string())]
        );
    }

    #[test]
    fn assorted_valid_python_and_ipython_has_no_errors() {
        for s in [
            "print(f\"{x:{'>' if a else '<'}10}\")\n",
            "match = 1\nmatch(x)\ntype = 5\ncase = 2\nprint(match, type)\n",
            "def f(*, a): pass\n",
            "x = *a, *b\n",
            "del a[0], b\n",
            "with (open(a) as f, open(b) as g):\n    pass\n",
            "try:\n    pass\nexcept (A, B) as e:\n    raise X from e\nfinally:\n    pass\n",
            "x = Rb'a' + BR\"b\" + rB'''c'''\n",
            "n = 1_000j + 0xFF + 1e-3 + 0o7 + 0b1 + 1.5E+3\n",
            "x = ...\n",
            "y = [z := 1 for _ in range(3)]\n",
            "@x[0].y\ndef f(): pass\n",
            "f = lambda *a, **k: 0\n",
            "def outer():\n    x = 1\n    def inner():\n        nonlocal x\n        x += 1\n",
            "a[*b]\n",
            "def g():\n    return *a, *b\n",
            "for x in *a, *b:\n    pass\n",
            "x = 1 + \\\n    2\n",
            "a = 1; b = 2;\n",
            "async def f():\n    return [x async for x in y]\n",
            "if x:\n\tpass\n",
            "assert x, 'm'\n",
            "a < b < c\n",
            "café = 1\nprint(café)\n",
            "type X[T] = list[T]\n",
            "print(*[1], sep='')\n",
            "x = f'''\n{a}\n{b!r}\n'''\n",
            "s = '''it's'''\nt = \"\"\"say \"hi\" \"\"\"\n",
            "x = 'a' 'b' \\\n    'c'\n",
            "class A(B, metaclass=M):\n    x: int = 0\n    def m(self) -> 'A': ...\n",
            "global g\n",
            "x = [\n    1,\n    2,\n]\n",
            "if a:\n    pass\nelif b:\n    pass\nelse:\n    pass\n",
            "while x:\n    break\nelse:\n    continue\n",
            "print(f\"{'a' 'b'}\")\n",
            "x = f\"{x!r:^{w}.{p}f}\"\n",
            "d = {**a, 'b': 1}\n",
            "s = {1, 2}\nt = ()\n",
            "x = not a\ny = a if b else c\n",
            "print(x, end='')\n# trailing comment",
            "x = 1  # comment with ( and \" quote\n",
            "\n\n    \n",
            "",
            "import a.b.c as d, e\nfrom . import x\nfrom ..y import (z,\n    w)\n",
            "x = f\"{\n    a\n}\"\n",
            "x = u'abc'\n",
            "raise\n",
            "return_value = yield_ = 1\n",
            "print(a if b else(c))\n",
            "x = 'a\\\nb'\n",
            "@property\ndef x(self): return self._x\n",
            "x = t'{a}'\n",
            "if True:\n    x = 1\n\n\n# comment at column 0\n    \ny = 2\n",
            "def f(\n    a,\n    b,\n):\n    pass\n",
            "x = [\n# comment\n1]\n",
            "x = 1\r\nif x:\r\n    y = 2\r\n",
            "%matplotlib inline\nimport numpy as np\n",
            "df.plot();\n",
            "x = !ls -la | grep \"(\"\ny = 1\n",
            "!echo \"it's\"\nz = 2\n",
        ] {
            assert_eq!(errors(s), [], "in {s:?}");
        }
    }
}

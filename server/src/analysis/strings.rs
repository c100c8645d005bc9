//! The value of a Python string literal, as `ast.literal_eval` would give it: prefixes,
//! quotes, escapes and implicit concatenation. Anything that is not a plain `str`
//! constant (f-strings, t-strings, bytes, broken literals) has no value here.

use super::py_node::{PyNode, all_children, named_children};

/// The value of `node` if it is a plain string literal, a parenthesised one, or an
/// implicit concatenation of plain literals.
pub(crate) fn literal_value<'t, N: PyNode<'t>>(node: N, text: &str) -> Option<String> {
    if node.has_error() {
        return None;
    }
    let node = unparenthesized(node)?;
    match node.kind() {
        "string" => string_value(node, text),
        "concatenated_string" => {
            let mut value = String::new();
            for part in named_children(node) {
                if part.kind() == "comment" {
                    continue;
                }
                value.push_str(&string_value(part, text)?);
            }
            Some(value)
        }
        _ => None,
    }
}

/// `(("a"))` → `"a"`, in a loop: nesting can be deeper than the stack allows recursion.
fn unparenthesized<'t, N: PyNode<'t>>(node: N) -> Option<N> {
    let mut current = node;
    while current.kind() == "parenthesized_expression" {
        let inner: Vec<N> = named_children(current)
            .into_iter()
            .filter(|child| child.kind() != "comment")
            .collect();
        match inner.as_slice() {
            [only] => current = *only,
            _ => return None,
        }
    }
    Some(current)
}

fn string_value<'t, N: PyNode<'t>>(node: N, text: &str) -> Option<String> {
    if node.kind() != "string" {
        return None;
    }
    if all_children(node)
        .into_iter()
        .any(|child| child.kind() == "interpolation" || child.is_missing())
    {
        return None;
    }
    let raw_text = text.get(node.start_byte()..node.end_byte())?;
    let quote_at = raw_text.find(['"', '\''])?;
    let prefix = raw_text[..quote_at].to_ascii_lowercase();
    if prefix.contains(['f', 'b', 't']) {
        return None;
    }
    let quoted = &raw_text[quote_at..];
    let quote = quoted.get(..1)?;
    let triple = quote.repeat(3);
    let delimiter = if quoted.len() >= 6 && quoted.starts_with(&triple) && quoted.ends_with(&triple)
    {
        triple.as_str()
    } else {
        quote
    };
    if quoted.len() < 2 * delimiter.len() || !quoted.ends_with(delimiter) {
        return None;
    }
    let body = &quoted[delimiter.len()..quoted.len() - delimiter.len()];
    if prefix.contains('r') {
        Some(body.to_string())
    } else {
        unescape(body)
    }
}

/// Python's escapes in a non-raw `str` literal; `None` for ones whose value we cannot
/// know here (`\N{...}`) or that are invalid.
fn unescape(body: &str) -> Option<String> {
    let mut value = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            value.push(c);
            continue;
        }
        let Some(escaped) = chars.next() else {
            value.push('\\');
            break;
        };
        match escaped {
            '\n' => {}
            '\r' => {
                chars.next_if_eq(&'\n');
            }
            '\\' | '\'' | '"' => value.push(escaped),
            'a' => value.push('\u{07}'),
            'b' => value.push('\u{08}'),
            'f' => value.push('\u{0c}'),
            'n' => value.push('\n'),
            'r' => value.push('\r'),
            't' => value.push('\t'),
            'v' => value.push('\u{0b}'),
            '0'..='7' => {
                let mut code = escaped.to_digit(8)?;
                for _ in 0..2 {
                    match chars.peek().and_then(|d| d.to_digit(8)) {
                        Some(digit) => {
                            code = code * 8 + digit;
                            chars.next();
                        }
                        None => break,
                    }
                }
                value.push(char::from_u32(code)?);
            }
            'x' => value.push(hex_escape(&mut chars, 2)?),
            'u' => value.push(hex_escape(&mut chars, 4)?),
            'U' => value.push(hex_escape(&mut chars, 8)?),
            'N' => return None,
            other => {
                value.push('\\');
                value.push(other);
            }
        }
    }
    Some(value)
}

fn hex_escape(chars: &mut impl Iterator<Item = char>, digits: usize) -> Option<char> {
    let mut code = 0u32;
    for _ in 0..digits {
        code = code * 16 + chars.next()?.to_digit(16)?;
    }
    char::from_u32(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::parse::parse_python;

    fn value_of(expression: &str) -> Option<String> {
        let text = format!("x = {expression}\n");
        let tree = parse_python(&text)?;
        let assignment = tree.root_node().named_child(0)?.named_child(0)?;
        let right = assignment.child_by_field_name("right")?;
        literal_value(right, &text)
    }

    #[test]
    fn plain_string_has_its_value() {
        assert_eq!(
            value_of(r#""artifacts/a.csv""#).as_deref(),
            Some("artifacts/a.csv")
        );
    }

    #[test]
    fn single_quoted_and_triple_quoted_strings_have_values() {
        assert_eq!(value_of("'a'").as_deref(), Some("a"));
        assert_eq!(value_of(r#""""a"b""""#).as_deref(), Some(r#"a"b"#));
        assert_eq!(value_of("''''''").as_deref(), Some(""));
    }

    #[test]
    fn escapes_are_decoded() {
        assert_eq!(
            value_of(r#""a\\b\x41\u00e9\n\101""#).as_deref(),
            Some("a\\bAé\nA")
        );
    }

    #[test]
    fn raw_strings_keep_backslashes() {
        assert_eq!(value_of(r#"r"a\b""#).as_deref(), Some(r"a\b"));
    }

    #[test]
    fn unknown_escape_is_kept() {
        assert_eq!(value_of(r#""a\d""#).as_deref(), Some(r"a\d"));
    }

    #[test]
    fn implicit_concatenation_is_one_literal() {
        assert_eq!(value_of(r#"("a/" "b.csv")"#).as_deref(), Some("a/b.csv"));
    }

    #[test]
    fn fstrings_bytes_and_expressions_have_no_value() {
        assert_eq!(value_of(r#"f"a""#), None);
        assert_eq!(value_of(r#"f"{a}""#), None);
        assert_eq!(value_of(r#"b"a""#), None);
        assert_eq!(value_of(r#""a" + b"#), None);
        assert_eq!(value_of(r#""a" f"{b}""#), None);
        assert_eq!(value_of(r#""\N{DASH}""#), None);
    }

    #[test]
    fn deeply_parenthesised_literal_has_its_value() {
        let depth = 3000;
        let expression = format!("{}'a'{}", "(".repeat(depth), ")".repeat(depth));
        assert_eq!(value_of(&expression).as_deref(), Some("a"));
    }

    #[test]
    fn unicode_prefix_is_a_plain_string() {
        assert_eq!(value_of(r#"u"é""#).as_deref(), Some("é"));
    }
}

//! The `ast.literal_eval` fallback jupytext uses for `key=value` metadata that is not JSON
//! (`relax_json_loads`): strings in either quote style with Python escapes and prefixes,
//! numbers, `True`/`False`/`None`, lists, tuples (→ arrays) and dicts.
//!
//! Values JSON cannot hold (sets, bytes, complex numbers, NaN, infinities, integers beyond
//! 64 bits) are refused, as they would fail jupytext's nbformat round trip anyway.

use serde_json::{Map, Number, Value};

/// Parses `text` as a Python literal; `None` when `ast.literal_eval` would fail (or give a
/// value JSON cannot hold).
pub(crate) fn literal_eval(text: &str) -> Option<Value> {
    let mut parser = Parser {
        text: text.as_bytes(),
        src: text,
        pos: 0,
        depth: 0,
    };
    parser.skip_space();
    let value = parser.expression(true)?;
    parser.skip_space();
    (parser.pos == parser.text.len()).then_some(value)
}

struct Parser<'a> {
    text: &'a [u8],
    src: &'a str,
    pos: usize,
    /// Bracket nesting; Python's parser refuses more than 200 levels.
    depth: usize,
}

const MAX_DEPTH: usize = 200;

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\x0c' => self.pos += 1,
                b'\\' if self.text.get(self.pos + 1) == Some(&b'\n') => self.pos += 2,
                b'#' => {
                    while self.peek().is_some_and(|b| b != b'\n') {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_space();
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// A value, or at top level / in parentheses a bare tuple `a, b`.
    fn expression(&mut self, allow_tuple: bool) -> Option<Value> {
        let first = self.atom()?;
        if !allow_tuple {
            return Some(first);
        }
        self.skip_space();
        if self.peek() != Some(b',') {
            return Some(first);
        }
        let mut items = vec![first];
        while self.eat(b',') {
            self.skip_space();
            match self.peek() {
                None | Some(b')') => break,
                _ => items.push(self.atom()?),
            }
        }
        Some(Value::Array(items))
    }

    fn sequence(&mut self, close: u8) -> Option<Vec<Value>> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some(items);
            }
            items.push(self.atom()?);
            if !self.eat(b',') {
                return self.eat(close).then_some(items);
            }
        }
    }

    fn atom(&mut self) -> Option<Value> {
        self.depth += 1;
        let value = if self.depth > MAX_DEPTH {
            None
        } else {
            self.atom_inner()
        };
        self.depth -= 1;
        value
    }

    fn atom_inner(&mut self) -> Option<Value> {
        self.skip_space();
        match self.peek()? {
            b'[' => {
                self.pos += 1;
                self.sequence(b']').map(Value::Array)
            }
            b'(' => {
                self.pos += 1;
                if self.eat(b')') {
                    return Some(Value::Array(Vec::new()));
                }
                let first = self.atom()?;
                if self.eat(b')') {
                    return Some(first);
                }
                if !self.eat(b',') {
                    return None;
                }
                let mut items = vec![first];
                items.extend(self.sequence(b')')?);
                Some(Value::Array(items))
            }
            b'{' => {
                self.pos += 1;
                self.dict()
            }
            b'-' | b'+' => {
                let negative = self.peek() == Some(b'-');
                self.pos += 1;
                self.skip_space();
                let value = self.atom()?;
                let number = value.as_number()?.clone();
                if !negative {
                    return Some(Value::Number(number));
                }
                negate(&number).map(Value::Number)
            }
            b'0'..=b'9' | b'.' => self.number(),
            b'"' | b'\'' => self.strings(),
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    self.pos += 1;
                }
                let word = &self.src[start..self.pos];
                if matches!(self.peek(), Some(b'"' | b'\'')) {
                    let prefix = word.to_ascii_lowercase();
                    return match prefix.as_str() {
                        "r" | "u" => {
                            self.pos = start;
                            self.strings()
                        }
                        _ => None,
                    };
                }
                match word {
                    "True" => Some(Value::Bool(true)),
                    "False" => Some(Value::Bool(false)),
                    "None" => Some(Value::Null),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn dict(&mut self) -> Option<Value> {
        let mut map = Map::new();
        loop {
            if self.eat(b'}') {
                return Some(Value::Object(map));
            }
            let key = self.atom()?;
            if !self.eat(b':') {
                // `{1, 2}` is a set: JSON has none.
                return None;
            }
            let value = self.atom()?;
            map.insert(json_key(&key)?, value);
            if !self.eat(b',') {
                return self.eat(b'}').then_some(Value::Object(map));
            }
        }
    }

    /// One or more adjacent string literals (Python concatenates them).
    fn strings(&mut self) -> Option<Value> {
        let mut out = String::new();
        let mut count = 0;
        loop {
            self.skip_space();
            let start = self.pos;
            let mut raw = false;
            while let Some(b) = self.peek() {
                match b {
                    b'r' | b'R' => raw = true,
                    b'u' | b'U' => {}
                    _ => break,
                }
                self.pos += 1;
            }
            if self.pos - start > 1 || !matches!(self.peek(), Some(b'"' | b'\'')) {
                self.pos = start;
                break;
            }
            out.push_str(&self.string_body(raw)?);
            count += 1;
        }
        (count > 0).then_some(Value::String(out))
    }

    fn string_body(&mut self, raw: bool) -> Option<String> {
        let quote = self.peek()?;
        let triple = self.text.get(self.pos..self.pos + 3) == Some(&[quote, quote, quote][..]);
        self.pos += if triple { 3 } else { 1 };
        let mut out = String::new();
        loop {
            let rest = self.src.get(self.pos..)?;
            let c = rest.chars().next()?;
            if c as u32 == quote as u32 {
                if !triple {
                    self.pos += 1;
                    return Some(out);
                }
                if rest.as_bytes().get(..3) == Some(&[quote, quote, quote][..]) {
                    self.pos += 3;
                    return Some(out);
                }
            }
            if c == '\n' && !triple {
                return None;
            }
            if c == '\\' {
                let next = rest[1..].chars().next()?;
                if raw {
                    out.push('\\');
                    out.push(next);
                    self.pos += 1 + next.len_utf8();
                    continue;
                }
                self.pos += 1 + next.len_utf8();
                match next {
                    '\n' => {}
                    '\\' | '\'' | '"' => out.push(next),
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\u{07}'),
                    'b' => out.push('\u{08}'),
                    'f' => out.push('\u{0c}'),
                    'v' => out.push('\u{0b}'),
                    '0'..='7' => {
                        let mut value = next.to_digit(8)?;
                        for _ in 0..2 {
                            match self.peek() {
                                Some(d @ b'0'..=b'7') => {
                                    value = value * 8 + u32::from(d - b'0');
                                    self.pos += 1;
                                }
                                _ => break,
                            }
                        }
                        out.push(char::from_u32(value)?);
                    }
                    'x' => out.push(self.hex_escape(2)?),
                    'u' => out.push(self.hex_escape(4)?),
                    'U' => out.push(self.hex_escape(8)?),
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
                continue;
            }
            out.push(c);
            self.pos += c.len_utf8();
        }
    }

    fn hex_escape(&mut self, digits: usize) -> Option<char> {
        let hex = self.src.get(self.pos..self.pos + digits)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.pos += digits;
        char::from_u32(u32::from_str_radix(hex, 16).ok()?)
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
            || (matches!(self.peek(), Some(b'+' | b'-'))
                && matches!(self.text.get(self.pos.wrapping_sub(1)), Some(b'e' | b'E'))
                && !self.src[start..self.pos].starts_with("0x")
                && !self.src[start..self.pos].starts_with("0X"))
        {
            self.pos += 1;
        }
        let token = &self.src[start..self.pos];
        if token.ends_with('_')
            || token.contains("__")
            || token.contains("_.")
            || token.contains("._")
        {
            return None;
        }
        let clean: String = token.chars().filter(|c| *c != '_').collect();
        let lower = clean.to_ascii_lowercase();
        let radix = |prefix: &str, radix: u32| -> Option<Value> {
            let digits = lower.strip_prefix(prefix)?;
            let n = u64::from_str_radix(digits, radix).ok()?;
            Some(Value::Number(Number::from(n)))
        };
        if lower.starts_with("0x") {
            return radix("0x", 16);
        }
        if lower.starts_with("0o") {
            return radix("0o", 8);
        }
        if lower.starts_with("0b") {
            return radix("0b", 2);
        }
        if lower.bytes().all(|b| b.is_ascii_digit()) {
            // Python 3 refuses `012` (but accepts `000`).
            if lower.len() > 1 && lower.starts_with('0') && lower.bytes().any(|b| b != b'0') {
                return None;
            }
            return lower
                .parse::<u64>()
                .ok()
                .map(|n| Value::Number(Number::from(n)));
        }
        if !lower
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'))
        {
            return None;
        }
        let (mantissa, _) = lower.split_once('e').unwrap_or((&lower, ""));
        if !mantissa.bytes().any(|b| b.is_ascii_digit()) {
            return None;
        }
        let value: f64 = lower.parse().ok()?;
        Number::from_f64(value)
            .filter(|_| value.is_finite())
            .map(Value::Number)
    }
}

fn negate(number: &Number) -> Option<Number> {
    if let Some(n) = number.as_u64() {
        if n == 0 {
            return Some(Number::from(0));
        }
        let n = i64::try_from(n).ok()?;
        return Some(Number::from(-n));
    }
    if let Some(n) = number.as_i64() {
        return n.checked_neg().map(Number::from);
    }
    number.as_f64().and_then(|f| Number::from_f64(-f))
}

/// The JSON key `json.dumps` writes for a Python dict key.
fn json_key(key: &Value) -> Option<String> {
    match key {
        Value::String(s) => Some(s.clone()),
        Value::Bool(true) => Some("true".into()),
        Value::Bool(false) => Some("false".into()),
        Value::Null => Some("null".into()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn single_quoted_lists() {
        assert_eq!(literal_eval("['a', \"b\"]"), Some(json!(["a", "b"])));
    }

    #[test]
    fn escapes_and_raw_strings() {
        assert_eq!(literal_eval(r#"'it\'s\n'"#), Some(json!("it's\n")));
        assert_eq!(literal_eval(r#"r'a\n'"#), Some(json!("a\\n")));
        assert_eq!(literal_eval(r#"'\x41\u00e9'"#), Some(json!("Aé")));
        assert_eq!(literal_eval("'a' 'b'"), Some(json!("ab")));
    }

    #[test]
    fn numbers_and_constants() {
        assert_eq!(literal_eval("-3"), Some(json!(-3)));
        assert_eq!(literal_eval("1_000"), Some(json!(1000)));
        assert_eq!(literal_eval("0x10"), Some(json!(16)));
        assert_eq!(literal_eval("2.5e1"), Some(json!(25.0)));
        assert_eq!(literal_eval("True"), Some(json!(true)));
        assert_eq!(literal_eval("None"), Some(json!(null)));
        assert_eq!(literal_eval("012"), None);
    }

    #[test]
    fn tuples_dicts_and_refusals() {
        assert_eq!(literal_eval("(1, 'a')"), Some(json!([1, "a"])));
        assert_eq!(literal_eval("1, 2"), Some(json!([1, 2])));
        assert_eq!(literal_eval("(1)"), Some(json!(1)));
        assert_eq!(
            literal_eval("{'a': [1], 2: None}"),
            Some(json!({"a": [1], "2": null}))
        );
        assert_eq!(literal_eval("{1, 2}"), None);
        assert_eq!(literal_eval("b'x'"), None);
        assert_eq!(literal_eval("hello"), None);
        assert_eq!(literal_eval("'unterminated"), None);
        assert_eq!(literal_eval("[1,"), None);
        assert_eq!(literal_eval(&"[".repeat(100_000)), None);
        assert_eq!(literal_eval(&"-".repeat(100_000)), None);
    }
}

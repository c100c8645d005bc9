//! YAML in and out: YAML text → JSON values (for options and front matter), and JSON values
//! → YAML text styled the way PyYAML's `yaml.dump` styles jupytext's metadata (block
//! mappings, flow lists unless they hold mappings, PyYAML's plain/quoted scalar choice,
//! lines folded past 80 columns).

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Number, Value};
use serde_yaml_ng::Value as Yaml;

/// Parses one YAML document into a JSON value; an empty document is `null`.
pub(crate) fn parse(text: &str) -> Result<Value, String> {
    if let Some(line) = tab_outside_scalar(text) {
        return Err(format!(
            "line {line}: a tab cannot start a YAML token (PyYAML rejects tabs outside quoted \
             strings and comments); use spaces"
        ));
    }
    // Straight into JSON values first: like PyYAML, that keeps the last of duplicate keys
    // (serde_yaml_ng's own `Value` rejects them); its own `Value` then takes non-string keys.
    if let Ok(value) = serde_yaml_ng::from_str::<Value>(text) {
        return Ok(value);
    }
    match serde_yaml_ng::from_str::<Yaml>(text) {
        Ok(value) => Ok(to_json(value)),
        Err(error) => {
            let only_comments = text
                .lines()
                .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'));
            if only_comments {
                Ok(Value::Null)
            } else {
                Err(error.to_string())
            }
        }
    }
}

/// The 1-based line of a tab that PyYAML's scanner rejects: one outside quoted scalars and
/// comments (libyaml, under serde_yaml_ng, lets some through).
fn tab_outside_scalar(text: &str) -> Option<usize> {
    let mut line = 1;
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut previous = ' ';
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some('"') if c == '\\' => {
                chars.next();
            }
            Some(open) if c == open => {
                if open == '\'' && chars.peek() == Some(&'\'') {
                    chars.next();
                } else {
                    quote = None;
                }
            }
            Some(_) => {}
            None if comment => {}
            None => match c {
                '\t' => return Some(line),
                '#' if previous.is_whitespace() => comment = true,
                '\'' | '"' if previous.is_whitespace() || "[{,:-?".contains(previous) => {
                    quote = Some(c)
                }
                _ => {}
            },
        }
        if c == '\n' {
            line += 1;
            comment = false;
        }
        previous = c;
    }
    None
}

fn to_json(value: Yaml) -> Value {
    match value {
        Yaml::Null => Value::Null,
        Yaml::Bool(flag) => Value::Bool(flag),
        Yaml::Number(number) => {
            if let Some(int) = number.as_i64() {
                Value::Number(int.into())
            } else if let Some(int) = number.as_u64() {
                Value::Number(int.into())
            } else {
                number
                    .as_f64()
                    .and_then(Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Yaml::String(text) => Value::String(text),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Yaml::Mapping(mapping) => {
            let mut map = Map::new();
            for (key, value) in mapping {
                map.insert(key_to_string(key), to_json(value));
            }
            Value::Object(map)
        }
        Yaml::Tagged(tagged) => to_json(tagged.value),
    }
}

/// JSON object keys are strings; Python's `json.dumps` writes non-string keys this way.
fn key_to_string(key: Yaml) -> String {
    match to_json(key) {
        Value::String(text) => text,
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

const BEST_WIDTH: usize = 80;

/// `yaml.dump(map, Dumper=CompactDumper, sort_keys=False, allow_unicode=True)`: jupytext's
/// style for front matter and options.
pub(crate) fn dump(map: &Map<String, Value>) -> String {
    dump_with(map, true, true)
}

/// `yaml.safe_dump(map, sort_keys=False)`: block lists, non-ASCII escaped.
pub(crate) fn safe_dump(map: &Map<String, Value>) -> String {
    dump_with(map, false, false)
}

fn dump_with(map: &Map<String, Value>, flow_lists: bool, allow_unicode: bool) -> String {
    let mut emitter = Emitter {
        out: String::new(),
        column: 0,
        flow_lists,
        allow_unicode,
    };
    if map.is_empty() {
        return "{}\n".into();
    }
    emitter.block_mapping(map, 0);
    emitter.out
}

struct Emitter {
    out: String,
    column: usize,
    /// CompactDumper writes lists without mappings in them as `[a, b]`.
    flow_lists: bool,
    allow_unicode: bool,
}

impl Emitter {
    fn write(&mut self, text: &str) {
        self.out.push_str(text);
        let is_break = |c: char| matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}');
        match text.char_indices().rev().find(|(_, c)| is_break(*c)) {
            Some((index, c)) => self.column = text[index + c.len_utf8()..].chars().count(),
            None => self.column += text.chars().count(),
        }
    }

    fn newline_indent(&mut self, indent: usize) {
        self.write("\n");
        self.write(&" ".repeat(indent));
    }

    fn block_mapping(&mut self, map: &Map<String, Value>, indent: usize) {
        for (index, (key, value)) in map.iter().enumerate() {
            if index > 0 {
                self.newline_indent(indent);
            }
            self.scalar_text(key, false, true, indent);
            self.write(":");
            match value {
                Value::Object(inner) if !inner.is_empty() => {
                    self.newline_indent(indent + 2);
                    self.block_mapping(inner, indent + 2);
                }
                Value::Array(items) if self.block_list(items) => {
                    // PyYAML writes a block sequence inside a mapping without indenting it.
                    self.newline_indent(indent);
                    self.block_sequence(items, indent);
                }
                _ => {
                    self.write(" ");
                    self.value(value, false, indent + 2);
                }
            }
        }
        if indent == 0 {
            self.write("\n");
        }
    }

    fn block_sequence(&mut self, items: &[Value], indent: usize) {
        for (index, item) in items.iter().enumerate() {
            if index > 0 {
                self.newline_indent(indent);
            }
            self.write("- ");
            match item {
                Value::Object(inner) if !inner.is_empty() => self.block_mapping(inner, indent + 2),
                Value::Array(inner) if self.block_list(inner) => {
                    self.block_sequence(inner, indent + 2)
                }
                _ => self.value(item, false, indent + 2),
            }
        }
    }

    fn block_list(&self, items: &[Value]) -> bool {
        !items.is_empty() && (!self.flow_lists || items.iter().any(Value::is_object))
    }

    fn value(&mut self, value: &Value, flow: bool, indent: usize) {
        match value {
            Value::Null => self.write("null"),
            Value::Bool(flag) => self.write(if *flag { "true" } else { "false" }),
            Value::Number(number) => self.write(&number_text(number)),
            Value::String(text) => self.scalar_text(text, flow, false, indent),
            Value::Array(items) => {
                self.write("[");
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        self.write(",");
                        if self.column > BEST_WIDTH {
                            self.newline_indent(indent);
                        } else {
                            self.write(" ");
                        }
                    }
                    self.value(item, true, indent + 2);
                }
                self.write("]");
            }
            Value::Object(map) => {
                self.write("{");
                for (index, (key, item)) in map.iter().enumerate() {
                    if index > 0 {
                        self.write(", ");
                    }
                    self.scalar_text(key, true, true, indent);
                    self.write(": ");
                    self.value(item, true, indent + 2);
                }
                self.write("}");
            }
        }
    }

    fn scalar_text(&mut self, text: &str, flow: bool, simple_key: bool, indent: usize) {
        let analysis = analyze(text, self.allow_unicode);
        let plain_allowed = if flow {
            analysis.allow_flow_plain
        } else {
            analysis.allow_block_plain
        };
        if !(simple_key && (text.is_empty() || analysis.multiline))
            && plain_allowed
            && resolves_to_string(text)
        {
            self.folded(text, indent, !simple_key);
        } else if analysis.allow_single_quoted && !(simple_key && analysis.multiline) {
            self.single_quoted(text, indent, !simple_key);
        } else {
            self.write(&double_quoted(text, self.allow_unicode));
        }
    }

    /// Plain text, broken at single spaces once past the width (PyYAML's `write_plain`).
    fn folded(&mut self, text: &str, indent: usize, split: bool) {
        let words: Vec<&str> = text.split(' ').collect();
        for (index, word) in words.iter().enumerate() {
            if index > 0 {
                let single_space = !word.is_empty() && !words[index - 1].is_empty();
                if split && single_space && self.column > BEST_WIDTH {
                    self.newline_indent(indent);
                } else {
                    self.write(" ");
                }
            }
            self.write(word);
        }
    }

    /// PyYAML's `write_single_quoted`: `'` doubled, a run of line breaks written with one
    /// more `\n` when it starts with one, then the indent; single spaces fold past the width.
    fn single_quoted(&mut self, text: &str, indent: usize, split: bool) {
        let is_break = |c: char| matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}');
        let chars: Vec<char> = text.chars().collect();
        self.write("'");
        let mut index = 0;
        while index < chars.len() {
            let c = chars[index];
            if c == ' ' {
                let run = chars[index..].iter().take_while(|&&c| c == ' ').count();
                let inside = index != 0 && index + run != chars.len();
                if run == 1 && inside && split && self.column > BEST_WIDTH {
                    self.newline_indent(indent);
                } else {
                    self.write(&" ".repeat(run));
                }
                index += run;
            } else if is_break(c) {
                let run = chars[index..].iter().take_while(|&&c| is_break(c)).count();
                if c == '\n' {
                    self.write("\n");
                }
                let breaks: String = chars[index..index + run].iter().collect();
                self.write(&breaks);
                self.write(&" ".repeat(indent));
                index += run;
            } else if c == '\'' {
                self.write("''");
                index += 1;
            } else {
                let run = chars[index..]
                    .iter()
                    .take_while(|&&c| c != ' ' && c != '\'' && !is_break(c))
                    .count();
                let word: String = chars[index..index + run].iter().collect();
                self.write(&word);
                index += run;
            }
        }
        self.write("'");
    }
}

/// Python's `repr(float)` as PyYAML writes it (`1.0e+16`, `.inf`).
fn number_text(number: &Number) -> String {
    if number.is_i64() || number.is_u64() {
        return number.to_string();
    }
    let Some(float) = number.as_f64() else {
        return number.to_string();
    };
    if float.is_nan() {
        return ".nan".into();
    }
    if float.is_infinite() {
        return if float > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    let scientific = format!("{float:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-4..16).contains(&exponent) {
        let text = float.to_string();
        if text.contains('.') {
            text
        } else {
            format!("{text}.0")
        }
    } else {
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    }
}

fn double_quoted(text: &str, allow_unicode: bool) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\0' => out.push_str("\\0"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0b' => out.push_str("\\v"),
            '\x0c' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\x1b' => out.push_str("\\e"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if is_printable(c) && (allow_unicode || c.is_ascii()) => out.push(c),
            c if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02X}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\x20'..='\x7e' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10fffe}')
        && c != '\u{feff}'
}

struct Analysis {
    multiline: bool,
    allow_flow_plain: bool,
    allow_block_plain: bool,
    allow_single_quoted: bool,
}

/// PyYAML's `Emitter.analyze_scalar`.
fn analyze(text: &str, allow_unicode: bool) -> Analysis {
    if text.is_empty() {
        return Analysis {
            multiline: false,
            allow_flow_plain: false,
            allow_block_plain: true,
            allow_single_quoted: true,
        };
    }
    let chars: Vec<char> = text.chars().collect();
    let is_space_or_break = |c: char| {
        matches!(
            c,
            '\0' | ' ' | '\t' | '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}'
        )
    };
    let is_break = |c: char| matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}');
    let mut block_indicators = false;
    let mut flow_indicators = false;
    if text.starts_with("---") || text.starts_with("...") {
        block_indicators = true;
        flow_indicators = true;
    }
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let mut followed_by_whitespace = chars.len() == 1 || is_space_or_break(chars[1]);
    for (index, &c) in chars.iter().enumerate() {
        if index == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(c) {
                flow_indicators = true;
                block_indicators = true;
            }
            if c == '?' || c == ':' {
                flow_indicators = true;
                if followed_by_whitespace {
                    block_indicators = true;
                }
            }
            if c == '-' && followed_by_whitespace {
                flow_indicators = true;
                block_indicators = true;
            }
        } else {
            if ",?[]{}".contains(c) {
                flow_indicators = true;
            }
            if c == ':' {
                flow_indicators = true;
                if followed_by_whitespace {
                    block_indicators = true;
                }
            }
            if c == '#' && preceded_by_whitespace {
                flow_indicators = true;
                block_indicators = true;
            }
        }
        if is_break(c) {
            line_breaks = true;
        }
        let plain_ascii = c == '\n' || ('\x20'..='\x7e').contains(&c);
        let allowed = plain_ascii || (is_printable(c) && allow_unicode);
        if !allowed {
            special = true;
        }
        if c == ' ' {
            if index == 0 {
                leading_space = true;
            }
            if index == chars.len() - 1 {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            if index == 0 {
                leading_break = true;
            }
            if index == chars.len() - 1 {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_space_or_break(c);
        followed_by_whitespace = index + 2 >= chars.len() || is_space_or_break(chars[index + 2]);
    }
    let mut allow_flow_plain = true;
    let mut allow_block_plain = true;
    let mut allow_single_quoted = true;
    if leading_space || leading_break || trailing_space || trailing_break {
        allow_flow_plain = false;
        allow_block_plain = false;
    }
    if break_space {
        allow_flow_plain = false;
        allow_block_plain = false;
        allow_single_quoted = false;
    }
    if space_break || special {
        allow_flow_plain = false;
        allow_block_plain = false;
        allow_single_quoted = false;
    }
    if line_breaks {
        allow_flow_plain = false;
        allow_block_plain = false;
    }
    if flow_indicators {
        allow_flow_plain = false;
    }
    if block_indicators {
        allow_block_plain = false;
    }
    Analysis {
        multiline: line_breaks,
        allow_flow_plain,
        allow_block_plain,
        allow_single_quoted,
    }
}

/// Whether PyYAML's (YAML 1.1) resolver reads `text` written plain back as a string.
fn resolves_to_string(text: &str) -> bool {
    static IMPLICIT: LazyLock<Vec<Regex>> = LazyLock::new(|| {
        [
            r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
            r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
            r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
            r"^(?:<<)$",
            r"^(?:~|null|Null|NULL|)$",
            r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
            r"^(?:=)$",
        ]
        .iter()
        .filter_map(|pattern| Regex::new(pattern).ok())
        .collect()
    });
    !IMPLICIT.iter().any(|pattern| pattern.is_match(text))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn dumped(value: Value) -> String {
        match value {
            Value::Object(map) => dump(&map),
            _ => String::new(),
        }
    }

    #[test]
    fn parses_yaml_to_json() {
        assert_eq!(
            parse("tags: [a, b]\nn: 1\n"),
            Ok(json!({"tags": ["a", "b"], "n": 1}))
        );
        assert_eq!(parse(""), Ok(Value::Null));
        assert!(parse("a: [").is_err());
    }

    #[test]
    fn tabs_outside_quotes_are_rejected_like_pyyaml() {
        assert!(parse("tags: [a]\t").is_err());
        assert!(parse("\ta: 1").is_err());
        assert_eq!(parse("a: \"x\ty\" # c\td"), Ok(json!({"a": "x\ty"})));
        assert_eq!(parse("a: 'it''s\t'"), Ok(json!({"a": "it's\t"})));
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_like_pyyaml() {
        assert_eq!(parse("a: 1\nb: 2\na: 3\n"), Ok(json!({"a": 3, "b": 2})));
    }

    #[test]
    fn non_string_keys_become_strings() {
        assert_eq!(parse("1: a\n"), Ok(json!({"1": "a"})));
    }

    #[test]
    fn dumps_flow_lists_and_block_mappings() {
        let value = json!({"tags": ["hide-input", "x y"], "meta": {"a": 1, "b": true}, "e": {}});
        assert_eq!(
            dumped(value),
            "tags: [hide-input, x y]\nmeta:\n  a: 1\n  b: true\ne: {}\n"
        );
    }

    #[test]
    fn lists_of_mappings_are_block_sequences() {
        assert_eq!(
            dumped(json!({"l": [{"a": 1, "b": 2}, 3]})),
            "l:\n- a: 1\n  b: 2\n- 3\n"
        );
    }

    #[test]
    fn strings_that_resolve_otherwise_are_quoted() {
        let value = json!({"a": "yes", "b": "1.5", "c": "", "d": "- x", "e": "a: b", "f": "it's"});
        assert_eq!(
            dumped(value),
            "a: 'yes'\nb: '1.5'\nc: ''\nd: '- x'\ne: 'a: b'\nf: it's\n"
        );
    }

    #[test]
    fn flow_indicators_quote_inside_lists() {
        assert_eq!(dumped(json!({"t": ["a,b", "c"]})), "t: ['a,b', c]\n");
    }

    #[test]
    fn special_characters_are_double_quoted() {
        assert_eq!(
            dumped(json!({"a": "x\ty", "b": "x \ny"})),
            "a: \"x\\ty\"\nb: \"x \\ny\"\n"
        );
    }

    #[test]
    fn multiline_strings_are_single_quoted_with_blank_lines() {
        assert_eq!(dumped(json!({"a": "x\ny"})), "a: 'x\n\n  y'\n");
        assert_eq!(dumped(json!({"a": "x\n"})), "a: 'x\n\n  '\n");
        assert_eq!(dumped(json!({"a": ["\u{85}"]})), "a: ['\u{85}    ']\n");
    }

    #[test]
    fn floats_look_like_python() {
        assert_eq!(
            dumped(json!({"a": 1.0, "b": 1e20, "c": 0.5})),
            "a: 1.0\nb: 1.0e+20\nc: 0.5\n"
        );
    }

    #[test]
    fn safe_dump_writes_block_lists_and_escapes_unicode() {
        let Value::Object(map) = json!({"l": ["a", ["b"]], "u": "é"}) else {
            return;
        };
        assert_eq!(safe_dump(&map), "l:\n- a\n- - b\nu: \"\\xE9\"\n");
    }

    #[test]
    fn long_plain_strings_fold_at_eighty_columns() {
        let long = "word ".repeat(20).trim_end().to_string();
        let text = dumped(json!({ "a": long }));
        assert!(text.lines().count() > 1, "{text}");
    }
}

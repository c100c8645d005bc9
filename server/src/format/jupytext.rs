//! Conventions jupytext follows in both text formats: `json.dumps` exactly as Python
//! writes it (for metadata in `# %%` headers and `+++` lines), the cell metadata jupytext
//! never writes into a text notebook, and its `recursive_update` of metadata.

use serde_json::{Map, Value};

/// Cell metadata jupytext never writes in a text notebook (`_IGNORE_CELL_METADATA`).
pub(crate) const IGNORED_CELL_METADATA: &[&str] = &[
    "autoscroll",
    "collapsed",
    "scrolled",
    "trusted",
    "execution",
    "ExecuteTime",
    "skipline",
    "noskipline",
    "cell_marker",
    "lines_to_next_cell",
    "lines_to_end_of_cell_marker",
];

/// The format options a notebook's `jupytext` metadata sets for reading and writing its
/// cells.
#[derive(Debug, Clone, Default)]
pub(crate) struct CellOptions {
    /// `comment_magics: false`: magics stay as they are written, never (un)commented.
    pub no_comment_magics: bool,
    /// `custom_cell_magics` and `custom_language_magics`: more `%%name` magics that a
    /// `language="name"` cell header stands for.
    pub custom_magics: Vec<String>,
}

impl CellOptions {
    pub(crate) fn from_metadata(metadata: &Map<String, Value>) -> Self {
        let jupytext = metadata.get("jupytext");
        let custom_magics = ["custom_cell_magics", "custom_language_magics"]
            .iter()
            .filter_map(|key| jupytext.and_then(|jupytext| jupytext.get(*key)))
            .filter_map(Value::as_str)
            .flat_map(|names| names.split(','))
            .filter(|name| !name.is_empty())
            .map(str::to_string)
            .collect();
        CellOptions {
            no_comment_magics: jupytext.and_then(|jupytext| jupytext.get("comment_magics"))
                == Some(&Value::Bool(false)),
            custom_magics,
        }
    }

    /// Whether `%%name` is a cell magic for a language (or a custom one).
    pub(crate) fn is_language_magic(&self, name: &str, languages: &[&str]) -> bool {
        languages.contains(&name) || self.custom_magics.iter().any(|custom| custom == name)
    }
}

/// `json.dumps(value)` with Python's default separators (`", "`, `": "`) and
/// `ensure_ascii=True`.
pub(crate) fn python_json_dumps(value: &Value) -> String {
    let mut out = String::new();
    dump(value, &mut out);
    out
}

fn dump(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&python_number(n)),
        Value::String(s) => dump_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dump(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dump_string(key, out);
                out.push_str(": ");
                dump(item, out);
            }
            out.push('}');
        }
    }
}

/// Python's `repr(float)` differs from Rust's `Display` (`1e16` vs `1e+16`, `1.0` vs `1`).
fn python_number(n: &serde_json::Number) -> String {
    if n.is_f64() {
        let f = n.as_f64().unwrap_or(0.0);
        let abs = f.abs();
        if abs != 0.0 && !(1e-4..1e16).contains(&abs) {
            let s = format!("{f:e}");
            let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
            let exponent: i32 = exponent.parse().unwrap_or(0);
            let sign = if exponent < 0 { '-' } else { '+' };
            return format!("{mantissa}e{sign}{:02}", exponent.abs());
        }
        let s = format!("{f}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        n.to_string()
    }
}

fn dump_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The object under `key`, made one if it is missing or not an object.
pub(crate) fn object_entry<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
) -> &'a mut Map<String, Value> {
    let entry = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    match entry {
        Value::Object(inner) => inner,
        _ => unreachable!("just made an object"),
    }
}

/// jupytext's `recursive_update`: nested objects merge, `null` deletes, others overwrite.
pub(crate) fn recursive_update(target: &mut Map<String, Value>, update: Map<String, Value>) {
    for (key, value) in update {
        match value {
            Value::Null => {
                target.shift_remove(&key);
            }
            Value::Object(inner) => recursive_update(object_entry(target, &key), inner),
            other => {
                target.insert(key, other);
            }
        }
    }
}

/// Python's truthiness of a JSON value (`bool(value)`), as jupytext's filters test it.
pub(crate) fn python_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64() != Some(0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn dumps_like_python_json_with_ensure_ascii() {
        let value = json!({"a": [1, 2.5, 1e20, 0.0001, null, true], "é\u{7f}": "x\"y\n"});
        assert_eq!(
            python_json_dumps(&value),
            r#"{"a": [1, 2.5, 1e+20, 0.0001, null, true], "\u00e9\u007f": "x\"y\n"}"#
        );
    }
}

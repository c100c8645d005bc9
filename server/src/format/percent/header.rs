//! The options after `# %%`: title, `[markdown]`/`[md]`/`[raw]`, sub-cell depth and
//! metadata, parsed as jupytext's `text_to_metadata` / `parse_key_equal_value` /
//! `relax_json_loads` do (JSON first, then the Python-literal fallback; a bare identifier
//! is a key with value null; the `{...}` JSON-object form).

use crate::format::jupytext::python_json_dumps;
use serde_json::{Map, Value};

use super::lines::{py_rstrip, py_strip};
use super::python_literal::literal_eval;

/// The key jupytext stores unparseable metadata under.
pub(crate) const INCORRECTLY_ENCODED: &str = "incorrectly_encoded_metadata";

/// `_IS_IDENTIFIER`: `^[a-zA-Z_\.]+[a-zA-Z0-9_\.]*$`.
fn is_identifier(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'.')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

/// `_IS_VALID_METADATA_KEY`: `^[a-zA-Z0-9_\.@/-]+$`.
fn is_valid_metadata_key(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'@' | b'/' | b'-'))
}

/// `json.loads`, then `ast.literal_eval`.
pub(crate) fn relax_json_loads(text: &str) -> Option<Value> {
    let text = py_strip(text);
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        return Some(value);
    }
    literal_eval(text)
}

fn incorrectly_encoded(text: &str) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(INCORRECTLY_ENCODED.into(), Value::String(text.into()));
    map
}

/// Python's `str.rfind(needle, None, end)`.
fn rfind_before(text: &str, needle: char, end: Option<usize>) -> Option<usize> {
    let end = end.unwrap_or(text.len()).min(text.len());
    text.get(..end)?.rfind(needle)
}

/// `parse_key_equal_value`: `key1=value1 key2=value2`, read from the right.
pub(crate) fn parse_key_equal_value(text: &str) -> Map<String, Value> {
    parse_key_equal_value_at(text, 0)
}

/// jupytext recurses once per pair; past this many pairs we stop (keeping the rest as
/// unparsed text) rather than risk the stack on a pathological header.
const MAX_PAIRS: usize = 256;

fn parse_key_equal_value_at(text: &str, depth: usize) -> Map<String, Value> {
    let text = py_strip(text);
    if depth > MAX_PAIRS {
        return incorrectly_encoded(text);
    }
    if text.is_empty() {
        return Map::new();
    }
    let last_space = text.rfind(' ');
    let last_word = &text[last_space.map_or(0, |p| p + 1)..];
    if !text.starts_with("--") && is_identifier(last_word) {
        let mut result = Map::new();
        result.insert(last_word.to_string(), Value::Null);
        if let Some(pos) = last_space.filter(|p| *p > 0) {
            // Python's `result.update(...)` keeps the identifier first.
            for (key, value) in parse_key_equal_value_at(&text[..pos], depth + 1) {
                result.insert(key, value);
            }
        }
        return result;
    }
    let mut equal_sign: Option<usize> = None;
    loop {
        let Some(pos) = rfind_before(text, '=', equal_sign) else {
            return incorrectly_encoded(text);
        };
        equal_sign = Some(pos);
        let before = py_rstrip(&text[..pos]);
        let prev_whitespace = before.rfind(' ');
        let key_start = prev_whitespace.map_or(0, |p| p + 1);
        let key = py_strip(text.get(key_start..pos).unwrap_or(""));
        if !is_valid_metadata_key(key) {
            continue;
        }
        let Some(value) = relax_json_loads(&text[pos + 1..]) else {
            continue;
        };
        let mut metadata = match prev_whitespace {
            Some(p) if p > 0 => parse_key_equal_value_at(&text[..p], depth + 1),
            _ => Map::new(),
        };
        metadata.insert(key.to_string(), value);
        return metadata;
    }
}

/// What `text_to_metadata(text, allow_title=True)` gives: the title and the metadata.
pub(crate) fn text_to_metadata(text: &str) -> (String, Map<String, Value>) {
    let text = py_strip(text);
    let first_curly = text.find('{');
    let first_equal = text.find('=');
    let key_value_form = match (first_curly, first_equal) {
        (None, _) => true,
        (Some(curly), Some(equal)) => equal < curly,
        (Some(_), None) => false,
    };
    if key_value_form {
        let mut words: Vec<&str> = match first_equal {
            Some(equal) => {
                let mut words: Vec<&str> = text[..equal].split(' ').collect();
                while words.last().is_some_and(|w| w.is_empty()) {
                    words.pop();
                }
                words.pop();
                words
            }
            None => text.split(' ').collect(),
        };
        while words
            .last()
            .is_some_and(|w| py_strip(w).is_empty() || w.starts_with('.'))
        {
            words.pop();
        }
        let title = words.join(" ");
        let rest = text.get(title.len()..).unwrap_or("");
        return (title, parse_key_equal_value(rest));
    }
    let curly = first_curly.unwrap_or(0);
    let title = py_strip(&text[..curly]).to_string();
    let json = &text[curly..];
    let metadata = match relax_json_loads(json) {
        Some(Value::Object(map)) => map,
        // jupytext would keep a non-dict value and then fail; we record it as unparseable.
        _ => incorrectly_encoded(py_strip(json)),
    };
    (title, metadata)
}

/// `is_json_metadata`: the options use the `{...}` form.
pub(crate) fn is_json_metadata(text: &str) -> bool {
    match (text.find('{'), text.find('=')) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(curly), Some(equal)) => curly < equal,
    }
}

/// `options_to_metadata` of the percent reader: title, cell type, sub-cell depth.
/// `options` is the text after `%%`.
pub(crate) fn options_to_metadata(options: &str) -> Map<String, Value> {
    let (mut title, mut metadata) = text_to_metadata(options);
    for (cell_type, code) in [("markdown", "[markdown]"), ("raw", "[raw]"), ("md", "[md]")] {
        if title.contains(code) {
            title = py_strip(&title.replace(code, "")).to_string();
            if cell_type == "md" {
                metadata.insert("cell_type".into(), Value::String("markdown".into()));
                metadata.insert("region_name".into(), Value::String("md".into()));
            } else {
                metadata.insert("cell_type".into(), Value::String(cell_type.into()));
            }
            break;
        }
    }
    let mut depth = 0u64;
    while let Some(rest) = title.strip_prefix('%') {
        depth += 1;
        title = rest.to_string();
    }
    if depth > 0 {
        metadata.insert("cell_depth".into(), Value::from(depth));
        title = py_strip(&title).to_string();
    }
    if !title.is_empty() {
        metadata.insert("title".into(), Value::String(title));
    }
    metadata
}

/// `metadata_to_text(title, metadata, plain_json)`: key=value form (jupytext's writer
/// spelling), or one JSON object when the notebook uses that form.
pub(crate) fn metadata_to_text(
    title: &str,
    metadata: &Map<String, Value>,
    plain_json: bool,
) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !title.is_empty() {
        parts.push(title.to_string());
    }
    let is_jupytext_key = |key: &str| {
        matches!(
            key,
            "skipline"
                | "noskipline"
                | "cell_marker"
                | "lines_to_next_cell"
                | "lines_to_end_of_cell_marker"
        )
    };
    if plain_json {
        let kept: Map<String, Value> = metadata
            .iter()
            .filter(|(key, _)| !is_jupytext_key(key))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        if !kept.is_empty() {
            parts.push(python_json_dumps(&Value::Object(kept)));
        }
        return parts.join(" ");
    }
    for (key, value) in metadata {
        if is_jupytext_key(key) {
            continue;
        }
        if key == INCORRECTLY_ENCODED {
            match value {
                Value::String(s) => parts.push(s.clone()),
                other => parts.push(python_str(other)),
            }
        } else if value.is_null() {
            parts.push(key.clone());
        } else {
            parts.push(format!("{key}={}", python_json_dumps(value)));
        }
    }
    parts.join(" ")
}

/// `str(value)` for the rare non-string `incorrectly_encoded_metadata`.
fn python_str(value: &Value) -> String {
    python_json_dumps(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(options: &str) -> Value {
        Value::Object(options_to_metadata(options))
    }

    #[test]
    fn title_before_tags() {
        assert_eq!(
            meta(" Load the data tags=[\"jc.load\",\"name=raw\"]"),
            json!({"tags": ["jc.load", "name=raw"], "title": "Load the data"})
        );
    }

    #[test]
    fn markdown_md_and_raw() {
        assert_eq!(meta(" [markdown]"), json!({"cell_type": "markdown"}));
        assert_eq!(
            meta(" [md]"),
            json!({"cell_type": "markdown", "region_name": "md"})
        );
        assert_eq!(
            meta(" Intro [raw] key=1"),
            json!({"key": 1, "cell_type": "raw", "title": "Intro"})
        );
    }

    #[test]
    fn sub_cells_count_percents() {
        assert_eq!(meta("% sub"), json!({"cell_depth": 1, "title": "sub"}));
        assert_eq!(
            meta("%% deeper"),
            json!({"cell_depth": 2, "title": "deeper"})
        );
    }

    #[test]
    fn python_literal_fallback_and_identifiers() {
        assert_eq!(meta(" tags=['a', 'b']"), json!({"tags": ["a", "b"]}));
        assert_eq!(
            meta(" active=\"ipynb\" custom=3"),
            json!({"active": "ipynb", "custom": 3})
        );
        // With no `=`, words are a title; after a key=value pair, a bare identifier is a key.
        assert_eq!(meta(" slideshow"), json!({"title": "slideshow"}));
        assert_eq!(
            meta(" tags=[] slideshow"),
            json!({"slideshow": null, "tags": []})
        );
        assert_eq!(meta(" a=1 flag"), json!({"flag": null, "a": 1}));
    }

    #[test]
    fn json_object_header() {
        assert_eq!(meta(" {\"tags\": [\"x\"]}"), json!({"tags": ["x"]}));
        assert_eq!(meta(" Title {\"a\": 1}"), json!({"a": 1, "title": "Title"}));
        assert_eq!(
            meta(" {nope"),
            json!({"incorrectly_encoded_metadata": "{nope"})
        );
    }

    #[test]
    fn values_with_spaces_and_equals() {
        assert_eq!(
            meta(" magic_args=\"-w 400 -h 240\" language=\"R\""),
            json!({"magic_args": "-w 400 -h 240", "language": "R"})
        );
        assert_eq!(meta(" tags=[\"deps=a\"]"), json!({"tags": ["deps=a"]}));
    }

    #[test]
    fn unparseable_value_is_kept_verbatim() {
        assert_eq!(
            meta(" key=[1,"),
            json!({"incorrectly_encoded_metadata": "key=[1,"})
        );
    }

    #[test]
    fn writer_spelling_matches_json_dumps() {
        let metadata = options_to_metadata(" tags=['a'] x=1.5 flag");
        assert_eq!(
            metadata_to_text("T", &metadata, false),
            "T flag tags=[\"a\"] x=1.5"
        );
        assert_eq!(
            metadata_to_text("T", &metadata, true),
            "T {\"flag\": null, \"tags\": [\"a\"], \"x\": 1.5}"
        );
        assert_eq!(
            python_json_dumps(&json!({"a": "é"})),
            "{\"a\": \"\\u00e9\"}"
        );
    }
}

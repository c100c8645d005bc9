//! nbval's output comparison of one cell, on nbformat outputs (both sides after
//! `clear_output` and `update_display_data` were applied — the fresh side by the runner,
//! the reference because a saved notebook holds what the frontend showed).
//!
//! Each side is flattened to key → values in order: a stream's key is its name
//! (`stdout`, `stderr`) and all text of one stream is coalesced first (so interleaving
//! does not matter), with `\b` deleting the character before it and text before a bare
//! `\r` dropped; a display's or result's keys are its MIME types; an error's are `ename`
//! and `evalue`; a scrapbook value's key is `scrap NAME` (so scraps compare by name).
//! Order across keys is ignored, order and count within a key matter. Skipped as in
//! nbval: metadata, tracebacks, execution counts, widget views, and `image/png` /
//! `image/jpeg` unless asked for. Sanitizers apply to every string value on both sides.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::sanitize::{self, Sanitizer};
use crate::format::scraps;

/// MIME types nbval never compares ("model IDs are random").
const NEVER_COMPARED: &[&str] = &["application/vnd.jupyter.widget-view+json"];
/// Raster images: compared only with [`CompareOptions::images`].
const RASTER_IMAGES: &[&str] = &["image/png", "image/jpeg"];

#[derive(Debug, Clone, Default)]
pub struct CompareOptions {
    /// Compare `image/png` and `image/jpeg` too (nbval's `--nbdime`).
    pub images: bool,
    pub sanitizers: Vec<Sanitizer>,
}

/// One way the fresh outputs differ from the reference.
#[derive(Debug, Clone, PartialEq)]
pub enum Mismatch {
    /// Keys the reference has and this run did not produce.
    Missing(Vec<String>),
    /// Keys this run produced that the reference does not have.
    Unexpected(Vec<String>),
    /// The key has a different number of values.
    Count {
        key: String,
        reference: usize,
        fresh: usize,
    },
    /// The first differing value of a key (its position among the key's values).
    Value {
        key: String,
        index: usize,
        reference: Value,
        fresh: Value,
    },
}

impl Mismatch {
    /// nbval's words for it.
    pub fn summary(&self) -> String {
        match self {
            Mismatch::Missing(keys) => {
                format!(
                    "missing output: {} (the reference has it, this run did not produce it)",
                    keys.join(", ")
                )
            }
            Mismatch::Unexpected(keys) => format!(
                "unexpected output: {} (this run produced it, the reference has none)",
                keys.join(", ")
            ),
            Mismatch::Count {
                key,
                reference,
                fresh,
            } => format!(
                "dissimilar number of outputs for {key}: the reference has {reference}, this run {fresh}"
            ),
            Mismatch::Value { key, .. } => format!("mismatch {key}"),
        }
    }
}

type Flat = BTreeMap<String, Vec<Value>>;

/// How `fresh` differs from `reference`; empty when nbval would pass the cell.
pub fn compare(reference: &[Value], fresh: &[Value], options: &CompareOptions) -> Vec<Mismatch> {
    let reference = flatten(reference, options);
    let fresh = flatten(fresh, options);
    let missing: Vec<String> = reference
        .keys()
        .filter(|key| !fresh.contains_key(*key))
        .cloned()
        .collect();
    let unexpected: Vec<String> = fresh
        .keys()
        .filter(|key| !reference.contains_key(*key))
        .cloned()
        .collect();
    let mut mismatches = Vec::new();
    if !missing.is_empty() {
        mismatches.push(Mismatch::Missing(missing));
    }
    if !unexpected.is_empty() {
        mismatches.push(Mismatch::Unexpected(unexpected));
    }
    for (key, expected) in &reference {
        let Some(got) = fresh.get(key) else {
            continue;
        };
        if expected.len() != got.len() {
            mismatches.push(Mismatch::Count {
                key: key.clone(),
                reference: expected.len(),
                fresh: got.len(),
            });
            continue;
        }
        if let Some(index) = (0..expected.len()).find(|&i| expected[i] != got[i]) {
            mismatches.push(Mismatch::Value {
                key: key.clone(),
                index,
                reference: expected[index].clone(),
                fresh: got[index].clone(),
            });
        }
    }
    mismatches
}

fn flatten(outputs: &[Value], options: &CompareOptions) -> Flat {
    let mut flat = Flat::new();
    let mut streams: Vec<(String, String)> = Vec::new();
    for output in outputs {
        let Value::Object(fields) = output else {
            continue;
        };
        match fields.get("output_type").and_then(Value::as_str) {
            Some("stream") => {
                let name = fields
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("stdout")
                    .to_string();
                let text = joined(fields.get("text"));
                match streams.iter_mut().find(|(seen, _)| *seen == name) {
                    Some((_, all)) => all.push_str(&text),
                    None => streams.push((name, text)),
                }
            }
            Some("display_data" | "execute_result") => {
                let data = fields
                    .get("data")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                add_bundle(&mut flat, &data, options);
            }
            Some("error") => {
                for key in ["ename", "evalue"] {
                    let text = joined(fields.get(key));
                    push(&mut flat, key, Value::String(text), options);
                }
            }
            _ => {}
        }
    }
    for (name, text) in streams {
        let text = without_overwritten(&text);
        push(&mut flat, &name, Value::String(text), options);
    }
    flat
}

fn add_bundle(flat: &mut Flat, data: &Map<String, Value>, options: &CompareOptions) {
    for scrap in scraps::scraps_in_bundle(data) {
        push(flat, &format!("scrap {}", scrap.name), scrap.data, options);
    }
    for (mime, value) in data {
        if scraps::is_scrap_mime(mime)
            || NEVER_COMPARED.contains(&mime.as_str())
            || (!options.images && RASTER_IMAGES.contains(&mime.as_str()))
        {
            continue;
        }
        let value = match value {
            Value::Array(_) if mime.starts_with("text/") || mime.starts_with("image/") => {
                Value::String(joined(Some(value)))
            }
            other => other.clone(),
        };
        push(flat, mime, value, options);
    }
}

fn push(flat: &mut Flat, key: &str, value: Value, options: &CompareOptions) {
    flat.entry(key.to_string())
        .or_default()
        .push(sanitized(value, &options.sanitizers));
}

/// Every string inside `value` sanitized.
fn sanitized(value: Value, sanitizers: &[Sanitizer]) -> Value {
    if sanitizers.is_empty() {
        return value;
    }
    match value {
        Value::String(text) => Value::String(sanitize::apply(sanitizers, &text)),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| sanitized(item, sanitizers))
                .collect(),
        ),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(key, item)| (key, sanitized(item, sanitizers)))
                .collect(),
        ),
        other => other,
    }
}

/// A string or nbformat's list of lines, joined.
fn joined(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(lines)) => lines.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// Stream text as a terminal leaves it: `\b` deletes the character before it, and on each
/// line the text before the last `\r` that is followed by more of the line is dropped
/// (nbval's `^.*\r(?=[^\n])`).
fn without_overwritten(text: &str) -> String {
    let mut erased = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\u{8}' {
            if erased.chars().last().is_some_and(|last| last != '\n') {
                erased.pop();
            }
        } else {
            erased.push(c);
        }
    }
    erased
        .split_inclusive('\n')
        .map(|line| {
            let body = line.strip_suffix('\n').unwrap_or(line);
            match body
                .char_indices()
                .rev()
                .find(|&(at, c)| c == '\r' && at + 1 < body.len())
            {
                Some((at, _)) => &line[at + 1..],
                None => line,
            }
        })
        .collect()
}

/// A value as the report shows it: text as is, base64 images shortened to their first
/// characters and a hash, other JSON pretty-printed.
pub fn value_text(key: &str, value: &Value) -> String {
    match value {
        Value::String(text)
            if key.starts_with("image/") && !key.contains("svg") && text.len() > 64 =>
        {
            let hash = blake3::hash(text.as_bytes()).to_hex();
            format!(
                "{}...<snip base64, blake3={}>",
                &text[..8.min(text.len())],
                &hash[..16]
            )
        }
        Value::String(text) => text.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stream(name: &str, text: &str) -> Value {
        json!({"output_type": "stream", "name": name, "text": text})
    }

    fn result(data: Value) -> Value {
        json!({"output_type": "execute_result", "data": data, "metadata": {"x": 1}, "execution_count": 7})
    }

    #[test]
    fn equal_outputs_pass_whatever_their_counts_metadata_and_interleaving() {
        let reference = vec![
            stream("stdout", "a\n"),
            stream("stderr", "w\n"),
            stream("stdout", "b\n"),
            result(json!({"text/plain": ["4", "2"]})),
        ];
        let fresh = vec![
            stream("stdout", "a\nb\n"),
            stream("stderr", "w\n"),
            json!({"output_type": "execute_result", "data": {"text/plain": "42"}, "metadata": {}, "execution_count": 1}),
        ];
        assert_eq!(
            compare(&reference, &fresh, &CompareOptions::default()),
            vec![]
        );
    }

    #[test]
    fn a_changed_value_reports_the_key_and_both_values() {
        let mismatches = compare(
            &[result(json!({"text/plain": "1"}))],
            &[result(json!({"text/plain": "2"}))],
            &CompareOptions::default(),
        );
        assert_eq!(
            mismatches,
            vec![Mismatch::Value {
                key: "text/plain".into(),
                index: 0,
                reference: json!("1"),
                fresh: json!("2")
            }]
        );
        assert_eq!(mismatches[0].summary(), "mismatch text/plain");
    }

    #[test]
    fn missing_unexpected_and_count_mismatches_are_told_apart() {
        let display =
            |text: &str| json!({"output_type": "display_data", "data": {"text/plain": text}});
        let mismatches = compare(
            &[stream("stdout", "x"), display("a")],
            &[stream("stderr", "warn"), display("a"), display("a")],
            &CompareOptions::default(),
        );
        assert_eq!(
            mismatches,
            vec![
                Mismatch::Missing(vec!["stdout".into()]),
                Mismatch::Unexpected(vec!["stderr".into()]),
                Mismatch::Count {
                    key: "text/plain".into(),
                    reference: 1,
                    fresh: 2
                },
            ]
        );
    }

    #[test]
    fn raster_images_and_widget_views_are_compared_only_when_asked() {
        let image = |data: &str| json!({"output_type": "display_data", "data": {"image/png": data, "application/vnd.jupyter.widget-view+json": {"model_id": data}}});
        let default = CompareOptions::default();
        assert!(compare(&[image("AAAA")], &[image("BBBB")], &default).is_empty());
        let images = CompareOptions {
            images: true,
            ..CompareOptions::default()
        };
        assert_eq!(
            compare(&[image("AAAA")], &[image("BBBB")], &images).len(),
            1
        );
    }

    #[test]
    fn backspaces_and_carriage_returns_are_applied_to_streams() {
        assert_eq!(
            without_overwritten("10%\r50%\r100%\ndone\r\n"),
            "100%\ndone\r\n"
        );
        assert_eq!(without_overwritten("ab\u{8}c"), "ac");
        assert!(
            compare(
                &[stream("stdout", "100%\n")],
                &[stream("stdout", "1%\r100%\n")],
                &CompareOptions::default()
            )
            .is_empty()
        );
    }

    #[test]
    fn errors_compare_by_name_and_value_not_traceback() {
        let error = |evalue: &str, tb: &str| json!({"output_type": "error", "ename": "ValueError", "evalue": evalue, "traceback": [tb]});
        let default = CompareOptions::default();
        assert!(compare(&[error("bad", "one")], &[error("bad", "two")], &default).is_empty());
        assert_eq!(
            compare(&[error("bad", "x")], &[error("worse", "x")], &default).len(),
            1
        );
    }

    #[test]
    fn scraps_compare_by_name_whatever_their_order() {
        let glue = |name: &str, data: Value| {
            json!({"output_type": "display_data", "data": {
            "application/scrapbook.scrap.json+json": {"name": name, "data": data, "encoder": "json", "version": 1}}})
        };
        let default = CompareOptions::default();
        assert!(
            compare(
                &[glue("a", json!(1)), glue("b", json!(2))],
                &[glue("b", json!(2)), glue("a", json!(1))],
                &default
            )
            .is_empty()
        );
        assert_eq!(
            compare(&[glue("a", json!(1))], &[glue("a", json!(0.5))], &default),
            vec![Mismatch::Value {
                key: "scrap a".into(),
                index: 0,
                reference: json!(1),
                fresh: json!(0.5)
            }]
        );
    }

    #[test]
    fn sanitizers_apply_to_both_sides() {
        let options = CompareOptions {
            images: false,
            sanitizers: sanitize::built_in("addresses").unwrap_or_default(),
        };
        assert!(
            compare(
                &[result(json!({"text/plain": "<Foo at 0x7f002d07d990>"}))],
                &[result(json!({"text/plain": "<Foo at 0x7f1119ba3090>"}))],
                &options
            )
            .is_empty()
        );
    }

    #[test]
    fn long_base64_values_are_shortened_in_reports() {
        let shown = value_text("image/png", &json!("iVBORw0K".repeat(20)));
        assert!(shown.starts_with("iVBORw0K...<snip base64, blake3="));
        assert_eq!(value_text("text/plain", &json!("x")), "x");
    }
}

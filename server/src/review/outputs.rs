//! Output comparison of one aligned cell: outputs normalised (multi-line strings joined,
//! volatile execution counts dropped unless asked for), aligned by equality, and the
//! unequal ones of the same kind paired and compared per key: text by a line diff,
//! anything else (images) by a BLAKE3 hash of its value.

use serde_json::{Map, Value};

use super::lines::{Hunk, diff_lines};

/// One changed output.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputChange {
    /// New output `new`, inserted before old output `before`.
    Added {
        new: usize,
        before: usize,
    },
    Removed {
        old: usize,
    },
    /// Output `old` became output `new` (same type; for streams, same stream).
    Changed {
        old: usize,
        new: usize,
        keys: Vec<KeyChange>,
    },
}

/// A changed key of a paired output: a MIME type of `data`, `text` of a stream,
/// `ename`/`evalue`/`traceback` of an error.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyChange {
    pub key: String,
    pub change: ValueChange,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ValueChange {
    Added(Value),
    Removed(Value),
    /// Text on both sides: its line hunks.
    Text(Vec<Hunk>),
    /// Not text (an image, JSON): the values' hashes, and the values.
    Replaced {
        old_hash: String,
        new_hash: String,
        old: Value,
        new: Value,
    },
}

/// The output as compared: list-of-lines strings joined, `execution_count` dropped
/// unless `volatile`, empty `metadata` dropped.
pub fn normalize(output: &Value, volatile: bool) -> Value {
    let Value::Object(fields) = output else {
        return output.clone();
    };
    let mut normal = Map::new();
    for (key, value) in fields {
        match key.as_str() {
            "execution_count" if !volatile => {}
            "metadata" if value.as_object().is_some_and(Map::is_empty) => {}
            "text" => {
                normal.insert(key.clone(), joined(value));
            }
            "data" => {
                let data = match value {
                    Value::Object(data) => Value::Object(
                        data.iter()
                            .map(|(mime, content)| (mime.clone(), joined(content)))
                            .collect(),
                    ),
                    other => other.clone(),
                };
                normal.insert(key.clone(), data);
            }
            _ => {
                normal.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(normal)
}

/// nbformat's multi-line string (a string or a list of strings) as one string.
fn joined(value: &Value) -> Value {
    match value {
        Value::Array(parts) if parts.iter().all(Value::is_string) => {
            Value::String(parts.iter().filter_map(Value::as_str).collect())
        }
        other => other.clone(),
    }
}

/// The changes from `old` to `new` (both normalised); empty when they are equal.
pub fn diff_outputs(old: &[Value], new: &[Value]) -> Vec<OutputChange> {
    if old == new {
        return Vec::new();
    }
    let equal = super::lines::lcs_pairs(old, new);
    let mut changes = Vec::new();
    let (mut a, mut b) = (0, 0);
    for (pa, pb) in equal
        .into_iter()
        .chain(std::iter::once((old.len(), new.len())))
    {
        pair_gap(old, new, a..pa, b..pb, &mut changes);
        a = pa + 1;
        b = pb + 1;
    }
    changes
}

/// Pairs outputs of the same kind in order inside a gap; the rest are added or removed.
fn pair_gap(
    old: &[Value],
    new: &[Value],
    old_range: std::ops::Range<usize>,
    new_range: std::ops::Range<usize>,
    changes: &mut Vec<OutputChange>,
) {
    let before = old_range.end;
    let mut new_left: Vec<usize> = new_range.collect();
    let mut removed = Vec::new();
    let mut paired = Vec::new();
    for i in old_range {
        match new_left
            .iter()
            .position(|&j| kind(&old[i]) == kind(&new[j]))
        {
            Some(position) => {
                let j = new_left.remove(position);
                paired.push((i, j));
            }
            None => removed.push(i),
        }
    }
    // Pairing by kind keeps order only when the paired new indices increase; a pair that
    // would cross an earlier one is split into a removal and an addition.
    let mut last_new = None;
    for (i, j) in paired {
        if last_new.is_some_and(|last| j < last) {
            removed.push(i);
            new_left.push(j);
            continue;
        }
        last_new = Some(j);
        changes.push(OutputChange::Changed {
            old: i,
            new: j,
            keys: key_changes(&old[i], &new[j]),
        });
    }
    changes.extend(removed.into_iter().map(|old| OutputChange::Removed { old }));
    new_left.sort_unstable();
    changes.extend(
        new_left
            .into_iter()
            .map(|new| OutputChange::Added { new, before }),
    );
}

/// `output_type`, and the stream name for streams.
fn kind(output: &Value) -> (Option<&str>, Option<&str>) {
    (
        output.get("output_type").and_then(Value::as_str),
        output.get("name").and_then(Value::as_str),
    )
}

/// The changed keys of two outputs of the same kind (`data`'s MIME types one by one).
fn key_changes(old: &Value, new: &Value) -> Vec<KeyChange> {
    let empty = Map::new();
    let fields = |output: &Value| -> Map<String, Value> {
        let mut flat = Map::new();
        let object = output.as_object().unwrap_or(&empty);
        for (key, value) in object {
            match (key.as_str(), value) {
                ("output_type" | "name", _) => {}
                ("data", Value::Object(data)) => {
                    for (mime, content) in data {
                        flat.insert(mime.clone(), content.clone());
                    }
                }
                _ => {
                    flat.insert(key.clone(), value.clone());
                }
            }
        }
        flat
    };
    let (old_fields, new_fields) = (fields(old), fields(new));
    let mut changes = Vec::new();
    for (key, old_value) in &old_fields {
        match new_fields.get(key) {
            None => changes.push(KeyChange {
                key: key.clone(),
                change: ValueChange::Removed(old_value.clone()),
            }),
            Some(new_value) if new_value != old_value => changes.push(KeyChange {
                key: key.clone(),
                change: value_change(key, old_value, new_value),
            }),
            Some(_) => {}
        }
    }
    for (key, new_value) in &new_fields {
        if !old_fields.contains_key(key) {
            changes.push(KeyChange {
                key: key.clone(),
                change: ValueChange::Added(new_value.clone()),
            });
        }
    }
    changes
}

fn value_change(key: &str, old: &Value, new: &Value) -> ValueChange {
    match (old, new) {
        (Value::String(old_text), Value::String(new_text)) if is_text(key) => {
            ValueChange::Text(diff_lines(old_text, new_text))
        }
        _ => ValueChange::Replaced {
            old_hash: value_hash(old),
            new_hash: value_hash(new),
            old: old.clone(),
            new: new.clone(),
        },
    }
}

/// Whether a key's value is text a person reads line by line (images are not).
fn is_text(key: &str) -> bool {
    !key.starts_with("image/") || key == "image/svg+xml"
}

/// A short BLAKE3 hash of a value (of the string itself for strings, such as base64 images).
pub fn value_hash(value: &Value) -> String {
    let bytes = match value {
        Value::String(text) => text.as_bytes().to_vec(),
        other => other.to_string().into_bytes(),
    };
    blake3::hash(&bytes).to_hex()[..12].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn execution_counts_and_split_lines_are_normalised_away() {
        let ipynb = json!({"output_type": "execute_result", "execution_count": 4,
            "data": {"text/plain": ["1\n", "2"]}, "metadata": {}});
        let cached = json!({"output_type": "execute_result", "execution_count": 9,
            "data": {"text/plain": "1\n2"}});
        assert_eq!(normalize(&ipynb, false), normalize(&cached, false));
        assert_ne!(normalize(&ipynb, true), normalize(&cached, true));
    }

    #[test]
    fn a_changed_stream_is_a_text_diff() {
        let old = [json!({"output_type": "stream", "name": "stdout", "text": "a\nb\n"})];
        let new = [json!({"output_type": "stream", "name": "stdout", "text": "a\nc\n"})];
        let changes = diff_outputs(&old, &new);
        let [OutputChange::Changed { keys, .. }] = &changes[..] else {
            panic!("{changes:?}");
        };
        assert_eq!(keys[0].key, "text");
        assert!(matches!(&keys[0].change, ValueChange::Text(hunks) if hunks[0].added == ["c\n"]));
    }

    #[test]
    fn images_compare_by_hash() {
        let old = [json!({"output_type": "display_data", "data": {"image/png": "iVBORw0KAAAA"}})];
        let new = [json!({"output_type": "display_data", "data": {"image/png": "iVBORw0KBBBB"}})];
        let changes = diff_outputs(&old, &new);
        let [OutputChange::Changed { keys, .. }] = &changes[..] else {
            panic!("{changes:?}");
        };
        assert!(matches!(&keys[0].change,
            ValueChange::Replaced { old_hash, new_hash, .. } if old_hash != new_hash));
    }

    #[test]
    fn an_extra_output_is_added() {
        let old = [json!({"output_type": "stream", "name": "stdout", "text": "a\n"})];
        let new = [
            json!({"output_type": "stream", "name": "stdout", "text": "a\n"}),
            json!({"output_type": "stream", "name": "stderr", "text": "warning\n"}),
        ];
        assert_eq!(
            diff_outputs(&old, &new),
            [OutputChange::Added { new: 1, before: 1 }]
        );
    }
}

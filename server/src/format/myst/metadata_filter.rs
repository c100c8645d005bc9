//! jupytext's metadata filters, as applied when it writes a MyST notebook: which notebook
//! metadata reaches the front matter (`notebook_metadata_filter`, default: only `jupytext`,
//! `kernelspec`, `kernel_info`, `orphan`, `tocdepth`) and which cell metadata reaches the
//! options (`cell_metadata_filter`, default: all but jupytext's and Jupyter's own keys).

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::format::jupytext::IGNORED_CELL_METADATA;

const DEFAULT_NOTEBOOK_KEYS: &[&str] = &[
    "jupytext",
    "kernelspec",
    "kernel_info",
    "orphan",
    "tocdepth",
];

#[derive(Debug, Clone, PartialEq)]
enum Keys {
    All,
    Some(Vec<String>),
}

impl Keys {
    fn list(&self) -> &[String] {
        match self {
            Keys::All => &[],
            Keys::Some(keys) => keys,
        }
    }
}

/// A user filter such as `"kernelspec,-widgets"`, `"all"` or `"-all"`: keys to add and keys
/// to exclude.
fn parse_filter(filter: Option<&Value>) -> (Keys, Keys) {
    let text = match filter {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Bool(true)) => "all".into(),
        Some(Value::Bool(false)) => "-all".into(),
        Some(Value::Object(map)) => {
            let side = |name: &str| match map.get(name) {
                Some(Value::String(all)) if all == "all" => Keys::All,
                Some(Value::Array(items)) => Keys::Some(
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                ),
                _ => Keys::Some(Vec::new()),
            };
            return (side("additional"), side("excluded"));
        }
        _ => String::new(),
    };
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for key in text.split(',') {
        let key = key.trim();
        if let Some(excluded) = key.strip_prefix('-') {
            exclude.push(excluded.trim().to_string());
        } else if let Some(added) = key.strip_prefix('+') {
            include.push(added.trim().to_string());
        } else {
            include.push(key.to_string());
        }
    }
    let finish = |keys: Vec<String>| {
        if keys.iter().any(|key| key == "all") {
            Keys::All
        } else {
            Keys::Some(keys.into_iter().filter(|key| !key.is_empty()).collect())
        }
    };
    (finish(include), finish(exclude))
}

fn is_valid_key(key: &str) -> bool {
    static VALID: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9_.@/-]+$").ok());
    VALID.as_ref().is_some_and(|valid| valid.is_match(key))
}

/// `{'a': ['b']}` for `['a.b']`.
fn second_level(keys: &[String]) -> Vec<(String, Vec<String>)> {
    let mut nested: Vec<(String, Vec<String>)> = Vec::new();
    for key in keys {
        if let Some((left, right)) = key.split_once('.') {
            match nested.iter_mut().find(|(name, _)| name == left) {
                Some((_, rights)) => rights.push(right.to_string()),
                None => nested.push((left.to_string(), vec![right.to_string()])),
            }
        }
    }
    nested
}

fn subset(
    metadata: &Map<String, Value>,
    keep_only: Option<&[String]>,
    exclude: Option<&[String]>,
) -> Map<String, Value> {
    let supported: Vec<&String> = metadata.keys().filter(|key| is_valid_key(key)).collect();
    let mut filtered = Map::new();
    match keep_only {
        Some(keep) => {
            for key in &supported {
                if keep.contains(key) {
                    filtered.insert((*key).clone(), metadata[key.as_str()].clone());
                }
            }
            for (key, sub_keep) in second_level(keep) {
                if let Some(Value::Object(inner)) =
                    metadata.get(&key).filter(|_| supported.contains(&&key))
                {
                    filtered.insert(
                        key.clone(),
                        Value::Object(subset(inner, Some(&sub_keep), None)),
                    );
                }
            }
        }
        None => {
            for key in supported {
                filtered.insert(key.clone(), metadata[key.as_str()].clone());
            }
        }
    }
    if let Some(exclude) = exclude {
        for key in exclude {
            filtered.shift_remove(key);
        }
        for (key, sub_exclude) in second_level(exclude) {
            if let Some(Value::Object(inner)) = filtered.get(&key) {
                let inner = subset(inner, None, Some(&sub_exclude));
                filtered.insert(key, Value::Object(inner));
            }
        }
    }
    filtered
}

/// When the user's filter is `all` on one side, it alone decides (`-all` keeps only
/// what it includes; `all` drops only what it excludes); otherwise `None`.
fn only_the_user_filter(
    metadata: &Map<String, Value>,
    include: &Keys,
    exclude: &Keys,
) -> Option<Map<String, Value>> {
    if *include == Keys::All {
        return Some(subset(metadata, None, Some(exclude.list())));
    }
    if *exclude == Keys::All {
        return Some(subset(metadata, Some(include.list()), None));
    }
    None
}

/// The notebook metadata jupytext writes to the front matter, before sorting.
pub(crate) fn filter_notebook_metadata(
    metadata: &Map<String, Value>,
    user_filter: Option<&Value>,
) -> Map<String, Value> {
    let (include, exclude) = parse_filter(user_filter);
    if let Some(filtered) = only_the_user_filter(metadata, &include, &exclude) {
        return filtered;
    }
    let mut keep: Vec<String> = include.list().to_vec();
    keep.extend(DEFAULT_NOTEBOOK_KEYS.iter().map(|key| key.to_string()));
    subset(metadata, Some(&keep), Some(exclude.list()))
}

/// The cell metadata jupytext writes as a cell's options.
pub(crate) fn filter_cell_metadata(
    metadata: &Map<String, Value>,
    user_filter: Option<&Value>,
) -> Map<String, Value> {
    let (include, exclude) = parse_filter(user_filter);
    if let Some(filtered) = only_the_user_filter(metadata, &include, &exclude) {
        return filtered;
    }
    let mut metadata = metadata.clone();
    if metadata.get("tags").is_some_and(is_empty_value) {
        metadata.shift_remove("tags");
    }
    let mut excluded: Vec<String> = exclude.list().to_vec();
    excluded.extend(
        IGNORED_CELL_METADATA
            .iter()
            .filter(|key| !include.list().iter().any(|included| included == *key))
            .map(|key| key.to_string()),
    );
    subset(&metadata, None, Some(&excluded))
}

/// jupytext's `root_level_metadata_filter` on reading (default: all): the front matter keys
/// that become notebook metadata, and those left over, which jupytext puts in a raw cell.
pub(crate) fn split_root_level(
    front: &Map<String, Value>,
    user_filter: Option<&Value>,
) -> (Map<String, Value>, Map<String, Value>) {
    let (include, exclude) = parse_filter(user_filter);
    let supported: Vec<&String> = front.keys().filter(|key| is_valid_key(key)).collect();
    let (promoted, moved): (Map<String, Value>, Vec<&String>) = if include == Keys::All {
        let moved = supported
            .iter()
            .copied()
            .filter(|key| !exclude.list().contains(key))
            .collect();
        (subset(front, None, Some(exclude.list())), moved)
    } else if exclude == Keys::All {
        let moved = supported
            .iter()
            .copied()
            .filter(|key| include.list().contains(key))
            .collect();
        (subset(front, Some(include.list()), None), moved)
    } else if front.get("tags").is_some_and(is_empty_value) {
        // jupytext filters a copy here, so every key also stays behind.
        let mut copy = front.clone();
        copy.shift_remove("tags");
        (subset(&copy, None, Some(exclude.list())), Vec::new())
    } else {
        let moved = supported
            .iter()
            .copied()
            .filter(|key| !exclude.list().contains(key))
            .collect();
        (subset(front, None, Some(exclude.list())), moved)
    };
    let remaining = front
        .iter()
        .filter(|(key, _)| !moved.contains(key))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    (promoted, remaining)
}

/// Python falsiness for the `tags` entry (`not metadata["tags"]`).
fn is_empty_value(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(flag) => !flag,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::String(text) => text.is_empty(),
        Value::Number(number) => number.as_f64() == Some(0.0),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn notebook_default_keeps_only_known_keys() {
        let metadata =
            object(json!({"kernelspec": {"name": "python3"}, "widgets": {}, "jupytext": {}}));
        let kept = filter_notebook_metadata(&metadata, None);
        assert_eq!(kept.keys().collect::<Vec<_>>(), ["kernelspec", "jupytext"]);
    }

    #[test]
    fn notebook_minus_all_drops_everything() {
        let metadata = object(json!({"kernelspec": {}, "jupytext": {}}));
        assert!(filter_notebook_metadata(&metadata, Some(&json!("-all"))).is_empty());
    }

    #[test]
    fn notebook_user_filter_adds_and_removes() {
        let metadata = object(json!({"kernelspec": {}, "widgets": {}, "title": "x"}));
        let kept = filter_notebook_metadata(&metadata, Some(&json!("title,-kernelspec")));
        assert_eq!(kept.keys().collect::<Vec<_>>(), ["title"]);
    }

    #[test]
    fn cell_default_drops_jupyter_keys_and_empty_tags() {
        let metadata = object(json!({"collapsed": true, "tags": [], "slideshow": {"a": 1}}));
        let kept = filter_cell_metadata(&metadata, None);
        assert_eq!(kept.keys().collect::<Vec<_>>(), ["slideshow"]);
    }

    #[test]
    fn root_level_filter_leaves_excluded_keys_behind() {
        let front = object(json!({"title": "t", "kernelspec": {}, "jupytext": {}}));
        let (promoted, remaining) = split_root_level(&front, Some(&json!("-title")));
        assert_eq!(
            promoted.keys().collect::<Vec<_>>(),
            ["kernelspec", "jupytext"]
        );
        assert_eq!(remaining.keys().collect::<Vec<_>>(), ["title"]);
        let (promoted, remaining) = split_root_level(&front, None);
        assert_eq!(promoted.len(), 3);
        assert!(remaining.is_empty());
    }

    #[test]
    fn invalid_keys_are_dropped() {
        let metadata = object(json!({"a b": 1, "ok": 2}));
        assert_eq!(
            filter_cell_metadata(&metadata, None)
                .keys()
                .collect::<Vec<_>>(),
            ["ok"]
        );
    }
}

//! The notebook metadata `jupytext.reads` gives for a text notebook, beyond what its
//! header says: the `main_language` it saves when no kernel names a language
//! (`set_main_and_cell_language`) and the metadata filters it sets so that writing the
//! notebook back to text gives the same text (`update_metadata_filters`). The `.ipynb`
//! writer keeps them, as `jupytext --to ipynb` does; our readers leave them out of
//! `Notebook::metadata` so that a text notebook written back in its own format is
//! untouched. (The MyST reader already gives what jupytext's MyST reader gives.)

use serde_json::{Map, Value};

use super::jupytext::object_entry;
use super::{Notebook, NotebookFormat, PlacedCell};

/// Cell metadata jupytext itself manages, never listed in a filter
/// (`_JUPYTEXT_CELL_METADATA`).
const JUPYTEXT_CELL_METADATA: &[&str] = &[
    "skipline",
    "noskipline",
    "cell_marker",
    "lines_to_next_cell",
    "lines_to_end_of_cell_marker",
];

/// Notebook metadata jupytext writes in a text header by default
/// (`_DEFAULT_NOTEBOOK_METADATA`).
const DEFAULT_NOTEBOOK_METADATA: &[&str] = &[
    "jupytext",
    "kernelspec",
    "kernel_info",
    "orphan",
    "tocdepth",
];

/// Keys of `jupytext` our readers set from the text itself, not from a `jupyter:` section.
const READER_KEYS: &[&str] = &["executable", "encoding", "cell_metadata_json"];

/// `notebook.metadata` as `jupytext.reads` gives it for the text the notebook was read
/// from.
pub(crate) fn notebook_metadata(notebook: &Notebook) -> Map<String, Value> {
    let mut metadata = notebook.metadata.clone();
    let extension = match notebook.format {
        NotebookFormat::Percent | NotebookFormat::Light => ".py",
        NotebookFormat::Markdown => ".md",
        NotebookFormat::Myst | NotebookFormat::Ipynb => return metadata,
    };
    let kernel_names_language = metadata
        .get("kernelspec")
        .and_then(Value::as_object)
        .is_some_and(|kernelspec| kernelspec.contains_key("language"));
    if !kernel_names_language && !notebook.cells.is_empty() {
        let main_language = main_language(notebook, extension);
        object_entry(&mut metadata, "jupytext")
            .insert("main_language".into(), Value::String(main_language));
    }
    let mut cell_keys: Vec<&str> = Vec::new();
    for cell in notebook.cells.iter().map(PlacedCell::content) {
        for key in cell.metadata.keys() {
            if !cell_keys.contains(&key.as_str()) {
                cell_keys.push(key);
            }
        }
    }
    update_metadata_filters(&mut metadata, had_jupyter_section(notebook), &cell_keys);
    metadata
}

/// Whether the text had a `jupyter:` section: metadata beyond what the reader takes
/// from the text itself (shebang, coding line, JSON cell headers).
fn had_jupyter_section(notebook: &Notebook) -> bool {
    notebook
        .preamble
        .metadata
        .iter()
        .any(|(key, value)| match (key.as_str(), value) {
            ("jupytext", Value::Object(jupytext)) => jupytext
                .keys()
                .any(|key| !READER_KEYS.contains(&key.as_str())),
            _ => true,
        })
}

/// `default_language_from_metadata_and_ext`, with the vote of
/// `set_main_and_cell_language` for a markdown notebook that names no language.
fn main_language(notebook: &Notebook, extension: &str) -> String {
    let metadata = &notebook.metadata;
    let text = |value: Option<&Value>| {
        value
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_string)
    };
    let named = text(
        metadata
            .get("jupytext")
            .and_then(|jupytext| jupytext.get("main_language")),
    )
    .or_else(|| {
        text(
            metadata
                .get("kernelspec")
                .and_then(|kernelspec| kernelspec.get("language")),
        )
    });
    let language = match named {
        Some(language) => language,
        None if extension == ".py" => "python".to_string(),
        None => vote_main_language(notebook),
    };
    if language == "R" || language == "sas" {
        return language;
    }
    if language.starts_with("C++") {
        return "c++".into();
    }
    language.to_lowercase().replace('#', "sharp")
}

/// Python (weight 0.5) against the `language` of the cells in other languages.
fn vote_main_language(notebook: &Notebook) -> String {
    let mut votes: Vec<(String, f64)> = vec![("python".into(), 0.5)];
    for cell in &notebook.cells {
        if let Some(language) = cell.metadata.get("language").and_then(Value::as_str) {
            let language = language.to_lowercase();
            match votes.iter_mut().find(|(name, _)| *name == language) {
                Some((_, count)) => *count += 1.0,
                None => votes.push((language, 1.0)),
            }
        }
    }
    let mut best = votes[0].clone();
    for vote in &votes[1..] {
        if vote.1 > best.1 {
            best = vote.clone();
        }
    }
    best.0
}

/// jupytext's `update_metadata_filters`.
fn update_metadata_filters(
    metadata: &mut Map<String, Value>,
    jupyter_md: bool,
    cell_keys: &[&str],
) {
    if !jupyter_md {
        let jupytext = object_entry(metadata, "jupytext");
        jupytext.insert("notebook_metadata_filter".into(), "-all".into());
        if !jupytext.contains_key("cell_metadata_filter") {
            let mut entries: Vec<String> = cell_keys
                .iter()
                .filter(|key| !JUPYTEXT_CELL_METADATA.contains(key))
                .map(|key| key.to_string())
                .collect();
            entries.push("-all".into());
            jupytext.insert("cell_metadata_filter".into(), entries.join(",").into());
        }
        return;
    }
    let existing = metadata
        .get("jupytext")
        .and_then(|jupytext| jupytext.get("cell_metadata_filter"))
        .cloned();
    if let Some(existing) = existing {
        let Some(filter) = update_cell_filter(&existing, cell_keys) else {
            return;
        };
        object_entry(metadata, "jupytext").insert("cell_metadata_filter".into(), filter);
        return;
    }
    let mut notebook_filter: Vec<String> = metadata
        .get("jupytext")
        .and_then(|jupytext| jupytext.get("notebook_metadata_filter"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .split(',')
        .filter(|key| !key.is_empty())
        .map(str::to_string)
        .collect();
    if notebook_filter
        .iter()
        .any(|key| key == "all" || key == "-all")
    {
        return;
    }
    for key in metadata.keys() {
        let listed = notebook_filter
            .iter()
            .any(|entry| entry == key || entry.strip_prefix('-') == Some(key.as_str()));
        if !DEFAULT_NOTEBOOK_METADATA.contains(&key.as_str()) && !listed {
            notebook_filter.push(key.clone());
        }
    }
    if !notebook_filter.is_empty() {
        object_entry(metadata, "jupytext").insert(
            "notebook_metadata_filter".into(),
            notebook_filter.join(",").into(),
        );
    }
}

/// One side of a filter: every key, or a list.
enum Side {
    All,
    Keys(Vec<String>),
}

/// An existing `cell_metadata_filter` that also lets through the keys the cells have
/// (`metadata_filter_as_dict`, then back to a string). `None` when it is not a string.
fn update_cell_filter(filter: &Value, cell_keys: &[&str]) -> Option<Value> {
    let (additional, excluded) = match filter {
        Value::String(text) => parse_filter(text),
        Value::Bool(true) => (Some(Side::All), None),
        Value::Bool(false) => (None, Some(Side::All)),
        _ => return None,
    };
    let excluded = excluded.map(|side| match side {
        Side::Keys(keys) => Side::Keys(
            keys.into_iter()
                .filter(|key| !cell_keys.contains(&key.as_str()))
                .collect(),
        ),
        Side::All => Side::All,
    });
    let additional = match additional.unwrap_or(Side::Keys(Vec::new())) {
        Side::Keys(mut keys) => {
            for key in cell_keys {
                if !keys.iter().any(|known| known == key) {
                    keys.push(key.to_string());
                }
            }
            Side::Keys(keys)
        }
        Side::All => Side::All,
    };
    let mut entries: Vec<String> = match additional {
        Side::All => vec!["all".into()],
        Side::Keys(keys) => keys
            .into_iter()
            .filter(|key| !JUPYTEXT_CELL_METADATA.contains(&key.as_str()))
            .collect(),
    };
    match excluded {
        Some(Side::All) => entries.push("-all".into()),
        Some(Side::Keys(keys)) => entries.extend(keys.into_iter().map(|key| format!("-{key}"))),
        None => {}
    }
    Some(Value::String(entries.join(",")))
}

/// `metadata_filter_as_dict` of a string: the added and the excluded keys, `None` for a
/// side the filter does not mention.
fn parse_filter(text: &str) -> (Option<Side>, Option<Side>) {
    let mut additional: Option<Vec<String>> = None;
    let mut excluded: Option<Vec<String>> = None;
    for key in text.split(',') {
        let key = key.trim();
        if let Some(rest) = key.strip_prefix('-') {
            excluded
                .get_or_insert_with(Vec::new)
                .push(rest.trim().into());
        } else if let Some(rest) = key.strip_prefix('+') {
            additional
                .get_or_insert_with(Vec::new)
                .push(rest.trim().into());
        } else {
            additional.get_or_insert_with(Vec::new).push(key.into());
        }
    }
    let side = |keys: Vec<String>| {
        if keys.iter().any(|key| key == "all") {
            Side::All
        } else {
            Side::Keys(keys.into_iter().filter(|key| !key.is_empty()).collect())
        }
    };
    (additional.map(side), excluded.map(side))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::format::percent::read_percent;

    fn metadata_of(text: &str) -> Value {
        Value::Object(notebook_metadata(&read_percent(text)))
    }

    #[test]
    fn a_script_without_header_gets_jupytexts_filters_and_main_language() {
        assert_eq!(
            metadata_of("# %%\nx = 1\n"),
            json!({"jupytext": {"main_language": "python", "notebook_metadata_filter": "-all",
                "cell_metadata_filter": "-all"}})
        );
        assert_eq!(
            metadata_of("# %% tags=[\"a\"] trusted=true\nx = 1\n")["jupytext"]["cell_metadata_filter"],
            json!("tags,trusted,-all")
        );
    }

    #[test]
    fn a_header_keeps_its_filters_and_lists_the_cells_keys() {
        let text = "# ---\n# jupyter:\n#   jupytext:\n#     cell_metadata_filter: -all\n#   kernelspec:\n#     language: python\n#     name: python3\n# ---\n\n# %% tags=[\"a\"]\nx = 1\n";
        assert_eq!(
            metadata_of(text)["jupytext"],
            json!({"cell_metadata_filter": "tags,-all"})
        );
    }

    #[test]
    fn other_notebook_metadata_joins_the_notebook_filter() {
        let text = "# ---\n# jupyter:\n#   widgets: {}\n# ---\n\n# %%\nx = 1\n";
        assert_eq!(
            metadata_of(text)["jupytext"],
            json!({"main_language": "python", "notebook_metadata_filter": "widgets"})
        );
    }
}

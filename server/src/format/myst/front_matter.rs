//! The YAML front matter of a MyST notebook and the notebook metadata jupytext makes of it.
//!
//! Reading: markdown-it's front-matter rule finds the block (a first line of three or more
//! dashes, closed by a line of at least as many dashes or by `...`; unclosed means no front
//! matter), the YAML becomes the notebook metadata, a `jupyter:` namespace in it is merged
//! into the root, the code cells' lexer is kept as `jupytext.default_lexer` when there is no
//! `language_info`, and `jupytext.text_representation` records the format, as
//! `jupytext.reads(text, "md:myst")` does. Writing: the reverse, as `jupytext.writes` does.

use crate::format::jupytext::{object_entry, recursive_update};
use serde_json::{Map, Value, json};

use super::blocks::indentation;
use super::lines::Line;
use super::metadata_filter::{filter_notebook_metadata, split_root_level};
use crate::format::yaml;

pub(crate) const JUPYTEXT_VERSION: &str = "1.19.6";
const MYST_FORMAT_VERSION: f64 = 0.13;

/// A front matter block: lines `0..end_line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FrontMatter {
    pub end_line: usize,
    /// The YAML between the dash lines, lines joined with `\n`.
    pub yaml: String,
    /// The bytes of the YAML lines (for problems).
    pub yaml_start: usize,
    pub yaml_end: usize,
}

/// The front matter at the start of `text`, if any.
pub(crate) fn find_front_matter(text: &str, lines: &[Line]) -> Option<FrontMatter> {
    let first = lines.first()?.content(text);
    let marker_count = first.bytes().take_while(|&byte| byte == b'-').count();
    if marker_count < 3 {
        return None;
    }
    for (index, line) in lines.iter().enumerate().skip(1) {
        let content = line.content(text);
        let closes_with_dots =
            content.starts_with("...") && content[3..].trim_start_matches([' ', '\t']).is_empty();
        // Indentation in columns (a tab reaches the next multiple of 4): four make code.
        let (columns, indent) = indentation(content);
        let trimmed = &content[indent..];
        let dashes = trimmed.bytes().take_while(|&byte| byte == b'-').count();
        let closes_with_dashes = columns < 4
            && dashes >= marker_count
            && trimmed[dashes..].trim_start_matches([' ', '\t']).is_empty();
        if closes_with_dots || closes_with_dashes {
            let yaml = lines[1..index]
                .iter()
                .map(|line| line.content(text))
                .collect::<Vec<_>>()
                .join("\n");
            let yaml_start = lines[1].start.min(line.start);
            let yaml_end = if index > 1 {
                lines[index - 1].content_end
            } else {
                yaml_start
            };
            return Some(FrontMatter {
                end_line: index + 1,
                yaml,
                yaml_start,
                yaml_end,
            });
        }
    }
    None
}

/// The notebook metadata `jupytext.reads` gives for this front matter and code-cell lexer,
/// and the source of the raw cell it makes of keys that `root_level_metadata_filter` keeps
/// out of the metadata.
pub(crate) fn notebook_metadata(
    mut front: Map<String, Value>,
    default_lexer: Option<&str>,
) -> (Map<String, Value>, Option<String>) {
    if let Some(lexer) = default_lexer.filter(|_| !front.contains_key("language_info")) {
        let had_metadata = !front.is_empty();
        let jupyter = object_entry(&mut front, "jupyter");
        let jupytext = object_entry(jupyter, "jupytext");
        jupytext.insert("default_lexer".into(), json!(lexer));
        if !had_metadata {
            jupytext.insert("notebook_metadata_filter".into(), json!("-all"));
        }
    }
    let mut metadata = match front.shift_remove("jupyter") {
        Some(Value::Object(namespace)) => namespace,
        _ => Map::new(),
    };
    let root_filter = [&front, &metadata]
        .iter()
        .find_map(|map| {
            map.get("jupytext")
                .and_then(|jupytext| jupytext.get("root_level_metadata_filter"))
        })
        .cloned();
    let (promoted, remaining) = split_root_level(&front, root_filter.as_ref());
    recursive_update(&mut metadata, promoted);
    let jupytext = object_entry(&mut metadata, "jupytext");
    let representation = object_entry(jupytext, "text_representation");
    representation.insert("extension".into(), json!(".md"));
    representation.insert("format_name".into(), json!("myst"));
    let raw_cell =
        (!remaining.is_empty()).then(|| format!("---\n{}---", yaml::safe_dump(&remaining)));
    (metadata, raw_cell)
}

/// The lexer jupytext writes after `{code-cell}`: `language_info.pygments_lexer`, else
/// `jupytext.default_lexer`.
pub(crate) fn default_lexer(metadata: &Map<String, Value>) -> Option<String> {
    let from_language_info = metadata
        .get("language_info")
        .and_then(|info| info.get("pygments_lexer"))
        .and_then(Value::as_str);
    let from_jupytext = metadata
        .get("jupytext")
        .and_then(|jupytext| jupytext.get("default_lexer"))
        .and_then(Value::as_str);
    from_language_info
        .or(from_jupytext)
        .filter(|lexer| !lexer.is_empty())
        .map(str::to_string)
}

/// The front matter `jupytext.writes(notebook, "md:myst")` writes for `metadata` (empty when
/// the filtered metadata is empty). A first raw cell that holds a YAML mapping between
/// `---` lines is merged into it, as jupytext does; the flag says it was.
///
/// Deliberately unlike jupytext, keys in `kept_keys` (those the file's front matter had)
/// survive the notebook metadata filter: jupytext would drop, say, a `title` the moment any
/// metadata changed.
pub(crate) fn write_front_matter(
    metadata: &Map<String, Value>,
    first_raw_cell: Option<&str>,
    kept_keys: &[String],
) -> (String, bool) {
    let mut metadata = metadata.clone();
    crate::format::pairing::name_written_format(&mut metadata, ".md", "myst");
    let jupytext = object_entry(&mut metadata, "jupytext");
    jupytext.shift_remove("default_lexer");
    let user_filter = jupytext.get("notebook_metadata_filter").cloned();
    let root_filter_set = jupytext.contains_key("root_level_metadata_filter");
    jupytext.insert(
        "text_representation".into(),
        json!({
            "extension": ".md",
            "format_name": "myst",
            "format_version": MYST_FORMAT_VERSION,
            "jupytext_version": JUPYTEXT_VERSION,
        }),
    );
    let mut filtered = filter_notebook_metadata(&metadata, user_filter.as_ref());
    for key in kept_keys {
        if let Some(value) = metadata.get(key).filter(|_| !filtered.contains_key(key)) {
            filtered.insert(key.clone(), value.clone());
        }
    }
    let mut sorted: Vec<(String, Value)> = filtered.into_iter().collect();
    sorted.sort_by(|(a, _), (b, _)| a.cmp(b));
    let mut sorted: Map<String, Value> = sorted.into_iter().collect();
    let merged = first_raw_cell.and_then(raw_cell_front_matter);
    let consumed = merged.is_some();
    if let Some(mut front) = merged {
        if !root_filter_set {
            let keys: Vec<&str> = front.keys().map(String::as_str).collect();
            let filter = format!("-{}", keys.join(",-"));
            object_entry(&mut sorted, "jupytext")
                .insert("root_level_metadata_filter".into(), json!(filter));
        }
        merge_missing(&mut front, sorted);
        sorted = front;
    }
    if sorted.is_empty() {
        return (String::new(), consumed);
    }
    (format!("---\n{}---\n", yaml::dump(&sorted)), consumed)
}

/// The mapping in a raw cell written as `---` / YAML / `---`, if it is one.
fn raw_cell_front_matter(source: &str) -> Option<Map<String, Value>> {
    let stripped = source.trim_matches(['\n', '\t', ' ']);
    let lines: Vec<&str> = stripped.lines().collect();
    let is_dashes = |line: &str| {
        line.strip_prefix("---")
            .is_some_and(|rest| rest.trim().is_empty())
    };
    if lines.len() < 2 || !is_dashes(lines[0]) || !is_dashes(lines[lines.len() - 1]) {
        return None;
    }
    let inner = lines[1..lines.len() - 1].join("\n");
    match yaml::parse(&inner) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// `recursive_update(target, update, overwrite=False)`.
fn merge_missing(target: &mut Map<String, Value>, update: Map<String, Value>) {
    for (key, value) in update {
        match value {
            Value::Null => {
                target.shift_remove(&key);
            }
            Value::Object(inner) => merge_missing(object_entry(target, &key), inner),
            other => {
                target.entry(key).or_insert(other);
            }
        }
    }
}

/// The top-level keys written in the front matter at the start of `text` (those of a
/// `jupyter:` namespace included).
pub(crate) fn front_matter_keys(text: &str) -> Vec<String> {
    let lines = super::lines::split_lines(text);
    let Some(Ok(map)) = find_front_matter(text, &lines).map(|front| parse_front_matter(&front))
    else {
        return Vec::new();
    };
    let mut keys: Vec<String> = map
        .keys()
        .filter(|key| *key != "jupyter")
        .cloned()
        .collect();
    if let Some(Value::Object(namespace)) = map.get("jupyter") {
        keys.extend(namespace.keys().cloned());
    }
    keys
}

/// Parses the front matter's YAML: a mapping, or why not.
pub(crate) fn parse_front_matter(front: &FrontMatter) -> Result<Map<String, Value>, String> {
    match yaml::parse(&front.yaml) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(other) => Err(format!(
            "it is a YAML {}, not a mapping",
            super::options::kind_name(&other)
        )),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::super::lines::split_lines;
    use super::*;

    fn front(text: &str) -> Option<FrontMatter> {
        find_front_matter(text, &split_lines(text))
    }

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn front_matter_needs_a_closing_line() {
        assert_eq!(
            front("---\na: 1\n---\ntext").map(|front| front.end_line),
            Some(3)
        );
        assert_eq!(
            front("---\na: 1\n...\n").map(|front| front.yaml),
            Some("a: 1".into())
        );
        assert_eq!(front("---\na: 1\n"), None);
        assert_eq!(front(" ---\na\n---\n"), None);
    }

    #[test]
    fn a_closing_line_indented_four_columns_is_content() {
        // A space and a tab make four columns: the plugin reads that line as code.
        assert_eq!(
            front("---\na: 1\n \t---\nb\n---\n").map(|front| front.end_line),
            Some(5)
        );
        assert_eq!(front("---\na: 1\n\t---\n"), None);
        assert_eq!(
            front("---\na: 1\n   ---\nb\n").map(|front| front.end_line),
            Some(3)
        );
    }

    #[test]
    fn closing_line_needs_as_many_dashes() {
        assert_eq!(
            front("----\na: 1\n---\nb\n----\n").map(|front| front.end_line),
            Some(5)
        );
    }

    #[test]
    fn empty_front_matter() {
        let found = front("---\n---\n");
        assert_eq!(found.as_ref().map(|front| front.yaml.as_str()), Some(""));
    }

    #[test]
    fn notebook_metadata_records_lexer_and_format() {
        let (metadata, raw_cell) = notebook_metadata(Map::new(), Some("ipython3"));
        assert_eq!(raw_cell, None);
        assert_eq!(
            Value::Object(metadata),
            json!({"jupytext": {"default_lexer": "ipython3", "notebook_metadata_filter": "-all",
                   "text_representation": {"extension": ".md", "format_name": "myst"}}})
        );
    }

    #[test]
    fn jupyter_namespace_is_merged_into_the_root() {
        let front = object(json!({"jupyter": {"kernelspec": {"name": "a"}}, "title": "t"}));
        let (metadata, _) = notebook_metadata(front, None);
        assert_eq!(metadata.get("kernelspec"), Some(&json!({"name": "a"})));
        assert_eq!(metadata.get("title"), Some(&json!("t")));
    }

    #[test]
    fn writes_front_matter_like_jupytext() {
        let metadata = object(
            json!({"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}),
        );
        assert_eq!(
            write_front_matter(&metadata, None, &[]).0,
            "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n    \
             format_version: 0.13\n    jupytext_version: 1.19.6\nkernelspec:\n  display_name: Python 3\n  \
             language: python\n  name: python3\n---\n"
        );
    }

    #[test]
    fn root_level_filter_makes_a_raw_cell_and_writing_merges_it_back() {
        let front =
            object(json!({"title": "t", "jupytext": {"root_level_metadata_filter": "-title"}}));
        let (metadata, raw_cell) = notebook_metadata(front, None);
        assert_eq!(raw_cell.as_deref(), Some("---\ntitle: t\n---"));
        let (text, consumed) = write_front_matter(&metadata, raw_cell.as_deref(), &[]);
        assert!(consumed);
        assert!(
            text.starts_with("---\ntitle: t\njupytext:\n  root_level_metadata_filter: -title\n"),
            "{text}"
        );
    }

    #[test]
    fn keys_the_file_had_survive_the_filter() {
        let text = "---\ntitle: T\nkernelspec:\n  name: a\n---\n";
        let keys = front_matter_keys(text);
        assert_eq!(keys, ["title", "kernelspec"]);
        let metadata = object(json!({"title": "T", "kernelspec": {"name": "b"}, "widgets": {}}));
        let (written, _) = write_front_matter(&metadata, None, &keys);
        assert!(
            written.contains("title: T\n") && !written.contains("widgets"),
            "{written}"
        );
    }

    #[test]
    fn minus_all_filter_writes_no_front_matter() {
        let (metadata, _) = notebook_metadata(Map::new(), Some("ipython3"));
        assert_eq!(
            write_front_matter(&metadata, None, &[]),
            (String::new(), false)
        );
        assert_eq!(default_lexer(&metadata).as_deref(), Some("ipython3"));
    }
}

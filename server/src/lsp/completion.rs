//! Completion, by what the cursor is in:
//!
//! - a `# %%` header's `tags=[…]` list (or a JSON header's `"tags": […]`) and a MyST
//!   `:tags:` option: the six kinds with their meaning, `name=`, `deps=`, `timeout=`;
//!   after `deps=`, every explicit cell name of the project with its kind and notebook;
//! - the string of a `jc.load("…")`: the artifact paths cells write, and files under the
//!   project's artifacts and data folders;
//! - after `jc.`: the API functions with their signatures;
//! - a key line under `[tool.jellycell]` in the PEP-723 block: the accepted keys.
//!
//! Works on the buffer's current line, so it never waits for analysis; project names come
//! from the latest workspace snapshot.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use tower_lsp_server::ls_types::{
    self as lsp, CompletionItem, CompletionItemKind, CompletionList, CompletionResponse,
    CompletionTextEdit, Documentation, MarkupContent, MarkupKind, TextEdit,
};

use super::convert;
use super::state::Snapshot;
use crate::analysis::JcFunction;
use crate::format::tags::CellKind;
use crate::text::Span;

/// What each kind means, for completion details and hover.
pub fn kind_meaning(kind: CellKind) -> &'static str {
    match kind {
        CellKind::Load => "Loads inputs (files, databases) into the notebook. Cached like a step.",
        CellKind::Step => {
            "A computation step (the default kind). Cached by its source and dependencies."
        }
        CellKind::Figure => "Produces a figure (e.g. with `jc.figure`). Cached like a step.",
        CellKind::Table => "Produces a table (e.g. with `jc.table`). Cached like a step.",
        CellKind::Setup => {
            "Runs before every run and is never cached (imports, configuration). Other cells cannot depend on it."
        }
        CellKind::Note => "Never runs: notes or parked code. Other cells cannot depend on it.",
    }
}

/// The signature and meaning of a `jc.*` function, for completion and hover.
pub fn api_signature(function: JcFunction) -> (&'static str, &'static str) {
    match function {
        JcFunction::Load => (
            "load(path) -> Any",
            "Reads an artifact (parquet, csv, json, pkl) from a project-relative path. A literal path makes the cell depend on the cell that writes it.",
        ),
        JcFunction::Save => (
            "save(obj, path, *, format=None, caption=None, notes=None, tags=None) -> Path",
            "Writes `obj` to a project-relative path under the artifacts folder; the format comes from the suffix (parquet, csv, json, pkl, png).",
        ),
        JcFunction::Figure => (
            "figure(path=None, *, caption=None, notes=None, tags=None, fig=None) -> Path",
            "Saves `fig` (or the current matplotlib figure) and shows it inline; an existing file at `path` is registered as is.",
        ),
        JcFunction::Table => (
            "table(df, *, caption=None, notes=None, tags=None, name=None) -> Path",
            "Writes a data frame as `<layout>/<name or cell name>.parquet` and shows it.",
        ),
        JcFunction::Deps => (
            "deps(*names) -> None",
            "Declares dependencies on other cells by name, like `deps=` tags.",
        ),
        JcFunction::Path => (
            "path(name) -> Path",
            "The project-relative path for an artifact name.",
        ),
    }
}

/// The keys jellycell accepts under `[tool.jellycell]`.
const OVERRIDE_KEYS: [(&str, &str); 3] = [
    (
        "name",
        "The project name for this notebook (`[project] name`).",
    ),
    (
        "kernel",
        "The Jupyter kernel to run this notebook with (`[run] kernel`).",
    ),
    (
        "timeout_seconds",
        "Per-cell timeout in seconds for this notebook (`[run] timeout_seconds`).",
    ),
];

static JC_LOAD_STRING: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"\b(?:jc|jellycell(?:\.api)?)\.load\(\s*(?:path\s*=\s*)?["']([^"']*)$"#).ok()
});
static JC_ATTRIBUTE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?:^|[^\w.])jc\.(\w*)$").ok());

pub fn complete(snapshot: &Snapshot, position: lsp::Position) -> Option<CompletionResponse> {
    let document = &snapshot.document;
    let line = position.line as usize;
    let line_span = document.line_span(line)?;
    let offset = convert::offset(document, position, snapshot.encoding)
        .clamp(line_span.start, line_span.end);
    let line_text = document.slice(line_span);
    let cursor = offset - line_span.start;
    let before = line_text.get(..cursor)?;
    let edit_range = |start: usize| {
        convert::range(
            document,
            Span::new(line_span.start + start, offset),
            snapshot.encoding,
        )
    };
    let trimmed = before.trim_start();
    let mut incomplete = false;
    let items = if trimmed.starts_with("# %%") || trimmed.starts_with("#%%") {
        let list_start = ["tags=[", "\"tags\": [", "\"tags\":["]
            .iter()
            .find_map(|opening| before.find(opening).map(|at| at + opening.len()))?;
        let (items, more) = tag_items(
            snapshot,
            &before[list_start..],
            list_start,
            true,
            &edit_range,
        );
        incomplete = more;
        items
    } else if let Some(rest) = trimmed.strip_prefix(":tags:") {
        let list_start = before.len() - rest.len() + rest.find('[')? + 1;
        let (items, more) = tag_items(
            snapshot,
            &before[list_start..],
            list_start,
            false,
            &edit_range,
        );
        incomplete = more;
        items
    } else if let Some(captures) = JC_LOAD_STRING.as_ref().and_then(|re| re.captures(before)) {
        let partial = captures.get(1)?;
        path_items(snapshot, edit_range(partial.start()))
    } else if let Some(captures) = JC_ATTRIBUTE.as_ref().and_then(|re| re.captures(before)) {
        let partial = captures.get(1)?;
        if before[..partial.start()].contains('#') {
            return None;
        }
        api_items(edit_range(partial.start()))
    } else if in_tool_jellycell(snapshot, line) {
        let key_start = before
            .strip_prefix('#')
            .map(|rest| 1 + rest.len() - rest.trim_start().len())?;
        if !before[key_start..]
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        {
            return None;
        }
        override_items(edit_range(key_start))
    } else {
        return None;
    };
    if incomplete {
        return Some(CompletionResponse::List(CompletionList {
            is_incomplete: true,
            items,
        }));
    }
    Some(CompletionResponse::Array(items))
}

/// Items for a tag list; `list` is the text from the list's opening to the cursor.
fn tag_items(
    snapshot: &Snapshot,
    list: &str,
    list_start: usize,
    quote_bare: bool,
    edit_range: &dyn Fn(usize) -> lsp::Range,
) -> (Vec<CompletionItem>, bool) {
    if list.contains(']') {
        return (Vec::new(), false);
    }
    let (partial_start, in_quotes) = partial_tag(list);
    let partial = &list[partial_start..];
    let range = edit_range(list_start + partial_start);
    let wrap = |text: &str| {
        if in_quotes || !quote_bare {
            text.to_string()
        } else {
            format!("\"{text}\"")
        }
    };
    let item = |label: String, kind: CompletionItemKind, detail: String, documentation: &str| {
        CompletionItem {
            text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                range,
                new_text: wrap(&label),
            })),
            filter_text: Some(label.clone()),
            label,
            kind: Some(kind),
            detail: Some(detail),
            documentation: (!documentation.is_empty()).then(|| {
                Documentation::MarkupContent(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: documentation.to_string(),
                })
            }),
            ..CompletionItem::default()
        }
    };
    if let Some(typed) = partial.strip_prefix("deps=") {
        let (names, complete) = cell_names(snapshot, typed, range.start.line);
        let items = names
            .into_iter()
            .enumerate()
            .map(|(rank, (name, kind, notebook))| {
                let mut completion = item(
                    format!("deps={name}"),
                    CompletionItemKind::REFERENCE,
                    format!("{kind} cell in {notebook}"),
                    "",
                );
                completion.sort_text = Some(format!("{rank:05}"));
                completion
            })
            .collect();
        return (items, !complete);
    }
    let mut items: Vec<CompletionItem> = CellKind::ALL
        .iter()
        .map(|kind| {
            item(
                kind.tag().to_string(),
                CompletionItemKind::ENUM_MEMBER,
                format!("cell kind: {}", kind.as_str()),
                kind_meaning(*kind),
            )
        })
        .collect();
    for (attribute, meaning) in [
        (
            "name=",
            "The cell's name, which other cells use in `deps=`.",
        ),
        (
            "deps=",
            "A cell this one depends on, by name (one tag per dependency).",
        ),
        ("timeout=", "The cell's timeout in integer seconds."),
    ] {
        let completion = item(
            attribute.to_string(),
            CompletionItemKind::PROPERTY,
            "cell attribute".into(),
            meaning,
        );
        items.push(completion);
    }
    (items, false)
}

/// Where the tag being typed starts in `list`, and whether it is inside quotes.
fn partial_tag(list: &str) -> (usize, bool) {
    let mut quote: Option<(char, usize)> = None;
    let mut escaped = false;
    let mut bare_start = 0;
    for (index, c) in list.char_indices() {
        match quote {
            Some((open, _)) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == open {
                    quote = None;
                    bare_start = index + 1;
                }
            }
            None => {
                if c == '"' || c == '\'' {
                    quote = Some((c, index + 1));
                } else if c == ',' || c.is_whitespace() {
                    bare_start = index + 1;
                }
            }
        }
    }
    match quote {
        Some((_, start)) => (start, true),
        None => (bare_start, false),
    }
}

/// At most this many names are sent; the list is marked incomplete so that the client
/// asks again as the user types (a project can have thousands of names).
const MAX_NAMES: usize = 100;

/// The explicit cell names of the project that contain `typed`, as (name, kind,
/// notebook), best first: cells above `line` in this notebook (nearest first, as deps
/// must come before), then the rest of this notebook, then other notebooks. The flag
/// says whether every match is included.
fn cell_names(
    snapshot: &Snapshot,
    typed: &str,
    line: u32,
) -> (Vec<(String, String, String)>, bool) {
    let Some(workspace) = &snapshot.workspace else {
        return (Vec::new(), true);
    };
    let here = snapshot
        .document
        .line_start(line as usize)
        .and_then(|offset| super::definition::cell_at(workspace, snapshot.file_index, offset))
        .map_or(usize::MAX, |cell| cell.ordinal);
    let mut matches = Vec::new();
    for (index, notebook) in workspace.graph.notebooks.iter().enumerate() {
        for facts in &notebook.cells {
            let Some((name, _)) = &facts.explicit_name else {
                continue;
            };
            if !name.contains(typed) {
                continue;
            }
            let rank = match (index == snapshot.file_index, facts.ordinal < here) {
                (true, true) => (0, here - facts.ordinal),
                (true, false) => (1, facts.ordinal),
                (false, _) => (2, index),
            };
            matches.push((rank, name, facts.kind, notebook.path.as_str()));
        }
    }
    let complete = matches.len() <= MAX_NAMES;
    if !complete {
        matches.select_nth_unstable_by_key(MAX_NAMES, |(rank, ..)| *rank);
        matches.truncate(MAX_NAMES);
    }
    matches.sort_by_key(|(rank, ..)| *rank);
    let names = matches
        .into_iter()
        .map(|(_, name, kind, notebook)| {
            let kind = kind.map_or("markdown", |kind| kind.tag());
            (name.clone(), kind.to_string(), notebook.to_string())
        })
        .collect();
    (names, complete)
}

fn path_items(snapshot: &Snapshot, range: lsp::Range) -> Vec<CompletionItem> {
    let Some(workspace) = &snapshot.workspace else {
        return Vec::new();
    };
    let graph = &workspace.graph;
    let mut items: Vec<CompletionItem> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for path in graph.produced_paths() {
        let producers: Vec<String> = graph
            .producers_of(path)
            .iter()
            .map(|cell| {
                let notebook = graph
                    .notebooks
                    .get(cell.notebook)
                    .map_or("?", |n| n.path.as_str());
                format!("{} ({notebook})", graph.name_of(*cell))
            })
            .collect();
        seen.insert(path.to_string());
        items.push(path_item(
            path,
            format!("written by {}", producers.join(", ")),
            range,
        ));
    }
    let project = &workspace.project;
    for folder in [project.artifacts_dir(), project.data_dir()] {
        let mut found = Vec::new();
        list_files(&folder, &mut found, 0);
        for path in found {
            let Some(relative) = project.relative_path(&path) else {
                continue;
            };
            let relative = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            if seen.insert(relative.clone()) {
                items.push(path_item(&relative, "file on disk".into(), range));
            }
        }
    }
    items
}

const MAX_LISTED_FILES: usize = 2000;

fn list_files(folder: &Path, found: &mut Vec<std::path::PathBuf>, depth: usize) {
    if depth > 8 || found.len() >= MAX_LISTED_FILES {
        return;
    }
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        if found.len() >= MAX_LISTED_FILES {
            return;
        }
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => list_files(&entry.path(), found, depth + 1),
            Ok(kind) if kind.is_file() => found.push(entry.path()),
            _ => {}
        }
    }
}

fn path_item(path: &str, detail: String, range: lsp::Range) -> CompletionItem {
    CompletionItem {
        label: path.to_string(),
        kind: Some(CompletionItemKind::FILE),
        detail: Some(detail),
        text_edit: Some(CompletionTextEdit::Edit(TextEdit {
            range,
            new_text: path.to_string(),
        })),
        ..CompletionItem::default()
    }
}

fn api_items(range: lsp::Range) -> Vec<CompletionItem> {
    JcFunction::ALL
        .iter()
        .map(|function| {
            let (signature, meaning) = api_signature(*function);
            CompletionItem {
                label: function.name().to_string(),
                kind: Some(CompletionItemKind::FUNCTION),
                detail: Some(format!("jc.{signature}")),
                documentation: Some(Documentation::MarkupContent(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: meaning.to_string(),
                })),
                text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                    range,
                    new_text: function.name().to_string(),
                })),
                ..CompletionItem::default()
            }
        })
        .collect()
}

fn override_items(range: lsp::Range) -> Vec<CompletionItem> {
    OVERRIDE_KEYS
        .iter()
        .map(|(key, meaning)| CompletionItem {
            label: key.to_string(),
            kind: Some(CompletionItemKind::PROPERTY),
            detail: Some("[tool.jellycell]".to_string()),
            documentation: Some(Documentation::String(meaning.to_string())),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                range,
                new_text: format!("{key} = "),
            })),
            filter_text: Some(key.to_string()),
            ..CompletionItem::default()
        })
        .collect()
}

/// Whether `line` is a comment line of a PEP-723 block under `[tool.jellycell]`.
fn in_tool_jellycell(snapshot: &Snapshot, line: usize) -> bool {
    let document = &snapshot.document;
    let line_text = |index: usize| document.line_span(index).map(|span| document.slice(span));
    if !line_text(line).is_some_and(|text| text.starts_with('#')) {
        return false;
    }
    for index in (0..line).rev() {
        let Some(text) = line_text(index) else {
            return false;
        };
        let text = text.trim_end();
        if !text.starts_with('#') || text.starts_with("# ///") {
            return false;
        }
        let content = text.trim_start_matches('#').trim();
        if content.starts_with('[') {
            return content == "[tool.jellycell]";
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partial_tag_starts_after_its_quote_or_separator() {
        assert_eq!(partial_tag("\"jc.step\", \"de"), (12, true));
        assert_eq!(partial_tag("\"jc.step\", de"), (11, false));
        assert_eq!(partial_tag(""), (0, false));
        assert_eq!(partial_tag("jc.step, deps="), (9, false));
    }
}

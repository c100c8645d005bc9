//! Which jupytext format a text notebook is in, decided as jupytext 1.19.6 decides it
//! (`jupytext.reads` → `read_format_from_metadata`, then `guess_format`): a header's
//! `jupytext.text_representation` (when its `extension` matches) or `jupytext.formats`
//! entry wins; without one, a `.py` is py:percent (jellycell calls
//! `jupytext.reads(text, fmt="py:percent")`) and a `.md` is MyST when it has a
//! ```` ```{code-cell} ```` / ```` ```{raw-cell} ```` block or a MyST front matter,
//! pandoc when a line starts with `:::`, else jupytext's plain markdown format.

use serde_json::{Map, Value};

/// The jupytext format name for `ext` (`.py`, `.md`) that `metadata` (a notebook header,
/// `jupyter:` section) names: `format_name_for_ext(metadata, ext, explicit_default=False)`.
/// `None` when the header names none.
pub(crate) fn header_format_name(metadata: &Map<String, Value>, ext: &str) -> Option<String> {
    let jupytext = metadata.get("jupytext").and_then(Value::as_object);
    let representation = jupytext
        .and_then(|jupytext| jupytext.get("text_representation"))
        .and_then(Value::as_object);
    if let Some(representation) = representation {
        let extension = representation
            .get("extension")
            .and_then(Value::as_str)
            .unwrap_or("");
        let name = representation.get("format_name").and_then(Value::as_str);
        if extension.ends_with(ext)
            && let Some(name) = name.filter(|name| !name.is_empty())
        {
            return Some(normalise(name));
        }
    }
    // `jupytext_formats` at the root is the old spelling of `jupytext.formats`.
    let formats = jupytext
        .and_then(|jupytext| jupytext.get("formats"))
        .or_else(|| metadata.get("jupytext_formats"))?;
    let entries: Vec<&str> = match formats {
        Value::String(text) => text.split(',').filter(|entry| !entry.is_empty()).collect(),
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    for entry in entries {
        let (extension, name) = long_form(entry);
        if extension == ext {
            // jupytext returns the first matching entry's name, even when it has none.
            return name.map(normalise);
        }
    }
    None
}

/// `long_form_one_format` reduced to (extension, format name): `sub/x.pct.py:percent` →
/// (`.py`, `percent`); `md` → (`.md`, none); `myst` → (`.md`, `myst`).
fn long_form(entry: &str) -> (String, Option<&str>) {
    let entry = match entry.to_lowercase().as_str() {
        "myst" => "md:myst",
        "markdown" => "md",
        "pandoc" => "md:pandoc",
        "marimo" => "py",
        _ => entry,
    };
    let entry = entry.rsplit_once('/').map_or(entry, |(_, rest)| rest);
    let (extension, name) = match entry.rsplit_once(':') {
        Some((extension, name)) => (extension, Some(name)),
        None => (entry, None),
    };
    let extension = match extension.rfind('.') {
        Some(dot) if dot > 0 => &extension[dot..],
        _ => extension,
    };
    let extension = if extension.starts_with('.') {
        extension.to_string()
    } else {
        format!(".{extension}")
    };
    (extension, name.filter(|name| !name.is_empty()))
}

fn normalise(name: &str) -> String {
    if name == "bare" {
        "nomarker".into()
    } else {
        name.to_string()
    }
}

/// What a `.md` text is, as `jupytext.read("x.md")` decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MarkdownDetection {
    /// `myst`, `markdown`, `pandoc`, or what a header names.
    pub format_name: String,
    /// The front matter says `format_name: myst` in `text_representation` but has no
    /// `extension: .md`, which makes jupytext ignore the format name: it reads the file
    /// as plain markdown.
    pub myst_name_ignored: bool,
}

/// Decides the format of a `.md` notebook. `markdown_header` is the metadata of a
/// `---` … `---` header's `jupyter:` section (jupytext's markdown header), `front_matter`
/// the whole first YAML block (MyST's root-level header) when the text starts with one.
pub(crate) fn detect_markdown(
    text: &str,
    markdown_header: &Map<String, Value>,
    front_matter: Option<&Map<String, Value>>,
) -> MarkdownDetection {
    // `read_metadata`: MyST metadata at the root counts only when it says it is MyST.
    let says_myst = |metadata: &Map<String, Value>| {
        metadata
            .get("jupytext")
            .and_then(|jupytext| jupytext.get("text_representation"))
            .and_then(|representation| representation.get("format_name"))
            .and_then(Value::as_str)
            == Some("myst")
    };
    let empty = Map::new();
    let metadata = if !markdown_header.is_empty() {
        markdown_header
    } else {
        match front_matter {
            Some(root) if text.starts_with("---") && says_myst(root) => root,
            _ => &empty,
        }
    };
    let found = |format_name: &str| MarkdownDetection {
        format_name: format_name.to_string(),
        myst_name_ignored: false,
    };
    if let Some(name) = header_format_name(metadata, ".md") {
        return found(&name);
    }
    let has_representation = metadata
        .get("jupytext")
        .and_then(|jupytext| jupytext.get("text_representation"))
        .is_some();
    if has_representation {
        // `guess_format` returns `format_name_for_ext(...)`, which is no name for `.md`:
        // jupytext's default `.md` format, plain markdown.
        return MarkdownDetection {
            format_name: "markdown".into(),
            myst_name_ignored: says_myst(metadata),
        };
    }
    if matches_myst(text, front_matter) {
        return found("myst");
    }
    if text.split(['\n', '\r']).any(|line| line.starts_with(":::")) {
        return found("pandoc");
    }
    found("markdown")
}

/// `matches_mystnb(text, requires_meta=False)`: a MyST front matter (`format_name: myst`,
/// at the root or under `jupyter:`), or a fenced block whose info string starts with
/// `{code-cell}` or `{raw-cell}`.
fn matches_myst(text: &str, front_matter: Option<&Map<String, Value>>) -> bool {
    if let Some(root) = front_matter {
        let namespace = root
            .get("jupyter")
            .and_then(Value::as_object)
            .unwrap_or(root);
        let name = namespace
            .get("jupytext")
            .and_then(|jupytext| jupytext.get("text_representation"))
            .and_then(|representation| representation.get("format_name"))
            .and_then(Value::as_str);
        if name == Some("myst") {
            return true;
        }
    }
    // Top-level fences as CommonMark reads them: an opening fence's info string counts;
    // lines inside an open fence are its content.
    let mut open: Option<(u8, usize)> = None;
    for line in text.split(['\n', '\r']) {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        let fence_char = rest.bytes().next().filter(|c| *c == b'`' || *c == b'~');
        let length = fence_char.map_or(0, |c| rest.bytes().take_while(|b| *b == c).count());
        let is_fence = indent <= 3 && length >= 3;
        let info = if is_fence { rest[length..].trim() } else { "" };
        match (open, fence_char) {
            (Some((c, opened)), Some(found))
                if is_fence && found == c && length >= opened && info.is_empty() =>
            {
                open = None;
            }
            (Some(_), _) => {}
            (None, Some(found)) if is_fence && !(found == b'`' && info.contains('`')) => {
                if info.starts_with("{code-cell}") || info.starts_with("{raw-cell}") {
                    return true;
                }
                open = Some((found, length));
            }
            _ => {}
        }
    }
    false
}

/// Why a notebook in `format_name` is neither linted nor run, and how to fix it.
pub(crate) fn unsupported_message(extension: &str, format_name: &str, from_header: bool) -> String {
    let why = if from_header {
        "its jupytext header says so"
    } else {
        "jupytext guesses it from the content"
    };
    let target = if extension == "md" {
        "md:myst"
    } else {
        "py:percent"
    };
    format!(
        "jupytext reads this file as `{extension}:{format_name}` ({why}); jellycell-lsp reads \
         only py:percent, py:light, md:myst and md:markdown exactly, so it neither lints nor runs \
         this notebook; convert it with `jupytext --to {target}`"
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn text_representation_needs_the_extension() {
        let header = map(json!({"jupytext": {"text_representation": {"format_name": "light"}}}));
        assert_eq!(header_format_name(&header, ".py"), None);
        let header = map(json!({"jupytext": {"text_representation":
            {"extension": ".py", "format_name": "light"}}}));
        assert_eq!(header_format_name(&header, ".py").as_deref(), Some("light"));
    }

    #[test]
    fn formats_entries_name_the_format_for_the_extension() {
        let header = map(json!({"jupytext": {"formats": "ipynb,src//.pct.py:percent,md"}}));
        assert_eq!(
            header_format_name(&header, ".py").as_deref(),
            Some("percent")
        );
        assert_eq!(header_format_name(&header, ".md"), None);
        let header = map(json!({"jupytext": {"formats": "ipynb,py:bare"}}));
        assert_eq!(
            header_format_name(&header, ".py").as_deref(),
            Some("nomarker")
        );
    }

    #[test]
    fn myst_front_matter_without_extension_is_plain_markdown() {
        let root = map(json!({"jupytext": {"text_representation": {"format_name": "myst"}}}));
        let text = "---\njupytext:\n  text_representation:\n    format_name: myst\n---\n\n```{code-cell} ipython3\n1\n```\n";
        let detected = detect_markdown(text, &Map::new(), Some(&root));
        assert_eq!(detected.format_name, "markdown");
        assert!(detected.myst_name_ignored);
    }

    #[test]
    fn code_cell_directives_make_myst_without_a_header() {
        let detected = detect_markdown("# T\n\n```{code-cell}\n1\n```\n", &Map::new(), None);
        assert_eq!(detected.format_name, "myst");
        let detected = detect_markdown("# T\n\n```python\n1\n```\n", &Map::new(), None);
        assert_eq!(detected.format_name, "markdown");
        let detected = detect_markdown("::: note\nx\n:::\n", &Map::new(), None);
        assert_eq!(detected.format_name, "pandoc");
    }
}

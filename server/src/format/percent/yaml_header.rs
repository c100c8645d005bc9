//! The jupytext header at the top of a percent file (`header.py`): an optional `#!`
//! line, an optional `coding:` line, and the `# ---` … `# ---` YAML block whose `jupyter:`
//! section is the notebook metadata. Other root-level YAML keys become a raw cell, as
//! jupytext reads them. Also writes the header back the way jupytext does.

use crate::format::jupytext::{object_entry, recursive_update};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::lines::{Line, WS, is_blank};

static HEADER: LazyLock<Regex> = LazyLock::new(|| pattern(r"^---WS*$"));
static JUPYTER: LazyLock<Regex> = LazyLock::new(|| pattern(r"^jupyter WS*:WS*$"));
static ENCODING: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^[ \t\x0c]*#.*?coding[:=][ \t]*([-_.a-zA-Z0-9]+)"));
/// The encoding line with no comment prefix (markdown), as jupytext's regex reads then.
static ENCODING_NO_PREFIX: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^[ \t\x0c]*.*?coding[:=][ \t]*([-_.a-zA-Z0-9]+)"));

fn pattern(text: &str) -> Regex {
    let text = text.replace("jupyter ", "jupyter").replace("WS", WS);
    Regex::new(&text).unwrap_or_else(|error| panic!("bad pattern {text}: {error}"))
}

/// `uncomment_line(line, prefix)` for the prefixes in use: `#` (scripts) or none
/// (markdown).
fn uncomment_line<'a>(line: &'a str, prefix: &str) -> &'a str {
    if prefix.is_empty() {
        return line;
    }
    line.strip_prefix("# ")
        .or_else(|| line.strip_prefix('#'))
        .unwrap_or(line)
}

/// What the header gave.
#[derive(Debug, Default)]
pub(crate) struct Header {
    /// Notebook metadata (the `jupyter:` section, plus `jupytext.executable/encoding`).
    pub metadata: Map<String, Value>,
    /// Lines consumed (shebang, encoding, the YAML block and one blank line after it).
    pub consumed: usize,
    /// Root-level YAML outside `jupyter:`: the raw cell jupytext makes of it
    /// (source, metadata).
    pub raw_cell: Option<(String, Map<String, Value>)>,
    /// The YAML could not be parsed: what went wrong.
    pub error: Option<String>,
}

/// Reads the header at the start of `lines` (`header_to_metadata_and_cell`) of a script.
pub(crate) fn read_header(lines: &[Line<'_>]) -> Header {
    read_header_with_prefix(lines, "#")
}

/// [`read_header`] with jupytext's `header_prefix`: `#` for a script, empty for a
/// markdown notebook (whose header may also sit in an HTML comment, `<!--` … `-->`).
pub(crate) fn read_header_with_prefix(lines: &[Line<'_>], prefix: &str) -> Header {
    let encoding_re: &Regex = if prefix.is_empty() {
        &ENCODING_NO_PREFIX
    } else {
        &ENCODING
    };
    let mut in_html_div = false;
    let mut extra = Map::new();
    let mut header_lines: Vec<&str> = Vec::new();
    let mut jupyter: Vec<&str> = Vec::new();
    let mut in_jupyter = false;
    let mut start = 0;
    let mut started = false;
    let mut ended = false;
    let mut last = 0;
    for (i, line) in lines.iter().enumerate() {
        last = i;
        let text = line.text;
        if i == 0 && text.starts_with("#!") {
            object_entry(&mut extra, "jupytext")
                .insert("executable".into(), Value::String(text[2..].into()));
            start = i + 1;
            continue;
        }
        if (i == 0 || (i == 1 && !encoding_re.is_match(lines[0].text)))
            && encoding_re.is_match(text)
        {
            // jupytext refuses encodings other than utf-8; we read the file anyway.
            object_entry(&mut extra, "jupytext")
                .insert("encoding".into(), Value::String(text.into()));
            start = i + 1;
            continue;
        }
        if !text.starts_with(prefix) {
            break;
        }
        if prefix.is_empty() && super::lines::py_strip(text).starts_with("<!--") {
            in_html_div = true;
            continue;
        }
        if in_html_div {
            if ended && text.contains("-->") {
                break;
            }
            if !started && is_blank(text) {
                continue;
            }
        }
        let uncommented = uncomment_line(text, prefix);
        if HEADER.is_match(uncommented) {
            if !started {
                started = true;
                continue;
            }
            ended = true;
            if in_html_div {
                continue;
            }
            break;
        }
        if !started && !is_blank(uncommented) {
            break;
        }
        if JUPYTER.is_match(uncommented) {
            in_jupyter = true;
        } else if !uncommented.is_empty() && !uncommented.starts_with(super::lines::is_py_space) {
            in_jupyter = false;
        }
        if in_jupyter {
            jupyter.push(uncommented);
        } else {
            header_lines.push(uncommented);
        }
    }
    if !ended {
        return Header {
            metadata: extra,
            consumed: start,
            raw_cell: None,
            error: None,
        };
    }
    let mut result = Header::default();
    let mut metadata = Map::new();
    if !jupyter.is_empty() {
        match crate::format::yaml::parse(&jupyter.join("\n")) {
            Ok(Value::Object(mut root)) => match root.remove("jupyter") {
                Some(Value::Object(map)) => metadata = map,
                Some(Value::Null) | None => {}
                Some(_) => result.error = Some("the `jupyter:` entry is not a mapping".into()),
            },
            Ok(_) => result.error = Some("the YAML header is not a mapping".into()),
            Err(error) => result.error = Some(error),
        }
    }
    recursive_update(&mut metadata, extra);
    let mut i = last;
    let lines_to_next_cell = if let Some(next) = lines.get(i + 1) {
        if is_blank(uncomment_line(next.text, prefix)) {
            i += 1;
            1
        } else {
            0
        }
    } else {
        0
    };
    if !header_lines.is_empty() {
        let mut source = String::from("---\n");
        for line in &header_lines {
            source.push_str(line);
            source.push('\n');
        }
        source.push_str("---");
        let rest = lines.get(i + 1..).unwrap_or(&[]);
        let expected = if prefix.is_empty() {
            1
        } else {
            super::pep8::pep8_lines_between_cells(&["---"], rest.iter().map(|l| l.text))
        };
        let mut cell_metadata = Map::new();
        if lines_to_next_cell != expected {
            cell_metadata.insert("lines_to_next_cell".into(), Value::from(lines_to_next_cell));
        }
        result.raw_cell = Some((source, cell_metadata));
    }
    result.metadata = metadata;
    result.consumed = i + 1;
    result
}

/// The text format a header is written for: jupytext's `NotebookFormatDescription`
/// (extension, format name, current version, `header_prefix`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeaderFormat {
    pub extension: &'static str,
    pub format_name: &'static str,
    pub format_version: &'static str,
    /// `#` for a script; empty for markdown, whose header lines are not commented.
    pub prefix: &'static str,
}

pub(crate) const PERCENT_HEADER: HeaderFormat = HeaderFormat {
    extension: ".py",
    format_name: "percent",
    format_version: "1.3",
    prefix: "#",
};

pub(crate) const LIGHT_HEADER: HeaderFormat = HeaderFormat {
    extension: ".py",
    format_name: "light",
    format_version: "1.5",
    prefix: "#",
};

pub(crate) const MARKDOWN_HEADER: HeaderFormat = HeaderFormat {
    extension: ".md",
    format_name: "markdown",
    format_version: "1.3",
    prefix: "",
};

/// The header jupytext writes for `metadata` (`yaml.safe_dump(..., default_flow_style=False)`
/// of `{"jupyter": metadata}` with sorted keys, commented), plus the raw front-matter cell's
/// lines when the first cell is one.
#[cfg(test)]
pub(crate) fn write_header(metadata: &Map<String, Value>, frontmatter: &[&str]) -> Vec<String> {
    write_header_for(metadata, frontmatter, PERCENT_HEADER)
}

/// [`write_header`] for `format` (`metadata_and_cell_to_header` with its
/// `encoding_and_executable` lines for a script).
pub(crate) fn write_header_for(
    metadata: &Map<String, Value>,
    frontmatter: &[&str],
    format: HeaderFormat,
) -> Vec<String> {
    let mut metadata = metadata.clone();
    let script = !format.prefix.is_empty();
    crate::format::pairing::name_written_format(
        &mut metadata,
        format.extension,
        format.format_name,
    );
    // `encoding_and_executable` first: those lines go above the YAML block.
    let mut lines: Vec<String> = Vec::new();
    if script && let Some(Value::Object(jupytext)) = metadata.get_mut("jupytext") {
        if let Some(Value::String(executable)) = jupytext.shift_remove("executable") {
            lines.push(format!("#!{executable}"));
        }
        if let Some(Value::String(encoding)) = jupytext.shift_remove("encoding") {
            lines.push(encoding);
        }
    }
    // `default_language_from_metadata_and_ext(..., pop_main_language=True)`: a main
    // language equal to the kernel's, or to the extension's (python for `.py`; `.md`
    // has none), is not written.
    let kernel_language = metadata
        .get("kernelspec")
        .and_then(|kernelspec| kernelspec.get("language"))
        .filter(|language| language.as_str().is_some_and(|text| !text.is_empty()))
        .cloned();
    let default_language = match kernel_language {
        Some(language) => Some(language),
        None if script => Some(Value::String("python".into())),
        None => None,
    };
    if let Some(Value::Object(jupytext)) = metadata.get_mut("jupytext")
        && default_language.is_some()
        && jupytext.get("main_language") == default_language.as_ref()
    {
        jupytext.shift_remove("main_language");
    }
    let hide = metadata
        .get("jupytext")
        .and_then(|jupytext| jupytext.get("hide_notebook_metadata"))
        .is_some_and(crate::format::jupytext::python_truthy);
    let metadata = filter_notebook_metadata(with_text_representation(metadata, format));
    let mut body: Vec<String> = frontmatter.iter().map(|s| s.to_string()).collect();
    if !metadata.is_empty() {
        let mut root = Map::new();
        root.insert("jupyter".into(), Value::Object(metadata));
        let sorted = sort_keys(&Value::Object(root));
        let yaml = serde_yaml_ng::to_string(&sorted).unwrap_or_default();
        body.extend(
            super::lines::py_splitlines(&yaml)
                .into_iter()
                .map(String::from),
        );
    }
    if body.is_empty() {
        return lines;
    }
    let mut block = vec!["---".to_string()];
    block.extend(body);
    block.push("---".into());
    if !script {
        if hide && format.format_name == "markdown" {
            block.splice(0..0, ["<!--".to_string(), String::new()]);
            block.extend([String::new(), "-->".to_string()]);
        }
        lines.extend(block);
        return lines;
    }
    for line in block {
        lines.push(if line.is_empty() {
            format.prefix.to_string()
        } else {
            format!("{} {line}", format.prefix)
        });
    }
    lines
}

/// jupytext records the format it wrote in `jupytext.text_representation`.
fn with_text_representation(
    mut metadata: Map<String, Value>,
    format: HeaderFormat,
) -> Map<String, Value> {
    let entry = object_entry(&mut metadata, "jupytext");
    let mut representation = Map::new();
    representation.insert("extension".into(), Value::String(format.extension.into()));
    representation.insert(
        "format_name".into(),
        Value::String(format.format_name.into()),
    );
    representation.insert(
        "format_version".into(),
        Value::String(format.format_version.into()),
    );
    representation.insert("jupytext_version".into(), Value::String("1.19.6".into()));
    entry.insert("text_representation".into(), Value::Object(representation));
    metadata
}

/// jupytext's notebook metadata filter (`notebook_metadata_filter`, sub-keys such as
/// `-jupytext.text_representation.jupytext_version` included).
fn filter_notebook_metadata(metadata: Map<String, Value>) -> Map<String, Value> {
    let user = metadata
        .get("jupytext")
        .and_then(|jupytext| jupytext.get("notebook_metadata_filter"))
        .cloned();
    crate::format::myst::metadata_filter::filter_notebook_metadata(&metadata, user.as_ref())
}

fn sort_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for key in keys {
                out.insert(key.clone(), sort_keys(&map[key]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::percent::lines::split_lines;
    use serde_json::json;

    #[test]
    fn reads_jupyter_section_and_one_blank_line() {
        let text = "# ---\n# jupyter:\n#   kernelspec:\n#     name: python3\n# ---\n\n# %%\n";
        let lines = split_lines(text, 0);
        let header = read_header(&lines);
        assert_eq!(
            Value::Object(header.metadata),
            json!({"kernelspec": {"name": "python3"}})
        );
        assert_eq!(header.consumed, 6);
        assert!(header.raw_cell.is_none());
    }

    #[test]
    fn root_level_keys_become_a_raw_cell() {
        let text = "# ---\n# title: x\n# jupyter:\n#   a: 1\n# ---\n# %%\n";
        let header = read_header(&split_lines(text, 0));
        let (source, metadata) = header.raw_cell.expect("raw cell");
        assert_eq!(source, "---\ntitle: x\n---");
        assert_eq!(Value::Object(metadata), json!({"lines_to_next_cell": 0}));
        assert_eq!(header.consumed, 5);
    }

    #[test]
    fn no_header_without_closing_dashes() {
        let header = read_header(&split_lines("# ---\n# a: 1\nx = 1\n", 0));
        assert_eq!(header.consumed, 0);
    }

    #[test]
    fn writes_sorted_commented_yaml() {
        let metadata = json!({"kernelspec": {"name": "python3", "display_name": "Python 3"}});
        let Value::Object(metadata) = metadata else {
            unreachable!()
        };
        assert_eq!(
            write_header(&metadata, &[]),
            [
                "# ---",
                "# jupyter:",
                "#   jupytext:",
                "#     text_representation:",
                "#       extension: .py",
                "#       format_name: percent",
                "#       format_version: '1.3'",
                "#       jupytext_version: 1.19.6",
                "#   kernelspec:",
                "#     display_name: Python 3",
                "#     name: python3",
                "# ---"
            ]
        );
    }
}

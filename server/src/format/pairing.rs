//! jupytext's `formats` pairing string (`ipynb,py:percent`, `notebooks//ipynb,scripts//py`,
//! `.pct.py:percent`): parsed as `long_form_one_format` does and written back as
//! `short_form_one_format` does, and the rewrite jupytext makes when it writes one of the
//! paired files (`update_jupytext_formats_metadata`: `ipynb,md` becomes `ipynb,md:myst`).

use serde_json::{Map, Value};

/// One entry of a `formats` string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairedFormat {
    /// A folder prefix (`notebooks/` in `notebooks//ipynb`), without its last `/`.
    pub prefix: Option<String>,
    /// A file-name suffix before the extension (`.pct` in `.pct.py`).
    pub suffix: Option<String>,
    /// The extension with its dot: `.ipynb`, `.py`, `.md`.
    pub extension: String,
    /// `percent`, `light`, `myst`, `markdown`…, when given.
    pub format_name: Option<String>,
}

impl PairedFormat {
    /// `long_form_one_format` of one entry; `None` when it names no extension.
    pub fn parse(entry: &str) -> Option<PairedFormat> {
        let entry = entry.trim();
        let aliases = [
            ("notebook", "ipynb"),
            ("markdown", "md"),
            ("myst", "md:myst"),
            ("pandoc", "md:pandoc"),
            ("rmarkdown", "Rmd"),
            ("quarto", "qmd"),
        ];
        let lower = entry.to_lowercase();
        let entry = aliases
            .iter()
            .find(|(alias, _)| *alias == lower)
            .map_or(entry, |(_, full)| full);
        let (prefix, rest) = match entry.rfind('/') {
            Some(at) if at > 0 => (Some(entry[..at].to_string()), &entry[at + 1..]),
            _ => (None, entry),
        };
        let (mut extension, format_name) = match rest.rsplit_once(':') {
            Some((extension, name)) => (extension.to_string(), Some(name.to_string())),
            None => (rest.to_string(), None),
        };
        if extension.is_empty() {
            return None;
        }
        let mut suffix = None;
        if let Some(at) = extension.rfind('.').filter(|at| *at > 0) {
            suffix = Some(extension[..at].to_string());
            extension = extension[at..].to_string();
        }
        if !extension.starts_with('.') {
            extension.insert(0, '.');
        }
        Some(PairedFormat {
            prefix,
            suffix,
            extension,
            format_name,
        })
    }

    /// `short_form_one_format`.
    pub fn short_form(&self) -> String {
        let mut text = match &self.suffix {
            Some(suffix) => format!("{suffix}{}", self.extension),
            None => self
                .extension
                .strip_prefix('.')
                .unwrap_or(&self.extension)
                .to_string(),
        };
        if let Some(prefix) = &self.prefix {
            text = format!("{prefix}/{text}");
        }
        if let Some(name) = self.format_name.as_deref().filter(|name| !name.is_empty()) {
            let markdown = matches!(self.extension.as_str(), ".md" | ".markdown" | ".Rmd");
            if !markdown || matches!(name, "pandoc" | "myst") {
                text = format!("{text}:{name}");
            }
        }
        text
    }
}

/// `long_form_multiple_formats` of a `formats` string (entries that name no extension
/// are left out).
pub fn parse_formats(formats: &str) -> Vec<PairedFormat> {
    formats
        .split(',')
        .filter(|entry| !entry.trim().is_empty())
        .filter_map(PairedFormat::parse)
        .collect()
}

/// `update_jupytext_formats_metadata(metadata, {"extension": extension, "format_name":
/// format_name})`: the `formats` entry for a file of this extension (no prefix, no suffix)
/// names the format it is written in.
pub(crate) fn name_written_format(
    metadata: &mut Map<String, Value>,
    extension: &str,
    format_name: &str,
) {
    let Some(Value::String(formats)) = metadata
        .get("jupytext")
        .and_then(|jupytext| jupytext.get("formats"))
    else {
        return;
    };
    let mut parsed = parse_formats(formats);
    if parsed.is_empty() {
        return;
    }
    if let Some(entry) = parsed.iter_mut().find(|entry| {
        entry.extension == extension && entry.prefix.is_none() && entry.suffix.is_none()
    }) {
        entry.format_name = Some(format_name.to_string());
    }
    let written: Vec<String> = parsed.iter().map(PairedFormat::short_form).collect();
    if let Some(Value::Object(jupytext)) = metadata.get_mut("jupytext") {
        jupytext.insert("formats".into(), Value::String(written.join(",")));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_prefixes_suffixes_and_names() {
        let formats = parse_formats("notebooks//ipynb,scripts//py:percent,.pct.py:percent,md");
        assert_eq!(formats[0].prefix.as_deref(), Some("notebooks/"));
        assert_eq!(formats[0].extension, ".ipynb");
        assert_eq!(formats[1].format_name.as_deref(), Some("percent"));
        assert_eq!(formats[2].suffix.as_deref(), Some(".pct"));
        assert_eq!(formats[2].extension, ".py");
        let short: Vec<String> = formats.iter().map(PairedFormat::short_form).collect();
        assert_eq!(
            short,
            [
                "notebooks//ipynb",
                "scripts//py:percent",
                ".pct.py:percent",
                "md"
            ]
        );
    }

    #[test]
    fn writing_myst_names_the_md_entry() {
        let Value::Object(mut metadata) = json!({"jupytext": {"formats": "ipynb,md"}}) else {
            unreachable!()
        };
        name_written_format(&mut metadata, ".md", "myst");
        assert_eq!(metadata["jupytext"]["formats"], json!("ipynb,md:myst"));
        name_written_format(&mut metadata, ".md", "markdown");
        assert_eq!(metadata["jupytext"]["formats"], json!("ipynb,md"));
    }
}

//! Which files a notebook is paired with: jupytext's `formats`, from the notebook's own
//! metadata (a text header's `jupytext.formats`, an `.ipynb`'s `metadata.jupytext.formats`),
//! else the nearest `jupytext.toml` / `pyproject.toml` `[tool.jupytext]` (as the
//! `paired-out-of-sync` rule reads them), turned into paths as jupytext's `paired_paths`
//! does for formats without a folder prefix: the same base name, each entry's suffix and
//! extension (`ipynb,.pct.py:percent` pairs `a.ipynb` with `a.pct.py`).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::format::pairing::{PairedFormat, parse_formats};
use crate::format::{self, NotebookFormat};
use crate::lint::rules::paired::folder_formats;

/// One file of a pairing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PairedFile {
    pub path: PathBuf,
    /// The format to write it in: `Ipynb` for the `.ipynb`; for a text file the
    /// pairing's format name, else `None` (the format the existing file is in, else
    /// py:percent / MyST).
    pub format: Option<NotebookFormat>,
}

impl PairedFile {
    pub fn is_ipynb(&self) -> bool {
        self.format == Some(NotebookFormat::Ipynb)
    }
}

/// What the pairing of a notebook is.
#[derive(Debug)]
pub(crate) enum Pairing {
    /// No `formats`, or one that names only this file.
    NotPaired,
    /// The files of the pairing, in the order of the `formats` entries.
    Paired(Vec<PairedFile>),
    /// A pairing this command does not sync, and why.
    Unsupported(String),
}

/// The pairing of the notebook at `path` whose text is `text`.
pub(crate) fn pairing_of(path: &Path, text: &str) -> Pairing {
    let Some(extension) = notebook_extension(path) else {
        return Pairing::NotPaired;
    };
    let format = match extension {
        ".ipynb" => NotebookFormat::Ipynb,
        ".md" => NotebookFormat::Myst,
        _ => NotebookFormat::Percent,
    };
    let notebook = format::read(text, format);
    let own = notebook
        .metadata
        .get("jupytext")
        .and_then(|jupytext| jupytext.get("formats"))
        .cloned();
    let folder = path.parent().unwrap_or(Path::new("."));
    let Some(formats) = own.or_else(|| folder_formats(folder)) else {
        return Pairing::NotPaired;
    };
    let Some(formats) = formats_string(&formats) else {
        return Pairing::Unsupported(
            "its jupytext `formats` is a mapping of folders; only a formats string \
             (\"ipynb,py:percent\") is synced: use `jupytext --sync` for it"
                .into(),
        );
    };
    paired_files(path, extension, &parse_formats(&formats))
}

/// `.py`, `.md` or `.ipynb`: the notebook extensions synced.
pub(crate) fn notebook_extension(path: &Path) -> Option<&'static str> {
    match path.extension().and_then(|extension| extension.to_str()) {
        Some("py") => Some(".py"),
        Some("md") => Some(".md"),
        Some("ipynb") => Some(".ipynb"),
        _ => None,
    }
}

/// `"ipynb,py:percent"` or `["ipynb", "py:percent"]` as one string.
fn formats_string(formats: &Value) -> Option<String> {
    match formats {
        Value::String(text) => Some(text.clone()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    }
}

fn paired_files(path: &Path, extension: &str, formats: &[PairedFormat]) -> Pairing {
    if let Some(prefixed) = formats.iter().find(|entry| entry.prefix.is_some()) {
        return Pairing::Unsupported(format!(
            "its pairing has a folder prefix ({}); only formats beside the notebook are \
             synced: use `jupytext --sync` for it",
            prefixed.short_form()
        ));
    }
    let file_name = path
        .file_name()
        .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
    let stem = file_name
        .strip_suffix(extension)
        .unwrap_or(&file_name)
        .to_string();
    // jupytext's `base_path`: the entry of this file's extension whose suffix it has.
    let Some(own) = formats.iter().find(|entry| {
        entry.extension == extension
            && entry
                .suffix
                .as_deref()
                .is_none_or(|suffix| stem.ends_with(suffix))
    }) else {
        return Pairing::NotPaired;
    };
    let base = stem
        .strip_suffix(own.suffix.as_deref().unwrap_or(""))
        .unwrap_or(&stem)
        .to_string();
    let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut files: Vec<PairedFile> = Vec::new();
    for entry in formats {
        let format = match text_format(entry) {
            Ok(format) => format,
            Err(message) => return Pairing::Unsupported(message),
        };
        let name = format!(
            "{base}{}{}",
            entry.suffix.as_deref().unwrap_or(""),
            entry.extension
        );
        let file = PairedFile {
            path: folder.join(name),
            format,
        };
        if !files.iter().any(|known| known.path == file.path) {
            files.push(file);
        }
    }
    if files.len() < 2 {
        return Pairing::NotPaired;
    }
    Pairing::Paired(files)
}

/// The format an entry names; an error for a format this tool does not write.
fn text_format(entry: &PairedFormat) -> Result<Option<NotebookFormat>, String> {
    let name = entry.format_name.as_deref();
    let format = match (entry.extension.as_str(), name) {
        (".ipynb", _) => Some(NotebookFormat::Ipynb),
        (".py", Some("percent")) => Some(NotebookFormat::Percent),
        (".py", Some("light")) => Some(NotebookFormat::Light),
        (".md", Some("myst")) => Some(NotebookFormat::Myst),
        (".md", Some("markdown")) => Some(NotebookFormat::Markdown),
        (".py" | ".md", None) => None,
        _ => {
            return Err(format!(
                "its pairing names {}, a format this tool does not write (it writes ipynb, \
                 py:percent, py:light, md:myst and md:markdown): use `jupytext --sync` for it",
                entry.short_form()
            ));
        }
    };
    Ok(format)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(pairing: Pairing) -> Vec<String> {
        match pairing {
            Pairing::Paired(files) => files
                .iter()
                .map(|file| file.path.display().to_string())
                .collect(),
            other => panic!("not paired: {other:?}"),
        }
    }

    #[test]
    fn a_header_pairs_the_files_beside_it() {
        let text = "# ---\n# jupyter:\n#   jupytext:\n#     formats: ipynb,py:percent\n# ---\n\n# %%\nx = 1\n";
        assert_eq!(
            paths(pairing_of(Path::new("nb/a.py"), text)),
            ["nb/a.ipynb", "nb/a.py"]
        );
    }

    #[test]
    fn suffixes_name_the_paired_files() {
        let formats = parse_formats("ipynb,.pct.py:percent");
        assert_eq!(
            paths(paired_files(Path::new("a.pct.py"), ".py", &formats)),
            ["a.ipynb", "a.pct.py"]
        );
        assert_eq!(
            paths(paired_files(Path::new("a.ipynb"), ".ipynb", &formats)),
            ["a.ipynb", "a.pct.py"]
        );
    }

    #[test]
    fn prefixes_and_unknown_formats_are_not_synced() {
        let prefixed = parse_formats("notebooks//ipynb,scripts//py:percent");
        assert!(matches!(
            paired_files(Path::new("a.py"), ".py", &prefixed),
            Pairing::Unsupported(_)
        ));
        let rmd = parse_formats("ipynb,py:percent,Rmd");
        assert!(matches!(
            paired_files(Path::new("a.py"), ".py", &rmd),
            Pairing::Unsupported(_)
        ));
    }
}

//! The jupytext py:light conformance corpus (`fixtures/conformance/jupytext-light/`:
//! jupytext's `outputs/ipynb_to_script/*.py` and `inputs/python/`): our light reader
//! gives the cells `jupytext.reads(text, "py:light")` gives, and so does the `.py` reader
//! when the file's header says `format_name: light`.

use crate::corpus;

use jellycell_lsp::format::percent::{read_light, read_percent};
use jellycell_lsp::format::{NotebookFormat, read};

pub fn read_report() -> (usize, usize, Vec<String>) {
    corpus::compare("jupytext-light", read_light)
}

#[test]
fn reads_every_file_as_jupytext_does() {
    let (identical, total, failures) = read_report();
    println!("light: {identical}/{total} identical");
    assert!(
        failures.is_empty(),
        "{} files differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(identical, total);
}

/// The same files with the header jupytext writes for py:light (`text_representation`
/// with `format_name: light`) are read as light by the ordinary `.py` reader.
#[test]
fn a_light_header_makes_the_py_reader_read_light() {
    for (name, text, expected) in corpus::files("jupytext-light") {
        let header = "# ---\n# jupyter:\n#   jupytext:\n#     text_representation:\n#       extension: .py\n#       format_name: light\n# ---\n\n";
        if text.starts_with("# ---") || text.starts_with("#!") || text.starts_with("# -*-") {
            continue;
        }
        let with_header = format!("{header}{text}");
        let notebook = read(&with_header, NotebookFormat::Percent);
        assert_eq!(notebook.format, NotebookFormat::Light, "{name}");
        assert_eq!(corpus::cells_of(&notebook), expected, "{name}");
        assert_ne!(
            corpus::cells_of(&read_percent(&text)),
            serde_json::Value::Null,
            "{name}"
        );
    }
}

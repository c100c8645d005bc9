//! The jupytext py:light conformance corpus (`fixtures/conformance/jupytext-light/`:
//! jupytext's `outputs/ipynb_to_script/*.py` and `inputs/python/`): our light reader
//! gives the cells `jupytext.reads(text, "py:light")` gives, and so does the `.py` reader
//! when the file's header says `format_name: light`.

use crate::corpus;

use jellycell_lsp::format::percent::read_light;
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

/// The same files with the header saying `format_name: light` (added to the `jupyter:`
/// section they have, or as a new header) are read as light by the ordinary `.py` reader.
#[test]
fn a_light_header_makes_the_py_reader_read_light() {
    let representation =
        "#     text_representation:\n#       extension: .py\n#       format_name: light\n";
    let mut checked = 0;
    for (name, text, expected) in corpus::files("jupytext-light") {
        let with_header = if text.contains("\n#   jupytext:\n") && text.starts_with("# ---\n") {
            text.replacen(
                "\n#   jupytext:\n",
                &format!("\n#   jupytext:\n{representation}"),
                1,
            )
        } else if let Some(rest) = text.strip_prefix("# ---\n# jupyter:\n") {
            format!("# ---\n# jupyter:\n#   jupytext:\n{representation}{rest}")
        } else if text.starts_with("# ---") || text.starts_with("#!") || text.starts_with("# -*-") {
            continue;
        } else {
            format!("# ---\n# jupyter:\n#   jupytext:\n{representation}# ---\n\n{text}")
        };
        let notebook = read(&with_header, NotebookFormat::Percent);
        assert_eq!(notebook.format, NotebookFormat::Light, "{name}");
        assert_eq!(corpus::cells_of(&notebook), expected, "{name}");
        checked += 1;
    }
    assert!(checked >= 18, "only {checked} files checked");
}

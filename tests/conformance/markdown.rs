//! The jupytext md:markdown conformance corpus (`fixtures/conformance/jupytext-markdown/`:
//! jupytext's `outputs/ipynb_to_md/*.md` and `inputs/md/`): our markdown reader gives the
//! cells `jupytext.reads(text, "md:markdown")` gives.

use crate::corpus;

use jellycell_lsp::format::markdown::read_markdown;

pub fn read_report() -> (usize, usize, Vec<String>) {
    corpus::compare("jupytext-markdown", read_markdown)
}

#[test]
fn reads_every_file_as_jupytext_does() {
    let (identical, total, failures) = read_report();
    println!("markdown: {identical}/{total} identical");
    assert!(
        failures.is_empty(),
        "{} files differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(identical, total);
}

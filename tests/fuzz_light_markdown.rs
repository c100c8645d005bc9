//! Property tests for the py:light and md:markdown readers and the `.md` format choice:
//! any text (and generated notebooks: markers, regions, fences, headers, CRLF) reads
//! without panicking, with cells that tile the text after the preamble and spans (cells,
//! problems) in bounds and on char boundaries.

use jellycell_lsp::format::markdown::{read_markdown, read_md};
use jellycell_lsp::format::percent::read_light;
use jellycell_lsp::format::{Notebook, NotebookFormat, read};
use proptest::prelude::*;

fn check_spans(text: &str, notebook: &Notebook) {
    let mut offset = notebook.preamble.text.len();
    for cell in &notebook.cells {
        let spans = cell.spans;
        assert_eq!(spans.whole.start, offset, "cells tile the text");
        offset = spans.whole.end;
        let mut all = vec![spans.whole, spans.body];
        all.extend(spans.header);
        for span in all {
            assert!(
                span.start <= span.end && span.end <= text.len(),
                "{span:?} in bounds"
            );
            assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
        }
    }
    if !notebook.cells.is_empty() {
        assert_eq!(offset + notebook.trailer.len(), text.len());
    }
    for problem in &notebook.problems {
        assert!(problem.span.start <= problem.span.end && problem.span.end <= text.len());
        assert!(
            text.is_char_boundary(problem.span.start) && text.is_char_boundary(problem.span.end)
        );
    }
}

fn light_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("# +".to_string()),
        Just("# -".to_string()),
        Just("# + [markdown]".to_string()),
        Just("# + tags=[\"a\"]".to_string()),
        Just("# + endofcell=\"--\"".to_string()),
        Just("# --".to_string()),
        Just("# + bad=[1,".to_string()),
        Just("# %time".to_string()),
        Just("# comment".to_string()),
        Just("x = '''".to_string()),
        Just("'''".to_string()),
        Just("def f():".to_string()),
        Just("    return 1".to_string()),
        Just(String::new()),
        Just("é ü 日本".to_string()),
        "[#+ %a-z=\"'\\[\\]]{0,12}",
    ]
}

fn markdown_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("---".to_string()),
        Just("jupyter:".to_string()),
        Just("  kernelspec:".to_string()),
        Just("    name: python3".to_string()),
        Just("jupytext:".to_string()),
        Just("  text_representation:".to_string()),
        Just("    format_name: myst".to_string()),
        Just("    extension: .md".to_string()),
        Just("```python".to_string()),
        Just("```python tags=[\"a\"]".to_string()),
        Just("```python {\"a\": [".to_string()),
        Just("````".to_string()),
        Just("```".to_string()),
        Just("```{code-cell} ipython3".to_string()),
        Just("<!-- #region -->".to_string()),
        Just("<!-- #endregion -->".to_string()),
        Just("<!-- #raw -->".to_string()),
        Just("    indented".to_string()),
        Just(":::".to_string()),
        Just("+++".to_string()),
        Just(String::new()),
        Just("é ü 日本".to_string()),
        "[`<>!#{}: a-z=\"'-]{0,12}",
    ]
}

fn joined(lines: impl Strategy<Value = Vec<String>>) -> impl Strategy<Value = String> {
    (
        lines,
        prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
        any::<bool>(),
    )
        .prop_map(|(lines, ending, final_newline)| {
            let mut text = lines.join(ending);
            if final_newline && !text.is_empty() {
                text.push_str(ending);
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_reads(text in "\\PC{0,200}|[#+\\- `<>!{}\\[\\]a-z\"'\\n\\r=:~\u{2028}\u{85}\u{0b}\u{1c}]{0,200}") {
        check_spans(&text, &read_light(&text));
        check_spans(&text, &read_markdown(&text));
        check_spans(&text, &read_md(&text));
    }

    #[test]
    fn generated_light_notebooks_read(text in joined(prop::collection::vec(light_line(), 0..30))) {
        check_spans(&text, &read_light(&text));
        let header = "# ---\n# jupyter:\n#   jupytext:\n#     text_representation:\n#       extension: .py\n#       format_name: light\n# ---\n\n";
        let with_header = format!("{header}{text}");
        let notebook = read(&with_header, NotebookFormat::Percent);
        prop_assert_eq!(notebook.format, NotebookFormat::Light);
        check_spans(&with_header, &notebook);
    }

    #[test]
    fn generated_markdown_notebooks_read(text in joined(prop::collection::vec(markdown_line(), 0..30))) {
        check_spans(&text, &read_markdown(&text));
        check_spans(&text, &read_md(&text));
    }
}

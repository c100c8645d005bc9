//! Property tests for the MyST reader and writer: any text reads without panicking and
//! writes back byte for byte with spans that fit it; generated notebooks (random cells,
//! options, tags, `+++` metadata, CRLF, no final newline) do too and read as built.

use jellycell_lsp::format::myst::{read_myst, write_myst};
use jellycell_lsp::format::{CellType, Notebook};
use proptest::prelude::*;

fn check_spans(text: &str, notebook: &Notebook) {
    let fits = |start: usize, end: usize| {
        start <= end
            && end <= text.len()
            && text.is_char_boundary(start)
            && text.is_char_boundary(end)
    };
    let mut expected_start = notebook.preamble.text.len();
    assert_eq!(&text[..expected_start], notebook.preamble.text);
    for cell in &notebook.cells {
        let spans = cell.spans;
        assert!(
            fits(spans.whole.start, spans.whole.end),
            "whole {:?} in {text:?}",
            spans.whole
        );
        assert!(
            fits(spans.body.start, spans.body.end),
            "body {:?} in {text:?}",
            spans.body
        );
        assert!(
            spans.whole.start <= spans.body.start
                && spans.body.end <= spans.whole.end.max(spans.body.end)
        );
        assert!(spans.body.end <= text.len());
        if let Some(header) = spans.header {
            assert!(
                fits(header.start, header.end),
                "header {header:?} in {text:?}"
            );
            assert_eq!(header.start, spans.whole.start);
        }
        assert_eq!(
            spans.whole.start, expected_start,
            "cells tile the text: {text:?}"
        );
        expected_start = spans.whole.end;
    }
    if !notebook.cells.is_empty() {
        assert_eq!(expected_start, text.len());
    }
    for problem in &notebook.problems {
        assert!(
            fits(problem.span.start, problem.span.end),
            "problem {problem:?} in {text:?}"
        );
    }
}

fn markdownish_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("```{code-cell}".to_string()),
        Just("```{code-cell} ipython3".to_string()),
        Just("````{raw-cell}".to_string()),
        Just("~~~{code-cell}".to_string()),
        Just("```".to_string()),
        Just("~~~".to_string()),
        Just("+++".to_string()),
        Just("+ + +".to_string()),
        Just("+++ {\"a\": 1}".to_string()),
        Just("+++ {bad".to_string()),
        Just("---".to_string()),
        Just("...".to_string()),
        Just(":tags: [a, b]".to_string()),
        Just(":bad: [".to_string()),
        Just("key: value".to_string()),
        Just("- item".to_string()),
        Just("> quote".to_string()),
        Just("<div>".to_string()),
        Just("    indented".to_string()),
        Just("% comment".to_string()),
        Just("\t".to_string()),
        Just("\n".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("\r".to_string()),
        Just(" ".to_string()),
        "[a-z#*|{}:`~+-]{1,6}",
        "\\PC{1,3}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

#[derive(Debug, Clone)]
enum GeneratedCell {
    Markdown {
        text: String,
        metadata: Option<String>,
    },
    Code {
        options: Vec<String>,
        yaml_block: bool,
        source: String,
        fence: String,
    },
    Raw {
        source: String,
    },
}

fn generated_cell() -> impl Strategy<Value = GeneratedCell> {
    let line = "[a-zA-Z0-9 #=()*_.,é]{0,20}";
    let lines = prop::collection::vec(line, 1..4).prop_map(|lines| lines.join("\n"));
    let tag = prop_oneof![
        Just("jc.step"),
        Just("jc.load"),
        Just("name=raw"),
        Just("deps=a"),
        Just("hide-input")
    ];
    let option = prop_oneof![
        prop::collection::vec(tag, 1..3).prop_map(|tags| format!("tags: [{}]", tags.join(", "))),
        Just("other: 1".to_string()),
        Just("slideshow: {slide_type: slide}".to_string()),
    ];
    prop_oneof![
        (
            lines.clone(),
            prop::option::of(Just(r#"{"key": "value"}"#.to_string()))
        )
            .prop_map(|(text, metadata)| GeneratedCell::Markdown {
                text: if text.trim().is_empty() {
                    "text".into()
                } else {
                    text
                },
                metadata
            }),
        (
            prop::collection::vec(option, 0..3),
            any::<bool>(),
            lines.clone(),
            prop_oneof![Just("```"), Just("````"), Just("~~~")]
        )
            .prop_map(|(options, yaml_block, source, fence)| GeneratedCell::Code {
                options,
                yaml_block,
                source,
                fence: fence.to_string()
            }),
        lines.prop_map(|source| GeneratedCell::Raw { source }),
    ]
}

fn render(cells: &[GeneratedCell], front_matter: bool) -> String {
    let mut text = String::new();
    if front_matter {
        text.push_str("---\nkernelspec:\n  name: python3\n---\n\n");
    }
    let mut previous_markdown = false;
    for cell in cells {
        match cell {
            GeneratedCell::Markdown {
                text: body,
                metadata,
            } => {
                match metadata {
                    Some(metadata) => text.push_str(&format!("+++ {metadata}\n\n")),
                    None if previous_markdown => text.push_str("+++\n\n"),
                    None => {}
                }
                text.push_str(body);
                text.push_str("\n\n");
            }
            GeneratedCell::Code {
                options,
                yaml_block,
                source,
                fence,
            } => {
                text.push_str(&format!("{fence}{{code-cell}} ipython3\n"));
                if *yaml_block && !options.is_empty() {
                    text.push_str(&format!("---\n{}\n---\n", options.join("\n")));
                } else {
                    for option in options {
                        text.push_str(&format!(":{option}\n"));
                    }
                }
                text.push_str(source);
                text.push_str(&format!("\n{fence}\n\n"));
            }
            GeneratedCell::Raw { source } => {
                text.push_str(&format!("```{{raw-cell}}\n{source}\n```\n\n"))
            }
        }
        previous_markdown = matches!(cell, GeneratedCell::Markdown { .. });
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_text_reads_and_writes_back_byte_exact(text in markdownish_text()) {
        let notebook = read_myst(&text);
        check_spans(&text, &notebook);
        prop_assert_eq!(write_myst(&notebook), text);
    }

    #[test]
    fn generated_notebooks_round_trip(
        cells in prop::collection::vec(generated_cell(), 0..8),
        front_matter in any::<bool>(),
        crlf in any::<bool>(),
        final_newline in any::<bool>(),
    ) {
        let mut text = render(&cells, front_matter);
        if !final_newline {
            text = text.trim_end().to_string();
        }
        if crlf {
            text = text.replace('\n', "\r\n");
        }
        let notebook = read_myst(&text);
        check_spans(&text, &notebook);
        prop_assert!(notebook.problems.iter().all(|problem| !problem.code.starts_with("myst")));
        let expected_types: Vec<CellType> = cells
            .iter()
            .map(|cell| match cell {
                GeneratedCell::Markdown { .. } => CellType::Markdown,
                GeneratedCell::Code { .. } => CellType::Code,
                GeneratedCell::Raw { .. } => CellType::Raw,
            })
            .collect();
        let types: Vec<CellType> = notebook.cells.iter().map(|cell| cell.cell_type).collect();
        prop_assert_eq!(types, expected_types);
        prop_assert_eq!(write_myst(&notebook), text.clone());

        // Rewriting every cell gives a notebook that reads back with the same cells (up to
        // blank lines and whitespace at either end, which jupytext's writer does not keep either).
        let mut rebuilt = notebook.clone();
        rebuilt.cells.update(|cell| cell.original = None);
        let rewritten = write_myst(&rebuilt);
        let reread = read_myst(&rewritten);
        let summary = |notebook: &Notebook| {
            notebook.cells.iter().map(|cell| (cell.cell_type, cell.source.trim().to_string(), cell.metadata.clone())).collect::<Vec<_>>()
        };
        prop_assert_eq!(summary(&reread), summary(&notebook));
    }
}

//! The MyST reader and writer against the real jupytext 1.19.6 on generated texts: random
//! markdown-ish text made of the pieces that matter to the cell structure (fences,
//! directives, `+++`, `---`, options, lists, quotes, HTML, indentation). For each text,
//! jupytext either raises (then we must report a problem) or reads cells that we must read
//! identically; and writing with every original dropped must give `jupytext.writes`.
//!
//! Texts avoid the line separators only Python's `str.splitlines` knows (`\v`, `\f`,
//! `\x1c`–`\x1e`, `\x85`, U+2028, U+2029), where jupytext's own line numbers disagree with
//! its tokens (see the table in `conformance_myst.rs`).

#![allow(clippy::print_stdout)]

mod support;

use jellycell_lsp::format::myst::{read_myst, write_myst};
use jellycell_lsp::format::{Cell, CellType, Notebook, NotebookFormat, Preamble};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};

const CASES: usize = 400;

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("\n".to_string()),
        1 => Just("\n\n".to_string()),
        2 => Just("```{code-cell}".to_string()),
        1 => Just("```{code-cell} ipython3".to_string()),
        1 => Just("````{code-cell} python".to_string()),
        1 => Just("```{raw-cell}".to_string()),
        1 => Just("~~~{code-cell}".to_string()),
        1 => Just(" ```{code-cell}".to_string()),
        2 => Just("```".to_string()),
        1 => Just("````".to_string()),
        1 => Just("~~~".to_string()),
        2 => Just("+++".to_string()),
        1 => Just("+++ {\"a\": 1}".to_string()),
        1 => Just("+ + +".to_string()),
        2 => Just("---".to_string()),
        1 => Just(":tags: [a, b]".to_string()),
        1 => Just(":key: value".to_string()),
        1 => Just("key: value".to_string()),
        1 => Just("- item".to_string()),
        1 => Just("1. item".to_string()),
        1 => Just("> quote".to_string()),
        1 => Just("<div>".to_string()),
        1 => Just("    indented".to_string()),
        1 => Just("  ".to_string()),
        1 => Just("% comment".to_string()),
        1 => Just("# Heading".to_string()),
        1 => Just("| a | b |\n|---|---|".to_string()),
        3 => "[a-z ]{1,8}",
        1 => "[=*_`~+#>-]{1,3}",
        1 => Just("é".to_string()),
        1 => Just("\t".to_string()),
        1 => Just("\r\n".to_string()),
        1 => Just("   ```{code-cell}".to_string()),
        1 => Just("  ```".to_string()),
        1 => Just("\t```{code-cell}".to_string()),
        1 => Just("  - item".to_string()),
        1 => Just("* item".to_string()),
        1 => Just("<!--".to_string()),
        1 => Just("-->".to_string()),
        1 => Just("<span>".to_string()),
        1 => Just("<script>".to_string()),
        1 => Just("===".to_string()),
        1 => Just("(target)=".to_string()),
        1 => Just("[ref]: /url".to_string()),
        1 => Just(":tags: [a".to_string()),
        1 => Just("+++ {bad}".to_string()),
        1 => Just("+++ [1]".to_string()),
        1 => Just("- a: 1".to_string()),
        1 => Just("...".to_string()),
        1 => Just("   +++".to_string()),
        1 => Just(" +++".to_string()),
    ]
}

fn texts() -> Vec<String> {
    let line = prop::collection::vec(piece(), 1..3).prop_map(|pieces| pieces.concat());
    let strategy = (prop::collection::vec(line, 0..16), any::<bool>(), any::<bool>()).prop_map(
        |(lines, front_matter, final_newline)| {
            let mut text = String::new();
            if front_matter {
                text.push_str("---\nkernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n---\n");
            }
            text.push_str(&lines.join("\n"));
            if final_newline && !text.ends_with('\n') {
                text.push('\n');
            }
            text
        },
    );
    // A fixed seed keeps the test deterministic; JELLYCELL_DIFF_SEED explores others.
    let seed = std::env::var("JELLYCELL_DIFF_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(7u8);
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    );
    (0..CASES)
        .filter_map(|_| {
            strategy
                .new_tree(&mut runner)
                .ok()
                .map(|tree| tree.current())
        })
        .collect()
}

fn jupytext_results(texts: &[String]) -> Vec<Value> {
    let script = r#"
import json, sys, warnings, logging
warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)
import jupytext
from jupytext.myst import myst_to_notebook
out = []
for text in json.load(sys.stdin):
    try:
        myst_to_notebook(text)
    except Exception as error:
        out.append({"error": type(error).__name__ + ": " + str(error)})
        continue
    try:
        nb = jupytext.reads(text, fmt="md:myst")
        cells = [{"cell_type": c.cell_type, "source": c.source, "metadata": dict(c.metadata)} for c in nb.cells]
        try:
            written = jupytext.writes(nb, fmt="md:myst")
        except Exception:
            written = None
        out.append({"cells": json.loads(json.dumps(cells, default=str)), "written": written})
    except Exception as error:
        out.append({"crash": type(error).__name__ + ": " + str(error)})
json.dump(out, sys.stdout)
"#;
    support::python::run_json("jupytext script", script, texts)
}

#[test]
fn generated_texts_read_and_write_like_jupytext() {
    let texts = texts();
    let results = jupytext_results(&texts);
    let mut read_same = 0;
    let mut write_same = 0;
    let mut raised = 0;
    let mut failures = Vec::new();
    for (text, result) in texts.iter().zip(&results) {
        let notebook = read_myst(text);
        // jupytext.reads also fails outside the MyST reader, e.g. when its format sniffing
        // loads the whole text as YAML because it starts with `---`: not a text error.
        if result.get("crash").is_some() {
            raised += 1;
            continue;
        }
        if let Some(error) = result.get("error") {
            raised += 1;
            // Errors in the text must be problems; other exceptions (an empty front matter
            // fails nbformat's validation) are jupytext's own.
            let text_error = error.as_str().is_some_and(|error| {
                [
                    "MystMetadataParsingError",
                    "ScannerError",
                    "ParserError",
                    "ComposerError",
                    "ConstructorError",
                ]
                .iter()
                .any(|kind| error.starts_with(kind))
            });
            if text_error && notebook.problems.is_empty() {
                failures.push(format!(
                    "jupytext raised {error} but we found no problem in {text:?}"
                ));
            }
            continue;
        }
        let cells: Vec<Value> = notebook
            .cells
            .iter()
            .map(|cell| {
                json!({"cell_type": cell.cell_type.as_str(), "source": cell.source, "metadata": Value::Object(cell.metadata.clone())})
            })
            .collect();
        if Some(&Value::Array(cells.clone())) == result.get("cells") {
            read_same += 1;
        } else {
            failures.push(format!(
                "read differs for {text:?}\n  jupytext {}\n  ours     {}",
                result
                    .get("cells")
                    .map(Value::to_string)
                    .unwrap_or_default(),
                Value::Array(cells)
            ));
            continue;
        }
        let mut rebuilt = notebook.clone();
        rebuilt.cells.update(|cell| cell.original = None);
        rebuilt.preamble = Preamble::default();
        let written = write_myst(&rebuilt);
        if result.get("written").and_then(Value::as_str) == Some(written.as_str()) {
            write_same += 1;
        } else {
            failures.push(format!(
                "write differs for {text:?}\n  jupytext {:?}\n  ours     {written:?}",
                result.get("written").and_then(Value::as_str).unwrap_or("")
            ));
        }
    }
    println!(
        "myst differential: {read_same} read and {write_same} written identically, {raised} raised in jupytext, of {}",
        texts.len()
    );
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z]{1,8}",
        1 => "[a-zA-Z0-9 ._:#,'\"-]{0,12}",
        1 => "[a-z ]{60,120}",
        1 => prop::sample::select(vec![
            "yes", "No", "null", "~", "1.5", "12", "0x1F", "017", "1e3", "1.0e+3", "2020-01-01", "=", "<<",
            "a: b", "a:b", "- x", "-x", "#x", "x #y", "x#y", "", " lead", "trail ", "multi\nline", "two\n\nbreaks",
            "é", "日本", "tab\tx", "'quote", "it's", "\"dq", "[x]", "{y}", "a,b", "@at", "`bt", "%p", "!bang",
            "*star", "&amp", "?q", ":c", "---", "...", "| pipe", "> gt", "\u{85}", "emoji 😀",
        ])
        .prop_map(str::to_string),
    ]
}

fn metadata_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        4 => tricky_string().prop_map(Value::String),
        1 => any::<i32>().prop_map(|n| json!(n)),
        1 => prop::sample::select(vec![0.5, -3.0, 1e20, 1.5e-7, 100.0, 0.1]).prop_map(|f| json!(f)),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z][a-z_]{0,6}", inner), 0..3)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

fn metadata_map() -> impl Strategy<Value = serde_json::Map<String, Value>> {
    let key = prop_oneof![
        4 => "[a-z][a-z_]{0,8}",
        1 => Just("tags".to_string()),
        1 => prop::sample::select(vec!["_private", "1st", "dotted.key", "dash-key", "ExecuteTime", "collapsed"])
            .prop_map(str::to_string),
    ];
    prop::collection::vec((key, metadata_value()), 0..3)
        .prop_map(|entries| entries.into_iter().collect())
}

fn built_notebooks() -> Vec<Value> {
    let source = prop_oneof![
        3 => "[a-z =()#\n]{0,30}",
        1 => Just("```\ninner\n```".to_string()),
        1 => Just(":not: options".to_string()),
        1 => Just("---\nnot yaml".to_string()),
    ];
    let cell = (
        prop::sample::select(vec!["code", "markdown", "raw"]),
        source,
        metadata_map(),
    )
        .prop_map(|(cell_type, source, metadata)| {
            let source = if cell_type == "markdown" && source.trim().is_empty() {
                "text".to_string()
            } else {
                source
            };
            json!({"cell_type": cell_type, "source": source, "metadata": Value::Object(metadata)})
        });
    let kernelspec = json!({"display_name": "Python 3", "language": "python", "name": "python3"});
    let notebook = (
        prop::collection::vec(cell, 0..5),
        metadata_map(),
        any::<bool>(),
    )
        .prop_map(move |(cells, extra, lexer)| {
            let mut metadata = serde_json::Map::new();
            metadata.insert("kernelspec".into(), kernelspec.clone());
            if lexer {
                metadata.insert(
                    "language_info".into(),
                    json!({"name": "python", "pygments_lexer": "ipython3"}),
                );
            }
            for (key, value) in extra {
                metadata.entry(key).or_insert(value);
            }
            json!({"metadata": Value::Object(metadata), "cells": cells})
        });
    let seed = std::env::var("JELLYCELL_DIFF_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(11u8);
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    );
    (0..CASES)
        .filter_map(|_| {
            notebook
                .new_tree(&mut runner)
                .ok()
                .map(|tree| tree.current())
        })
        .collect()
}

#[test]
fn built_notebooks_write_like_jupytext() {
    let notebooks = built_notebooks();
    let script = r#"
import json, sys, warnings
warnings.simplefilter("ignore")
import jupytext, nbformat
from nbformat.v4 import new_notebook, new_code_cell, new_markdown_cell, new_raw_cell
make = {"code": new_code_cell, "markdown": new_markdown_cell, "raw": new_raw_cell}
out = []
for spec in json.load(sys.stdin):
    try:
        nb = new_notebook(metadata=spec["metadata"], cells=[make[c["cell_type"]](c["source"], metadata=c["metadata"]) for c in spec["cells"]])
        out.append(jupytext.writes(nb, fmt="md:myst"))
    except Exception:
        out.append(None)
json.dump(out, sys.stdout)
"#;
    let expected: Vec<Option<String>> =
        support::python::run_json("jupytext script", script, &notebooks);

    let mut same = 0;
    let mut failures = Vec::new();
    for (spec, expected) in notebooks.iter().zip(&expected) {
        let Some(expected) = expected else { continue };
        let mut notebook = Notebook::empty(NotebookFormat::Myst);
        if let Some(Value::Object(metadata)) = spec.get("metadata") {
            notebook.metadata = metadata.clone();
        }
        for cell in spec
            .get("cells")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let cell_type = match cell.get("cell_type").and_then(Value::as_str) {
                Some("code") => CellType::Code,
                Some("raw") => CellType::Raw,
                _ => CellType::Markdown,
            };
            let mut built = Cell::new(
                cell_type,
                cell.get("source").and_then(Value::as_str).unwrap_or(""),
            );
            if let Some(Value::Object(metadata)) = cell.get("metadata") {
                built.metadata = metadata.clone();
            }
            notebook.cells.push(built);
        }
        let written = write_myst(&notebook);
        if &written == expected {
            same += 1;
        } else {
            failures.push(format!(
                "for {spec}\n--- jupytext\n{expected}\n--- ours\n{written}"
            ));
        }
    }
    println!(
        "myst built notebooks: {same} of {} written as jupytext writes them",
        notebooks.len()
    );
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

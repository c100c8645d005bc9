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

use std::io::Write;
use std::process::{Command, Stdio};

use jellycell_lsp::format::Preamble;
use jellycell_lsp::format::myst::{read_myst, write_myst};
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
    let mut child = Command::new(support::python::python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(serde_json::to_string(texts).expect("JSON").as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("python finishes");
    assert!(output.status.success(), "jupytext script failed");
    serde_json::from_slice(&output.stdout).expect("jupytext's JSON")
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
        for cell in &mut rebuilt.cells {
            cell.original = None;
        }
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

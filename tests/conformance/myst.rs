//! The MyST reader and writer against jupytext 1.19.6 on jupytext's own MyST test notebooks
//! (`fixtures/conformance/jupytext-myst/`, credit in `fixtures/conformance/README.md`).
//!
//! Reading must give the cells `jupytext.reads(text, "md:myst")` gives; writing back must be
//! byte-identical; writing with every original dropped must give what
//! `jupytext.writes(jupytext.reads(text, "md:myst"), "md:myst")` gives (asked of the real
//! jupytext in the test venv).
//!
//! No corpus file differs (the tables below are empty). Deliberate differences that no
//! corpus file exercises (`tests/differential_myst.rs` avoids them):
//!
//! | input | jupytext | we |
//! |---|---|---|
//! | `\v`, `\f`, `\x1c`–`\x1e`, `\x85`, U+2028, U+2029 in the text | mixes markdown-it's line numbers with `str.splitlines`', misplacing cells | treat them as content; lines end at `\n`, `\r\n`, `\r` |
//! | YAML 1.1 scalars (`yes`/`no`/`on`/`off`, `017`, `1e3`, dates) | PyYAML's YAML 1.1 types | serde_yaml_ng's YAML 1.2 core types |
//! | invalid options, front matter or `+++` metadata | raises | a problem; the block reads as empty metadata |
//! | options that are a YAML list or scalar | a non-dict `metadata` | a `myst-options-invalid` problem |
//! | changed notebook metadata | the rewritten front matter drops keys outside `notebook_metadata_filter` (e.g. `title`) | keys the file's front matter had are kept |
//! | a first raw cell holding `---` YAML `---` | merged into the front matter on write | merged only when the front matter is rewritten |
//! | a notebook built in code with no metadata | front matter with `jupytext.text_representation` | no front matter |
//! | a changed cell in a CRLF file | `\n` | the file's `\r\n` |

use crate::support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use jellycell_lsp::format::myst::{read_myst, write_myst};
use jellycell_lsp::format::{Notebook, Preamble};
use serde_json::Value;

/// Files where we deliberately read differently from jupytext, and why. Empty: none.
const READ_DIFFERENCES: &[(&str, &str)] = &[];

/// Files where writing with the originals dropped deliberately differs from jupytext.
const WRITE_DIFFERENCES: &[(&str, &str)] = &[];

fn corpus() -> Vec<(String, String)> {
    let dir = support::fixture("conformance/jupytext-myst");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus folder")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path).expect("corpus file is UTF-8");
            (name, text)
        })
        .collect()
}

fn cells_as_json(notebook: &Notebook) -> Vec<Value> {
    notebook
        .cells
        .iter()
        .map(|cell| {
            serde_json::json!({
                "cell_type": cell.cell_type.as_str(),
                "source": cell.source,
                "metadata": Value::Object(cell.metadata.clone()),
            })
        })
        .collect()
}

/// Reads every corpus file and compares with jupytext: (identical, total, failures).
pub fn read_report() -> (usize, usize, Vec<String>) {
    let files = corpus();
    let mut identical = 0;
    let mut failures = Vec::new();
    for (name, text) in &files {
        let expected_path =
            support::fixture(&format!("conformance/jupytext-myst-expected/{name}.json"));
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(&expected_path).expect("expected file"))
                .expect("JSON");
        let notebook = read_myst(text);
        let actual = cells_as_json(&notebook);
        if Some(&Value::Array(actual.clone())) == expected.get("cells") {
            identical += 1;
        } else if !READ_DIFFERENCES.iter().any(|(file, _)| file == name) {
            failures.push(format!(
                "{name}:\n  expected {}\n  actual   {}",
                expected
                    .get("cells")
                    .map(Value::to_string)
                    .unwrap_or_default(),
                Value::Array(actual)
            ));
        }
    }
    (identical, files.len(), failures)
}

#[test]
fn reads_every_corpus_file_like_jupytext() {
    let (identical, total, failures) = read_report();
    assert_eq!(total, 60, "the corpus has 60 MyST notebooks");
    println!("myst: {identical}/{total} identical");
    assert!(
        failures.is_empty(),
        "{} files differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn writes_every_corpus_file_back_byte_for_byte() {
    for (name, text) in corpus() {
        let notebook = read_myst(&text);
        assert_eq!(write_myst(&notebook), text, "{name} does not round-trip");
    }
}

/// What jupytext writes for each corpus file after reading it.
fn jupytext_rewrites(files: &[(String, String)]) -> BTreeMap<String, String> {
    let script = r#"
import json, sys, jupytext
texts = json.load(sys.stdin)
out = {name: jupytext.writes(jupytext.reads(text, fmt="md:myst"), fmt="md:myst") for name, text in texts.items()}
json.dump(out, sys.stdout)
"#;
    let input: BTreeMap<&str, &str> = files
        .iter()
        .map(|(name, text)| (name.as_str(), text.as_str()))
        .collect();
    let mut child = Command::new(support::python::python())
        .args(["-W", "ignore", "-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(serde_json::to_string(&input).expect("JSON").as_bytes())
            .expect("write stdin");
    }
    let output = child.wait_with_output().expect("python finishes");
    assert!(output.status.success(), "jupytext failed");
    serde_json::from_slice(&output.stdout).expect("jupytext's JSON")
}

#[test]
fn writes_like_jupytext_when_originals_are_dropped() {
    let files = corpus();
    let expected = jupytext_rewrites(&files);
    let mut identical = 0;
    let mut failures = Vec::new();
    for (name, text) in &files {
        let mut notebook = read_myst(text);
        notebook.cells.update(|cell| cell.original = None);
        notebook.preamble = Preamble::default();
        let written = write_myst(&notebook);
        if Some(&written) == expected.get(name) {
            identical += 1;
        } else if !WRITE_DIFFERENCES.iter().any(|(file, _)| file == name) {
            failures.push(format!(
                "{name}:\n--- jupytext\n{}\n--- ours\n{written}",
                expected.get(name).map(String::as_str).unwrap_or("")
            ));
        }
    }
    println!(
        "myst writer: {identical}/{} identical to jupytext.writes",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} files differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

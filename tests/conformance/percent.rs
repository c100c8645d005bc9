//! The jupytext py:percent conformance corpus: our reader gives the cells jupytext 1.19.6
//! reads (type, source, metadata), writing back is byte-exact, and the jupytext-style
//! writer (originals dropped) reproduces these files, which are jupytext's own output.

use crate::support;

use jellycell_lsp::format::NotebookFormat;
use jellycell_lsp::format::percent::{read_percent, write_percent};
use serde_json::{Map, Value, json};

/// Files where we deliberately differ from jupytext when reading: (file, reason).
const READ_DIFFERENCES: &[(&str, &str)] = &[];

/// Files the jupytext-style writer does not reproduce byte for byte: (file, reason).
/// They are still compared, with our `text_representation` lines removed.
const WRITE_EXCEPTIONS: &[(&str, &str)] = &[
    ("jupyter_with_raw_cell_on_top.py", VERSIONLESS_HEADER),
    (
        "jupyter_with_raw_cell_with_invalid_yaml.py",
        VERSIONLESS_HEADER,
    ),
    (
        "raw_cell_with_complex_yaml_like_content.py",
        VERSIONLESS_HEADER,
    ),
    ("raw_cell_with_non_dict_yaml_content.py", VERSIONLESS_HEADER),
];

/// With its first (front-matter) cell regenerated, the YAML header is rewritten, and
/// `jupytext.writes` then records `jupytext.text_representation` (format and jupytext
/// version) as we do; jupytext's test data is written with that insertion switched off.
const VERSIONLESS_HEADER: &str = "front matter regenerated: we add jupytext's text_representation, which jupytext's test data omits";

/// Our output without the `text_representation` block jupytext's test data leaves out.
fn without_text_representation(text: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.split_inclusive('\n') {
        if line.starts_with("#   jupytext:") || line.starts_with("#     text_representation:") {
            skipping = true;
            continue;
        }
        if skipping && line.starts_with("#       ") {
            continue;
        }
        skipping = false;
        out.push_str(line);
    }
    out
}

fn corpus() -> Vec<(String, String, Value)> {
    let dir = support::fixture("conformance/jupytext-percent");
    let expected_dir = support::fixture("conformance/jupytext-percent-expected");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus folder")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&path).expect("utf-8 notebook");
            let expected: Value = serde_json::from_str(
                &std::fs::read_to_string(expected_dir.join(format!("{name}.json")))
                    .expect("expected json"),
            )
            .expect("valid json");
            (name, text, expected)
        })
        .collect()
}

fn cells_of(text: &str) -> Value {
    let notebook = read_percent(text);
    Value::Array(
        notebook
            .cells
            .iter()
            .map(|cell| {
                json!({
                    "cell_type": cell.cell_type.as_str(),
                    "source": cell.source,
                    "metadata": Value::Object(cell.metadata.clone()),
                })
            })
            .collect(),
    )
}

/// Reads every corpus file and compares with jupytext: (identical, compared, skipped,
/// failures).
pub fn read_report() -> (usize, usize, usize, Vec<String>) {
    let corpus = corpus();
    let mut identical = 0;
    let mut skipped = 0;
    let mut failures = Vec::new();
    for (name, text, expected) in &corpus {
        if !name.ends_with(".py") {
            skipped += 1;
            continue;
        }
        let ours = cells_of(text);
        if ours == expected["cells"] {
            identical += 1;
        } else if READ_DIFFERENCES.iter().any(|(file, _)| file == name) {
            // listed deliberate difference
        } else {
            failures.push(format!(
                "{name}:\n ours:     {}\n jupytext: {}",
                serde_json::to_string(&ours).unwrap(),
                serde_json::to_string(&expected["cells"]).unwrap()
            ));
        }
    }
    let total = corpus.len() - skipped;
    (identical, total, skipped, failures)
}

#[test]
fn reads_every_file_as_jupytext_does() {
    let (identical, total, skipped, failures) = read_report();
    if skipped > 0 {
        println!("percent: {identical}/{total} identical, {skipped} skipped (not .py)");
    } else {
        println!("percent: {identical}/{total} identical");
    }
    assert!(
        failures.is_empty(),
        "{} files differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(identical + READ_DIFFERENCES.len(), total);
}

#[test]
fn unchanged_notebooks_write_back_byte_for_byte() {
    for (name, text, _) in corpus() {
        let notebook = read_percent(&text);
        assert_eq!(write_percent(&notebook), text, "{name}");
    }
}

#[test]
fn jupytext_style_writer_reproduces_jupytext_output() {
    let mut failures = Vec::new();
    for (name, text, _) in corpus() {
        let exception = WRITE_EXCEPTIONS.iter().any(|(file, _)| *file == name);
        let mut notebook = read_percent(&text);
        notebook.cells.update(|cell| cell.original = None);
        let mut written = write_percent(&notebook);
        if exception {
            written = without_text_representation(&written);
        }
        if written != text {
            failures.push(format!("{name}:\n--- written\n{written}\n--- file\n{text}"));
        }
        // And what we wrote reads back to the same cells.
        assert_eq!(cells_of(&written), cells_of(&text), "{name} re-read");
    }
    assert!(
        failures.is_empty(),
        "{} files differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_cell_keeps_its_original_and_spans() {
    for (name, text, _) in corpus() {
        let notebook = read_percent(&text);
        let mut offset = notebook.preamble.text.len();
        for cell in &notebook.cells {
            assert_eq!(cell.spans.whole.start, offset, "{name}");
            offset = cell.spans.whole.end;
            assert!(cell.is_unchanged_since_read(NotebookFormat::Percent));
            assert!(
                cell.spans.body.start >= cell.spans.whole.start
                    && cell.spans.body.end <= cell.spans.whole.end
            );
        }
        assert_eq!(offset + notebook.trailer.len(), text.len(), "{name}");
        let _: &Map<String, Value> = &notebook.metadata;
    }
}

//! Reading a conformance corpus (`fixtures/conformance/<folder>/` with the cells jupytext
//! 1.19.6 reads from each file in `<folder>-expected/<file>.json`) and comparing our
//! reader's cells with them, cell for cell (type, source, metadata).

use crate::support;

use jellycell_lsp::format::Notebook;
use serde_json::{Value, json};

/// (file name, text, expected cells) for every file of `folder`, sorted by name.
pub fn files(folder: &str) -> Vec<(String, String, Value)> {
    let dir = support::fixture(&format!("conformance/{folder}"));
    let expected_dir = support::fixture(&format!("conformance/{folder}-expected"));
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus folder")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&path).expect("utf-8 notebook");
            let expected: Value = serde_json::from_str(
                &std::fs::read_to_string(expected_dir.join(format!("{name}.json")))
                    .expect("expected json"),
            )
            .expect("valid json");
            (name, text, expected["cells"].clone())
        })
        .collect()
}

/// The cells of a notebook as the expected files hold them.
pub fn cells_of(notebook: &Notebook) -> Value {
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

/// Reads every file of `folder` with `read`: (identical, total, failures).
pub fn compare(folder: &str, read: fn(&str) -> Notebook) -> (usize, usize, Vec<String>) {
    let files = files(folder);
    let mut identical = 0;
    let mut failures = Vec::new();
    for (name, text, expected) in &files {
        let ours = cells_of(&read(text));
        if ours == *expected {
            identical += 1;
        } else {
            failures.push(format!(
                "{name}:\n ours:     {}\n jupytext: {}",
                serde_json::to_string(&ours).unwrap(),
                serde_json::to_string(expected).unwrap()
            ));
        }
    }
    (identical, files.len(), failures)
}

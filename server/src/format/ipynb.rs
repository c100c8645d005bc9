//! nbformat v4 JSON (`.ipynb`) → the notebook IR and back.
//!
//! Reading keeps what only nbformat carries (cell ids, outputs, execution counts,
//! attachments) in `Cell::jupyter`, so `.ipynb` → text → `.ipynb` loses nothing the text
//! format can hold. Writing produces nbformat 4.5 exactly as `nbformat.writes` lays it
//! out (sorted keys, one-space indent, sources as line lists, a final newline), with a
//! stable id for every cell that has none.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use crate::format::{
    Cell, CellType, JupyterCellData, Notebook, NotebookFormat, PlacedCell, Problem, jupytext_reads,
    tags,
};
use crate::text::Span;

/// The nbformat version written: 4.5 is the first with cell ids.
const NBFORMAT: i64 = 4;
const NBFORMAT_MINOR: i64 = 5;

/// Reads nbformat v4 JSON. Never fails: text that is not a v4 notebook gives an empty
/// notebook with one `ipynb-invalid` problem, and a malformed cell is skipped with a
/// problem naming its index.
pub fn read_ipynb(text: &str) -> Notebook {
    let mut notebook = Notebook::empty(NotebookFormat::Ipynb);
    let root = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(root)) => root,
        Ok(_) => {
            notebook
                .problems
                .push(invalid(Span::at(0), "the file is JSON but not an object"));
            return notebook;
        }
        Err(error) => {
            let offset = offset_of_line_column(text, error.line(), error.column());
            notebook.problems.push(invalid(
                Span::at(offset),
                format!("the file is not valid JSON ({error}); is it a notebook?"),
            ));
            return notebook;
        }
    };
    match root.get("nbformat").and_then(Value::as_i64) {
        Some(NBFORMAT) => {}
        Some(other) => {
            notebook.problems.push(invalid(
                Span::at(0),
                format!(
                    "nbformat {other} is not supported; convert it with `jupyter nbconvert --to notebook` to version 4"
                ),
            ));
            return notebook;
        }
        None => {
            notebook.problems.push(invalid(
                Span::at(0),
                "no \"nbformat\" field: this is not a Jupyter notebook",
            ));
            return notebook;
        }
    }
    if let Some(Value::Object(metadata)) = root.get("metadata") {
        notebook.metadata = metadata.clone();
        strip_transient_notebook_metadata(&mut notebook.metadata);
    }
    let Some(Value::Array(cells)) = root.get("cells") else {
        notebook.problems.push(invalid(
            Span::at(0),
            "no \"cells\" list: this is not a Jupyter notebook",
        ));
        return notebook;
    };
    let mut read: Vec<Cell> = Vec::with_capacity(cells.len());
    for (index, value) in cells.iter().enumerate() {
        match read_cell(value) {
            Ok((cell, problems)) => {
                read.push(cell);
                notebook.problems.extend(problems);
            }
            Err(reason) => notebook.problems.push(invalid(
                Span::at(0),
                format!("cell {index} was skipped: {reason}"),
            )),
        }
    }
    notebook.cells = read.into();
    notebook
}

fn invalid(span: Span, message: impl Into<String>) -> Problem {
    Problem::new("ipynb-invalid", span, message)
}

fn read_cell(value: &Value) -> Result<(Cell, Vec<Problem>), String> {
    let object = value.as_object().ok_or("it is not a JSON object")?;
    let cell_type = match object.get("cell_type").and_then(Value::as_str) {
        Some("code") => CellType::Code,
        Some("markdown") => CellType::Markdown,
        Some("raw") => CellType::Raw,
        Some(other) => return Err(format!("unknown cell_type {other:?}")),
        None => return Err("it has no cell_type".to_string()),
    };
    let source = match object.get("source") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(lines)) => lines.iter().filter_map(Value::as_str).collect(),
        None => String::new(),
        Some(_) => return Err("its source is neither a string nor a list of strings".to_string()),
    };
    let mut cell = Cell::new(cell_type, source);
    if let Some(Value::Object(metadata)) = object.get("metadata") {
        cell.metadata = metadata.clone();
        cell.metadata.shift_remove("trusted");
    }
    let jupyter = JupyterCellData {
        id: object.get("id").and_then(Value::as_str).map(str::to_string),
        execution_count: object.get("execution_count").and_then(Value::as_i64),
        outputs: match object.get("outputs") {
            Some(Value::Array(outputs)) => outputs.clone(),
            _ => Vec::new(),
        },
        attachments: object.get("attachments").cloned(),
    };
    // A cell with none of it compares equal to the same cell read from text.
    if jupyter != JupyterCellData::default() {
        cell.jupyter = Some(Box::new(jupyter));
    }
    let (spec, problems) = tags::spec_for_cell(cell_type, &cell.metadata, "", 0);
    cell.spec = spec;
    Ok((cell, problems))
}

/// Writes `notebook` as nbformat 4.5 JSON, laid out as `nbformat.writes` does.
pub fn write_ipynb(notebook: &Notebook) -> String {
    let mut used_ids = HashSet::new();
    let cells: Vec<Value> = notebook
        .cells
        .iter()
        .enumerate()
        .map(|(ordinal, cell)| {
            let id = unique_cell_id(cell, ordinal, &mut used_ids);
            write_cell(cell, id)
        })
        .collect();
    // As `jupytext.write(nb, "x.ipynb")`: the metadata `jupytext.reads` gives for a text
    // notebook, without the `text_representation` that only describes the text file.
    let mut metadata = match notebook.format {
        NotebookFormat::Ipynb => notebook.metadata.clone(),
        _ => jupytext_reads::notebook_metadata(notebook),
    };
    if let Some(Value::Object(jupytext)) = metadata.get_mut("jupytext") {
        jupytext.shift_remove("text_representation");
        if jupytext.is_empty() {
            metadata.shift_remove("jupytext");
        }
    }
    strip_transient_notebook_metadata(&mut metadata);
    let root = json!({
        "cells": cells,
        "metadata": metadata,
        "nbformat": NBFORMAT,
        "nbformat_minor": NBFORMAT_MINOR,
    });
    let mut out = to_nbformat_json(&sorted(root));
    out.push('\n');
    out
}

fn write_cell(cell: PlacedCell<'_>, id: String) -> Value {
    let mut object = Map::new();
    object.insert(
        "cell_type".into(),
        Value::String(cell.cell_type.as_str().into()),
    );
    object.insert("id".into(), Value::String(id));
    let mut metadata = cell.metadata.clone();
    metadata.shift_remove("trusted");
    object.insert("metadata".into(), Value::Object(metadata));
    object.insert("source".into(), source_lines(&cell.source));
    match cell.cell_type {
        CellType::Code => {
            object.insert(
                "execution_count".into(),
                cell.jupyter()
                    .execution_count
                    .map_or(Value::Null, Value::from),
            );
            object.insert(
                "outputs".into(),
                Value::Array(
                    cell.jupyter()
                        .outputs
                        .iter()
                        .map(split_output_lines)
                        .collect(),
                ),
            );
        }
        CellType::Markdown | CellType::Raw => {
            if let Some(attachments) = &cell.jupyter().attachments {
                object.insert("attachments".into(), attachments.clone());
            }
        }
    }
    Value::Object(object)
}

/// nbformat's `strip_transient`, applied on read and write: keys that describe a
/// notebook in memory, never a file.
fn strip_transient_notebook_metadata(metadata: &mut Map<String, Value>) {
    for key in ["orig_nbformat", "orig_nbformat_minor", "signature"] {
        metadata.shift_remove(key);
    }
}

/// nbformat's `split_lines` on one output (an `.ipynb` written by another tool may hold
/// strings): a stream's text and the text entries of a mime bundle become lists of lines;
/// JSON mime types are left alone.
fn split_output_lines(output: &Value) -> Value {
    let mut output = output.clone();
    let kind = output.get("output_type").and_then(Value::as_str);
    match kind {
        Some("stream") => {
            if let Some(Value::String(text)) = output.get("text") {
                let lines = source_lines(text);
                output["text"] = lines;
            }
        }
        Some("execute_result" | "display_data") => {
            if let Some(Value::Object(data)) = output.get_mut("data") {
                for (mime, value) in data.iter_mut() {
                    let json_mime = mime == "application/json"
                        || (mime.starts_with("application/") && mime.ends_with("+json"));
                    if let (false, Value::String(text)) = (json_mime, &*value) {
                        *value = source_lines(text);
                    }
                }
            }
        }
        _ => {}
    }
    output
}

/// nbformat stores sources as a list of lines, each keeping its line ending.
fn source_lines(source: &str) -> Value {
    Value::Array(
        source
            .split_inclusive('\n')
            .map(|line| Value::String(line.to_string()))
            .collect(),
    )
}

/// The cell's own id when it has a valid, unused one; else an id derived from its
/// position and source, so that exporting the same notebook twice gives the same file.
fn unique_cell_id(cell: PlacedCell<'_>, ordinal: usize, used: &mut HashSet<String>) -> String {
    if let Some(id) = &cell.jupyter().id
        && is_valid_cell_id(id)
        && used.insert(id.clone())
    {
        return id.clone();
    }
    let mut hasher = blake3::Hasher::new();
    hasher.update(&(ordinal as u64).to_le_bytes());
    hasher.update(cell.source.as_bytes());
    let digest = hasher.finalize().to_hex();
    let base = &digest.as_str()[..8];
    let mut candidate = base.to_string();
    let mut suffix = 1;
    while !used.insert(candidate.clone()) {
        candidate = format!("{base}-{suffix}");
        suffix += 1;
    }
    candidate
}

/// nbformat 4.5: `^[a-zA-Z0-9-_]+$`, 1 to 64 characters.
fn is_valid_cell_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// `value` with every object's keys sorted, as `json.dumps(sort_keys=True)` writes them.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(key, value)| (key, sorted(value)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// JSON with a one-space indent and `": "` separators, as nbformat writes it.
fn to_nbformat_json(value: &Value) -> String {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Serialising a `Value` into memory cannot fail.
    let _ = serde::Serialize::serialize(value, &mut serializer);
    String::from_utf8(out).unwrap_or_default()
}

/// The byte offset of a 1-based line and column as serde_json reports them.
fn offset_of_line_column(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let mut offset = (line_start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// For tests of the writers: an `.ipynb` with these cells (`[cell_type, source, metadata
/// JSON]`, code cells without outputs) and no notebook metadata, as nbformat reads it.
#[cfg(test)]
pub(crate) fn notebook_of_cells(cells: &[(&str, &str, &str)]) -> Notebook {
    let cells: Vec<String> = cells
        .iter()
        .map(|(kind, source, metadata)| {
            let source = serde_json::to_string(source).unwrap_or_default();
            let extra = if *kind == "code" {
                r#", "outputs": [], "execution_count": null"#
            } else {
                ""
            };
            format!(
                r#"{{"cell_type": "{kind}", "metadata": {metadata}, "source": {source}{extra}}}"#
            )
        })
        .collect();
    let json = format!(
        r#"{{"cells": [{}], "metadata": {{}}, "nbformat": 4, "nbformat_minor": 5}}"#,
        cells.join(", ")
    );
    read_ipynb(&json)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r##"{
 "cells": [
  {
   "cell_type": "markdown",
   "id": "intro",
   "metadata": {},
   "source": [
    "# Title\n",
    "text"
   ]
  },
  {
   "cell_type": "code",
   "execution_count": 3,
   "id": "a1",
   "metadata": {
    "tags": [
     "jc.step",
     "name=summary"
    ]
   },
   "outputs": [
    {
     "name": "stdout",
     "output_type": "stream",
     "text": [
      "hi\n"
     ]
    }
   ],
   "source": [
    "print('hi')"
   ]
  }
 ],
 "metadata": {
  "kernelspec": {
   "display_name": "Python 3",
   "language": "python",
   "name": "python3"
  }
 },
 "nbformat": 4,
 "nbformat_minor": 5
}
"##;

    #[test]
    fn reads_cells_sources_metadata_and_outputs() {
        let notebook = read_ipynb(SMALL);
        assert!(notebook.problems.is_empty(), "{:?}", notebook.problems);
        assert_eq!(notebook.cells.len(), 2);
        assert_eq!(notebook.cells[0].cell_type, CellType::Markdown);
        assert_eq!(notebook.cells[0].source, "# Title\ntext");
        let code = &notebook.cells[1];
        assert_eq!(code.tags(), vec!["jc.step", "name=summary"]);
        assert_eq!(code.jupyter().id.as_deref(), Some("a1"));
        assert_eq!(code.jupyter().execution_count, Some(3));
        assert_eq!(code.jupyter().outputs.len(), 1);
    }

    #[test]
    fn writes_a_canonical_notebook_back_byte_for_byte() {
        assert_eq!(write_ipynb(&read_ipynb(SMALL)), SMALL);
    }

    #[test]
    fn gives_every_cell_a_distinct_stable_id() {
        let mut notebook = Notebook::empty(NotebookFormat::Percent);
        notebook.cells.push(Cell::new(CellType::Code, "x = 1"));
        notebook.cells.push(Cell::new(CellType::Code, "x = 1"));
        let first = write_ipynb(&notebook);
        assert_eq!(first, write_ipynb(&notebook));
        let reread = read_ipynb(&first);
        let ids: Vec<_> = reread
            .cells
            .iter()
            .map(|c| c.jupyter().id.clone())
            .collect();
        assert!(ids[0].is_some() && ids[0] != ids[1], "{ids:?}");
    }

    #[test]
    fn not_json_is_one_problem_pointing_at_the_error() {
        let notebook = read_ipynb("{\n \"cells\": [,]\n}");
        assert_eq!(notebook.problems.len(), 1);
        assert_eq!(notebook.problems[0].code, "ipynb-invalid");
        assert_eq!(notebook.problems[0].span.start, 13, "the stray comma");
    }

    #[test]
    fn nbformat_3_is_refused_with_the_fix() {
        let notebook = read_ipynb(r#"{"nbformat": 3, "worksheets": []}"#);
        assert!(notebook.problems[0].message.contains("nbconvert"));
    }

    #[test]
    fn a_malformed_cell_is_skipped_and_named() {
        let notebook = read_ipynb(
            r#"{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [7, {"cell_type": "code", "source": "x"}]}"#,
        );
        assert_eq!(notebook.cells.len(), 1);
        assert!(
            notebook.problems[0]
                .message
                .starts_with("cell 0 was skipped")
        );
    }

    #[test]
    fn control_characters_are_escaped_like_python_json() {
        let mut notebook = Notebook::empty(NotebookFormat::Percent);
        notebook
            .cells
            .push(Cell::new(CellType::Code, "print('\u{1b}[31mé')"));
        let text = write_ipynb(&notebook);
        assert!(text.contains(r"\u001b[31mé"), "{text}");
    }
}

//! Reader and writer rules, one behaviour per test (checked against jupytext 1.19.6).

use serde_json::{Value, json};

use super::{Originals, read_percent, read_with_block, write_percent};
use crate::format::{Cell, CellType, Notebook, NotebookFormat};
use crate::text::Span;

fn cells(text: &str) -> Vec<(CellType, String, Value)> {
    read_percent(text)
        .cells
        .into_iter()
        .map(|cell| {
            (
                cell.cell_type,
                cell.source.clone(),
                Value::Object(cell.metadata.clone()),
            )
        })
        .collect()
}

fn problems(text: &str) -> Vec<(&'static str, String)> {
    read_percent(text)
        .problems
        .into_iter()
        .filter(|p| {
            matches!(
                p.code,
                "marker-no-space" | "uncommented-comment" | "metadata-invalid"
            )
        })
        .map(|p| (p.code, p.span.slice(text).to_string()))
        .collect()
}

#[test]
fn every_marker_form_opens_a_code_cell() {
    let text = "# %%\na\n#%%\nb\n# <codecell>\nc\n# In[1]:\nd\n# In[ ]\ne\n";
    let sources: Vec<String> = cells(text).into_iter().map(|c| c.1).collect();
    assert_eq!(sources, ["a", "b", "c", "d", "e"]);
}

#[test]
fn text_before_the_first_marker_is_cell_zero_without_header() {
    let notebook = read_percent("import os\n\n# %%\nx = 1\n");
    assert_eq!(notebook.cells[0].source, "import os");
    assert_eq!(notebook.cells.at(0).spans.header, None);
    assert_eq!(notebook.cells[1].source, "x = 1");
}

#[test]
fn sub_cells_and_titles() {
    let got = cells("# %% Intro\na\n\n# %%% Detail\nb\n");
    assert_eq!(got[0].2, json!({"title": "Intro"}));
    assert_eq!(got[1].2, json!({"cell_depth": 1, "title": "Detail"}));
}

#[test]
fn markdown_and_raw_cells_lose_their_comment_prefix() {
    let got = cells("# %% [markdown]\n# # Title\n#\n# text\n\n# %% [raw]\n# raw text\n");
    assert_eq!(got[0].0, CellType::Markdown);
    assert_eq!(got[0].1, "# Title\n\ntext");
    assert_eq!((got[1].0, got[1].1.as_str()), (CellType::Raw, "raw text"));
}

#[test]
fn markers_inside_triple_quoted_strings_are_not_boundaries() {
    let got = cells("# %%\nx = \"\"\"\n# %%\n\"\"\"\n");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, "x = \"\"\"\n# %%\n\"\"\"");
}

#[test]
fn markers_inside_closed_fences_of_markdown_cells_are_not_boundaries() {
    let text = "# %% [markdown]\n# ```mermaid\n# %% not a cell\n# ```\n\n# %%\nx\n";
    let got = cells(text);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].1, "```mermaid\n%% not a cell\n```");
    // An unclosed fence hides nothing.
    assert_eq!(cells("# %% [markdown]\n# ```\n# %%\nx\n").len(), 2);
}

#[test]
fn blank_lines_before_the_next_cell() {
    // One blank line is the default; two blank lines before a non-definition are recorded.
    assert_eq!(cells("# %%\na\n\n# %%\nb\n")[0].2, json!({}));
    assert_eq!(
        cells("# %%\na\n\n\n# %%\nb\n")[0].2,
        json!({"lines_to_next_cell": 2})
    );
    // Two blank lines before a definition are PEP 8, so not recorded.
    assert_eq!(
        cells("# %%\na\n\n\n# %%\ndef f():\n    pass\n")[0].2,
        json!({})
    );
    // No blank line at all.
    assert_eq!(
        cells("# %%\na\n# %%\nb\n")[0].2,
        json!({"lines_to_next_cell": 0})
    );
    // A line of spaces is content, not a separator (jupytext #1599).
    assert_eq!(cells("# %%\na\n  \n# %%\nb\n")[0].1, "a\n  ");
}

#[test]
fn comment_magics_are_uncommented_in_code_cells_only() {
    let got = cells(
        "# %%\n# %matplotlib inline\n# normal comment\n\n# %% [markdown]\n# %not a magic here\n",
    );
    assert_eq!(got[0].1, "%matplotlib inline\n# normal comment");
    assert_eq!(got[1].1, "%not a magic here");
}

#[test]
fn metadata_values_are_json_or_python_literals() {
    let got = cells("# %% tags=['a', \"b\"] n=1 flag x=None\nx\n");
    assert_eq!(
        got[0].2,
        json!({"tags": ["a", "b"], "n": 1, "flag": null, "x": null})
    );
    let got = cells("# %% {\"tags\": [\"jc.step\", \"name=j\"]}\nx\n");
    assert_eq!(got[0].2, json!({"tags": ["jc.step", "name=j"]}));
}

#[test]
fn language_cells_become_cell_magics() {
    let got = cells("# %% magic_args=\"-w 4\" language=\"R\"\n# plot(1)\n");
    assert_eq!(got[0].1, "%%R -w 4\nplot(1)");
    assert_eq!(got[0].2, json!({}));
}

#[test]
fn jupytext_header_is_notebook_metadata_in_the_preamble() {
    let text = "# ---\n# jupyter:\n#   kernelspec:\n#     name: python3\n# ---\n\n# %%\nx\n";
    let notebook = read_percent(text);
    assert_eq!(
        Value::Object(notebook.metadata.clone()),
        json!({"kernelspec": {"name": "python3"}})
    );
    assert_eq!(
        notebook.preamble.text,
        "# ---\n# jupyter:\n#   kernelspec:\n#     name: python3\n# ---\n\n"
    );
    assert_eq!(notebook.cells.len(), 1);
}

#[test]
fn spans_point_at_header_body_and_whole_cell() {
    let text = "# %% T\r\nx = 1\r\ny = 2\r\n\r\n# %%\r\nz\r\n";
    let notebook = read_percent(text);
    let first = notebook.cells.at(0);
    assert_eq!(first.spans.header.map(|s| s.slice(text)), Some("# %% T"));
    assert_eq!(first.spans.body.slice(text), "x = 1\r\ny = 2");
    assert_eq!(
        first.spans.whole.slice(text),
        "# %% T\r\nx = 1\r\ny = 2\r\n\r\n"
    );
    assert_eq!(notebook.cells.at(1).spans.whole.end, text.len());
}

#[test]
fn marker_without_space_is_reported_on_its_line() {
    let text = "# %%\nx = 1\n# %%tags=[\"a\"]\ny = 2\n";
    assert_eq!(cells(text)[0].1, "x = 1\n%%tags=[\"a\"]\ny = 2");
    let found = problems(text);
    assert_eq!(found, [("marker-no-space", "# %%tags=[\"a\"]".to_string())]);
    let message = &read_percent(text).problems[0].message;
    assert!(message.contains("# %% tags=[\"a\"]"), "{message}");
}

#[test]
fn english_comment_starting_with_a_shell_word_is_reported() {
    let text = "# %%\n# ls the files\n## ls the files\n# list the files\nx = 1\n";
    assert_eq!(
        cells(text)[0].1,
        "ls the files\n# ls the files\n# list the files\nx = 1"
    );
    assert_eq!(
        problems(text),
        [("uncommented-comment", "# ls the files".to_string())]
    );
    let message = &read_percent(text).problems[0].message;
    assert!(
        message.contains("# list the files") && message.contains("## ls the files"),
        "{message}"
    );
}

#[test]
fn unparseable_cell_metadata_is_reported_on_the_header() {
    let text = "# %% tags=[\"a\",\nx\n";
    assert_eq!(
        cells(text)[0].2,
        json!({"incorrectly_encoded_metadata": "tags=[\"a\","})
    );
    assert_eq!(
        problems(text),
        [("metadata-invalid", "# %% tags=[\"a\",".to_string())]
    );
}

#[test]
fn pep723_block_is_not_a_cell() {
    // Meaningful once `pep723::find_block` finds blocks; with no block the text is read
    // as jupytext reads it (covered by the other tests).
    let text = "# /// script\n# dependencies = []\n# ///\n\n# %%\nx = 1\n";
    let notebook = read_percent(text);
    if notebook.pep723.is_some() {
        assert_eq!(
            notebook.preamble.text,
            "# /// script\n# dependencies = []\n# ///\n\n"
        );
        assert_eq!(notebook.cells.len(), 1);
        assert_eq!(notebook.cells[0].source, "x = 1");
    }
    assert_eq!(write_percent(&notebook), text);
    let inside = "# %%\nx = 1\n# /// script\n# dependencies = []\n# ///\ny = 2\n";
    let notebook = read_percent(inside);
    if notebook.pep723.is_some() {
        assert_eq!(notebook.cells[0].source, "x = 1\n\ny = 2");
    }
    assert_eq!(write_percent(&notebook), inside);
}

#[test]
fn unchanged_cells_keep_their_bytes_and_changed_ones_are_regenerated() {
    let text = "# %%   odd   spacing\r\nx=1\r\n\r\n# %% [markdown]\r\n#    indented\r\n";
    let mut notebook = read_percent(text);
    assert_eq!(write_percent(&notebook), text);
    notebook.cells[0].source = "%matplotlib inline\ny = 2".into();
    assert_eq!(
        write_percent(&notebook),
        "# %% odd   spacing\n# %matplotlib inline\ny = 2\n\n# %% [markdown]\r\n#    indented\r\n"
    );
}

#[test]
fn built_cells_are_written_as_jupytext_writes_them() {
    let mut notebook = Notebook::empty(NotebookFormat::Percent);
    let mut code = Cell::new(CellType::Code, "def f():\n    return 1");
    code.metadata
        .insert("tags".into(), json!(["jc.step", "name=f"]));
    code.metadata.insert("title".into(), json!("Define f"));
    notebook.cells.push(code);
    notebook
        .cells
        .push(Cell::new(CellType::Markdown, "# Title\n\ntext"));
    notebook.cells.push(Cell::new(CellType::Raw, "raw"));
    assert_eq!(
        write_percent(&notebook),
        "# %% Define f tags=[\"jc.step\", \"name=f\"]\ndef f():\n    return 1\n\n\
         # %% [markdown]\n# # Title\n#\n# text\n\n# %% [raw]\n# raw\n"
    );
}

#[test]
fn appending_after_a_last_line_without_newline_starts_a_new_line() {
    let mut notebook = read_percent("# %%\nx = 1");
    notebook.cells.push(Cell::new(CellType::Code, "y = 2"));
    assert_eq!(write_percent(&notebook), "# %%\nx = 1\n# %%\ny = 2\n");
}

#[test]
fn changed_notebook_metadata_regenerates_the_header() {
    let text = "# ---\n# jupyter:\n#   kernelspec:\n#     name: python3\n# ---\n\n# %%\nx\n";
    let mut notebook = read_percent(text);
    notebook.metadata.insert(
        "kernelspec".into(),
        json!({"name": "ir", "display_name": "R"}),
    );
    assert_eq!(
        write_percent(&notebook),
        "# ---\n# jupyter:\n#   jupytext:\n#     text_representation:\n#       extension: .py\n\
         #       format_name: percent\n#       format_version: '1.3'\n#       jupytext_version: 1.19.6\n\
         #   kernelspec:\n#     display_name: R\n#     name: ir\n# ---\n\n# %%\nx\n"
    );
}

#[test]
fn any_text_reads_without_panicking() {
    for text in [
        "",
        "\n",
        "#",
        "# %%",
        "# ---",
        "# ---\n# ---",
        "\u{2028}# %%\u{85}x",
        "# %% {",
        "# %% =",
        "'''",
    ] {
        let notebook = read_percent(text);
        assert_eq!(write_percent(&notebook), text, "{text:?}");
    }
}

/// Reads `text`, which must have a PEP-723 `# /// script` block.
fn with_block(text: &str) -> Notebook {
    let block = crate::format::pep723::find_block(text).expect("a PEP-723 block");
    read_with_block(text, Some(block), Originals::Keep)
}

#[test]
fn pep723_block_at_the_top_goes_to_the_preamble_with_its_blank_lines() {
    let text = "# /// script\n# dependencies = []\n# ///\n\n# %%\nx = 1\n";
    let notebook = with_block(text);
    assert_eq!(
        notebook.preamble.text,
        "# /// script\n# dependencies = []\n# ///\n\n"
    );
    assert_eq!(notebook.cells.len(), 1);
    assert_eq!(notebook.cells[0].source, "x = 1");
    assert_eq!(write_percent(&notebook), text);
}

#[test]
fn pep723_block_then_jupytext_header() {
    let text = "# /// script\n# dependencies = []\n# ///\n\n# ---\n# jupyter:\n#   a: 1\n# ---\n\n# %%\nx\n";
    let notebook = with_block(text);
    assert_eq!(Value::Object(notebook.metadata.clone()), json!({"a": 1}));
    assert_eq!(notebook.cells.len(), 1);
    assert_eq!(
        notebook.cells.at(0).spans.whole.start,
        text.find("# %%").unwrap()
    );
    assert_eq!(write_percent(&notebook), text);
}

#[test]
fn pep723_block_inside_a_cell_is_left_out_of_its_source() {
    // jellycell removes the block before jupytext reads: an empty line stays in its place.
    let text = "# %%\nx = 1\n# /// script\n# dependencies = []\n# ///\ny = 2\n";
    let notebook = with_block(text);
    assert_eq!(notebook.cells.len(), 1);
    assert_eq!(notebook.cells[0].source, "x = 1\n\ny = 2");
    assert_eq!(notebook.cells.at(0).spans.whole, Span::new(0, text.len()));
    assert_eq!(write_percent(&notebook), text);
}

#[test]
fn pep723_block_between_cells_becomes_a_blank_line() {
    let text = "# %%\nx = 1\n\n# /// script\n# dependencies = []\n# ///\n# %%\ny\n";
    let notebook = with_block(text);
    assert_eq!(notebook.cells.len(), 2);
    assert_eq!(notebook.cells[0].source, "x = 1");
    assert_eq!(
        Value::Object(notebook.cells[0].metadata.clone()),
        json!({"lines_to_next_cell": 2})
    );
    assert_eq!(write_percent(&notebook), text);
}

#[test]
fn pathological_headers_neither_overflow_nor_panic() {
    let deep = format!("# %% x={}\ny\n", "[".repeat(50_000));
    assert_eq!(write_percent(&read_percent(&deep)), deep);
    let many = format!("# %% a=1 {}\ny\n", "flag ".repeat(20_000));
    let notebook = read_percent(&many);
    assert_eq!(write_percent(&notebook), many);
}

#[test]
fn shell_word_suggestion_fits_the_command() {
    let text = "# %%\n# cd into the data dir\n";
    let notebook = read_percent(text);
    let message = &notebook.problems[0].message;
    assert!(message.contains("`# enter into the data dir`"), "{message}");
    assert_eq!(
        notebook.problems[0].span.slice(text),
        "# cd into the data dir"
    );
}

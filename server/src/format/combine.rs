//! jupytext's `combine_inputs_with_outputs`: the notebook that `jupytext --sync` writes to
//! the `.ipynb` when the text side is the newest: cells (sources, order) from the text
//! notebook, and from the `.ipynb` the outputs, execution counts, cell ids, attachments
//! and the metadata the text's filters leave out. Which `.ipynb` cell gives its outputs to
//! which text cell is `map_outputs_to_inputs`, rule for rule.

use serde_json::{Map, Value};

use super::myst::metadata_filter::{filter_cell_metadata, filter_notebook_metadata};
use std::ops::Deref;

use super::{CellContent, CellType, Notebook, NotebookFormat, jupytext_reads};

/// The characters black may change, which jupytext ignores when it compares two sources
/// (`black_invariant`).
const BLACK_VARIANT: &[char] = &[' ', '\t', '\n', ',', '\'', '"', '(', ')', '\\'];

fn black_invariant(text: &str) -> String {
    text.chars()
        .filter(|c| !BLACK_VARIANT.contains(c))
        .collect()
}

/// `same_content`: equal sources up to what black reformats; with `endswith`, whether
/// `reference` ends with a non-empty `test`.
fn same_content(reference: &str, test: &str, endswith: bool) -> bool {
    let reference = black_invariant(reference);
    let test = black_invariant(test);
    if endswith && !test.is_empty() {
        return reference.ends_with(&test);
    }
    reference == test
}

/// For each input cell, the index of the output cell whose outputs it takes, by jupytext's
/// four rules: equal content in order per cell type; equal content anywhere; an input that
/// is the end of an unused output cell (a cell split in two); then, for non-empty cells,
/// the next unused output cell of the same type after the previous match (an edited cell
/// keeps its outputs).
pub fn map_outputs_to_inputs<C: Deref<Target = CellContent>>(
    inputs: &[C],
    outputs: &[C],
) -> Vec<Option<usize>> {
    let mut map: Vec<Option<usize>> = vec![None; inputs.len()];
    let mut first_unmatched: Vec<(CellType, usize)> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let start = first_unmatched
            .iter()
            .find(|(cell_type, _)| *cell_type == input.cell_type)
            .map_or(0, |(_, start)| *start);
        for (j, output) in outputs.iter().enumerate().skip(start) {
            if input.cell_type == output.cell_type
                && same_content(&input.source, &output.source, false)
            {
                map[i] = Some(j);
                first_unmatched.retain(|(cell_type, _)| *cell_type != input.cell_type);
                first_unmatched.push((input.cell_type, j + 1));
                break;
            }
        }
    }
    // Python iterates a set of small ints in increasing order.
    let mut unused: Vec<usize> = (0..outputs.len())
        .filter(|j| !map.contains(&Some(*j)))
        .collect();
    for endswith in [false, true] {
        if unused.is_empty() {
            return map;
        }
        for (i, input) in inputs.iter().enumerate() {
            if map[i].is_some() {
                continue;
            }
            if let Some(at) = unused.iter().position(|&j| {
                input.cell_type == outputs[j].cell_type
                    && same_content(&outputs[j].source, &input.source, endswith)
            }) {
                map[i] = Some(unused.remove(at));
            }
        }
    }
    if unused.is_empty() {
        return map;
    }
    let mut previous: Option<usize> = None;
    for (i, input) in inputs.iter().enumerate() {
        if let Some(j) = map[i] {
            previous = Some(j);
            continue;
        }
        let j = previous.map_or(0, |previous| previous + 1);
        let Some(at) = unused.iter().position(|&unused| unused == j) else {
            continue;
        };
        if input.cell_type == outputs[j].cell_type && !input.source.trim().is_empty() {
            map[i] = Some(j);
            unused.remove(at);
            previous = Some(j);
        }
    }
    map
}

/// `restore_filtered_metadata`: `filtered` plus every key of `unfiltered` that `filter`
/// would have kept out of the text.
fn restore_filtered(
    filtered: &Map<String, Value>,
    unfiltered: &Map<String, Value>,
    filter: impl Fn(&Map<String, Value>) -> Map<String, Value>,
) -> Map<String, Value> {
    let passing = filter(unfiltered);
    let mut metadata = filtered.clone();
    for (key, value) in unfiltered {
        if !passing.contains_key(key) {
            metadata.insert(key.clone(), value.clone());
        }
    }
    metadata
}

/// The `.ipynb` notebook (format `Ipynb`) of `text` (read from a text notebook) combined
/// with `with_outputs` (the paired `.ipynb` as read), as `jupytext --sync` writes it.
pub fn combine_inputs_with_outputs(text: &Notebook, with_outputs: &Notebook) -> Notebook {
    let source_metadata = jupytext_reads::notebook_metadata(text);
    let jupytext_key = |metadata: &Map<String, Value>, key: &str| {
        metadata
            .get("jupytext")
            .and_then(|jupytext| jupytext.get(key))
            .cloned()
    };
    let notebook_filter = jupytext_key(&source_metadata, "notebook_metadata_filter");
    let mut metadata = if notebook_filter.as_ref().and_then(Value::as_str) == Some("-all") {
        with_outputs.metadata.clone()
    } else {
        restore_filtered(&source_metadata, &with_outputs.metadata, |metadata| {
            filter_notebook_metadata(metadata, notebook_filter.as_ref())
        })
    };
    let markdown = matches!(text.format, NotebookFormat::Myst | NotebookFormat::Markdown);
    if let Some(Value::Object(jupytext)) = metadata.get_mut("jupytext")
        && (markdown
            || jupytext
                .get("formats")
                .is_some_and(super::jupytext::python_truthy))
    {
        jupytext.shift_remove("text_representation");
    }
    if metadata
        .get("jupytext")
        .is_some_and(|jupytext| !super::jupytext::python_truthy(jupytext))
    {
        metadata.shift_remove("jupytext");
    }
    let cell_filter = jupytext_key(&metadata, "cell_metadata_filter");
    let map = map_outputs_to_inputs(
        &text.cells.iter().collect::<Vec<_>>(),
        &with_outputs.cells.iter().collect::<Vec<_>>(),
    );
    let cells = text
        .cells
        .iter()
        .zip(map)
        .map(|(source, matched)| {
            let mut cell = source.to_cell();
            if let Some(output) = matched.and_then(|j| with_outputs.cells.get(j)) {
                cell.jupyter.clone_from(&output.jupyter);
                cell.metadata = restore_filtered(&source.metadata, &output.metadata, |metadata| {
                    filter_cell_metadata(metadata, cell_filter.as_ref())
                });
            }
            cell
        })
        .collect();
    Notebook {
        format: NotebookFormat::Ipynb,
        metadata,
        cells,
        pep723: text.pep723.clone(),
        preamble: super::Preamble::default(),
        trailer: String::new(),
        problems: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Cell;

    fn code(source: &str) -> Cell {
        Cell::new(CellType::Code, source)
    }

    #[test]
    fn unchanged_cells_match_in_order_and_an_edited_one_keeps_its_place() {
        let outputs = [code("a = 1"), code("b = 2"), code("c = 3")];
        let inputs = [code("a = 1"), code("b = 20"), code("c = 3")];
        assert_eq!(
            map_outputs_to_inputs(&inputs, &outputs),
            [Some(0), Some(1), Some(2)]
        );
    }

    #[test]
    fn a_new_cell_gets_nothing_and_moved_cells_follow_their_content() {
        let outputs = [code("a = 1"), code("b = 2")];
        let inputs = [code("b = 2"), code("new()"), code("a = 1")];
        assert_eq!(
            map_outputs_to_inputs(&inputs, &outputs),
            [Some(1), None, Some(0)]
        );
    }

    #[test]
    fn black_reformatting_is_the_same_content_and_a_split_cell_keeps_the_end() {
        let outputs = [code("f(1,2)"), code("x = 1\ny = 2")];
        let inputs = [code("f( 1, 2 )"), code("x = 1"), code("y = 2")];
        assert_eq!(
            map_outputs_to_inputs(&inputs, &outputs),
            [Some(0), None, Some(1)]
        );
    }
}

//! `warn-on-large-cell-output` (jellycell's rule): a cell whose cached outputs, for its
//! *current* cache key, add up to more than `[lint] warn_on_large_cell_output`. jellycell
//! also counts stale manifests of cells that have since changed; we only count what the
//! cell would show now. The sizes come from the output cache (`cache::output_sizes`), which
//! the caller reads, so lint itself never touches the store.

use crate::analysis::workspace::NotebookFile;
use crate::lint::Finding;
use crate::text::Span;

/// `sizes`: (cell ordinal, total bytes of its cached outputs); `limit` in bytes;
/// `limit_text`: the limit as configured, for the message.
pub fn findings(
    file: &NotebookFile,
    sizes: &[(usize, u64)],
    limit: u64,
    limit_text: &str,
) -> Vec<Finding> {
    sizes
        .iter()
        .filter(|(_, total)| *total > limit)
        .filter_map(|(ordinal, total)| {
            let cell = file.notebook.cells.get(*ordinal)?;
            let span = cell.spans.header.unwrap_or(Span::at(cell.spans.whole.start));
            Some(Finding::new(
                "warn-on-large-cell-output",
                Some(span),
                format!(
                    "cached outputs of this cell total {} B, over the {} B limit ([lint] warn_on_large_cell_output = \"{limit_text}\"); print less, or save large results with jc.save",
                    thousands(*total),
                    thousands(limit)
                ),
            ))
        })
        .collect()
}

/// `2049` → `2,049`, as jellycell prints sizes.
fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands_like_jellycell() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(2049), "2,049");
        assert_eq!(thousands(10_485_760), "10,485,760");
    }
}

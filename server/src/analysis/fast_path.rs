//! The fast path of a cell's analysis: parse with the fast parser (`fast_parse`) and run
//! the same walks as on tree-sitter's tree; `Err` hands the cell (its masked text) back
//! to tree-sitter.
//!
//! Declined besides what the fast parser declines: cells that import `jellycell` (the
//! imports pass is a tree-sitter query), cells where an imported API function may be
//! called bare (likewise), and cells with lexical errors. The fast tree has no syntax
//! error by construction, so the syntax pass has nothing to add.

use super::fast_parse::parse_fast;
use super::jc_calls::{find_module_calls, in_source_order, needs_bare_calls};
use super::lexer::lexical_errors;
use super::magics::MaskedSource;
use super::{Aliases, CellAnalysis, dataflow};

/// What `parse::analyze_to_depth` asks of a cell.
pub(crate) struct Wanted<'a> {
    pub aliases: &'a Aliases,
    pub may_import: bool,
    pub may_call_api: bool,
    pub full: bool,
}

/// The analysis of `source` (masked as `masked`) on the fast tree, or `Err(masked)` to
/// decline.
pub(crate) fn analyze_fast(
    source: &str,
    masked: MaskedSource,
    wanted: &Wanted,
) -> Result<CellAnalysis, MaskedSource> {
    if wanted.may_import || (wanted.may_call_api && needs_bare_calls(wanted.aliases)) {
        return Err(masked);
    }
    let text = masked.text.as_str();
    let Some(tree) = parse_fast(text) else {
        return Err(masked);
    };
    if wanted.full && !lexical_errors(text).is_empty() {
        return Err(masked);
    }
    let root = tree.root_node();
    let jc_calls = if wanted.may_call_api {
        in_source_order(find_module_calls(root, text, wanted.aliases))
    } else {
        Vec::new()
    };
    let flow = wanted
        .full
        .then(|| dataflow::cell_flow_of_root(source, &masked, Some(root)));
    let analysis = CellAnalysis {
        jc_calls,
        masked_lines: masked.masked,
        ..CellAnalysis::default()
    };
    if let Some(flow) = flow {
        let _ = analysis.flow.0.set(std::sync::Arc::new(flow));
    }
    Ok(analysis)
}

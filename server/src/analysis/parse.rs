//! Parser reuse and the analysis pipeline: mask magics, parse with tree-sitter, run the
//! passes (syntax errors, imports, jc.* calls, top-level names).
//!
//! `tree_sitter::Parser` holds mutable state, so each thread keeps its own; parsing is
//! always from scratch (cells are small, and the memo catches repeats).

use std::cell::RefCell;

use tree_sitter::{Parser, Tree};

use super::{Aliases, CellAnalysis, fast_path, imports, jc_calls, magics, syntax};

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parse Python text with this thread's parser; `None` only if tree-sitter refuses.
pub(crate) fn parse_python(text: &str) -> Option<Tree> {
    PARSER.with(|slot| {
        let mut slot = slot.try_borrow_mut().ok()?;
        if slot.is_none() {
            let mut parser = Parser::new();
            parser
                .set_language(&tree_sitter_python::LANGUAGE.into())
                .ok()?;
            *slot = Some(parser);
        }
        slot.as_mut()?.parse(text, None)
    })
}

/// The full analysis of one cell, without the memo.
pub(crate) fn analyze_uncached(source: &str, aliases: &Aliases) -> CellAnalysis {
    analyze_to_depth(source, aliases, Depth::Full)
}

/// Only what the project graph needs: `jc.*` calls and the aliases a cell defines.
pub(crate) fn analyze_facts_uncached(source: &str, aliases: &Aliases) -> CellAnalysis {
    analyze_to_depth(source, aliases, Depth::Facts)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    Full,
    Facts,
}

pub(crate) fn analyze_to_depth(source: &str, aliases: &Aliases, depth: Depth) -> CellAnalysis {
    // Both queries walk the whole tree; text that cannot hold a match skips them (an
    // alias can only be bound by an import that names `jellycell`, an API call only
    // named by a known name).
    let may_import = source.contains("import") && source.contains("jellycell");
    let may_call_api = may_import || aliases.may_appear_in(source);
    if depth == Depth::Facts && !may_call_api {
        return CellAnalysis::default();
    }
    let masked = magics::mask_magics(source);
    let wanted = fast_path::Wanted {
        aliases,
        may_import,
        may_call_api,
        full: depth == Depth::Full,
    };
    // The common subset of Python parses faster by hand than with tree-sitter, into a
    // tree the same walks read; anything else comes back for tree-sitter.
    let masked = match fast_path::analyze_fast(source, masked, &wanted) {
        Ok(mut analysis) => {
            analysis.shrink_to_fit();
            return analysis;
        }
        Err(masked) => masked,
    };
    analyze_with_tree_sitter(source, masked, &wanted)
}

/// The analysis of `source` (masked as `masked`) from tree-sitter's tree.
pub(crate) fn analyze_with_tree_sitter(
    source: &str,
    masked: magics::MaskedSource,
    wanted: &fast_path::Wanted,
) -> CellAnalysis {
    let (aliases, may_import, may_call_api) =
        (wanted.aliases, wanted.may_import, wanted.may_call_api);
    let Some(tree) = parse_python(&masked.text) else {
        return CellAnalysis {
            masked_lines: masked.masked,
            ..CellAnalysis::default()
        };
    };
    let root = tree.root_node();
    let text = masked.text.as_str();
    let found = if may_import {
        imports::find_imports(root, text)
    } else {
        imports::FoundImports::default()
    };
    let mut visible = aliases.clone();
    visible.extend(&found.everywhere);
    let full = wanted.full;
    // The names rules read every fully analysed cell's dataflow: from this parse, not a
    // second one.
    let flow = full.then(|| super::dataflow::cell_flow_of_parse(source, &masked, Some(&tree)));
    let mut analysis = CellAnalysis {
        syntax_errors: if full {
            syntax::on_char_boundaries(syntax::syntax_errors(root, text), source)
        } else {
            Vec::new()
        },
        jc_calls: if may_call_api {
            jc_calls::find_jc_calls(root, text, &visible)
        } else {
            Vec::new()
        },
        aliases_defined: found.module_level,
        masked_lines: masked.masked,
        ..CellAnalysis::default()
    };
    if let Some(flow) = flow {
        let _ = analysis.flow.0.set(std::sync::Arc::new(flow));
    }
    // Analyses are kept for every cell of every open notebook: no spare capacity.
    analysis.shrink_to_fit();
    analysis
}

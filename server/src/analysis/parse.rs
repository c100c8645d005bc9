//! Parser reuse and the analysis pipeline: mask magics, parse with tree-sitter, run the
//! passes (syntax errors, imports, jc.* calls, top-level names).
//!
//! `tree_sitter::Parser` holds mutable state, so each thread keeps its own; parsing is
//! always from scratch (cells are small, and the memo catches repeats).

use std::cell::RefCell;

use tree_sitter::{Parser, Tree};

use super::{Aliases, CellAnalysis, imports, jc_calls, magics, names, syntax};

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
    let masked = magics::mask_magics(source);
    let Some(tree) = parse_python(&masked.text) else {
        return CellAnalysis {
            masked_lines: masked.masked,
            ..CellAnalysis::default()
        };
    };
    let root = tree.root_node();
    let text = masked.text.as_str();
    let found = imports::find_imports(root, text);
    let mut visible = aliases.clone();
    visible.extend(&found.everywhere);
    CellAnalysis {
        syntax_errors: syntax::syntax_errors(root, text),
        jc_calls: jc_calls::find_jc_calls(root, text, &visible),
        aliases_defined: found.module_level,
        masked_lines: masked.masked,
        top_level_names: names::top_level_names(root, text),
    }
}

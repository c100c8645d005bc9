//! PLACEHOLDER (owned by the tags/pep723/project/text helper): the PEP-723 block.

use crate::text::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Pep723Block {
    /// From the `# /// script` line to the end of the `# ///` line (no newline).
    pub span: Span,
}

/// The first PEP-723 block in `text`, if its type is `script`.
pub fn find_block(_text: &str) -> Option<Pep723Block> {
    None
}

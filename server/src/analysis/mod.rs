//! PLACEHOLDER (owned by the analysis helper): tree-sitter-python per cell, jc.* calls, syntax errors.

pub mod graph;

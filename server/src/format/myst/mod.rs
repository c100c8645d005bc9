//! MyST markdown notebooks, read and written exactly as jupytext 1.19.6 does (`md:myst`).
//!
//! `lines` is the line table, `blocks` the top-level fences and `+++` breaks that
//! `scanner` finds (a hand-written port of markdown-it's block parse, linear), `options`
//! reads a directive's `:key: value` / `---` YAML options and a break's JSON metadata, `front_matter` the YAML front matter and notebook metadata,
//! `metadata_filter` jupytext's notebook/cell metadata filters (YAML is read and dumped by
//! the shared `format::yaml`), `reader` builds the cells with their spans and originals,
//! `writer` writes them back (original bytes for unchanged cells, jupytext's layout for
//! the rest). Where we deliberately differ from jupytext is listed in
//! `tests/conformance/myst.rs`.

mod blocks;
mod front_matter;
mod lines;
pub(crate) mod metadata_filter;
mod options;
mod reader;
mod scanner;
mod writer;

pub use reader::read_myst;
pub use writer::write_myst;

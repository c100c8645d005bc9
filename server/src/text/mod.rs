//! The text model: byte spans, a line index for human-facing line:column messages, and
//! (in `document`) a ropey-backed document that applies incremental edits and converts
//! byte offsets to line/character positions in UTF-8, UTF-16 or UTF-32; `edit_log` keeps
//! the byte ranges its edits changed. `suggest` holds
//! the "did you mean" helper every reader shares. `chunk_list` is a list kept in shared
//! chunks, for what a notebook holds per cell (cells, analyses, facts).

pub mod changed;
pub mod chunk_list;
mod document;
pub mod edit_log;
mod line_index;
mod span;
pub mod suggest;

pub use document::{Document, Position, PositionEncoding, PositionRange};
pub use line_index::LineIndex;
pub use span::Span;

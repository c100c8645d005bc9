//! The text model: byte spans, and (in `document`) a ropey-backed document that applies
//! incremental edits and converts byte offsets to line/character positions in UTF-8,
//! UTF-16 or UTF-32. `suggest` holds the "did you mean" helper every reader shares.

mod document;
mod span;
pub mod suggest;

pub use document::{Document, Position, PositionEncoding, PositionRange};
pub use span::Span;

//! PLACEHOLDER (owned by the tags/pep723/project/text helper): the jellycell cell spec.

use serde_json::{Map, Value};

use crate::format::{CellType, Problem};
use crate::text::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CellKind {
    Load,
    #[default]
    Step,
    Figure,
    Table,
    Setup,
    Note,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CellSpec {
    pub kind: CellKind,
    pub name: Option<String>,
    pub deps: Vec<String>,
    pub timeout_seconds: Option<i64>,
    pub foreign_tags: Vec<String>,
}

/// The spec of a cell from its metadata; `header` is the header text the metadata was read
/// from and `header_start` its offset in the notebook text, used to point problems at the
/// exact tag.
pub fn spec_for_cell(
    _cell_type: CellType,
    _metadata: &Map<String, Value>,
    _header: &str,
    _header_start: usize,
) -> (CellSpec, Vec<Problem>) {
    let _ = Span::default();
    (CellSpec::default(), Vec::new())
}

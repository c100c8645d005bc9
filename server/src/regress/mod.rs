//! Output regression tests for notebooks (`jellycell-lsp test`), nbval's semantics for
//! plain-text notebooks: each notebook is run fresh (never from the cache) in a real
//! kernel and every code cell's outputs are compared with the reference — the paired
//! `.ipynb`'s outputs when jupytext pairs the notebook with one, else the result our
//! cache recorded for the cell's key. Unlike nbval, `clear_output` (also `wait=True`) and
//! `update_display_data` are applied first, so progress bars compare as shown.
//!
//! `markers` reads nbval's comment and tag markers, `sanitize` the sanitizer files and
//! built-ins, `compare` does nbval's per-key comparison, `notebook` runs one notebook
//! and gives each cell its [`Verdict`]. Prints nothing: `cli/test.rs` reports.

pub mod compare;
pub mod markers;
pub mod notebook;
pub mod sanitize;

pub use compare::{CompareOptions, Mismatch};
pub use markers::Markers;
pub use notebook::{CellResult, NotebookResult, Reference, TestOptions, Verdict, test_notebook};

//! jellycell-lsp: a language server and headless CLI for notebooks kept as plain text
//! (jupytext py:percent `.py` files and MyST `.md` files) in the jellycell format.
//!
//! Layers depend only downward (see `docs/architecture.md`):
//! `text`, `project` → `format` → `analysis` → `lint`, `cache` → `review`, `kernel` → `run` →
//! `render` → `preview`, `lsp`, `cli`. Everything below `preview` knows nothing of LSP,
//! JSON-RPC or HTTP.

pub mod analysis;
pub mod cache;
pub mod cli;
pub mod format;
pub mod kernel;
pub mod lint;
pub mod lsp;
pub mod preview;
pub mod project;
pub mod regress;
pub mod render;
pub mod review;
pub mod run;
pub mod text;

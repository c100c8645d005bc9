//! The lint engine: rules over a notebook, its project and its analysis, reported as
//! `Finding`s with a severity and, where safe, a fix as text edits. The same findings feed
//! `jellycell-lsp --check` and the language server's diagnostics.

mod finding;
pub mod registry;

pub use finding::{Finding, Fix, FixAction, Severity, TextEdit, apply_edits};
pub use registry::{RULES, Rule, rule_by_id};

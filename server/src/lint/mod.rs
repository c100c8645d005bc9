//! The lint engine: rules over a notebook, its project and its analysis, reported as
//! `Finding`s with a severity and, where safe, a fix as text edits. The same findings feed
//! `jellycell-lsp --check` and the language server's diagnostics.
//!
//! Files: `finding` (the types, applying edits), `registry` (every rule id with its
//! default severity), `settings` (select/ignore/severity), `check` (running the rules),
//! `rules/` (one file per rule or family), `tag_edit` (edits that add a tag to a header).

mod check;
mod finding;
pub mod registry;
pub mod rules;
mod settings;
pub mod tag_edit;

pub use check::{
    check_config, check_environment, check_file, check_file_with, check_output_sizes,
    check_project_paths,
};
pub use finding::{Finding, Fix, FixAction, Severity, TextEdit, apply_edits};
pub use registry::{RULES, Rule, rule_by_id};
pub use settings::LintSettings;

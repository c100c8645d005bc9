//! The rules, one file per rule or small family. Each takes what it needs (a notebook
//! file, the workspace, the settings) and returns findings at their default severity;
//! `check` applies the settings.

pub mod artifact_paths;
pub mod cell_rules_memo;
pub mod declared_deps;
pub mod environment;
pub mod graph;
pub mod kept_findings;
pub mod large_output;
pub mod names;
pub mod names_memo;
pub mod paired;
pub mod paired_config;
pub mod paired_ipynb;
pub mod project;
pub mod reader;
pub mod syntax;

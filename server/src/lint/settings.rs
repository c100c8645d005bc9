//! Which rules run and at what severity: `[lint]` in `jellycell.toml` (`select`, `ignore`,
//! `[lint.severity]`, and jellycell's own gates) with the command line's `--select` and
//! `--ignore` on top.

use std::collections::BTreeMap;

use super::{Severity, rule_by_id};
use crate::project::{LintConfig, Severity as ConfiguredSeverity};

/// The resolved lint settings of one project run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LintSettings {
    /// Rule ids to run (`None`: all).
    select: Option<Vec<String>>,
    ignore: Vec<String>,
    severity: BTreeMap<String, ConfiguredSeverity>,
    /// jellycell's `[lint] enforce_artifact_paths` (default true).
    pub enforce_artifact_paths: bool,
    /// jellycell's `[lint] enforce_declared_deps` (default false).
    pub enforce_declared_deps: bool,
}

impl LintSettings {
    pub fn from_config(config: &LintConfig) -> Self {
        LintSettings {
            select: config.select.clone(),
            ignore: config.ignore.clone(),
            severity: config.severity.clone(),
            enforce_artifact_paths: config.enforce_artifact_paths,
            enforce_declared_deps: config.enforce_declared_deps,
        }
    }

    /// Applies `--select` (replaces the configured selection) and `--ignore` (adds).
    pub fn with_command_line(mut self, select: Option<Vec<String>>, ignore: &[String]) -> Self {
        if select.is_some() {
            self.select = select;
        }
        self.ignore.extend(ignore.iter().cloned());
        self
    }

    /// The severity `rule` reports at, or `None` when it does not run.
    pub fn severity_of(&self, rule: &str) -> Option<Severity> {
        let selected = self
            .select
            .as_ref()
            .is_none_or(|select| select.iter().any(|id| id == rule || id == "ALL"));
        if !selected || self.ignore.iter().any(|id| id == rule) {
            return None;
        }
        match self.severity.get(rule) {
            Some(ConfiguredSeverity::Off) => None,
            Some(ConfiguredSeverity::Error) => Some(Severity::Error),
            Some(ConfiguredSeverity::Warning) => Some(Severity::Warning),
            Some(ConfiguredSeverity::Info) => Some(Severity::Info),
            None => Some(rule_by_id(rule).map_or(Severity::Error, |known| known.default_severity)),
        }
    }

    /// Rule ids named in `select`, `ignore` or `severity` that no rule has.
    pub fn unknown_rule_ids(&self) -> Vec<String> {
        let named = self
            .select
            .iter()
            .flatten()
            .chain(&self.ignore)
            .chain(self.severity.keys());
        let mut unknown: Vec<String> = named
            .filter(|id| *id != "ALL" && rule_by_id(id).is_none())
            .cloned()
            .collect();
        unknown.sort();
        unknown.dedup();
        unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_come_from_the_registry() {
        let settings = LintSettings::default();
        assert_eq!(settings.severity_of("unknown-dep"), Some(Severity::Error));
        assert_eq!(settings.severity_of("layout"), Some(Severity::Warning));
    }

    #[test]
    fn command_line_select_replaces_and_ignore_adds() {
        let config = LintConfig {
            ignore: vec!["layout".into()],
            ..LintConfig::default()
        };
        let settings = LintSettings::from_config(&config).with_command_line(
            Some(vec!["layout".into(), "dep-cycle".into()]),
            &["dep-cycle".into()],
        );
        assert_eq!(settings.severity_of("layout"), None);
        assert_eq!(settings.severity_of("dep-cycle"), None);
        assert_eq!(settings.severity_of("unknown-dep"), None);
    }

    #[test]
    fn configured_severity_wins_and_off_disables() {
        let mut config = LintConfig::default();
        config
            .severity
            .insert("layout".into(), ConfiguredSeverity::Error);
        config
            .severity
            .insert("unknown-dep".into(), ConfiguredSeverity::Off);
        let settings = LintSettings::from_config(&config);
        assert_eq!(settings.severity_of("layout"), Some(Severity::Error));
        assert_eq!(settings.severity_of("unknown-dep"), None);
    }

    #[test]
    fn names_rule_ids_that_do_not_exist() {
        let settings = LintSettings::default().with_command_line(None, &["layuot".into()]);
        assert_eq!(settings.unknown_rule_ids(), vec!["layuot".to_string()]);
    }
}

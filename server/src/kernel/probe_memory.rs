//! What the probes of kernel environments answered, kept so that a name is asked of an
//! environment once: answers by [`environment_stamp`] (the interpreter's path and
//! modification time, those of its `site-packages` folders, and the root it runs in), so
//! installing a package (which changes `site-packages`) asks again. `--check` keeps one
//! in a file of the project's cache, the language server one in memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::probe::{ProbeAnswers, probe_environment};

/// The answers of every environment asked so far, by stamp.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProbeMemory {
    by_stamp: BTreeMap<String, ProbeAnswers>,
}

impl ProbeMemory {
    /// What is known of the environment stamped `stamp` (possibly nothing yet).
    pub fn known(&self, stamp: &str) -> ProbeAnswers {
        self.by_stamp.get(stamp).cloned().unwrap_or_default()
    }

    /// The asked names `known` has no answer for: `(modules, distributions)`.
    pub fn unknown(
        known: &ProbeAnswers,
        modules: &[String],
        distributions: &[String],
    ) -> (Vec<String>, Vec<String>) {
        let missing = |answers: &BTreeMap<String, bool>, names: &[String]| -> Vec<String> {
            names
                .iter()
                .filter(|name| !answers.contains_key(name.as_str()))
                .cloned()
                .collect()
        };
        (
            missing(&known.modules, modules),
            missing(&known.distributions, distributions),
        )
    }

    /// Adds the answers of a probe of the environment stamped `stamp`.
    pub fn remember(&mut self, stamp: &str, probed: ProbeAnswers) {
        let entry = self.by_stamp.entry(stamp.to_string()).or_default();
        entry.modules.extend(probed.modules);
        entry.distributions.extend(probed.distributions);
    }

    /// The answers about `modules` and `distributions` from `python` (run in `root`),
    /// probing only for names not known yet; `None` when a needed probe fails. The second
    /// value says whether a probe ran (so the memory changed).
    pub fn answers(
        &mut self,
        python: &Path,
        root: &Path,
        modules: &[String],
        distributions: &[String],
    ) -> Option<(ProbeAnswers, bool)> {
        let stamp = environment_stamp(python, root);
        let known = self.known(&stamp);
        let (ask_modules, ask_distributions) = Self::unknown(&known, modules, distributions);
        if ask_modules.is_empty() && ask_distributions.is_empty() {
            return Some((known, false));
        }
        let probed = probe_environment(python, root, &ask_modules, &ask_distributions)?;
        self.remember(&stamp, probed);
        Some((self.known(&stamp), true))
    }
}

/// What tells one state of an environment from another: the interpreter's path and
/// modification time, those of the `site-packages` folders of its environment, and the
/// root the probe runs in (`sys.path` starts there).
pub fn environment_stamp(python: &Path, root: &Path) -> String {
    let modified = |path: &Path| {
        std::fs::metadata(path)
            .and_then(|metadata| metadata.modified())
            .ok()
            .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |since| since.as_nanos() as u64)
    };
    let mut stamp = format!("{}|{}", python.display(), modified(python));
    if let Some(prefix) = python.parent().and_then(Path::parent) {
        let lib = prefix.join("lib");
        let mut folders: Vec<PathBuf> = std::fs::read_dir(&lib)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path().join("site-packages"))
            .filter(|folder| folder.is_dir())
            .collect();
        folders.push(prefix.join("Lib/site-packages"));
        folders.sort();
        for folder in folders.iter().filter(|folder| folder.is_dir()) {
            stamp.push_str(&format!("|{}", modified(folder)));
        }
    }
    format!("{stamp}|{}", root.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(modules: &[(&str, bool)]) -> ProbeAnswers {
        ProbeAnswers {
            modules: modules
                .iter()
                .map(|(name, present)| (name.to_string(), *present))
                .collect(),
            distributions: BTreeMap::new(),
        }
    }

    #[test]
    fn only_names_without_an_answer_are_asked() {
        let mut memory = ProbeMemory::default();
        memory.remember("s", answers(&[("six", false)]));
        memory.remember("s", answers(&[("json", true)]));
        let known = memory.known("s");
        let asked = ["six".to_string(), "json".into(), "pandas".into()];
        assert_eq!(
            ProbeMemory::unknown(&known, &asked, &[]),
            (vec!["pandas".to_string()], vec![])
        );
        assert_eq!(memory.known("other"), ProbeAnswers::default());
    }

    #[test]
    fn the_stamp_moves_when_site_packages_changes() {
        let venv = tempfile::tempdir().unwrap();
        let bin = venv.path().join("bin");
        let site = venv.path().join("lib/python3.11/site-packages");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&site).unwrap();
        std::fs::write(bin.join("python"), "").unwrap();
        let python = bin.join("python");
        let before = environment_stamp(&python, venv.path());
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1);
        std::fs::File::open(&site)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert_ne!(environment_stamp(&python, venv.path()), before);
    }

    #[test]
    fn the_memory_is_stored_as_the_check_cache_wrote_it() {
        let mut memory = ProbeMemory::default();
        memory.remember("s", answers(&[("six", false)]));
        let text = serde_json::to_string(&memory).unwrap();
        assert_eq!(
            text,
            r#"{"s":{"modules":{"six":false},"distributions":{}}}"#
        );
        let back: ProbeMemory = serde_json::from_str(&text).unwrap();
        assert_eq!(back, memory);
    }
}

//! What the probes of kernel environments answered, kept so that a check whose
//! environment did not change starts no process: per interpreter (its path, the root it
//! runs in, and the environment variables Python and the lookup read), the module and
//! distribution answers and whether it imports ipykernel, with their [`Witnesses`] — the
//! interpreter and `sys.executable`, every `sys.path` folder, the user `site-packages`,
//! `pyvenv.cfg`, and for a version manager's shim its version files — so installing a
//! package, rebuilding a venv or pinning another Python asks again; and the environment
//! `poetry env info` named for a project root. `--check` keeps one in a file of the
//! project's cache ([`ProbeMemory::from_json`]), the language server one in memory.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::environment::{poetry_env_python, venv_python};
use super::kernelspec::find_program;
use super::probe::{ProbeAnswers, ProbeReport, probe_environment};
use super::witness::{Asked, Witnesses};

/// Bumped when what is remembered changes meaning: another version is forgotten.
const VERSION: u32 = 2;

/// The most interpreters (or poetry roots) remembered: each `PATH` or `PYTHONPATH` an
/// editor or a shell had gets its own entry; the one asked longest ago goes first.
const MOST_REMEMBERED: usize = 32;

/// The environment variables that can change which interpreter runs or what it imports
/// (prefixes).
const READ_VARIABLES: [&str; 15] = [
    "PATH",
    "HOME",
    "VIRTUAL_ENV",
    "CONDA_",
    "PYTHON",
    "PYENV",
    "POETRY_",
    "UV_",
    "XDG_",
    "JUPYTER_",
    "ASDF_",
    "MISE_",
    "LD_LIBRARY_PATH",
    "LD_PRELOAD",
    "DYLD_",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Remembered<T> {
    witnesses: Witnesses,
    value: T,
}

/// The answers of every environment asked so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeMemory {
    /// 0 in what the first version wrote (answers by stamp, no version).
    #[serde(default)]
    version: u32,
    #[serde(default)]
    environments: BTreeMap<String, Remembered<ProbeAnswers>>,
    /// The interpreter of a project's poetry environment, by root.
    #[serde(default)]
    poetry: BTreeMap<String, Remembered<PathBuf>>,
    /// Whether anything was asked since [`from_json`](Self::from_json).
    #[serde(skip)]
    changed: bool,
    /// The entries whose witnesses were found to hold since [`look_again`](Self::look_again)
    /// (one check states them once, not once per notebook).
    #[serde(skip)]
    held: BTreeSet<String>,
    /// Answers that cannot be witnessed (a launcher's), trusted until `look_again`.
    #[serde(skip)]
    unwitnessed: BTreeMap<String, ProbeAnswers>,
}

impl Default for ProbeMemory {
    fn default() -> ProbeMemory {
        ProbeMemory {
            version: VERSION,
            environments: BTreeMap::new(),
            poetry: BTreeMap::new(),
            changed: false,
            held: BTreeSet::new(),
            unwitnessed: BTreeMap::new(),
        }
    }
}

impl ProbeMemory {
    /// Its file in the project's check cache folder.
    pub const FILE: &str = "environments.json";

    /// The memory a cache file holds; empty for another version, an error (to say in a
    /// debug line, then carry on with an empty memory, which the next probe rewrites)
    /// when it is damaged.
    pub fn from_json(bytes: &[u8]) -> Result<ProbeMemory, String> {
        match serde_json::from_slice::<ProbeMemory>(bytes) {
            Ok(memory) if memory.version == VERSION => Ok(memory),
            Ok(_) => Ok(ProbeMemory::default()),
            Err(error) => Err(error.to_string()),
        }
    }

    /// The memory in the file at `path`; empty when there is none (see `from_json`).
    pub fn read(path: &Path) -> Result<ProbeMemory, String> {
        std::fs::read(path).map_or_else(
            |_| Ok(ProbeMemory::default()),
            |bytes| Self::from_json(&bytes).map_err(|error| format!("{}: {error}", path.display())),
        )
    }

    /// Writes it to `path` atomically (a cache that cannot be written only costs time),
    /// then [`changed`](Self::changed) is false until the next probe.
    pub fn write(&mut self, path: &Path) {
        let _ = crate::cache::blobs::write_atomically(path, self.to_json().as_bytes());
        self.changed = false;
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The environments may have changed since they were last looked at: the next
    /// question states its witnesses again (the language server calls it before each
    /// probe; a check looks once).
    pub fn look_again(&mut self) {
        self.held.clear();
        self.unwitnessed.clear();
    }

    /// Whether a probe ran since it was read or written (so it is worth writing back).
    pub fn changed(&self) -> bool {
        self.changed
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

    /// The answers about `modules` and `distributions` from `python` (run in `root`),
    /// probing only for names not known of its current state; `None` when a needed probe
    /// fails.
    pub fn answers(
        &mut self,
        python: &Path,
        root: &Path,
        modules: &[String],
        distributions: &[String],
    ) -> Option<ProbeAnswers> {
        self.ask(python, root, modules, distributions, false)
    }

    /// Whether `python` (run in `root`) can import ipykernel; false when it cannot run.
    pub fn imports_ipykernel(&mut self, python: &Path, root: &Path) -> bool {
        self.ask(python, root, &[], &[], true)
            .and_then(|answers| answers.imports_ipykernel)
            .unwrap_or(false)
    }

    fn ask(
        &mut self,
        python: &Path,
        root: &Path,
        modules: &[String],
        distributions: &[String],
        ipykernel: bool,
    ) -> Option<ProbeAnswers> {
        let key = format!(
            "{}|{}|{}",
            python.display(),
            root.display(),
            variables_digest()
        );
        let held = &mut self.held;
        let remembered = self
            .environments
            .get(&key)
            .filter(|entry| held.contains(&key) || entry.witnesses.hold())
            .map(|entry| entry.value.clone());
        if remembered.is_some() {
            held.insert(key.clone());
        }
        let known = remembered
            .or_else(|| self.unwitnessed.get(&key).cloned())
            .unwrap_or_default();
        let (ask_modules, ask_distributions) = Self::unknown(&known, modules, distributions);
        let ask_ipykernel = ipykernel && known.imports_ipykernel.is_none();
        if ask_modules.is_empty() && ask_distributions.is_empty() && !ask_ipykernel {
            return Some(known);
        }
        let asked = Asked::now();
        let report = probe_environment(
            python,
            root,
            &ask_modules,
            &ask_distributions,
            ask_ipykernel,
        )?;
        self.changed = true;
        let witnesses = witness_paths(python, root, &report);
        let mut answers = known;
        answers.extend(report.answers);
        match witnesses {
            Some(paths) => {
                let witnesses = Witnesses::take(asked, paths, &report.listings);
                let value = answers.clone();
                // Just asked: true for the rest of this look, settled or not.
                self.held.insert(key.clone());
                self.environments
                    .insert(key, Remembered { witnesses, value });
                forget_oldest(&mut self.environments);
            }
            None => {
                self.environments.remove(&key);
                self.unwitnessed.insert(key, answers.clone());
            }
        }
        Some(answers)
    }

    /// The interpreter of `root`'s poetry environment when it has a `poetry.lock` and
    /// poetry is on `PATH`; `poetry env info` runs only when no remembered answer holds
    /// (a project without one yet asks every time: `poetry install` makes it elsewhere).
    pub fn poetry_python(&mut self, root: &Path) -> Option<PathBuf> {
        if !root.join("poetry.lock").is_file() {
            return None;
        }
        let path: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect())
            .unwrap_or_default();
        let poetry = find_program(
            if cfg!(windows) {
                "poetry.exe"
            } else {
                "poetry"
            },
            &path,
        )?;
        let key = format!("poetry|{}|{}", root.display(), variables_digest());
        if let Some(entry) = self.poetry.get(&key)
            && (self.held.contains(&key) || entry.witnesses.hold())
        {
            self.held.insert(key);
            return Some(entry.value.clone());
        }
        let asked = Asked::now();
        let python = poetry_env_python(root, &poetry)?;
        self.changed = true;
        let venv = python
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf);
        let mut paths = vec![
            poetry,
            root.join("pyproject.toml"),
            root.join("poetry.lock"),
            root.join("poetry.toml"),
            python.clone(),
        ];
        if let Some(venv) = venv {
            paths.push(venv.join("pyvenv.cfg"));
            // `poetry env use` makes another environment beside it, or picks one
            // (in `envs.toml`).
            if let Some(environments) = venv.parent() {
                paths.push(environments.to_path_buf());
                paths.push(environments.join("envs.toml"));
            }
            debug_assert_eq!(venv_python(&venv), python);
        }
        let witnesses = Witnesses::take(asked, paths, &BTreeMap::new());
        let value = python.clone();
        self.held.insert(key.clone());
        self.poetry.insert(key, Remembered { witnesses, value });
        forget_oldest(&mut self.poetry);
        Some(python)
    }
}

fn forget_oldest<T>(entries: &mut BTreeMap<String, Remembered<T>>) {
    while entries.len() > MOST_REMEMBERED {
        let oldest = entries
            .iter()
            .min_by_key(|(_, entry)| entry.witnesses.asked_at())
            .map(|(key, _)| key.clone());
        match oldest {
            Some(key) => entries.remove(&key),
            None => break,
        };
    }
}

/// What the answers of a probe of `python` were read from; `None` when they cannot be
/// told (a launcher that starts another interpreter, other than a version manager's
/// shim, may pick it by anything: it is asked every time).
fn witness_paths(python: &Path, root: &Path, report: &ProbeReport) -> Option<Vec<PathBuf>> {
    let mut paths = vec![python.to_path_buf(), report.executable.clone()];
    // A venv's `pyvenv.cfg` sits beside its `bin/` (or in it).
    for folder in python.ancestors().skip(1).take(2) {
        paths.push(folder.join("pyvenv.cfg"));
    }
    paths.extend(report.sys_path.iter().cloned());
    paths.extend(report.user_site.iter().cloned());
    let real = |path: &Path| std::fs::canonicalize(path).ok();
    let launcher = real(python).is_none() || real(python) != real(&report.executable);
    if launcher {
        // pyenv, asdf and mise start the Python their version files name: from the folder
        // the kernel starts in (the root) up, then the global one.
        let shims = python.parent()?;
        if shims.file_name()? != "shims" {
            return None;
        }
        for folder in root.ancestors() {
            for name in [
                ".python-version",
                ".tool-versions",
                "mise.toml",
                ".mise.toml",
            ] {
                paths.push(folder.join(name));
            }
        }
        paths.extend(shims.parent().map(|manager| manager.join("version")));
        if let Some(home) = std::env::var_os("HOME") {
            let home = PathBuf::from(home);
            paths.push(home.join(".tool-versions"));
            paths.push(home.join(".config/mise/config.toml"));
        }
    }
    Some(paths)
}

/// A digest of the environment variables of [`READ_VARIABLES`], as this process has them
/// (read once: nothing here sets them).
fn variables_digest() -> &'static str {
    static DIGEST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DIGEST.get_or_init(read_variables_digest)
}

fn read_variables_digest() -> String {
    let mut read: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(name, value)| {
            let name = name.into_string().ok()?;
            READ_VARIABLES
                .iter()
                .any(|prefix| name.starts_with(prefix))
                .then(|| (name, value.to_string_lossy().into_owned()))
        })
        .collect();
    read.sort();
    let mut hasher = blake3::Hasher::new();
    for (name, value) in &read {
        for part in [name, value] {
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
    }
    hasher.finalize().to_hex()[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_without_an_answer_are_asked() {
        let mut known = ProbeAnswers::default();
        known.modules.insert("six".into(), false);
        known.modules.insert("json".into(), true);
        let asked = ["six".to_string(), "json".into(), "pandas".into()];
        assert_eq!(
            ProbeMemory::unknown(&known, &asked, &[]),
            (vec!["pandas".to_string()], vec![])
        );
    }

    #[test]
    fn a_damaged_or_older_memory_is_forgotten() {
        assert!(ProbeMemory::from_json(b"{not json").is_err());
        // What the first version wrote: answers by stamp, no version.
        let older = br#"{"/p/python|0|/p":{"modules":{"six":false},"distributions":{}}}"#;
        assert_eq!(ProbeMemory::from_json(older), Ok(ProbeMemory::default()));
        let memory = ProbeMemory::default();
        assert_eq!(
            ProbeMemory::from_json(memory.to_json().as_bytes()),
            Ok(memory)
        );
    }

    #[test]
    fn the_entry_asked_longest_ago_goes_first() {
        let mut entries = BTreeMap::new();
        for index in 0..=MOST_REMEMBERED {
            let witnesses = Witnesses::take(Asked::now(), [], &BTreeMap::new());
            // Keys sort against the order asked: the oldest is found by time.
            let key = format!("{}", MOST_REMEMBERED - index);
            entries.insert(
                key,
                Remembered {
                    witnesses,
                    value: index,
                },
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        forget_oldest(&mut entries);
        assert_eq!(entries.len(), MOST_REMEMBERED);
        assert!(
            !entries.values().any(|entry| entry.value == 0),
            "{entries:?}"
        );
    }

    #[test]
    fn a_launcher_outside_a_shims_folder_is_not_remembered() {
        let folder = tempfile::tempdir().unwrap();
        let report = |executable: &Path| ProbeReport {
            executable: executable.to_path_buf(),
            ..ProbeReport::default()
        };
        let (wrapper, real) = (folder.path().join("python"), folder.path().join("real"));
        std::fs::write(&wrapper, "").unwrap();
        std::fs::write(&real, "").unwrap();
        assert!(witness_paths(&wrapper, folder.path(), &report(&wrapper)).is_some());
        assert!(witness_paths(&wrapper, folder.path(), &report(&real)).is_none());
        let shims = folder.path().join("shims");
        std::fs::create_dir(&shims).unwrap();
        std::fs::write(shims.join("python3"), "").unwrap();
        let paths = witness_paths(&shims.join("python3"), folder.path(), &report(&real)).unwrap();
        assert!(paths.contains(&folder.path().join(".python-version")));
        assert!(paths.contains(&folder.path().join("version")), "{paths:?}");
    }
}

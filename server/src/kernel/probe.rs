//! One question to the Python that would run a notebook's kernel: which of these modules
//! can it import (`importlib.util.find_spec`) and which of these distributions has it
//! installed (`importlib.metadata`), and can it import jellycell. Asked from the project
//! root, as the kernel runs there. The environment is found as a run would find it
//! ([`EnvironmentChoice`]), without building a pep723 environment or starting anything.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use super::environment::{EnvironmentChoice, EnvironmentKind};
use super::kernelspec::find_program;
use super::{Environment, ProbeMemory, SpecSearch};

const PROBE: &str = r#"
import importlib.util, importlib.metadata, json, os, site, sys
asked = json.loads(sys.stdin.read())
# What the answers are read from, before they are: the folders' entries (hidden ones,
# which no module name starts with, left out), so a later change is seen.
searched = [os.path.abspath(entry) for entry in sys.path]
user_site = site.getusersitepackages() if site.ENABLE_USER_SITE else None
def entries(folder):
    try:
        names = os.listdir(folder)
    except OSError:
        return None
    return [name for name in names if not name.startswith(".") and utf8(name)]
def utf8(name):
    try:
        return bool(name.encode("utf-8"))
    except UnicodeEncodeError:
        return False
listings = {folder: entries(folder) for folder in searched + [user_site] if folder}
def importable(name):
    try:
        return importlib.util.find_spec(name) is not None
    except Exception:
        return False
def installed(name):
    try:
        importlib.metadata.distribution(name)
        return True
    except Exception:
        return False
report = {
    "modules": {name: importable(name) for name in asked["modules"]},
    "distributions": {name: installed(name) for name in asked["distributions"]},
    "sys_path": searched,
    "executable": sys.executable,
    "user_site": user_site,
    "listings": {folder: names for folder, names in listings.items() if names is not None},
}
if asked.get("ipykernel"):
    import contextlib, io
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import ipykernel
        report["imports_ipykernel"] = True
    except BaseException:
        report["imports_ipykernel"] = False
print(json.dumps(report))
"#;

/// The answers of one probe: name → whether it is there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeAnswers {
    #[serde(default)]
    pub modules: BTreeMap<String, bool>,
    #[serde(default)]
    pub distributions: BTreeMap<String, bool>,
    /// Whether `import ipykernel` works (what makes the `python3` on `PATH` a kernel),
    /// when asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imports_ipykernel: Option<bool>,
}

impl ProbeAnswers {
    /// Adds the answers of a later probe of the same environment.
    pub fn extend(&mut self, later: ProbeAnswers) {
        self.modules.extend(later.modules);
        self.distributions.extend(later.distributions);
        if later.imports_ipykernel.is_some() {
            self.imports_ipykernel = later.imports_ipykernel;
        }
    }
}

/// A probe's answers and what they were read from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ProbeReport {
    #[serde(flatten)]
    pub answers: ProbeAnswers,
    /// `sys.path`, absolute (the project root for its first, empty, entry).
    #[serde(default)]
    pub sys_path: Vec<PathBuf>,
    /// `sys.executable`: the interpreter that answered (a launcher's, such as a pyenv
    /// shim's, is another file).
    #[serde(default)]
    pub executable: PathBuf,
    /// The user's `site-packages`, which `pip install --user` creates, when enabled.
    #[serde(default)]
    pub user_site: Option<PathBuf>,
    /// The entries of each of those folders, read before the answers (hidden ones left out).
    #[serde(default)]
    pub listings: BTreeMap<PathBuf, Vec<String>>,
}

/// Asks `python` (run in `root`) about `modules` and `distributions`, and whether it can
/// import ipykernel when `ipykernel` says so; `None` when it cannot be run or answers
/// nonsense.
pub fn probe_environment(
    python: &Path,
    root: &Path,
    modules: &[String],
    distributions: &[String],
    ipykernel: bool,
) -> Option<ProbeReport> {
    let mut child = Command::new(python)
        .args(["-c", PROBE])
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let asked = serde_json::json!({
        "modules": modules,
        "distributions": distributions,
        "ipykernel": ipykernel,
    });
    child
        .stdin
        .take()?
        .write_all(asked.to_string().as_bytes())
        .ok()?;
    let output = child.wait_with_output().ok()?;
    if !output.status.success() {
        return None;
    }
    serde_json::from_slice(&output.stdout).ok()
}

impl EnvironmentChoice {
    /// The environment a run would use for `kernel_name`, found without building or
    /// starting anything but what `memory` cannot answer (`poetry env info`, and whether
    /// the `python3` on `PATH` imports ipykernel when no kernelspec is installed): `None`
    /// when there is none yet (an unbuilt pep723 environment, no kernelspec) or its
    /// interpreter cannot be told.
    pub fn environment_for_hints(
        &self,
        kernel_name: &str,
        search: &SpecSearch,
        memory: &mut ProbeMemory,
    ) -> Option<Environment> {
        let explicit = self.notebook_python.is_some() || self.configured.is_some();
        let chosen = match &self.pep723 {
            Some(request) if !explicit && kernel_name == "python3" => {
                Some((EnvironmentKind::Pep723, request.existing()?))
            }
            _ => self.interpreter_with(kernel_name, &mut |root| memory.poetry_python(root)),
        };
        let found = |kind, python: PathBuf, kernel: Option<String>| Environment {
            kind,
            python: python.display().to_string(),
            kernel,
            built: None,
        };
        if let Some((kind, python)) = chosen {
            return Some(found(kind, python, None));
        }
        let path: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect())
            .unwrap_or_default();
        let spec = match search.find_installed(kernel_name) {
            Some(Ok(spec)) => spec,
            // No kernelspec: as `SpecSearch::find`, the `python3` on PATH when it imports
            // ipykernel; else the hints are about the python3 a user would fix.
            None if kernel_name == "python3" => {
                let python = find_program("python3", &search.path)?;
                let kind = if memory.imports_ipykernel(&python, &self.root) {
                    EnvironmentKind::Kernelspec
                } else {
                    EnvironmentKind::Path
                };
                let kernel = (kind == EnvironmentKind::Kernelspec).then(|| "python3".to_string());
                return Some(found(kind, python, kernel));
            }
            Some(Err(_)) if kernel_name == "python3" => {
                let python = find_program("python3", &path)?;
                return Some(found(EnvironmentKind::Path, python, None));
            }
            _ => return None,
        };
        let first = PathBuf::from(spec.argv.first()?);
        let python = if first.is_absolute() {
            first
        } else {
            find_program(&first.to_string_lossy(), &path)?
        };
        Some(found(
            EnvironmentKind::Kernelspec,
            python,
            Some(spec.name.clone()),
        ))
    }
}

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
use super::{Environment, SpecSearch};

const PROBE: &str = r#"
import importlib.util, importlib.metadata, json, sys
asked = json.loads(sys.stdin.read())
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
print(json.dumps({
    "modules": {name: importable(name) for name in asked["modules"]},
    "distributions": {name: installed(name) for name in asked["distributions"]},
}))
"#;

/// The answers of one probe: name → whether it is there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeAnswers {
    #[serde(default)]
    pub modules: BTreeMap<String, bool>,
    #[serde(default)]
    pub distributions: BTreeMap<String, bool>,
}

/// Asks `python` (run in `root`) about `modules` and `distributions`; `None` when it
/// cannot be run or answers nonsense.
pub fn probe_environment(
    python: &Path,
    root: &Path,
    modules: &[String],
    distributions: &[String],
) -> Option<ProbeAnswers> {
    let mut child = Command::new(python)
        .args(["-c", PROBE])
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let asked = serde_json::json!({"modules": modules, "distributions": distributions});
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
    /// starting anything: `None` when there is none yet (an unbuilt pep723 environment,
    /// no kernelspec) or its interpreter cannot be told.
    pub fn environment_for_hints(
        &self,
        kernel_name: &str,
        search: &SpecSearch,
    ) -> Option<Environment> {
        let explicit = self.notebook_python.is_some() || self.configured.is_some();
        let chosen = match &self.pep723 {
            Some(request) if !explicit && kernel_name == "python3" => {
                Some((EnvironmentKind::Pep723, request.existing()?))
            }
            _ => self.interpreter(kernel_name),
        };
        if let Some((kind, python)) = chosen {
            return Some(Environment {
                kind,
                python: python.display().to_string(),
                kernel: None,
                built: None,
            });
        }
        let path: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect())
            .unwrap_or_default();
        let spec = match search.find(kernel_name) {
            Ok(spec) => spec,
            // No kernel to run it yet: the hints are about the python3 a user would fix.
            Err(_) if kernel_name == "python3" => {
                return Some(Environment {
                    kind: EnvironmentKind::Path,
                    python: find_program("python3", &path)?.display().to_string(),
                    kernel: None,
                    built: None,
                });
            }
            Err(_) => return None,
        };
        let first = PathBuf::from(spec.argv.first()?);
        let python = if first.is_absolute() {
            first
        } else {
            find_program(&first.to_string_lossy(), &path)?
        };
        Some(Environment {
            kind: EnvironmentKind::Kernelspec,
            python: python.display().to_string(),
            kernel: Some(spec.name.clone()),
            built: None,
        })
    }
}

//! Which Python runs a notebook's kernel, first match wins: the notebook's PEP-723
//! `[tool.jellycell] python`, `[run] python` in the config, the notebook's own uv-built
//! environment when `[run] env = "pep723"` opts in (`pep723_env`), the project's virtual
//! environment (`.venv/` or `venv/` at the root, uv's `UV_PROJECT_ENVIRONMENT`, poetry's
//! environment when the project has a `poetry.lock`), the activated one (`VIRTUAL_ENV`),
//! else the kernelspec found by name ([`SpecSearch`]).
//!
//! A chosen interpreter runs `python -m ipykernel_launcher -f {connection_file}`; it is
//! asked once whether it can import ipykernel, so a missing one is reported with the
//! command that installs it rather than as a kernel that dies while starting.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

use super::pep723_env::Pep723Request;
use super::{KernelError, KernelSpec, SpecSearch};

/// Where the kernel's Python came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentKind {
    /// `[tool.jellycell] python` in the notebook's PEP-723 block.
    Notebook,
    /// `[run] python` in the config.
    Config,
    /// Built by uv from the notebook's PEP-723 dependencies (`[run] env = "pep723"`).
    Pep723,
    /// `.venv/` or `venv/` at the project root.
    Venv,
    /// The uv (`UV_PROJECT_ENVIRONMENT`) or poetry project environment.
    Project,
    /// The `VIRTUAL_ENV` of the process that runs us.
    VirtualEnv,
    /// A kernelspec found by name, the way Jupyter finds it.
    Kernelspec,
    /// The `python3` on `PATH` with no kernel yet (what the environment hints ask when
    /// nothing else is there; a run then says how to get a kernel).
    Path,
    /// A kernel on a Jupyter server (`python` holds the server's base URL).
    Remote,
}

/// The environment a kernel runs in, as `run --json` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Environment {
    pub kind: EnvironmentKind,
    /// The interpreter (for a kernelspec: the first word of its `argv`).
    pub python: String,
    /// The kernelspec's name, for `kernelspec`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// For `pep723`: whether this start built the environment (else it was reused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub built: Option<bool>,
}

impl Environment {
    /// A short description for a summary line: `.venv (/p/.venv/bin/python)`.
    pub fn describe(&self) -> String {
        match self.kind {
            EnvironmentKind::Notebook => format!("[tool.jellycell] python {}", self.python),
            EnvironmentKind::Config => format!("[run] python {}", self.python),
            EnvironmentKind::Pep723 => format!(
                "pep723 env {} ({})",
                self.python,
                if self.built == Some(true) {
                    "built"
                } else {
                    "reused"
                }
            ),
            EnvironmentKind::Project => format!("project environment {}", self.python),
            EnvironmentKind::Path => format!("python3 on PATH {}", self.python),
            EnvironmentKind::Venv => format!("project venv {}", self.python),
            EnvironmentKind::VirtualEnv => format!("VIRTUAL_ENV {}", self.python),
            EnvironmentKind::Kernelspec => format!(
                "kernelspec {} ({})",
                self.kernel.as_deref().unwrap_or_default(),
                self.python
            ),
            EnvironmentKind::Remote => format!(
                "remote {} on {}",
                self.kernel.as_deref().unwrap_or_default(),
                self.python
            ),
        }
    }
}

/// What a notebook says about its environment (its PEP-723 block).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NotebookEnvironment {
    /// `[tool.jellycell] python`, as written (relative to the project root or absolute).
    pub python: Option<String>,
    /// The block's `dependencies`.
    pub dependencies: Vec<String>,
    /// The block's `requires-python`.
    pub requires_python: Option<String>,
}

/// What decides the environment, read from the project and the process.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EnvironmentChoice {
    /// The project root (where `.venv/` is looked for).
    pub root: PathBuf,
    /// `[tool.jellycell] python` of the notebook, as written.
    pub notebook_python: Option<String>,
    /// `[run] python`, as written (relative to the root or absolute).
    pub configured: Option<String>,
    /// The notebook's uv-built environment, when `[run] env = "pep723"`.
    pub pep723: Option<Pep723Request>,
    /// `VIRTUAL_ENV`, when set and not empty.
    pub virtual_env: Option<OsString>,
    /// `UV_PROJECT_ENVIRONMENT`, when set and not empty.
    pub uv_project_environment: Option<OsString>,
}

impl EnvironmentChoice {
    /// The choice for a project at `root`, with this process's `VIRTUAL_ENV`.
    pub fn for_project(root: &Path, configured: Option<&str>) -> EnvironmentChoice {
        let set = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        EnvironmentChoice {
            root: root.to_path_buf(),
            configured: configured.map(str::to_string),
            virtual_env: set("VIRTUAL_ENV"),
            uv_project_environment: set("UV_PROJECT_ENVIRONMENT"),
            ..EnvironmentChoice::default()
        }
    }

    /// With what a notebook declares: its `python` override, and its dependencies for
    /// `[run] env = "pep723"` (`pep723_envs`: the folder of the built environments).
    pub fn with_notebook(
        mut self,
        notebook: &NotebookEnvironment,
        pep723_envs: Option<PathBuf>,
    ) -> EnvironmentChoice {
        self.notebook_python = notebook.python.clone();
        self.pep723 = pep723_envs.map(|envs_dir| Pep723Request {
            dependencies: notebook.dependencies.clone(),
            requires_python: notebook.requires_python.clone(),
            envs_dir,
        });
        self
    }

    /// The interpreter that wins, before any kernelspec, if one does. A virtual environment
    /// only applies to the Python kernel (`kernel_name` "python3"); a `python` setting
    /// always. The pep723 environment is not here: it is built in [`resolve`](Self::resolve).
    pub fn interpreter(&self, kernel_name: &str) -> Option<(EnvironmentKind, PathBuf)> {
        self.interpreter_with(kernel_name, &mut poetry_python)
    }

    /// [`interpreter`](Self::interpreter) with `poetry` finding the poetry environment's
    /// interpreter of a project root that has a `poetry.lock`.
    pub(super) fn interpreter_with(
        &self,
        kernel_name: &str,
        poetry: &mut dyn FnMut(&Path) -> Option<PathBuf>,
    ) -> Option<(EnvironmentKind, PathBuf)> {
        if let Some(python) = &self.notebook_python {
            return Some((EnvironmentKind::Notebook, self.root.join(python)));
        }
        if let Some(configured) = &self.configured {
            return Some((EnvironmentKind::Config, self.root.join(configured)));
        }
        if kernel_name != "python3" {
            return None;
        }
        for folder in [".venv", "venv"] {
            let python = venv_python(&self.root.join(folder));
            if python.is_file() {
                return Some((EnvironmentKind::Venv, python));
            }
        }
        if let Some(folder) = &self.uv_project_environment {
            let python = venv_python(&self.root.join(folder));
            if python.is_file() {
                return Some((EnvironmentKind::Project, python));
            }
        }
        if let Some(python) = poetry(&self.root) {
            return Some((EnvironmentKind::Project, python));
        }
        let python = venv_python(Path::new(self.virtual_env.as_ref()?));
        python
            .is_file()
            .then_some((EnvironmentKind::VirtualEnv, python))
    }

    /// The kernel to launch for `kernel_name` and the environment it runs in. Runs an
    /// interpreter once (the ipykernel check), so call it off the async executor.
    pub fn resolve(
        &self,
        kernel_name: &str,
        search: &SpecSearch,
    ) -> Result<(KernelSpec, Environment), KernelError> {
        let explicit = self.notebook_python.is_some() || self.configured.is_some();
        let mut built = None;
        let chosen = match &self.pep723 {
            Some(request) if !explicit && kernel_name == "python3" => {
                let path: Vec<PathBuf> = std::env::var_os("PATH")
                    .map(|path| std::env::split_paths(&path).collect())
                    .unwrap_or_default();
                let environment = request.ensure(&path)?;
                built = Some(environment.built);
                Some((EnvironmentKind::Pep723, environment.python))
            }
            _ => self.interpreter(kernel_name),
        };
        if let Some((kind, python)) = chosen {
            check_ipykernel(kind, &python)?;
            let mut spec = KernelSpec::ipykernel(&python);
            if let Some(venv) = python.parent().and_then(Path::parent)
                && venv.join("pyvenv.cfg").is_file()
            {
                // As if activated: `!pip` and subprocesses use the same environment.
                spec.env
                    .insert("VIRTUAL_ENV".into(), venv.display().to_string());
                let bin = venv.join("bin");
                let path = std::env::var_os("PATH").unwrap_or_default();
                let joined =
                    std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path)))
                        .map(|joined| joined.to_string_lossy().into_owned());
                if let Ok(joined) = joined {
                    spec.env.insert("PATH".into(), joined);
                }
            }
            let environment = Environment {
                kind,
                python: python.display().to_string(),
                kernel: None,
                built,
            };
            return Ok((spec, environment));
        }
        let spec = search.find(kernel_name)?;
        let environment = Environment {
            kind: EnvironmentKind::Kernelspec,
            python: spec.argv.first().cloned().unwrap_or_default(),
            kernel: Some(spec.name.clone()),
            built: None,
        };
        Ok((spec, environment))
    }
}

/// poetry's environment for a project with a `poetry.lock`, asked of `poetry env info
/// --path` when poetry is on PATH.
fn poetry_python(root: &Path) -> Option<PathBuf> {
    if !root.join("poetry.lock").is_file() {
        return None;
    }
    poetry_env_python(root, Path::new("poetry"))
}

/// The interpreter of the environment `poetry` (the program) says is `root`'s.
pub(super) fn poetry_env_python(root: &Path, poetry: &Path) -> Option<PathBuf> {
    let output = Command::new(poetry)
        .args(["env", "info", "--path"])
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let folder = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let python = venv_python(Path::new(&folder));
    (output.status.success() && !folder.is_empty() && python.is_file()).then_some(python)
}

pub(super) fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// Fails with the install command when `python` cannot import ipykernel.
fn check_ipykernel(kind: EnvironmentKind, python: &Path) -> Result<(), KernelError> {
    let status = Command::new(python)
        .args(["-c", "import ipykernel"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let reason = match status {
        Ok(status) if status.success() => return Ok(()),
        Ok(_) => "cannot import ipykernel".to_string(),
        Err(error) => format!("cannot be run: {error}"),
    };
    let source = match kind {
        EnvironmentKind::Notebook => "set by [tool.jellycell] python in the notebook",
        EnvironmentKind::Config => "set by [run] python in jellycell.toml",
        EnvironmentKind::Pep723 => "the notebook's pep723 environment",
        EnvironmentKind::Project => "the project's uv or poetry environment",
        EnvironmentKind::Venv => "the project's virtual environment",
        EnvironmentKind::VirtualEnv => "the activated VIRTUAL_ENV",
        EnvironmentKind::Kernelspec => "a kernelspec",
        EnvironmentKind::Path => "the python3 on PATH",
        EnvironmentKind::Remote => "a remote server",
    };
    Err(KernelError::EnvironmentUnusable {
        python: python.to_path_buf(),
        source_name: source,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn venv(root: &Path, folder: &str) -> PathBuf {
        let bin = root.join(folder).join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("python"), "").unwrap();
        bin.join("python")
    }

    #[test]
    fn config_wins_then_dot_venv_then_venv_then_virtual_env() {
        let root = tempfile::tempdir().unwrap();
        let active = tempfile::tempdir().unwrap();
        let active_python = venv(active.path(), "env");
        let mut choice = EnvironmentChoice {
            root: root.path().into(),
            virtual_env: Some(active.path().join("env").into()),
            ..EnvironmentChoice::default()
        };
        assert_eq!(
            choice.interpreter("python3"),
            Some((EnvironmentKind::VirtualEnv, active_python))
        );
        let plain = venv(root.path(), "venv");
        assert_eq!(
            choice.interpreter("python3"),
            Some((EnvironmentKind::Venv, plain))
        );
        let dotted = venv(root.path(), ".venv");
        assert_eq!(
            choice.interpreter("python3"),
            Some((EnvironmentKind::Venv, dotted))
        );
        assert_eq!(choice.interpreter("ir"), None, "a venv is for Python only");
        choice.configured = Some("py/bin/python3".into());
        assert_eq!(
            choice.interpreter("ir"),
            Some((EnvironmentKind::Config, root.path().join("py/bin/python3")))
        );
        choice.notebook_python = Some("nb/bin/python".into());
        assert_eq!(
            choice.interpreter("python3"),
            Some((EnvironmentKind::Notebook, root.path().join("nb/bin/python"))),
            "the notebook's [tool.jellycell] python wins over [run] python"
        );
    }

    #[test]
    fn nothing_found_leaves_the_kernelspec() {
        let root = tempfile::tempdir().unwrap();
        let choice = EnvironmentChoice {
            root: root.path().into(),
            virtual_env: Some(root.path().join("missing").into()),
            ..EnvironmentChoice::default()
        };
        assert_eq!(choice.interpreter("python3"), None);
    }

    #[test]
    fn an_interpreter_that_cannot_run_names_the_fix() {
        let root = tempfile::tempdir().unwrap();
        let choice = EnvironmentChoice {
            root: root.path().into(),
            configured: Some("nowhere/python".into()),
            ..EnvironmentChoice::default()
        };
        let error = choice
            .resolve("python3", &SpecSearch::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("nowhere/python"), "{error}");
        assert!(error.contains("-m pip install ipykernel"), "{error}");
    }
}

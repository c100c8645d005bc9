//! `[run] env = "pep723"` (marimo's `--sandbox`): a notebook's own environment, built by uv
//! from its PEP-723 `dependencies` plus ipykernel, in the project's cache folder at
//! `envs/<environment hash>/`. Built once and reused while the dependency list (and
//! `requires-python`) stays the same; a changed list gets a new one. A build goes to a
//! temporary folder renamed into place only when uv succeeded, so an interrupted build is
//! never taken for a complete one.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::KernelError;
use super::kernelspec::find_program;
use crate::cache::key::env_hash;

/// Written last into a complete environment: the dependency list it was built from.
const COMPLETE_MARKER: &str = "jellycell-env.json";

/// What a notebook's PEP-723 environment is built from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pep723Request {
    /// The `dependencies` of the notebook's PEP-723 block, as written.
    pub dependencies: Vec<String>,
    /// Its `requires-python`, handed to `uv venv --python`.
    pub requires_python: Option<String>,
    /// Where the environments live (`<cache>/envs`).
    pub envs_dir: PathBuf,
}

/// A ready environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pep723Environment {
    pub python: PathBuf,
    pub dir: PathBuf,
    /// Whether this call built it (else it was reused).
    pub built: bool,
}

impl Pep723Request {
    /// The folder name: the environment hash of the dependencies (with `requires-python`).
    pub fn hash(&self) -> String {
        let mut inputs = self.dependencies.clone();
        if let Some(requires) = &self.requires_python {
            inputs.push(format!("requires-python {requires}"));
        }
        env_hash(None, &inputs)[..16].to_string()
    }

    /// The interpreter of the environment when it is already built.
    pub fn existing(&self) -> Option<PathBuf> {
        let dir = self.envs_dir.join(self.hash());
        let python = super::environment::venv_python(&dir);
        (dir.join(COMPLETE_MARKER).is_file() && python.is_file()).then_some(python)
    }

    /// The environment, reused when complete, else built with the `uv` found on `path`.
    pub fn ensure(&self, path: &[PathBuf]) -> Result<Pep723Environment, KernelError> {
        let dir = self.envs_dir.join(self.hash());
        let python = super::environment::venv_python(&dir);
        if dir.join(COMPLETE_MARKER).is_file() && python.is_file() {
            return Ok(Pep723Environment {
                python,
                dir,
                built: false,
            });
        }
        let uv = find_program(uv_name(), path).ok_or(KernelError::UvMissing)?;
        std::fs::create_dir_all(&self.envs_dir)?;
        let building =
            self.envs_dir
                .join(format!("{}.building-{}", self.hash(), std::process::id()));
        let _ = std::fs::remove_dir_all(&building);
        let result = self.build(&uv, &building);
        if let Err(error) = result {
            let _ = std::fs::remove_dir_all(&building);
            return Err(error);
        }
        let _ = std::fs::remove_dir_all(&dir);
        if std::fs::rename(&building, &dir).is_err() {
            // Another process finished the same environment first: use that one.
            let _ = std::fs::remove_dir_all(&building);
            if !dir.join(COMPLETE_MARKER).is_file() {
                return Err(KernelError::Io(std::io::Error::other(format!(
                    "cannot move the new environment into {}",
                    dir.display()
                ))));
            }
        }
        Ok(Pep723Environment {
            python,
            dir,
            built: true,
        })
    }

    fn build(&self, uv: &Path, folder: &Path) -> Result<(), KernelError> {
        let mut venv = Command::new(uv);
        venv.args(["venv", "--quiet", "--relocatable", "--seed"]);
        if let Some(requires) = &self.requires_python {
            venv.args(["--python", requires]);
        }
        venv.arg(folder);
        run_uv(venv, "uv venv")?;
        let mut install = Command::new(uv);
        install
            .args(["pip", "install", "--quiet", "--python"])
            .arg(super::environment::venv_python(folder))
            .arg("ipykernel")
            .args(&self.dependencies);
        run_uv(install, "uv pip install")?;
        let marker = serde_json::json!({
            "dependencies": self.dependencies,
            "requires_python": self.requires_python,
        });
        std::fs::write(folder.join(COMPLETE_MARKER), marker.to_string())?;
        Ok(())
    }
}

fn uv_name() -> &'static str {
    if cfg!(windows) { "uv.exe" } else { "uv" }
}

fn run_uv(mut command: Command, what: &'static str) -> Result<(), KernelError> {
    let output = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr.trim().lines().rev().take(12).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(KernelError::EnvironmentBuild {
        command: what,
        output: tail.join("\n"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(dependencies: &[&str], requires: Option<&str>) -> Pep723Request {
        Pep723Request {
            dependencies: dependencies.iter().map(|d| d.to_string()).collect(),
            requires_python: requires.map(str::to_string),
            envs_dir: PathBuf::from("/p/.jellycell/cache/envs"),
        }
    }

    #[test]
    fn the_hash_follows_the_dependency_set_and_requires_python() {
        let base = request(&["six", "toolz"], None).hash();
        assert_eq!(base, request(&["toolz", "six"], None).hash());
        assert_ne!(base, request(&["six"], None).hash());
        assert_ne!(base, request(&["six", "toolz"], Some(">=3.11")).hash());
        assert_eq!(base.len(), 16);
    }

    #[test]
    fn no_uv_names_the_fix() {
        let envs = tempfile::tempdir().unwrap();
        let mut request = request(&["six"], None);
        request.envs_dir = envs.path().to_path_buf();
        let error = request.ensure(&[]).unwrap_err().to_string();
        assert!(error.contains("pip install uv"), "{error}");
        assert!(!envs.path().join(request.hash()).exists());
    }
}

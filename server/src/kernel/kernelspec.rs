//! Finds the kernel to launch by name, the way Jupyter does.
//!
//! Owns the search path (`JUPYTER_PATH`, the user data dir, the environment prefix, the
//! system data dirs, in Jupyter's order), reading `kernels/<name>/kernel.json`, resolving a
//! bare `python` in `argv` to the interpreter of the environment the spec came from, and the
//! fallback to `python3 -m ipykernel_launcher` when no `python3` spec is installed. The search
//! is a value ([`SpecSearch`]) so tests inject their own directories instead of setting
//! process-wide environment variables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::KernelError;

/// How to interrupt a running cell (`interrupt_mode` in `kernel.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterruptMode {
    /// Send SIGINT to the kernel's process group (Jupyter's default).
    Signal,
    /// Send an `interrupt_request` on the control channel.
    Message,
}

/// A launchable kernel: a parsed `kernel.json`, or the `python3 -m ipykernel_launcher`
/// fallback.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelSpec {
    pub name: String,
    pub display_name: String,
    pub language: String,
    /// Command line; `{connection_file}` and `{resource_dir}` are substituted at launch.
    pub argv: Vec<String>,
    /// Extra environment variables for the kernel process.
    pub env: BTreeMap<String, String>,
    pub interrupt_mode: InterruptMode,
    /// The kernelspec directory, or `None` for the fallback.
    pub resource_dir: Option<PathBuf>,
}

impl KernelSpec {
    /// The `python3 -m ipykernel_launcher` spec for a given interpreter.
    pub fn ipykernel(python: &Path) -> KernelSpec {
        KernelSpec {
            name: "python3".to_string(),
            display_name: "Python 3 (ipykernel)".to_string(),
            language: "python".to_string(),
            argv: vec![
                python.display().to_string(),
                "-m".to_string(),
                "ipykernel_launcher".to_string(),
                "-f".to_string(),
                "{connection_file}".to_string(),
            ],
            env: BTreeMap::new(),
            interrupt_mode: InterruptMode::Signal,
            resource_dir: None,
        }
    }

    /// `argv` with the placeholders filled in.
    pub fn command_line(&self, connection_file: &Path) -> Vec<String> {
        let connection_file = connection_file.display().to_string();
        let resource_dir = self
            .resource_dir
            .as_ref()
            .map(|dir| dir.display().to_string())
            .unwrap_or_default();
        self.argv
            .iter()
            .map(|arg| {
                arg.replace("{connection_file}", &connection_file)
                    .replace("{resource_dir}", &resource_dir)
            })
            .collect()
    }
}

/// Where to look for kernelspecs and for a `python3` with ipykernel.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpecSearch {
    /// Jupyter data directories in priority order; specs live in `<dir>/kernels/<name>/`.
    pub data_dirs: Vec<PathBuf>,
    /// Directories searched for `python3` (normally `PATH`).
    pub path: Vec<PathBuf>,
}

impl SpecSearch {
    /// The search Jupyter would do in this process's environment.
    pub fn from_env() -> SpecSearch {
        let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        let path: Vec<PathBuf> = var("PATH")
            .map(|value| std::env::split_paths(&value).collect())
            .unwrap_or_default();

        let mut data_dirs: Vec<PathBuf> = var("JUPYTER_PATH")
            .map(|value| std::env::split_paths(&value).collect())
            .unwrap_or_default();

        let user = var("JUPYTER_DATA_DIR").map(PathBuf::from).or_else(|| {
            let home = var("HOME").map(PathBuf::from)?;
            if cfg!(target_os = "macos") {
                Some(home.join("Library/Jupyter"))
            } else {
                let data_home = var("XDG_DATA_HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| home.join(".local/share"));
                Some(data_home.join("jupyter"))
            }
        });

        // Jupyter's `sys.prefix/share/jupyter`: the active venv or conda env, else the
        // prefix of the `python3` the user would get.
        let mut env_dirs = Vec::new();
        for prefix in [var("VIRTUAL_ENV"), var("CONDA_PREFIX")]
            .into_iter()
            .flatten()
        {
            env_dirs.push(PathBuf::from(prefix).join("share/jupyter"));
        }
        if let Some(prefix) = find_program("python3", &path)
            .as_deref()
            .and_then(Path::parent)
            .and_then(Path::parent)
        {
            env_dirs.push(prefix.join("share/jupyter"));
        }

        // jupyter_core prefers the environment over the user dir inside a venv/conda env,
        // or when JUPYTER_PREFER_ENV_PATH says so.
        let prefer_env = match var("JUPYTER_PREFER_ENV_PATH") {
            Some(value) => !matches!(
                value.to_string_lossy().to_ascii_lowercase().as_str(),
                "0" | "false" | "no" | "off" | "n" | "f"
            ),
            None => var("VIRTUAL_ENV").is_some() || var("CONDA_PREFIX").is_some(),
        };
        if prefer_env {
            data_dirs.extend(env_dirs);
            data_dirs.extend(user);
        } else {
            data_dirs.extend(user);
            data_dirs.extend(env_dirs);
        }
        data_dirs.push(PathBuf::from("/usr/local/share/jupyter"));
        data_dirs.push(PathBuf::from("/usr/share/jupyter"));

        let mut unique = Vec::new();
        for dir in data_dirs {
            if !unique.contains(&dir) {
                unique.push(dir);
            }
        }
        SpecSearch {
            data_dirs: unique,
            path,
        }
    }

    /// Kernel names installed in the data dirs, first occurrence wins, sorted.
    pub fn available(&self) -> Vec<String> {
        let mut names = Vec::new();
        for dir in &self.data_dirs {
            let Ok(entries) = std::fs::read_dir(dir.join("kernels")) else {
                continue;
            };
            for entry in entries.flatten() {
                if entry.path().join("kernel.json").is_file()
                    && let Some(name) = entry.file_name().to_str()
                    && !names.iter().any(|known| known == name)
                {
                    names.push(name.to_string());
                }
            }
        }
        names.sort();
        names
    }

    /// The kernel called `name`: the first `kernels/<name>/kernel.json` in the data dirs; for
    /// `python3` with no spec, `python3 -m ipykernel_launcher` if the `python3` on the path
    /// imports ipykernel (this runs that interpreter once, so call it off the async executor).
    pub fn find(&self, name: &str) -> Result<KernelSpec, KernelError> {
        if let Some(installed) = self.find_installed(name) {
            return installed;
        }
        let python = find_program("python3", &self.path);
        if name == "python3"
            && let Some(python) = &python
            && imports_ipykernel(python)
        {
            return Ok(KernelSpec::ipykernel(python));
        }
        Err(KernelError::NotFound {
            name: name.to_string(),
            searched: self.data_dirs.clone(),
            available: self.available(),
            python: if name == "python3" { python } else { None },
        })
    }

    /// The first `kernels/<name>/kernel.json` in the data dirs, read; `None` when there is
    /// none (reads files only, starts nothing).
    pub fn find_installed(&self, name: &str) -> Option<Result<KernelSpec, KernelError>> {
        self.data_dirs.iter().find_map(|dir| {
            let spec_dir = dir.join("kernels").join(name);
            let file = spec_dir.join("kernel.json");
            file.is_file()
                .then(|| self.read_spec(name, &spec_dir, &file, dir))
        })
    }

    fn read_spec(
        &self,
        name: &str,
        spec_dir: &Path,
        file: &Path,
        data_dir: &Path,
    ) -> Result<KernelSpec, KernelError> {
        let invalid = |reason: String| KernelError::InvalidSpec {
            path: file.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(file).map_err(|error| invalid(error.to_string()))?;
        let raw: RawKernelSpec =
            serde_json::from_str(&text).map_err(|error| invalid(error.to_string()))?;
        let mut argv = raw.argv;
        let Some(program) = argv.first_mut() else {
            return Err(invalid("`argv` is empty".to_string()));
        };
        if let Some(resolved) = self.resolve_python(program, data_dir) {
            *program = resolved.display().to_string();
        }
        let interrupt_mode = match raw.interrupt_mode.as_deref() {
            None | Some("signal") => InterruptMode::Signal,
            Some("message") => InterruptMode::Message,
            Some(other) => {
                return Err(invalid(format!(
                    "`interrupt_mode` is {other:?}; expected \"signal\" or \"message\""
                )));
            }
        };
        Ok(KernelSpec {
            name: name.to_string(),
            display_name: raw.display_name.unwrap_or_else(|| name.to_string()),
            language: raw.language.unwrap_or_default(),
            argv,
            env: raw.env,
            interrupt_mode,
            resource_dir: Some(spec_dir.to_path_buf()),
        })
    }

    /// Jupyter replaces a bare `python` in `argv` with its own interpreter. We have none, so
    /// use the interpreter of the environment the spec was installed in
    /// (`<prefix>/share/jupyter` → `<prefix>/bin/python3`), else the first on the path.
    fn resolve_python(&self, program: &str, data_dir: &Path) -> Option<PathBuf> {
        let is_bare_python = !program.contains(std::path::MAIN_SEPARATOR)
            && (program == "python" || program.starts_with("python3"));
        if !is_bare_python {
            return None;
        }
        let prefix_bin = data_dir
            .strip_suffix_components(&["share", "jupyter"])
            .map(|prefix| prefix.join("bin"));
        if let Some(bin) = prefix_bin {
            for candidate in [program, "python3", "python"] {
                let path = bin.join(candidate);
                if path.is_file() {
                    return Some(path);
                }
            }
        }
        find_program(program, &self.path).or_else(|| find_program("python3", &self.path))
    }
}

/// `kernel.json` as written by Jupyter tools; everything but `argv` may be missing.
#[derive(Deserialize)]
struct RawKernelSpec {
    argv: Vec<String>,
    display_name: Option<String>,
    language: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    interrupt_mode: Option<String>,
}

trait StripSuffixComponents {
    fn strip_suffix_components(&self, suffix: &[&str]) -> Option<PathBuf>;
}

impl StripSuffixComponents for Path {
    fn strip_suffix_components(&self, suffix: &[&str]) -> Option<PathBuf> {
        let mut path = self.to_path_buf();
        for component in suffix.iter().rev() {
            if path.file_name()? != *component {
                return None;
            }
            path.pop();
        }
        Some(path)
    }
}

/// The first executable file called `name` in `path`.
pub(crate) fn find_program(name: &str, path: &[PathBuf]) -> Option<PathBuf> {
    path.iter()
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

fn imports_ipykernel(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import ipykernel"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_spec(data_dir: &Path, name: &str, json: &str) -> PathBuf {
        let dir = data_dir.join("kernels").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("kernel.json"), json).unwrap();
        dir
    }

    #[test]
    fn first_data_dir_with_the_name_wins() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        write_spec(
            second.path(),
            "ir",
            r#"{"argv": ["/opt/R", "{connection_file}"], "language": "R"}"#,
        );
        let winner = write_spec(
            first.path(),
            "ir",
            r#"{"argv": ["/opt/R2", "-f", "{connection_file}"], "display_name": "R 2", "interrupt_mode": "message", "env": {"A": "1"}}"#,
        );
        let search = SpecSearch {
            data_dirs: vec![first.path().into(), second.path().into()],
            path: vec![],
        };
        let spec = search.find("ir").unwrap();
        assert_eq!(spec.display_name, "R 2");
        assert_eq!(spec.interrupt_mode, InterruptMode::Message);
        assert_eq!(spec.env.get("A").map(String::as_str), Some("1"));
        assert_eq!(spec.resource_dir.as_deref(), Some(winner.as_path()));
        assert_eq!(
            spec.command_line(Path::new("/tmp/c.json")),
            ["/opt/R2", "-f", "/tmp/c.json"]
        );
        assert_eq!(search.available(), ["ir"]);
    }

    #[test]
    fn bare_python_resolves_to_the_interpreter_of_the_specs_environment() {
        let prefix = tempfile::tempdir().unwrap();
        let bin = prefix.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("python"), "").unwrap();
        let data_dir = prefix.path().join("share/jupyter");
        write_spec(
            &data_dir,
            "python3",
            r#"{"argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]}"#,
        );
        let search = SpecSearch {
            data_dirs: vec![data_dir],
            path: vec![],
        };
        let spec = search.find("python3").unwrap();
        assert_eq!(spec.argv[0], bin.join("python").display().to_string());
    }

    #[test]
    fn missing_kernel_error_names_the_dirs_and_the_fix() {
        let empty = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        write_spec(
            other.path(),
            "julia",
            r#"{"argv": ["julia", "{connection_file}"]}"#,
        );
        let search = SpecSearch {
            data_dirs: vec![empty.path().into(), other.path().into()],
            path: vec![empty.path().into()],
        };
        let message = search.find("python3").unwrap_err().to_string();
        assert!(message.contains("pip install ipykernel"), "{message}");
        assert!(
            message.contains(&empty.path().display().to_string()),
            "{message}"
        );
        assert!(message.contains("julia"), "{message}");
        let message = search.find("ruby").unwrap_err().to_string();
        assert!(message.contains("\"ruby\""), "{message}");
    }

    #[test]
    fn broken_kernel_json_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        write_spec(dir.path(), "bad", r#"{"argv": []}"#);
        write_spec(dir.path(), "worse", "{not json");
        let search = SpecSearch {
            data_dirs: vec![dir.path().into()],
            path: vec![],
        };
        let message = search.find("bad").unwrap_err().to_string();
        assert!(
            message.contains("argv") && message.contains("kernel.json"),
            "{message}"
        );
        assert!(matches!(
            search.find("worse"),
            Err(KernelError::InvalidSpec { .. })
        ));
    }

    #[test]
    fn fallback_launches_python3_with_ipykernel_launcher() {
        let spec = KernelSpec::ipykernel(Path::new("/venv/bin/python3"));
        assert_eq!(
            spec.command_line(Path::new("/run/k.json")),
            [
                "/venv/bin/python3",
                "-m",
                "ipykernel_launcher",
                "-f",
                "/run/k.json"
            ]
        );
    }
}

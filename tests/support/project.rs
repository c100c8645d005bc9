//! Temporary jellycell projects for `run` tests, and the real binary run against them with
//! the test venv's ipykernel first on PATH (and a stand-in `jellycell` package on
//! PYTHONPATH, since jellycell itself is not installed in the test venv).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use super::python::python_bin_dir;

/// A minimal `jellycell` package: `jellycell.api` with `save`/`load` (JSON) and `context()`,
/// plus the `paths.Project` and `run.context` pieces the runner's prelude imports.
const STUB_FILES: &[(&str, &str)] = &[
    ("jellycell/__init__.py", ""),
    (
        "jellycell/api.py",
        "import json\nfrom jellycell.run.context import get_context\n\
         def save(obj, path):\n    open(path, 'w').write(json.dumps(obj))\n    return path\n\
         def load(path):\n    return json.load(open(path))\n\
         def context():\n    return get_context()\n",
    ),
    (
        "jellycell/paths.py",
        "class Project:\n    def __init__(self, root):\n        self.root = root\n\
         \x20   @classmethod\n    def from_path(cls, path):\n        return cls(path)\n",
    ),
    ("jellycell/run/__init__.py", ""),
    (
        "jellycell/run/context.py",
        "from contextvars import ContextVar\nfrom dataclasses import dataclass\n\
         @dataclass\nclass RunContext:\n    notebook: str\n    cell_id: str\n    cell_name: object\n    project: object\n\
         _current = ContextVar('ctx', default=None)\n\
         def set_context(ctx):\n    return _current.set(ctx)\n\
         def get_context():\n    return _current.get()\n",
    ),
];

/// A folder holding the minimal `jellycell` package, to put on a kernel's PYTHONPATH.
pub fn jellycell_stub() -> tempfile::TempDir {
    let stub = tempfile::tempdir().expect("temp dir");
    for (path, text) in STUB_FILES {
        let target = stub.path().join(path);
        std::fs::create_dir_all(target.parent().unwrap_or(stub.path())).expect("mkdir");
        std::fs::write(target, text).expect("write stub");
    }
    stub
}

pub struct TestProject {
    pub dir: tempfile::TempDir,
    stub: Option<tempfile::TempDir>,
}

impl TestProject {
    /// A project with `jellycell.toml` and `files` (path, text).
    pub fn new(files: &[(&str, &str)]) -> TestProject {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("jellycell.toml"),
            "[project]\nname = \"t\"\n",
        )
        .expect("write jellycell.toml");
        let project = TestProject { dir, stub: None };
        for (path, text) in files {
            project.write(path, text);
        }
        project
    }

    /// The same, with the stand-in jellycell package importable in the kernel.
    pub fn with_jellycell_stub(files: &[(&str, &str)]) -> TestProject {
        let mut project = TestProject::new(files);
        project.stub = Some(jellycell_stub());
        project
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Where the stand-in jellycell package is (for a kernel started by someone else).
    pub fn stub_dir(&self) -> Option<&Path> {
        self.stub.as_ref().map(tempfile::TempDir::path)
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap_or(self.root())).expect("mkdir");
        std::fs::write(path, text).expect("write file");
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).expect("read file")
    }

    /// The binary, run in the project root with the kernel environment set up.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"));
        command.args(args).current_dir(self.root());
        configure_kernel_env(&mut command);
        if let Some(stub) = &self.stub {
            command.env("PYTHONPATH", stub.path());
        }
        command
    }

    pub fn output(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("the binary runs")
    }

    /// `run NOTEBOOK --json ARGS...`: the exit code and the parsed report.
    pub fn run(&self, notebook: &str, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["run", notebook, "--json"];
        all.extend_from_slice(args);
        let output = self.output(&all);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let report: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|error| {
            panic!(
                "run printed no JSON ({error}):\nstdout: {stdout}\nstderr: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (output.status.code().unwrap_or(-1), report)
    }

    /// The manifest for `key`.
    pub fn manifest(&self, key: &str) -> Value {
        let path = self.path(&format!(
            ".jellycell/cache/jellycell-lsp/manifests/{key}.json"
        ));
        serde_json::from_str(&std::fs::read_to_string(&path).expect("manifest exists"))
            .expect("manifest parses")
    }

    /// The bytes of blob `hex`.
    pub fn blob(&self, hex: &str) -> Vec<u8> {
        std::fs::read(self.path(&format!(
            ".jellycell/cache/jellycell-lsp/blobs/{}/{hex}",
            &hex[..2]
        )))
        .expect("blob exists")
    }

    /// The stdout text a cell's manifest recorded.
    pub fn stdout_of(&self, key: &str) -> String {
        let manifest = self.manifest(key);
        let mut text = String::new();
        for output in manifest["outputs"].as_array().into_iter().flatten() {
            if output["type"] == "stream" && output["name"] == "stdout" {
                let blob = output["blob"].as_str().unwrap_or_default();
                text.push_str(&String::from_utf8_lossy(&self.blob(blob)));
            }
        }
        text
    }
}

/// Puts the test venv's `bin/` first on PATH and marks it as the active environment, so the
/// binary finds its `python3` kernelspec before any user-level one.
pub fn configure_kernel_env(command: &mut Command) {
    let bin = python_bin_dir();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin.clone()];
    dirs.extend(std::env::split_paths(&path));
    command.env("PATH", std::env::join_paths(dirs).unwrap_or(path));
    if let Some(venv) = bin.parent() {
        command.env("VIRTUAL_ENV", venv);
    }
    command.env_remove("JUPYTER_PATH");
    command.env_remove("PYTHONPATH");
}

/// Per-cell statuses of a report, in order.
pub fn statuses(report: &Value) -> Vec<String> {
    report["cells"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|cell| cell["status"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The cache key the report gives the cell with `name`.
pub fn key_of(report: &Value, name: &str) -> String {
    report["cells"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|cell| cell["name"] == name)
        .and_then(|cell| cell["cache_key"].as_str())
        .unwrap_or_else(|| panic!("no key for {name} in {report}"))
        .to_string()
}

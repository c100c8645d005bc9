//! Real venvs made by `python -m venv` whose `python` and `python3` are shims that append
//! a line to a log on every start and `exec` the real interpreter as themselves (so Python
//! still finds the venv): what counts the interpreters a check or the server starts.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::python::python;

/// A venv at `folder` (`--clear`: rebuilt in place) without pip, so it has neither
/// jellycell nor any test module; its interpreters log to `log`. Returns its `bin/python`.
pub fn counted_venv(folder: &Path, log: &Path, clear: bool) -> PathBuf {
    let mut command = Command::new(python());
    command.args(["-m", "venv", "--without-pip"]);
    if clear {
        command.arg("--clear");
    }
    let status = command.arg(folder).status().expect("python runs");
    assert!(status.success(), "python -m venv {}", folder.display());
    let bin = folder.join("bin");
    let real = std::fs::canonicalize(bin.join("python")).expect("the venv's python");
    for name in ["python", "python3"] {
        let shim = bin.join(name);
        std::fs::remove_file(&shim).expect("remove the link");
        let script = format!(
            "#!/bin/bash\necho \"$0 $*\" >> '{}'\nexec -a \"$0\" '{}' \"$@\"\n",
            log.display(),
            real.display()
        );
        write_executable(&shim, &script);
    }
    bin.join("python")
}

/// How many starts `log` holds.
pub fn starts(log: &Path) -> usize {
    std::fs::read_to_string(log).map_or(0, |text| text.lines().count())
}

/// The `site-packages` folder of the venv at `venv`.
pub fn site_packages(venv: &Path) -> PathBuf {
    let version = std::fs::read_dir(venv.join("lib"))
        .expect("lib/")
        .flatten()
        .find(|entry| entry.file_name().to_string_lossy().starts_with("python"))
        .expect("lib/pythonX.Y");
    version.path().join("site-packages")
}

pub fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).expect("write the script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

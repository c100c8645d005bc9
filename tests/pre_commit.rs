//! The pre-commit workflow with the real `pre-commit` from PyPI (tests/requirements.txt):
//! the hooks of editors/pre-commit/ (the mirror template, whose package depends on the
//! jellycell-lsp wheel) installed into a temporary git repository from a local copy of the
//! template (`pre-commit install`, and `pre-commit try-repo` of the check hook). A commit
//! of an out-of-sync pair is stopped (`jellycell-check` reports it,
//! `jellycell-sync` mends the `.ipynb`), and once the mended file is added the commit
//! passes. pre-commit installs the wheel from `JELLYCELL_WHEEL` (CI's, built by
//! .ci/wheel.sh) through PIP_FIND_LINKS; without it, a wheel of the same layout is made
//! from this build's binary, so a plain `cargo test` runs it too.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use support::process::bounded;
use support::python::python;
use support::repo_root;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Writes a wheel as maturin's `bindings = "bin"` lays it out (the binary under
/// `.data/scripts/`, RECORD with sha256 hashes) from the binary in argv[1] into argv[2].
const MAKE_WHEEL: &str = r#"
import base64, hashlib, os, sys, zipfile
binary, folder, version = sys.argv[1], sys.argv[2], sys.argv[3]
name = f"jellycell_lsp-{version}"
files = {
    f"{name}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: jellycell-lsp\nVersion: {version}\n".encode(),
    f"{name}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests/pre_commit.rs\nRoot-Is-Purelib: false\nTag: py3-none-any\n",
}
def digest(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
path = os.path.join(folder, f"{name}-py3-none-any.whl")
with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as wheel:
    record = []
    for arcname, data in files.items():
        wheel.writestr(arcname, data)
        record.append(f"{arcname},{digest(data)},{len(data)}")
    data = open(binary, "rb").read()
    info = zipfile.ZipInfo(f"{name}.data/scripts/jellycell-lsp")
    info.external_attr = 0o100755 << 16  # a regular, executable file (pip checks both)
    wheel.writestr(info, data)
    record.append(f"{info.filename},{digest(data)},{len(data)}")
    record.append(f"{name}.dist-info/RECORD,,")
    wheel.writestr(f"{name}.dist-info/RECORD", "\n".join(record) + "\n")
print(path)
"#;

/// The folder holding the jellycell-lsp wheel pip is to install.
fn wheel_folder(scratch: &Path) -> PathBuf {
    if let Some(wheel) = std::env::var_os("JELLYCELL_WHEEL").map(PathBuf::from) {
        assert!(
            wheel.is_file(),
            "JELLYCELL_WHEEL={} is not a file; run .ci/wheel.sh",
            wheel.display()
        );
        return wheel.parent().map(Path::to_path_buf).unwrap_or_default();
    }
    let folder = scratch.join("wheels");
    std::fs::create_dir_all(&folder).expect("mkdir wheels");
    let output = Command::new(python())
        .args(["-c", MAKE_WHEEL, env!("CARGO_BIN_EXE_jellycell-lsp")])
        .arg(&folder)
        .arg(VERSION)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "making the wheel failed (or run .ci/wheel.sh and set JELLYCELL_WHEEL): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    folder
}

/// `git` in `dir` with a fixed identity and no user or system configuration.
fn git(dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new("git");
    command.args(args).current_dir(dir);
    isolate_git(&mut command);
    bounded(command, Duration::from_secs(600))
}

fn isolate_git(command: &mut Command) {
    command
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com");
}

fn ok(output: &Output, what: &str) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{what} failed:\n{text}");
    text
}

fn text_of(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_mirror_hooks_are_the_root_hooks_and_pin_this_version() {
    let root = std::fs::read_to_string(repo_root().join(".pre-commit-hooks.yaml")).unwrap();
    let mirror =
        std::fs::read_to_string(repo_root().join("editors/pre-commit/.pre-commit-hooks.yaml"))
            .unwrap();
    assert_eq!(
        root, mirror,
        "editors/pre-commit/.pre-commit-hooks.yaml is a copy of the root one"
    );
    let pyproject =
        std::fs::read_to_string(repo_root().join("editors/pre-commit/pyproject.toml")).unwrap();
    assert!(
        pyproject.contains(&format!("\"jellycell-lsp=={VERSION}\"")),
        "editors/pre-commit/pyproject.toml pins jellycell-lsp=={VERSION}:\n{pyproject}"
    );
    let pre_commit = python().with_file_name("pre-commit");
    for manifest in [
        repo_root().join(".pre-commit-hooks.yaml"),
        repo_root().join("editors/pre-commit/.pre-commit-hooks.yaml"),
    ] {
        let mut command = Command::new(&pre_commit);
        command.arg("validate-manifest").arg(&manifest);
        ok(
            &bounded(command, Duration::from_secs(120)),
            "pre-commit validate-manifest",
        );
    }
}

#[test]
fn a_commit_of_an_out_of_sync_pair_is_stopped_and_passes_once_synced() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let wheels = wheel_folder(scratch.path());

    // The mirror repository, from the template.
    let hooks = scratch.path().join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    for file in [".pre-commit-hooks.yaml", "pyproject.toml", "README.md"] {
        std::fs::copy(
            repo_root().join("editors/pre-commit").join(file),
            hooks.join(file),
        )
        .expect("copy the template");
    }
    ok(&git(&hooks, &["init", "-q"]), "git init");
    ok(&git(&hooks, &["add", "."]), "git add");
    ok(&git(&hooks, &["commit", "-q", "-m", "hooks"]), "git commit");
    let rev = ok(&git(&hooks, &["rev-parse", "HEAD"]), "git rev-parse");

    // The user's repository: a paired notebook, in sync (made by `sync` itself).
    let repo = scratch.path().join("repo");
    std::fs::create_dir_all(repo.join("notebooks")).unwrap();
    std::fs::write(
        repo.join("jupytext.toml"),
        "formats = \"ipynb,py:percent\"\n",
    )
    .unwrap();
    std::fs::write(repo.join("notebooks/a.py"), "# %%\nx = 1\n").unwrap();
    let mut sync = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"));
    sync.args(["sync", "notebooks/a.py"]).current_dir(&repo);
    ok(
        &bounded(sync, Duration::from_secs(120)),
        "jellycell-lsp sync",
    );
    std::fs::write(
        repo.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {}\n    hooks:\n      - id: jellycell-check\n      - id: jellycell-sync\n",
            hooks.display(),
            rev.trim()
        ),
    )
    .unwrap();
    std::fs::write(repo.join(".gitignore"), ".jellycell/\n").unwrap();
    ok(&git(&repo, &["init", "-q"]), "git init");

    let pre_commit_bin = python().with_file_name("pre-commit");
    let pre_commit_home = scratch.path().join("pre-commit-home");
    let with_env = |command: &mut Command| {
        isolate_git(command);
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![python().parent().map(Path::to_path_buf).unwrap_or_default()];
        dirs.extend(std::env::split_paths(&path));
        command
            .env("PATH", std::env::join_paths(dirs).unwrap_or(path))
            .env("PRE_COMMIT_HOME", &pre_commit_home)
            .env("PIP_FIND_LINKS", &wheels)
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env_remove("VIRTUAL_ENV")
            .current_dir(&repo);
    };
    let mut install = Command::new(&pre_commit_bin);
    install.args(["install", "--install-hooks"]);
    with_env(&mut install);
    ok(
        &bounded(install, Duration::from_secs(900)),
        "pre-commit install --install-hooks",
    );
    let commit = |message: &str| {
        let mut command = Command::new("git");
        command.args(["commit", "-q", "-m", message]);
        with_env(&mut command);
        bounded(command, Duration::from_secs(600))
    };
    let add = |paths: &[&str]| {
        let mut args = vec!["add"];
        args.extend_from_slice(paths);
        ok(&git(&repo, &args), "git add");
    };

    add(&["."]);
    ok(&commit("an in-sync pair"), "the first commit");

    // The text is edited and only it is staged: the commit is stopped.
    std::fs::write(
        repo.join("notebooks/a.py"),
        "# %%\nx = 1\n\n# %%\ny = x + 1\n",
    )
    .unwrap();
    add(&["notebooks/a.py"]);
    // `pre-commit try-repo` of the check hook alone (how a user tries hooks out) finds it.
    let mut try_repo = Command::new(&pre_commit_bin);
    try_repo
        .arg("try-repo")
        .arg(&hooks)
        .args(["jellycell-check", "--files", "notebooks/a.py"]);
    with_env(&mut try_repo);
    let tried = bounded(try_repo, Duration::from_secs(900));
    assert!(
        !tried.status.success(),
        "try-repo passed:\n{}",
        text_of(&tried)
    );
    assert!(
        text_of(&tried).contains("paired-out-of-sync"),
        "{}",
        text_of(&tried)
    );
    let stopped = commit("out of sync");
    let said = text_of(&stopped);
    assert!(
        !stopped.status.success(),
        "the commit went through:\n{said}"
    );
    assert!(
        said.contains("paired-out-of-sync"),
        "jellycell-check reports the pair:\n{said}"
    );
    assert!(
        said.contains("files were modified by this hook"),
        "jellycell-sync mends it:\n{said}"
    );
    let ipynb = std::fs::read_to_string(repo.join("notebooks/a.ipynb")).unwrap();
    assert!(
        ipynb.contains("y = x + 1"),
        "the .ipynb has the new cell:\n{ipynb}"
    );

    // The mended .ipynb staged too: the commit passes.
    add(&["notebooks/a.ipynb"]);
    ok(&commit("in sync again"), "the commit after sync");
    let log = ok(&git(&repo, &["log", "--oneline"]), "git log");
    assert_eq!(log.lines().count(), 2, "{log}");
}

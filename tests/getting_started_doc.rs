//! Every command of `docs/getting-started.md` runs as written. The `sh` blocks are read
//! from the page; each runs in its own `bash -euo pipefail` with `HOME` a temporary folder
//! (so `~/demo` and `~/study` are the test's), in the repository for blocks that use its
//! files and in `~/demo` for the others. This test runs the terminal blocks with the built
//! binary and the test venv on `PATH`; the blocks that install things (the wheel with uv,
//! pip, npm, VS Code) or open a browser are run by `.ci/getting-started.sh` in CI, which runs every
//! block the same way, and this test checks that `.ci/run` calls it.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::python::python_bin_dir;
use support::repo_root;

/// Blocks with one of these are run by `.ci/getting-started.sh` only.
const CI_ONLY: &[&str] = &[
    "uv tool install",
    "pip install",
    "npm ci",
    "--install-extension",
    "preview --open",
];

fn sh_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line) {
            (None, "```sh") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), line) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// Where a block runs: the repository when it uses the repository's files, else `~/demo`
/// (`~` before the demo is copied there).
fn cwd_for(block: &str, home: &Path) -> PathBuf {
    let in_repository = ["fixtures/", "editors/"]
        .iter()
        .any(|needle| block.contains(needle));
    if in_repository {
        repo_root().to_path_buf()
    } else if home.join("demo").is_dir() {
        home.join("demo")
    } else {
        home.to_path_buf()
    }
}

#[test]
fn every_terminal_command_of_getting_started_runs_as_written() {
    let doc = std::fs::read_to_string(repo_root().join("docs/getting-started.md")).unwrap();
    let blocks = sh_blocks(&doc);
    assert!(blocks.len() >= 7, "the page's sh blocks: {blocks:?}");
    let home = tempfile::tempdir().unwrap();
    let binary_dir = Path::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = std::env::join_paths([binary_dir, python_bin_dir()].into_iter().chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let mut ran = 0;
    for block in &blocks {
        if CI_ONLY.iter().any(|command| block.contains(command)) {
            continue;
        }
        let output = Command::new("bash")
            .args(["-euo", "pipefail", "-c", block])
            .current_dir(cwd_for(block, home.path()))
            .env("HOME", home.path())
            .env("PATH", &path)
            .env_remove("JUPYTER_PATH")
            .env_remove("PYTHONPATH")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "this block of docs/getting-started.md failed:\n{block}\nstdout:\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 3, "ran {ran} blocks");
    let demo = home.path().join("demo");
    assert!(
        demo.join("notebooks/tour.ipynb").is_file(),
        "export wrote the notebook"
    );
    assert!(home.path().join("study/notebooks/analysis.py").is_file());
}

#[test]
fn ci_runs_every_block_including_the_installing_ones() {
    let ci = std::fs::read_to_string(repo_root().join(".ci/run")).unwrap();
    assert!(
        ci.contains(".ci/getting-started.sh"),
        ".ci/run must run .ci/getting-started.sh"
    );
    let script = std::fs::read_to_string(repo_root().join(".ci/getting-started.sh")).unwrap();
    assert!(
        script.contains("docs/getting-started.md"),
        "the script reads the blocks from the page"
    );
    assert!(
        ci.contains(".ci/wheel.sh") && ci.contains("JELLYCELL_WHEEL"),
        ".ci/run must build the wheel and hand it to the page's install step"
    );
    let doc = std::fs::read_to_string(repo_root().join("docs/getting-started.md")).unwrap();
    let first = sh_blocks(&doc).into_iter().next().unwrap_or_default();
    assert!(
        first.starts_with("uv tool install jellycell-lsp"),
        "the page starts with the wheel's install: {first}"
    );
    assert!(
        script.contains("uv tool install jellycell-lsp/uv tool install"),
        "the script installs the wheel CI built in place of PyPI's"
    );
    for command in CI_ONLY {
        assert!(
            doc.contains(command),
            "{command:?} is no longer on the page: drop it from CI_ONLY"
        );
    }
}

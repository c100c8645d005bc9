//! Real Vim 9 with Debian's ALE 3.3 (`vim -es`), a client that never answers the server's
//! own requests (`window/workDoneProgress/create`, `workspace/codeLens/refresh`): the
//! diagnostics of a notebook arrive, and `jellycell.runCell` sent through ALE answers and
//! runs the cell in a real ipykernel; the manifest lands on disk, a later
//! `textDocument/codeLens` says cached and the hover shows the cell's output. Vim and
//! vim-ale are installed here when missing (`.ci/run` installs them beforehand).

mod support;

use std::path::Path;
use std::process::Command;

use support::editors::{apt_install, editors_project, manifests};
use support::project::configure_kernel_env;
use support::repo_root;

/// 0-based line of `print(message)`, in the `hello` cell of `fixtures/editors`.
const HELLO_CELL_LINE: &str = "7";
/// 0-based line of the `hello` cell's header, where its lenses sit.
const HELLO_HEADER_LINE: &str = "5";

#[test]
fn vim_ale_gets_diagnostics_and_runs_a_cell_without_answering_server_requests() {
    if !Path::new("/usr/share/vim-ale/plugin/ale.vim").is_file() {
        apt_install(&["vim", "vim-ale"]);
    }
    let (_project, root) = editors_project();
    let out = root.join("ale.out");
    let mut command = Command::new("timeout");
    command
        .args([
            "300", "vim", "-N", "-u", "NONE", "-i", "NONE", "-n", "-es", "-S",
        ])
        .arg(repo_root().join("tests/vim/ale_smoke.vim"))
        .env("LSP_OUT", &out)
        .env("LSP_EXE", env!("CARGO_BIN_EXE_jellycell-lsp"))
        .env("LSP_FILE", root.join("notebooks/analysis.py"))
        .env("RUN_LINE", HELLO_CELL_LINE)
        .env("HOME", &root)
        .current_dir(&root);
    configure_kernel_env(&mut command);
    let output = command.output().expect("run vim");
    let said = std::fs::read_to_string(&out).unwrap_or_default();
    let report = format!(
        "vim said:\n{said}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && said.ends_with("OK\n"),
        "vim failed ({:?})\n{report}",
        output.status
    );
    assert!(
        said.contains("diagnostic L14 unknown-dep: no cell is named \"helo\""),
        "{report}"
    );
    let answer = said
        .lines()
        .find_map(|line| line.strip_prefix("runCell answered: "))
        .unwrap_or_else(|| panic!("runCell got no answer through ALE\n{report}"));
    assert!(
        !answer.contains("\"code\""),
        "runCell answered with an error: {answer}"
    );
    let after = said
        .lines()
        .find_map(|line| line.strip_prefix("lenses after: "))
        .unwrap_or_default();
    assert!(
        after.contains(&format!("\"{HELLO_HEADER_LINE}:✓ cached")),
        "the hello cell's lens says cached after the run: {after}\n{report}"
    );
    let hover = said
        .lines()
        .find_map(|line| line.strip_prefix("hover: "))
        .unwrap_or_default();
    assert!(
        hover.contains("hello from the kernel"),
        "the hover shows the cell's output: {hover}\n{report}"
    );
    assert!(
        !manifests(&root).is_empty(),
        "the run wrote its manifest into the project's cache"
    );
}

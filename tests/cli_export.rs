//! `jellycell-lsp export` through the real binary: conversions validated by real
//! nbformat and compared with what real jupytext reads from the same file.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::{fixture, python::python};

fn jellycell(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
        .args(args)
        .output()
        .expect("the jellycell-lsp binary runs")
}

/// `jellycell-lsp export SOURCE --to FORMAT -o OUT [EXTRA...]` (`OUT` may be `-`).
fn export(source: &Path, format: &str, out: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "export",
        source.to_str().unwrap(),
        "--to",
        format,
        "-o",
        out,
    ];
    args.extend_from_slice(extra);
    jellycell(&args)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs a Python snippet with the test venv; the snippet prints JSON on its last line.
fn python_json(script: &str, args: &[&Path]) -> Value {
    let output = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "python failed:\n{}",
        stderr(&output)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or("null")).expect("python printed JSON")
}

/// nbformat.validate on the file, then the cells as (cell_type, source, metadata).
const VALIDATE_AND_LIST_CELLS: &str = r#"
import json, sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
nbformat.validate(nb)
print(json.dumps([[c.cell_type, c.source, c.metadata] for c in nb.cells]))
"#;

/// What jupytext reads from a py:percent file, after removing the PEP-723 block the way
/// jellycell does before calling jupytext.
const JUPYTEXT_CELLS: &str = r#"
import json, re, sys, jupytext
text = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$", text)
if m and m.group("type") == "script":
    text = (text[:m.start()] + text[m.end():]).lstrip()
nb = jupytext.reads(text, fmt="py:percent")
print(json.dumps([[c.cell_type, c.source, c.metadata] for c in nb.cells]))
"#;

#[test]
fn export_to_ipynb_validates_and_matches_jupytext() {
    for name in ["analysis.py", "with_header.py"] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("nb.ipynb");
        let source = fixture(&format!("export/{name}"));
        let output = export(&source, "ipynb", out.to_str().unwrap(), &[]);
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        let ours = python_json(VALIDATE_AND_LIST_CELLS, &[&out]);
        let theirs = python_json(JUPYTEXT_CELLS, &[&source]);
        assert_eq!(ours, theirs, "{name}: our cells differ from jupytext's");
    }
}

#[test]
fn export_json_report_names_source_output_and_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nb.md");
    let source = fixture("export/analysis.py");
    let output = export(&source, "md", out.to_str().unwrap(), &["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["format"], "md");
    assert_eq!(report["source"], source.to_str().unwrap());
    assert_eq!(report["output"], out.to_str().unwrap());
    assert!(out.exists());
}

#[test]
fn percent_to_myst_to_ipynb_keeps_the_cells() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("nb.md");
    let via_md = dir.path().join("via_md.ipynb");
    let direct = dir.path().join("direct.ipynb");
    let source = fixture("export/analysis.py");
    let s = source.to_str().unwrap();
    for args in [
        vec!["export", s, "--to", "md", "-o", md.to_str().unwrap()],
        vec![
            "export",
            md.to_str().unwrap(),
            "--to",
            "ipynb",
            "-o",
            via_md.to_str().unwrap(),
        ],
        vec!["export", s, "--to", "ipynb", "-o", direct.to_str().unwrap()],
    ] {
        let output = jellycell(&args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    }
    let cells = |path: &Path| python_json(VALIDATE_AND_LIST_CELLS, &[path]);
    let (via, straight) = (cells(&via_md), cells(&direct));
    let strip = |cells: &Value| -> Vec<(Value, Value)> {
        cells
            .as_array()
            .unwrap()
            .iter()
            .map(|cell| (cell[0].clone(), cell[1].clone()))
            .collect()
    };
    assert_eq!(
        strip(&via),
        strip(&straight),
        "types and sources survive py → md → ipynb"
    );
}

#[test]
fn export_to_stdout_prints_the_notebook() {
    let source = fixture("export/analysis.py");
    let output = export(&source, "ipynb", "-", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let notebook: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(notebook["nbformat"], 4);
}

#[test]
fn a_missing_notebook_is_one_clear_line_and_exit_2() {
    let output = jellycell(&["export", "no/such/notebook.py", "--to", "ipynb"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("no/such/notebook.py"), "{message}");
}

#[test]
fn an_unknown_extension_says_which_formats_are_known() {
    let output = jellycell(&["export", "Cargo.toml", "--to", "py"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains(".py (py:percent), .md (MyST) or .ipynb"));
}

#[test]
fn export_never_overwrites_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("nb.py");
    std::fs::copy(fixture("export/analysis.py"), &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let output = jellycell(&["export", copy.to_str().unwrap(), "--to", "py"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("is the notebook being exported"));
    assert_eq!(std::fs::read(&copy).unwrap(), before);
}

const LIGHT: &str = "# ---\n# jupyter:\n#   jupytext:\n#     text_representation:\n#       extension: .py\n#       format_name: light\n#       format_version: '1.5'\n#       jupytext_version: 1.19.6\n# ---\n\n# A title\n\n# + tags=[\"jc.step\"]\nx = 1\n\n\ny = 2\n# -\n\nz = 3\n";

#[test]
fn a_light_notebook_exported_to_py_stays_light_and_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("light.py");
    std::fs::write(&source, LIGHT).unwrap();
    let output = export(&source, "py", "-", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout), LIGHT);
}

#[test]
fn jupytext_style_targets_choose_the_format() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("light.py");
    std::fs::write(&source, LIGHT).unwrap();
    let percent = export(&source, "py:percent", "-", &[]);
    assert!(percent.status.success(), "{}", stderr(&percent));
    let percent = String::from_utf8_lossy(&percent.stdout).into_owned();
    assert!(percent.contains("format_name: percent"), "{percent}");
    assert!(
        percent.contains("# %% tags=[\"jc.step\"]\nx = 1"),
        "{percent}"
    );
    let markdown = export(&source, "md:markdown", "-", &[]);
    assert!(markdown.status.success(), "{}", stderr(&markdown));
    let markdown = String::from_utf8_lossy(&markdown.stdout).into_owned();
    assert!(markdown.contains("format_name: markdown"), "{markdown}");
    assert!(
        markdown.contains("```python tags=[\"jc.step\"]\nx = 1\n\n\ny = 2\n```"),
        "{markdown}"
    );
    // And back: md:markdown read and written as light gives the light text again.
    let md = dir.path().join("plain.md");
    std::fs::write(&md, &markdown).unwrap();
    let light = export(&md, "py:light", "-", &[]);
    assert!(light.status.success(), "{}", stderr(&light));
    assert_eq!(String::from_utf8_lossy(&light.stdout), LIGHT);
}

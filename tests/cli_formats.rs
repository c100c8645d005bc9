//! jupytext's formats and headers through the real binary, compared with real jupytext
//! 1.19.6: the header `export` writes, where `export` writes without `-o`, MyST front
//! matter parity (`docs/format.md`'s example), py:light and md:markdown notebooks,
//! formats we refuse, notebooks in other languages, and `marker-no-space` only where
//! jupytext glues the line to the cell.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::{fixture, python::python, repo_root};

fn jellycell(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the jellycell-lsp binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a Python snippet with the test venv (arguments after `-c`); returns its stdout.
fn python_out(script: &str, args: &[&str]) -> String {
    let output = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "python failed: {}",
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// The cell types jupytext reads from a file (`jupytext.read`, the format from the file).
fn jupytext_cell_types(path: &Path) -> Vec<String> {
    let script = "import json, sys, jupytext\n\
                  print(json.dumps([c.cell_type for c in jupytext.read(sys.argv[1]).cells]))";
    serde_json::from_str(python_out(script, &[path.to_str().unwrap()]).trim()).unwrap()
}

/// The cell types of our `export --to ipynb -o -`.
fn our_cell_types(path: &Path) -> Vec<String> {
    let output = jellycell(
        &["export", path.to_str().unwrap(), "--to", "ipynb", "-o", "-"],
        path.parent().unwrap(),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let notebook: Value = serde_json::from_slice(&output.stdout).unwrap();
    notebook["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cell| cell["cell_type"].as_str().unwrap().to_string())
        .collect()
}

/// A project in a temp folder with `files` (path, content) written into it.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("jellycell.toml"),
        "[project]\nname = \"t\"\n",
    )
    .unwrap();
    for folder in ["notebooks", "data", "artifacts", "site", "manuscripts"] {
        std::fs::create_dir_all(dir.path().join(folder)).unwrap();
    }
    for (path, content) in files {
        std::fs::write(dir.path().join(path), content).unwrap();
    }
    dir
}

fn rules_reported(root: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["--check", "--format", "json"];
    args.extend_from_slice(extra);
    let output = jellycell(&args, root);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    report["diagnostics"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|d| d["rule"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

const FRONT_MATTERS: &[&str] = &[
    "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n    format_version: 0.13\n    jupytext_version: 1.19.6\nkernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n---\n",
    "---\nkernelspec:\n  name: python3\n  display_name: Python 3\ntitle: A study\n---\n",
    "---\njupytext:\n  formats: ipynb,md:myst\n  cell_metadata_filter: -all\nkernelspec:\n  name: python3\n  display_name: Python 3 (ipykernel)\n  language: python\n---\n",
    "",
];

/// MyST → `.py` writes the header as jupytext does (`# ---` … `# ---` under `jupyter:`,
/// `text_representation` of py:percent), byte for byte, and the result is valid Python.
#[test]
fn myst_to_py_writes_jupytexts_header() {
    let dir = tempfile::tempdir().unwrap();
    for (i, front) in FRONT_MATTERS.iter().enumerate() {
        let source = dir.path().join(format!("m{i}.md"));
        let body = "\n# A title\n\n```{code-cell} ipython3\n:tags: [jc.step, name=raw]\nx = 1\n```\n\n+++\n\nProse.\n\n```{code-cell} ipython3\ny = x + 1\n```\n";
        std::fs::write(&source, format!("{front}{body}")).unwrap();
        let output = jellycell(
            &["export", source.to_str().unwrap(), "--to", "py", "-o", "-"],
            dir.path(),
        );
        assert!(output.status.success(), "{}", text(&output.stderr));
        let ours = text(&output.stdout);
        let theirs = python_out(
            "import sys, jupytext\nsys.stdout.write(jupytext.writes(jupytext.read(sys.argv[1]), 'py:percent'))",
            &[source.to_str().unwrap()],
        );
        assert_eq!(ours, theirs, "front matter {i}");
        if !front.is_empty() {
            assert!(ours.starts_with("# ---\n# jupyter:\n"), "{ours}");
            assert!(ours.contains("#       format_name: percent\n"), "{ours}");
        }
        python_out(
            "import sys, ast\nast.parse(open(sys.argv[1]).read())",
            &[&{
                let written = dir.path().join(format!("m{i}.py"));
                std::fs::write(&written, &ours).unwrap();
                written.to_string_lossy().into_owned()
            }],
        );
    }
}

/// Without `-o`, a text export of a project notebook goes to `[paths] site` (beside, it
/// would be a second notebook with the same cells), and says where it went.
#[test]
fn export_without_output_never_makes_a_second_project_notebook() {
    let notebook = "# %% tags=[\"jc.step\", \"name=means\"]\nx = 1\n\n# %% tags=[\"jc.step\", \"deps=means\"]\ny = x\n";
    let dir = project(&[("notebooks/prep.py", notebook)]);
    let root = dir.path();
    let output = jellycell(&["export", "notebooks/prep.py", "--to", "md"], root);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(root.join("site/prep.md").is_file());
    assert!(!root.join("notebooks/prep.md").exists());
    let said = text(&output.stderr);
    assert!(said.contains("wrote site/prep.md"), "{said}");
    assert!(rules_reported(root, &[]).is_empty());
    // An ipynb still goes beside the notebook, as jupytext puts it.
    let output = jellycell(&["export", "notebooks/prep.py", "--to", "ipynb"], root);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(root.join("notebooks/prep.ipynb").is_file());
    assert!(text(&output.stderr).contains("wrote notebooks/prep.ipynb"));
}

/// The MyST example in `docs/format.md` reads as jupytext reads it, and the front matter
/// that jupytext reads as plain markdown (no `extension: .md`) is read that way too,
/// with a `jupytext-format` warning.
#[test]
fn myst_front_matter_parity_with_jupytext() {
    let doc = std::fs::read_to_string(repo_root().join("docs/format.md")).unwrap();
    let start = doc.find("````markdown\n").expect("the MyST example") + "````markdown\n".len();
    let example = &doc[start..start + doc[start..].find("\n````").unwrap() + 1];
    assert!(example.contains("extension: .md"), "{example}");
    let without_extension = example.replace("    extension: .md\n", "");
    let dir = project(&[
        ("notebooks/documented.md", example),
        ("notebooks/no_extension.md", &without_extension),
    ]);
    let root = dir.path();
    for name in ["documented.md", "no_extension.md"] {
        let path = root.join("notebooks").join(name);
        assert_eq!(our_cell_types(&path), jupytext_cell_types(&path), "{name}");
    }
    assert!(our_cell_types(&root.join("notebooks/documented.md")).contains(&"code".to_string()));
    let reported = rules_reported(root, &["notebooks/no_extension.md"]);
    assert_eq!(reported, ["jupytext-format"]);
    assert!(rules_reported(root, &["notebooks/documented.md"]).is_empty());
}

/// py:light and md:markdown notebooks read cell for cell as jupytext reads them.
#[test]
fn light_and_markdown_notebooks_read_as_jupytext_does() {
    for name in ["light_header.py", "markdown_header.md"] {
        let path = fixture(&format!("formats/{name}"));
        let ours = our_cell_types(&path);
        assert_eq!(ours, jupytext_cell_types(&path), "{name}");
        assert!(ours.len() >= 4, "{name}: {ours:?}");
    }
    let light = std::fs::read_to_string(fixture("formats/light_header.py")).unwrap();
    let dir = project(&[("notebooks/light.py", &light)]);
    assert!(rules_reported(dir.path(), &[]).is_empty());
}

/// A notebook in a format we do not read exactly is reported, not linted, not run, not
/// exported.
#[test]
fn other_formats_are_refused() {
    let sphinx = std::fs::read_to_string(fixture("formats/sphinx_header.py")).unwrap();
    let pandoc = "---\njupyter:\n  jupytext:\n    text_representation:\n      extension: .md\n      format_name: pandoc\n---\n\n::: {.cell .code}\n``` python\nx = (\n```\n:::\n";
    let dir = project(&[
        ("notebooks/gallery.py", &sphinx),
        ("notebooks/doc.md", pandoc),
    ]);
    let root = dir.path();
    assert_eq!(
        rules_reported(root, &["notebooks/gallery.py"]),
        ["unsupported-format"]
    );
    assert_eq!(
        rules_reported(root, &["notebooks/doc.md"]),
        ["unsupported-format"]
    );
    let run = jellycell(&["run", "notebooks/gallery.py"], root);
    assert_eq!(run.status.code(), Some(2));
    let said = text(&run.stderr);
    assert!(
        said.contains("py:sphinx") && said.contains("jupytext --to"),
        "{said}"
    );
    let export = jellycell(
        &["export", "notebooks/gallery.py", "--to", "ipynb", "-o", "-"],
        root,
    );
    assert_eq!(export.status.code(), Some(2));
    assert!(export.stdout.is_empty());
}

/// Cells of an R notebook are not analysed as Python.
#[test]
fn r_notebooks_get_no_python_syntax_errors() {
    let r = std::fs::read_to_string(fixture("formats/r_kernel.md")).unwrap();
    let dir = project(&[("notebooks/stats.md", &r)]);
    let root = dir.path();
    assert!(rules_reported(root, &[]).is_empty());
    // `run` asks for the notebook's own kernel (none is installed here).
    let run = jellycell(&["run", "notebooks/stats.md"], root);
    let said = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{said}");
    assert!(said.contains("ir"), "{said}");
    // The same cells in a Python notebook are Python syntax errors.
    let as_python = r
        .replace(
            "  display_name: R\n  language: R\n  name: ir\n",
            "  display_name: Python 3\n  language: python\n  name: python3\n",
        )
        .replace("{code-cell} r", "{code-cell} ipython3");
    std::fs::write(root.join("notebooks/stats.md"), as_python).unwrap();
    assert!(rules_reported(root, &[]).contains(&"python-syntax-error".to_string()));
}

/// `#       %%bash` in a comment is not `marker-no-space` (jupytext keeps it a comment),
/// and `--check --fix` leaves the cells jupytext reads as they were; a real
/// `# %%tags=...` is still reported.
#[test]
fn marker_no_space_only_where_jupytext_glues_the_line() {
    let gallery = std::fs::read_to_string(fixture("formats/gallery_comments.py")).unwrap();
    let glued = std::fs::read_to_string(fixture("formats/glued_marker.py")).unwrap();
    let dir = project(&[
        ("notebooks/gallery.py", &gallery),
        ("notebooks/glued.py", &glued),
    ]);
    let root = dir.path();
    let path = root.join("notebooks/gallery.py");
    let before = jupytext_cell_types(&path);
    assert!(!rules_reported(root, &["notebooks/gallery.py"]).contains(&"marker-no-space".into()));
    let output = jellycell(&["--check", "--fix", "notebooks/gallery.py"], root);
    assert_ne!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert_eq!(jupytext_cell_types(&path), before);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), gallery);
    assert_eq!(
        rules_reported(root, &["notebooks/glued.py"]),
        ["marker-no-space"]
    );
}

//! `jellycell-lsp sync` through the real binary on real files: the newest side of a
//! jupytext pairing wins, the `.ipynb` keeps its outputs (and gets the cached ones of a real
//! kernel run), both sides edited is refused with nothing written, `--check --fix` syncs,
//! and a paired path that is a FIFO or a folder is refused without hanging. The result is
//! compared with real `jupytext --sync` on the same files.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use support::git::git;
use support::process::bounded;
use support::project::TestProject;
use support::python::python;

const PAIRING: (&str, &str) = ("jupytext.toml", "formats = \"ipynb,py:percent\"\n");

fn sync(project: &TestProject, args: &[&str]) -> Output {
    let mut all = vec!["sync"];
    all.extend_from_slice(args);
    bounded(project.command(&all), Duration::from_secs(120))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json_report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "no JSON report ({error}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            stderr(output)
        )
    })
}

/// The cells of an `.ipynb` as (cell_type, source).
fn ipynb_cells(project: &TestProject, relative: &str) -> Vec<(String, String)> {
    let notebook: Value = serde_json::from_str(&project.read(relative)).expect("ipynb is JSON");
    notebook["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .map(|cell| {
            (
                cell["cell_type"].as_str().unwrap_or("").to_string(),
                source_of(cell),
            )
        })
        .collect()
}

fn source_of(cell: &Value) -> String {
    match &cell["source"] {
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        Value::String(text) => text.clone(),
        _ => String::new(),
    }
}

/// Sets a file's modification time `seconds` from now (negative: in the past), so which
/// side is newer does not depend on the clock's resolution.
fn set_mtime(project: &TestProject, relative: &str, seconds: i64) {
    let now = SystemTime::now();
    let time = if seconds >= 0 {
        now + Duration::from_secs(seconds.unsigned_abs())
    } else {
        now - Duration::from_secs(seconds.unsigned_abs())
    };
    let file = std::fs::File::options()
        .write(true)
        .open(project.path(relative))
        .expect("open");
    file.set_modified(time).expect("set mtime");
}

fn code(source: &str, outputs: Value, id: &str) -> Value {
    json!({"cell_type": "code", "execution_count": 1, "id": id, "metadata": {},
           "outputs": outputs, "source": source})
}

fn ipynb(cells: Vec<Value>) -> String {
    serde_json::to_string_pretty(&json!({
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }))
    .unwrap()
}

fn stream(text: &str) -> Value {
    json!([{"name": "stdout", "output_type": "stream", "text": text}])
}

/// [`stream`] as nbformat writes it: the text as a list of lines.
fn written_stream(text: &str) -> Value {
    json!([{"name": "stdout", "output_type": "stream", "text": text.split_inclusive('\n').collect::<Vec<_>>()}])
}

#[test]
fn text_edited_updates_the_ipynb_and_a_new_text_cell_gets_none_of_its_outputs() {
    let project = TestProject::new(&[
        PAIRING,
        ("notebooks/a.py", "# %%\nx = 1\n\n# %%\nprint(x)\n"),
    ]);
    // No PATHS: the project's notebooks; the .ipynb does not exist yet.
    let first = sync(&project, &["--json"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let report = json_report(&first);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["notebooks"][0]["status"], "written", "{report}");
    assert!(
        stderr(&first).contains("wrote notebooks/a.ipynb from notebooks/a.py"),
        "{}",
        stderr(&first)
    );
    assert_eq!(
        ipynb_cells(&project, "notebooks/a.ipynb"),
        [
            ("code".into(), "x = 1".into()),
            ("code".into(), "print(x)".into())
        ]
    );
    // The .ipynb is run in Jupyter (outputs), then the text is edited: a new cell.
    let mut notebook: Value = serde_json::from_str(&project.read("notebooks/a.ipynb")).unwrap();
    notebook["cells"][1]["outputs"] = stream("1\n");
    notebook["cells"][1]["execution_count"] = json!(2);
    let id = notebook["cells"][1]["id"].clone();
    project.write(
        "notebooks/a.ipynb",
        &serde_json::to_string_pretty(&notebook).unwrap(),
    );
    project.write(
        "notebooks/a.py",
        "# %%\nx = 1\n\n# %%\ny = 2\n\n# %%\nprint(x)\n",
    );
    set_mtime(&project, "notebooks/a.ipynb", -60);
    let second = sync(&project, &["notebooks/a.py"]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    let synced: Value = serde_json::from_str(&project.read("notebooks/a.ipynb")).unwrap();
    let cells = synced["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 3);
    assert_eq!(source_of(&cells[1]), "y = 2");
    assert_eq!(
        cells[1]["outputs"],
        json!([]),
        "the new cell has no outputs"
    );
    assert_eq!(
        cells[2]["outputs"],
        written_stream("1\n"),
        "the unchanged cell keeps its outputs"
    );
    assert_eq!(cells[2]["execution_count"], 2);
    assert_eq!(cells[2]["id"], id, "and its cell id");
    // Nothing left to do: in sync, nothing written.
    let before = project.read("notebooks/a.ipynb");
    let third = sync(&project, &["--json", "notebooks/a.ipynb"]);
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    assert_eq!(json_report(&third)["notebooks"][0]["status"], "in-sync");
    assert_eq!(project.read("notebooks/a.ipynb"), before);
}

#[test]
fn ipynb_edited_updates_the_text_with_its_new_cell() {
    let project = TestProject::new(&[
        PAIRING,
        (
            "notebooks/a.py",
            "# %%\nx = 1\n\n# %% [markdown]\n# Notes\n",
        ),
    ]);
    assert_eq!(sync(&project, &[]).status.code(), Some(0));
    let mut notebook: Value = serde_json::from_str(&project.read("notebooks/a.ipynb")).unwrap();
    notebook["cells"][0]["source"] = json!("x = 10");
    notebook["cells"]
        .as_array_mut()
        .unwrap()
        .push(code("print(x)", json!([]), "new-cell"));
    project.write(
        "notebooks/a.ipynb",
        &serde_json::to_string_pretty(&notebook).unwrap(),
    );
    // Even with the text's mtime newer, the record of the last sync says only the
    // .ipynb changed.
    set_mtime(&project, "notebooks/a.py", 60);
    let output = sync(&project, &["notebooks/a.ipynb"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("wrote notebooks/a.py from notebooks/a.ipynb"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        project.read("notebooks/a.py"),
        "# %%\nx = 10\n\n# %% [markdown]\n# Notes\n\n# %%\nprint(x)\n"
    );
}

#[test]
fn both_sides_edited_is_refused_and_nothing_is_written() {
    let project = TestProject::new(&[PAIRING, ("notebooks/a.py", "# %%\nx = 1\n")]);
    assert_eq!(sync(&project, &[]).status.code(), Some(0));
    project.write("notebooks/a.py", "# %%\nx = 2\n");
    let mut notebook: Value = serde_json::from_str(&project.read("notebooks/a.ipynb")).unwrap();
    notebook["cells"][0]["source"] = json!("x = 3");
    let edited = serde_json::to_string_pretty(&notebook).unwrap();
    project.write("notebooks/a.ipynb", &edited);
    let output = sync(&project, &["--json", "notebooks/a.py"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("notebooks/a.ipynb") && message.contains("notebooks/a.py"),
        "names both files: {message}"
    );
    assert!(message.contains("nothing was written"), "{message}");
    assert!(
        message.contains("git checkout --"),
        "says how to resolve: {message}"
    );
    assert_eq!(json_report(&output)["notebooks"][0]["status"], "refused");
    assert_eq!(project.read("notebooks/a.py"), "# %%\nx = 2\n");
    assert_eq!(project.read("notebooks/a.ipynb"), edited);
    // Resolved by deleting the stale side: the text wins, the .ipynb is written again.
    std::fs::remove_file(project.path("notebooks/a.ipynb")).unwrap();
    assert_eq!(sync(&project, &["notebooks/a.py"]).status.code(), Some(0));
    assert_eq!(
        ipynb_cells(&project, "notebooks/a.ipynb"),
        [("code".into(), "x = 2".into())]
    );
}

#[test]
fn without_a_record_the_newer_side_wins_by_modification_time_and_outputs_are_kept() {
    // A header pairing this time, and an .ipynb made elsewhere (no sync record).
    let header = "# ---\n# jupyter:\n#   jupytext:\n#     formats: ipynb,py:percent\n# ---\n\n";
    let project = TestProject::new(&[(
        "notebooks/b.py",
        &format!("{header}# %%\nimport math\n\n# %%\nprint(math.pi)\n\n# %%\nnew = 1\n"),
    )]);
    project.write(
        "notebooks/b.ipynb",
        &ipynb(vec![
            code("import math", json!([]), "first"),
            code("print(math.pi)", stream("3.14\n"), "second"),
        ]),
    );
    set_mtime(&project, "notebooks/b.ipynb", -60);
    let output = sync(&project, &["notebooks/b.py"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let synced: Value = serde_json::from_str(&project.read("notebooks/b.ipynb")).unwrap();
    let cells = synced["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 3);
    assert_eq!(cells[1]["outputs"], written_stream("3.14\n"));
    assert_eq!(cells[1]["id"], "second");
    assert_eq!(source_of(&cells[2]), "new = 1");

    // The .ipynb newer (no record for c): its cells win, a new cell reaches the text.
    let project = TestProject::new(&[PAIRING, ("notebooks/c.py", "# %%\nx = 1\n")]);
    project.write(
        "notebooks/c.ipynb",
        &ipynb(vec![
            code("x = 1", json!([]), "a"),
            code("y = 2", json!([]), "b"),
        ]),
    );
    set_mtime(&project, "notebooks/c.py", -60);
    let output = sync(&project, &["notebooks/c.py"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        project
            .read("notebooks/c.py")
            .ends_with("# %%\nx = 1\n\n# %%\ny = 2\n"),
        "{}",
        project.read("notebooks/c.py")
    );
}

#[test]
fn outputs_are_filled_from_the_cache_of_a_real_kernel_run() {
    let project = TestProject::new(&[
        PAIRING,
        ("notebooks/r.py", "# %%\nx = 6 * 7\n\n# %%\nprint(x)\n"),
    ]);
    let (code, report) = project.run("notebooks/r.py", &[]);
    assert_eq!(code, 0, "{report}");
    let output = sync(&project, &["notebooks/r.py"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let synced: Value = serde_json::from_str(&project.read("notebooks/r.ipynb")).unwrap();
    let printed = &synced["cells"][1]["outputs"][0];
    assert_eq!(printed["output_type"], "stream", "{synced}");
    assert_eq!(source_of(&json!({"source": printed["text"]})), "42\n");
}

#[test]
fn check_fix_syncs_the_pair_and_the_finding_is_gone() {
    let project = TestProject::new(&[PAIRING, ("notebooks/a.py", "# %%\nx = 1\n")]);
    project.write(
        "notebooks/a.ipynb",
        &ipynb(vec![code("x = 2", stream("kept\n"), "a")]),
    );
    set_mtime(&project, "notebooks/a.ipynb", -60);
    let check = project.output(&["--check", "notebooks/a.py"]);
    assert_eq!(check.status.code(), Some(1));
    let found = String::from_utf8_lossy(&check.stdout).into_owned() + &stderr(&check);
    assert!(
        found.contains("paired-out-of-sync") && found.contains("jellycell-lsp sync"),
        "{found}"
    );
    let fixed = project.output(&["--check", "--fix", "notebooks/a.py"]);
    assert_eq!(
        fixed.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&fixed.stdout),
        stderr(&fixed)
    );
    assert!(
        stderr(&fixed).contains("wrote notebooks/a.ipynb from notebooks/a.py"),
        "{}",
        stderr(&fixed)
    );
    let synced: Value = serde_json::from_str(&project.read("notebooks/a.ipynb")).unwrap();
    assert_eq!(source_of(&synced["cells"][0]), "x = 1");
    // jupytext's combine rule: the edited cell keeps its place's outputs.
    assert_eq!(synced["cells"][0]["outputs"], written_stream("kept\n"));
}

#[test]
fn a_fifo_or_a_folder_in_place_of_the_ipynb_is_refused_without_hanging() {
    let project = TestProject::new(&[PAIRING, ("notebooks/a.py", "# %%\nx = 1\n")]);
    let fifo = project.path("notebooks/a.ipynb");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let output = sync(&project, &["notebooks/a.py"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("FIFO") || stderr(&output).contains("fifo"),
        "{}",
        stderr(&output)
    );
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo_like());
    std::fs::remove_file(&fifo).unwrap();
    std::fs::create_dir(&fifo).unwrap();
    let output = sync(&project, &["notebooks/a.py"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("directory"), "{}", stderr(&output));
    assert!(fifo.is_dir(), "the folder is left alone");
}

trait FifoLike {
    fn is_fifo_like(&self) -> bool;
}

impl FifoLike for std::fs::FileType {
    fn is_fifo_like(&self) -> bool {
        use std::os::unix::fs::FileTypeExt;
        self.is_fifo()
    }
}

/// The `.ipynb` with the ids of cells that had none before blanked: jupytext draws them
/// at random.
fn without_new_ids(text: &str) -> String {
    let mut notebook: Value = serde_json::from_str(text).expect("ipynb is JSON");
    for cell in notebook["cells"].as_array_mut().into_iter().flatten() {
        if !matches!(cell["id"].as_str(), Some("one" | "three")) {
            cell["id"] = json!("new");
        }
    }
    serde_json::to_string_pretty(&notebook).unwrap_or_default()
}

/// One pair given to both tools: the text file's name and text, the existing .ipynb's
/// cells, and whether the .ipynb is the newer side.
struct Case {
    name: &'static str,
    pairing: (&'static str, &'static str),
    file: &'static str,
    text: String,
    cells: Vec<Value>,
    ipynb_newer: bool,
}

#[test]
fn both_files_equal_what_jupytext_sync_writes() {
    let header = "# ---\n# jupyter:\n#   jupytext:\n#     formats: ipynb,py:percent\n# ---\n\n";
    let text = "# %%\nimport math\n\n# %% [markdown]\n# Some *notes*\n\n# %% tags=[\"keep\"]\nprint(math.e)\n";
    let myst = "---\njupytext:\n  formats: ipynb,md:myst\n---\n\n```{code-cell}\nimport math\n```\n\nSome *notes*\n\n```{code-cell}\n:tags: [keep]\n\nprint(math.e)\n```\n";
    let cells = || {
        vec![
            code("import math", json!([]), "one"),
            code("print(math.e)", stream("2.718\n"), "three"),
        ]
    };
    let no_pairing_file = ("README.md", "x\n");
    let cases = [
        Case {
            name: "text newer, no header",
            pairing: PAIRING,
            file: "a.py",
            text: text.into(),
            cells: cells(),
            ipynb_newer: false,
        },
        Case {
            name: "text newer, header pairing",
            pairing: no_pairing_file,
            file: "a.py",
            text: format!("{header}{text}"),
            cells: cells(),
            ipynb_newer: false,
        },
        Case {
            name: "ipynb newer, a cell more",
            pairing: PAIRING,
            file: "a.py",
            text: "# %%\nimport math\n".into(),
            cells: cells(),
            ipynb_newer: true,
        },
        Case {
            name: "MyST newer",
            pairing: no_pairing_file,
            file: "a.md",
            text: myst.into(),
            cells: cells(),
            ipynb_newer: false,
        },
    ];
    for case in cases {
        let name = case.name;
        let file = format!("notebooks/{}", case.file);
        let mut results = Vec::new();
        for tool in ["ours", "jupytext"] {
            let project = TestProject::new(&[case.pairing, (&file, &case.text)]);
            project.write("notebooks/a.ipynb", &ipynb(case.cells.clone()));
            let older = if case.ipynb_newer {
                file.as_str()
            } else {
                "notebooks/a.ipynb"
            };
            set_mtime(&project, older, -60);
            let output = if tool == "ours" {
                sync(&project, &[&file])
            } else {
                let mut command = Command::new(python());
                command
                    .args(["-m", "jupytext", "--sync", &file])
                    .current_dir(project.root());
                bounded(command, Duration::from_secs(120))
            };
            assert!(
                output.status.success(),
                "{name}, {tool}: {}",
                stderr(&output)
            );
            results.push((
                project.read(&file),
                without_new_ids(&project.read("notebooks/a.ipynb")),
            ));
        }
        assert_eq!(
            results[0].0, results[1].0,
            "{name}: the text differs from jupytext's"
        );
        assert_eq!(
            results[0].1, results[1].1,
            "{name}: the .ipynb differs from jupytext's"
        );
    }
}

#[test]
fn unpaired_notebooks_and_other_files_are_left_alone() {
    let project = TestProject::new(&[("notebooks/solo.py", "# %%\nx = 1\n")]);
    let output = sync(&project, &["--json", "notebooks/solo.py"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json_report(&output)["notebooks"], json!([]));
    assert!(!Path::new(&project.path("notebooks/solo.ipynb")).exists());
    project.write("notes.txt", "hello\n");
    let usage = sync(&project, &["notes.txt"]);
    assert_eq!(usage.status.code(), Some(2), "{}", stderr(&usage));
    let missing = sync(&project, &["notebooks/nope.py"]);
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
}

#[test]
fn the_record_of_the_last_sync_holds_when_run_from_another_folder() {
    // No jellycell.toml: the project is the notebook's folder, below the current one.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("jupytext.toml"), PAIRING.1).unwrap();
    std::fs::write(dir.path().join("sub/a.py"), "# %%\nx = 1\n").unwrap();
    let run = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"));
        command.arg("sync").args(args).current_dir(dir.path());
        bounded(command, Duration::from_secs(120))
    };
    assert_eq!(run(&["sub/a.py"]).status.code(), Some(0));
    let ipynb = dir.path().join("sub/a.ipynb");
    let mut notebook: Value =
        serde_json::from_str(&std::fs::read_to_string(&ipynb).unwrap()).unwrap();
    notebook["cells"][0]["source"] = json!("x = 5");
    std::fs::write(&ipynb, serde_json::to_string(&notebook).unwrap()).unwrap();
    let text = std::fs::File::options()
        .write(true)
        .open(dir.path().join("sub/a.py"))
        .unwrap();
    text.set_modified(SystemTime::now() + Duration::from_secs(60))
        .unwrap();
    let output = run(&["sub"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sub/a.py")).unwrap(),
        "# %%\nx = 5\n"
    );
}

/// A committed, in-sync pair and no record of our own (a fresh clone): the pair at `HEAD`
/// is the last sync. Checkouts set modification times at random, so the side whose cells
/// changed since the commit wins even when the other is newer on disk, and both changed
/// is refused.
#[test]
fn without_a_record_the_last_commit_decides_which_side_changed() {
    let project = TestProject::new(&[PAIRING, ("notebooks/a.py", "# %%\nx = 1\n")]);
    assert_eq!(sync(&project, &["notebooks/a.py"]).status.code(), Some(0));
    git(project.root(), &["init", "-q"]);
    git(
        project.root(),
        &["add", "jupytext.toml", "jellycell.toml", "notebooks"],
    );
    git(project.root(), &["commit", "-qm", "paired"]);
    let fresh_clone = || {
        let cache = project.path(".jellycell");
        if cache.exists() {
            std::fs::remove_dir_all(cache).expect("remove the cache");
        }
    };

    // The text edited, the .ipynb touched later (its outputs, say): the text still wins.
    fresh_clone();
    project.write("notebooks/a.py", "# %%\nx = 2\n");
    set_mtime(&project, "notebooks/a.py", -60);
    let output = sync(&project, &["notebooks/a.py"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        ipynb_cells(&project, "notebooks/a.ipynb"),
        [("code".into(), "x = 2".into())]
    );
    assert_eq!(project.read("notebooks/a.py"), "# %%\nx = 2\n");
    git(project.root(), &["commit", "-qam", "x = 2"]);

    // Both sides edited since the commit: refused, nothing written.
    fresh_clone();
    project.write("notebooks/a.py", "# %%\nx = 3\n");
    let mut notebook: Value = serde_json::from_str(&project.read("notebooks/a.ipynb")).unwrap();
    notebook["cells"][0]["source"] = json!("x = 4");
    let edited = serde_json::to_string_pretty(&notebook).unwrap();
    project.write("notebooks/a.ipynb", &edited);
    let output = sync(&project, &["notebooks/a.py"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("changed since the last commit"),
        "{}",
        stderr(&output)
    );
    assert_eq!(project.read("notebooks/a.py"), "# %%\nx = 3\n");
    assert_eq!(project.read("notebooks/a.ipynb"), edited);
}

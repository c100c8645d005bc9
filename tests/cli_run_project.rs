//! `run` from the terminal through the real binary and a real ipykernel (with the real
//! jellycell 1.4.0 importable, so the runner's context comment is appended to each cell):
//! whole projects in dependency order with one summary, tracebacks named by file and
//! line with the context comment hidden, IPython's UsageError message, `--json`
//! tracebacks without colours, the kernel start time, `cache show`, `init`/`new` as
//! jellycell's users expect them (checked with the real `jellycell lint` and `run`), the
//! `check` command hint, and papermill's executed notebook with `-p ... --output`.

mod support;

use serde_json::Value;
use support::jellycell::jellycell;
use support::project::TestProject;

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `a_report.py` reads what `b_prep.py` saves: alphabetical order is the wrong one.
fn two_notebooks() -> TestProject {
    TestProject::new(&[
        (
            "notebooks/a_report.py",
            "# %% tags=[\"jc.load\", \"name=summary_in\"]\nimport json\nwith open(\"artifacts/summary.json\") as f:\n    summary = json.load(f)\nprint(\"total\", summary[\"n\"])\n\n# %% tags=[\"jc.load\"]\nimport jellycell.api as jc\nagain = jc.load(\"artifacts/summary.json\")\n",
        ),
        (
            "notebooks/b_prep.py",
            "# %% tags=[\"jc.step\", \"name=save\"]\nimport jellycell.api as jc\njc.save({\"n\": 3}, \"artifacts/summary.json\")\n",
        ),
    ])
}

#[test]
fn run_with_no_path_runs_the_project_in_dependency_order_with_one_summary() {
    let project = two_notebooks();
    std::fs::create_dir_all(project.path("artifacts")).unwrap();
    let output = project.output(&["run"]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    let prep = out.find("notebooks/b_prep.py:").expect("prep ran");
    let report = out.find("notebooks/a_report.py:").expect("report ran");
    assert!(prep < report, "the producer runs first: {out}");
    assert!(
        out.contains("2 notebooks: 3 ran, 0 cached, 0 failed, 0 skipped in "),
        "{out}"
    );
    assert!(out.contains(" ms starting 2 kernels)"), "{out}");
    let again = text(&project.output(&["run", "notebooks"]));
    assert!(
        again.contains("2 notebooks: 0 ran, 3 cached"),
        "a folder runs its notebooks: {again}"
    );
}

#[test]
fn several_notebooks_give_one_json_report_and_stop_after_a_failure() {
    let project = two_notebooks();
    std::fs::create_dir_all(project.path("artifacts")).unwrap();
    project.write(
        "notebooks/b_prep.py",
        "# %% tags=[\"jc.step\", \"name=save\"]\nimport jellycell.api as jc\nraise ValueError(\"no data\")\njc.save({\"n\": 3}, \"artifacts/summary.json\")\n",
    );
    let output = project.output(&[
        "run",
        "notebooks/a_report.py",
        "notebooks/b_prep.py",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["status"], "error");
    let notebooks = report["notebooks"].as_array().unwrap();
    assert_eq!(
        notebooks.len(),
        1,
        "the consumer is not run after its producer failed: {report}"
    );
    assert_eq!(notebooks[0]["notebook"], "notebooks/b_prep.py");
}

const FAILING: &str = "# %% tags=[\"jc.step\", \"name=helpers\"]\ndef f():\n    raise ValueError(\"kaboom\")\n\n# %% tags=[\"jc.step\", \"name=bad\", \"deps=helpers\"]\nx = 1\nf()\n";

#[test]
fn tracebacks_name_the_notebook_file_and_line_and_never_show_the_context_comment() {
    let project = TestProject::new(&[("notebooks/prep.py", FAILING)]);
    let output = project.output(&["run", "notebooks/prep.py"]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.contains("File notebooks/prep.py:7"),
        "the failing cell's frame: {out}"
    );
    assert!(
        out.contains("File notebooks/prep.py:3, in f()"),
        "the helper's frame: {out}"
    );
    assert!(!out.contains("Cell In["), "{out}");
    assert!(!out.contains("jellycell-lsp-context"), "{out}");
    assert!(
        out.contains(" ms starting the kernel)"),
        "the summary says the kernel start: {out}"
    );
}

#[test]
fn json_tracebacks_have_no_colours_name_the_location_and_keep_the_raw_text() {
    let project = TestProject::new(&[("notebooks/prep.py", FAILING)]);
    let (code, report) = project.run("notebooks/prep.py", &[]);
    assert_eq!(code, 1);
    assert!(report["kernel_start_ms"].as_u64().unwrap() > 0, "{report}");
    let error = &report["cells"][1]["error"];
    let traceback: Vec<&str> = error["traceback"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line.as_str().unwrap())
        .collect();
    let joined = traceback.join("\n");
    assert!(!joined.contains('\u{1b}'), "{joined}");
    assert!(joined.contains("File notebooks/prep.py:7"), "{joined}");
    assert!(!joined.contains("jellycell-lsp-context"), "{joined}");
    assert_eq!(error["location"]["path"], "notebooks/prep.py");
    assert_eq!(error["location"]["line"], 7);
    let raw = error["traceback_raw"].as_array().unwrap();
    assert!(
        raw.iter()
            .any(|line| line.as_str().unwrap().contains('\u{1b}')),
        "the raw copy keeps IPython's colours"
    );
}

#[test]
fn a_usage_error_prints_the_kernels_message() {
    let project = TestProject::new(&[("notebooks/m.py", "# %%\n%notamagic 1\n")]);
    let output = project.output(&["run", "notebooks/m.py"]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.contains("UsageError: Line magic function `%notamagic` not found."),
        "{out}"
    );
    assert!(!out.contains("the cell failed"), "{out}");
}

/// Outputs are untrusted: a cell that prints OSC 52 (write the clipboard), a title change, a
/// screen clear or a C1 CSI must not reach the terminal through `cache show` (a pipe here,
/// so no colour codes either); `--json` keeps the output as the kernel sent it.
#[test]
fn cache_show_never_prints_terminal_control_sequences_from_outputs() {
    let project = TestProject::new(&[(
        "notebooks/evil.py",
        r#"# %% tags=["jc.step", "name=evil"]
print("a\x1b]52;c;ZXZpbA==\x07b\x1b]0;title\x1b\\c\x1b[2J\x1b[31mred\x1b[0m\x07\x08\x9b2Jd")
"#,
    )]);
    let (code, _) = project.run("notebooks/evil.py", &[]);
    assert_eq!(code, 0);
    let shown = project.output(&["cache", "show", "evil"]);
    let out = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert_eq!(shown.status.code(), Some(0), "{out}");
    assert!(out.contains("abcred2Jd"), "{out:?}");
    assert!(
        !out.chars().any(|c| c.is_control() && c != '\n'),
        "control characters reached the terminal: {out:?}"
    );
    let json = project.output(&["cache", "show", "evil", "--json"]);
    let json = String::from_utf8_lossy(&json.stdout);
    assert!(
        json.contains(r"\u001b]52;c;"),
        "--json keeps the raw output: {json}"
    );
}

#[test]
fn cache_show_prints_outputs_by_name_and_by_notebook_line() {
    let project = TestProject::new(&[
        (
            "jellycell.toml",
            "[project]\nname = \"t\"\n\n[viewer]\nport = 5199\n",
        ),
        (
            "notebooks/prep.py",
            "# %% tags=[\"jc.step\", \"name=hello\"]\nprint(\"hello from the cache\")\n6 * 7\n\n# %% tags=[\"jc.figure\", \"name=dot\"]\nfrom IPython.display import Image, display\nimport base64\ndisplay(Image(data=base64.b64decode(\"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==\")))\n\n# %% tags=[\"jc.step\", \"name=boom\"]\nraise KeyError(\"gone\")\n",
        ),
    ]);
    let (code, _) = project.run("notebooks/prep.py", &["--keep-going"]);
    assert_eq!(code, 1);
    let by_name = text(&project.output(&["cache", "show", "hello"]));
    assert!(
        by_name.contains("notebooks/prep.py:1 [0] hello — cached"),
        "{by_name}"
    );
    assert!(
        by_name.contains("hello from the cache") && by_name.contains("42"),
        "{by_name}"
    );
    let image = text(&project.output(&["cache", "show", "notebooks/prep.py:7"]));
    assert!(
        image.contains("[image/png · 70 B] http://127.0.0.1:5199/blob/"),
        "{image}"
    );
    let error = text(&project.output(&["cache", "show", "boom"]));
    assert!(
        error.contains("KeyError: 'gone'") && error.contains("File notebooks/prep.py:11"),
        "{error}"
    );
    project.write(
        "notebooks/prep.py",
        &project
            .read("notebooks/prep.py")
            .replace("6 * 7", "6 * 7  # the answer"),
    );
    let stale = text(&project.output(&["cache", "show", "hello"]));
    assert!(
        stale.contains("stale: these outputs are from an earlier version"),
        "{stale}"
    );
    let missing = project.output(&["cache", "show", "helo"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing).contains("did you mean \"hello\"?"),
        "{}",
        text(&missing)
    );
}

#[test]
fn check_and_lint_as_commands_point_to_the_check_flag() {
    let project = TestProject::new(&[]);
    for word in ["check", "lint"] {
        let output = project.output(&[word, "notebooks"]);
        assert_eq!(output.status.code(), Some(2));
        assert!(
            text(&output).contains("run `jellycell-lsp --check notebooks`"),
            "{}",
            text(&output)
        );
    }
}

#[test]
fn init_and_new_write_a_project_that_python_jellycell_lints_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let project = TestProject::new(&[]);
    let root = dir.path().join("study");
    let mut init = project.command(&["init", root.to_str().unwrap(), "--name", "study", "--json"]);
    let output = init.output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["name"], "study");
    assert_eq!(
        report["created"],
        serde_json::json!([
            "jellycell.toml",
            "notebooks/",
            "data/",
            "artifacts/",
            "site/",
            "manuscripts/"
        ])
    );
    let again = project
        .command(&["init", root.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(1),
        "an existing jellycell.toml is kept"
    );
    let mut new = project.command(&["new", "sales-report"]);
    let output = new.current_dir(&root).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let notebook = std::fs::read_to_string(root.join("notebooks/sales-report.py")).unwrap();
    assert!(notebook.contains("# # Sales Report"), "{notebook}");
    let lint = jellycell(&root, &["lint"]);
    assert_eq!(
        lint.status.code(),
        Some(0),
        "jellycell lint: {}",
        text(&lint)
    );
    let run = jellycell(&root, &["--json", "run", "notebooks/sales-report.py"]);
    assert_eq!(run.status.code(), Some(0), "jellycell run: {}", text(&run));
    let check = project
        .command(&["--check"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    let ours = project
        .command(&["run"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert_eq!(ours.status.code(), Some(0), "{}", text(&ours));
}

const PARAMETERISED: &str = "# %% tags=[\"parameters\"]\nalpha = 0.1\nlabel = \"base\"\n\n# %% tags=[\"jc.step\", \"name=use\"]\nprint(alpha * 10, label)\n";

#[test]
fn parameters_with_output_write_a_papermill_notebook_and_unknown_names_warn() {
    let project = TestProject::new(&[("notebooks/p.py", PARAMETERISED)]);
    let output = project.output(&[
        "run",
        "notebooks/p.py",
        "-p",
        "alpha",
        "0.5",
        "-p",
        "colour",
        "red",
        "--output",
        "out.ipynb",
    ]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(out.contains("Passed unknown parameter: colour"), "{out}");
    assert!(!out.contains("unknown parameter: alpha"), "{out}");
    let notebook: Value = serde_json::from_str(&project.read("out.ipynb")).unwrap();
    assert_eq!(
        notebook["metadata"]["papermill"]["parameters"]["alpha"],
        0.5
    );
    assert_eq!(
        notebook["metadata"]["papermill"]["parameters"]["colour"],
        "red"
    );
    let cells = notebook["cells"].as_array().unwrap();
    assert_eq!(
        cells[0]["metadata"]["tags"],
        serde_json::json!(["parameters"])
    );
    assert_eq!(
        cells[1]["metadata"]["tags"],
        serde_json::json!(["injected-parameters"])
    );
    let injected = cells[1]["source"].as_array().map_or_else(
        || cells[1]["source"].as_str().unwrap_or_default().to_string(),
        |lines| lines.iter().filter_map(Value::as_str).collect::<String>(),
    );
    assert!(
        injected.contains("alpha = 0.5") && injected.starts_with("# Parameters"),
        "{injected}"
    );
    let used = &cells[2];
    assert_eq!(used["metadata"]["papermill"]["status"], "completed");
    let printed = used["outputs"][0]["text"].as_array().map_or_else(
        || {
            used["outputs"][0]["text"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        },
        |lines| lines.iter().filter_map(Value::as_str).collect::<String>(),
    );
    assert_eq!(
        printed, "5.0 base\n",
        "the outputs of this parameter set: {used}"
    );
    // nbformat and papermill's reader accept it.
    let validate = std::process::Command::new(support::python::python())
        .args(["-c", "import nbformat, sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4)); print('valid')"])
        .arg(project.path("out.ipynb"))
        .output()
        .unwrap();
    assert!(validate.status.success(), "{}", text(&validate));
    let export = project.output(&[
        "export",
        "notebooks/p.py",
        "--to",
        "ipynb",
        "-o",
        "-",
        "-p",
        "alpha",
        "0.5",
        "-p",
        "colour",
        "red",
    ]);
    let exported: Value = serde_json::from_slice(&export.stdout)
        .unwrap_or_else(|_| panic!("export: {}", text(&export)));
    assert_eq!(
        exported["cells"][2]["outputs"][0]["text"], used["outputs"][0]["text"],
        "export shows the outputs of that parameter set"
    );
}

//! `preview -p NAME VALUE` / `--params-file` and `export --to html -p` show the outputs of
//! the run with those parameters (`run -p`), through the real binary: a real run with
//! the test kernel, then real HTTP requests to the preview and the exported file.

mod support;

use serde_json::Value;
use support::preview::PreviewProcess;
use support::project::{TestProject, statuses};

const NOTEBOOK: &str = r#"# %% tags=["parameters"]
alpha = 1

# %% tags=["name=doubled"]
print("doubled", alpha * 2)
"#;

fn ran_with_and_without_parameters() -> TestProject {
    let project = TestProject::new(&[("notebooks/params.py", NOTEBOOK)]);
    let (code, with) = project.run("notebooks/params.py", &["-p", "alpha", "21"]);
    assert_eq!(code, 0, "{with}");
    assert_eq!(statuses(&with), ["ok", "ok"]);
    let (code, without) = project.run("notebooks/params.py", &[]);
    assert_eq!(code, 0, "{without}");
    project
}

fn state(preview: &PreviewProcess) -> Value {
    let (status, raw) = preview.get("/api/state.json");
    assert_eq!(status, 200, "{raw}");
    let body = raw.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    serde_json::from_str(body).unwrap_or_else(|error| panic!("{error}: {body}"))
}

#[test]
fn preview_with_a_parameter_shows_that_runs_outputs_and_the_injected_cell() {
    let project = ran_with_and_without_parameters();

    let preview = PreviewProcess::start_with(project.root(), &["-p", "alpha", "21"]);
    let (status, page) = preview.get("/nb/notebooks/params.py");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("doubled 42"), "the run with alpha=21: {page}");
    assert!(!page.contains("doubled 2\n"), "not the run without: {page}");
    assert!(
        page.contains("data-injected=\"parameters\"") && page.contains("injected-parameters"),
        "the injected cell is shown: {page}"
    );
    assert!(page.contains("jc-status-cached"), "{page}");
    assert!(!page.contains("jc-status jc-status-stale"), "{page}");
    assert!(
        page.contains("Outputs of the run with parameters alpha = 21"),
        "{page}"
    );
    let document = state(&preview);
    assert_eq!(document["parameters"], serde_json::json!({"alpha": 21}));
    assert_eq!(
        document["notebooks"][0]["statuses"]["cached"], 2,
        "{document}"
    );
    drop(preview);

    // The same set from a file gives the same keys.
    project.write("params.yaml", "alpha: 21\n");
    let file = project.path("params.yaml");
    let file = file.to_str().expect("a UTF-8 temp path");
    let from_file = PreviewProcess::start_with(project.root(), &["--params-file", file]);
    let (_, page) = from_file.get("/nb/notebooks/params.py");
    assert!(page.contains("doubled 42"), "{page}");
    drop(from_file);

    // Without parameters: the run without them, and no injected cell.
    let plain = PreviewProcess::start(project.root());
    let (_, page) = plain.get("/nb/notebooks/params.py");
    assert!(page.contains("doubled 2"), "{page}");
    assert!(!page.contains("doubled 42"), "{page}");
    assert!(!page.contains("data-injected"), "{page}");
    assert_eq!(state(&plain)["parameters"], serde_json::json!({}));
}

#[test]
fn a_parameter_set_never_run_shows_its_cells_stale_with_the_last_outputs_greyed() {
    let project = ran_with_and_without_parameters();
    let preview = PreviewProcess::start_with(project.root(), &["-p", "alpha", "7"]);
    let (status, page) = preview.get("/nb/notebooks/params.py");
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("doubled 14"), "{page}");
    // The parameters cell's key does not depend on them: still cached.
    assert_eq!(state(&preview)["notebooks"][0]["statuses"]["cached"], 1);
    assert_eq!(state(&preview)["notebooks"][0]["statuses"]["stale"], 1);
    assert!(page.contains("jc-outputs-stale"), "{page}");
}

#[test]
fn a_bad_parameter_is_a_usage_error() {
    let project = TestProject::new(&[("notebooks/params.py", NOTEBOOK)]);
    let output = project.output(&["preview", "--port", "0", "-p", "1x", "3"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("-p 1x") && stderr.contains("identifier"),
        "{stderr}"
    );
}

#[test]
fn export_to_html_with_a_parameter_renders_that_runs_outputs() {
    let project = ran_with_and_without_parameters();
    let output = project.output(&[
        "export",
        "--to",
        "html",
        "-p",
        "alpha",
        "21",
        "-o",
        "-",
        "notebooks/params.py",
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let html = String::from_utf8_lossy(&output.stdout);
    assert!(html.contains("doubled 42"), "{html}");
    assert!(html.contains("injected-parameters"), "{html}");
    let refused = project.output(&[
        "export",
        "--to",
        "md",
        "-p",
        "alpha",
        "21",
        "-o",
        "-",
        "notebooks/params.py",
    ]);
    assert_eq!(refused.status.code(), Some(2));
}

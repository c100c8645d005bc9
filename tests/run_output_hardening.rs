//! What a notebook or a command line can make `run` do to files, tried as an attacker
//! would, through the real binary and a real kernel: `--output` naming the notebook being
//! run (directly or through a link), a folder or a FIFO; and a cell that leaves a FIFO or
//! a link to `/dev/zero` in `artifacts/`, which the artifact scan must never open.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use support::project::TestProject;

const NOTEBOOK: &str = "# %% tags=[\"name=hello\"]\nprint(\"hello\")\n";

/// Far above what any of these commands takes; a hang is the failure it catches.
const BOUND: Duration = Duration::from_secs(300);

/// Runs `command` to completion within [`BOUND`], killing it (and failing) otherwise.
fn bounded(command: Command) -> Output {
    support::process::bounded(command, BOUND)
}

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(made.success());
}

fn manifests(project: &TestProject) -> usize {
    std::fs::read_dir(project.path(".jellycell/cache/jellycell-lsp/manifests"))
        .map(|entries| entries.count())
        .unwrap_or(0)
}

#[test]
fn output_over_the_notebook_being_run_is_refused_before_anything_runs() {
    let project = TestProject::new(&[("notebooks/nb.py", NOTEBOOK)]);
    std::os::unix::fs::symlink("notebooks/nb.py", project.path("link.ipynb")).expect("link");
    for output in [
        "notebooks/nb.py",
        "notebooks/../notebooks/nb.py",
        "link.ipynb",
    ] {
        let result = bounded(project.command(&["run", "notebooks/nb.py", "--output", output]));
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{output}: {stderr}");
        assert!(stderr.contains("is the notebook being run"), "{stderr}");
        assert!(
            stderr.contains("nb.out.ipynb"),
            "names a path to use: {stderr}"
        );
        assert_eq!(project.read("notebooks/nb.py"), NOTEBOOK, "{output}");
        assert_eq!(manifests(&project), 0, "nothing ran for {output}");
    }
}

#[test]
fn output_into_a_folder_is_refused_before_anything_runs() {
    let project = TestProject::new(&[("notebooks/nb.py", NOTEBOOK)]);
    let result = bounded(project.command(&["run", "notebooks/nb.py", "--output", "notebooks"]));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is a directory"), "{stderr}");
    assert_eq!(manifests(&project), 0);
}

#[test]
fn output_into_a_fifo_writes_into_it_and_leaves_it_a_fifo() {
    use std::os::unix::fs::FileTypeExt;
    let project = TestProject::new(&[("notebooks/nb.py", NOTEBOOK)]);
    let fifo = project.path("executed.ipynb");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap_or_default())
    };
    let result = bounded(project.command(&[
        "run",
        "notebooks/nb.py",
        "--output",
        fifo.to_str().expect("a UTF-8 temp path"),
    ]));
    assert_eq!(result.status.code(), Some(0), "{result:?}");
    let executed: Value = serde_json::from_str(&reader.join().expect("reader")).expect("ipynb");
    assert_eq!(executed["nbformat"], 4);
    let kind = std::fs::symlink_metadata(&fifo)
        .expect("still there")
        .file_type();
    assert!(kind.is_fifo(), "the FIFO was replaced: {kind:?}");
}

#[test]
fn a_fifo_or_a_link_to_a_device_left_in_artifacts_is_not_opened_and_the_run_ends() {
    let notebook = "# %% tags=[\"name=leaves\"]\nimport os\nos.makedirs(\"artifacts\", exist_ok=True)\n\
                    os.mkfifo(\"artifacts/pipe\")\nos.symlink(\"/dev/zero\", \"artifacts/zeros\")\n\
                    open(\"artifacts/table.csv\", \"w\").write(\"a,b\\n\")\nprint(\"left them\")\n";
    let project = TestProject::new(&[("notebooks/nb.py", notebook)]);
    let result = bounded(project.command(&["run", "notebooks/nb.py", "--json"]));
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert_eq!(result.status.code(), Some(0), "{stdout} {result:?}");
    let report: Value = serde_json::from_str(stdout.trim()).expect("a JSON report");
    let key = report["cells"][0]["cache_key"].as_str().expect("a key");
    let manifest: Value = serde_json::from_str(&project.read(&format!(
        ".jellycell/cache/jellycell-lsp/manifests/{key}.json"
    )))
    .expect("a manifest");
    let recorded: Vec<&str> = manifest["artifacts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|artifact| artifact["path"].as_str())
        .collect();
    assert_eq!(recorded, ["artifacts/table.csv"]);
}

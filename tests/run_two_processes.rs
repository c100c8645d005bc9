//! Two processes, one cache: while this test process holds the sled index (as an open
//! language server would), `jellycell-lsp run` in another process still succeeds, and this
//! process sees the new statuses (cached, then stale after an edit) within a second.

mod support;

use std::time::{Duration, Instant};

use jellycell_lsp::analysis::workspace::Workspace;
use jellycell_lsp::cache::{CellStatus, Store, cell_statuses};
use jellycell_lsp::project::Project;
use support::project::{TestProject, statuses};

const NOTEBOOK: &str =
    "# %% tags=[\"name=one\"]\nprint(1)\n\n# %% tags=[\"name=two\", \"deps=one\"]\nprint(2)\n";

fn load(project: &TestProject, text: &str) -> (Workspace, usize) {
    let path = project.path("notebooks/nb.py");
    let workspace = Workspace::build(
        Project::discover(&path),
        vec![jellycell_lsp::analysis::workspace::NotebookInput {
            path: path.clone(),
            text: text.to_string(),
        }],
    );
    let file = workspace
        .file_index(&path)
        .expect("the notebook is in the workspace");
    (workspace, file)
}

fn status_list(workspace: &Workspace, file: usize, store: &Store) -> Vec<CellStatus> {
    cell_statuses(workspace, file, store)
        .into_iter()
        .map(|state| state.status)
        .collect()
}

#[test]
fn run_succeeds_while_another_process_holds_the_index_and_the_holder_sees_it() {
    let project = TestProject::new(&[("notebooks/nb.py", NOTEBOOK)]);
    let (workspace, file) = load(&project, NOTEBOOK);
    let store = Store::open(&workspace.project);
    // Computing statuses opens (and from now on holds) the index in this process.
    assert_eq!(
        status_list(&workspace, file, &store),
        [CellStatus::New, CellStatus::New]
    );
    assert!(
        project
            .path(".jellycell/cache/jellycell-lsp/index")
            .is_dir(),
        "this process holds the index"
    );

    // Another process cannot take the index, yet never fails because of it.
    let rebuild = project.output(&["cache", "rebuild-index", "--json"]);
    assert_eq!(rebuild.status.code(), Some(0));
    let rebuild: serde_json::Value =
        serde_json::from_slice(&rebuild.stdout).expect("rebuild-index prints JSON");
    assert!(rebuild["note"].is_string(), "{rebuild}");

    let (code, report) = project.run("notebooks/nb.py", &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(statuses(&report), ["ok", "ok"]);

    let finished = Instant::now();
    loop {
        let now = status_list(&workspace, file, &store);
        if now == [CellStatus::Cached, CellStatus::Cached] {
            break;
        }
        assert!(
            finished.elapsed() < Duration::from_secs(60),
            "still {now:?} a minute after the run"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // The holder's index learned the other process's manifests: an edited cell is stale
    // (an earlier result exists for it), not new.
    let edited = NOTEBOOK.replace("print(1)", "print(10)");
    let (workspace, file) = load(&project, &edited);
    assert_eq!(
        status_list(&workspace, file, &store),
        [CellStatus::Stale, CellStatus::Stale]
    );

    // And the other process (which read from the files) agrees with a run: cached now.
    let (code, again) = project.run("notebooks/nb.py", &[]);
    assert_eq!(code, 0);
    assert_eq!(statuses(&again), ["cached", "cached"]);
}

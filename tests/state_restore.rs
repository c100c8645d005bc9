//! State restore's mechanism against a real ipykernel, driven through the library with the
//! names each cell defines and reads given explicitly (the CLI and editor tests get them
//! from the dataflow analysis): snapshots are written beside the outputs, a skipped
//! producer's value is restored into a fresh kernel, an unpicklable one is replayed, a
//! warm kernel restores nothing it holds, and a replay that fails caches nothing.

mod support;

use jellycell_lsp::analysis::workspace::{NotebookInput, Workspace};
use jellycell_lsp::cache::Store;
use jellycell_lsp::kernel::SpecSearch;
use jellycell_lsp::project::Project;
use jellycell_lsp::run::{
    Cancel, CellOutcome, Parameters, Plan, RunKernel, RunOptions, RunReport, execute_plan,
    execute_plan_on, plan_run,
};
use support::project::TestProject;
use support::python::python_bin_dir;

const NOTEBOOK: &str = r#"# %% tags=["jc.step", "name=make"]
df = [1, 2, 3]

# %% tags=["jc.step", "name=stream"]
gen = (i for i in range(4))

# %% tags=["jc.step", "name=use"]
print(sum(df), type(gen).__name__)
"#;

fn options() -> RunOptions {
    let bin = python_bin_dir();
    let share = bin
        .parent()
        .map(|venv| venv.join("share/jupyter"))
        .unwrap_or_default();
    RunOptions {
        search: SpecSearch {
            data_dirs: vec![share],
            path: vec![bin],
        },
        ..RunOptions::new()
    }
}

/// Plans `text` as `notebooks/n.py` with the dataflow given by hand: `make` defines `df`,
/// `stream` defines `gen`, `use` reads both.
fn plan(project: &TestProject, text: &str) -> (Project, Plan, Store) {
    project.write("notebooks/n.py", text);
    let loaded = Project::load(project.root());
    let workspace = Workspace::build(
        loaded.clone(),
        vec![NotebookInput {
            path: project.path("notebooks/n.py"),
            text: text.to_string(),
        }],
    );
    let store = Store::open(&loaded);
    let mut plan = plan_run(&workspace, 0, &Parameters::default(), false, &store);
    for cell in &mut plan.cells {
        match cell.name.as_str() {
            "make" => cell.defines = vec!["df".into()],
            "stream" => cell.defines = vec!["gen".into()],
            "use" => cell.reads = vec![("df".into(), 0), ("gen".into(), 1)],
            _ => {}
        }
    }
    (loaded, plan, store)
}

fn run(project: &TestProject, text: &str) -> RunReport {
    let (loaded, plan, store) = plan(project, text);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime
        .block_on(execute_plan(
            &loaded,
            &plan,
            &store,
            &options(),
            &mut |_| {},
        ))
        .expect("the kernel starts")
}

fn stdout(project: &TestProject, report: &RunReport, name: &str) -> String {
    let cell = report
        .cells
        .iter()
        .find(|cell| cell.name == name)
        .expect("cell in report");
    project.stdout_of(cell.cache_key.as_deref().unwrap_or_default())
}

#[test]
fn a_fresh_kernel_gets_a_skipped_producers_value_restored_and_an_unpicklable_one_replayed() {
    let project = TestProject::new(&[]);
    let first = run(&project, NOTEBOOK);
    assert!(
        first
            .cells
            .iter()
            .all(|cell| cell.status == CellOutcome::Ok),
        "{first:?}"
    );
    assert_eq!(stdout(&project, &first, "use"), "6 generator\n");
    let make = project.manifest(first.cells[0].cache_key.as_deref().unwrap_or_default());
    assert_eq!(make["snapshots"][0]["name"], "df", "{make}");
    let pickler = make["snapshots"][0]["pickler"].as_str().unwrap_or_default();
    assert!(
        ["pickle", "cloudpickle", "dill"].contains(&pickler),
        "{make}"
    );
    let stream = project.manifest(first.cells[1].cache_key.as_deref().unwrap_or_default());
    assert!(stream.get("snapshots").is_none(), "{stream}");
    let reason = stream["unsnapshotted"][0]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("cannot be pickled"), "{reason}");

    // Only `use` changes: `make` and `stream` are hits and never run in the new kernel.
    let second = run(&project, &NOTEBOOK.replace("sum(df)", "10 * sum(df)"));
    let statuses: Vec<_> = second.cells.iter().map(|cell| cell.status).collect();
    assert_eq!(
        statuses,
        [CellOutcome::Cached, CellOutcome::Cached, CellOutcome::Ok]
    );
    assert_eq!(stdout(&project, &second, "use"), "60 generator\n");
    let report: serde_json::Value = serde_json::from_str(&second.to_json()).expect("report JSON");
    assert_eq!(
        report["cells"][2]["restored"],
        serde_json::json!([{"name": "df", "from_cell": "make"}])
    );
    assert_eq!(
        report["cells"][2]["replayed"],
        serde_json::json!(["stream"])
    );
    assert_eq!(report["cells"][0]["restored"], serde_json::json!([]));
}

#[test]
fn a_warm_kernel_restores_nothing_it_holds_and_a_failed_replay_caches_nothing() {
    let project = TestProject::new(&[]);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (loaded, first_plan, store) = plan(&project, NOTEBOOK);
    let mut kernel = runtime
        .block_on(RunKernel::start(&loaded, &first_plan.kernel, &options()))
        .expect("the kernel starts");
    let execute = |plan: &Plan, kernel: &mut RunKernel| {
        runtime.block_on(execute_plan_on(
            &loaded,
            plan,
            &store,
            Some(kernel),
            false,
            &Cancel::default(),
            &mut |_| {},
        ))
    };
    let first = execute(&first_plan, &mut kernel);
    assert_eq!(first.count(CellOutcome::Ok), 3, "{first:?}");

    // The kernel holds both names from their current producers: nothing is restored or
    // replayed.
    let (_, second_plan, _) = plan(&project, &NOTEBOOK.replace("sum(df)", "2 * sum(df)"));
    let second = execute(&second_plan, &mut kernel);
    let used = &second.cells[2];
    assert_eq!(used.status, CellOutcome::Ok);
    assert!(
        used.restored.is_empty() && used.replayed.is_empty(),
        "{used:?}"
    );
    assert_eq!(stdout(&project, &second, "use"), "12 generator\n");

    // A fresh kernel whose replay of `stream` fails (its code now raises, but its cached
    // result stands for the old key, which the hand-made plan keeps): `use` reports the
    // failure and its good result under the current key is not overwritten.
    let good = second.cells[2].cache_key.clone().unwrap_or_default();
    let good_manifest = std::fs::read(project.root().join(format!(
        ".jellycell/cache/jellycell-lsp/manifests/{good}.json"
    )))
    .expect("manifest of use");
    let mut fresh = runtime
        .block_on(RunKernel::start(&loaded, &second_plan.kernel, &options()))
        .expect("the kernel starts");
    let mut forced = second_plan.clone();
    forced.cells[1].source = "raise RuntimeError('no stream today')".into();
    forced.cells[2].hit = None;
    let third = execute(&forced, &mut fresh);
    let used = &third.cells[2];
    assert_eq!(used.status, CellOutcome::Error, "{used:?}");
    let error = used.error.as_ref().expect("an error");
    assert_eq!(error.ename, "ReplayError");
    assert!(error.evalue.contains("no stream today"), "{}", error.evalue);
    assert!(used.restored.is_empty(), "replays go first: {used:?}");
    let after = std::fs::read(project.root().join(format!(
        ".jellycell/cache/jellycell-lsp/manifests/{good}.json"
    )))
    .expect("manifest of use");
    assert_eq!(after, good_manifest);
    runtime.block_on(kernel.shutdown());
    runtime.block_on(fresh.shutdown());
}

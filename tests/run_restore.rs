//! `jellycell-lsp run` with state restore, against a real ipykernel (issue #21 case 2): a
//! cached producer is skipped in the fresh kernel and what it defined comes back from its
//! snapshot; an unpicklable value is recovered by replaying its producer; the demo project
//! runs when only its last `print` changes.

mod support;

use std::path::Path;

use serde_json::{Value, json};
use support::project::{TestProject, key_of, statuses};
use support::{copy_dir, fixture};

const PARTIAL: &str = r#"# %% tags=["jc.step", "name=make"]
df = [1, 2, 3, 4]

# %% tags=["jc.step", "name=use", "deps=make"]
print(sum(df))
"#;

fn cell<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["cells"]
        .as_array()
        .and_then(|cells| cells.iter().find(|cell| cell["name"] == name))
        .unwrap_or_else(|| panic!("no cell {name} in {report}"))
}

#[test]
fn editing_only_the_reader_restores_what_the_cached_producer_defined() {
    let project = TestProject::new(&[("notebooks/n.py", PARTIAL)]);
    let (code, first) = project.run("notebooks/n.py", &[]);
    assert_eq!(code, 0, "{first}");
    assert_eq!(cell(&first, "use")["restored"], json!([]));
    let make = project.manifest(&key_of(&first, "make"));
    assert_eq!(make["snapshots"][0]["name"], "df", "{make}");
    let listed = project.output(&["cache", "list", "--json"]);
    let listed: Value = serde_json::from_slice(&listed.stdout).expect("cache list JSON");
    let entry = listed["entries"]
        .as_array()
        .and_then(|entries| {
            entries
                .iter()
                .find(|entry| entry["cache_key"] == key_of(&first, "make"))
        })
        .cloned()
        .unwrap_or_default();
    assert_eq!(entry["snapshots"], 1, "{listed}");
    assert!(
        entry["snapshot_bytes"].as_u64().unwrap_or(0) > 0,
        "{listed}"
    );

    project.write(
        "notebooks/n.py",
        &PARTIAL.replace("print(sum(df))", "print(sum(df) * 2)"),
    );
    let (code, second) = project.run("notebooks/n.py", &[]);
    assert_eq!(code, 0, "{second}");
    assert_eq!(statuses(&second), ["cached", "ok"]);
    assert_eq!(project.stdout_of(&key_of(&second, "use")), "20\n");
    assert_eq!(
        cell(&second, "use")["restored"],
        json!([{"name": "df", "from_cell": "make"}])
    );
    assert_eq!(cell(&second, "use")["replayed"], json!([]));

    // The human output says so under the cell's line.
    project.write(
        "notebooks/n.py",
        &PARTIAL.replace("print(sum(df))", "print(sum(df) * 3)"),
    );
    let output = project.output(&["run", "notebooks/n.py"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("    restored df from make\n"), "{stdout}");
}

#[test]
fn an_unpicklable_value_is_replayed_not_restored_and_the_report_says_so() {
    let notebook = r#"# %% tags=["jc.step", "name=make"]
import io
rows = [1, 2, 3]
square = lambda x: x * x
handle = io.open("jellycell.toml")

# %% tags=["jc.step", "name=use"]
print(sum(square(x) for x in rows), handle.closed)
"#;
    let project = TestProject::new(&[("notebooks/n.py", notebook)]);
    let (code, first) = project.run("notebooks/n.py", &[]);
    assert_eq!(code, 0, "{first}");
    let make = project.manifest(&key_of(&first, "make"));
    let unsnapshotted: Vec<&str> = make["unsnapshotted"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|record| record["name"].as_str())
        .collect();
    // An open file never pickles; a lambda does only with cloudpickle or dill.
    assert!(unsnapshotted.contains(&"handle"), "{make}");
    let picklers = make["snapshots"].to_string();
    let by_value = picklers.contains("cloudpickle") || picklers.contains("dill");
    assert_eq!(unsnapshotted.contains(&"square"), !by_value, "{make}");

    project.write(
        "notebooks/n.py",
        &notebook.replace("handle.closed)", "handle.closed, 1)"),
    );
    let (code, second) = project.run("notebooks/n.py", &[]);
    assert_eq!(code, 0, "{second}");
    assert_eq!(statuses(&second), ["cached", "ok"]);
    assert_eq!(project.stdout_of(&key_of(&second, "use")), "14 False 1\n");
    assert_eq!(cell(&second, "use")["replayed"], json!(["make"]));
    // The replay made every value the reader needs: nothing was restored on top.
    assert_eq!(cell(&second, "use")["restored"], json!([]));
    // The replay's outputs were discarded and its cache left alone.
    assert_eq!(cell(&second, "make")["status"], "cached");
    assert_eq!(key_of(&first, "make"), key_of(&second, "make"));
}

#[test]
fn the_demo_project_runs_when_only_its_last_print_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&fixture("demo"), dir.path());
    let project = TestProject::new(&[]);
    copy_dir(dir.path(), project.root());
    let tour = "notebooks/tour.py";
    let (code, first) = project.run(tour, &[]);
    assert_eq!(code, 0, "{first}");
    let text = project.read(tour);
    let edited = text.replace("print(f\"best region:", "print(f\"top region:");
    assert_ne!(
        text, edited,
        "the demo's last print moved; update this test"
    );
    project.write(tour, &edited);
    let (code, second) = project.run(tour, &[]);
    assert_eq!(code, 0, "{second}");
    let report = cell(&second, "report");
    assert_eq!(report["status"], "ok", "{second}");
    assert!(
        project
            .stdout_of(&key_of(&second, "report"))
            .starts_with("top region: "),
        "{second}"
    );
    assert!(Path::new(&project.path("artifacts/totals.json")).is_file());
}

//! `jellycell-lsp run` against a real ipykernel with keys that follow variables and loaded
//! files (issue #21): a changed variable re-runs its readers, an in-place change through a
//! method call is a producer, unrelated edits and whitespace keep hits, and a consumer is
//! never cached on a stale producer in another notebook.

mod support;

use support::project::{TestProject, key_of, statuses};

const VARIABLE: &str = r#"# %% tags=["jc.step", "name=make2"]
data = [1, 2, 3]

# %% tags=["jc.step", "name=use2"]
print(sum(data))
"#;

#[test]
fn a_changed_variable_re_runs_the_cell_that_reads_it() {
    let project = TestProject::new(&[("notebooks/b.py", VARIABLE)]);
    let (code, first) = project.run("notebooks/b.py", &[]);
    assert_eq!(code, 0, "{first}");
    assert_eq!(project.stdout_of(&key_of(&first, "use2")), "6\n");

    project.write(
        "notebooks/b.py",
        &VARIABLE.replace("[1, 2, 3]", "[10, 20, 30]"),
    );
    let (code, second) = project.run("notebooks/b.py", &[]);
    assert_eq!(code, 0, "{second}");
    assert_eq!(statuses(&second), ["ok", "ok"], "use2 must not be a hit");
    assert_eq!(project.stdout_of(&key_of(&second, "use2")), "60\n");
    // The manifest names where the variable came from, for the hover.
    let manifest = project.manifest(&key_of(&second, "use2"));
    assert_eq!(manifest["inputs"][0]["name"], "data");
    assert_eq!(manifest["inputs"][0]["from_cell"], "make2");
    assert_eq!(
        manifest["inputs"][0]["key"],
        key_of(&second, "make2").as_str()
    );
    assert_eq!(manifest["key_version"], "jellycell-lsp-cache-v2");

    let (code, third) = project.run("notebooks/b.py", &[]);
    assert_eq!(code, 0, "{third}");
    assert_eq!(statuses(&third), ["cached", "cached"]);
}

const MUTATION: &str = r#"# %% tags=["jc.setup"]
rows = [1, 2, 3]

# %% tags=["name=between"]
print("between")

# %% tags=["name=reader"]
print(sum(rows))
"#;

#[test]
fn an_in_place_method_call_between_definer_and_reader_invalidates_the_reader() {
    let project = TestProject::new(&[("notebooks/m.py", MUTATION)]);
    let (code, first) = project.run("notebooks/m.py", &[]);
    assert_eq!(code, 0, "{first}");
    assert_eq!(project.stdout_of(&key_of(&first, "reader")), "6\n");

    project.write(
        "notebooks/m.py",
        &MUTATION.replace("print(\"between\")", "rows.append(4)"),
    );
    let (code, second) = project.run("notebooks/m.py", &[]);
    assert_eq!(code, 0, "{second}");
    assert_eq!(statuses(&second), ["setup", "ok", "ok"]);
    assert_eq!(project.stdout_of(&key_of(&second, "reader")), "10\n");
}

const UNRELATED: &str = r#"# %% tags=["name=source"]
data = [1, 2, 3]

# %% tags=["name=side"]
unused = 2

# %% tags=["name=sink"]
print(sum(data))
"#;

#[test]
fn renaming_an_unrelated_variable_and_whitespace_edits_keep_downstream_hits() {
    let project = TestProject::new(&[("notebooks/u.py", UNRELATED)]);
    let (code, first) = project.run("notebooks/u.py", &[]);
    assert_eq!(code, 0, "{first}");

    project.write(
        "notebooks/u.py",
        &UNRELATED.replace("unused = 2", "renamed = 2"),
    );
    let (code, second) = project.run("notebooks/u.py", &[]);
    assert_eq!(code, 0, "{second}");
    assert_eq!(statuses(&second), ["cached", "ok", "cached"]);
    assert_eq!(key_of(&first, "sink"), key_of(&second, "sink"));

    let spaced = UNRELATED
        .replace("unused = 2", "renamed = 2")
        .replace("data = [1, 2, 3]\n", "data = [1, 2, 3]   \n\n");
    project.write("notebooks/u.py", &spaced);
    let (code, third) = project.run("notebooks/u.py", &[]);
    assert_eq!(code, 0, "{third}");
    assert_eq!(statuses(&third), ["cached", "cached", "cached"]);
}

const PREP: &str = r#"# %% tags=["jc.step", "name=means"]
jc.save({"mean": 2}, "artifacts/means.json")
"#;

const REPORT: &str = r#"# %% tags=["jc.step", "name=show"]
means = jc.load("artifacts/means.json")
print(means["mean"])
"#;

#[test]
fn a_consumer_is_never_cached_on_a_stale_producer_in_another_notebook() {
    let project = TestProject::with_jellycell_stub(&[
        ("notebooks/prep.py", PREP),
        ("notebooks/report.py", REPORT),
    ]);
    std::fs::create_dir_all(project.path("artifacts")).expect("mkdir");
    let (code, prep) = project.run("notebooks/prep.py", &[]);
    assert_eq!(code, 0, "{prep}");
    let (code, report) = project.run("notebooks/report.py", &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(project.stdout_of(&key_of(&report, "show")), "2\n");

    // Edit the producer and run only the consumer: the producer runs first.
    project.write(
        "notebooks/prep.py",
        &PREP.replace("\"mean\": 2", "\"mean\": 5"),
    );
    let (code, report) = project.run("notebooks/report.py", &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(statuses(&report), ["ok"]);
    assert_eq!(project.stdout_of(&key_of(&report, "show")), "5\n");
    let (code, prep) = project.run("notebooks/prep.py", &[]);
    assert_eq!(code, 0, "{prep}");
    assert_eq!(
        statuses(&prep),
        ["cached"],
        "the consumer's run ran the producer"
    );
    let (code, again) = project.run("notebooks/report.py", &[]);
    assert_eq!(code, 0, "{again}");
    assert_eq!(statuses(&again), ["cached"]);
    assert_eq!(project.stdout_of(&key_of(&again, "show")), "5\n");

    // --no-deps runs the consumer on the old file but does not cache that result.
    project.write(
        "notebooks/prep.py",
        &PREP.replace("\"mean\": 2", "\"mean\": 7"),
    );
    let (code, alone) = project.run("notebooks/report.py", &["--no-deps"]);
    assert_eq!(code, 0, "{alone}");
    assert_eq!(statuses(&alone), ["ok"]);
    let unrecorded = project.path(&format!(
        ".jellycell/cache/jellycell-lsp/manifests/{}.json",
        key_of(&alone, "show")
    ));
    assert!(
        !unrecorded.exists(),
        "a result read from a stale producer is not cached"
    );
    let (code, prep) = project.run("notebooks/prep.py", &[]);
    assert_eq!(code, 0, "{prep}");
    assert_eq!(statuses(&prep), ["ok"]);
    let (code, report) = project.run("notebooks/report.py", &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(statuses(&report), ["ok"], "stale after its producer ran");
    assert_eq!(project.stdout_of(&key_of(&report, "show")), "7\n");
}

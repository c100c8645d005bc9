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

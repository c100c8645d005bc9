//! The kernel prelude imports `jellycell` on first use, not before the first cell: a run
//! whose cells never touch `jc` never imports it, and the first `jc.*` call (or a cell
//! importing jellycell itself) still runs with the cell's context. Real ipykernel, the
//! stand-in jellycell package of `tests/support/project.rs`. (A cell whose text names
//! jellycell imports it before it runs, so the first cell spells the name in two parts.)

mod support;

use support::project::{TestProject, key_of};

const NOTEBOOK: &str = r#"# %% tags=["jc.step", "name=before"]
import sys
print("jelly" + "cell" in sys.modules)

# %% tags=["jc.step", "name=summary"]
jc.save({"total": 6}, "artifacts/summary.json")
print("jellycell" in sys.modules, jc.context().cell_name)

# %% tags=["jc.step", "name=later"]
import jellycell.api as J
print(J is jc)
"#;

#[test]
fn jellycell_is_imported_by_the_first_cell_that_uses_it() {
    let project = TestProject::with_jellycell_stub(&[("notebooks/lazy.py", NOTEBOOK)]);
    std::fs::create_dir_all(project.path("artifacts")).expect("mkdir");
    let (code, report) = project.run("notebooks/lazy.py", &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(project.stdout_of(&key_of(&report, "before")), "False\n");
    assert_eq!(
        project.stdout_of(&key_of(&report, "summary")),
        "True summary\n",
        "the first use imports jellycell and sets the cell's context"
    );
    assert_eq!(project.stdout_of(&key_of(&report, "later")), "True\n");
    let manifest = project.manifest(&key_of(&report, "summary"));
    assert_eq!(manifest["artifacts"][0]["path"], "artifacts/summary.json");
}

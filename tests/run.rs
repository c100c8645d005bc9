//! `jellycell-lsp run` against a real ipykernel: the cache, invalidation (deps, setup cells,
//! artifacts across notebooks, parameters), timeouts and errors, artifacts, and export
//! with outputs validated by nbformat.

mod support;

use std::process::Command;

use serde_json::Value;
use support::project::{TestProject, key_of, statuses};
use support::python::python;

const STEPS: &str = r#"# %% tags=["jc.step", "name=early"]
print("early")

# %% tags=["jc.setup"]
FACTOR = 2

# %% tags=["jc.step", "name=a"]
a = 1 * FACTOR
print("a", a)

# %% tags=["jc.step", "name=b", "deps=a"]
print("b")
display({"image/png": "iVBORw0KGgo=", "text/plain": "<image>"}, raw=True)
a + 1

# %% tags=["jc.step", "name=c"]
print("c")
"#;

#[test]
fn cached_runs_start_no_kernel_and_edits_rerun_only_what_depends_on_them() {
    let project = TestProject::new(&[("notebooks/steps.py", STEPS)]);
    let (code, first) = project.run("notebooks/steps.py", &[]);
    assert_eq!(code, 0, "{first}");
    assert_eq!(statuses(&first), ["ok", "setup", "ok", "ok", "ok"]);
    assert_eq!(first["kernel_started"], true);
    assert_eq!(first["schema_version"], 1);

    let (code, second) = project.run("notebooks/steps.py", &[]);
    assert_eq!(code, 0);
    assert_eq!(
        statuses(&second),
        ["cached", "skipped", "cached", "cached", "cached"]
    );
    assert_eq!(second["kernel_started"], false);
    for name in ["early", "a", "b", "c"] {
        assert_eq!(key_of(&first, name), key_of(&second, name));
    }

    // Editing `a` re-runs `a` and its dependent `b` only.
    project.write("notebooks/steps.py", &STEPS.replace("a = 1 *", "a = 10 *"));
    let (code, third) = project.run("notebooks/steps.py", &[]);
    assert_eq!(code, 0, "{third}");
    assert_eq!(statuses(&third), ["cached", "setup", "ok", "ok", "cached"]);
    assert_eq!(project.stdout_of(&key_of(&third, "a")), "a 20\n");

    // Editing the setup cell invalidates every keyed cell below it, not the one above.
    let edited = STEPS
        .replace("a = 1 *", "a = 10 *")
        .replace("FACTOR = 2", "FACTOR = 3");
    project.write("notebooks/steps.py", &edited);
    let (code, fourth) = project.run("notebooks/steps.py", &[]);
    assert_eq!(code, 0, "{fourth}");
    assert_eq!(statuses(&fourth), ["cached", "setup", "ok", "ok", "ok"]);
    assert_eq!(project.stdout_of(&key_of(&fourth, "a")), "a 30\n");

    // Export attaches outputs by current key: a markdown cell inserted above shifts every
    // ordinal, yet each cell keeps its own outputs; the file passes nbformat.validate.
    let shifted = format!("# %% [markdown]\n# inserted\n\n{edited}");
    project.write("notebooks/steps.py", &shifted);
    let out = project.path("steps.ipynb");
    let output = project.output(&[
        "export",
        "notebooks/steps.py",
        "--to",
        "ipynb",
        "-o",
        out.to_str().unwrap_or_default(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let script = r#"
import json, sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
nbformat.validate(nb)
print(json.dumps([c.get("outputs") for c in nb.cells]))
"#;
    let result = Command::new(python())
        .args(["-c", script])
        .arg(&out)
        .output()
        .expect("python runs");
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let outputs: Value =
        serde_json::from_str(String::from_utf8_lossy(&result.stdout).trim()).expect("json");
    assert_eq!(outputs[0], Value::Null, "markdown has no outputs");
    assert_eq!(outputs[1][0]["text"], "early\n");
    assert_eq!(outputs[3][0]["text"], "a 30\n");
    let b = &outputs[4];
    assert_eq!(b[0]["text"], "b\n");
    assert_eq!(b[1]["output_type"], "display_data");
    assert_eq!(b[1]["data"]["image/png"], "iVBORw0KGgo=");
    assert_eq!(b[1]["data"]["text/plain"], "<image>");
    assert_eq!(b[2]["output_type"], "execute_result");
    assert_eq!(b[2]["data"]["text/plain"], "31");
    assert_eq!(outputs[5][0]["text"], "c\n");
}

const PREP: &str = r#"# %% tags=["jc.load", "name=raw"]
rows = [1, 2, 3]

# %% tags=["jc.step", "name=summary"]
print(jc.context().cell_name)
jc.save({"total": sum([1, 2, 3])}, "artifacts/summary.json")
"#;

const REPORT: &str = r#"# %% tags=["jc.load", "name=summary_in"]
summary = jc.load("artifacts/summary.json")
print(summary["total"])

# %% tags=["jc.step", "name=other"]
print("other")
"#;

#[test]
fn the_producer_of_a_loaded_artifact_in_another_notebook_invalidates_the_consumer() {
    let project = TestProject::with_jellycell_stub(&[
        ("notebooks/prep.py", PREP),
        ("notebooks/report.py", REPORT),
    ]);
    std::fs::create_dir_all(project.path("artifacts")).expect("mkdir");
    let (code, prep) = project.run("notebooks/prep.py", &[]);
    assert_eq!(code, 0, "{prep}");
    // The prelude defined `jc` and the context named the cell.
    let summary_key = key_of(&prep, "summary");
    assert_eq!(project.stdout_of(&summary_key), "summary\n");
    let manifest = project.manifest(&summary_key);
    let artifact = &manifest["artifacts"][0];
    assert_eq!(artifact["path"], "artifacts/summary.json");
    let bytes = std::fs::read(project.path("artifacts/summary.json")).expect("artifact");
    assert_eq!(artifact["size"], bytes.len());
    assert_eq!(artifact["blake3"], blake3::hash(&bytes).to_hex().as_str());

    let (code, report) = project.run("notebooks/report.py", &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(project.stdout_of(&key_of(&report, "summary_in")), "6\n");
    let consumer = project.manifest(&key_of(&report, "summary_in"));
    assert_eq!(
        consumer["loads"][0]["content"],
        format!("key {summary_key}")
    );

    project.write(
        "notebooks/prep.py",
        &PREP.replace("[1, 2, 3])", "[1, 2, 3, 4])"),
    );
    let (code, prep) = project.run("notebooks/prep.py", &[]);
    assert_eq!(code, 0);
    assert_eq!(statuses(&prep), ["cached", "ok"]);
    let (code, report) = project.run("notebooks/report.py", &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(statuses(&report), ["ok", "cached"]);
    assert_eq!(project.stdout_of(&key_of(&report, "summary_in")), "10\n");
}

const FAILING: &str = r#"# %% tags=["name=fine"]
print("fine")

# %% tags=["name=boom"]
raise ValueError("kaboom")

# %% tags=["name=slow", "timeout=1"]
import time
time.sleep(600)

# %% tags=["name=after"]
print("after")
"#;

#[test]
fn an_error_stops_the_run_is_cached_as_an_error_and_a_timeout_interrupts() {
    let project = TestProject::new(&[("notebooks/failing.py", FAILING)]);
    let (code, first) = project.run("notebooks/failing.py", &[]);
    assert_eq!(code, 1, "{first}");
    assert_eq!(first["status"], "error");
    assert_eq!(statuses(&first), ["ok", "error", "skipped", "skipped"]);
    let boom = &first["cells"][1];
    assert_eq!(boom["error"]["ename"], "ValueError");
    assert_eq!(boom["error"]["evalue"], "kaboom");
    assert_eq!(project.manifest(&key_of(&first, "boom"))["status"], "error");

    let (code, second) = project.run("notebooks/failing.py", &["--keep-going"]);
    assert_eq!(code, 1, "{second}");
    // The error manifest is not a hit: `boom` runs (and fails) again.
    assert_eq!(statuses(&second), ["cached", "error", "error", "ok"]);
    let slow = &second["cells"][2];
    assert_eq!(slow["error"]["ename"], "Timeout");
    let duration = slow["duration_ms"].as_u64().unwrap_or(0);
    // Interrupted at its timeout, long before the 600 s sleep would end.
    assert!((1000..300_000).contains(&duration), "{duration} ms");
    assert_eq!(
        project.manifest(&key_of(&second, "slow"))["status"],
        "error"
    );
}

const PARAMETERS: &str = r#"# %% tags=["parameters"]
alpha = 1

# %%
print(alpha * 2)
"#;

#[test]
fn parameters_are_injected_after_the_parameters_cell_and_change_later_keys() {
    let project = TestProject::new(&[("notebooks/params.py", PARAMETERS)]);
    let (code, with) = project.run("notebooks/params.py", &["-p", "alpha", "5"]);
    assert_eq!(code, 0, "{with}");
    assert_eq!(project.stdout_of(&key_of(&with, "params:1")), "10\n");
    assert!(
        project.manifest(&key_of(&with, "params:1"))["params_hash"].is_string(),
        "the manifest says parameters applied"
    );

    // The same value from a file: the same keys, all cached, no kernel.
    project.write("params.yaml", "alpha: 5\n");
    let (code, again) = project.run("notebooks/params.py", &["--params-file", "params.yaml"]);
    assert_eq!(code, 0);
    assert_eq!(statuses(&again), ["cached", "cached"]);
    assert_eq!(again["kernel_started"], false);

    // Without parameters the parameters cell keeps its key, the cell after it does not;
    // the parameters cell runs again because a cell after it runs and needs its names.
    let (code, without) = project.run("notebooks/params.py", &[]);
    assert_eq!(code, 0, "{without}");
    assert_eq!(statuses(&without), ["ok", "ok"]);
    assert_eq!(key_of(&with, "params:0"), key_of(&without, "params:0"));
    assert_ne!(key_of(&with, "params:1"), key_of(&without, "params:1"));
    assert_eq!(project.stdout_of(&key_of(&without, "params:1")), "2\n");
}

#[test]
fn a_missing_kernel_and_a_missing_notebook_exit_2() {
    let project = TestProject::new(&[(
        "notebooks/k.py",
        "# /// script\n# [tool.jellycell]\n# kernel = \"no-such-kernel\"\n# ///\n\n# %%\nprint(1)\n",
    )]);
    let output = project.output(&["run", "notebooks/k.py", "--json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no-such-kernel"));
    let output = project.output(&["run", "notebooks/missing.py"]);
    assert_eq!(output.status.code(), Some(2));
}

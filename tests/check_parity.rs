//! Parity with Python jellycell 1.4.0: on `fixtures/parity/`, after a run of
//! `notebooks/pipeline.py` (as jellycell needed one), `jellycell-lsp --check` reports every
//! rule jellycell's `lint` reported, on the same files, at the same lines where jellycell
//! gives one. The expectation is what jellycell printed
//! (`fixtures/parity/jellycell-lint-1.4.0.json`). The run uses a real ipykernel and a
//! stand-in `jellycell` package (see `tests/support/project.rs`).

mod support;

use std::path::Path;

use serde_json::Value;
use support::fixture;
use support::project::TestProject;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// `--check --format json` in the project: the exit code and the diagnostics.
fn check_with_code(project: &TestProject) -> (Option<i32>, Vec<Value>) {
    let output = project.output(&["--check", "--format", "json"]);
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("no JSON: {}", String::from_utf8_lossy(&output.stderr)));
    (
        output.status.code(),
        report["diagnostics"].as_array().unwrap().clone(),
    )
}

#[test]
fn check_reports_what_jellycell_lint_reported() {
    let project = TestProject::with_jellycell_stub(&[]);
    copy_dir(&fixture("parity"), project.root());
    let (code, report) = project.run("notebooks/pipeline.py", &[]);
    assert_eq!(code, 0, "the pipeline runs: {report}");
    let (code, ours) = check_with_code(&project);
    assert_eq!(code, Some(1), "deps-no-comma is an error");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("parity/jellycell-lint-1.4.0.json")).unwrap(),
    )
    .unwrap();
    let mut missing = Vec::new();
    let mut matched = 0;
    for violation in expected["violations"].as_array().unwrap() {
        let rule = violation["rule"].as_str().unwrap();
        let path = violation["path"].as_str();
        let line = violation["line"].as_u64();
        let found = ours.iter().any(|diagnostic| {
            diagnostic["rule"] == rule
                && path.is_none_or(|path| diagnostic["path"].as_str() == Some(path))
                && line.is_none_or(|line| diagnostic["line"].as_u64() == Some(line))
        });
        if found {
            matched += 1;
        } else {
            missing.push(format!("{rule} at {path:?}:{line:?}"));
        }
    }
    assert!(
        missing.is_empty(),
        "jellycell reported, we did not: {missing:#?}\nours: {ours:#?}"
    );
    assert_eq!(matched, 7, "every violation jellycell reported");
    let rules: std::collections::BTreeSet<&str> = ours
        .iter()
        .filter_map(|diagnostic| diagnostic["rule"].as_str())
        .collect();
    for rule in [
        "deps-no-comma",
        "enforce-artifact-paths",
        "enforce-declared-deps",
        "layout",
        "pep723-position",
    ] {
        assert!(rules.contains(rule), "{rule} missing from {rules:?}");
    }
}

#[test]
fn large_output_warnings_count_only_the_current_outputs_over_the_limit() {
    let project = TestProject::new(&[
        (
            "jellycell.toml",
            "[project]\nname = \"t\"\n\n[lint]\nwarn_on_large_cell_output = \"1KB\"\n",
        ),
        (
            "notebooks/out.py",
            "# %% tags=[\"name=small\"]\nprint('x' * 10)\n\n# %% tags=[\"name=big\"]\nprint('y' * 2048)\n",
        ),
    ]);
    for folder in ["data", "artifacts", "site", "manuscripts"] {
        std::fs::create_dir_all(project.path(folder)).unwrap();
    }
    let (code, report) = project.run("notebooks/out.py", &[]);
    assert_eq!(code, 0, "{report}");
    // Without the check cache: whether a check before the sleep below could store its
    // findings depends on how long the run took (a loaded machine) and on the clock.
    let fired = |project: &TestProject| -> Vec<(String, u64)> {
        let output = project.output(&["--check", "--format", "json", "--no-cache"]);
        let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        report["diagnostics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|diagnostic| diagnostic["rule"] == "warn-on-large-cell-output")
            .map(|diagnostic| {
                (
                    diagnostic["message"].as_str().unwrap().to_string(),
                    diagnostic["line"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let warnings = fired(&project);
    assert_eq!(warnings.len(), 1, "only the big cell: {warnings:?}");
    // Through the check cache: once the run cache's stamp can be trusted, the findings
    // are stored, then reused, and always what an uncached check reports.
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let stats = |project: &TestProject, args: &[&str]| {
        let output = project
            .command(&[&["--check", "--format", "json"][..], args].concat())
            .env("JELLYCELL_LSP_CHECK_STATS", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (String::from_utf8_lossy(&output.stdout).into_owned(), stderr)
    };
    let (stored, stored_log) = stats(&project, &[]);
    let (reused, reused_log) = stats(&project, &[]);
    let (uncached, _) = stats(&project, &["--no-cache"]);
    assert!(
        stored_log.contains("large outputs recomputed"),
        "{stored_log}"
    );
    assert!(reused_log.contains("large outputs reused"), "{reused_log}");
    assert_eq!(stored, uncached);
    assert_eq!(reused, uncached);
    assert_eq!(warnings[0].1, 4, "on the big cell's header");
    assert!(
        warnings[0].0.contains("2,049 B, over the 1,024 B limit"),
        "{warnings:?}"
    );
    // Once the cell changes, its old outputs are stale and no longer count.
    project.write(
        "notebooks/out.py",
        "# %% tags=[\"name=small\"]\nprint('x' * 10)\n\n# %% tags=[\"name=big\"]\nprint('y' * 20)\n",
    );
    assert!(fired(&project).is_empty());
    let (through_the_cache, _) = stats(&project, &[]);
    assert!(
        !through_the_cache.contains("warn-on-large-cell-output"),
        "{through_the_cache}"
    );
}

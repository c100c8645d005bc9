//! `enforce-artifact-paths` against paths that leave the artifacts folder, through the
//! real `--check`: `..` inside an `artifacts/…` target is flagged (jellycell's prefix test
//! lets it through), and no suggested path leads out of the folder.

mod support;

use serde_json::Value;
use support::project::TestProject;

const NOTEBOOK: &str = r#"# %% tags=["jc.step", "name=save"]
import jellycell.api as jc

jc.save(1, "artifacts/../../outside.json")
jc.save(2, "../escape.json")
jc.save(3, "/tmp/absolute.json")
jc.save(4, "artifacts/sub/../kept.json")
"#;

#[test]
fn targets_leaving_the_artifacts_folder_are_flagged_with_a_suggestion_inside_it() {
    let project = TestProject::new(&[("notebooks/nb.py", NOTEBOOK)]);
    let output = project.output(&["--check", "--format", "json", "notebooks/nb.py"]);
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let messages: Vec<String> = report["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|diagnostic| diagnostic["rule"] == "enforce-artifact-paths")
        .map(|diagnostic| {
            diagnostic["message"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    for (message, suggested) in messages.iter().zip([
        "'artifacts/outside.json'",
        "'artifacts/escape.json'",
        "'artifacts/absolute.json'",
    ]) {
        assert!(
            message.ends_with(&format!("write it as {suggested}")),
            "{message}"
        );
    }
    assert!(
        !messages.iter().any(|message| message.contains("kept.json")),
        "a `..` that stays inside is fine: {messages:#?}"
    );
}

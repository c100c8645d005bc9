//! The environment hints (`missing-import`, `jc-without-jellycell`) of a `--check
//! --format json` run, read from its output.

use std::process::Output;

use serde_json::Value;

/// `(rule, line, message)` of each environment hint in `output`'s JSON report; panics
/// with the run's stderr when stdout is no JSON.
pub fn environment_hints(output: &Output) -> Vec<(String, u64, String)> {
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "no JSON ({error}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    report["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["rule"] == "missing-import" || d["rule"] == "jc-without-jellycell")
        .map(|d| {
            (
                d["rule"].as_str().unwrap_or_default().to_string(),
                d["line"].as_u64().unwrap_or_default(),
                d["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

//! Conformance with jupytext 1.19.6 on jupytext's own notebooks
//! (`fixtures/conformance/`): the py:percent reader (`percent`) and the MyST reader
//! (`myst`), the py:light (`light`) and md:markdown (`markdown`) readers, each compared cell by cell (type, source, metadata) with what jupytext reads,
//! plus byte-exact write-back. `summary` prints the one-line result for both.

#![allow(clippy::print_stdout)]

#[path = "../support/mod.rs"]
mod support;

mod corpus;
mod light;
mod markdown;
mod myst;
mod percent;

#[test]
fn summary() {
    let (percent_identical, percent_total, skipped, percent_failures) = percent::read_report();
    let (myst_identical, myst_total, myst_failures) = myst::read_report();
    let (light_identical, light_total, light_failures) = light::read_report();
    let (markdown_identical, markdown_total, markdown_failures) = markdown::read_report();
    let skipped = if skipped > 0 {
        format!(" ({skipped} non-Python percent files skipped)")
    } else {
        String::new()
    };
    println!(
        "percent: {percent_identical}/{percent_total} identical, myst: {myst_identical}/{myst_total} identical, light: {light_identical}/{light_total} identical, markdown: {markdown_identical}/{markdown_total} identical{skipped}"
    );
    assert!(percent_failures.is_empty() && myst_failures.is_empty());
    assert!(light_failures.is_empty() && markdown_failures.is_empty());
    assert_eq!(
        (
            percent_identical,
            myst_identical,
            light_identical,
            markdown_identical
        ),
        (percent_total, myst_total, light_total, markdown_total)
    );
}

//! Round trips through `.ipynb` equal jupytext 1.19.6's, byte for byte: text → `.ipynb` →
//! text (`jupytext --to ipynb`, then `--to py:percent` / `py:light` / `md:myst` /
//! `md:markdown`) and `.ipynb` →
//! text → `.ipynb`, through the real binary's `export`, against the real jupytext run on
//! the same files (`jupytext.read` / `jupytext.write`, what its CLI calls). Over jupytext's
//! own notebooks (`fixtures/conformance/`, with the count printed) and one minimal input
//! per cause of difference found in issue 16.
//!
//! Cell ids are random in jupytext, and the order of the keys in a `cell_metadata_filter`
//! it makes up comes from a Python `set`: both are normalised before comparing.

#![allow(clippy::print_stdout)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

/// Runs jupytext on each job (`[source, folder, fmt]`): writes `folder/x.ipynb` and
/// `folder/x.<ext>` as its CLI's conversions do.
const ORACLE: &str = r#"
import json, os, sys, warnings, logging
warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)
import jupytext
failed = []
for source, folder, fmt in json.load(sys.stdin):
    try:
        ext = "." + fmt.split(":")[0]
        os.makedirs(folder, exist_ok=True)
        base = os.path.join(folder, "x")
        if source.endswith(".ipynb"):
            jupytext.write(jupytext.read(source), base + ext, fmt=fmt)
            jupytext.write(jupytext.read(base + ext, fmt=fmt), base + ".ipynb")
        else:
            jupytext.write(jupytext.read(source), base + ".ipynb")
            jupytext.write(jupytext.read(base + ".ipynb"), base + ext, fmt=fmt)
    except Exception as error:
        failed.append([source, repr(error)])
print(json.dumps(failed))
"#;

/// One conversion to check: a source file and the text format of the round trip.
struct Job {
    source: PathBuf,
    fmt: &'static str,
    folder: PathBuf,
}

impl Job {
    fn extension(&self) -> &'static str {
        self.fmt.split(':').next().unwrap_or("py")
    }

    fn starts_as_ipynb(&self) -> bool {
        self.source.extension().is_some_and(|ext| ext == "ipynb")
    }
}

fn export(folder: &Path, from: &str, to: &str, output: &str) -> bool {
    Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
        .args(["export", from, "--to", to, "-o", output])
        .current_dir(folder)
        .output()
        .expect("the binary runs")
        .status
        .success()
}

/// Our side of the job, in `folder/ours`: the intermediate file and the result.
fn run_ours(job: &Job) -> Option<(String, String)> {
    let ours = job.folder.join("ours");
    std::fs::create_dir_all(&ours).ok()?;
    let ext = job.extension();
    let source_name = format!(
        "src.{}",
        job.source
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("py")
    );
    std::fs::copy(&job.source, ours.join(&source_name)).ok()?;
    let (middle, back) = if job.starts_as_ipynb() {
        (format!("x.{ext}"), "back.ipynb".to_string())
    } else {
        ("x.ipynb".to_string(), format!("back.{ext}"))
    };
    let (to_middle, to_back) = if job.starts_as_ipynb() {
        (job.fmt, "ipynb")
    } else {
        ("ipynb", job.fmt)
    };
    if !export(&ours, &source_name, to_middle, &middle) || !export(&ours, &middle, to_back, &back) {
        return None;
    }
    Some((
        std::fs::read_to_string(ours.join(middle)).ok()?,
        std::fs::read_to_string(ours.join(back)).ok()?,
    ))
}

/// jupytext's side of the job: the intermediate file and the result.
fn theirs(job: &Job) -> Option<(String, String)> {
    let ext = job.extension();
    let ipynb = std::fs::read_to_string(job.folder.join("j/x.ipynb")).ok()?;
    let text = std::fs::read_to_string(job.folder.join(format!("j/x.{ext}"))).ok()?;
    Some(if job.starts_as_ipynb() {
        (text, ipynb)
    } else {
        (ipynb, text)
    })
}

/// Cell ids blanked, `cell_metadata_filter` entries sorted (see the module header).
fn normalised(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("\"id\": ") && line.starts_with("   \"id\"") {
                return "   \"id\": \"…\",\n".to_string();
            }
            for key in ["\"cell_metadata_filter\": \"", "cell_metadata_filter: "] {
                if let Some(at) = line.find(key) {
                    let start = at + key.len();
                    let rest = &line[start..];
                    let end = rest.find(['"', '\n']).unwrap_or(rest.len());
                    let mut entries: Vec<&str> = rest[..end].split(',').collect();
                    entries.sort_unstable();
                    return format!("{}{}{}", &line[..start], entries.join(","), &rest[end..]);
                }
            }
            line.to_string()
        })
        .collect()
}

/// Runs every job on both sides; for each, `None` when both gave the same files, else
/// what differs (the first differing line).
fn differences(jobs: &[Job]) -> Vec<Option<String>> {
    let input: Vec<Value> = jobs
        .iter()
        .map(|job| json!([job.source, job.folder.join("j"), job.fmt]))
        .collect();
    let failed: Vec<(String, String)> =
        support::python::run_json("jupytext round trips", ORACLE, &input);
    assert!(failed.is_empty(), "jupytext failed on {failed:?}");
    jobs.iter().map(difference).collect()
}

/// Prints `label: identical/count` for each group of `different` (the jobs in the order
/// of `labels`, `counts` of them each) and fails with every difference when there is one.
fn assert_groups_identical(different: &[Option<String>], labels: &[&str], counts: [usize; 4]) {
    let mut start = 0;
    let mut summary = Vec::new();
    let mut failures = Vec::new();
    for (label, count) in labels.iter().zip(counts) {
        let group: Vec<&String> = different[start..start + count].iter().flatten().collect();
        summary.push(format!(
            "{label}: {}/{count} identical",
            count - group.len()
        ));
        failures.extend(group);
        start += count;
    }
    println!("{}", summary.join(", "));
    assert!(
        failures.is_empty(),
        "{}",
        failures
            .iter()
            .map(|line| line.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn difference(job: &Job) -> Option<String> {
    let name = format!("{} ({})", job.source.display(), job.fmt);
    let Some((their_middle, their_back)) = theirs(job) else {
        return Some(format!("{name}: jupytext wrote nothing"));
    };
    let Some((our_middle, our_back)) = run_ours(job) else {
        return Some(format!("{name}: export failed"));
    };
    {
        for (what, ours, theirs) in [
            ("intermediate", our_middle, their_middle),
            ("result", our_back, their_back),
        ] {
            let (ours, theirs) = (normalised(&ours), normalised(&theirs));
            if ours != theirs {
                let line = ours
                    .lines()
                    .zip(theirs.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or_else(|| ours.lines().count().min(theirs.lines().count()));
                return Some(format!(
                    "{name}: the {what} differs from line {}: ours {:?}, jupytext {:?}",
                    line + 1,
                    ours.lines().nth(line),
                    theirs.lines().nth(line)
                ));
            }
        }
    }
    None
}

fn files_in(folder: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![folder.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixture folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|ext| ext == extension) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn jobs(sources: Vec<PathBuf>, fmt: &'static str, work: &Path, offset: usize) -> Vec<Job> {
    sources
        .into_iter()
        .enumerate()
        .map(|(index, source)| Job {
            source,
            fmt,
            folder: work.join(format!("{}", offset + index)),
        })
        .collect()
}

/// Python notebooks written as py:percent: jupytext comments magics with the language's
/// own comment (`// %timeit` in a C++ notebook), which a `.py` file of another language is
/// not meant to hold; those notebooks are converted to MyST only.
fn is_python_notebook(path: &Path) -> bool {
    path.parent()
        .and_then(Path::file_name)
        .is_some_and(|folder| folder == "ipynb_py")
}

#[test]
fn jupytexts_own_notebooks_round_trip_as_jupytext_does() {
    let work = tempfile::tempdir().expect("tempdir");
    let conformance = support::fixture("conformance");
    let percent = files_in(&conformance.join("jupytext-percent"), "py");
    let myst = files_in(&conformance.join("jupytext-myst"), "md");
    let ipynb = files_in(&conformance.join("jupytext-ipynb"), "ipynb");
    let python_ipynb: Vec<PathBuf> = ipynb
        .iter()
        .filter(|path| is_python_notebook(path))
        .cloned()
        .collect();
    let mut all = Vec::new();
    let counts = [percent.len(), myst.len(), python_ipynb.len(), ipynb.len()];
    all.extend(jobs(percent, "py:percent", work.path(), 0));
    all.extend(jobs(myst, "md:myst", work.path(), 1000));
    all.extend(jobs(python_ipynb, "py:percent", work.path(), 2000));
    all.extend(jobs(ipynb, "md:myst", work.path(), 3000));
    assert_groups_identical(
        &differences(&all),
        &[
            "py:percent → ipynb → py:percent",
            "md:myst → ipynb → md:myst",
            "ipynb → py:percent → ipynb",
            "ipynb → md:myst → ipynb",
        ],
        counts,
    );
}

/// One minimal text notebook per cause, round-tripped through `.ipynb`.
fn assert_text_round_trip(name: &str, text: &str) {
    let work = tempfile::tempdir().expect("tempdir");
    let source = work.path().join(name);
    std::fs::write(&source, text).expect("write");
    let fmt = if name.ends_with(".md") {
        "md:myst"
    } else {
        "py:percent"
    };
    let jobs = vec![Job {
        source,
        fmt,
        folder: work.path().join("job"),
    }];
    let different: Vec<String> = differences(&jobs).into_iter().flatten().collect();
    assert!(different.is_empty(), "{}", different.join("\n"));
}

fn ipynb_of(text: &str, name: &str) -> Value {
    let work = tempfile::tempdir().expect("tempdir");
    std::fs::write(work.path().join(name), text).expect("write");
    assert!(export(work.path(), name, "ipynb", "x.ipynb"));
    serde_json::from_str(&std::fs::read_to_string(work.path().join("x.ipynb")).expect("read"))
        .expect("json")
}

#[test]
fn the_ipynb_keeps_jupytexts_metadata_and_invents_no_kernel() {
    let notebook = ipynb_of("# %%\nx = 1\n", "a.py");
    assert_eq!(
        notebook["metadata"],
        json!({"jupytext": {"cell_metadata_filter": "-all", "main_language": "python",
            "notebook_metadata_filter": "-all"}})
    );
    assert_text_round_trip("a.py", "# %%\nx = 1\n");
}

#[test]
fn the_ipynb_strips_trusted_as_nbformat_does() {
    let notebook = ipynb_of("# %% trusted=true\nx = 1\n", "a.py");
    assert_eq!(notebook["cells"][0]["metadata"], json!({}));
    assert_text_round_trip("a.py", "# %% trusted=true\nx = 1\n");
}

#[test]
fn main_language_equal_to_the_default_is_not_written() {
    assert_text_round_trip(
        "a.py",
        "# ---\n# jupyter:\n#   jupytext:\n#     main_language: python\n# ---\n\n# %%\nx = 1\n",
    );
}

#[test]
fn comment_magics_false_leaves_magics_alone() {
    assert_text_round_trip(
        "a.py",
        "# ---\n# jupyter:\n#   jupytext:\n#     comment_magics: false\n# ---\n\n# %%\n%matplotlib inline\n\n# %%\n# %ls is a comment\n",
    );
}

#[test]
fn custom_cell_magics_are_read_and_written() {
    let text = "# ---\n# jupyter:\n#   jupytext:\n#     custom_cell_magics: configure\n# ---\n\n# %% magic_args=\"-f\" language=\"configure\"\n{\"a\": 1}\n";
    let notebook = ipynb_of(text, "a.py");
    assert_eq!(
        notebook["cells"][0]["source"],
        json!(["%%configure -f\n", "{\"a\": 1}"])
    );
    assert_text_round_trip("a.py", text);
}

#[test]
fn an_ipynb_without_metadata_gets_jupytexts_header() {
    let work = tempfile::tempdir().expect("tempdir");
    let ipynb = r#"{"cells": [{"cell_type": "code", "execution_count": null, "id": "a", "metadata": {}, "outputs": [], "source": ["x = 1"]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}"#;
    let source = work.path().join("a.ipynb");
    std::fs::write(&source, ipynb).expect("write");
    let jobs: Vec<Job> = ["py:percent", "md:myst"]
        .into_iter()
        .enumerate()
        .map(|(index, fmt)| Job {
            source: source.clone(),
            fmt,
            folder: work.path().join(index.to_string()),
        })
        .collect();
    let different: Vec<String> = differences(&jobs).into_iter().flatten().collect();
    assert!(different.is_empty(), "{}", different.join("\n"));
    let (text, _) = theirs(&jobs[0]).expect("jupytext wrote");
    assert!(text.starts_with("# ---\n# jupyter:\n#   jupytext:\n#     text_representation:"));
}

#[test]
fn no_blank_line_after_an_encoding_line() {
    assert_text_round_trip("a.py", "# -*- coding: utf-8 -*-\n# %%\nx = \"é\"\n");
}

#[test]
fn writing_myst_names_the_md_format_in_formats() {
    assert_text_round_trip(
        "a.md",
        "---\njupytext:\n  formats: ipynb,md\n---\n\n```{code-cell} ipython3\nx = 1\n```\n",
    );
    assert_text_round_trip(
        "a.py",
        "# ---\n# jupyter:\n#   jupytext:\n#     formats: ipynb,py\n# ---\n\n# %%\nx = 1\n",
    );
}

#[test]
fn sub_key_exclusions_in_the_notebook_metadata_filter() {
    assert_text_round_trip(
        "a.md",
        "---\njupytext:\n  notebook_metadata_filter: -jupytext.text_representation.jupytext_version\n---\n\n```{code-cell} ipython3\nx = 1\n```\n",
    );
    assert_text_round_trip(
        "a.py",
        "# ---\n# jupyter:\n#   jupytext:\n#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version\n# ---\n\n# %%\nx = 1\n",
    );
}

#[test]
fn the_myst_lexer_is_kept() {
    let notebook = ipynb_of("```{code-cell} ipython3\nx = 1\n```\n", "a.md");
    assert_eq!(
        notebook["metadata"]["jupytext"]["default_lexer"],
        json!("ipython3")
    );
    assert_text_round_trip("a.md", "```{code-cell} ipython3\nx = 1\n```\n");
}

/// jupytext writes each light script of the conformance folder (read with `fmt="py:light"`,
/// as its tests read them) back as py:light, with the header that makes it a light
/// notebook (a `.py` without one is py:percent, as jellycell reads it): `[source, target]`
/// pairs.
const LIGHT_SOURCES: &str = r#"
import json, sys, warnings, logging
warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)
import jupytext
failed = []
for source, target in json.load(sys.stdin):
    try:
        notebook = jupytext.read(source, fmt="py:light")
        # A script read without a header gets `notebook_metadata_filter: -all`, which
        # writes none: without one, the file is py:percent to jellycell.
        if notebook.metadata.get("jupytext", {}).get("notebook_metadata_filter") == "-all":
            del notebook.metadata["jupytext"]["notebook_metadata_filter"]
        jupytext.write(notebook, target, fmt="py:light")
    except Exception as error:
        failed.append([source, repr(error)])
print(json.dumps(failed))
"#;

/// The conformance folder's light scripts as light notebooks (see [`LIGHT_SOURCES`]).
fn light_notebooks(folder: &Path, work: &Path) -> Vec<PathBuf> {
    let sources = files_in(folder, "py");
    let prepared = work.join("light-sources");
    std::fs::create_dir_all(&prepared).expect("folder");
    let pairs: Vec<(PathBuf, PathBuf)> = sources
        .iter()
        .enumerate()
        .map(|(index, source)| (source.clone(), prepared.join(format!("{index}.py"))))
        .collect();
    let input: Vec<Value> = pairs
        .iter()
        .map(|(source, target)| json!([source, target]))
        .collect();
    let failed: Vec<(String, String)> =
        support::python::run_json("jupytext light sources", LIGHT_SOURCES, &input);
    assert!(failed.is_empty(), "jupytext failed on {failed:?}");
    pairs.into_iter().map(|(_, target)| target).collect()
}

#[test]
fn jupytexts_light_and_markdown_notebooks_round_trip_as_jupytext_does() {
    let work = tempfile::tempdir().expect("tempdir");
    let conformance = support::fixture("conformance");
    let light = light_notebooks(&conformance.join("jupytext-light"), work.path());
    let markdown = files_in(&conformance.join("jupytext-markdown"), "md");
    let ipynb = files_in(&conformance.join("jupytext-ipynb"), "ipynb");
    let python_ipynb: Vec<PathBuf> = ipynb
        .iter()
        .filter(|path| is_python_notebook(path))
        .cloned()
        .collect();
    let counts = [light.len(), markdown.len(), python_ipynb.len(), ipynb.len()];
    let mut all = Vec::new();
    all.extend(jobs(light, "py:light", work.path(), 0));
    all.extend(jobs(markdown, "md:markdown", work.path(), 1000));
    all.extend(jobs(python_ipynb, "py:light", work.path(), 2000));
    all.extend(jobs(ipynb, "md:markdown", work.path(), 3000));
    assert_groups_identical(
        &differences(&all),
        &[
            "py:light → ipynb → py:light",
            "md:markdown → ipynb → md:markdown",
            "ipynb → py:light → ipynb",
            "ipynb → md:markdown → ipynb",
        ],
        counts,
    );
}

/// Notebooks in other languages written as py:percent and light: jupytext comments their
/// magics with the language's own comment (`// %timeit` in C++, `# %%R` stays `#` in R)
/// and reads them back.
#[test]
fn other_language_notebooks_round_trip_through_scripts_as_jupytext_does() {
    let work = tempfile::tempdir().expect("tempdir");
    let conformance = support::fixture("conformance");
    let others: Vec<PathBuf> = files_in(&conformance.join("jupytext-ipynb"), "ipynb")
        .into_iter()
        .filter(|path| !is_python_notebook(path))
        .collect();
    // A notebook whose `jupytext.encoding` is another language's coding line
    // (`// -*- coding: utf-8 -*-`) gets that line above its `# ---` header, where no
    // reader finds the header: jupytext reads the script back as light only when told
    // (`fmt="py:light"`), and a `.py` without a header is py:percent to jellycell.
    let (light_readable, foreign_coding): (Vec<PathBuf>, Vec<PathBuf>) =
        others.iter().cloned().partition(|path| {
            let notebook: Value =
                serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_default())
                    .unwrap_or_default();
            notebook["metadata"]["jupytext"]["encoding"]
                .as_str()
                .is_none_or(|line| line.trim_start().starts_with('#'))
        });
    let count = others.len();
    let light_count = light_readable.len();
    let mut all = jobs(others, "py:percent", work.path(), 0);
    all.extend(jobs(light_readable, "py:light", work.path(), 1000));
    let different = differences(&all);
    let percent: Vec<&String> = different[..count].iter().flatten().collect();
    let light: Vec<&String> = different[count..].iter().flatten().collect();
    println!(
        "ipynb → py:percent → ipynb: {}/{count} identical, ipynb → py:light → ipynb: {}/{light_count} identical ({} with another language's coding line not round-tripped as light)",
        count - percent.len(),
        light_count - light.len(),
        foreign_coding.len()
    );
    let failures: Vec<&str> = percent.iter().chain(&light).map(|s| s.as_str()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

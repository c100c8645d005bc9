//! A check of one notebook reads only the notebooks that can change its graph
//! (`analysis::relevance`), and reports exactly what a check of the whole project reports
//! for it: with `--no-cache`, cold and warm through the check cache, over projects with
//! dependencies across notebooks (names, auto names, cycles), names used twice, artifacts
//! written by one notebook and loaded by another, names spelt with escapes or split
//! string literals, and unknown dependencies whose "did you mean" names a cell of a
//! notebook nothing depends on. Generated projects (proptest) compare the library's
//! findings the same way.

use std::path::Path;
use std::process::Command;

use jellycell_lsp::analysis::workspace::Workspace;
use jellycell_lsp::analysis::workspace_subset::OtherNames;
use jellycell_lsp::lint::{self, LintSettings};
use jellycell_lsp::project::Project;
use proptest::prelude::*;
use serde_json::Value;

/// Environment hints are per notebook and start Python: left out to keep this fast.
const NO_HINTS: [&str; 2] = ["--ignore", "missing-import,jc-without-jellycell"];

fn write_project(root: &Path, config: &str, notebooks: &[(&str, String)]) {
    std::fs::write(root.join("jellycell.toml"), config).unwrap();
    for folder in ["notebooks", "data", "artifacts", "site", "manuscripts"] {
        std::fs::create_dir_all(root.join(folder)).unwrap();
    }
    for (path, text) in notebooks {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// The diagnostics of `--check --format json` with `args`, and the analysis counts.
fn check(root: &Path, args: &[&str]) -> (Vec<Value>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
        .args(["--check", "--format", "json"])
        .args(NO_HINTS)
        .args(args)
        .current_dir(root)
        .env("JELLYCELL_LSP_CHECK_STATS", "1")
        .output()
        .unwrap();
    assert!(
        output.status.code().is_some_and(|code| code <= 1),
        "{output:?}"
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let diagnostics = report["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    (
        diagnostics,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn of_path(diagnostics: &[Value], path: &str) -> Vec<Value> {
    diagnostics
        .iter()
        .filter(|diagnostic| diagnostic["path"] == path)
        .cloned()
        .collect()
}

/// Every notebook of the project at `root`, checked alone three ways, against the whole
/// project's check; returns how many notebooks each cold one-notebook check analysed.
fn assert_one_notebook_checks_agree(root: &Path, notebooks: &[&str]) -> Vec<usize> {
    let (whole, _) = check(root, &["--no-cache"]);
    let mut analysed = Vec::new();
    for notebook in notebooks {
        let expected = of_path(&whole, notebook);
        let (uncached, _) = check(root, &["--no-cache", notebook]);
        assert_eq!(
            of_path(&uncached, notebook),
            expected,
            "--no-cache {notebook}"
        );
        let _ = std::fs::remove_dir_all(root.join(".jellycell"));
        let (cold, stats) = check(root, &[notebook]);
        assert_eq!(of_path(&cold, notebook), expected, "cold {notebook}");
        let (warm, _) = check(root, &[notebook]);
        assert_eq!(of_path(&warm, notebook), expected, "warm {notebook}");
        analysed.push(analysed_count(&stats));
    }
    // The cache a one-notebook check left serves the whole project's check too.
    let (after, _) = check(root, &[]);
    assert_eq!(after, whole, "the whole project after one-notebook checks");
    analysed
}

fn analysed_count(stats: &str) -> usize {
    stats
        .lines()
        .find_map(|line| line.strip_prefix("jellycell-lsp: check cache: "))
        .and_then(|rest| rest.split(", ").nth(1))
        .and_then(|analysed| analysed.strip_suffix(" analysed"))
        .and_then(|count| count.parse().ok())
        .expect("a stats line")
}

const CONFIG: &str = "[project]\nname = \"one\"\n\n[lint]\nenforce_declared_deps = true\n";

#[test]
fn a_notebook_alone_reports_what_the_project_check_reports_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let notebooks = [
        (
            "notebooks/raw.py",
            "# %% tags=[\"jc.load\", \"name=raw\"]\njc.save([1], \"artifacts/raw.json\")\n\n# %% tags=[\"jc.step\", \"name=loop_a\", \"deps=loop_b\"]\nx = 1\n".to_string(),
        ),
        (
            "notebooks/clean.py",
            "# %% tags=[\"jc.step\", \"name=clean\", \"deps=raw\"]\nrows = jc.load('./artifacts//raw.json')\njc.save(rows, 'artifacts/cl' 'ean.json')\n\n# %% tags=[\"jc.step\", \"name=loop_b\", \"deps=loop_a\"]\ny = 1\n".to_string(),
        ),
        (
            "notebooks/report.py",
            "# %% tags=[\"jc.step\", \"name=report\"]\nrows = jc.load(\"artifacts/clean.json\")\n\n# %% tags=[\"jc.step\", \"deps=clean:0;twice\"]\nprint(rows)\n\n# %% tags=[\"jc.step\", \"deps=clena\"]\nz = 2\n".to_string(),
        ),
        (
            "notebooks/twice.py",
            "# %% tags=[\"jc.step\", \"name=twice\"]\na = 1\n\n# %% tags=[\"jc.step\", \"name=tw\\u0069ce\"]\nb = 2\n".to_string(),
        ),
        (
            "notebooks/lonely.py",
            "# %% tags=[\"jc.step\", \"name=cleaner\"]\nq = 1\n\n# %% tags=[\"jc.step\", \"name=solo\"]\nw = jc.save(q, \"artifacts/solo.json\")\n".to_string(),
        ),
        (
            "notebooks/deep/other.py",
            "# %% tags=[\"jc.step\", \"name=twice\"]\nc = 3\n\n# %% tags=[\"jc.step\", \"deps=raw\"]\nd = 4\n".to_string(),
        ),
        (
            "notebooks/story.md",
            "---\njupytext:\n  text_representation:\n    format_name: myst\n---\n\n```{code-cell} ipython3\n:tags: [jc.step, name=story, deps=report]\n\nx = jc.load(\"artifacts/raw.json\")\n```\n".to_string(),
        ),
    ];
    write_project(root, CONFIG, &notebooks);
    let paths: Vec<&str> = notebooks.iter().map(|(path, _)| *path).collect();
    let analysed = assert_one_notebook_checks_agree(root, &paths);
    // `lonely.py` depends on nothing and loads nothing: no other notebook is read beyond
    // its text (the split literal in clean.py and the escape in twice.py would make them
    // count for any search).
    assert_eq!(analysed[4], 1, "{analysed:?}");
    // `report.py` has an unknown dependency (`clena`: did you mean `clean`, or `cleaner`
    // in lonely.py?): every notebook's names are looked at.
    assert_eq!(analysed[2], paths.len(), "{analysed:?}");
}

#[test]
fn a_notebook_reads_only_the_notebooks_its_graph_reaches() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // A chain nb0 ← nb1 ← … ← nb4 (by name and by artifact), and five unrelated notebooks.
    let mut notebooks = Vec::new();
    for index in 0..10 {
        let deps = if index > 0 && index < 5 {
            format!(
                ", \"deps=c{}\"]\nrows = jc.load(\"artifacts/c{}.json\")\n",
                index - 1,
                index - 1
            )
        } else {
            "]\nrows = []\n".to_string()
        };
        let text = format!(
            "# %% tags=[\"jc.step\", \"name=c{index}\"{deps}jc.save(rows, \"artifacts/c{index}.json\")\n"
        );
        notebooks.push((format!("notebooks/nb{index}.py"), text));
    }
    let borrowed: Vec<(&str, String)> = notebooks
        .iter()
        .map(|(path, text)| (path.as_str(), text.clone()))
        .collect();
    write_project(root, CONFIG, &borrowed);
    let paths: Vec<&str> = borrowed.iter().map(|(path, _)| *path).collect();
    let analysed = assert_one_notebook_checks_agree(root, &paths);
    assert_eq!(analysed, [1, 2, 3, 4, 5, 1, 1, 1, 1, 1]);
}

/// One generated cell: kind, name, deps (a name, an auto name or an unknown one), and
/// artifact paths saved (`true`) or loaded.
type GeneratedCell = (u8, Option<u8>, Vec<u8>, Vec<(bool, u8)>);

/// A small generated project: names from a pool shared by the notebooks, deps on them,
/// on auto names and on unknown names, saves and loads of a few paths.
fn project_strategy() -> impl Strategy<Value = Vec<Vec<GeneratedCell>>> {
    let cell = (
        0u8..5,
        proptest::option::of(0u8..8),
        proptest::collection::vec(0u8..12, 0..3),
        proptest::collection::vec((any::<bool>(), 0u8..4), 0..3),
    );
    proptest::collection::vec(proptest::collection::vec(cell, 1..5), 2..7)
}

fn notebook_text(cells: &[GeneratedCell]) -> String {
    let kinds = ["jc.step", "jc.load", "jc.figure", "jc.setup", "jc.note"];
    let names = ["raw", "clean", "fit", "plot", "m1", "m2", "m3", "m4"];
    let mut text = String::new();
    for (kind, name, deps, paths) in cells {
        let mut tags = vec![kinds[usize::from(*kind)].to_string()];
        if let Some(name) = name {
            tags.push(format!("name={}", names[usize::from(*name)]));
        }
        let deps: Vec<String> = deps
            .iter()
            .map(|dep| match dep {
                0..8 => names[usize::from(*dep)].to_string(),
                8 | 9 => format!("nb{}:0", dep - 8),
                _ => "nothing".to_string(),
            })
            .collect();
        if !deps.is_empty() {
            tags.push(format!("deps={}", deps.join(";")));
        }
        let quoted: Vec<String> = tags.iter().map(|tag| format!("\"{tag}\"")).collect();
        text.push_str(&format!("# %% tags=[{}]\n", quoted.join(", ")));
        for (save, path) in paths {
            let call = if *save { "jc.save(x, " } else { "x = jc.load(" };
            text.push_str(&format!("{call}\"artifacts/p{path}.json\")\n"));
        }
        text.push_str("y = 1\n\n");
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn generated_projects_give_each_notebook_the_findings_of_the_whole_project(
        project in project_strategy(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let notebooks: Vec<(String, String)> = project
            .iter()
            .enumerate()
            .map(|(index, cells)| (format!("notebooks/nb{index}.py"), notebook_text(cells)))
            .collect();
        let borrowed: Vec<(&str, String)> = notebooks
            .iter()
            .map(|(path, text)| (path.as_str(), text.clone()))
            .collect();
        write_project(root, CONFIG, &borrowed);
        let project = Project::discover(root);
        let settings = LintSettings::from_config(&project.config.lint)
            .with_command_line(None, &["missing-import".into(), "jc-without-jellycell".into()]);
        let (whole, _) = Workspace::load(project.clone(), &[]);
        let (cli, _) = check(root, &["--no-cache"]);
        for (relative, _) in &notebooks {
            let path = root.join(relative);
            let full = whole.file_index(&path).unwrap();
            // The CLI's check (its own path through notebooks reduced to facts) says
            // what the library's check of the whole workspace says.
            let said: Vec<(String, String)> = lint::check_file(&whole, full, &settings)
                .iter()
                .map(|finding| (finding.rule.to_string(), finding.message.clone()))
                .collect();
            let printed: Vec<(String, String)> = of_path(&cli, relative)
                .iter()
                .map(|diagnostic| {
                    let text = |key: &str| diagnostic[key].as_str().unwrap_or_default().to_string();
                    (text("rule"), text("message"))
                })
                .collect();
            prop_assert_eq!(printed, said, "{}", relative);
            let (subset, _) =
                Workspace::load_relevant(project.clone(), std::slice::from_ref(&path), OtherNames::WhenSuggesting);
            let one = subset.file_index(&path).unwrap();
            prop_assert_eq!(
                lint::check_file(&subset, one, &settings),
                lint::check_file(&whole, full, &settings),
                "{}", path.display()
            );
        }
    }
}

#[test]
fn a_check_without_the_cache_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let notebook =
        "# %% tags=[\"jc.step\", \"name=a\"]\nimport json\nx = jc.load(\"artifacts/b.json\")\n";
    write_project(root, CONFIG, &[("notebooks/a.py", notebook.to_string())]);
    // With the environment hints on: they keep caches of their own in the check folder.
    for args in [&["--no-cache"][..], &["--no-cache", "notebooks/a.py"]] {
        let output = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
            .arg("--check")
            .args(args)
            .current_dir(root)
            .output()
            .unwrap();
        assert!(
            output.status.code().is_some_and(|code| code <= 1),
            "{output:?}"
        );
        assert!(
            !root.join(".jellycell").exists(),
            "{args:?} wrote .jellycell/"
        );
    }
    let (_, stats) = check(root, &[]);
    assert!(stats.contains("check cache:"), "{stats}");
    assert!(
        root.join(".jellycell").exists(),
        "a check with the cache stores it"
    );
}

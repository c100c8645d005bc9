//! Language features over real stdio against the `fixtures/lsp/project` notebooks:
//! diagnostics with rule codes and ranges, completion, definition, references, rename,
//! code actions, symbols, folding, hover, pull diagnostics, cross-notebook updates from
//! files changed on disk, and answers on notebooks that cannot be parsed.

mod support;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use support::lsp::{LspClient, completion_labels, fixture_copy, position_of, uri};

struct Session {
    client: LspClient,
    root: tempfile::TempDir,
}

impl Session {
    fn new() -> Session {
        Session::with_capabilities(json!({"general": {"positionEncodings": ["utf-16"]}}))
    }

    fn with_capabilities(capabilities: Value) -> Session {
        let root = fixture_copy("project");
        let (client, _) = LspClient::start(root.path(), capabilities);
        Session { client, root }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.path().join(relative)
    }

    fn text(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).expect("fixture file")
    }

    /// Opens a fixture notebook with its disk text; returns (uri, text).
    fn open(&mut self, relative: &str) -> (String, String) {
        let text = self.text(relative);
        let language = if relative.ends_with(".md") {
            "markdown"
        } else {
            "python"
        };
        let path = self.path(relative);
        let uri = self.client.open(&path, language, &text);
        (uri, text)
    }

    fn at(&mut self, method: &str, uri: &str, position: Value) -> Value {
        let mut params = json!({"textDocument": {"uri": uri}, "position": position});
        if method == "textDocument/references" {
            params["context"] = json!({"includeDeclaration": false});
        }
        self.client.call(method, params)
    }
}

fn codes(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .filter_map(|diagnostic| diagnostic["code"].as_str().map(str::to_string))
        .collect()
}

fn has_code(code: &'static str) -> impl Fn(&[Value]) -> bool {
    move |diagnostics| codes(diagnostics).iter().any(|found| found == code)
}

fn location_file(location: &Value) -> String {
    let uri = location["uri"].as_str().unwrap_or_default();
    Path::new(uri)
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn open_publishes_lint_diagnostics_with_codes_and_ranges() {
    let mut session = Session::new();
    let (uri, text) = session.open("notebooks/report.py");
    let diagnostics = session
        .client
        .diagnostics_matching(&uri, has_code("unknown-dep"));
    let found = codes(&diagnostics);
    assert!(
        found.contains(&"python-syntax-error".to_string()),
        "{found:?}"
    );
    let unknown = diagnostics
        .iter()
        .find(|diagnostic| diagnostic["code"] == "unknown-dep")
        .unwrap();
    let start = position_of(&text, "sumary", 0);
    let end = position_of(&text, "sumary", 6);
    assert_eq!(unknown["range"], json!({"start": start, "end": end}));
    assert_eq!(unknown["source"], "jellycell");
    assert_eq!(unknown["severity"], 1);
    assert!(
        unknown["message"].as_str().unwrap().contains("summary"),
        "did you mean"
    );
}

#[test]
fn a_change_updates_the_diagnostics() {
    let mut session = Session::new();
    let (uri, text) = session.open("notebooks/report.py");
    session
        .client
        .diagnostics_matching(&uri, has_code("unknown-dep"));
    let fixed = text.replace("sumary", "summary");
    session.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    let diagnostics = session
        .client
        .diagnostics_matching(&uri, |diagnostics| !has_code("unknown-dep")(diagnostics));
    assert_eq!(codes(&diagnostics), ["python-syntax-error"]);
}

#[test]
fn tag_completion_offers_kinds_and_the_projects_names() {
    let mut session = Session::new();
    let (uri, text) = session.open("notebooks/report.py");
    let kinds = session.at(
        "textDocument/completion",
        &uri,
        position_of(&text, "jc.figure", 0),
    );
    let labels = completion_labels(&kinds);
    for expected in [
        "jc.load",
        "jc.step",
        "jc.figure",
        "jc.table",
        "jc.setup",
        "jc.note",
        "name=",
        "deps=",
        "timeout=",
    ] {
        assert!(
            labels.contains(&expected.to_string()),
            "{expected} missing from {labels:?}"
        );
    }
    let names = session.at(
        "textDocument/completion",
        &uri,
        position_of(&text, "deps=summary", 5),
    );
    let items = names.as_array().cloned().unwrap_or_default();
    let raw = items
        .iter()
        .find(|item| item["label"] == "deps=raw")
        .unwrap_or_else(|| panic!("deps=raw missing from {names}"));
    assert_eq!(raw["detail"], "jc.load cell in notebooks/prep.py");
    assert!(
        completion_labels(&names).contains(&"deps=explore".to_string()),
        "names from the MyST notebook"
    );
}

#[test]
fn completion_of_jc_load_paths_and_jc_functions() {
    let mut session = Session::new();
    let (uri, _) = session.open("notebooks/report.py");
    let edited = "# %%\nx = jc.load(\"\")\njc.\n";
    session.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    std::fs::write(session.path("data/input.csv"), "a\n1\n").unwrap();
    let paths = session.at(
        "textDocument/completion",
        &uri,
        json!({"line": 1, "character": 13}),
    );
    let labels = completion_labels(&paths);
    assert!(
        labels.contains(&"artifacts/summary.json".to_string()),
        "{labels:?}"
    );
    assert!(labels.contains(&"data/input.csv".to_string()), "{labels:?}");
    let functions = session.at(
        "textDocument/completion",
        &uri,
        json!({"line": 2, "character": 3}),
    );
    let items = functions.as_array().cloned().unwrap_or_default();
    let load = items
        .iter()
        .find(|item| item["label"] == "load")
        .expect("load");
    assert_eq!(load["detail"], "jc.load(path) -> Any");
}

#[test]
fn completion_of_tool_jellycell_keys_in_the_pep723_block() {
    let mut session = Session::new();
    let (uri, _) = session.open("notebooks/prep.py");
    let edited =
        "# /// script\n# dependencies = []\n# [tool.jellycell]\n# ke\n# ///\n\n# %%\nx = 1\n";
    session.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    let keys = session.at(
        "textDocument/completion",
        &uri,
        json!({"line": 3, "character": 4}),
    );
    let labels = completion_labels(&keys);
    assert_eq!(labels, ["name", "kernel", "timeout_seconds"]);
}

#[test]
fn myst_tags_option_completes_names() {
    let mut session = Session::new();
    let (uri, text) = session.open("notebooks/explore.md");
    let result = session.at(
        "textDocument/completion",
        &uri,
        position_of(&text, "deps=summary", 5),
    );
    assert!(
        completion_labels(&result).contains(&"deps=raw".to_string()),
        "{result}"
    );
    let kinds = session.at(
        "textDocument/completion",
        &uri,
        position_of(&text, "jc.step", 0),
    );
    assert!(completion_labels(&kinds).contains(&"jc.setup".to_string()));
}

#[test]
fn definition_goes_to_the_producing_cell_across_notebooks() {
    let mut session = Session::new();
    let prep = session.text("notebooks/prep.py");
    let (uri, text) = session.open("notebooks/report.py");
    for (needle, shift, name) in [
        ("deps=summary", 6, "name=summary"),
        ("jc.deps(\"raw\")", 10, "name=raw"),
        ("artifacts/raw.json", 3, "name=raw"),
        ("artifacts/summary.json", 3, "name=summary"),
    ] {
        let result = session.at(
            "textDocument/definition",
            &uri,
            position_of(&text, needle, shift),
        );
        assert_eq!(location_file(&result), "prep.py", "{needle}: {result}");
        assert_eq!(
            result["range"]["start"],
            position_of(&prep, name, 5),
            "{needle}"
        );
    }
}

#[test]
fn references_list_the_cells_that_depend_on_a_cell() {
    let mut session = Session::new();
    session.open("notebooks/report.py");
    let (uri, prep) = session.open("notebooks/prep.py");
    let result = session.at(
        "textDocument/references",
        &uri,
        position_of(&prep, "name=raw", 6),
    );
    let mut found: Vec<(String, u64)> = result
        .as_array()
        .unwrap()
        .iter()
        .map(|location| {
            (
                location_file(location),
                location["range"]["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort();
    let report = session.text("notebooks/report.py");
    let line = |text: &str, needle: &str| position_of(text, needle, 0)["line"].as_u64().unwrap();
    assert_eq!(
        found,
        [
            ("prep.py".to_string(), line(&prep, "deps=raw")),
            ("report.py".to_string(), line(&report, "jc.deps(\"raw\")")),
            ("report.py".to_string(), line(&report, "artifacts/raw.json")),
        ]
    );
}

#[test]
fn rename_updates_every_dependency_in_the_project() {
    let mut session = Session::new();
    let (uri, prep) = session.open("notebooks/prep.py");
    let prepared = session.at(
        "textDocument/prepareRename",
        &uri,
        position_of(&prep, "name=raw", 6),
    );
    assert_eq!(prepared["placeholder"], "raw");
    assert_eq!(
        prepared["range"]["start"],
        position_of(&prep, "name=raw", 5)
    );
    let result = session.client.call(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": position_of(&prep, "name=raw", 6), "newName": "raw_data"}),
    );
    let changes = result["changes"].as_object().expect("changes");
    let report_uri = uri_of(&session, "notebooks/report.py");
    let prep_edits = changes[&uri].as_array().unwrap();
    let report_edits = changes[&report_uri].as_array().unwrap();
    assert_eq!(prep_edits.len(), 2, "name=raw and deps=raw: {prep_edits:?}");
    assert_eq!(
        report_edits.len(),
        1,
        "jc.deps(\"raw\"), not the artifact path: {report_edits:?}"
    );
    let report = session.text("notebooks/report.py");
    assert_eq!(
        report_edits[0]["range"]["start"],
        position_of(&report, "jc.deps(\"raw\")", 9)
    );
    assert!(
        changes
            .values()
            .flat_map(|edits| edits.as_array().unwrap())
            .all(|edit| edit["newText"] == "raw_data")
    );
    let refused = session.client.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": position_of(&prep, "name=raw", 6), "newName": "a,b"}),
    );
    assert!(refused.get("error").is_some(), "{refused}");
}

/// Facts of the cells below an edit are kept relative to their cells and shared, not
/// copied: what points into them must still land on their moved text.
#[test]
fn definition_references_and_rename_follow_cells_moved_by_an_edit_above() {
    let mut session = Session::new();
    let (report_uri, mut report) = session.open("notebooks/report.py");
    let (prep_uri, mut prep) = session.open("notebooks/prep.py");
    // Lines added to the first code cell of each: the cells below move, unchanged.
    let added = "extra = 1\nmore = 2\n";
    let at = |text: &str| {
        position_of(text, "raw = [1, 2, 3]", 0)["line"]
            .as_u64()
            .unwrap() as usize
    };
    let line = at(&prep);
    session
        .client
        .change(&prep_uri, 2, (line, 0), (line, 0), added);
    prep.insert_str(position_offset(&prep, line), added);
    let line = position_of(&report, "data = jc.load", 0)["line"]
        .as_u64()
        .unwrap() as usize
        + 1;
    session
        .client
        .change(&report_uri, 2, (line, 0), (line, 0), added);
    report.insert_str(position_offset(&report, line), added);
    session.client.diagnostics(&report_uri);

    let result = session.at(
        "textDocument/definition",
        &report_uri,
        position_of(&report, "deps=summary", 6),
    );
    assert_eq!(location_file(&result), "prep.py", "{result}");
    assert_eq!(
        result["range"]["start"],
        position_of(&prep, "name=summary", 5)
    );

    let result = session.at(
        "textDocument/references",
        &prep_uri,
        position_of(&prep, "name=summary", 6),
    );
    let starts: Vec<Value> = result
        .as_array()
        .expect("locations")
        .iter()
        .map(|location| location["range"]["start"].clone())
        .collect();
    assert!(
        starts.contains(&position_of(&report, "deps=summary", 5)),
        "the dep below the edit in report.py: {result}"
    );

    let result = session.client.call(
        "textDocument/rename",
        json!({"textDocument": {"uri": prep_uri}, "position": position_of(&prep, "name=summary", 6), "newName": "total"}),
    );
    let edits = result["changes"][&prep_uri]
        .as_array()
        .expect("edits in prep.py");
    assert_eq!(
        apply(&prep, edits).matches("name=total").count(),
        1,
        "{edits:?}"
    );
    let report_edits = result["changes"][&report_uri]
        .as_array()
        .expect("edits in report.py");
    let renamed = apply(&report, report_edits);
    assert!(renamed.contains("\"deps=total\"]\njc.deps"), "{renamed}");
}

/// The byte offset where 0-based `line` of `text` starts.
fn position_offset(text: &str, line: usize) -> usize {
    text.split_inclusive('\n').take(line).map(str::len).sum()
}

fn uri_of(session: &Session, relative: &str) -> String {
    uri(&session.path(relative))
}

/// Applies LSP text edits (UTF-16 = ASCII here) to `text`.
fn apply(text: &str, edits: &[Value]) -> String {
    let offset = |position: &Value| {
        let line = position["line"].as_u64().unwrap() as usize;
        let character = position["character"].as_u64().unwrap() as usize;
        text.split_inclusive('\n')
            .take(line)
            .map(str::len)
            .sum::<usize>()
            + character
    };
    let mut edits: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|edit| {
            (
                offset(&edit["range"]["start"]),
                offset(&edit["range"]["end"]),
                edit["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    edits.sort_by_key(|(start, _, _)| std::cmp::Reverse(*start));
    let mut out = text.to_string();
    for (start, end, new_text) in edits {
        out.replace_range(start..end, &new_text);
    }
    out
}

#[test]
fn a_code_action_fixes_a_finding() {
    let mut session = Session::new();
    let (uri, text) = session.open("notebooks/report.py");
    let broken = text.replace("\"deps=summary\"", "\"deps=summary,raw\"");
    session.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": broken}]}),
    );
    let diagnostics = session
        .client
        .diagnostics_matching(&uri, has_code("deps-no-comma"));
    let finding = diagnostics
        .iter()
        .find(|d| d["code"] == "deps-no-comma")
        .unwrap()
        .clone();
    let actions = session.client.call(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": finding["range"], "context": {"diagnostics": [finding]}}),
    );
    let action = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|action| action["title"] == "Split into one deps= tag per dependency")
        .unwrap_or_else(|| panic!("no split fix in {actions}"));
    assert_eq!(action["kind"], "quickfix");
    let edits = action["edit"]["changes"][&uri].as_array().unwrap();
    let fixed = apply(&broken, edits);
    assert!(fixed.contains("\"deps=summary\", \"deps=raw\""), "{fixed}");
    session.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": fixed}]}),
    );
    session
        .client
        .diagnostics_matching(&uri, |diagnostics| !has_code("deps-no-comma")(diagnostics));
}

#[test]
fn declare_deps_is_offered_for_an_undeclared_producer() {
    let mut session = Session::new();
    let (uri, text) = session.open("notebooks/report.py");
    let at = position_of(&text, "artifacts/summary.json", 2);
    let actions = session.client.call(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": at, "end": at}, "context": {"diagnostics": []}}),
    );
    let action = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|action| action["title"] == "Declare deps=summary")
        .unwrap_or_else(|| panic!("no declare action in {actions}"));
    let edits = action["edit"]["changes"][&uri].as_array().unwrap();
    let fixed = apply(&text, edits);
    assert!(
        fixed.starts_with(
            "# %% tags=[\"jc.step\", \"name=report\", \"deps=sumary\", \"deps=summary\"]"
        ),
        "{fixed}"
    );
}

#[test]
fn symbols_outline_cells_under_their_headings() {
    let mut session = Session::new();
    let (uri, _) = session.open("notebooks/prep.py");
    let symbols = session.client.call(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let top = symbols.as_array().unwrap();
    assert_eq!(top.len(), 1, "{symbols}");
    assert_eq!(top[0]["name"], "Preparation");
    let sections: Vec<&Value> = top[0]["children"].as_array().unwrap().iter().collect();
    let names: Vec<&str> = sections
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Load", "Summarise"]);
    let raw = &sections[0]["children"][0];
    assert_eq!(raw["name"], "raw");
    assert_eq!(raw["detail"], "jc.load");
    assert_eq!(sections[1]["children"][0]["name"], "summary");
}

#[test]
fn folding_ranges_cover_each_cell() {
    let mut session = Session::new();
    let (uri, prep) = session.open("notebooks/prep.py");
    let ranges = session.client.call(
        "textDocument/foldingRange",
        json!({"textDocument": {"uri": uri}}),
    );
    let starts: Vec<u64> = ranges
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["startLine"].as_u64().unwrap())
        .collect();
    let raw_line = position_of(&prep, "name=raw", 0)["line"].as_u64().unwrap();
    assert!(starts.contains(&raw_line), "{ranges}");
    let raw = ranges
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["startLine"] == raw_line)
        .unwrap();
    assert_eq!(raw["endLine"].as_u64().unwrap(), raw_line + 3);
}

#[test]
fn hover_says_what_a_dependency_is_and_what_a_function_does() {
    let mut session = Session::new();
    let (uri, text) = session.open("notebooks/report.py");
    let hover = session.at(
        "textDocument/hover",
        &uri,
        position_of(&text, "deps=summary", 7),
    );
    let value = hover["contents"]["value"].as_str().unwrap();
    assert!(
        value.contains("**summary**") && value.contains("notebooks/prep.py"),
        "{value}"
    );
    let hover = session.at(
        "textDocument/hover",
        &uri,
        position_of(&text, "jc.load(", 4),
    );
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("load(path)"),
        "{hover}"
    );
    let hover = session.at(
        "textDocument/hover",
        &uri,
        position_of(&text, "jc.figure", 3),
    );
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("figure"),
        "{hover}"
    );
}

#[test]
fn pull_diagnostics_answer_with_the_findings() {
    let mut session = Session::with_capabilities(json!({
        "textDocument": {"diagnostic": {}},
        "workspace": {"diagnostics": {"refreshSupport": true}}
    }));
    let (uri, _) = session.open("notebooks/report.py");
    let report = session.client.call(
        "textDocument/diagnostic",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(report["kind"], "full");
    let found = codes(report["items"].as_array().unwrap());
    assert!(found.contains(&"unknown-dep".to_string()), "{found:?}");
}

#[test]
fn a_rename_on_disk_updates_unknown_dep_in_another_notebook() {
    let mut session = Session::new();
    let (uri, _) = session.open("notebooks/report.py");
    let first = session
        .client
        .diagnostics_matching(&uri, has_code("unknown-dep"));
    assert_eq!(
        first.iter().filter(|d| d["code"] == "unknown-dep").count(),
        1
    );
    let prep = session
        .text("notebooks/prep.py")
        .replace("name=summary", "name=totals");
    std::fs::write(session.path("notebooks/prep.py"), prep).unwrap();
    let prep_uri = uri_of(&session, "notebooks/prep.py");
    session.client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": prep_uri, "type": 2}]}),
    );
    let updated = session.client.diagnostics_matching(&uri, |diagnostics| {
        diagnostics
            .iter()
            .filter(|d| d["code"] == "unknown-dep")
            .count()
            == 2
    });
    assert!(
        updated
            .iter()
            .any(|d| d["message"].as_str().unwrap().contains("\"summary\""))
    );
}

/// The graph is updated per notebook after an edit: a ranged edit renaming a cell in one
/// open notebook must still reach `unknown-dep` in another, both ways.
#[test]
fn a_ranged_rename_in_one_open_notebook_updates_unknown_dep_in_another() {
    let mut session = Session::new();
    let (report, _) = session.open("notebooks/report.py");
    let unknown = |diagnostics: &[Value]| {
        diagnostics
            .iter()
            .filter(|d| d["code"] == "unknown-dep")
            .count()
    };
    session
        .client
        .diagnostics_matching(&report, |diagnostics| unknown(diagnostics) == 1);
    let (prep, prep_text) = session.open("notebooks/prep.py");
    let start = position_of(&prep_text, "name=summary", 5);
    let end = position_of(&prep_text, "name=summary", 12);
    let rename = |version: i32, text: &str, end: &Value| {
        json!({
            "textDocument": {"uri": prep, "version": version},
            "contentChanges": [{"range": {"start": start, "end": end}, "text": text}],
        })
    };
    // A body edit first: nothing another notebook sees changes.
    let body = position_of(&prep_text, "summary = sum(raw)", 0);
    session.client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": prep, "version": 2},
            "contentChanges": [{"range": {"start": body, "end": body}, "text": "x = 1\n"}],
        }),
    );
    let mut totals_end = start.clone();
    totals_end["character"] = json!(start["character"].as_u64().unwrap() + 6);
    session
        .client
        .notify("textDocument/didChange", rename(3, "totals", &end));
    let renamed = session
        .client
        .diagnostics_matching(&report, |diagnostics| unknown(diagnostics) == 2);
    assert!(
        renamed
            .iter()
            .any(|d| d["message"].as_str().unwrap().contains("\"summary\""))
    );
    session
        .client
        .notify("textDocument/didChange", rename(4, "summary", &totals_end));
    session
        .client
        .diagnostics_matching(&report, |diagnostics| unknown(diagnostics) == 1);
}

#[test]
fn every_request_answers_on_a_notebook_that_cannot_be_parsed() {
    let mut session = Session::new();
    let garbage = "# %% tags=[\"jc.stepp\", \"deps=\n# %%%% {\"tags\": [1, null, \n\u{0}\u{fffd}é\r\r\n```{code-cell}\n:tags: [\n# /// script\n# [tool.jellycell\n";
    let path = session.path("notebooks/garbage.py");
    let uri = session.client.open(&path, "python", garbage);
    for line in 0..8u32 {
        for character in [0u32, 3, 12, 40] {
            let position = json!({"line": line, "character": character});
            for method in [
                "textDocument/completion",
                "textDocument/hover",
                "textDocument/definition",
                "textDocument/references",
                "textDocument/prepareRename",
            ] {
                let mut params = json!({"textDocument": {"uri": uri}, "position": position});
                if method == "textDocument/references" {
                    params["context"] = json!({"includeDeclaration": true});
                }
                let response = session.client.request(method, params);
                assert!(
                    response.get("error").is_none(),
                    "{method} at {position}: {response}"
                );
            }
        }
    }
    for method in ["textDocument/documentSymbol", "textDocument/foldingRange"] {
        let response = session
            .client
            .request(method, json!({"textDocument": {"uri": uri}}));
        assert!(response.get("error").is_none(), "{method}: {response}");
    }
    let response = session.client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 9, "character": 0}}, "context": {"diagnostics": []}}),
    );
    assert!(response.get("error").is_none(), "{response}");
    session.client.diagnostics(&uri);
}

#[test]
fn a_lone_notebook_without_a_project_still_gets_diagnostics_and_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lone.py");
    let text = "# %% tags=[\"jc.load\", \"name=raw\"]\nx = 1\n\n# %% tags=[\"deps=rawr\"]\ny = x\n";
    std::fs::write(&path, text).unwrap();
    let (mut client, _) = LspClient::start(dir.path(), json!({}));
    let uri = client.open(&path, "python", text);
    let diagnostics = client.diagnostics_matching(&uri, has_code("unknown-dep"));
    assert_eq!(codes(&diagnostics), ["unknown-dep"]);
    let result = client.call(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": position_of(text, "deps=rawr", 6)}),
    );
    assert!(
        result.is_null(),
        "an unknown name has no definition: {result}"
    );
    let names = client.call(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": position_of(text, "deps=rawr", 5)}),
    );
    assert_eq!(completion_labels(&names), ["deps=raw"]);
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn a_myst_notebook_with_a_jupytext_header_gets_diagnostics() {
    let mut session = Session::new();
    let (uri, _) = session.open("notebooks/explore.md");
    session.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": session.text("notebooks/explore.md").replace("deps=summary", "deps=nothing")}]}),
    );
    session
        .client
        .diagnostics_matching(&uri, has_code("unknown-dep"));
}

#[test]
fn an_open_buffer_overrides_the_disk_until_it_is_closed() {
    let mut session = Session::new();
    let (report, _) = session.open("notebooks/report.py");
    session
        .client
        .diagnostics_matching(&report, has_code("unknown-dep"));
    let (prep, prep_text) = session.open("notebooks/prep.py");
    let unknown = |diagnostics: &[Value]| {
        diagnostics
            .iter()
            .filter(|d| d["code"] == "unknown-dep")
            .count()
    };
    session.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": prep, "version": 2}, "contentChanges": [{"text": prep_text.replace("name=summary", "name=totals")}]}),
    );
    session
        .client
        .diagnostics_matching(&report, |diagnostics| unknown(diagnostics) == 2);
    session.client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": prep}}),
    );
    session
        .client
        .diagnostics_matching(&report, |diagnostics| unknown(diagnostics) == 1);
}

//! Outputs where the user looks, over the real binary's stdio with a real ipykernel: inlay
//! hints that sum each cell's cached outputs up after its last line (a value, a
//! DataFrame-like repr, an error, an image, a stale cell, a MyST cell),
//! `jellycell/cellOutputs`, hovers on a dependency showing that cell's outputs, plain
//! hover links, the `▶▶ Run all` lens above a setup cell, `cell-error` diagnostics that follow runs without an edit for a
//! client that pulls but cannot be asked to pull again (Neovim 0.11), and a preview that
//! says where it is when the client cannot open it.

mod support;

use serde_json::{Value, json};
use support::lsp::{LspClient, position_of, project};
use support::project::{TestProject, configure_kernel_env};

/// A 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

fn notebook() -> String {
    format!(
        r#"# %% tags=["jc.step", "name=answer"]
41 + 1

# %% tags=["jc.step", "name=frame"]
class Frame:
    def __repr__(self):
        return "   a  b\n0  1  2\n.. .. ..\n\n[150 rows x 5 columns]"
Frame()

# %% tags=["jc.step", "name=broken"]
print(x)

# %% tags=["jc.step", "name=picture"]
import base64
from IPython.display import Image, display
display(Image(data=base64.b64decode("{PNG}")))

# %% tags=["jc.step", "name=scrap", "deps=answer"]
from IPython.display import display
print("one\ntwo")
display({{"application/scrapbook.scrap.json+json": {{"name": "n", "data": [1, 2]}}}}, raw=True)
"#
    )
}

struct Cached {
    project: TestProject,
    text: String,
}

/// The notebook run by the CLI (the `broken` cell fails; `--keep-going` runs the rest).
fn cached() -> Cached {
    let text = notebook();
    let project = TestProject::new(&[("notebooks/inline.py", &text)]);
    let (code, report) = project.run("notebooks/inline.py", &["--keep-going"]);
    assert_eq!(code, 1, "the broken cell fails: {report}");
    Cached { project, text }
}

impl Cached {
    fn open(&self, options: Value) -> (LspClient, String) {
        let mut client = LspClient::spawn(&[]);
        client.initialize_with_options(self.project.root(), json!({}), options);
        let uri = client.open(
            &self.project.path("notebooks/inline.py"),
            "python",
            &self.text,
        );
        (client, uri)
    }
}

/// `(line, character, label)` of every inlay hint of lines 0–`last`.
fn hints(client: &mut LspClient, uri: &str, last: u32) -> Vec<(u64, u64, String)> {
    let result = client.call(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": uri},
               "range": {"start": {"line": 0, "character": 0}, "end": {"line": last, "character": 0}}}),
    );
    result
        .as_array()
        .into_iter()
        .flatten()
        .map(|hint| {
            (
                hint["position"]["line"].as_u64().unwrap_or(u64::MAX),
                hint["position"]["character"].as_u64().unwrap_or(u64::MAX),
                hint["label"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The 0-based line of the first line of `text` equal to `line`, and its length.
fn line_end(text: &str, line: &str) -> (u64, u64) {
    let index = text
        .lines()
        .position(|candidate| candidate == line)
        .unwrap_or_else(|| panic!("no line {line:?}"));
    (index as u64, line.len() as u64)
}

#[test]
fn inlay_hints_sum_up_each_cells_outputs_after_its_last_line() {
    let cached = cached();
    let text = &cached.text;
    let (mut client, uri) = cached.open(Value::Null);
    let found = hints(&mut client, &uri, 100);
    let output_hint = |line: &str| {
        let (at, end) = line_end(text, line);
        found
            .iter()
            .find(|(hint_line, character, label)| {
                *hint_line == at && *character == end && label.starts_with('→')
            })
            .map(|(_, _, label)| label.clone())
            .unwrap_or_else(|| panic!("no output hint after {line:?}: {found:?}"))
    };
    assert_eq!(output_hint("41 + 1"), "→ 42");
    assert_eq!(output_hint("Frame()"), "→ DataFrame 150×5");
    assert_eq!(
        output_hint("print(x)"),
        "→ ✗ NameError: name 'x' is not defined"
    );
    assert_eq!(
        output_hint(&format!("display(Image(data=base64.b64decode(\"{PNG}\")))")),
        "→ 🖼 figure"
    );
    assert_eq!(
        output_hint(
            "display({\"application/scrapbook.scrap.json+json\": {\"name\": \"n\", \"data\": [1, 2]}}, raw=True)"
        ),
        "→ one (+1 line)"
    );
    // The status hints stay on the headers.
    assert!(
        found
            .iter()
            .any(|(line, _, label)| *line == 0 && label.starts_with("✓ ")),
        "{found:?}"
    );
    // Only the requested range is answered.
    let first_two = hints(&mut client, &uri, 2);
    assert!(
        first_two.iter().all(|(line, ..)| *line <= 2),
        "{first_two:?}"
    );

    // An edit makes the cell stale: its hint says so, with the outputs it had.
    let edited = text.replace("41 + 1", "41 + 2");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]}),
    );
    let after = hints(&mut client, &uri, 2);
    assert!(
        after.iter().any(|(line, character, label)| *line == 1
            && *character == 6
            && label == "→ ● stale · 42"),
        "{after:?}"
    );
    assert_eq!(client.shutdown(), Some(0));

    // `inlineOutputs = false`: the status hints only.
    let (mut client, uri) = cached.open(json!({"inlineOutputs": false}));
    let found = hints(&mut client, &uri, 100);
    assert!(!found.is_empty());
    assert!(
        found.iter().all(|(.., label)| !label.starts_with('→')),
        "{found:?}"
    );
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn cell_outputs_answers_each_output_as_plain_data() {
    let cached = cached();
    let (mut client, uri) = cached.open(Value::Null);
    let outputs =
        |client: &mut LspClient, params: Value| client.call("jellycell/cellOutputs", params);
    let answer = outputs(&mut client, json!({"uri": uri, "cell": 0}));
    assert_eq!(answer["status"], "cached", "{answer}");
    assert_eq!(answer["name"], "answer");
    assert_eq!(answer["summary"], "42");
    assert_eq!(answer["line"], 1, "the cell's last line");
    assert_eq!(answer["outputs"][0]["type"], "execute_result");
    assert_eq!(answer["outputs"][0]["data"]["text/plain"]["text"], "42");

    let answer = outputs(&mut client, json!({"uri": uri, "cell": 2}));
    assert_eq!(answer["status"], "error");
    let error = &answer["outputs"][0];
    assert_eq!(error["type"], "error");
    assert_eq!(error["ename"], "NameError");
    let traceback = error["traceback"].as_array().unwrap();
    assert!(
        traceback
            .iter()
            .all(|frame| !frame.as_str().unwrap().contains('\u{1b}')),
        "ANSI removed: {traceback:?}"
    );

    // An image: base64, and its URL on the preview the request started.
    let answer = outputs(&mut client, json!({"uri": uri, "cell": 3}));
    let png = &answer["outputs"][0]["data"]["image/png"];
    assert_eq!(png["base64"], PNG, "{answer}");
    let url = png["url"].as_str().expect("a preview URL");
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with(".png"),
        "{url}"
    );
    assert!(
        answer["previewUrl"]
            .as_str()
            .unwrap()
            .ends_with("/nb/notebooks/inline.py#cell-3")
    );
    let answer = outputs(
        &mut client,
        json!({"uri": uri, "cell": 3, "maxImageBytes": 0}),
    );
    let png = &answer["outputs"][0]["data"]["image/png"];
    assert!(png["base64"].is_null() && png["url"].is_string(), "{png}");
    // The preview's rendering, self-contained, for a webview.
    let answer = outputs(&mut client, json!({"uri": uri, "cell": 3, "html": true}));
    let html = answer["html"].as_str().unwrap();
    assert!(
        html.contains("<img") && html.contains("data:image/png;base64,"),
        "{html}"
    );
    assert!(
        answer["style"]
            .as_str()
            .is_some_and(|style| !style.is_empty())
    );

    // A stream and a scrap, found by a line of the cell.
    let line = cached
        .text
        .lines()
        .position(|line| line.starts_with("print(\"one"))
        .unwrap();
    let answer = outputs(&mut client, json!({"uri": uri, "line": line}));
    assert_eq!(answer["cell"], 4);
    assert_eq!(answer["outputs"][0]["type"], "stream");
    assert_eq!(answer["outputs"][0]["text"], "one\ntwo\n");
    assert_eq!(
        answer["outputs"][1]["data"]["application/scrapbook.scrap.json+json"]["json"],
        json!({"name": "n", "data": [1, 2]})
    );

    // Not a code cell, and a request without a cell.
    assert_eq!(
        outputs(&mut client, json!({"uri": uri, "cell": 99})),
        Value::Null
    );
    let bad = client.request("jellycell/cellOutputs", json!({"uri": uri}));
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("needs the cell"),
        "{bad}"
    );
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn hover_on_a_dependency_shows_that_cells_outputs_labelled() {
    let cached = cached();
    let (mut client, uri) = cached.open(Value::Null);
    let result = client.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position_of(&cached.text, "deps=answer", 6)}),
    );
    let value = result["contents"]["value"].as_str().unwrap();
    assert!(value.starts_with("**answer**: `jc.step` cell 0"), "{value}");
    assert!(value.contains("**Outputs of `answer`**"), "{value}");
    assert!(value.contains("42"), "{value}");
    assert!(
        !value.contains("one\ntwo"),
        "not the current cell's: {value}"
    );
    assert_eq!(client.shutdown(), Some(0));

    // `hoverLinks = "plain"`: the preview URL can be read (Neovim conceals link targets).
    let (mut client, uri) = cached.open(json!({"hoverLinks": "plain", "hoverImages": false}));
    let result = client.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position_of(&cached.text, "display(Image", 2)}),
    );
    let value = result["contents"]["value"].as_str().unwrap();
    assert!(
        value.contains("open in preview: http://127.0.0.1:"),
        "{value}"
    );
    assert!(!value.contains("]("), "{value}");
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn the_run_all_lens_is_on_the_first_code_cell_even_a_setup_cell() {
    let notebook = "# %% tags=[\"jc.setup\"]\nimport math\n\n# %% tags=[\"jc.step\"]\nmath.pi\n";
    let dir = project(&format!(
        "//- jellycell.toml\n[project]\nname = \"p\"\n//- notebooks/nb.py\n{notebook}"
    ));
    let (mut client, _) = LspClient::start(dir.path(), json!({}));
    let uri = client.open(&dir.path().join("notebooks/nb.py"), "python", notebook);
    let lenses = client.call(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    let on = |line: u64| -> Vec<String> {
        lenses
            .as_array()
            .into_iter()
            .flatten()
            .filter(|lens| lens["range"]["start"]["line"] == line)
            .filter_map(|lens| lens["command"]["title"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(on(0), ["setup", "▶▶ Run all"], "{lenses}");
    assert!(!on(3).contains(&"▶▶ Run all".to_string()), "{lenses}");
    assert_eq!(client.shutdown(), Some(0));
}

/// What Neovim 0.11 says: it pulls diagnostics but cannot be asked to pull again.
fn neovim_like_capabilities() -> Value {
    json!({
        "textDocument": {"diagnostic": {"dynamicRegistration": false}, "publishDiagnostics": {}},
        "window": {"workDoneProgress": true}
    })
}

fn has_cell_error(diagnostics: &[Value]) -> bool {
    diagnostics
        .iter()
        .any(|diagnostic| diagnostic["code"] == "cell-error")
}

#[test]
fn cell_errors_follow_runs_without_an_edit() {
    // The cell fails while a flag file exists: its text (and key) never change.
    let flag_dir = tempfile::tempdir().unwrap();
    let flag = flag_dir.path().join("flag");
    let notebook = format!(
        "# %% tags=[\"jc.step\", \"name=check\"]\nimport os\nif os.path.exists({:?}):\n    raise RuntimeError(\"the flag is set\")\nprint(\"fine\")\n",
        flag.display().to_string()
    );
    let dir = project(&format!(
        "//- jellycell.toml\n[project]\nname = \"p\"\n//- notebooks/nb.py\n{notebook}"
    ));
    let mut client = LspClient::spawn_with(configure_kernel_env);
    let result = client.initialize(dir.path(), neovim_like_capabilities());
    assert!(result["capabilities"]["diagnosticProvider"].is_null());
    let uri = client.open(&dir.path().join("notebooks/nb.py"), "python", &notebook);
    let run = |client: &mut LspClient| {
        let answer = client.call(
            "workspace/executeCommand",
            json!({"command": "jellycell.runCell", "arguments": [{"uri": uri, "cell": 0}]}),
        );
        assert_eq!(answer, json!({"queued": true}));
    };
    let first = client.diagnostics(&uri);
    assert!(!has_cell_error(&first), "{first:?}");

    std::fs::write(&flag, "").unwrap();
    run(&mut client);
    let failing = client.diagnostics_matching(&uri, has_cell_error);
    let error = failing
        .iter()
        .find(|diagnostic| diagnostic["code"] == "cell-error")
        .unwrap();
    assert_eq!(error["message"], "RuntimeError: the flag is set");
    assert_eq!(error["range"]["start"]["line"], 3);
    // Older publications (before the error) must not answer the next wait.
    client.discard("textDocument/publishDiagnostics");

    std::fs::remove_file(&flag).unwrap();
    run(&mut client);
    let fixed = client.diagnostics_matching(&uri, |diagnostics| !has_cell_error(diagnostics));
    assert!(!has_cell_error(&fixed), "{fixed:?}");
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn open_preview_says_where_the_preview_is_when_the_client_cannot_open_it() {
    let cached = cached();
    let mut client = LspClient::spawn(&[]);
    // The test client answers `window/showDocument` with `null`: not opened.
    client.initialize(
        cached.project.root(),
        json!({"window": {"showDocument": {"support": true}}}),
    );
    let uri = client.open(
        &cached.project.path("notebooks/inline.py"),
        "python",
        &cached.text,
    );
    let answer = client.call(
        "workspace/executeCommand",
        json!({"command": "jellycell.openPreview", "arguments": [{"uri": uri, "cell": 1}]}),
    );
    let url = answer["url"].as_str().unwrap().to_string();
    let message = client.wait_for("window/showMessage", |params| {
        params["message"]
            .as_str()
            .is_some_and(|message| message.contains(&url))
    });
    assert!(
        message["message"]
            .as_str()
            .unwrap()
            .contains("no browser could be opened"),
        "{message}"
    );
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn completion_triggers_include_what_a_tags_list_is_typed_with() {
    let dir = tempfile::tempdir().unwrap();
    let (client, result) = LspClient::start(dir.path(), json!({}));
    let triggers = &result["capabilities"]["completionProvider"]["triggerCharacters"];
    for character in ["\"", "=", ".", ","] {
        assert!(
            triggers
                .as_array()
                .unwrap()
                .iter()
                .any(|trigger| trigger == character),
            "{character} in {triggers}"
        );
    }
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn a_myst_cells_output_follows_its_last_code_line() {
    let text = "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\nkernelspec:\n  name: python3\n  display_name: Python 3\n---\n\n# Title\n\n```{code-cell} python\n:tags: [jc.step]\n41 + 1\n```\n";
    let project = TestProject::new(&[("notebooks/doc.md", text)]);
    let (code, report) = project.run("notebooks/doc.md", &[]);
    assert_eq!(code, 0, "{report}");
    let mut client = LspClient::spawn(&[]);
    client.initialize(project.root(), json!({}));
    let uri = client.open(&project.path("notebooks/doc.md"), "markdown", text);
    let found = hints(&mut client, &uri, 20);
    let (line, end) = line_end(text, "41 + 1");
    assert!(
        found
            .iter()
            .any(|(at, character, label)| *at == line && *character == end && label == "→ 42"),
        "{found:?}"
    );
    assert_eq!(client.shutdown(), Some(0));
}

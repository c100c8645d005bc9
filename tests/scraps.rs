//! Scrapbook values (MIME `application/scrapbook.scrap.*+json`, what scrapbook's `glue`
//! publishes; emitted here with IPython's `display(..., raw=True)`, the same message):
//! a real kernel run lists them under the cell in `run --json`, and the hover (over
//! stdio) and the rendered page show them as `name = value`.

mod support;

use serde_json::json;
use support::lsp::{LspClient, position_of};
use support::project::TestProject;

const NOTEBOOK: &str = r#"# %% tags=["name=metrics"]
from IPython.display import display
def glue(name, data, encoder):
    display({f"application/scrapbook.scrap.{encoder}+json":
             {"name": name, "data": data, "encoder": encoder, "version": 1}},
            metadata={"scrapbook": {"name": name, "data": True, "display": False}}, raw=True)
glue("accuracy", 0.93, "json")
glue("label", "cats", "text")
"#;

#[test]
fn glued_values_are_listed_in_run_json_and_shown_by_name_in_hover_and_page() {
    let project = TestProject::new(&[("notebooks/m.py", NOTEBOOK)]);
    let (code, report) = project.run("notebooks/m.py", &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        report["cells"][0]["scraps"],
        json!([
            {"name": "accuracy", "encoder": "json", "data": 0.93},
            {"name": "label", "encoder": "text", "data": "cats"}
        ]),
        "{report}"
    );
    // A cached re-run lists them too (read from the manifest).
    let (_, cached) = project.run("notebooks/m.py", &[]);
    assert_eq!(cached["cells"][0]["status"], "cached");
    assert_eq!(cached["cells"][0]["scraps"], report["cells"][0]["scraps"]);

    let export = project.output(&["export", "notebooks/m.py", "--to", "html", "-o", "m.html"]);
    assert!(export.status.success(), "{export:?}");
    let page = project.read("m.html");
    assert!(page.contains("<code>accuracy = 0.93</code>"), "{page}");
    assert!(
        page.contains("<code>label = &quot;cats&quot;</code>")
            || page.contains("<code>label = \"cats\"</code>"),
        "{page}"
    );

    let (mut client, _) = LspClient::start(project.root(), json!({}));
    let uri = client.open(&project.path("notebooks/m.py"), "python", NOTEBOOK);
    let hover = client.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position_of(NOTEBOOK, "glue(\"accuracy", 2)}),
    );
    let value = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(value.contains("`accuracy = 0.93`"), "{value}");
    assert!(value.contains("`label = \"cats\"`"), "{value}");
    assert!(!value.contains("scrapbook.scrap"), "{value}");
    client.shutdown();
}

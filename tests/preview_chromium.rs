//! A real browser against the preview server: Debian's headless Chromium loads a notebook
//! page with a PNG output, a markdown table and a text/html output carrying a script,
//! and we check the DOM it built. A screenshot lands in `target/preview-screenshot.png`
//! for a human to look at. Chromium is `/usr/bin/chromium` (`.ci/run` installs it; this
//! test installs nothing).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use jellycell_lsp::preview::{PreviewOptions, start};
use jellycell_lsp::project::Project;
use support::outputs::{Output as Cached, cache_outputs, png_base64, text};

const CHROMIUM: &str = "/usr/bin/chromium";

const NOTEBOOK: &str = "# %% [markdown]\n# # Sales report\n#\n# Quarterly numbers, **cached** outputs only.\n#\n\
# | region | units | change |\n# |---|---:|---:|\n# | North | 1,204 | +4% |\n# | South | 877 | -2% |\n\n\
# %% tags=[\"jc.load\", \"name=sales\"]\nimport json\nsales = {'North': 1204, 'South': 877}\nprint(f\"loaded {len(sales)} regions\")\n\n\
# %% tags=[\"jc.figure\", \"name=chart\", \"deps=sales\"]\n# A bar chart of units per region\nplot_units(sales)\n\n\
# %% tags=[\"jc.table\", \"name=summary\", \"deps=sales\"]\nsummary_frame(sales)\n\n\
# %% tags=[\"jc.step\", \"name=broken\"]\n1 / 0\n";

fn chromium(args: &[&str], url: &str) -> Output {
    let profile = tempfile::tempdir().expect("temp dir");
    Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium runs")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

#[test]
fn chromium_renders_a_notebook_page_with_a_png_and_a_markdown_table() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install it with `apt-get install -y --no-install-recommends chromium` \
         (.ci/run does)"
    );
    let project = tempfile::tempdir().expect("temp dir");
    let root = project.path();
    std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"sales\"\n").expect("toml");
    std::fs::create_dir_all(root.join("notebooks")).expect("mkdir");
    std::fs::write(root.join("notebooks/report.py"), NOTEBOOK).expect("notebook");
    let notebook = "notebooks/report.py";
    cache_outputs(
        root,
        notebook,
        1,
        vec![Cached::Stream("stdout", "loaded 2 regions\n".into())],
    );
    cache_outputs(
        root,
        notebook,
        2,
        vec![Cached::Display(vec![
            ("image/png", text(&png_base64(360, 140))),
            ("text/plain", text("<Figure size 360x140>")),
        ])],
    );
    cache_outputs(
        root,
        notebook,
        3,
        vec![Cached::Display(vec![
            (
                "text/html",
                text(
                    "<table><thead><tr><th>region</th><th>units</th></tr></thead><tbody>\
                     <tr><td>North</td><td>1204</td></tr><tr><td>South</td><td>877</td></tr></tbody></table>\
                     <script>parent.document.body.setAttribute('data-pwned', '1'); \
                     document.body.setAttribute('data-frame-script', '1')</script>",
                ),
            ),
            ("text/plain", text("summary")),
        ])],
    );
    cache_outputs(
        root,
        notebook,
        4,
        vec![Cached::Error(
            "ZeroDivisionError".into(),
            "division by zero".into(),
            vec![
                "\u{1b}[0;31m---------------------------------------------------------------------------\u{1b}[0m".into(),
                "\u{1b}[0;31mZeroDivisionError\u{1b}[0m                         Traceback (most recent call last)".into(),
                "Cell \u{1b}[0;32mIn[1], line 1\u{1b}[0m\n\u{1b}[0;32m----> 1\u{1b}[0m \u{1b}[38;5;241m1\u{1b}[39m / 0".into(),
                "\u{1b}[0;31mZeroDivisionError\u{1b}[0m: division by zero".into(),
            ],
        )],
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let handle = runtime
        .block_on(start(Project::discover(root), PreviewOptions::default()))
        .expect("preview starts");
    let url = handle
        .notebook_url(&root.join(notebook))
        .expect("a notebook URL");

    let dump = chromium(&["--dump-dom"], &url);
    let dom = String::from_utf8_lossy(&dump.stdout);
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    assert!(dom.contains("data-jc-page=\"notebook\""), "{dom}");
    assert!(dom.contains("<th>region</th>"), "markdown table: {dom}");
    assert!(dom.contains("<td>North</td>"), "{dom}");
    assert!(
        dom.contains("src=\"/blob/") && dom.contains(".png\""),
        "png img: {dom}"
    );
    assert!(dom.contains("loaded 2 regions"), "{dom}");
    assert!(dom.contains("ansi-red"), "error colours: {dom}");
    assert!(dom.contains("<iframe sandbox"), "{dom}");
    // The script's text is in the srcdoc attribute; what matters is that it did not run.
    let body_tag = dom
        .split("<body")
        .nth(1)
        .and_then(|rest| rest.split_once('>'))
        .map(|(attributes, _)| attributes.to_string())
        .expect("a body tag");
    assert!(
        !body_tag.contains("data-pwned"),
        "a script in an output ran in the page: <body{body_tag}>"
    );

    let screenshot = target_dir().join("preview-screenshot.png");
    let _ = std::fs::remove_file(&screenshot);
    let shot = chromium(
        &[
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1200,900",
            "--hide-scrollbars",
        ],
        &url,
    );
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let bytes = std::fs::read(&screenshot).expect("a screenshot");
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "{} bytes",
        bytes.len()
    );

    runtime.block_on(handle.shutdown());
}

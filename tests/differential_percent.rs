//! Differential check against real jupytext 1.19.6 (the test venv's python): generated
//! py:percent notebooks must read to the same cells (type, source, metadata), and our
//! jupytext-style writer (originals dropped) must write what `jupytext.writes` writes,
//! compared without the YAML header (jupytext adds its version there).

#![allow(clippy::print_stdout)]

mod support;

use std::process::Command;

use jellycell_lsp::format::percent::{read_percent, write_percent};
use serde_json::{Value, json};

const LINES: &[&str] = &[
    "# %%",
    "#%%",
    "# %% [markdown]",
    "# %% [md] tags=[\"a\"]",
    "# %% [raw]",
    "# %%% sub",
    "# %% Title words tags=['jc.step', \"name=x\"] custom=3",
    "# %% {\"tags\": [\"x\"]}",
    "# %% active=\"py\"",
    "# %% active=\"ipynb\"",
    "# %% language=\"R\" magic_args=\"-w 1\"",
    "# %% lines_to_next_cell=2",
    "# %% key=(1, 'a') other=None flag",
    "# %%tags=[\"a\"]",
    "# <codecell>",
    "# In[1]:",
    "  # %% indented",
    "# %matplotlib inline",
    "# !pip list",
    "# x = !ls",
    "# ?help",
    "# what?",
    "# ls the files",
    "## ls the files",
    "# # %time",
    "# # +",
    "# normal comment",
    "#",
    "\"\"\"",
    "'''",
    "x = '''",
    "# ```",
    "# ~~~~",
    "```",
    "def f():",
    "    return 1",
    "class A:",
    "@decorator",
    "x = 1",
    "x = \"é\\\"\"  # ünïcode",
    "print('a')  # %%",
    "",
    "",
    "",
    "   ",
    "# ---",
    "# jupyter:",
    "#   kernelspec:",
    "#     name: python3",
    "#     language: python",
    "# title: x",
    "%load_ext foo",
    "!ls",
    "# %% [markdown] key=\"v\"",
    "# %%  Title with [raw] inside",
    "# %% tags=[] slideshow",
    "# %% .class",
    "# %% title = x",
    "# %% cell_type=\"code\"",
    "# %% run_control={\"frozen\": true}",
    "# %% tags=[\"active-py\"]",
    "# %% a=b=c",
    "# %% --flag",
    "# %% x={'a': (1, 2)} n=-1.5e3",
    "# %% active=\"ipynb,py\"",
    "# %% [raw] active=\"py\"",
    "# %% Title {\"a\": 1}",
    "r'''",
    "    # %% indented marker",
    "\t# %%",
    "%%time",
    "# %%time",
    "# %%bash",
    "# !ls \\",
    "#   -la",
    "ls = 1",
    "# cd ..",
    "#cd",
    "# x?",
    "# what is this?",
    "\t",
    "# In[ ]:",
    "# ~~~",
    "# ```python",
    "# $$",
    "# %% [markdown]",
    "# %%",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn generate(rng: &mut Rng) -> String {
    let count = rng.below(25);
    let ending = ["\n", "\n", "\r\n"][rng.below(3)];
    let mut lines: Vec<&str> = (0..count).map(|_| LINES[rng.below(LINES.len())]).collect();
    match rng.below(7) {
        2 => {
            let header = [
                "# ---",
                "# jupyter:",
                "#   kernelspec:",
                "#     display_name: R",
                "#     language: R",
                "#     name: ir",
                "# ---",
                "",
            ];
            lines.splice(0..0, header);
        }
        0 => {
            let header = [
                "# ---",
                "# jupyter:",
                "#   kernelspec:",
                "#     display_name: Python 3",
                "#     language: python",
                "#     name: python3",
                "# ---",
                "",
            ];
            lines.splice(0..0, header);
        }
        1 => {
            let header = [
                "# ---",
                "# title: A notebook",
                "# jupyter:",
                "#   jupytext:",
                "#     cell_metadata_json: true",
                "# ---",
            ];
            lines.splice(0..0, header);
        }
        _ => {}
    }
    let mut text = lines.join(ending);
    if rng.below(3) > 0 && !text.is_empty() {
        text.push_str(ending);
    }
    text
}

/// Whether the leading `# ---` … `# ---` block has a `# jupyter:` line.
fn header_has_jupyter_section(text: &str) -> bool {
    text.lines()
        .skip(1)
        .take_while(|line| line.trim_end() != "# ---")
        .any(|line| line.trim_end() == "# jupyter:")
}

/// Drops a leading `# ---` … `# ---` header and the newlines after it.
fn without_header(text: &str) -> &str {
    // jupytext adds a coding line when it regenerates the header of a non-Python notebook
    // with non-ASCII text; we keep an unchanged header as it was.
    let mut rest = text
        .strip_prefix("# -*- coding: utf-8 -*-\n")
        .unwrap_or(text);
    if rest.starts_with("# ---") {
        let mut lines = rest.split_inclusive('\n');
        let mut consumed = lines.next().map_or(0, str::len);
        for line in lines {
            consumed += line.len();
            if line.trim_end() == "# ---" {
                rest = &rest[consumed..];
                break;
            }
        }
    }
    rest.trim_start_matches(['\n', '\r'])
}

const SCRIPT: &str = r#"
import json, sys, pathlib, jupytext
out = []
for p in sorted(pathlib.Path(sys.argv[1]).iterdir(), key=lambda p: int(p.stem)):
    text = p.read_bytes().decode("utf-8")
    try:
        nb = jupytext.reads(text, fmt="py:percent")
        cells = [{"cell_type": c.cell_type, "source": c.source, "metadata": dict(c.metadata)} for c in nb.cells]
        written = jupytext.writes(nb, fmt="py:percent")
        out.append({"cells": cells, "written": written})
    except Exception as e:
        out.append({"error": type(e).__name__ + ": " + str(e)[:80]})
print(json.dumps(out))
"#;

#[test]
fn generated_notebooks_match_jupytext() {
    let python = support::python::python();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // JELLYCELL_DIFF_CASES / JELLYCELL_DIFF_SEED widen the search when hunting bugs.
    let cases = std::env::var("JELLYCELL_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    if let Some(seed) = std::env::var("JELLYCELL_DIFF_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        rng = Rng(seed);
    }
    let texts: Vec<String> = (0..cases).map(|_| generate(&mut rng)).collect();
    for (i, text) in texts.iter().enumerate() {
        std::fs::write(dir.path().join(format!("{i}.py")), text).expect("write");
    }
    let output = Command::new(python)
        .arg("-c")
        .arg(SCRIPT)
        .arg(dir.path())
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).expect("json from python");

    assert_eq!(results.len(), texts.len());
    let mut cells_compared = 0;
    let mut read_same = 0;
    let mut write_same = 0;
    let mut write_skipped = 0;
    let mut errors = 0;
    let mut failures = Vec::new();
    for (text, expected) in texts.iter().zip(&results) {
        if let Some(error) = expected.get("error") {
            if std::env::var_os("SHOW_JUPYTEXT_ERRORS").is_some() {
                println!("jupytext rejects {text:?}: {error}");
            }
            errors += 1;
            continue;
        }
        let notebook = read_percent(text);
        let ours: Vec<Value> = notebook
            .cells
            .iter()
            .map(|c| json!({"cell_type": c.cell_type.as_str(), "source": c.source, "metadata": Value::Object(c.metadata.clone())}))
            .collect();
        cells_compared += ours.len();
        if Value::Array(ours.clone()) == expected["cells"] {
            read_same += 1;
        } else {
            failures.push(format!(
                "READ {text:?}\n ours:     {}\n jupytext: {}",
                Value::Array(ours),
                expected["cells"]
            ));
            continue;
        }
        if text.starts_with("# ---") && !header_has_jupyter_section(text) {
            // Known difference: a YAML header with root-level keys only. jupytext then
            // records "no jupyter header" in the notebook metadata (a cell metadata filter
            // that keeps empty tags); with every original dropped we cannot tell that
            // header from one with a `jupyter:` section, and drop empty `tags` as
            // jupytext's default filter does.
            write_skipped += 1;
            continue;
        }
        let mut regenerated = notebook.clone();
        regenerated.cells.update(|cell| cell.original = None);
        let written = write_percent(&regenerated);
        let theirs = expected["written"].as_str().unwrap_or_default();
        if without_header(&written) == without_header(theirs) {
            write_same += 1;
        } else {
            failures.push(format!(
                "WRITE {text:?}\n ours:     {written:?}\n jupytext: {theirs:?}"
            ));
        }
    }
    let compared = texts.len() - errors;
    println!(
        "differential: read {read_same}/{compared} identical, write {write_same}/{} identical ({cells_compared} cells; {errors} inputs jupytext rejects; {write_skipped} writes skipped, see the known difference)",
        compared - write_skipped
    );
    assert!(
        cells_compared > texts.len(),
        "the generator makes real notebooks"
    );
    let shown: Vec<&String> = failures.iter().take(8).collect();
    assert!(
        failures.is_empty(),
        "{} mismatches, first ones:\n{}",
        failures.len(),
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

const HEADER_SCRIPT: &str = r#"
import json, sys, jupytext
from nbformat.v4 import new_notebook, new_code_cell
out = []
for metadata in json.loads(sys.stdin.read()):
    nb = new_notebook(metadata=metadata, cells=[new_code_cell("x = 1")])
    out.append(jupytext.writes(nb, fmt="py:percent"))
print(json.dumps(out))
"#;

#[test]
fn regenerated_headers_match_jupytext() {
    // Not `{}`: jupytext gives a brand-new notebook a header with only its version, but a
    // notebook read without a header none (its reader sets `notebook_metadata_filter:
    // -all`); we cannot tell the two apart and write no header, as for the second.
    let cases = json!([
        {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
         "language_info": {"name": "python", "version": "3.11.4"}},
        {"jupytext": {"cell_metadata_filter": "-all", "formats": "ipynb,py:percent", "notebook_metadata_filter": "all,-language_info"},
         "language_info": {"name": "python"}, "widgets": {"state": {}}, "title": "A: colon"},
        {"kernel_info": {"name": "python3"}, "tocdepth": 2, "orphan": true,
         "jupytext": {"notebook_metadata_filter": "title,-kernel_info"}, "title": "quoted 'x' \"y\"", "list": [1, "two", null]},
        {"kernelspec": {"display_name": "R", "language": "R", "name": "ir"},
         "jupytext": {"text_representation": {"extension": ".py", "format_name": "percent"}, "main_language": "R"}}
    ]);
    let expected: Vec<String> =
        support::python::run_json("the header script", HEADER_SCRIPT, &cases);
    for (metadata, theirs) in cases.as_array().expect("cases").iter().zip(&expected) {
        let mut notebook =
            jellycell_lsp::format::Notebook::empty(jellycell_lsp::format::NotebookFormat::Percent);
        notebook.metadata = metadata.as_object().cloned().unwrap_or_default();
        notebook.cells.push(jellycell_lsp::format::Cell::new(
            jellycell_lsp::format::CellType::Code,
            "x = 1",
        ));
        assert_eq!(&write_percent(&notebook), theirs, "metadata {metadata}");
    }
}

//! Differential check against real jupytext 1.19.6 (the test venv's python) for the
//! py:light and md:markdown readers, and for which format a `.md` is read in: generated
//! notebooks must read to the same cells (type, source, metadata) as
//! `jupytext.reads(text, "py:light")`, `jupytext.reads(text, "md:markdown")` and
//! `jupytext.reads(text, "md")` (the format jupytext picks for a `.md` file) give.

#![allow(clippy::print_stdout)]

mod support;

use std::process::Command;

use jellycell_lsp::format::markdown::{read_markdown, read_md};
use jellycell_lsp::format::percent::read_light;
use jellycell_lsp::format::{Notebook, NotebookFormat};
use serde_json::{Value, json};

const LIGHT_LINES: &[&str] = &[
    "# +",
    "# -",
    "# + [markdown]",
    "# + [raw]",
    "# + tags=[\"a\"]",
    "# + {\"tags\": [\"x\"]}",
    "# + active=\"ipynb\"",
    "# + endofcell=\"--\"",
    "# --",
    "# + language=\"R\"",
    "# + Title words key=1",
    "# %matplotlib inline",
    "# !pip list",
    "# what?",
    "# ls the files",
    "# # +",
    "# normal comment",
    "## doubled",
    "#",
    "\"\"\"",
    "x = '''",
    "'''",
    "def f():",
    "    return 1",
    "    ",
    "class A:",
    "    pass",
    "@decorator",
    "x = 1",
    "print('a')",
    "%time x",
    "",
    "",
    "",
    "   ",
    "if x:",
    "    y = 2",
    "# In[1]:",
    "x?",
];

const MARKDOWN_LINES: &[&str] = &[
    "```python",
    "```python tags=[\"a\"]",
    "```python {\"tags\": [\"x\"]}",
    "```R",
    "```bash",
    "```julia key=1",
    "````python",
    "````",
    "```",
    "```text",
    "```{code-cell} ipython3",
    "```{note}",
    "```python .noeval",
    "```python active=\"ipynb\"",
    "~~~",
    "<!-- #region -->",
    "<!-- #endregion -->",
    "<!-- #region tags=[\"a\"] Title -->",
    "<!-- #md -->",
    "<!-- #endmd -->",
    "<!-- #raw -->",
    "<!-- #endraw -->",
    "# A title",
    "## Section",
    "Some prose.",
    "    indented code",
    "- a list item",
    "x = 1",
    "'''",
    "\"\"\"",
    "%matplotlib inline",
    "",
    "",
    "",
    "  ",
    "+++",
    ":::",
];

const MARKDOWN_HEADERS: &[&[&str]] = &[
    &[],
    &[
        "---",
        "jupyter:",
        "  kernelspec:",
        "    display_name: Python 3",
        "    language: python",
        "    name: python3",
        "---",
        "",
    ],
    &[
        "---",
        "jupyter:",
        "  jupytext:",
        "    text_representation:",
        "      extension: .md",
        "      format_name: markdown",
        "  kernelspec:",
        "    name: ir",
        "    language: R",
        "---",
    ],
    &["---", "title: A notebook", "---", ""],
    &[
        "---",
        "jupytext:",
        "  text_representation:",
        "    format_name: myst",
        "kernelspec:",
        "  name: python3",
        "  display_name: Python 3",
        "---",
        "",
    ],
    &[
        "---",
        "jupytext:",
        "  text_representation:",
        "    extension: .md",
        "    format_name: myst",
        "kernelspec:",
        "  name: python3",
        "  display_name: Python 3",
        "---",
        "",
    ],
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

fn generate(rng: &mut Rng, pool: &[&str], headers: &[&[&str]]) -> String {
    let count = rng.below(22);
    let ending = ["\n", "\n", "\r\n"][rng.below(3)];
    let mut lines: Vec<&str> = (0..count).map(|_| pool[rng.below(pool.len())]).collect();
    let header = headers[rng.below(headers.len())];
    lines.splice(0..0, header.iter().copied());
    let mut text = lines.join(ending);
    if rng.below(3) > 0 && !text.is_empty() {
        text.push_str(ending);
    }
    text
}

const SCRIPT: &str = r#"
import json, sys, pathlib, jupytext
folder, fmt = pathlib.Path(sys.argv[1]), sys.argv[2]
out = []
for p in sorted(folder.iterdir(), key=lambda p: int(p.stem)):
    text = p.read_bytes().decode("utf-8")
    try:
        nb = jupytext.reads(text, fmt=fmt)
        cells = [{"cell_type": c.cell_type, "source": c.source, "metadata": dict(c.metadata)} for c in nb.cells]
        name = nb.metadata.get("jupytext", {}).get("text_representation", {}).get("format_name")
        out.append({"cells": cells, "format_name": name})
    except Exception as e:
        out.append({"error": type(e).__name__ + ": " + str(e)[:80]})
print(json.dumps(out))
"#;

fn cells_of(notebook: &Notebook) -> Value {
    Value::Array(
        notebook
            .cells
            .iter()
            .map(|c| json!({"cell_type": c.cell_type.as_str(), "source": c.source, "metadata": Value::Object(c.metadata.clone())}))
            .collect(),
    )
}

/// What jupytext reads from each text with `fmt`.
fn jupytext_reads(texts: &[String], extension: &str, fmt: &str) -> Vec<Value> {
    let dir = tempfile::tempdir().expect("temp dir");
    for (i, text) in texts.iter().enumerate() {
        std::fs::write(dir.path().join(format!("{i}.{extension}")), text).expect("write");
    }
    let output = Command::new(support::python::python())
        .arg("-c")
        .arg(SCRIPT)
        .arg(dir.path())
        .arg(fmt)
        .output()
        .expect("run python");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("json from python")
}

/// One differential run: generated texts (from `pool` after one of `headers`) read by
/// `read` and by jupytext with `fmt`; `check` may compare more than the cells.
struct Differential {
    label: &'static str,
    seed: u64,
    pool: &'static [&'static str],
    headers: &'static [&'static [&'static str]],
    extension: &'static str,
    fmt: &'static str,
    read: fn(&str) -> Notebook,
    check: fn(&Notebook, &Value) -> Option<String>,
}

fn differential(run: Differential) {
    let Differential {
        label,
        seed,
        pool,
        headers,
        extension,
        fmt,
        read,
        check,
    } = run;
    let cases = std::env::var("JELLYCELL_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let mut rng = Rng(seed);
    let texts: Vec<String> = (0..cases)
        .map(|_| generate(&mut rng, pool, headers))
        .collect();
    let results = jupytext_reads(&texts, extension, fmt);
    assert_eq!(results.len(), texts.len());
    let (mut same, mut errors, mut cells) = (0, 0, 0);
    let mut failures = Vec::new();
    for (text, expected) in texts.iter().zip(&results) {
        if expected.get("error").is_some() {
            errors += 1;
            continue;
        }
        let notebook = read(text);
        let ours = cells_of(&notebook);
        cells += notebook.cells.len();
        let extra = check(&notebook, expected);
        if ours == expected["cells"] && extra.is_none() {
            same += 1;
        } else {
            failures.push(format!(
                "{text:?}\n ours:     {ours}\n jupytext: {}\n {}",
                expected["cells"],
                extra.unwrap_or_default()
            ));
        }
    }
    println!(
        "{label}: read {same}/{} identical ({cells} cells; {errors} inputs jupytext rejects)",
        texts.len() - errors
    );
    assert!(cells > texts.len(), "the generator makes real notebooks");
    let shown: Vec<&str> = failures.iter().take(6).map(String::as_str).collect();
    assert!(
        failures.is_empty(),
        "{} mismatches, first ones:\n{}",
        failures.len(),
        shown.join("\n")
    );
}

fn no_check(_: &Notebook, _: &Value) -> Option<String> {
    None
}

#[test]
fn generated_light_notebooks_read_as_jupytext_reads_them() {
    differential(Differential {
        label: "py:light",
        seed: 0x2545_F491_4F6C_DD1D,
        pool: LIGHT_LINES,
        headers: &[&[]],
        extension: "py",
        fmt: "py:light",
        read: read_light,
        check: no_check,
    });
}

#[test]
fn generated_markdown_notebooks_read_as_jupytext_reads_them() {
    differential(Differential {
        label: "md:markdown",
        seed: 0x9E37_79B9_7F4A_7C15,
        pool: MARKDOWN_LINES,
        headers: &MARKDOWN_HEADERS[..4],
        extension: "md",
        fmt: "md:markdown",
        read: read_markdown,
        check: no_check,
    });
}

/// The `.md` reader picks the format jupytext picks (MyST, markdown) and reads the same
/// cells.
#[test]
fn md_files_are_read_in_the_format_jupytext_picks() {
    fn same_format(notebook: &Notebook, expected: &Value) -> Option<String> {
        let theirs = expected["format_name"].as_str().unwrap_or("markdown");
        let ours = match notebook.format {
            NotebookFormat::Myst => "myst",
            _ => "markdown",
        };
        (ours != theirs).then(|| format!("format: ours {ours}, jupytext {theirs}"))
    }
    differential(Differential {
        label: "md",
        seed: 0x1234_5678_9ABC_DEF1,
        pool: MARKDOWN_LINES,
        headers: MARKDOWN_HEADERS,
        extension: "md",
        fmt: "md",
        read: read_md,
        check: same_format,
    });
}

//! `jellycell-lsp test` (nbval for plain-text notebooks) through the real binary against
//! a real ipykernel: a changed output fails with a readable diff, markers (ignored,
//! skipped, raising cells), `--accept`, JUnit XML read back by Python's XML parser,
//! GitHub annotations, sanitizers, and a progress bar that clears its output: it passes
//! here against a paired `.ipynb` while nbval 0.11.0 fails the same notebook.

mod support;

use std::process::{Command, Output};

use support::project::TestProject;
use support::python::python;

/// The first cell's output comes from a file outside the cache key, so editing that file
/// changes the output while the cell's key (and its recorded reference) stays.
const NOTEBOOK: &str = r#"# %% tags=["name=total"]
print("total:", open("data.txt").read().strip())

# %% tags=["name=noise"]
# NBVAL_IGNORE_OUTPUT
import random
print(random.random())

# %% tags=["name=never", "nbval-skip"]
open("skipped-cell-ran.txt", "w").write("it ran")

# %% tags=["name=boom"]
# NBVAL_RAISES_EXCEPTION
raise ValueError("expected")

# %% tags=["name=shown"]
6 * 7
"#;

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_changed_output_fails_with_a_diff_and_accept_makes_it_the_reference() {
    let project = TestProject::new(&[("notebooks/nb.py", NOTEBOOK), ("data.txt", "41\n")]);
    let (code, report) = project.run("notebooks/nb.py", &["--keep-going"]);
    assert_eq!(code, 1, "the raising cell fails a run: {report}");
    // `run` knows no nbval markers: the skipped cell ran there, but must not in `test`.
    std::fs::remove_file(project.path("skipped-cell-ran.txt")).expect("the cell ran in `run`");

    let same = project.output(&["test", "notebooks/nb.py"]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));
    assert!(
        text(&same).contains(
            "notebooks/nb.py: 3 passed, 0 failed, 1 ignored, 1 skipped (against the cache)"
        ),
        "{}",
        text(&same)
    );
    assert!(
        !project.path("skipped-cell-ran.txt").exists(),
        "an NBVAL_SKIP cell ran"
    );

    project.write("data.txt", "42\n");
    let changed = project
        .command(&["test", "notebooks/nb.py", "--junit", "junit.xml"])
        .env("GITHUB_ACTIONS", "true")
        .output()
        .expect("the binary runs");
    let shown = text(&changed);
    assert_eq!(changed.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains(" notebooks/nb.py::total (Cell 0, line 1) "),
        "{shown}"
    );
    assert!(
        shown.contains("Cell outputs differ from the cache"),
        "{shown}"
    );
    assert!(
        shown.contains("Input:\n  print(\"total:\", open(\"data.txt\").read().strip())\n"),
        "{shown}"
    );
    assert!(
        shown.contains("mismatch stdout\n  @@ reference line 1, this run line 1 @@\n  - total: 41\n  + total: 42\n"),
        "{shown}"
    );
    assert!(
        shown.contains("::error file=notebooks/nb.py,line=1,title=jellycell-lsp test::total: outputs differ from the cache%0Amismatch stdout%0A"),
        "{shown}"
    );
    let junit = Command::new(python())
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as ET\n\
             root = ET.parse(sys.argv[1]).getroot()\n\
             suite = root.find('testsuite')\n\
             print(root.get('tests'), root.get('failures'), root.get('errors'), root.get('skipped'))\n\
             for case in suite.findall('testcase'):\n\
             \x20   kids = [child.tag for child in case]\n\
             \x20   print(case.get('classname'), case.get('name'), case.get('line'), kids, [c.get('message') for c in case])\n",
        ])
        .arg(project.path("junit.xml"))
        .output()
        .expect("python runs");
    let parsed = text(&junit);
    assert!(junit.status.success(), "{parsed}");
    assert_eq!(
        parsed,
        "5 1 0 2\n\
         notebooks/nb.py total 1 ['failure'] ['mismatch stdout']\n\
         notebooks/nb.py noise 4 ['skipped'] ['outputs not compared (ignored)']\n\
         notebooks/nb.py never 9 ['skipped'] ['NBVAL_SKIP']\n\
         notebooks/nb.py boom 12 [] []\n\
         notebooks/nb.py shown 16 [] []\n"
    );

    let accepted = project.output(&["test", "notebooks/nb.py", "--accept"]);
    assert_eq!(accepted.status.code(), Some(0), "{}", text(&accepted));
    assert!(
        text(&accepted).contains("accepted notebooks/nb.py::total (line 1): mismatch stdout"),
        "{}",
        text(&accepted)
    );
    let after = project.output(&["test", "notebooks/nb.py"]);
    assert_eq!(after.status.code(), Some(0), "{}", text(&after));
}

#[test]
fn an_unexpected_exception_fails_its_cell_and_later_cells_still_run() {
    let notebook = "# %% tags=[\"name=bad\"]\nraise KeyError(\"nope\")\n\n# %% tags=[\"name=after\"]\nprint(open(\"data.txt\").read())\n";
    let project = TestProject::new(&[("notebooks/e.py", notebook), ("data.txt", "a")]);
    let _ = project.run("notebooks/e.py", &["--keep-going"]);
    project.write("data.txt", "b");
    let output = project.output(&["test", "notebooks/e.py"]);
    let shown = text(&output);
    assert_eq!(output.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("notebooks/e.py::bad (Cell 0, line 1)"),
        "{shown}"
    );
    assert!(
        shown.contains("Cell execution caused an exception"),
        "{shown}"
    );
    assert!(shown.contains("KeyError: 'nope'"), "{shown}");
    // Keep going: the second cell ran and its changed output is reported too.
    assert!(shown.contains("  - a\n  + b\n"), "{shown}");
    assert!(shown.contains("0 passed, 2 failed"), "{shown}");
}

#[test]
fn sanitizers_hide_addresses_timestamps_and_figure_sizes_when_asked() {
    let notebook = "# %% tags=[\"name=noisy\"]\nprint(open(\"noise.txt\").read())\n";
    let project = TestProject::new(&[
        ("notebooks/s.py", notebook),
        (
            "noise.txt",
            "<Foo at 0x7f002d07d990> 2026-01-02 03:04:05 <Figure size 640x480 with 1 Axes>",
        ),
    ]);
    let (code, _) = project.run("notebooks/s.py", &[]);
    assert_eq!(code, 0);
    project.write(
        "noise.txt",
        "<Foo at 0x7f1119ba3090> 2027-11-12 13:14:15 <Figure size 432x288 with 1 Axes>",
    );
    let plain = project.output(&["test", "notebooks/s.py"]);
    assert_eq!(plain.status.code(), Some(1), "{}", text(&plain));
    let built_in = project.output(&["test", "notebooks/s.py", "--sanitize", "all"]);
    assert_eq!(built_in.status.code(), Some(0), "{}", text(&built_in));
    // Only some of them: the figure size still differs.
    let partial = project.output(&[
        "test",
        "notebooks/s.py",
        "--sanitize",
        "addresses,timestamps",
    ]);
    assert_eq!(partial.status.code(), Some(1), "{}", text(&partial));
    assert!(
        text(&partial).contains("- <Foo at 0xADDRESS> TIMESTAMP <Figure size 640x480 with 1 Axes>"),
        "{}",
        text(&partial)
    );
    // nbval's own file format.
    project.write(
        "sanitize.cfg",
        "[addresses]\nregex: \\b0x[0-9a-f]+\nreplace: 0xADDR\n\n[dates]\nregex: \\d{4}-\\d{2}-\\d{2} [\\d:]+\nreplace: DATE\nregex: size \\d+x\\d+\nreplace: size WxH\n",
    );
    let file = project.output(&["test", "notebooks/s.py", "--sanitize-with", "sanitize.cfg"]);
    assert_eq!(file.status.code(), Some(0), "{}", text(&file));
    let unknown = project.output(&["test", "notebooks/s.py", "--sanitize", "dates"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown).contains(
            "--sanitize dates: no such sanitizer; use addresses, timestamps, figures, or all"
        ),
        "{}",
        text(&unknown)
    );
}

const PROGRESS: &str = r#"# %% tags=["name=progress"]
from IPython.display import clear_output, display
for step in range(3):
    print(f"progress {step}")
    clear_output(wait=True)
print("done")

# %% tags=["name=status"]
handle = display("working", display_id=True)
handle.update("finished")
"#;

/// nbval (pytest --nbval) on one notebook of `project`, as its users run it. Its kernel gets
/// an IPython directory of its own, so it shares no history database with the kernels of
/// the tests running beside it, and a startup bound for a loaded 2-core machine (nbval's 60 s
/// default once ran out in CI). A kernel that still never answers is nbval's infrastructure
/// failing, not the verdict under test: it is started once more, and the first try's output
/// appended to the second's stderr for the failure message.
fn run_nbval(project: &TestProject, notebook: &str) -> Output {
    let attempt = || {
        Command::new(python())
            .args([
                "-m",
                "pytest",
                "--nbval",
                "--nbval-kernel-startup-timeout=240",
                "-p",
                "no:cacheprovider",
                "--color=no",
            ])
            .arg(project.path(notebook))
            .env("IPYTHONDIR", project.path(".nbval-ipython"))
            .current_dir(project.root())
            .output()
            .expect("pytest runs")
    };
    let first = attempt();
    if !text(&first).contains("Kernel didn't respond") {
        return first;
    }
    let mut second = attempt();
    let first_try = format!(
        "\n(nbval's first try, whose kernel never answered:)\n{}",
        text(&first)
    );
    second.stderr.extend(first_try.bytes());
    second
}

#[test]
fn a_progress_bar_that_clears_its_output_passes_here_and_fails_under_nbval() {
    let project = TestProject::new(&[
        ("notebooks/progress.py", PROGRESS),
        (
            "notebooks/jupytext.toml",
            "formats = \"ipynb,py:percent\"\n",
        ),
    ]);
    // The paired .ipynb, executed by nbclient as Jupyter saves it: what the frontend shows.
    let execute = Command::new(python())
        .args([
            "-c",
            "import sys, jupytext, nbformat, nbclient\n\
             nb = jupytext.read(sys.argv[1])\n\
             nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}\n\
             nbclient.NotebookClient(nb, kernel_name='python3', startup_timeout=240).execute()\n\
             nbformat.write(nb, sys.argv[2])\n\
             print(nb.cells[0].outputs[0]['text'], end='')\n\
             print(nb.cells[1].outputs[0]['data']['text/plain'])\n",
        ])
        .arg(project.path("notebooks/progress.py"))
        .arg(project.path("notebooks/progress.ipynb"))
        .env("IPYTHONDIR", project.path(".nbval-ipython"))
        .current_dir(project.root())
        .output()
        .expect("python runs");
    assert_eq!(
        String::from_utf8_lossy(&execute.stdout),
        "done\n'finished'\n",
        "{}",
        text(&execute)
    );

    let ours = project.output(&["test", "notebooks/progress.py"]);
    assert_eq!(ours.status.code(), Some(0), "{}", text(&ours));
    assert!(
        text(&ours).contains("2 passed, 0 failed (against the outputs in"),
        "{}",
        text(&ours)
    );

    let nbval = run_nbval(&project, "notebooks/progress.ipynb");
    let nbval_text = text(&nbval);
    assert_eq!(nbval.status.code(), Some(1), "{nbval_text}");
    assert!(nbval_text.contains("mismatch 'stdout'"), "{nbval_text}");
    assert!(nbval_text.contains("2 failed"), "{nbval_text}");

    // The same cell with a changed outcome fails here too: the comparison is real.
    let text_before = project.read("notebooks/progress.ipynb");
    project.write(
        "notebooks/progress.ipynb",
        &text_before.replace("\"done\\n\"", "\"finished\\n\""),
    );
    let changed = project.output(&["test", "notebooks/progress.py"]);
    assert_eq!(changed.status.code(), Some(1), "{}", text(&changed));
    assert!(
        text(&changed).contains("  - finished\n  + done\n"),
        "{}",
        text(&changed)
    );

    // --accept writes this run's outputs into the paired .ipynb, which nbformat accepts.
    let accepted = project.output(&["test", "notebooks/progress.py", "--accept"]);
    assert_eq!(accepted.status.code(), Some(0), "{}", text(&accepted));
    let validate = Command::new(python())
        .args([
            "-c",
            "import sys, nbformat\nnb = nbformat.read(sys.argv[1], as_version=4)\nnbformat.validate(nb)\nprint(nb.cells[0].outputs[0]['text'], end='')\n",
        ])
        .arg(project.path("notebooks/progress.ipynb"))
        .output()
        .expect("python runs");
    assert_eq!(
        String::from_utf8_lossy(&validate.stdout),
        "done\n",
        "{}",
        text(&validate)
    );
}

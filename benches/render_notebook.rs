//! Benchmark (figures, not pass/fail): rendering a 1,000-cell notebook with cached outputs
//! (streams, PNG images, HTML tables, markdown with tables) to a page, beside Python
//! `jellycell render` on the same notebook in the same run.
//!
//! Our cache is filled through the cache API (no kernel); jellycell's by one real
//! `jellycell run` of the same notebook (its cells print, display a PNG or an HTML
//! table, so both caches hold the same outputs). Run: `cargo bench --bench
//! render_notebook`. jellycell is `JELLYCELL_BENCH_JELLYCELL`, else
//! `/work/main/target/jellycell-py/bin/jellycell`, else `target/jellycell-py/bin/jellycell`;
//! without it only our figures are printed.

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/support/outputs.rs"]
#[allow(dead_code)]
mod outputs;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use jellycell_lsp::analysis::workspace::Workspace;
use jellycell_lsp::cache::{Store, cell_statuses};
use jellycell_lsp::project::Project;
use jellycell_lsp::render::{UrlScheme, render_notebook};
use outputs::{Output, cache_outputs_for, png, png_base64, text};

const CELLS: usize = 1000;
const SAMPLES: usize = 21;
const PROCESS_SAMPLES: usize = 5;

fn html_table(row: usize) -> String {
    let mut html = String::from("<table><thead><tr><th>row</th><th>value</th></tr></thead><tbody>");
    for line in 0..5 {
        html.push_str(&format!(
            "<tr><td>{line}</td><td>{}</td></tr>",
            row * 10 + line
        ));
    }
    html.push_str("</tbody></table>");
    html
}

/// Cell `index`: every 4th a markdown cell, the others code; what each code cell outputs.
enum Kind {
    Markdown,
    Print,
    Image,
    Html,
}

fn kind(index: usize) -> Kind {
    match index % 20 {
        0 | 4 | 8 | 12 | 16 => Kind::Markdown,
        5 => Kind::Image,
        13 => Kind::Html,
        _ => Kind::Print,
    }
}

fn notebook() -> String {
    let image = png_base64(64, 32);
    let mut text = String::new();
    for index in 0..CELLS {
        match kind(index) {
            Kind::Markdown => text.push_str(&format!(
                "# %% [markdown]\n# ## Section {index}\n#\n# Some *prose* with `code` and a table:\n#\n\
                 # | a | b |\n# |---|---|\n# | {index} | {} |\n\n",
                index * 2
            )),
            Kind::Print => text.push_str(&format!(
                "# %%\nvalue_{index} = {index} * 2\nprint(\"row\", value_{index})\n\n"
            )),
            Kind::Image => text.push_str(&format!(
                "# %%\nimport base64\nfrom IPython.display import Image, display\n\
                 display(Image(data=base64.b64decode(\"{image}\")))  # {index}\n\n"
            )),
            Kind::Html => text.push_str(&format!(
                "# %%\nfrom IPython.display import HTML, display\ndisplay(HTML({:?}))  # {index}\n\n",
                html_table(index)
            )),
        }
    }
    text
}

fn fill_cache(root: &Path) {
    let project = Project::discover(root);
    let store = Store::open(&project);
    let (workspace, _) = Workspace::load(project, &[]);
    let file = 0;
    let notebook = &workspace.files[file];
    let image = png_base64(64, 32);
    for state in cell_statuses(&workspace, file, &store) {
        let outputs = match kind(state.ordinal) {
            Kind::Markdown => continue,
            Kind::Print => vec![Output::Stream(
                "stdout",
                format!("row {}\n", state.ordinal * 2),
            )],
            Kind::Image => vec![Output::Display(vec![
                ("image/png", text(&image)),
                ("text/plain", text("<IPython.core.display.Image object>")),
            ])],
            Kind::Html => vec![Output::Display(vec![
                ("text/html", text(&html_table(state.ordinal))),
                ("text/plain", text("<IPython.core.display.HTML object>")),
            ])],
        };
        cache_outputs_for(notebook, &state, &store, outputs);
    }
    let _ = png(1, 1);
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn time<T>(samples: usize, mut work: impl FnMut() -> T) -> (Duration, Duration) {
    let mut times = Vec::new();
    for _ in 0..samples {
        let started = Instant::now();
        std::hint::black_box(work());
        times.push(started.elapsed());
    }
    let min = times.iter().copied().min().unwrap_or_default();
    (median(times), min)
}

fn row(label: &str, (median, min): (Duration, Duration), runs: usize) {
    println!(
        "| {label} | {runs} | {:.1} ms | {:.1} ms |",
        median.as_secs_f64() * 1000.0,
        min.as_secs_f64() * 1000.0
    );
}

fn jellycell() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("JELLYCELL_BENCH_JELLYCELL").map(PathBuf::from),
        Some(PathBuf::from(
            "/work/main/target/jellycell-py/bin/jellycell",
        )),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("target/jellycell-py/bin/jellycell")),
    ];
    candidates.into_iter().flatten().find(|path| path.is_file())
}

fn python_command(jellycell: &Path, root: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(jellycell);
    command.args(args).current_dir(root);
    if let Some(bin) = jellycell.parent() {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![bin.to_path_buf()];
        dirs.extend(std::env::split_paths(&path));
        if let Ok(joined) = std::env::join_paths(dirs) {
            command.env("PATH", joined);
        }
        if let Some(prefix) = bin.parent() {
            command.env("VIRTUAL_ENV", prefix);
        }
    }
    command.env_remove("JUPYTER_PATH");
    command
}

fn succeeded(command: &mut Command) -> bool {
    match command.output() {
        Ok(output) if output.status.success() => true,
        Ok(output) => {
            eprintln!(
                "{command:?} failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            false
        }
        Err(error) => {
            eprintln!("{command:?}: {error}");
            false
        }
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"bench\"\n").expect("toml");
    std::fs::create_dir_all(root.join("notebooks")).expect("mkdir");
    std::fs::write(root.join("notebooks/bench.py"), notebook()).expect("notebook");
    fill_cache(root);

    let project = Project::discover(root);
    let store = Store::open(&project);
    let (workspace, _) = Workspace::load(project.clone(), &[]);
    let page = render_notebook(&workspace, 0, &store, UrlScheme::Served).expect("a page");
    let rendered = time(SAMPLES, || {
        render_notebook(&workspace, 0, &store, UrlScheme::Served)
    });
    let standalone = time(SAMPLES, || {
        render_notebook(&workspace, 0, &store, UrlScheme::SelfContained)
    });
    let request = time(SAMPLES, || {
        let (workspace, _) = Workspace::load(project.clone(), &[]);
        render_notebook(&workspace, 0, &store, UrlScheme::Served)
    });
    let ours = env!("CARGO_BIN_EXE_jellycell-lsp");
    let export = time(PROCESS_SAMPLES, || {
        succeeded(
            Command::new(ours)
                .args([
                    "export",
                    "--to",
                    "html",
                    "-o",
                    "ours.html",
                    "notebooks/bench.py",
                ])
                .current_dir(root),
        )
    });

    println!(
        "Notebook: {CELLS} cells (250 markdown, 750 code: 650 print, 50 PNG, 50 HTML table), \
         page {} KB; machine: {} cores",
        page.len() / 1024,
        std::thread::available_parallelism().map_or(1, |count| count.get())
    );
    println!();
    println!("| what | runs | median | min |");
    println!("|---|---|---|---|");
    row(
        "render_notebook, served page (in process)",
        rendered,
        SAMPLES,
    );
    row(
        "render_notebook, self-contained (in process)",
        standalone,
        SAMPLES,
    );
    row(
        "load workspace + render (one /nb/ request's work)",
        request,
        SAMPLES,
    );
    row(
        "`jellycell-lsp export --to html` (process)",
        export,
        PROCESS_SAMPLES,
    );

    match jellycell() {
        Some(jellycell) => {
            let started = Instant::now();
            let ran = succeeded(&mut python_command(
                &jellycell,
                root,
                &["--json", "run", "notebooks/bench.py"],
            ));
            eprintln!(
                "jellycell run (fills its cache): {:.1} s",
                started.elapsed().as_secs_f64()
            );
            if ran {
                let theirs = time(PROCESS_SAMPLES, || {
                    succeeded(&mut python_command(
                        &jellycell,
                        root,
                        &["render", "notebooks/bench.py"],
                    ))
                });
                row(
                    "`jellycell render notebooks/bench.py` (process)",
                    theirs,
                    PROCESS_SAMPLES,
                );
                let theirs = time(PROCESS_SAMPLES, || {
                    succeeded(&mut python_command(
                        &jellycell,
                        root,
                        &["render", "--standalone", "notebooks/bench.py"],
                    ))
                });
                row(
                    "`jellycell render --standalone notebooks/bench.py` (process)",
                    theirs,
                    PROCESS_SAMPLES,
                );
                let site = root.join("site/bench.html");
                let size = std::fs::metadata(&site).map(|meta| meta.len()).unwrap_or(0);
                println!();
                println!("jellycell's page: {} KB ({})", size / 1024, site.display());
            }
        }
        None => println!("\n(jellycell not found: set JELLYCELL_BENCH_JELLYCELL to compare)"),
    }
}

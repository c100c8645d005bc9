//! One cell as a `<section>`: a header (anchor, name or title, kind, status badge,
//! duration, deps as links) and the body (markdown, highlighted code and its outputs).

use super::highlight::Highlighter;
use super::markdown::{Heading, markdown_to_html};
use super::outputs::render_output;
use super::{UrlScheme, escape, escape_into, notebook_url};
use crate::analysis::graph::CellRef;
use crate::analysis::workspace::Workspace;
use crate::cache::{CellState, CellStatus, Manifest, Store};
use crate::format::{CellType, PlacedCell};

/// What the page needs to render the cells of one notebook.
pub struct CellContext<'a> {
    pub workspace: &'a Workspace,
    pub file: usize,
    pub store: &'a Store,
    pub scheme: UrlScheme,
    pub highlighter: Highlighter,
}

/// A rendered cell and the outline entries it contributes.
pub struct RenderedCell {
    pub html: String,
    pub headings: Vec<Heading>,
}

pub fn render_cell(
    context: &mut CellContext<'_>,
    ordinal: usize,
    cell: PlacedCell<'_>,
    state: Option<&CellState>,
) -> RenderedCell {
    let mut html = String::with_capacity(cell.source.len() * 2 + 512);
    let mut headings = Vec::new();
    let type_class = match cell.cell_type {
        CellType::Code => "code",
        CellType::Markdown => "markdown",
        CellType::Raw => "raw",
    };
    html.push_str(&format!(
        "<section class=\"jc-cell jc-cell-{type_class}\" id=\"cell-{ordinal}\" data-cell=\"{ordinal}\">"
    ));
    match cell.cell_type {
        CellType::Markdown => {
            let (body, found) = markdown_to_html(&cell.source, &format!("c{ordinal}-"));
            headings = found;
            html.push_str("<div class=\"jc-markdown\">");
            html.push_str(&body);
            html.push_str("</div>");
        }
        CellType::Raw => {
            html.push_str("<pre class=\"jc-raw\">");
            escape_into(&mut html, &cell.source);
            html.push_str("</pre>");
        }
        CellType::Code => render_code(context, ordinal, cell, state, &mut html),
    }
    html.push_str("</section>\n");
    RenderedCell { html, headings }
}

fn render_code(
    context: &mut CellContext<'_>,
    ordinal: usize,
    cell: PlacedCell<'_>,
    state: Option<&CellState>,
    html: &mut String,
) {
    let status = state.map_or(CellStatus::New, |state| state.status);
    let manifest: Option<Manifest> = state
        .and_then(|state| state.key.as_deref())
        .and_then(|key| context.store.verified_manifest(key));

    html.push_str("<header class=\"jc-cell-header\">");
    html.push_str(&format!(
        "<a class=\"jc-anchor\" href=\"#cell-{ordinal}\">[{ordinal}]</a>"
    ));
    let name = state.map_or_else(|| format!("cell {ordinal}"), |state| state.name.clone());
    html.push_str("<span class=\"jc-cell-name\">");
    escape_into(html, &name);
    html.push_str("</span>");
    if let Some(title) = cell.metadata.get("title").and_then(|title| title.as_str()) {
        html.push_str("<span class=\"jc-cell-title\">");
        escape_into(html, title);
        html.push_str("</span>");
    }
    let kind = cell.spec.kind.as_str();
    html.push_str(&format!(
        "<span class=\"jc-badge jc-kind jc-kind-{kind}\">{kind}</span>"
    ));
    let status_name = status.as_str();
    html.push_str(&format!(
        "<span class=\"jc-badge jc-status jc-status-{status_name}\" title=\"{}\">{status_name}</span>",
        status_help(status)
    ));
    if let Some(manifest) = &manifest {
        html.push_str(&format!(
            "<span class=\"jc-duration\" title=\"ran {}\">{}</span>",
            escape(&manifest.executed_at),
            duration(manifest.duration_ms)
        ));
    }
    render_deps(context, ordinal, html);
    html.push_str("</header>");

    html.push_str("<pre class=\"jc-code\"><code class=\"language-python\">");
    html.push_str(&context.highlighter.highlight(&cell.source));
    html.push_str("</code></pre>");

    // A stale cell keeps its last outputs, greyed and marked, as Jupyter keeps old
    // outputs until a re-run (a comment edit must not blank every later cell).
    let last_run = match (&manifest, status) {
        (None, CellStatus::Stale) => context
            .workspace
            .files
            .get(context.file)
            .and_then(|file| context.store.latest_for(&file.relative, &name))
            .and_then(|key| context.store.manifest(&key)),
        _ => None,
    };
    let stale = last_run.is_some();
    if let Some(last_run) = &last_run {
        html.push_str("<div class=\"jc-note jc-stale-note\">Stale: these are the outputs of an earlier version of this cell (or of its inputs), last run ");
        escape_into(html, &last_run.executed_at);
        html.push_str("; run it to see its current outputs.</div>");
    }
    if let Some(manifest) = manifest.or(last_run) {
        if !manifest.outputs.is_empty() {
            html.push_str(if stale {
                "<div class=\"jc-outputs jc-outputs-stale\" data-stale=\"true\">"
            } else {
                "<div class=\"jc-outputs\">"
            });
            for (index, output) in manifest.outputs.iter().enumerate() {
                html.push_str(&render_output(
                    output,
                    context.store.blobs(),
                    context.scheme,
                    &format!("c{ordinal}-o{index}-"),
                ));
            }
            html.push_str("</div>");
        }
        if !manifest.artifacts.is_empty() {
            html.push_str(if stale {
                "<div class=\"jc-artifacts jc-outputs-stale\">"
            } else {
                "<div class=\"jc-artifacts\">"
            });
            for artifact in &manifest.artifacts {
                let href = match context.scheme {
                    UrlScheme::Served => artifact_url(context.workspace, &artifact.path),
                    UrlScheme::SelfContained => None,
                };
                match &href {
                    Some(href) => {
                        html.push_str("<a class=\"jc-artifact\" href=\"");
                        escape_into(html, href);
                        html.push_str("\">");
                    }
                    None => html.push_str("<span class=\"jc-artifact\">"),
                }
                escape_into(html, &artifact.path);
                html.push_str(if href.is_some() { "</a>" } else { "</span>" });
            }
            html.push_str("</div>");
        }
    } else if status == CellStatus::Stale {
        html.push_str(
            "<div class=\"jc-note\">This cell changed since it last ran (or a dependency did); \
             run it to see its current outputs.</div>",
        );
    }
}

fn render_deps(context: &CellContext<'_>, ordinal: usize, html: &mut String) {
    let cell = CellRef {
        notebook: context.file,
        ordinal,
    };
    let edges = context.workspace.graph.dependencies(cell);
    if edges.is_empty() {
        return;
    }
    html.push_str("<span class=\"jc-deps\">deps ");
    for (index, edge) in edges.iter().enumerate() {
        if index > 0 {
            html.push_str(", ");
        }
        let name = context.workspace.graph.name_of(edge.target);
        let href = if edge.target.notebook == context.file {
            Some(format!("#cell-{}", edge.target.ordinal))
        } else if context.scheme == UrlScheme::Served {
            context
                .workspace
                .files
                .get(edge.target.notebook)
                .map(|file| {
                    format!(
                        "{}#cell-{}",
                        notebook_url(&file.relative),
                        edge.target.ordinal
                    )
                })
        } else {
            None
        };
        match href {
            Some(href) => {
                html.push_str("<a href=\"");
                escape_into(html, &href);
                html.push_str("\"><code>");
                escape_into(html, &name);
                html.push_str("</code></a>");
            }
            None => {
                html.push_str("<code>");
                escape_into(html, &name);
                html.push_str("</code>");
            }
        }
    }
    html.push_str("</span>");
}

/// `/artifacts/<path below the artifacts folder>` for a project-relative artifact path.
fn artifact_url(workspace: &Workspace, path: &str) -> Option<String> {
    let folder = workspace
        .project
        .relative_path(&workspace.project.artifacts_dir())?;
    let folder = folder.to_string_lossy().replace('\\', "/");
    let below = path.strip_prefix(folder.as_str())?.strip_prefix('/')?;
    Some(format!("/artifacts/{below}"))
}

fn status_help(status: CellStatus) -> &'static str {
    match status {
        CellStatus::Cached => "outputs cached for the current source and deps",
        CellStatus::Error => "the last run of this exact source failed",
        CellStatus::Stale => "changed since its last run",
        CellStatus::New => "never run",
        CellStatus::Setup => "setup cell: runs every time, never cached",
        CellStatus::Note => "note cell: never runs",
    }
}

pub use super::time_text::duration;

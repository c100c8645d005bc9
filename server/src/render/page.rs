//! A notebook page: the document head (CSS inline, the live-reload script when served),
//! a sidebar with the outline and the other notebooks, and the cells in order.

use super::assets;
use super::cell::{CellContext, render_cell};
use super::highlight::Highlighter;
use super::{UrlScheme, escape, escape_into, notebook_url};
use crate::analysis::workspace::Workspace;
use crate::cache::status::cell_statuses_with;
use crate::cache::{CellStatus, Injection, KeyContext, Store};
use crate::format::CellType;
use crate::run::params::Parameters;

/// The page of notebook `file` of `workspace`, with the outputs `store` holds for each
/// cell's current key; `None` when there is no such file.
pub fn render_notebook(
    workspace: &Workspace,
    file: usize,
    store: &Store,
    scheme: UrlScheme,
) -> Option<String> {
    render_notebook_with(workspace, file, store, scheme, &Parameters::default())
}

/// [`render_notebook`] for a run with `parameters` (`run -p`): the cells after the
/// injection point show the outputs cached for their keys under these parameters, and
/// the injected cell is shown where the run put it.
pub fn render_notebook_with(
    workspace: &Workspace,
    file: usize,
    store: &Store,
    scheme: UrlScheme,
    parameters: &Parameters,
) -> Option<String> {
    render_notebook_page(workspace, file, store, scheme, parameters, None)
}

/// [`render_notebook_with`], the header also saying which environment runs the
/// notebook's kernel (`environment`: as a run's summary line names it).
pub fn render_notebook_page(
    workspace: &Workspace,
    file: usize,
    store: &Store,
    scheme: UrlScheme,
    parameters: &Parameters,
    environment: Option<&str>,
) -> Option<String> {
    let notebook = workspace.files.get(file)?;
    let injection = parameters.injection(workspace, file);
    let states = cell_statuses_with(
        &mut KeyContext::new(workspace, injection.clone(), store),
        workspace,
        file,
        store,
    );
    let mut context = CellContext {
        workspace,
        file,
        store,
        scheme,
        highlighter: Highlighter::default(),
    };
    let mut body = String::with_capacity(notebook.text.len() * 3);
    let mut outline = String::new();
    let mut state_index = 0;
    if let Some(injection) = injection
        .as_ref()
        .filter(|injection| injection.after.is_none())
    {
        render_injected(&mut context, injection, &mut body);
    }
    for (ordinal, cell) in notebook.notebook.cells.iter().enumerate() {
        let state = if cell.cell_type == CellType::Code {
            let found = states
                .get(state_index)
                .filter(|state| state.ordinal == ordinal);
            state_index += usize::from(found.is_some());
            found
        } else {
            None
        };
        let rendered = render_cell(&mut context, ordinal, cell, state);
        for heading in &rendered.headings {
            outline.push_str(&format!(
                "<li class=\"jc-outline-h{}\"><a href=\"#{}\">",
                heading.level,
                escape(&heading.id)
            ));
            escape_into(&mut outline, &heading.text);
            outline.push_str("</a></li>");
        }
        if let Some(state) = state
            && cell.spec.name.is_some()
        {
            outline.push_str(&format!(
                "<li class=\"jc-outline-cell\"><a href=\"#cell-{ordinal}\"><span class=\"jc-dot jc-status-{}\"></span>",
                state.status.as_str()
            ));
            escape_into(&mut outline, &state.name);
            outline.push_str("</a></li>");
        }
        body.push_str(&rendered.html);
        if let Some(injection) = injection
            .as_ref()
            .filter(|injection| injection.after == Some(ordinal))
        {
            render_injected(&mut context, injection, &mut body);
        }
    }

    let count = |status: CellStatus| states.iter().filter(|state| state.status == status).count();
    let cells = notebook.notebook.cells.len();
    let errors = count(CellStatus::Error);
    let summary = format!(
        "{cells} cell{} · {} cached · {} stale · {} new · {errors} error{}",
        if cells == 1 { "" } else { "s" },
        count(CellStatus::Cached),
        count(CellStatus::Stale),
        count(CellStatus::New),
        if errors == 1 { "" } else { "s" },
    );

    let mut siblings = String::new();
    if scheme == UrlScheme::Served {
        for (index, other) in workspace.files.iter().enumerate() {
            let current = if index == file {
                " class=\"jc-current\""
            } else {
                ""
            };
            siblings.push_str(&format!(
                "<li{current}><a href=\"{}\">{}</a></li>",
                escape(&notebook_url(&other.relative)),
                escape(&other.relative)
            ));
        }
    }

    let mut page = String::with_capacity(body.len() + outline.len() + 8192);
    page.push_str(&head(
        &notebook.relative,
        scheme,
        &format!(
            "<meta name=\"jellycell:notebook\" content=\"{}\">",
            escape(&notebook.relative)
        ),
    ));
    page.push_str(
        "<body data-jc-page=\"notebook\"><div class=\"jc-layout\"><nav class=\"jc-sidebar\">",
    );
    page.push_str(&format!(
        "<div class=\"jc-brand\">{}<span>{}</span></div>",
        if scheme == UrlScheme::Served {
            "<a href=\"/\">jellycell</a>"
        } else {
            "jellycell"
        },
        escape(workspace.project.name())
    ));
    if !outline.is_empty() {
        page.push_str("<h2>Outline</h2><ul class=\"jc-outline\">");
        page.push_str(&outline);
        page.push_str("</ul>");
    }
    if !siblings.is_empty() {
        page.push_str("<h2>Notebooks</h2><ul class=\"jc-notebooks\">");
        page.push_str(&siblings);
        page.push_str("</ul>");
    }
    page.push_str("</nav><main class=\"jc-main\"><header class=\"jc-page-header\"><h1>");
    escape_into(&mut page, &notebook.relative);
    page.push_str("</h1><p class=\"jc-summary\">");
    escape_into(&mut page, &summary);
    page.push_str("</p>");
    if let Some(environment) = environment {
        page.push_str("<p class=\"jc-environment\">Kernel: <code>");
        escape_into(&mut page, environment);
        page.push_str("</code></p>");
    }
    if let Some(listed) = parameters_text(parameters) {
        page.push_str("<p class=\"jc-parameters\">Outputs of the run with parameters ");
        escape_into(&mut page, &listed);
        page.push_str("</p>");
    }
    page.push_str("</header>\n");
    page.push_str(&body);
    page.push_str("</main></div></body></html>\n");
    Some(page)
}

/// The cell a parameterised run injected, as papermill shows it: tagged
/// `injected-parameters`, code only (its outputs are never cached).
fn render_injected(context: &mut CellContext<'_>, injection: &Injection, body: &mut String) {
    body.push_str(
        "<section class=\"jc-cell jc-cell-code jc-cell-injected\" data-injected=\"parameters\">\
         <header class=\"jc-cell-header\"><span class=\"jc-cell-name\">injected-parameters</span>\
         <span class=\"jc-badge jc-kind\">injected</span></header>\
         <pre class=\"jc-code\"><code class=\"language-python\">",
    );
    body.push_str(&context.highlighter.highlight(injection.source.trim_end()));
    body.push_str("</code></pre></section>\n");
}

/// `alpha = 0.5, n = 3`, names sorted as in the injected cell; `None` with no parameters.
pub fn parameters_text(parameters: &Parameters) -> Option<String> {
    let source = parameters.injected_source()?;
    Some(
        source
            .lines()
            .filter(|line| !line.starts_with('#'))
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// The Content-Security-Policy of every page: scripts only from this origin (the
/// live-reload file), inline styles (the page's CSS and the iframe documents), images
/// from here or `data:`. `srcdoc` frames inherit it, so output HTML cannot load scripts
/// either. The preview sends it as a header; a self-contained page (export) carries it
/// as a `<meta>`, first in its head so it covers everything after it.
pub const PAGE_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
     script-src 'self'; frame-src 'self' about: data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'none'";

/// `<!doctype html>` through `<head>…</head>`.
pub fn head(title: &str, scheme: UrlScheme, extra: &str) -> String {
    let mut head = String::from("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    if scheme == UrlScheme::SelfContained {
        head.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"");
        escape_into(&mut head, PAGE_CSP);
        head.push_str("\">");
    }
    head.push_str(
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>",
    );
    escape_into(&mut head, title);
    head.push_str("</title>");
    head.push_str(extra);
    head.push_str("<style>");
    head.push_str(assets::STYLE);
    head.push_str("</style>");
    if scheme == UrlScheme::Served {
        head.push_str(&format!(
            "<script src=\"{}\" defer></script>",
            assets::LIVE_SCRIPT_PATH
        ));
    }
    head.push_str("</head>");
    head
}

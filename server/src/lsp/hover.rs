//! Hover: on a dependency name (a `deps=` tag or a `jc.deps("…")` literal) or a cell's own
//! name, what that cell is and where; on a `jc.load("…")` path, who writes it; on a
//! `jc.*` call, the function's signature; on a kind tag, what the kind means. Anywhere in
//! a code cell (header or body), the cell's status and the outputs cached for it
//! (`render::outputs_markdown`), below the specific hover when there is one, under a line
//! saying so while the cell runs or waits in the server's run queue. On a dependency name
//! or a `jc.load` path, the outputs are those of the cell it names, under a label.
//!
//! Outputs with images or HTML link to the preview server of the project, which is
//! started for the first such hover (binding a loopback port takes well under a
//! millisecond); plain text never starts it, and links appear only while one runs.

use std::time::{SystemTime, UNIX_EPOCH};

use tower_lsp_server::ls_types::{self as lsp, Hover, HoverContents, MarkupContent, MarkupKind};

use super::completion::{api_signature, kind_meaning};
use super::definition::{self, ItemKind};
use super::runs::Queued;
use super::state::Snapshot;
use super::{Core, cell_views, convert, preview, unsaved};
use crate::analysis::graph::CellRef;
use crate::analysis::workspace::{NotebookFile, Workspace};
use crate::cache::{
    CellState, CellStatus, Manifest, Store, cell_outputs, shown_manifest, what_changed,
};
use crate::format::tags::{self, CellKind, tag_spans};
use crate::render::outputs_markdown::{
    HoverLimits, PreviewLinks, cell_hover_markdown, wants_preview,
};
use crate::text::Span;

fn markdown(snapshot: &Snapshot, span: Option<Span>, value: String) -> Hover {
    Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: span.map(|span| convert::range(&snapshot.document, span, snapshot.encoding)),
    }
}

/// One line about a cell: name, kind, notebook, line and title.
fn describe(workspace: &Workspace, cell: CellRef) -> String {
    let graph = &workspace.graph;
    let name = graph.name_of(cell);
    let Some(file) = workspace.files.get(cell.notebook) else {
        return format!("`{name}`");
    };
    let Some(source) = file.notebook.cells.get(cell.ordinal) else {
        return format!("`{name}`");
    };
    let line = file
        .text
        .get(..source.spans.whole.start)
        .unwrap_or(&file.text)
        .matches('\n')
        .count()
        + 1;
    let title = source
        .metadata
        .get("title")
        .and_then(|title| title.as_str())
        .map(|title| format!(" — {title}"))
        .unwrap_or_default();
    format!(
        "**{name}**: `{}` cell {} of `{}`, line {line}{title}",
        source.spec.kind.tag(),
        cell.ordinal,
        file.relative
    )
}

pub fn hover(core: &Core, snapshot: &Snapshot, position: lsp::Position) -> Option<Hover> {
    // A buffer that runs in a scratch folder shows what its runs there cached; an
    // untitled one has no analysis but that one.
    let scratch = unsaved::scratch_workspace(core, snapshot);
    let (workspace, file_index) = match (&snapshot.workspace, &scratch) {
        (Some(workspace), _) => (workspace, snapshot.file_index),
        (None, Some(scratch)) => (scratch, 0),
        (None, None) => return None,
    };
    let file = workspace.files.get(file_index)?;
    let offset = convert::offset(&snapshot.document, position, snapshot.encoding);
    let item = definition::item_at(workspace, file_index, offset);
    // On a dependency name or a path, the outputs are those of the cell it names (labelled,
    // so they cannot pass for the current cell's); none when it names no single cell.
    let (outputs_of, label) = match &item {
        Some(item) if item.kind != ItemKind::OwnName => match item.targets.as_slice() {
            [target] => (
                Some(*target),
                format!("**Outputs of `{}`**\n\n", workspace.graph.name_of(*target)),
            ),
            _ => (None, String::new()),
        },
        _ => (
            definition::cell_at(workspace, file_index, offset),
            String::new(),
        ),
    };
    let specific = specific_hover(workspace, file_index, file, offset, item);
    // The buffer's own cells read the scratch store; other notebooks' cells their own.
    let outputs = outputs_of
        .and_then(|cell| match &scratch {
            Some(scratch) if cell.notebook == file_index => outputs_hover(
                core,
                snapshot,
                scratch,
                CellRef {
                    notebook: 0,
                    ordinal: cell.ordinal,
                },
            ),
            _ => outputs_hover(core, snapshot, workspace, cell),
        })
        .map(|outputs| label + &outputs);
    match (specific, outputs) {
        (Some((span, text)), Some(outputs)) => Some(markdown(
            snapshot,
            Some(span),
            format!("{text}\n\n---\n\n{outputs}"),
        )),
        (Some((span, text)), None) => Some(markdown(snapshot, Some(span), text)),
        (None, Some(outputs)) => Some(markdown(snapshot, None, outputs)),
        (None, None) => None,
    }
}

/// The hover about the thing under the cursor (a name, a path, a kind tag, a `jc.*`
/// call) and its span.
fn specific_hover(
    workspace: &Workspace,
    file_index: usize,
    file: &NotebookFile,
    offset: usize,
    item: Option<definition::Item>,
) -> Option<(Span, String)> {
    if let Some(item) = item {
        let lines: Vec<String> = item
            .targets
            .iter()
            .map(|cell| describe(workspace, *cell))
            .collect();
        let value = match (item.kind, lines.is_empty()) {
            (ItemKind::LoadPath, true) => {
                format!("`{}`: no cell of the project writes this path", item.text)
            }
            (ItemKind::LoadPath, false) => {
                format!("`{}` is written by\n\n{}", item.text, lines.join("\n\n"))
            }
            (_, true) => format!("no cell is named `{}`", item.text),
            (ItemKind::Dep, false) if lines.len() > 1 => {
                format!("`{}` is ambiguous:\n\n{}", item.text, lines.join("\n\n"))
            }
            _ => lines.join("\n\n"),
        };
        return Some((item.span, value));
    }
    let cell_ref = definition::cell_at(workspace, file_index, offset)?;
    let cell = file.notebook.cells.get(cell_ref.ordinal)?;
    if let Some(header) = cell.spans.header
        && header.start <= offset
        && offset <= header.end
    {
        let tags = cell.tags();
        let spans = tag_spans(header.slice(&file.text), header.start, &tags);
        for (tag, span) in tags.iter().zip(spans) {
            let Some(span) = span.filter(|span| span.start <= offset && offset <= span.end) else {
                continue;
            };
            if let Some(kind) = CellKind::from_tag(tag) {
                return Some((
                    span,
                    format!("**{}** cell kind\n\n{}", kind.tag(), kind_meaning(kind)),
                ));
            }
        }
        return None;
    }
    let analysis = file.analyses.get(cell_ref.ordinal)?.as_ref()?;
    for call in &analysis.jc_calls {
        let callee = cell.text_span(&file.text, call.callee_span);
        if callee.start <= offset && offset <= callee.end {
            let (signature, meaning) = api_signature(call.function);
            return Some((
                callee,
                format!("```python\njc.{signature}\n```\n\n{meaning}"),
            ));
        }
    }
    None
}

/// The state and manifest of `cell` when it is in the buffer's own notebook, from the
/// memo the lenses and inlay hints share (`cell_keys.rs`): a key needs the keys of
/// everything upstream, tens of milliseconds along a long chain of `deps=`. `None` for a
/// cell of another notebook, a buffer that moved on since its analysis, or no code cell.
fn memoised_state(
    core: &Core,
    snapshot: &Snapshot,
    workspace: &Workspace,
    cell: CellRef,
    store: &Store,
) -> Option<(CellState, Option<Manifest>)> {
    // The buffer's notebook: in its analysed workspace, else in its scratch one (index 0).
    let own = match &snapshot.workspace {
        Some(analysed) => {
            std::ptr::eq(analysed.as_ref(), workspace) && cell.notebook == snapshot.file_index
        }
        None => cell.notebook == 0,
    };
    if !own {
        return None;
    }
    let views = cell_views::cell_views_in(core, snapshot, cell.ordinal..cell.ordinal + 1)?;
    let view = views.into_iter().next()?;
    let file = workspace.files.get(cell.notebook)?;
    let source = file.notebook.cells.get(cell.ordinal)?;
    let state = CellState {
        ordinal: cell.ordinal,
        name: tags::cell_name(&source.spec, file.stem(), cell.ordinal),
        status: view.status,
        key: view.key,
    };
    let manifest = shown_manifest(store, &file.relative, &state);
    Some((state, manifest))
}

/// The status and cached outputs of the code cell `cell` as Markdown.
fn outputs_hover(
    core: &Core,
    snapshot: &Snapshot,
    workspace: &Workspace,
    cell: CellRef,
) -> Option<String> {
    let store = core.runs.store_for(&workspace.project);
    let (state, manifest) = match memoised_state(core, snapshot, workspace, cell, &store) {
        Some(found) => found,
        None => cell_outputs(workspace, cell, &store)?,
    };
    let open = core.state.document(&snapshot.uri);
    // The page of the notebook the cell is in (a dependency may live in another one).
    let cell_path = workspace
        .files
        .get(cell.notebook)
        .map(|file| file.path.as_path());
    let links = match (open.as_ref(), manifest.as_ref()) {
        (Some(open), Some(manifest)) => match (open.root.as_deref(), cell_path) {
            (Some(root), Some(path)) => {
                let start = wants_preview(&manifest.outputs);
                preview::endpoint_for_hover(core, root, path, start).and_then(|handle| {
                    Some(PreviewLinks {
                        cell_page: format!("{}#cell-{}", handle.notebook_url(path)?, cell.ordinal),
                        origin: handle.url().trim_end_matches('/').to_string(),
                        plain: core.flags().hover_plain_links,
                    })
                })
            }
            _ => None,
        },
        _ => None,
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |now| now.as_secs());
    let mut limits = HoverLimits::default();
    if core.flags().hover_without_images {
        limits.inline_image_bytes = 0;
    }
    let queued = workspace
        .files
        .get(cell.notebook)
        .and_then(|file| core.runs.queue_view(&file.path).state_of(cell.ordinal));
    let queue_line = match queued {
        Some(Queued::Running) => "⟳ running… (`jellycell.interrupt` stops it)\n\n",
        Some(Queued::Waiting) => "… queued to run\n\n",
        None => "",
    };
    let mut markdown = cell_hover_markdown(
        state.status,
        manifest.as_ref(),
        store.blobs(),
        links.as_ref(),
        now,
        &limits,
    );
    // Which input made a stale cell stale, under its status line.
    if state.status == CellStatus::Stale
        && let Some(older) = &manifest
    {
        let changes = what_changed(workspace, cell, &store, older);
        if !changes.is_empty() {
            let line = format!("changed since: {}", changes.join("; "));
            let at = markdown.find('\n').unwrap_or(markdown.len());
            markdown.insert_str(at, &format!("\n\n{line}"));
        }
    }
    Some(queue_line.to_string() + &markdown)
}

//! Notebook text → the notebook IR and back.
//!
//! Readers never fail: they return a [`Notebook`] whose `problems` list what was wrong.
//! Every cell keeps byte spans into the text it was read from, so diagnostics, lenses and
//! edits map back exactly, and its original text, so that writing back an unchanged
//! notebook in the same format is byte-identical. Cells that changed (or came from another
//! format) are written the way jupytext writes them.
//!
//! Formats: `percent` (jupytext py:percent, and py:light when a header says so), `myst`
//! (MyST markdown), `markdown` (jupytext's md:markdown, and which `.md` format a file is),
//! `ipynb` (nbformat v4.5 JSON), `scraps` (scrapbook values in outputs); `detect` decides the format as jupytext does. Shared pieces: `tags` (the jellycell cell spec), `pep723` (the
//! `# /// script` block).

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::text::Span;

pub use cells::{Cells, PlacedCell};

/// The notebook formats this tool reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotebookFormat {
    /// jupytext `py:percent`: `# %%` cells in a `.py` file.
    Percent,
    /// jupytext `py:light`: paragraphs and `# +` … `# -` regions in a `.py` file whose
    /// jupytext header says `format_name: light`.
    Light,
    /// MyST markdown: ```` ```{code-cell} ```` blocks in a `.md` file.
    Myst,
    /// jupytext's plain `md:markdown`: ```` ```python ```` blocks are code cells.
    Markdown,
    /// nbformat v4 JSON.
    Ipynb,
}

impl NotebookFormat {
    /// The name used on the command line and in JSON (`py`, `md`, `ipynb`).
    pub fn name(self) -> &'static str {
        match self {
            NotebookFormat::Percent | NotebookFormat::Light => "py",
            NotebookFormat::Myst | NotebookFormat::Markdown => "md",
            NotebookFormat::Ipynb => "ipynb",
        }
    }

    /// jupytext's name for the format: `py:percent`, `py:light`, `md:myst`,
    /// `md:markdown`, `ipynb`.
    pub fn jupytext_name(self) -> &'static str {
        match self {
            NotebookFormat::Percent => "py:percent",
            NotebookFormat::Light => "py:light",
            NotebookFormat::Myst => "md:myst",
            NotebookFormat::Markdown => "md:markdown",
            NotebookFormat::Ipynb => "ipynb",
        }
    }
}

/// The three nbformat cell types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CellType {
    Code,
    Markdown,
    Raw,
}

impl CellType {
    /// The nbformat spelling: `code`, `markdown`, `raw`.
    pub fn as_str(self) -> &'static str {
        match self {
            CellType::Code => "code",
            CellType::Markdown => "markdown",
            CellType::Raw => "raw",
        }
    }
}

/// Something wrong with the text that a reader noticed. Readers never fail; the lint
/// layer turns problems into diagnostics with a severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// A stable rule id such as `unknown-kind` or `pep723-invalid`.
    pub code: &'static str,
    /// Where, in the text the notebook was read from.
    pub span: Span,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Problem {
    pub fn new(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Problem {
            code,
            span,
            message: message.into(),
        }
    }
}

/// Where a cell sits in the text it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CellSpans {
    /// The whole cell: from the start of its header (or its first line when it has no
    /// header) to the start of the next cell, trailing blank lines included.
    pub whole: Span,
    /// The marker line (`# %% ...`, ```` ```{code-cell} ````, `+++`), without its line
    /// ending. `None` for a cell with no header (text before the first marker).
    pub header: Option<Span>,
    /// The cell's content lines, without the blank lines that separate it from the next
    /// cell.
    pub body: Span,
}

impl CellSpans {
    /// The spans with every offset mapped by `moved`.
    pub fn moved(self, moved: impl Fn(usize) -> usize) -> CellSpans {
        let span = |span: Span| Span::new(moved(span.start), moved(span.end));
        CellSpans {
            whole: span(self.whole),
            header: self.header.map(span),
            body: span(self.body),
        }
    }
}

/// What a cell looked like when it was read: lets a writer emit the original bytes for a
/// cell nobody changed.
#[derive(Debug, Clone, PartialEq)]
pub struct OriginalCell {
    /// The format the cell was read from.
    pub format: NotebookFormat,
    /// The exact text of `CellSpans::whole`.
    pub text: String,
    pub cell_type: CellType,
    pub source: String,
    pub metadata: Map<String, Value>,
}

/// One notebook cell, as jupytext reads it: where it lies in the text (`spans`) and what
/// it holds ([`CellContent`], read through `Deref`: `cell.source`, `cell.spec`).
///
/// The content is shared: cloning a cell copies no text, so re-reading a notebook after
/// an edit keeps every untouched cell's content by pointer and only moves its spans, and
/// dropping the previous reading frees nothing of them. Changing the content through
/// `DerefMut` copies it first when another reading still shares it.
#[derive(Debug, Clone)]
pub struct Cell {
    content: Arc<CellContent>,
    /// Spans into the text the notebook was read from (all zero for a built cell).
    pub spans: CellSpans,
}

/// What a cell holds, apart from where it lies.
#[derive(Debug, Clone, PartialEq)]
pub struct CellContent {
    pub cell_type: CellType,
    /// The cell's source as jupytext reads it: for percent code cells after comment-magic
    /// uncommenting, for markdown cells with the comment prefix removed.
    pub source: String,
    /// Cell metadata in the order it was written (`tags`, `title`, ...).
    pub metadata: Map<String, Value>,
    /// The jellycell spec (kind, name, deps, timeout) from the `tags` metadata; the
    /// default spec for cells that are not code.
    pub spec: tags::CellSpec,
    /// The cell as read, for byte-exact write-back; `None` for a built cell (and after
    /// [`read_without_originals`]). Boxed: most cells in memory never need it.
    pub original: Option<Box<OriginalCell>>,
    /// What only nbformat JSON carries (cell id, outputs, execution count); `None` when
    /// there is none (always for cells read from text): boxed, since most cells in
    /// memory never have any. Read it with [`CellContent::jupyter`].
    pub jupyter: Option<Box<JupyterCellData>>,
}

impl std::ops::Deref for Cell {
    type Target = CellContent;

    fn deref(&self) -> &CellContent {
        &self.content
    }
}

impl std::ops::DerefMut for Cell {
    fn deref_mut(&mut self) -> &mut CellContent {
        Arc::make_mut(&mut self.content)
    }
}

impl PartialEq for Cell {
    fn eq(&self, other: &Cell) -> bool {
        self.view() == other.view()
    }
}

/// The parts of an nbformat cell that text formats do not carry. Kept when an `.ipynb` is
/// read so that converting it back loses nothing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JupyterCellData {
    /// The nbformat 4.5 cell id.
    pub id: Option<String>,
    /// Outputs as nbformat JSON objects (code cells only).
    pub outputs: Vec<Value>,
    pub execution_count: Option<i64>,
    /// Markdown/raw cell attachments, as nbformat JSON.
    pub attachments: Option<Value>,
}

impl Cell {
    /// A cell built in code (not read from text).
    pub fn new(cell_type: CellType, source: impl Into<String>) -> Self {
        Cell::from_content(
            CellContent {
                cell_type,
                source: source.into(),
                metadata: Map::new(),
                spec: tags::CellSpec::default(),
                original: None,
                jupyter: None,
            },
            CellSpans::default(),
        )
    }

    /// A cell of `content` lying at `spans`.
    pub fn from_content(content: CellContent, spans: CellSpans) -> Self {
        Cell {
            content: Arc::new(content),
            spans,
        }
    }

    /// The cell as a list hands it out: its content with its spans.
    pub fn view(&self) -> PlacedCell<'_> {
        PlacedCell::new(&self.content, self.spans)
    }
}

impl CellContent {
    /// A raw cell built from a header (no spec, original or nbformat data).
    pub fn raw(source: String, metadata: Map<String, Value>) -> CellContent {
        CellContent {
            cell_type: CellType::Raw,
            source,
            metadata,
            spec: tags::CellSpec::default(),
            original: None,
            jupyter: None,
        }
    }

    /// What only nbformat JSON carries; empty when the cell has none.
    pub fn jupyter(&self) -> &JupyterCellData {
        static NONE: JupyterCellData = JupyterCellData {
            id: None,
            outputs: Vec::new(),
            execution_count: None,
            attachments: None,
        };
        self.jupyter.as_deref().unwrap_or(&NONE)
    }

    /// [`CellContent::jupyter`] to change.
    pub fn jupyter_mut(&mut self) -> &mut JupyterCellData {
        self.jupyter.get_or_insert_with(Default::default)
    }

    /// The `tags` metadata as strings (non-string entries are skipped).
    pub fn tags(&self) -> Vec<&str> {
        match self.metadata.get("tags") {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the cell still equals what was read, so its original text can be written.
    pub fn is_unchanged_since_read(&self, format: NotebookFormat) -> bool {
        self.original.as_ref().is_some_and(|original| {
            original.format == format
                && original.cell_type == self.cell_type
                && original.source == self.source
                && original.metadata == self.metadata
        })
    }
}

/// Text that precedes the first cell and is not a cell: the PEP-723 block, the jupytext
/// YAML header, MyST front matter, and blank lines around them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Preamble {
    /// The exact text, for byte-exact write-back.
    pub text: String,
    /// The notebook metadata the preamble carried when it was read; if the notebook's
    /// metadata still equals it, `text` is written back verbatim.
    pub metadata: Map<String, Value>,
}

/// A notebook read from text (or built in code).
#[derive(Debug, Clone, PartialEq)]
pub struct Notebook {
    pub format: NotebookFormat,
    /// Notebook metadata (jupytext header / MyST front matter / ipynb metadata).
    pub metadata: Map<String, Value>,
    pub cells: Cells,
    /// The first `# /// script` block, wherever it was.
    pub pep723: Option<pep723::Pep723Block>,
    /// Text before the first cell, kept for byte-exact write-back.
    pub preamble: Preamble,
    /// Text after the last cell that belongs to no cell, kept for write-back.
    pub trailer: String,
    /// What the reader found wrong.
    pub problems: Vec<Problem>,
}

impl Notebook {
    /// The `unsupported-format` problem of a notebook in a jupytext format we do not read
    /// exactly: such a notebook has no cells and must be neither linted nor run.
    pub fn unsupported_format(&self) -> Option<&Problem> {
        self.problems
            .iter()
            .find(|problem| problem.code == "unsupported-format")
    }

    /// An empty notebook of `format`.
    pub fn empty(format: NotebookFormat) -> Self {
        Notebook {
            format,
            metadata: Map::new(),
            cells: Cells::new(),
            pep723: None,
            preamble: Preamble::default(),
            trailer: String::new(),
            problems: Vec::new(),
        }
    }
}

pub mod cell_window;
mod cells;
pub mod combine;
pub(crate) mod detect;
pub mod ipynb;
pub(crate) mod jupytext;
pub(crate) mod jupytext_reads;
pub mod language;
pub mod markdown;
pub mod myst;
pub mod pairing;
pub mod pep723;
pub mod percent;
pub mod resplit;
pub mod scraps;
pub mod tags;
pub(crate) mod yaml;

/// Reads `text` as a notebook of `format`'s file type, in the format jupytext reads it in:
/// a `.py` (`Percent`, `Light`) as `jupytext.reads(text, "py:percent")` does (as
/// jellycell does; a header's `format_name: light` wins), a `.md` (`Myst`, `Markdown`)
/// as `jupytext.read("x.md")` does (see `detect`). `Notebook::format` says which format
/// it was. Never fails: problems are in the result. (ipynb text that is not valid JSON
/// gives an empty notebook with one problem.)
pub fn read(text: &str, format: NotebookFormat) -> Notebook {
    match format {
        NotebookFormat::Percent | NotebookFormat::Light => percent::read_percent(text),
        NotebookFormat::Myst | NotebookFormat::Markdown => markdown::read_md(text),
        NotebookFormat::Ipynb => ipynb::read_ipynb(text),
    }
}

/// [`read`] for a reader that never writes the notebook back: cells keep no copy of
/// what they were read from (`Cell::original` is `None`), which saves the memory and
/// the time of those copies. Everything else is as [`read`] gives it.
pub fn read_without_originals(text: &str, format: NotebookFormat) -> Notebook {
    match format {
        NotebookFormat::Percent | NotebookFormat::Light => {
            percent::read_percent_without_originals(text)
        }
        NotebookFormat::Myst | NotebookFormat::Markdown | NotebookFormat::Ipynb => {
            let mut notebook = read(text, format);
            notebook.cells.update(|cell| cell.original = None);
            notebook
        }
    }
}

/// Writes `notebook` as `format`, as `jupytext.writes(nb, fmt)` does for jupytext's
/// `py:percent`, `py:light`, `md:myst` and `md:markdown`. Cells unchanged since they were
/// read in this same format are written as their original bytes. The one write entry
/// point: [`written_format`] picks the format a notebook's own file type keeps.
pub fn write(notebook: &Notebook, format: NotebookFormat) -> String {
    match format {
        NotebookFormat::Percent => percent::write_percent(notebook),
        NotebookFormat::Light => percent::write_light(notebook),
        NotebookFormat::Myst => myst::write_myst(notebook),
        NotebookFormat::Markdown => markdown::write_markdown(notebook),
        NotebookFormat::Ipynb => ipynb::write_ipynb(notebook),
    }
}

/// The format a notebook is written in when asked for a file type (`py`, `md`, as the
/// `.py` / `.md` a target file has): the notebook's own format when it has that file type
/// (a light notebook stays light, a plain-markdown one plain markdown), else what
/// jupytext writes for the type (py:percent, md:myst) unless the notebook's
/// `jupytext.formats` names another format for it.
pub fn written_format(notebook: &Notebook, file_type: NotebookFormat) -> NotebookFormat {
    if file_type == NotebookFormat::Ipynb {
        return NotebookFormat::Ipynb;
    }
    if notebook.format.name() == file_type.name() {
        return notebook.format;
    }
    let extension = if file_type.name() == "py" {
        ".py"
    } else {
        ".md"
    };
    let named = notebook
        .metadata
        .get("jupytext")
        .and_then(|jupytext| jupytext.get("formats"))
        .and_then(|_| detect::header_format_name(&notebook.metadata, extension));
    match (file_type.name(), named.as_deref()) {
        ("py", Some("light")) => NotebookFormat::Light,
        ("py", _) => NotebookFormat::Percent,
        (_, Some("markdown")) => NotebookFormat::Markdown,
        _ => NotebookFormat::Myst,
    }
}

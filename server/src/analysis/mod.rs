//! Static analysis of one code cell with tree-sitter-python: syntax errors, `jc.*` calls
//! and the imports that name the jellycell API.
//!
//! The input is a cell's source as the kernel executes it (after jupytext uncommented
//! its magics); every [`Span`] in the output is a byte range into that source, which the
//! caller shifts into the file. IPython syntax is masked first (`magics`), so magics are
//! never syntax errors and offsets never move. Analysis never fails and never panics:
//! a cell that does not parse still yields the calls tree-sitter could recover.
//!
//! Aliases thread through a notebook: pass the aliases earlier cells defined
//! ([`CellAnalysis::aliases_defined`], merged with [`Aliases::extend`]) to the next cell.
//! `jc`, `jellycell` and `jellycell.api` are always known (the runner's prelude binds `jc`).
//!
//! Files: `lexer` (logical lines, strings, brackets), `magics` (masking), `parse`
//! (parser reuse, running the passes), `memo` (bounded cache by source hash), `syntax`
//! (syntax errors), `imports` (aliases), `jc_calls` (API calls and literal arguments),
//! `strings` (Python string literal values), `names` (module-level bindings),
//! `node_access` (node kinds, fields and children without per-call allocations, for the
//! walks), `py_node` (the node trait the walks are generic over), `fast_lex`,
//! `fast_parse`, `fast_tree` and `fast_path` (a hand-written parser for the common subset
//! of Python, building tree-sitter's tree for it; tried first, tree-sitter parses what it
//! declines; `fast_parse_tests` holds the two to the same trees and analyses). Queries
//! live in `queries/python/*.scm`. `graph` builds the project dependency graph from
//! per-cell facts; `relevance` finds which notebooks can change the graph of a few.

pub mod dataflow;
pub mod facts_reuse;
mod fast_lex;
mod fast_parse;
mod fast_path;
mod fast_tree;
pub mod graph;
mod imports;
mod jc_calls;
mod lexer;
mod magics;
mod memo;
pub mod module_imports;
pub mod module_imports_memo;
mod names;
mod node_access;
mod parse;
mod py_node;
pub mod relevance;
mod strings;
mod syntax;
pub mod workspace;
pub mod workspace_subset;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::text::Span;

pub use magics::{MagicKind, MaskedLine};

/// Everything the analysis found in one code cell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CellAnalysis {
    /// In source order; never the whole cell for one mistake.
    pub syntax_errors: Vec<SyntaxError>,
    /// Calls to the jellycell API anywhere in the cell, in source order.
    pub jc_calls: Vec<JcCall>,
    /// Aliases bound by this cell's module-level imports, for the cells after it.
    pub aliases_defined: Aliases,
    /// Ranges of IPython syntax that were masked before parsing.
    pub masked_lines: Vec<MaskedLine>,
    /// The cell's dataflow, computed on first use and kept with the analysis, so that an
    /// edit elsewhere reuses it with the analysis (by `Arc`) instead of parsing again.
    pub(crate) flow: FlowSlot,
}

/// A lazily computed [`dataflow::CellFlow`] of the analysed source. It is derived from
/// the source alone, so two analyses compare equal whether or not it was computed yet.
#[derive(Debug, Clone, Default)]
pub(crate) struct FlowSlot(std::sync::OnceLock<Arc<dataflow::CellFlow>>);

impl PartialEq for FlowSlot {
    fn eq(&self, _: &FlowSlot) -> bool {
        true
    }
}

impl Eq for FlowSlot {}

impl CellAnalysis {
    /// The dataflow of `source`, which must be the source this analysis was made from.
    pub fn flow(&self, source: &str) -> &dataflow::CellFlow {
        self.flow
            .0
            .get_or_init(|| Arc::new(dataflow::cell_flow(source)))
    }
}

impl CellAnalysis {
    /// Drops the spare capacity of every list.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.syntax_errors.shrink_to_fit();
        for call in &mut self.jc_calls {
            call.arguments.shrink_to_fit();
            call.targets.shrink_to_fit();
        }
        self.jc_calls.shrink_to_fit();
        self.masked_lines.shrink_to_fit();
    }
}

/// A syntax error with a tight range and a message that says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
}

/// The names a cell binds at module level (assignments, `def`, `class`, imports, `for`,
/// `with`), in source order. Computed when asked rather than kept in every
/// [`CellAnalysis`]: nothing that runs on every edit needs them.
pub fn top_level_names(source: &str) -> Vec<DefinedName> {
    let masked = magics::mask_magics(source);
    parse::parse_python(&masked.text)
        .map(|tree| names::top_level_names(tree.root_node(), &masked.text))
        .unwrap_or_default()
}

/// A name bound at module level.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DefinedName {
    pub name: String,
    pub span: Span,
}

/// The jellycell API functions the analysis tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JcFunction {
    Deps,
    Load,
    Save,
    Figure,
    Table,
    Path,
}

impl JcFunction {
    pub const ALL: [JcFunction; 6] = [
        JcFunction::Deps,
        JcFunction::Load,
        JcFunction::Save,
        JcFunction::Figure,
        JcFunction::Table,
        JcFunction::Path,
    ];

    /// The Python name: `deps`, `load`, ...
    pub fn name(self) -> &'static str {
        match self {
            JcFunction::Deps => "deps",
            JcFunction::Load => "load",
            JcFunction::Save => "save",
            JcFunction::Figure => "figure",
            JcFunction::Table => "table",
            JcFunction::Path => "path",
        }
    }

    pub fn from_name(name: &str) -> Option<JcFunction> {
        JcFunction::ALL
            .into_iter()
            .find(|function| function.name() == name)
    }
}

/// A module of the jellycell package that a local name can stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JcModule {
    /// `jellycell`: its API is reached as `X.api.load` (and, as jellycell accepts,
    /// `X.load`).
    Package,
    /// `jellycell.api`
    Api,
}

/// Local names that stand for the jellycell API, beyond the always-known `jc`,
/// `jellycell` and `jellycell.api`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Aliases {
    modules: BTreeMap<String, JcModule>,
    functions: BTreeMap<String, JcFunction>,
    star_import: bool,
}

impl Aliases {
    pub fn new() -> Aliases {
        Aliases::default()
    }

    /// `import jellycell.api as J` → `insert_module("J", JcModule::Api)`.
    pub fn insert_module(&mut self, local: impl Into<String>, module: JcModule) {
        let local = local.into();
        self.functions.remove(&local);
        self.modules.insert(local, module);
    }

    /// `from jellycell.api import save as s` → `insert_function("s", JcFunction::Save)`.
    pub fn insert_function(&mut self, local: impl Into<String>, function: JcFunction) {
        let local = local.into();
        self.modules.remove(&local);
        self.functions.insert(local, function);
    }

    /// `from jellycell.api import *`: every API function is reachable by its own name.
    pub fn insert_star_import(&mut self) {
        self.star_import = true;
    }

    /// Add what a later cell defined; its bindings win.
    pub fn extend(&mut self, later: &Aliases) {
        // Most cells bind no alias; this runs for every cell of a notebook on each edit.
        if later.modules.is_empty() && later.functions.is_empty() {
            self.star_import |= later.star_import;
            return;
        }
        for (local, module) in &later.modules {
            self.insert_module(local.clone(), *module);
        }
        for (local, function) in &later.functions {
            self.insert_function(local.clone(), *function);
        }
        self.star_import |= later.star_import;
    }

    /// The module `local` stands for, including the built-in `jc` and `jellycell`.
    pub fn module(&self, local: &str) -> Option<JcModule> {
        if let Some(module) = self.modules.get(local) {
            return Some(*module);
        }
        if self.functions.contains_key(local) {
            return None;
        }
        match local {
            "jc" => Some(JcModule::Api),
            "jellycell" => Some(JcModule::Package),
            _ => None,
        }
    }

    /// The API function the bare name `local` stands for.
    pub fn function(&self, local: &str) -> Option<JcFunction> {
        if let Some(function) = self.functions.get(local) {
            return Some(*function);
        }
        if self.star_import && !self.modules.contains_key(local) {
            return JcFunction::from_name(local);
        }
        None
    }

    /// Whether `text` could name any part of the API through these aliases or the
    /// built-in `jc` and `jellycell` (a cheap substring test; false means certainly not).
    pub fn may_appear_in(&self, text: &str) -> bool {
        text.contains("jc")
            || text.contains("jellycell")
            || self
                .modules
                .keys()
                .any(|local| text.contains(local.as_str()))
            || self
                .functions
                .keys()
                .any(|local| text.contains(local.as_str()))
            || (self.star_import
                && JcFunction::ALL
                    .iter()
                    .any(|function| text.contains(function.name())))
    }

    /// True when nothing beyond the built-in names is known.
    pub fn is_empty(&self) -> bool {
        self.modules.is_empty() && self.functions.is_empty() && !self.star_import
    }

    /// Module aliases, sorted by local name.
    pub fn modules(&self) -> impl Iterator<Item = (&str, JcModule)> {
        self.modules
            .iter()
            .map(|(local, module)| (local.as_str(), *module))
    }

    /// Function aliases, sorted by local name.
    pub fn functions(&self) -> impl Iterator<Item = (&str, JcFunction)> {
        self.functions
            .iter()
            .map(|(local, function)| (local.as_str(), *function))
    }

    pub fn has_star_import(&self) -> bool {
        self.star_import
    }
}

/// One call to the jellycell API.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JcCall {
    pub function: JcFunction,
    /// The whole call expression.
    pub span: Span,
    /// The callee, e.g. `jc.load` or an imported `load`.
    pub callee_span: Span,
    /// Every argument, in order.
    pub arguments: Vec<Argument>,
    /// The arguments that name a path or a cell, by the function's rule: every
    /// positional argument of `deps`; the first positional or `path=` of `load` and
    /// `figure`; the second positional or `path=` of `save`; `name=` of `table`; the
    /// first positional or `name=` of `path`. Empty when the call has none.
    pub targets: Vec<Argument>,
}

impl JcCall {
    /// The targets that are plain string literals, with their values.
    pub fn literal_targets(&self) -> impl Iterator<Item = (&str, Span)> {
        self.targets
            .iter()
            .filter_map(|argument| match &argument.value {
                ArgumentValue::Literal(value) => Some((value.as_str(), argument.value_span)),
                ArgumentValue::NonLiteral => None,
            })
    }
}

/// One argument of a call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Argument {
    pub kind: ArgumentKind,
    /// The whole argument, keyword included.
    pub span: Span,
    /// The value expression.
    pub value_span: Span,
    pub value: ArgumentValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ArgumentKind {
    Positional,
    Keyword(String),
    /// `*args`
    Splat,
    /// `**kwargs`
    DoubleSplat,
}

/// What the analysis knows statically about an argument's value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ArgumentValue {
    /// A plain string literal (implicit concatenation of plain literals included, as
    /// Python folds it into one constant), with its value.
    Literal(String),
    /// Anything else: a name, an f-string, `"a" + b`, bytes, a call. Cannot be tracked.
    NonLiteral,
}

/// Analyse one code cell, given the aliases defined by the cells before it.
pub fn analyze_cell(source: &str, aliases: &Aliases) -> CellAnalysis {
    Arc::unwrap_or_clone(analyze_cell_shared(source, aliases))
}

/// [`analyze_cell`], shared with the memo (and every other cell of the same source and
/// aliases) instead of copied out of it.
pub fn analyze_cell_shared(source: &str, aliases: &Aliases) -> Arc<CellAnalysis> {
    memo::analyze_memoized(source, aliases, parse::analyze_uncached)
}

/// Analyse one code cell for the project graph only: its `jc.*` calls and the aliases it
/// defines, without syntax errors or names. Cheaper than [`analyze_cell`] (a cell that
/// names no part of the API and imports nothing is not parsed at all); used for the
/// notebooks a command does not report on.
pub fn analyze_cell_facts(source: &str, aliases: &Aliases) -> CellAnalysis {
    parse::analyze_facts_uncached(source, aliases)
}

/// Analyse a notebook's code cells in order, each with the aliases the cells before it
/// defined.
pub fn analyze_cells<'a>(sources: impl IntoIterator<Item = &'a str>) -> Vec<CellAnalysis> {
    let mut aliases = Aliases::new();
    sources
        .into_iter()
        .map(|source| {
            let analysis = analyze_cell(source, &aliases);
            aliases.extend(&analysis.aliases_defined);
            analysis
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn facts_only_analysis_finds_the_same_calls_and_aliases() {
        let sources = [
            "import jellycell.api as J\nrows = J.load('artifacts/a.json')\n",
            "from jellycell.api import save as keep\nkeep(x, 'artifacts/b.json')\n",
            "jc.deps('raw', 'clean')\nif x:\n    jc.figure(path='artifacts/c.png')\n",
            "%matplotlib inline\ntotal = sum(rows)\n",
            "def broken(:\n    jc.load('artifacts/d.json')\n",
        ];
        let mut aliases = Aliases::new();
        for source in sources {
            let full = analyze_cell(source, &aliases);
            let facts = analyze_cell_facts(source, &aliases);
            assert_eq!(facts.jc_calls, full.jc_calls, "{source}");
            assert_eq!(facts.aliases_defined, full.aliases_defined, "{source}");
            aliases.extend(&full.aliases_defined);
        }
        let later = analyze_cell_facts("keep(y, 'artifacts/e.json')\n", &aliases);
        assert_eq!(
            later.jc_calls.len(),
            1,
            "an alias from an earlier cell still counts"
        );
    }

    #[test]
    fn facts_only_analysis_skips_cells_that_cannot_name_the_api() {
        let facts = analyze_cell_facts("total = sum([1, 2)\n", &Aliases::new());
        assert_eq!(facts, CellAnalysis::default());
        assert!(
            !analyze_cell("total = sum([1, 2)\n", &Aliases::new())
                .syntax_errors
                .is_empty()
        );
    }
    use proptest::prelude::*;

    use super::*;

    fn analyze(source: &str) -> CellAnalysis {
        analyze_cell(source, &Aliases::new())
    }

    #[test]
    fn aliases_thread_from_one_cell_to_the_next() {
        let first = analyze("import jellycell.api as J\n");
        let mut aliases = Aliases::new();
        aliases.extend(&first.aliases_defined);
        let second = analyze_cell("J.load('artifacts/a.csv')\n", &aliases);
        assert_eq!(second.jc_calls.len(), 1);
        assert!(analyze("J.load('artifacts/a.csv')\n").jc_calls.is_empty());
    }

    #[test]
    fn analyze_cells_threads_aliases_in_order() {
        let analyses = analyze_cells([
            "J.load('before')\n",
            "import jellycell.api as J\n",
            "J.load('after')\n",
        ]);
        let counts: Vec<usize> = analyses.iter().map(|a| a.jc_calls.len()).collect();
        assert_eq!(counts, [0, 0, 1]);
    }

    #[test]
    fn later_binding_of_a_name_wins_when_extending() {
        let mut aliases = Aliases::new();
        aliases.insert_module("J", JcModule::Api);
        let mut later = Aliases::new();
        later.insert_function("J", JcFunction::Load);
        aliases.extend(&later);
        assert_eq!(aliases.module("J"), None);
        assert_eq!(aliases.function("J"), Some(JcFunction::Load));
    }

    #[test]
    fn jc_and_jellycell_are_always_known() {
        let aliases = Aliases::new();
        assert_eq!(aliases.module("jc"), Some(JcModule::Api));
        assert_eq!(aliases.module("jellycell"), Some(JcModule::Package));
        assert_eq!(aliases.module("J"), None);
    }

    fn assert_spans_fit(source: &str, spans: impl IntoIterator<Item = Span>) {
        for span in spans {
            assert!(
                span.start <= span.end && span.end <= source.len(),
                "{span:?} out of bounds"
            );
            assert!(
                source.is_char_boundary(span.start),
                "{span:?} start not on a char boundary"
            );
            assert!(
                source.is_char_boundary(span.end),
                "{span:?} end not on a char boundary"
            );
        }
    }

    fn all_spans(source: &str, analysis: &CellAnalysis) -> Vec<Span> {
        let mut spans: Vec<Span> = analysis.syntax_errors.iter().map(|e| e.span).collect();
        spans.extend(analysis.masked_lines.iter().map(|m| m.span));
        spans.extend(top_level_names(source).iter().map(|n| n.span));
        for call in &analysis.jc_calls {
            spans.push(call.span);
            spans.push(call.callee_span);
            for argument in call.arguments.iter().chain(&call.targets) {
                spans.push(argument.span);
                spans.push(argument.value_span);
            }
        }
        spans
    }

    #[test]
    fn a_magic_line_before_wide_characters_keeps_spans_on_char_boundaries() {
        // Found by the property test below: the span ended inside "本".
        let source = "\t%time \n日本?\r\n";
        let analysis = analyze(source);
        assert_spans_fit(source, all_spans(source, &analysis));
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics_and_spans_fit(source in any::<String>()) {
            let analysis = analyze(&source);
            assert_spans_fit(&source, all_spans(&source, &analysis));
        }

        #[test]
        fn ascii_text_never_panics_and_spans_fit(source in "[ -~\\t\\r\\n]{0,200}") {
            let analysis = analyze(&source);
            assert_spans_fit(&source, all_spans(&source, &analysis));
        }

        #[test]
        fn masking_keeps_length_and_line_endings(source in "([ -~]{0,20}[\\r]?\\n){0,10}") {
            let masked = magics::mask_magics(&source);
            prop_assert_eq!(masked.text.len(), source.len());
            let newlines = |text: &str| {
                text.match_indices(['\n', '\r']).map(|(at, _)| at).collect::<Vec<_>>()
            };
            prop_assert_eq!(newlines(&masked.text), newlines(&source));
        }

        #[test]
        fn python_like_text_never_panics_and_spans_fit(
            source in proptest::collection::vec(
                prop_oneof![
                    Just("jc.load("), Just("jc.save(df, "), Just("jc.deps("), Just("\"a\""),
                    Just("'é'"), Just("f\"{"), Just("}"), Just(")"), Just("("), Just("["),
                    Just("]"), Just("\n"), Just("    "), Just("%time "), Just("!ls"), Just("?"),
                    Just("%%bash\n"), Just("def f():"), Just("if x:"), Just("\"\"\""),
                    Just("\\"), Just("#"), Just("x = "), Just("import jellycell.api as J"),
                    Just("J.figure(path="), Just("\r\n"), Just("\t"), Just("日本"), Just(","),
                ],
                0..40,
            ).prop_map(|parts| parts.concat())
        ) {
            let analysis = analyze(&source);
            assert_spans_fit(&source, all_spans(&source, &analysis));
        }
    }
}

#[cfg(test)]
mod fast_parse_tests;

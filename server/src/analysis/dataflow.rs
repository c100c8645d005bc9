//! What one code cell does to module-level names: the names it binds or changes in place
//! (`defines`) and the free names it reads (`reads`), for cache keys that follow
//! variables from cell to cell and for the `undefined-name` lint.
//!
//! Per cell and memoised by the cell's text ([`cell_flow`]); the notebook-level step
//! ([`producers`]) only looks names up in the per-cell facts, so an edit recomputes one
//! cell's flow. Python's scoping is modelled: function parameters and locals (a name
//! assigned anywhere in a function body is local to all of it), `global`/`nonlocal`,
//! class bodies (visible to their own statements, not to their methods), comprehension
//! variables, lambdas. Reads inside function bodies happen when the function is called,
//! so they are kept apart (`deferred_reads`) and a module-level function's reads are
//! followed by the cells that call it ([`CellFlow::callable_reads`]).
//!
//! When the analysis cannot tell, it over-approximates: a name bound only on some paths
//! (`if`, `try`, loop bodies) does not hide the value from above, builtins can be shadowed
//! by a cell above, and a call of a method known to mutate (`append`, `update`,
//! `inplace=True`, ...; the table is in `docs/cache.md`) makes the cell a definer of the
//! receiver. Not tracked: a mutation inside a function the cell calls, and a mutation
//! through another name bound to the same object.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{LazyLock, Mutex};

use super::magics::{self, MagicKind};
use super::node_access::{Children, FIELDS};
use super::parse::parse_python;
use super::py_node::{PyNode, field_children, kind};
use crate::text::Span;

/// What one code cell does to module-level names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CellFlow {
    /// Sorted, deduplicated: names bound or changed in place at module level.
    pub defines: Vec<String>,
    /// Sorted: free names read (at module level, and as globals in function bodies),
    /// excluding builtins and names the cell itself surely bound before reading.
    pub reads: Vec<String>,
    /// `from m import *`, `%run`, `exec(`, `globals()`, ...: any name may be defined.
    pub defines_everything: bool,
    /// Why `defines_everything` is set (`` `from m import *` ``), for a diagnostic hint.
    pub everything_reason: Option<String>,
    /// Sorted: names the cell reads whose value may but need not come from a cell above:
    /// builtins (a cell above may shadow them) and names this cell bound earlier on some
    /// paths only. Cache keys follow them; the lint does not.
    pub maybe_reads: Vec<String>,
    /// Sorted, a subset of `reads`: names read only inside function bodies or lambdas
    /// (read when called, so a cell below may define them first).
    pub deferred_reads: Vec<String>,
    /// Sorted, a subset of `defines`: names this cell rebinds on every path (a plain
    /// module-level assignment, `def`, `class`, `import`), hiding any value from above.
    pub surely_binds: Vec<String>,
    /// Sorted, a subset of `surely_binds`: names bound by an `import`.
    pub imports: Vec<String>,
    /// Sorted, a subset of `defines`: names in `defines` only because a method known to
    /// mutate was called on them (dropped when the name is a module, as in `np.append`).
    pub method_mutates: Vec<String>,
    /// For each module-level `def`/`class`, the global names its body reads.
    pub callable_reads: BTreeMap<String, Vec<String>>,
    /// For each name in `reads`, where the cell first reads it (a byte range of the cell
    /// source), sorted by name.
    pub read_spans: Vec<(String, Span)>,
}

impl CellFlow {
    fn defines_name(&self, name: &str) -> bool {
        self.defines
            .binary_search_by(|d| d.as_str().cmp(name))
            .is_ok()
    }

    fn surely_binds_name(&self, name: &str) -> bool {
        contains(&self.surely_binds, name)
    }

    fn reads_name(&self, name: &str) -> bool {
        contains(&self.reads, name) || contains(&self.maybe_reads, name)
    }

    /// Every name whose value from above this cell may read, sorted and deduplicated.
    pub fn all_reads(&self) -> Vec<String> {
        let set: BTreeSet<&String> = self.reads.iter().chain(&self.maybe_reads).collect();
        set.into_iter().cloned().collect()
    }
}

fn contains(sorted: &[String], name: &str) -> bool {
    sorted.binary_search_by(|d| d.as_str().cmp(name)).is_ok()
}

/// The flow of one cell (`code` = the cell source as executed), memoised by its text.
pub fn cell_flow(code: &str) -> CellFlow {
    let key = *blake3::hash(code.as_bytes()).as_bytes();
    if let Ok(memo) = MEMO.lock()
        && let Some(flow) = memo.entries.get(&key)
    {
        return flow.clone();
    }
    let flow = cell_flow_uncached(code);
    if let Ok(mut memo) = MEMO.lock()
        && !memo.entries.contains_key(&key)
    {
        if memo.order.len() >= MEMO_CAPACITY
            && let Some(oldest) = memo.order.pop_front()
        {
            memo.entries.remove(&oldest);
        }
        memo.order.push_back(key);
        memo.entries.insert(key, flow.clone());
    }
    flow
}

const MEMO_CAPACITY: usize = 1024;

#[derive(Default)]
struct Memo {
    entries: HashMap<[u8; 32], CellFlow>,
    order: VecDeque<[u8; 32]>,
}

static MEMO: LazyLock<Mutex<Memo>> = LazyLock::new(|| Mutex::new(Memo::default()));

/// For the code cells of one notebook in order (index into the slice), each name each
/// cell reads, paired with the index of a cell above that (possibly) last defined it.
///
/// A name can have several producers: the last definer, and when that one may leave the
/// value from above in place (a binding on some paths only, `from m import *`) and does
/// not itself read the name, the definers above it too, up to one that surely binds it.
/// Calling a module-level function defined above also reads the globals its body reads,
/// resolved from the calling cell. Pairs are sorted by name, then by index.
pub fn producers(cells: &[&CellFlow]) -> Vec<Vec<(String, usize)>> {
    (0..cells.len())
        .map(|index| cell_producers(cells, index))
        .collect()
}

fn cell_producers(cells: &[&CellFlow], index: usize) -> Vec<(String, usize)> {
    let Some(cell) = cells.get(index) else {
        return Vec::new();
    };
    let mut found: BTreeSet<(String, usize)> = BTreeSet::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut work: Vec<String> = cell.all_reads();
    while let Some(name) = work.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let definers = definers_above(cells, index, &name);
        if let Some(&last) = definers.iter().max()
            && let Some(reads) = cells[last].callable_reads.get(&name)
        {
            work.extend(reads.iter().cloned());
        }
        for definer in definers {
            found.insert((name.clone(), definer));
        }
    }
    found.into_iter().collect()
}

/// The cells above `index` whose result may hold the value of `name` that cell `index`
/// sees, nearest first.
fn definers_above(cells: &[&CellFlow], index: usize, name: &str) -> Vec<usize> {
    let mut definers = Vec::new();
    // A method call on a name counts as a mutation unless the name turns out to be a
    // module (`np.append(a, 1)` changes nothing): held back until the binder is known.
    let mut held_back = Vec::new();
    for above in (0..index).rev() {
        let flow = cells[above];
        if contains(&flow.method_mutates, name) {
            held_back.push(above);
        } else if flow.defines_name(name) {
            let sure = flow.surely_binds_name(name);
            if sure && contains(&flow.imports, name) {
                held_back.clear();
            } else if !held_back.is_empty() {
                // The mutators read the name, so their keys already cover this binder.
                definers.append(&mut held_back);
                return definers;
            }
            definers.push(above);
            if sure || flow.reads_name(name) {
                return definers;
            }
        } else if flow.defines_everything {
            definers.append(&mut held_back);
            definers.push(above);
        }
    }
    definers.append(&mut held_back);
    definers.sort_by(|a, b| b.cmp(a));
    definers
}

/// Builtins, and what IPython and the runner's prelude put in every namespace.
pub fn is_builtin(name: &str) -> bool {
    BUILTINS.binary_search(&name).is_ok()
        || (name.starts_with("__") && name.ends_with("__") && name.len() > 4)
        || is_output_history(name)
}

/// IPython's `_1`, `_i1`, `_ii`, `_iii`, `_`, `__`, `___`.
fn is_output_history(name: &str) -> bool {
    let rest = name
        .strip_prefix("_i")
        .or_else(|| name.strip_prefix('_'))
        .unwrap_or("");
    (name.starts_with('_') && !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
        || matches!(name, "_" | "__" | "___" | "_i" | "_ii" | "_iii")
}

/// Python 3.12's `dir(builtins)` without dunders, plus IPython's additions. Sorted.
const BUILTINS: &[&str] = &[
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BaseException",
    "BaseExceptionGroup",
    "BlockingIOError",
    "BrokenPipeError",
    "BufferError",
    "BytesWarning",
    "ChildProcessError",
    "ConnectionAbortedError",
    "ConnectionError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "DeprecationWarning",
    "EOFError",
    "Ellipsis",
    "EncodingWarning",
    "EnvironmentError",
    "Exception",
    "ExceptionGroup",
    "False",
    "FileExistsError",
    "FileNotFoundError",
    "FloatingPointError",
    "FutureWarning",
    "GeneratorExit",
    "IOError",
    "ImportError",
    "ImportWarning",
    "In",
    "IndentationError",
    "IndexError",
    "InterruptedError",
    "IsADirectoryError",
    "KeyError",
    "KeyboardInterrupt",
    "LookupError",
    "MemoryError",
    "ModuleNotFoundError",
    "NameError",
    "None",
    "NotADirectoryError",
    "NotImplemented",
    "NotImplementedError",
    "OSError",
    "Out",
    "OverflowError",
    "PendingDeprecationWarning",
    "PermissionError",
    "ProcessLookupError",
    "PythonFinalizationError",
    "RecursionError",
    "ReferenceError",
    "ResourceWarning",
    "RuntimeError",
    "RuntimeWarning",
    "StopAsyncIteration",
    "StopIteration",
    "SyntaxError",
    "SyntaxWarning",
    "SystemError",
    "SystemExit",
    "TabError",
    "TimeoutError",
    "True",
    "TypeError",
    "UnboundLocalError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "UnicodeError",
    "UnicodeTranslateError",
    "UnicodeWarning",
    "UserWarning",
    "ValueError",
    "Warning",
    "ZeroDivisionError",
    "_dh",
    "_ih",
    "_oh",
    "abs",
    "aiter",
    "all",
    "anext",
    "any",
    "ascii",
    "bin",
    "bool",
    "breakpoint",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "classmethod",
    "compile",
    "complex",
    "copyright",
    "credits",
    "delattr",
    "dict",
    "dir",
    "display",
    "divmod",
    "enumerate",
    "eval",
    "exec",
    "exit",
    "filter",
    "float",
    "format",
    "frozenset",
    "get_ipython",
    "getattr",
    "globals",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "input",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "license",
    "list",
    "locals",
    "map",
    "max",
    "memoryview",
    "min",
    "next",
    "object",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "property",
    "quit",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "setattr",
    "slice",
    "sorted",
    "staticmethod",
    "str",
    "sum",
    "super",
    "tuple",
    "type",
    "vars",
    "zip",
];

/// Methods that change their receiver in place: `list`, `dict`, `set`, `bytearray`,
/// `collections.deque`, NumPy arrays and pandas objects (the table in `docs/cache.md`).
/// Any call with `inplace=True` counts too.
pub const MUTATING_METHODS: &[&str] = &[
    "add",
    "append",
    "appendleft",
    "clear",
    "difference_update",
    "discard",
    "extend",
    "extendleft",
    "fill",
    "insert",
    "intersection_update",
    "itemset",
    "partition",
    "pop",
    "popitem",
    "popleft",
    "remove",
    "resize",
    "reverse",
    "rotate",
    "setdefault",
    "setflags",
    "sort",
    "symmetric_difference_update",
    "update",
];

/// Functions that change their first argument in place (`np.copyto(a, b)`,
/// `random.shuffle(xs)`, `heapq.heappush(h, x)`), by their last dotted part.
pub const MUTATING_FUNCTIONS: &[&str] = &[
    "copyto",
    "fill_diagonal",
    "heapify",
    "heappop",
    "heappush",
    "heappushpop",
    "heapreplace",
    "insort",
    "insort_left",
    "insort_right",
    "place",
    "put",
    "put_along_axis",
    "putmask",
    "shuffle",
];

fn cell_flow_uncached(code: &str) -> CellFlow {
    let masked = magics::mask_magics(code);
    let tree = parse_python(&masked.text);
    cell_flow_of_parse(code, &masked, tree.as_ref())
}

/// [`cell_flow`] of `code` from its masked text and that text's parse, when the caller
/// has them already (the full analysis parses each cell once for both).
pub(crate) fn cell_flow_of_parse(
    code: &str,
    masked: &magics::MaskedSource,
    tree: Option<&tree_sitter::Tree>,
) -> CellFlow {
    cell_flow_of_root(code, masked, tree.map(|tree| tree.root_node()))
}

/// [`cell_flow_of_parse`] from the root of either tree (tree-sitter's or the fast one).
pub(crate) fn cell_flow_of_root<'a, N: PyNode<'a>>(
    code: &'a str,
    masked: &'a magics::MaskedSource,
    root: Option<N>,
) -> CellFlow {
    let mut walker = Walker::new(masked.text.as_str());
    for line in &masked.masked {
        let text = code.get(line.span.start..line.span.end).unwrap_or("");
        walker.magic(line.kind, text);
    }
    if let Some(root) = root {
        walker.block(root);
    }
    walker.finish()
}

const MAX_DEPTH: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScopeKind {
    Function,
    Class,
    Comprehension,
}

#[derive(Debug)]
struct Scope<'a> {
    kind: ScopeKind,
    /// Functions: every local (collected before the body is walked). Class bodies and
    /// comprehensions: the names bound so far.
    locals: HashSet<&'a str>,
    globals: HashSet<&'a str>,
}

struct Walker<'a, N: PyNode<'a>> {
    text: &'a str,
    scopes: Vec<Scope<'a>>,
    children: Children<'a, N>,
    depth: usize,
    /// Inside an `if`/`try`/loop/`match` body at module level: bindings there may not
    /// happen.
    conditional: usize,
    defines: BTreeSet<&'a str>,
    surely_bound: HashSet<&'a str>,
    maybe_bound: HashSet<&'a str>,
    surely_binds: BTreeSet<&'a str>,
    imports: BTreeSet<&'a str>,
    reads: BTreeSet<&'a str>,
    maybe_reads: BTreeSet<&'a str>,
    /// Module-level names read when the cell runs (not only inside function bodies).
    immediate: HashSet<&'a str>,
    /// Global reads from function bodies, resolved once the whole cell is known.
    deferred: BTreeSet<&'a str>,
    method_mutates: BTreeSet<&'a str>,
    mutated: BTreeSet<&'a str>,
    /// The module-level `def`/`class` being walked, and what each one's body reads.
    callable: Option<&'a str>,
    callable_reads: BTreeMap<&'a str, BTreeSet<&'a str>>,
    everything_reason: Option<String>,
    /// Where each name was first read.
    first_read: HashMap<&'a str, Span>,
}

impl<'a, N: PyNode<'a>> Walker<'a, N> {
    fn new(text: &'a str) -> Walker<'a, N> {
        Walker {
            text,
            scopes: Vec::new(),
            children: Children::default(),
            depth: 0,
            conditional: 0,
            defines: BTreeSet::new(),
            surely_bound: HashSet::new(),
            maybe_bound: HashSet::new(),
            surely_binds: BTreeSet::new(),
            imports: BTreeSet::new(),
            reads: BTreeSet::new(),
            maybe_reads: BTreeSet::new(),
            immediate: HashSet::new(),
            deferred: BTreeSet::new(),
            method_mutates: BTreeSet::new(),
            mutated: BTreeSet::new(),
            callable: None,
            callable_reads: BTreeMap::new(),
            everything_reason: None,
            first_read: HashMap::new(),
        }
    }

    fn finish(mut self) -> CellFlow {
        for name in std::mem::take(&mut self.deferred) {
            if self.defines.contains(name) || is_builtin(name) {
                self.maybe_reads.insert(name);
            } else {
                self.reads.insert(name);
            }
        }
        for name in &self.reads {
            self.maybe_reads.remove(name);
        }
        let owned = |names: &BTreeSet<&str>| names.iter().map(|name| name.to_string()).collect();
        let deferred_reads = self
            .reads
            .iter()
            .filter(|name| !self.immediate.contains(*name))
            .map(|name| name.to_string())
            .collect();
        // A method call is the only definition only when nothing else defines the name.
        let method_mutates = self
            .method_mutates
            .iter()
            .filter(|name| {
                !self.mutated.contains(*name)
                    && !self.surely_bound.contains(*name)
                    && !self.maybe_bound.contains(*name)
            })
            .map(|name| name.to_string())
            .collect();
        let read_spans = self
            .reads
            .iter()
            .filter_map(|name| Some((name.to_string(), *self.first_read.get(name)?)))
            .collect();
        CellFlow {
            read_spans,
            defines: owned(&self.defines),
            reads: owned(&self.reads),
            defines_everything: self.everything_reason.is_some(),
            everything_reason: self.everything_reason,
            maybe_reads: owned(&self.maybe_reads),
            deferred_reads,
            surely_binds: owned(&self.surely_binds),
            imports: owned(&self.imports),
            method_mutates,
            callable_reads: self
                .callable_reads
                .iter()
                .map(|(name, reads)| (name.to_string(), owned(reads)))
                .collect(),
        }
    }

    fn everything(&mut self, reason: &str) {
        if self.everything_reason.is_none() {
            self.everything_reason = Some(reason.to_string());
        }
    }

    /// IPython syntax the masking hid: `%run` and `%store -r` define anything;
    /// `%%capture name` binds `name`.
    fn magic(&mut self, kind: MagicKind, text: &'a str) {
        let line = text.trim_start();
        let word = |prefix: &str| {
            line.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
        };
        match kind {
            MagicKind::LineMagic | MagicKind::MagicAssignment => {
                let line = line.trim_start_matches(|c: char| c != '%');
                let magic = line.strip_prefix('%').unwrap_or(line);
                let name: String = magic
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                match name.as_str() {
                    "run" => self.everything("`%run`"),
                    "store" if magic.contains("-r") => self.everything("`%store -r`"),
                    "load" | "load_ext" | "reset" | "reset_selective" | "pylab" => {
                        self.everything(&format!("`%{name}`"))
                    }
                    _ => {}
                }
            }
            MagicKind::CellMagic if word("%%capture") => {
                let target = line
                    .split_whitespace()
                    .skip(1)
                    .find(|word| !word.starts_with('-'));
                if let Some(target) = target
                    && target.chars().all(|c| c.is_alphanumeric() || c == '_')
                {
                    self.bind_module(target);
                }
            }
            _ => {}
        }
    }

    fn node_text(&self, node: N) -> &'a str {
        self.text
            .get(node.start_byte()..node.end_byte())
            .unwrap_or("")
    }

    /// Runs `visit` one level deeper, unless that is too deep.
    fn deeper(&mut self, node: N, visit: fn(&mut Self, N)) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        self.depth += 1;
        visit(self, node);
        self.depth -= 1;
    }

    fn conditionally(&mut self, node: N, visit: fn(&mut Self, N)) {
        self.conditional += 1;
        self.deeper(node, visit);
        self.conditional -= 1;
    }

    fn block(&mut self, block: N) {
        let list_0 = self.children.named(block);
        for &statement in &list_0 {
            self.deeper(statement, Self::statement);
        }
        self.children.recycle(list_0);
    }

    fn statement(&mut self, node: N) {
        match kind(node) {
            "expression_statement" => {
                let list_1 = self.children.named(node);
                for &child in &list_1 {
                    self.deeper(child, Self::expression);
                }
                self.children.recycle(list_1);
            }
            "function_definition" => self.function(node),
            "class_definition" => self.class(node),
            "decorated_definition" => {
                let decorators = self.children.all(node);
                for decorator in decorators.iter().filter(|n| kind(**n) == "decorator") {
                    self.deeper(*decorator, Self::children);
                }
                self.children.recycle(decorators);
                if let Some(definition) = node.child_by_field_id(FIELDS.definition) {
                    self.deeper(definition, Self::statement);
                }
            }
            "import_statement" | "import_from_statement" | "future_import_statement" => {
                self.import(node)
            }
            "for_statement" => {
                self.field(node, FIELDS.right, Self::expression);
                self.conditional += 1;
                self.field(node, FIELDS.left, Self::target);
                self.field(node, FIELDS.body, Self::block);
                self.field(node, FIELDS.alternative, Self::children_statements);
                self.conditional -= 1;
            }
            "while_statement" => {
                self.field(node, FIELDS.condition, Self::expression);
                self.conditional += 1;
                self.field(node, FIELDS.body, Self::block);
                self.field(node, FIELDS.alternative, Self::children_statements);
                self.conditional -= 1;
            }
            "if_statement" => {
                self.field(node, FIELDS.condition, Self::expression);
                self.conditional += 1;
                self.field(node, FIELDS.consequence, Self::block);
                let alternatives = self.children.by_field(node, FIELDS.alternative);
                for &alternative in &alternatives {
                    self.deeper(alternative, Self::children_statements);
                }
                self.children.recycle(alternatives);
                self.conditional -= 1;
            }
            "try_statement" => self.conditionally(node, Self::children_statements),
            "except_clause" | "except_group_clause" => {
                let list_2 = self.children.named(node);
                for &child in &list_2 {
                    if kind(child) == "block" {
                        self.deeper(child, Self::block);
                    } else if Some(child) == node.child_by_field_id(FIELDS.alias) {
                        self.deeper(child, Self::target);
                    } else if kind(child) == "as_pattern" {
                        // `except E as e` in grammars that nest it as an `as_pattern`.
                        self.deeper(child, Self::as_pattern);
                    } else {
                        self.deeper(child, Self::expression);
                    }
                }
                self.children.recycle(list_2);
            }
            "with_statement" => {
                let list_3 = self.children.named(node);
                for &child in &list_3 {
                    match kind(child) {
                        "block" => self.deeper(child, Self::block),
                        _ => self.deeper(child, Self::with_items),
                    }
                }
                self.children.recycle(list_3);
            }
            "match_statement" => {
                self.field(node, FIELDS.subject, Self::expression);
                self.conditional += 1;
                let list_4 = self.children.named(node);
                for &child in &list_4 {
                    if kind(child) == "block" {
                        let cases = self.children.named(child);
                        for &case in &cases {
                            self.deeper(case, Self::case_clause);
                        }
                        self.children.recycle(cases);
                    }
                }
                self.children.recycle(list_4);
                self.conditional -= 1;
            }
            "delete_statement" => {
                let list_5 = self.children.named(node);
                for &child in &list_5 {
                    self.deeper(child, Self::delete_target);
                }
                self.children.recycle(list_5);
            }
            "type_alias_statement" => {
                self.field(node, FIELDS.right, Self::expression);
                self.field(node, FIELDS.left, Self::target);
            }
            "global_statement" | "nonlocal_statement" | "pass_statement" | "break_statement"
            | "continue_statement" | "comment" => {}
            "block" => self.block(node),
            _ => self.children(node),
        }
    }

    /// The statements (and the headers) inside a clause such as `else:`/`elif`/`finally`.
    fn children_statements(&mut self, node: N) {
        let list_6 = self.children.named(node);
        for &child in &list_6 {
            match kind(child) {
                "block" => self.deeper(child, Self::block),
                kind if kind.ends_with("_clause") || kind.ends_with("_statement") => {
                    self.deeper(child, Self::statement)
                }
                _ => self.deeper(child, Self::expression),
            }
        }
        self.children.recycle(list_6);
    }

    fn field(&mut self, node: N, field: u16, visit: fn(&mut Self, N)) {
        if let Some(child) = node.child_by_field_id(field) {
            self.deeper(child, visit);
        }
    }

    fn with_items(&mut self, node: N) {
        match kind(node) {
            "as_pattern" => self.as_pattern(node),
            "with_clause" | "with_item" => {
                let list_7 = self.children.named(node);
                for &child in &list_7 {
                    self.deeper(child, Self::with_items);
                }
                self.children.recycle(list_7);
            }
            _ => self.expression(node),
        }
    }

    /// `value as target` (in `with` and `except`): the value is read, the target bound.
    fn as_pattern(&mut self, node: N) {
        let alias = node.child_by_field_id(FIELDS.alias);
        let list_8 = self.children.named(node);
        for &child in &list_8 {
            if Some(child) == alias {
                self.deeper(child, Self::target);
            } else {
                self.deeper(child, Self::expression);
            }
        }
        self.children.recycle(list_8);
    }

    fn import(&mut self, node: N) {
        let all = self.children.all(node);
        let wildcard = all.iter().any(|child| kind(*child) == "wildcard_import");
        self.children.recycle(all);
        if wildcard {
            if self.scopes.is_empty() {
                self.everything("`from ... import *`");
            }
            return;
        }
        if kind(node) == "future_import_statement" {
            return;
        }
        let imported = self.children.by_field(node, FIELDS.name);
        for &name in &imported {
            let bound = match kind(name) {
                "aliased_import" => name.child_by_field_id(FIELDS.alias),
                // `import a.b` binds `a`.
                _ => name.named_child(0),
            };
            if let Some(bound) = bound {
                let bound = self.node_text(bound);
                self.bind(bound);
                if self.scopes.is_empty() && self.conditional == 0 {
                    self.imports.insert(bound);
                }
            }
        }
        self.children.recycle(imported);
    }

    fn function(&mut self, node: N) {
        self.field(node, FIELDS.parameters, Self::parameter_defaults);
        self.field(node, FIELDS.return_type, Self::expression);
        let Some(body) = node.child_by_field_id(FIELDS.body) else {
            return;
        };
        let mut scope = Scope {
            kind: ScopeKind::Function,
            locals: HashSet::new(),
            globals: HashSet::new(),
        };
        if let Some(parameters) = node.child_by_field_id(FIELDS.parameters) {
            parameter_names(parameters, self.text, &mut scope.locals);
        }
        collect_locals(body, self.text, &mut scope, 0);
        let name = node
            .child_by_field_id(FIELDS.name)
            .map(|name| self.node_text(name));
        self.enter_callable(name, scope, body, Self::block);
        if let Some(name) = name {
            self.bind(name);
        }
    }

    fn class(&mut self, node: N) {
        self.field(node, FIELDS.superclasses, Self::expression);
        let name = node
            .child_by_field_id(FIELDS.name)
            .map(|name| self.node_text(name));
        if let Some(body) = node.child_by_field_id(FIELDS.body) {
            let scope = Scope {
                kind: ScopeKind::Class,
                locals: HashSet::new(),
                globals: HashSet::new(),
            };
            self.enter_callable(name, scope, body, Self::block);
        }
        if let Some(name) = name {
            self.bind(name);
        }
    }

    /// Walks a function or class body in its own scope; at module level, records what it
    /// reads under its name.
    fn enter_callable(
        &mut self,
        name: Option<&'a str>,
        scope: Scope<'a>,
        body: N,
        visit: fn(&mut Self, N),
    ) {
        let outer = self.callable;
        if self.scopes.is_empty()
            && let Some(name) = name
        {
            self.callable = Some(name);
            self.callable_reads.entry(name).or_default();
        }
        let conditional = std::mem::take(&mut self.conditional);
        self.scopes.push(scope);
        self.deeper(body, visit);
        self.scopes.pop();
        self.conditional = conditional;
        self.callable = outer;
    }

    /// Defaults and annotations of parameters are evaluated where the `def` is.
    fn parameter_defaults(&mut self, parameters: N) {
        let list_9 = self.children.named(parameters);
        for &parameter in &list_9 {
            self.field(parameter, FIELDS.value, Self::expression);
            self.field(parameter, FIELDS.type_, Self::expression);
            if kind(parameter) == "typed_parameter" {
                let list = self.children.named(parameter);
                for &child in &list {
                    if kind(child) == "type" {
                        self.deeper(child, Self::expression);
                    }
                }
                self.children.recycle(list);
            }
        }
        self.children.recycle(list_9);
    }

    fn lambda(&mut self, node: N) {
        self.field(node, FIELDS.parameters, Self::parameter_defaults);
        let mut scope = Scope {
            kind: ScopeKind::Function,
            locals: HashSet::new(),
            globals: HashSet::new(),
        };
        if let Some(parameters) = node.child_by_field_id(FIELDS.parameters) {
            parameter_names(parameters, self.text, &mut scope.locals);
        }
        if let Some(body) = node.child_by_field_id(FIELDS.body) {
            collect_locals(body, self.text, &mut scope, 0);
            self.scopes.push(scope);
            self.deeper(body, Self::expression);
            self.scopes.pop();
        }
    }

    fn comprehension(&mut self, node: N) {
        let mut clauses = self.children.named(node);
        clauses.retain(|child| matches!(kind(*child), "for_in_clause" | "if_clause"));
        // The first iterable is evaluated in the enclosing scope.
        if let Some(first) = clauses.first() {
            self.field(*first, FIELDS.right, Self::expression);
        }
        self.scopes.push(Scope {
            kind: ScopeKind::Comprehension,
            locals: HashSet::new(),
            globals: HashSet::new(),
        });
        for (index, clause) in clauses.iter().enumerate() {
            if kind(*clause) == "for_in_clause" {
                if index > 0 {
                    self.field(*clause, FIELDS.right, Self::expression);
                }
                self.field(*clause, FIELDS.left, Self::target);
            } else {
                self.deeper(*clause, Self::children);
            }
        }
        self.children.recycle(clauses);
        self.field(node, FIELDS.body, Self::expression);
        self.scopes.pop();
    }

    fn case_clause(&mut self, node: N) {
        let list_10 = self.children.named(node);
        for &child in &list_10 {
            match kind(child) {
                "block" => self.deeper(child, Self::block),
                "if_clause" => self.deeper(child, Self::children),
                _ => self.deeper(child, Self::pattern),
            }
        }
        self.children.recycle(list_10);
    }

    /// A `case` pattern: bare names capture (bind), dotted names and class names are
    /// values (read).
    fn pattern(&mut self, node: N) {
        match kind(node) {
            "dotted_name" => {
                let parts = self.children.named(node);
                match parts.as_slice() {
                    [single] => {
                        let name = self.node_text(*single);
                        if name != "_" {
                            self.bind(name);
                        }
                    }
                    [first, ..] => self.deeper(*first, Self::expression),
                    [] => {}
                }
                self.children.recycle(parts);
            }
            "identifier" => {
                let name = self.node_text(node);
                if name != "_" {
                    self.bind(name);
                }
            }
            "class_pattern" => {
                let list = self.children.named(node);
                for (index, &child) in list.iter().enumerate() {
                    if index == 0 && kind(child) == "dotted_name" {
                        if let Some(first) = child.named_child(0) {
                            self.deeper(first, Self::expression);
                        }
                    } else {
                        self.deeper(child, Self::pattern);
                    }
                }
                self.children.recycle(list);
            }
            "keyword_pattern" => {
                // `x=pattern`: the keyword is an attribute name, not a variable.
                let list = self.children.named(node);
                for &child in list.iter().skip(1) {
                    self.deeper(child, Self::pattern);
                }
                self.children.recycle(list);
            }
            "dict_pattern" => {
                let keys = self.children.by_field(node, FIELDS.key);
                let list_11 = self.children.named(node);
                for &child in &list_11 {
                    if keys.contains(&child) {
                        if kind(child) == "dotted_name"
                            && let Some(first) = child.named_child(0)
                        {
                            self.deeper(first, Self::expression);
                        }
                    } else {
                        self.deeper(child, Self::pattern);
                    }
                }
                self.children.recycle(list_11);
                self.children.recycle(keys);
            }
            "as_pattern" => {
                let alias = node.child_by_field_id(FIELDS.alias);
                let list_12 = self.children.named(node);
                for &child in &list_12 {
                    if Some(child) == alias {
                        self.deeper(child, Self::target);
                    } else {
                        self.deeper(child, Self::pattern);
                    }
                }
                self.children.recycle(list_12);
            }
            "string"
            | "concatenated_string"
            | "integer"
            | "float"
            | "true"
            | "false"
            | "none"
            | "complex_pattern" => {}
            _ => {
                let list_13 = self.children.named(node);
                for &child in &list_13 {
                    self.deeper(child, Self::pattern);
                }
                self.children.recycle(list_13);
            }
        }
    }

    fn children(&mut self, node: N) {
        let list_14 = self.children.named(node);
        for &child in &list_14 {
            self.deeper(child, Self::expression);
        }
        self.children.recycle(list_14);
    }

    fn expression(&mut self, node: N) {
        match kind(node) {
            "identifier" => self.read_node(node),
            "attribute" => self.field(node, FIELDS.object, Self::expression),
            "keyword_argument" => self.field(node, FIELDS.value, Self::expression),
            "assignment" => self.assignment(node),
            "augmented_assignment" => self.augmented_assignment(node),
            "named_expression" => {
                self.field(node, FIELDS.value, Self::expression);
                if let Some(name) = node.child_by_field_id(FIELDS.name) {
                    let name = self.node_text(name);
                    self.bind_walrus(name);
                }
            }
            "call" => self.call(node),
            "lambda" => self.lambda(node),
            "list_comprehension"
            | "set_comprehension"
            | "dictionary_comprehension"
            | "generator_expression" => self.comprehension(node),
            // Only an f-string (or a t-string) holds expressions: the others' parts are
            // not walked.
            "string" if !node.has_error() && !is_format_string(self.node_text(node)) => {}
            "string_content" | "escape_sequence" | "comment" | "string_start" | "string_end"
            | "type_conversion" => {}
            _ => self.children(node),
        }
    }

    fn assignment(&mut self, node: N) {
        let right = node.child_by_field_id(FIELDS.right);
        if let Some(right) = right {
            // `a = b = 1` nests the second assignment on the right.
            self.deeper(right, Self::expression);
        }
        self.field(node, FIELDS.type_, Self::expression);
        if right.is_some() {
            self.field(node, FIELDS.left, Self::target);
        }
    }

    fn augmented_assignment(&mut self, node: N) {
        self.field(node, FIELDS.right, Self::expression);
        if let Some(left) = node.child_by_field_id(FIELDS.left) {
            if kind(left) == "identifier" {
                let name = self.node_text(left);
                self.read_node(left);
                self.bind(name);
            } else {
                self.deeper(left, Self::target);
            }
        }
    }

    fn call(&mut self, node: N) {
        let function = node.child_by_field_id(FIELDS.function);
        let arguments = node.child_by_field_id(FIELDS.arguments);
        if let Some(function) = function {
            self.call_effects(function, arguments);
            self.deeper(function, Self::expression);
        }
        if let Some(arguments) = arguments {
            self.deeper(arguments, Self::expression);
        }
    }

    /// What a call does besides reading: mutate its receiver or first argument, or
    /// define anything (`exec`, `globals()`).
    fn call_effects(&mut self, function: N, arguments: Option<N>) {
        let mut first_positional = None;
        let mut inplace = false;
        if let Some(arguments) = arguments {
            let list = self.children.named(arguments);
            for &argument in &list {
                match kind(argument) {
                    "keyword_argument" => {
                        inplace =
                            inplace
                                || argument
                                    .child_by_field_id(FIELDS.name)
                                    .is_some_and(|name| self.node_text(name) == "inplace")
                                    && argument.child_by_field_id(FIELDS.value).is_some_and(
                                        |value| kind(value) != "false" && kind(value) != "none",
                                    );
                    }
                    "comment" => {}
                    _ => {
                        first_positional = first_positional.or(Some(argument));
                    }
                }
            }
            self.children.recycle(list);
        }
        let last = match kind(function) {
            "identifier" => self.node_text(function),
            "attribute" => function
                .child_by_field_id(FIELDS.attribute)
                .map(|name| self.node_text(name))
                .unwrap_or(""),
            _ => "",
        };
        if kind(function) == "identifier" && self.resolves_to_module(last) {
            match last {
                "exec" | "execfile" => self.everything("`exec(...)`"),
                "globals" => self.everything("`globals()`"),
                "vars" | "locals" if first_positional.is_none() && self.scopes.is_empty() => {
                    self.everything(&format!("`{last}()`"))
                }
                _ => {}
            }
        }
        if kind(function) == "attribute"
            && let Some(object) = function.child_by_field_id(FIELDS.object)
        {
            let ipython = self.node_text(object).replace(' ', "") == "get_ipython()";
            if ipython && matches!(last, "run_cell" | "run_cell_magic" | "ex" | "ev") {
                self.everything("`get_ipython().run_cell(...)`");
            }
            if ipython && last == "run_line_magic" {
                let magic = first_positional
                    .map(|first| self.node_text(first).trim_matches(['"', '\'']))
                    .unwrap_or("");
                if matches!(magic, "run" | "store" | "load" | "reset") {
                    self.everything(&format!("`%{magic}`"));
                }
            }
            if inplace {
                if let Some(root) = root_name(object, self.text) {
                    self.mutate(root, false);
                }
            } else if MUTATING_METHODS.contains(&last)
                && let Some(root) = root_name(object, self.text)
            {
                self.mutate(root, true);
            }
        }
        if MUTATING_FUNCTIONS.contains(&last)
            && let Some(first) = first_positional
            && let Some(root) = root_name(first, self.text)
        {
            self.mutate(root, false);
        }
    }

    /// Binding targets: names are bound; `x[...]` and `x.attr` read and change `x`.
    fn target(&mut self, node: N) {
        match kind(node) {
            "identifier" => {
                let name = self.node_text(node);
                self.bind(name);
            }
            "subscript" | "attribute" => {
                self.expression(node);
                if let Some(root) = root_name(node, self.text) {
                    self.mutate(root, false);
                }
            }
            "pattern_list"
            | "tuple_pattern"
            | "list_pattern"
            | "tuple"
            | "list"
            | "as_pattern_target"
            | "list_splat_pattern"
            | "list_splat"
            | "parenthesized_expression"
            | "expression_list" => {
                let list_15 = self.children.named(node);
                for &child in &list_15 {
                    self.deeper(child, Self::target);
                }
                self.children.recycle(list_15);
            }
            _ => self.expression(node),
        }
    }

    fn delete_target(&mut self, node: N) {
        match kind(node) {
            "identifier" => {
                let name = self.node_text(node);
                if self.scopes.is_empty() {
                    // Unbound afterwards: a define, but not a sure one.
                    self.defines.insert(name);
                    self.mutated.insert(name);
                    self.surely_bound.remove(name);
                    self.maybe_bound.insert(name);
                } else {
                    self.bind(name);
                }
            }
            "expression_list" | "tuple" | "list" | "parenthesized_expression" => {
                let list_16 = self.children.named(node);
                for &child in &list_16 {
                    self.deeper(child, Self::delete_target);
                }
                self.children.recycle(list_16);
            }
            _ => self.target(node),
        }
    }

    /// Where a read of `name` here resolves: `None` for a local, `Some(deferred)` for a
    /// module-level name (deferred when read inside a function body).
    fn resolve(&self, name: &'a str) -> Option<bool> {
        let mut deferred = false;
        let innermost_non_comprehension = self
            .scopes
            .iter()
            .rposition(|scope| scope.kind != ScopeKind::Comprehension);
        for (index, scope) in self.scopes.iter().enumerate().rev() {
            match scope.kind {
                ScopeKind::Function => {
                    if scope.globals.contains(name) {
                        return Some(true);
                    }
                    if scope.locals.contains(name) {
                        return None;
                    }
                    deferred = true;
                }
                ScopeKind::Class => {
                    if Some(index) == innermost_non_comprehension && scope.locals.contains(name) {
                        return None;
                    }
                }
                ScopeKind::Comprehension => {
                    if scope.locals.contains(name) {
                        return None;
                    }
                }
            }
        }
        Some(deferred)
    }

    fn resolves_to_module(&self, name: &'a str) -> bool {
        self.resolve(name).is_some()
            && !self.surely_bound.contains(name)
            && !self.maybe_bound.contains(name)
    }

    /// Reads the identifier `node`, remembering where a name was first read.
    fn read_node(&mut self, node: N) {
        let name = self.node_text(node);
        if self.read(name) && !self.first_read.contains_key(name) {
            self.first_read
                .insert(name, Span::new(node.start_byte(), node.end_byte()));
        }
    }

    /// Records a read of `name`; true when it may come from another cell.
    fn read(&mut self, name: &'a str) -> bool {
        if name.is_empty() {
            return false;
        }
        let Some(deferred) = self.resolve(name) else {
            return false;
        };
        if let Some(callable) = &self.callable
            && !is_builtin(name)
            && let Some(reads) = self.callable_reads.get_mut(callable)
        {
            reads.insert(name);
        }
        if deferred {
            self.deferred.insert(name);
            return true;
        }
        self.immediate.insert(name);
        if self.surely_bound.contains(name) {
            return false;
        }
        if self.maybe_bound.contains(name) || is_builtin(name) {
            self.maybe_reads.insert(name);
        } else {
            self.reads.insert(name);
        }
        true
    }

    fn bind(&mut self, name: &'a str) {
        match self.scopes.last_mut() {
            None => self.bind_module(name),
            Some(scope) => match scope.kind {
                ScopeKind::Function => {
                    if scope.globals.contains(name) {
                        self.bind_global_from_function(name);
                    }
                }
                ScopeKind::Class | ScopeKind::Comprehension => {
                    scope.locals.insert(name);
                }
            },
        }
    }

    /// `:=` binds in the nearest scope that is not a comprehension.
    fn bind_walrus(&mut self, name: &'a str) {
        let target = self
            .scopes
            .iter_mut()
            .rev()
            .find(|scope| scope.kind != ScopeKind::Comprehension);
        match target {
            None => self.bind_module(name),
            Some(scope) if scope.kind == ScopeKind::Function => {
                if scope.globals.contains(name) {
                    self.bind_global_from_function(name);
                }
            }
            Some(scope) => {
                scope.locals.insert(name);
            }
        }
    }

    /// `global x` then `x = ...` in a function: the cell may define `x` (when the
    /// function is called).
    fn bind_global_from_function(&mut self, name: &'a str) {
        self.defines.insert(name);
        self.mutated.insert(name);
    }

    fn bind_module(&mut self, name: &'a str) {
        if name.is_empty() {
            return;
        }
        self.defines.insert(name);
        if self.conditional == 0 {
            self.surely_bound.insert(name);
            self.maybe_bound.remove(name);
            self.surely_binds.insert(name);
        } else if !self.surely_bound.contains(name) {
            self.maybe_bound.insert(name);
        }
    }

    /// `name` is changed in place here (a method call when `by_method`).
    fn mutate(&mut self, name: &'a str, by_method: bool) {
        match self.resolve(name) {
            Some(false) => {}
            // A local, or a global changed inside a function body: not tracked.
            _ => return,
        }
        if by_method && self.imports.contains(name) {
            return;
        }
        self.defines.insert(name);
        if by_method {
            self.method_mutates.insert(name);
        } else {
            self.mutated.insert(name);
        }
    }
}

use super::py_node::named_children;

/// Whether a string literal's prefix makes it a format string (`f"..."`, `t"..."`), the
/// only kind whose `{...}` tree-sitter-python parses as interpolations.
fn is_format_string(literal: &str) -> bool {
    literal
        .bytes()
        .take_while(|byte| !matches!(byte, b'"' | b'\'' | b'`'))
        .any(|byte| matches!(byte, b'f' | b'F' | b't' | b'T'))
}

/// The variable at the root of `x.a[0].b`; `None` when the chain starts at a call or a
/// literal (`f().append(1)` changes no name).
fn root_name<'t, 'n, N: PyNode<'n>>(node: N, text: &'t str) -> Option<&'t str> {
    let mut current = node;
    for _ in 0..MAX_DEPTH {
        match kind(current) {
            "identifier" => return text.get(current.start_byte()..current.end_byte()),
            "attribute" => current = current.child_by_field_id(FIELDS.object)?,
            "subscript" => current = current.child_by_field_id(FIELDS.value)?,
            "parenthesized_expression" => current = current.named_child(0)?,
            _ => return None,
        }
    }
    None
}

/// The names a parameter list binds.
fn parameter_names<'a, 'n, N: PyNode<'n>>(
    parameters: N,
    text: &'a str,
    names: &mut HashSet<&'a str>,
) {
    for parameter in named_children(parameters) {
        let name = match kind(parameter) {
            "identifier" => Some(parameter),
            "default_parameter" | "typed_default_parameter" => {
                parameter.child_by_field_id(FIELDS.name)
            }
            "typed_parameter" | "list_splat_pattern" | "dictionary_splat_pattern" => {
                named_children(parameter)
                    .into_iter()
                    .find(|child| kind(*child) == "identifier")
                    .or_else(|| {
                        named_children(parameter).into_iter().find_map(|child| {
                            named_children(child)
                                .into_iter()
                                .find(|inner| kind(*inner) == "identifier")
                        })
                    })
            }
            _ => None,
        };
        if let Some(name) = name
            && let Some(name) = text.get(name.start_byte()..name.end_byte())
        {
            names.insert(name);
        }
    }
}

/// Every name a function body binds (Python makes them local to the whole body), and its
/// `global` declarations. Nested function and class bodies, lambdas and comprehension
/// variables have their own scopes; `:=` inside a comprehension binds here.
fn collect_locals<'a, 'n, N: PyNode<'n>>(
    node: N,
    text: &'a str,
    scope: &mut Scope<'a>,
    depth: usize,
) {
    if depth >= MAX_DEPTH {
        return;
    }
    let name_of = |node: N| text.get(node.start_byte()..node.end_byte()).unwrap_or("");
    match kind(node) {
        "global_statement" => {
            for name in named_children(node) {
                scope.globals.insert(name_of(name));
            }
            return;
        }
        "nonlocal_statement" => {
            for name in named_children(node) {
                scope.locals.insert(name_of(name));
            }
            return;
        }
        "function_definition" | "class_definition" => {
            if let Some(name) = node.child_by_field_id(FIELDS.name) {
                scope.locals.insert(name_of(name));
            }
            return;
        }
        "lambda" => return,
        "import_statement" | "import_from_statement" => {
            let imported = field_children(node, FIELDS.name);
            for name in imported {
                let bound = match kind(name) {
                    "aliased_import" => name.child_by_field_id(FIELDS.alias),
                    _ => name.named_child(0),
                };
                if let Some(bound) = bound {
                    scope.locals.insert(name_of(bound));
                }
            }
            return;
        }
        "assignment" | "for_statement" => {
            if let Some(left) = node.child_by_field_id(FIELDS.left) {
                target_names(left, text, &mut scope.locals, depth);
            }
        }
        "augmented_assignment" => {
            if let Some(left) = node.child_by_field_id(FIELDS.left)
                && kind(left) == "identifier"
            {
                scope.locals.insert(name_of(left));
            }
        }
        "named_expression" => {
            if let Some(name) = node.child_by_field_id(FIELDS.name) {
                scope.locals.insert(name_of(name));
            }
        }
        "as_pattern_target" => target_names(node, text, &mut scope.locals, depth),
        "except_clause" | "except_group_clause" => {
            if let Some(alias) = node.child_by_field_id(FIELDS.alias) {
                target_names(alias, text, &mut scope.locals, depth);
            }
        }
        "delete_statement" => {
            for child in named_children(node) {
                target_names(child, text, &mut scope.locals, depth);
            }
        }
        "case_pattern" => case_captures(node, text, &mut scope.locals, depth),
        "for_in_clause" => {
            // Comprehension variables are the comprehension's own; its iterable may
            // still hold a `:=`.
            if let Some(right) = node.child_by_field_id(FIELDS.right) {
                collect_locals(right, text, scope, depth + 1);
            }
            return;
        }
        _ => {}
    }
    for child in named_children(node) {
        collect_locals(child, text, scope, depth + 1);
    }
}

fn target_names<'a, 'n, N: PyNode<'n>>(
    node: N,
    text: &'a str,
    names: &mut HashSet<&'a str>,
    depth: usize,
) {
    if depth >= MAX_DEPTH {
        return;
    }
    match kind(node) {
        "identifier" => {
            if let Some(name) = text.get(node.start_byte()..node.end_byte()) {
                names.insert(name);
            }
        }
        "pattern_list"
        | "tuple_pattern"
        | "list_pattern"
        | "tuple"
        | "list"
        | "as_pattern_target"
        | "list_splat_pattern"
        | "list_splat"
        | "parenthesized_expression"
        | "expression_list" => {
            for child in named_children(node) {
                target_names(child, text, names, depth + 1);
            }
        }
        _ => {}
    }
}

fn case_captures<'a, 'n, N: PyNode<'n>>(
    node: N,
    text: &'a str,
    names: &mut HashSet<&'a str>,
    depth: usize,
) {
    if depth >= MAX_DEPTH {
        return;
    }
    match kind(node) {
        "dotted_name" => {
            if let [single] = named_children(node).as_slice()
                && let Some(name) = text.get(single.start_byte()..single.end_byte())
                && name != "_"
            {
                names.insert(name);
            }
        }
        "identifier" | "as_pattern_target" => target_names(node, text, names, depth),
        "class_pattern" => {
            for child in named_children(node).into_iter().skip(1) {
                case_captures(child, text, names, depth + 1);
            }
        }
        "keyword_pattern" => {
            for child in named_children(node).into_iter().skip(1) {
                case_captures(child, text, names, depth + 1);
            }
        }
        _ => {
            for child in named_children(node) {
                case_captures(child, text, names, depth + 1);
            }
        }
    }
}

#[cfg(test)]
#[path = "dataflow_tests.rs"]
mod tests;

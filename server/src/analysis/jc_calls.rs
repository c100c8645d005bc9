//! Calls to the jellycell API (`queries/python/jc_calls.scm`): which function, the span
//! of the call and of each argument, and the literal value of the arguments that name
//! a path or a cell.
//!
//! A call counts when its receiver resolves to `jellycell.api` (or, as jellycell accepts,
//! the `jellycell` package) through the built-in names and the aliases in scope, or when
//! its bare name was imported from the API. Unlike jellycell, aliases are honoured.

use std::sync::LazyLock;

use tree_sitter::{Node, Query, QueryCursor, StreamingIterator};

use super::node_access::FIELDS;
use super::py_node::{PyNode, kind, named_children};
use super::strings::literal_value;
use super::{Aliases, Argument, ArgumentKind, ArgumentValue, JcCall, JcFunction, JcModule};
use crate::text::Span;

// Compiled on first use, each once per process (compiling costs milliseconds). The
// module calls are matched by hand (`module_call`); their query is the tests' oracle.
#[cfg(test)]
static JC_CALLS_QUERY: LazyLock<Query> = LazyLock::new(|| {
    Query::new(
        &tree_sitter_python::LANGUAGE.into(),
        include_str!("../../../queries/python/jc_calls.scm"),
    )
    .expect("queries/python/jc_calls.scm is a valid query (checked by a test)")
});

static JC_BARE_CALLS_QUERY: LazyLock<Query> = LazyLock::new(|| {
    Query::new(
        &tree_sitter_python::LANGUAGE.into(),
        include_str!("../../../queries/python/jc_bare_calls.scm"),
    )
    .expect("queries/python/jc_bare_calls.scm is a valid query (checked by a test)")
});

pub(crate) fn find_jc_calls(root: Node, text: &str, aliases: &Aliases) -> Vec<JcCall> {
    // Only the calls whose callee starts with a module name (found by text search) can
    // match `jc_calls.scm`'s pattern, at the call itself: matched by hand there
    // (`module_call`, the pattern's test oracle keeps them equal), not by a query cursor
    // over the tree.
    let mut calls = find_module_calls(root, text, aliases);
    // Matching every plain call is the costly part; only an imported function needs it.
    if needs_bare_calls(aliases) {
        collect_calls(&JC_BARE_CALLS_QUERY, root, None, text, &mut |found| {
            push_call(found, text, aliases, &mut calls)
        });
    }
    in_source_order(calls)
}

/// The calls sorted by span, each once.
pub(crate) fn in_source_order(mut calls: Vec<JcCall>) -> Vec<JcCall> {
    calls.sort_by_key(|call| call.span);
    calls.dedup_by_key(|call| call.span);
    calls
}

/// The calls of `jc_calls.scm`'s pattern (a receiver naming the API as a module) in the
/// tree at `root`, in no particular order: all of a cell's calls when `aliases` holds no
/// imported function or star import (`needs_bare_calls`).
pub(crate) fn find_module_calls<'t, N: PyNode<'t>>(
    root: N,
    text: &str,
    aliases: &Aliases,
) -> Vec<JcCall> {
    let mut calls = Vec::new();
    for call in calls_on_module_names(root, text, aliases) {
        if let Some(found) = module_call(call, text) {
            push_call(found, text, aliases, &mut calls);
        }
    }
    calls
}

/// Does finding the calls also need `jc_bare_calls.scm` (matched with a tree-sitter query)?
pub(crate) fn needs_bare_calls(aliases: &Aliases) -> bool {
    aliases.functions().next().is_some() || aliases.has_star_import()
}

/// Every call whose callee is an attribute chain rooted at an identifier that names the
/// API as a module (`jc`, `jellycell`, a module alias): the only places where the
/// attribute pattern of `jc_calls.scm` can match.
fn calls_on_module_names<'t, N: PyNode<'t>>(root: N, text: &str, aliases: &Aliases) -> Vec<N> {
    let mut names = vec!["jc", "jellycell"];
    names.extend(aliases.modules().map(|(local, _)| local));
    let mut calls = Vec::new();
    for name in names {
        for (start, _) in text.match_indices(name) {
            let end = start + name.len();
            let Some(node) = root.descendant_for_byte_range(start, end) else {
                continue;
            };
            if kind(node) != "identifier" || node.start_byte() != start || node.end_byte() != end {
                continue;
            }
            let mut current = node;
            while let Some(parent) = current.parent() {
                let field = match kind(parent) {
                    "attribute" => FIELDS.object,
                    "call" => FIELDS.function,
                    _ => break,
                };
                if parent.child_by_field_id(field) != Some(current) {
                    break;
                }
                if kind(parent) == "call" {
                    calls.push(parent);
                    break;
                }
                current = parent;
            }
        }
    }
    calls
}

/// The nodes of one match of `jc_calls.scm` or `jc_bare_calls.scm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CallMatch<N> {
    call: N,
    callee: N,
    /// `jc_calls.scm`: the receiver and the function name (`jc`, `load`).
    receiver: Option<N>,
    function: Option<N>,
    /// `jc_bare_calls.scm`: the bare name called.
    name: Option<N>,
    arguments: N,
}

const API_FUNCTIONS: [&str; 6] = ["deps", "load", "save", "figure", "table", "path"];

/// `jc_calls.scm`'s pattern at `call` itself: `(call function: (attribute object:
/// [(identifier) (attribute)] attribute: (identifier)) arguments: (_))` with the
/// attribute one of the API's function names. As the query cursor does, a missing node
/// of the right kind matches and an `ERROR` is no `(_)`.
fn module_call<'t, N: PyNode<'t>>(call: N, text: &str) -> Option<CallMatch<N>> {
    if kind(call) != "call" {
        return None;
    }
    let fields = &*FIELDS;
    let callee = call.child_by_field_id(fields.function)?;
    let receiver = callee.child_by_field_id(fields.object)?;
    let function = callee.child_by_field_id(fields.attribute)?;
    let arguments = call.child_by_field_id(fields.arguments)?;
    let matches = kind(callee) == "attribute"
        && matches!(kind(receiver), "identifier" | "attribute")
        && kind(function) == "identifier"
        && node_text(function, text).is_some_and(|name| API_FUNCTIONS.contains(&name))
        && arguments.is_named()
        && !arguments.is_error();
    matches.then_some(CallMatch {
        call,
        callee,
        receiver: Some(receiver),
        function: Some(function),
        name: None,
        arguments,
    })
}

/// The matches of `query` in the tree at `root`, starting at most `max_depth` below it
/// (`Some(0)`: only at `root` itself).
fn collect_calls<'t>(
    query: &Query,
    root: Node<'t>,
    max_depth: Option<u32>,
    text: &str,
    found: &mut dyn FnMut(CallMatch<Node<'t>>),
) {
    let capture = |name: &str| query.capture_index_for_name(name);
    let indices = (
        capture("call"),
        capture("call.callee"),
        capture("call.receiver"),
        capture("call.function"),
        capture("call.name"),
        capture("call.arguments"),
    );
    let (call_index, callee_index, receiver_index, function_index, name_index, arguments_index) =
        indices;
    let mut cursor = QueryCursor::new();
    cursor.set_max_start_depth(max_depth);
    let mut matches = cursor.matches(query, root, text.as_bytes());
    while let Some(one) = matches.next() {
        let node_for = |index: Option<u32>| {
            one.captures()
                .iter()
                .find(|capture| Some(capture.index) == index)
                .map(|capture| capture.node)
        };
        let (Some(call), Some(callee), Some(arguments)) = (
            node_for(call_index),
            node_for(callee_index),
            node_for(arguments_index),
        ) else {
            continue;
        };
        found(CallMatch {
            call,
            callee,
            receiver: node_for(receiver_index),
            function: node_for(function_index),
            name: node_for(name_index),
            arguments,
        });
    }
}

/// The API call a match is, if its receiver or bare name resolves to the API.
fn push_call<'t, N: PyNode<'t>>(
    found: CallMatch<N>,
    text: &str,
    aliases: &Aliases,
    calls: &mut Vec<JcCall>,
) {
    let function = match (found.receiver, found.function) {
        (Some(receiver), Some(function)) => {
            if !receiver_is_api(receiver, text, aliases) {
                return;
            }
            node_text(function, text).and_then(JcFunction::from_name)
        }
        _ => found
            .name
            .and_then(|name| node_text(name, text))
            .and_then(|name| aliases.function(name)),
    };
    let Some(function) = function else {
        return;
    };
    let arguments = collect_arguments(found.arguments, text);
    let targets = targets(function, &arguments);
    calls.push(JcCall {
        function,
        span: span_of(found.call),
        callee_span: span_of(found.callee),
        arguments,
        targets,
    });
}

/// Does this receiver expression name `jellycell.api` (or the `jellycell` package)?
fn receiver_is_api<'t, N: PyNode<'t>>(receiver: N, text: &str, aliases: &Aliases) -> bool {
    let Some(path) = dotted_path(receiver, text) else {
        return false;
    };
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let Some(module) = aliases.module(first) else {
        return false;
    };
    matches!((module, rest), (_, []) | (JcModule::Package, ["api"]))
}

/// `a.b.c` as `["a", "b", "c"]`; `None` for anything that is not a plain dotted name.
fn dotted_path<'a, 't, N: PyNode<'t>>(node: N, text: &'a str) -> Option<Vec<&'a str>> {
    let mut path = Vec::new();
    let mut current = node;
    while current.kind() == "attribute" {
        path.push(node_text(
            current.child_by_field_id(FIELDS.attribute)?,
            text,
        )?);
        current = current.child_by_field_id(FIELDS.object)?;
    }
    if current.kind() != "identifier" {
        return None;
    }
    path.push(node_text(current, text)?);
    path.reverse();
    Some(path)
}

fn collect_arguments<'t, N: PyNode<'t>>(list: N, text: &str) -> Vec<Argument> {
    // `f(x for x in y)`: the generator is the only, positional argument.
    if list.kind() != "argument_list" {
        return vec![argument(ArgumentKind::Positional, list, list, text)];
    }
    named_children(list)
        .into_iter()
        .filter(|child| child.kind() != "comment" && !child.is_error() && !child.is_missing())
        .map(|child| match child.kind() {
            "keyword_argument" => {
                let name = child
                    .child_by_field_id(FIELDS.name)
                    .and_then(|name| node_text(name, text))
                    .unwrap_or("")
                    .to_string();
                let value = child.child_by_field_id(FIELDS.value).unwrap_or(child);
                argument(ArgumentKind::Keyword(name), child, value, text)
            }
            "list_splat" => argument(ArgumentKind::Splat, child, child, text),
            "dictionary_splat" => argument(ArgumentKind::DoubleSplat, child, child, text),
            _ => argument(ArgumentKind::Positional, child, child, text),
        })
        .collect()
}

fn argument<'t, N: PyNode<'t>>(kind: ArgumentKind, whole: N, value: N, text: &str) -> Argument {
    let literal = match kind {
        ArgumentKind::Positional | ArgumentKind::Keyword(_) => literal_value(value, text),
        ArgumentKind::Splat | ArgumentKind::DoubleSplat => None,
    };
    Argument {
        kind,
        span: span_of(whole),
        value_span: span_of(value),
        value: literal.map_or(ArgumentValue::NonLiteral, ArgumentValue::Literal),
    }
}

/// The arguments that name a path or a cell, by each function's signature.
fn targets(function: JcFunction, arguments: &[Argument]) -> Vec<Argument> {
    let positional = |n: usize| {
        arguments
            .iter()
            .filter(|argument| argument.kind == ArgumentKind::Positional)
            .nth(n)
    };
    let keyword = |name: &str| {
        arguments
            .iter()
            .find(|argument| matches!(&argument.kind, ArgumentKind::Keyword(k) if k == name))
    };
    let chosen = match function {
        JcFunction::Deps => {
            return arguments
                .iter()
                .filter(|argument| {
                    matches!(
                        argument.kind,
                        ArgumentKind::Positional | ArgumentKind::Splat
                    )
                })
                .cloned()
                .collect();
        }
        JcFunction::Load | JcFunction::Figure => positional(0).or_else(|| keyword("path")),
        JcFunction::Save => positional(1).or_else(|| keyword("path")),
        JcFunction::Table => keyword("name"),
        JcFunction::Path => positional(0).or_else(|| keyword("name")),
    };
    chosen.into_iter().cloned().collect()
}

fn node_text<'a, 't, N: PyNode<'t>>(node: N, text: &'a str) -> Option<&'a str> {
    text.get(node.start_byte()..node.end_byte())
}

fn span_of<'t, N: PyNode<'t>>(node: N) -> Span {
    Span::new(node.start_byte(), node.end_byte())
}

#[cfg(test)]
mod tests {
    use tree_sitter::Query;

    use super::super::{
        Aliases, ArgumentKind, ArgumentValue, JcCall, JcFunction, JcModule, analyze_cell,
    };
    use super::{JC_BARE_CALLS_QUERY, JC_CALLS_QUERY, find_jc_calls};

    fn calls(source: &str) -> Vec<JcCall> {
        analyze_cell(source, &Aliases::new()).jc_calls
    }

    fn calls_with(source: &str, aliases: &Aliases) -> Vec<JcCall> {
        analyze_cell(source, aliases).jc_calls
    }

    fn literals(call: &JcCall) -> Vec<&str> {
        call.literal_targets().map(|(value, _)| value).collect()
    }

    fn only_call(source: &str) -> JcCall {
        let mut found = calls(source);
        assert_eq!(found.len(), 1, "expected one call in {source:?}: {found:?}");
        found.remove(0)
    }

    fn query_is_fully_checked(query: &Query) {
        for pattern in 0..query.pattern_count() {
            assert!(
                query.general_predicates(pattern).is_empty(),
                "pattern {pattern} has predicates the query cursor does not apply"
            );
        }
    }

    #[test]
    fn jc_calls_query_compiles_with_only_built_in_predicates() {
        query_is_fully_checked(&JC_CALLS_QUERY);
        query_is_fully_checked(&JC_BARE_CALLS_QUERY);
    }

    #[test]
    fn bare_imported_names_are_calls_only_after_their_import() {
        let mut aliases = Aliases::new();
        let source = "load('artifacts/a.csv')\nprint(1)\n";
        let parse = |source: &str| crate::analysis::parse::parse_python(source).unwrap();
        let tree = parse(source);
        assert!(find_jc_calls(tree.root_node(), source, &aliases).is_empty());
        aliases.insert_function("load", JcFunction::Load);
        let found = find_jc_calls(tree.root_node(), source, &aliases);
        assert_eq!(found.len(), 1);
        let mut star = Aliases::new();
        star.insert_star_import();
        assert_eq!(find_jc_calls(tree.root_node(), source, &star).len(), 1);
    }

    #[test]
    fn any_of_predicate_rejects_other_attribute_calls() {
        assert!(calls("jc.cache(f)\njc.ctx.notebook\njc.loads('a')\n").is_empty());
    }

    #[test]
    fn load_literal_is_the_first_positional_argument() {
        let call = only_call("df = jc.load(\"artifacts/raw.parquet\")\n");
        assert_eq!(call.function, JcFunction::Load);
        assert_eq!(literals(&call), ["artifacts/raw.parquet"]);
    }

    #[test]
    fn load_literal_may_be_the_path_keyword() {
        assert_eq!(
            literals(&only_call("jc.load(path='artifacts/a.csv')\n")),
            ["artifacts/a.csv"]
        );
    }

    #[test]
    fn save_literal_is_the_second_positional_argument() {
        let call = only_call("jc.save(df, 'artifacts/out.csv', caption='x')\n");
        assert_eq!(call.function, JcFunction::Save);
        assert_eq!(literals(&call), ["artifacts/out.csv"]);
    }

    #[test]
    fn save_literal_may_be_the_path_keyword() {
        assert_eq!(
            literals(&only_call("jc.save(df, path='artifacts/o.json')\n")),
            ["artifacts/o.json"]
        );
    }

    #[test]
    fn figure_literal_is_the_first_positional_or_path() {
        assert_eq!(
            literals(&only_call("jc.figure('artifacts/f.png')\n")),
            ["artifacts/f.png"]
        );
        assert_eq!(
            literals(&only_call("jc.figure(path='artifacts/g.png', fig=f)\n")),
            ["artifacts/g.png"]
        );
    }

    #[test]
    fn figure_without_a_path_has_no_target() {
        assert!(only_call("jc.figure(caption='c')\n").targets.is_empty());
    }

    #[test]
    fn table_literal_is_only_the_name_keyword() {
        let call = only_call("jc.table(df, caption='not a name', name='summary')\n");
        assert_eq!(call.function, JcFunction::Table);
        assert_eq!(literals(&call), ["summary"]);
        assert!(only_call("jc.table(df, 'positional')\n").targets.is_empty());
    }

    #[test]
    fn path_literal_is_the_first_positional_or_name() {
        assert_eq!(literals(&only_call("jc.path('raw')\n")), ["raw"]);
        assert_eq!(literals(&only_call("jc.path(name='raw')\n")), ["raw"]);
    }

    #[test]
    fn deps_literals_are_every_positional_string() {
        let call = only_call("jc.deps('raw', \"clean\", name, *more)\n");
        assert_eq!(call.function, JcFunction::Deps);
        assert_eq!(literals(&call), ["raw", "clean"]);
        assert_eq!(call.targets.len(), 4);
        assert_eq!(call.targets[2].value, ArgumentValue::NonLiteral);
        assert_eq!(call.targets[3].kind, ArgumentKind::Splat);
    }

    #[test]
    fn non_literal_targets_are_recorded_as_non_literal() {
        for source in [
            "jc.load(p)\n",
            "jc.load(f'artifacts/{n}.csv')\n",
            "jc.load('artifacts/' + n)\n",
            "jc.load(str(p))\n",
            "jc.load(b'artifacts/a')\n",
        ] {
            let call = only_call(source);
            assert_eq!(call.targets.len(), 1, "{source}");
            assert_eq!(call.targets[0].value, ArgumentValue::NonLiteral, "{source}");
        }
    }

    #[test]
    fn argument_spans_cover_keyword_and_value() {
        let source = "jc.save(df, path='a.csv')\n";
        let call = only_call(source);
        assert_eq!(call.span.slice(source), "jc.save(df, path='a.csv')");
        assert_eq!(call.callee_span.slice(source), "jc.save");
        let spans: Vec<(&str, &str)> = call
            .arguments
            .iter()
            .map(|argument| {
                (
                    argument.span.slice(source),
                    argument.value_span.slice(source),
                )
            })
            .collect();
        assert_eq!(spans, [("df", "df"), ("path='a.csv'", "'a.csv'")]);
        assert_eq!(
            call.arguments[1].kind,
            ArgumentKind::Keyword("path".to_string())
        );
    }

    #[test]
    fn calls_nested_in_functions_branches_and_arguments_are_found() {
        let source = r#"
def build():
    if ready:
        for p in paths:
            jc.save(transform(jc.load("artifacts/in.csv")), "artifacts/out.csv")
    return lambda: jc.deps("late")
class Report:
    def run(self):
        with ctx:
            jc.figure("artifacts/fig.png")
"#;
        let functions: Vec<JcFunction> = calls(source).iter().map(|call| call.function).collect();
        assert_eq!(
            functions,
            [
                JcFunction::Save,
                JcFunction::Load,
                JcFunction::Deps,
                JcFunction::Figure
            ]
        );
    }

    #[test]
    fn receivers_jellycell_and_jellycell_api_are_known() {
        assert_eq!(
            calls("jellycell.deps('a')\njellycell.api.load('b')\n").len(),
            2
        );
    }

    #[test]
    fn unknown_receivers_are_not_jc_calls() {
        assert!(
            calls("np.load('a.npy')\npickle.load(f)\nJ.load('a')\njc.api.load('x')\n").is_empty()
        );
        assert!(calls("load('a')\nsave(x, 'b')\n").is_empty());
    }

    #[test]
    fn import_jellycell_api_as_alias_is_honoured() {
        let call = only_call("import jellycell.api as J\nJ.load('artifacts/a.csv')\n");
        assert_eq!(literals(&call), ["artifacts/a.csv"]);
    }

    #[test]
    fn import_jellycell_as_alias_reaches_api_and_functions() {
        assert_eq!(
            calls("import jellycell as jcl\njcl.api.load('a')\njcl.deps('b')\n").len(),
            2
        );
    }

    #[test]
    fn from_jellycell_import_api_as_alias_is_honoured() {
        assert_eq!(
            calls("from jellycell import api as A\nA.save(x, 'artifacts/x.csv')\n").len(),
            1
        );
        assert_eq!(
            calls("from jellycell import api\napi.deps('raw')\n").len(),
            1
        );
    }

    #[test]
    fn direct_imports_with_and_without_alias_are_honoured() {
        let source = "from jellycell.api import load, save as s\nload('artifacts/a')\ns(df, 'artifacts/b')\n";
        let found = calls(source);
        let summary: Vec<(JcFunction, Vec<&str>)> = found
            .iter()
            .map(|call| (call.function, literals(call)))
            .collect();
        assert_eq!(
            summary,
            [
                (JcFunction::Load, vec!["artifacts/a"]),
                (JcFunction::Save, vec!["artifacts/b"])
            ]
        );
    }

    #[test]
    fn star_import_makes_bare_names_calls() {
        assert_eq!(calls("from jellycell.api import *\ndeps('raw')\n").len(), 1);
    }

    #[test]
    fn aliases_from_earlier_cells_are_honoured() {
        let mut aliases = Aliases::new();
        aliases.insert_module("J", JcModule::Api);
        aliases.insert_function("ld", JcFunction::Load);
        assert_eq!(calls_with("J.deps('a')\nld('b')\n", &aliases).len(), 2);
    }

    #[test]
    fn calls_on_masked_magic_lines_are_ignored_but_the_rest_are_found() {
        let source = "%run -i jc.load('a')\nx = !ls\njc.load('b')\n";
        let found = calls(source);
        assert_eq!(found.len(), 1);
        assert_eq!(literals(&found[0]), ["b"]);
    }

    #[test]
    fn calls_timed_by_a_line_magic_are_found() {
        let source = "%time df = jc.load('artifacts/a.csv')\n";
        let call = only_call(source);
        assert_eq!(call.span.slice(source), "jc.load('artifacts/a.csv')");
    }

    #[test]
    fn calls_are_recovered_from_a_cell_with_a_syntax_error() {
        let source = "x = = 1\njc.deps('raw')\n";
        assert_eq!(literals(&only_call(source)), ["raw"]);
    }

    #[test]
    fn broken_arguments_are_not_arguments() {
        let call = only_call("jc.save(df 'artifacts/a.csv')\n");
        assert!(
            call.arguments
                .iter()
                .all(|argument| !argument.span.is_empty())
        );
        assert!(call.arguments.len() <= 2);
    }

    #[test]
    fn long_receiver_chains_are_not_api_calls() {
        let source = format!("{}load('a')\n", "x.".repeat(3000));
        assert!(calls(&source).is_empty());
    }

    #[test]
    fn generator_argument_is_one_positional_argument() {
        let call = only_call("jc.deps(x for x in names)\n");
        assert_eq!(call.arguments.len(), 1);
        assert_eq!(call.targets[0].value, ArgumentValue::NonLiteral);
    }

    #[test]
    fn spans_are_byte_offsets_after_multibyte_text() {
        let source = "title = 'données'\njc.load('artifacts/é.csv')\n";
        let call = only_call(source);
        let (value, span) = call.literal_targets().next().expect("one literal");
        assert_eq!(value, "artifacts/é.csv");
        assert_eq!(span.slice(source), "'artifacts/é.csv'");
    }

    use proptest::prelude::*;

    /// What the query finds over the whole tree, as before the targeted search.
    fn whole_tree_calls(source: &str, aliases: &Aliases) -> Vec<JcCall> {
        let tree = crate::analysis::parse::parse_python(source).unwrap();
        let mut calls = Vec::new();
        let root = tree.root_node();
        for query in [&*JC_CALLS_QUERY, &*JC_BARE_CALLS_QUERY] {
            super::collect_calls(query, root, None, source, &mut |found| {
                super::push_call(found, source, aliases, &mut calls)
            });
        }
        calls.sort_by_key(|call| call.span);
        calls.dedup_by_key(|call| call.span);
        calls
    }

    fn targeted_calls(source: &str, aliases: &Aliases) -> Vec<JcCall> {
        let tree = crate::analysis::parse::parse_python(source).unwrap();
        find_jc_calls(tree.root_node(), source, aliases)
    }

    #[test]
    fn nested_and_chained_receivers_are_found_by_the_targeted_search() {
        let mut aliases = Aliases::new();
        aliases.insert_module("J", JcModule::Api);
        aliases.insert_module("pkg", JcModule::Package);
        let source = "jc.save(jc.load('a'), 'b')\njellycell.api.figure('c')\nx = [J.deps('d')]\npkg . api . table(name='t')\nAjc.load('no')\n'jc.load(\"no\")'\n";
        let found = targeted_calls(source, &aliases);
        assert_eq!(found.len(), 5, "{found:?}");
        assert_eq!(found, whole_tree_calls(source, &aliases));
    }

    proptest! {
        #[test]
        fn the_targeted_search_finds_what_the_whole_tree_query_finds(
            source in proptest::collection::vec(
                prop_oneof![
                    Just("jc.load("), Just("jc.save(df, "),
                    Just("jellycell.api.deps("), Just("J.figure("),
                    Just("load("), Just("\"a\""),
                    Just(")"), Just("("), Just("["),
                    Just("]"), Just("\n"), Just("    "),
                    Just("x = "), Just(","), Just("."),
                    Just("jc"), Just("J"), Just("#"),
                    Just("def f():"), Just("'"), Just("é"),
                    Just("jc.x.load("), Just("path="), Just("jc.loads("), Just("()"),
                ],
                0..40,
            ).prop_map(|parts| parts.concat()),
            function_alias in proptest::bool::ANY,
        ) {
            let mut aliases = Aliases::new();
            aliases.insert_module("J", JcModule::Api);
            if function_alias {
                aliases.insert_function("load", JcFunction::Load);
            }
            prop_assert_eq!(
                targeted_calls(&source, &aliases),
                whole_tree_calls(&source, &aliases)
            );
        }
    }
}

//! Imports that name the jellycell API (`queries/python/imports.scm`), and the names a
//! cell binds at module level.
//!
//! Imports anywhere in the cell count for the cell's own calls (a function-local
//! `import jellycell.api as J` is rare and harmless to honour); only module-level ones
//! (not inside a `def` or `class`) are passed on to later cells.

use std::sync::LazyLock;

use tree_sitter::{Node, Query, QueryCursor, StreamingIterator};

use super::{Aliases, DefinedName, JcFunction, JcModule};
use crate::text::Span;

static IMPORTS_QUERY: LazyLock<Query> = LazyLock::new(|| {
    Query::new(
        &tree_sitter_python::LANGUAGE.into(),
        include_str!("../../../queries/python/imports.scm"),
    )
    .expect("queries/python/imports.scm is a valid query (checked by a test)")
});

/// Aliases a cell binds: `everywhere` for its own calls, `module_level` for later cells.
#[derive(Debug, Default)]
pub(crate) struct FoundImports {
    pub everywhere: Aliases,
    pub module_level: Aliases,
}

pub(crate) fn find_imports(root: Node, text: &str) -> FoundImports {
    let query = &*IMPORTS_QUERY;
    let capture = |name: &str| query.capture_index_for_name(name);
    let (module_index, name_index, alias_index, star_index) = (
        capture("import.module"),
        capture("import.name"),
        capture("import.alias"),
        capture("import.star"),
    );
    let mut found = FoundImports::default();
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(query, root, text.as_bytes());
    while let Some(found_match) = matches.next() {
        let node_for = |index: Option<u32>| {
            found_match
                .captures()
                .iter()
                .find(|capture| Some(capture.index) == index)
                .map(|capture| capture.node)
        };
        let Some(module_node) = node_for(module_index) else {
            continue;
        };
        let module = dotted(module_node, text);
        let name = node_for(name_index).map(|node| dotted(node, text));
        let alias = node_for(alias_index).and_then(|node| node.utf8_text(text.as_bytes()).ok());
        let mut aliases = Aliases::new();
        if node_for(star_index).is_some() {
            if module == "jellycell.api" {
                aliases.insert_star_import();
            }
        } else {
            bind(&mut aliases, &module, name.as_deref(), alias);
        }
        if aliases.is_empty() {
            continue;
        }
        found.everywhere.extend(&aliases);
        if is_module_level(module_node) {
            found.module_level.extend(&aliases);
        }
    }
    found
}

fn bind(aliases: &mut Aliases, module: &str, name: Option<&str>, alias: Option<&str>) {
    match (module, name) {
        // `import jellycell.api as J`, `import jellycell as J`
        ("jellycell.api", None) => {
            if let Some(alias) = alias {
                aliases.insert_module(alias, JcModule::Api);
            }
        }
        ("jellycell", None) => {
            if let Some(alias) = alias {
                aliases.insert_module(alias, JcModule::Package);
            }
        }
        ("jellycell", Some("api")) => aliases.insert_module(alias.unwrap_or("api"), JcModule::Api),
        // jellycell itself accepts `jellycell.deps`, so the package re-exports count too.
        ("jellycell.api" | "jellycell", Some(name)) => {
            if let Some(function) = JcFunction::from_name(name) {
                aliases.insert_function(alias.unwrap_or(name), function);
            }
        }
        _ => {}
    }
}

/// A dotted name without the whitespace Python allows around its dots.
fn dotted(node: Node, text: &str) -> String {
    node.utf8_text(text.as_bytes())
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

fn is_module_level(node: Node) -> bool {
    let mut current = node.parent();
    while let Some(ancestor) = current {
        if matches!(ancestor.kind(), "function_definition" | "class_definition") {
            return false;
        }
        current = ancestor.parent();
    }
    true
}

/// Names bound at module level, in source order (a name bound twice appears twice).
pub(crate) fn top_level_names(root: Node, text: &str) -> Vec<DefinedName> {
    let mut names = Vec::new();
    collect_statements(root, text, &mut names);
    names
}

fn collect_statements(block: Node, text: &str, names: &mut Vec<DefinedName>) {
    let mut cursor = block.walk();
    for statement in block.named_children(&mut cursor) {
        collect_statement(statement, text, names);
    }
}

fn collect_statement(statement: Node, text: &str, names: &mut Vec<DefinedName>) {
    match statement.kind() {
        "expression_statement" => {
            let mut cursor = statement.walk();
            for child in statement.named_children(&mut cursor) {
                collect_assignment(child, text, names);
            }
        }
        "function_definition" | "class_definition" => {
            if let Some(name) = statement.child_by_field_name("name") {
                push_name(name, text, names);
            }
        }
        "decorated_definition" => {
            if let Some(definition) = statement.child_by_field_name("definition") {
                collect_statement(definition, text, names);
            }
        }
        "type_alias_statement" => {
            if let Some(left) = statement.child_by_field_name("left") {
                collect_targets(left, text, names);
            }
        }
        "import_statement" | "import_from_statement" => {
            let mut cursor = statement.walk();
            for name in statement.children_by_field_name("name", &mut cursor) {
                let bound = match name.kind() {
                    "aliased_import" => name.child_by_field_name("alias"),
                    // `import a.b` binds `a`.
                    _ => name.named_child(0),
                };
                if let Some(bound) = bound {
                    push_name(bound, text, names);
                }
            }
        }
        "for_statement" => {
            if let Some(left) = statement.child_by_field_name("left") {
                collect_targets(left, text, names);
            }
            collect_blocks(statement, text, names);
        }
        "with_statement" => {
            collect_with_targets(statement, text, names);
            collect_blocks(statement, text, names);
        }
        "if_statement" | "while_statement" | "try_statement" | "match_statement" => {
            collect_blocks(statement, text, names);
        }
        _ => {}
    }
}

/// Statements in the blocks of a compound statement (and its clauses) bind at module
/// level too.
fn collect_blocks(statement: Node, text: &str, names: &mut Vec<DefinedName>) {
    let mut cursor = statement.walk();
    for child in statement.named_children(&mut cursor) {
        match child.kind() {
            "block" => collect_statements(child, text, names),
            "elif_clause" | "else_clause" | "except_clause" | "finally_clause" | "case_clause" => {
                collect_blocks(child, text, names)
            }
            _ => {}
        }
    }
}

/// The `as` targets of a `with` header, in order (not its body).
fn collect_with_targets(node: Node, text: &str, names: &mut Vec<DefinedName>) {
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        match child.kind() {
            "as_pattern_target" => collect_targets(child, text, names),
            "block" => {}
            _ => collect_with_targets(child, text, names),
        }
    }
}

fn collect_assignment(node: Node, text: &str, names: &mut Vec<DefinedName>) {
    if !matches!(node.kind(), "assignment" | "augmented_assignment") {
        return;
    }
    if let Some(left) = node.child_by_field_name("left") {
        collect_targets(left, text, names);
    }
    // `a = b = 1` nests the second assignment on the right.
    if let Some(right) = node.child_by_field_name("right") {
        collect_assignment(right, text, names);
    }
}

fn collect_targets(target: Node, text: &str, names: &mut Vec<DefinedName>) {
    match target.kind() {
        "identifier" => push_name(target, text, names),
        "pattern_list"
        | "tuple_pattern"
        | "list_pattern"
        | "tuple"
        | "list"
        | "as_pattern_target"
        | "type"
        | "list_splat_pattern"
        | "parenthesized_expression" => {
            let mut cursor = target.walk();
            for child in target.named_children(&mut cursor) {
                collect_targets(child, text, names);
            }
        }
        _ => {}
    }
}

fn push_name(node: Node, text: &str, names: &mut Vec<DefinedName>) {
    if let Ok(name) = node.utf8_text(text.as_bytes()) {
        names.push(DefinedName {
            name: name.to_string(),
            span: Span::new(node.start_byte(), node.end_byte()),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Aliases, JcFunction, JcModule, analyze_cell};
    use super::IMPORTS_QUERY;

    fn defined(source: &str) -> Aliases {
        analyze_cell(source, &Aliases::new()).aliases_defined
    }

    #[test]
    fn imports_query_compiles_with_only_built_in_predicates() {
        for pattern in 0..IMPORTS_QUERY.pattern_count() {
            assert!(IMPORTS_QUERY.general_predicates(pattern).is_empty());
        }
    }

    #[test]
    fn import_api_as_defines_a_module_alias() {
        assert_eq!(
            defined("import jellycell.api as J\n").module("J"),
            Some(JcModule::Api)
        );
    }

    #[test]
    fn import_package_as_defines_a_package_alias() {
        assert_eq!(
            defined("import os, jellycell as jcl\n").module("jcl"),
            Some(JcModule::Package)
        );
    }

    #[test]
    fn from_package_import_api_defines_a_module_alias() {
        assert_eq!(
            defined("from jellycell import api as A\n").module("A"),
            Some(JcModule::Api)
        );
        assert_eq!(
            defined("from jellycell import api\n").module("api"),
            Some(JcModule::Api)
        );
    }

    #[test]
    fn from_api_import_defines_function_aliases() {
        let aliases = defined("from jellycell.api import load, save as s, ctx\n");
        assert_eq!(aliases.function("load"), Some(JcFunction::Load));
        assert_eq!(aliases.function("s"), Some(JcFunction::Save));
        assert_eq!(aliases.function("save"), None);
        assert_eq!(aliases.function("ctx"), None);
    }

    #[test]
    fn match_predicate_rejects_other_modules() {
        assert!(
            defined(
                "import jellycellar as J\nfrom jellycell.apix import load\nimport numpy.api as A\n"
            )
            .is_empty()
        );
    }

    #[test]
    fn imports_inside_functions_are_not_passed_on() {
        let source = "def f():\n    import jellycell.api as J\n    J.load('a')\n";
        let analysis = analyze_cell(source, &Aliases::new());
        assert!(analysis.aliases_defined.is_empty());
        assert_eq!(analysis.jc_calls.len(), 1);
    }

    #[test]
    fn imports_inside_try_at_module_level_are_passed_on() {
        let source = "try:\n    import jellycell.api as J\nexcept ImportError:\n    J = None\n";
        assert_eq!(defined(source).module("J"), Some(JcModule::Api));
    }

    #[test]
    fn star_import_is_passed_on() {
        assert!(defined("from jellycell.api import *\n").has_star_import());
    }
}

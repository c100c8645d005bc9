//! Imports that name the jellycell API (`queries/python/imports.scm`).
//!
//! Imports anywhere in the cell count for the cell's own calls (a function-local
//! `import jellycell.api as J` is rare and harmless to honour); only module-level ones
//! (not inside a `def` or `class`) are passed on to later cells.

use std::sync::LazyLock;

use tree_sitter::{Node, Query, QueryCursor, StreamingIterator};

use super::{Aliases, JcFunction, JcModule};

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

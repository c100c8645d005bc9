//! The names a cell binds at module level: assignment targets, `def`, `class`, `type`,
//! imports, `for` and `with` targets, including inside module-level `if`/`try`/`while`/
//! `match` blocks but not inside function or class bodies.
//!
//! Recursion is bounded: a pathological nesting depth (tree-sitter accepts more than
//! CPython does) is cut off rather than allowed to overflow the stack.

use tree_sitter::Node;

use super::DefinedName;
use crate::text::Span;

const MAX_DEPTH: usize = 100;

/// Names bound at module level, in source order (a name bound twice appears twice).
pub(crate) fn top_level_names(root: Node, text: &str) -> Vec<DefinedName> {
    let mut collector = NameCollector {
        text,
        names: Vec::new(),
        depth: 0,
    };
    collector.statements(root);
    collector.names
}

struct NameCollector<'a> {
    text: &'a str,
    names: Vec<DefinedName>,
    depth: usize,
}

impl NameCollector<'_> {
    /// Runs `visit` one level deeper, unless that is too deep.
    fn deeper(&mut self, node: Node, visit: fn(&mut Self, Node)) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        self.depth += 1;
        visit(self, node);
        self.depth -= 1;
    }

    fn statements(&mut self, block: Node) {
        let mut cursor = block.walk();
        let statements: Vec<Node> = block.named_children(&mut cursor).collect();
        for statement in statements {
            self.deeper(statement, Self::statement);
        }
    }

    fn statement(&mut self, statement: Node) {
        match statement.kind() {
            "expression_statement" => {
                let mut cursor = statement.walk();
                let children: Vec<Node> = statement.named_children(&mut cursor).collect();
                for child in children {
                    self.assignment(child);
                }
            }
            "function_definition" | "class_definition" => {
                if let Some(name) = statement.child_by_field_name("name") {
                    self.push(name);
                }
            }
            "decorated_definition" => {
                if let Some(definition) = statement.child_by_field_name("definition") {
                    self.deeper(definition, Self::statement);
                }
            }
            "type_alias_statement" => {
                if let Some(left) = statement.child_by_field_name("left") {
                    self.deeper(left, Self::targets);
                }
            }
            "import_statement" | "import_from_statement" => {
                let mut cursor = statement.walk();
                let imported: Vec<Node> = statement
                    .children_by_field_name("name", &mut cursor)
                    .collect();
                for name in imported {
                    let bound = match name.kind() {
                        "aliased_import" => name.child_by_field_name("alias"),
                        // `import a.b` binds `a`.
                        _ => name.named_child(0),
                    };
                    if let Some(bound) = bound {
                        self.push(bound);
                    }
                }
            }
            "for_statement" => {
                if let Some(left) = statement.child_by_field_name("left") {
                    self.deeper(left, Self::targets);
                }
                self.blocks(statement);
            }
            "with_statement" => {
                self.deeper(statement, Self::with_targets);
                self.blocks(statement);
            }
            "if_statement" | "while_statement" | "try_statement" | "match_statement" => {
                self.blocks(statement);
            }
            _ => {}
        }
    }

    /// Statements in the blocks of a compound statement (and its clauses) bind at
    /// module level too.
    fn blocks(&mut self, statement: Node) {
        let mut cursor = statement.walk();
        let children: Vec<Node> = statement.named_children(&mut cursor).collect();
        for child in children {
            match child.kind() {
                "block" => self.deeper(child, Self::statements),
                "elif_clause" | "else_clause" | "except_clause" | "finally_clause"
                | "case_clause" => self.deeper(child, Self::blocks),
                _ => {}
            }
        }
    }

    /// The `as` targets of a `with` header, in order (not its body).
    fn with_targets(&mut self, node: Node) {
        let mut cursor = node.walk();
        let children: Vec<Node> = node.named_children(&mut cursor).collect();
        for child in children {
            match child.kind() {
                "as_pattern_target" => self.deeper(child, Self::targets),
                "block" => {}
                _ => self.deeper(child, Self::with_targets),
            }
        }
    }

    /// `a = b = 1` nests the second assignment on the right: walk the chain in a loop.
    fn assignment(&mut self, node: Node) {
        let mut current = Some(node);
        while let Some(assignment) =
            current.filter(|node| matches!(node.kind(), "assignment" | "augmented_assignment"))
        {
            if let Some(left) = assignment.child_by_field_name("left") {
                self.deeper(left, Self::targets);
            }
            current = assignment.child_by_field_name("right");
        }
    }

    fn targets(&mut self, target: Node) {
        match target.kind() {
            "identifier" => self.push(target),
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
                let children: Vec<Node> = target.named_children(&mut cursor).collect();
                for child in children {
                    self.deeper(child, Self::targets);
                }
            }
            _ => {}
        }
    }

    fn push(&mut self, node: Node) {
        if let Some(name) = self.text.get(node.start_byte()..node.end_byte()) {
            self.names.push(DefinedName {
                name: name.to_string(),
                span: Span::new(node.start_byte(), node.end_byte()),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Aliases, analyze_cell, top_level_names};

    #[test]
    fn a_clean_cell_has_no_errors_and_lists_its_names() {
        let source = "import pandas as pd\ndf = pd.DataFrame()\ndef f(): pass\n";
        let analysis = analyze_cell(source, &Aliases::new());
        assert!(analysis.syntax_errors.is_empty());
        let names = top_level_names(source);
        let names: Vec<&str> = names.iter().map(|name| name.name.as_str()).collect();
        assert_eq!(names, ["pd", "df", "f"]);
    }

    #[test]
    fn top_level_names_skip_function_bodies_but_enter_blocks() {
        let source = r#"
def f():
    inner = 1
if x:
    a, (b, *c) = 1, (2, 3)
else:
    d: int = 4
for i in y:
    pass
with open(p) as fh, g() as (u, v):
    pass
try:
    import numpy as np
except ImportError:
    from os import path
class K[T]:
    attribute = 1
type Alias = int
e = f2 = 0
n += 1
"#;
        let names: Vec<String> = top_level_names(source)
            .into_iter()
            .map(|name| name.name)
            .collect();
        assert_eq!(
            names,
            [
                "f", "a", "b", "c", "d", "i", "fh", "u", "v", "np", "path", "K", "Alias", "e",
                "f2", "n"
            ]
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let depth = 5000;
        let source = format!("{}a{} = 1\n", "(".repeat(depth), ")".repeat(depth));
        let chain = format!("{}1\n", "a = ".repeat(depth));
        let _ = analyze_cell(&source, &Aliases::new());
        assert_eq!(top_level_names(&chain).len(), depth);
    }
}

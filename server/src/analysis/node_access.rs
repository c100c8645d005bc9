//! Cheap access to tree-sitter-python nodes for the analysis walks, which visit every
//! node of every cell: a node's kind from a table (`Node::kind` measures and UTF-8-checks
//! the grammar's C string on every call), fields by id (`child_by_field_name` compares
//! the name with the grammar's field names one by one), and named children gathered by
//! index (or, for a wide node, one reused cursor) into reused lists
//! (`Node::named_children` allocates a cursor and a list each time).

use std::sync::LazyLock;

use tree_sitter::{Language, Node};

use super::py_node::PyNode;

fn language() -> Language {
    tree_sitter_python::LANGUAGE.into()
}

static KINDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let language = language();
    (0..language.node_kind_count())
        .map(|id| {
            u16::try_from(id)
                .ok()
                .and_then(|id| language.node_kind_for_id(id))
                .unwrap_or("")
                .to_string()
        })
        .collect()
});

/// `node.kind()`, without the C string conversion.
pub(crate) fn kind<'t>(node: Node<'t>) -> &'t str {
    match KINDS.get(usize::from(node.kind_id())) {
        Some(kind) if !kind.is_empty() => kind.as_str(),
        // `ERROR` (an id past the table) and any id the grammar does not name.
        _ => Node::kind(&node),
    }
}

/// The field ids of tree-sitter-python the walks read (0, no field, if a grammar lacked
/// one: `child_by_field_id(0)` finds nothing, as `child_by_field_name` would).
pub(crate) struct Fields {
    pub(crate) alias: u16,
    pub(crate) alternative: u16,
    pub(crate) argument: u16,
    pub(crate) arguments: u16,
    pub(crate) attribute: u16,
    pub(crate) body: u16,
    pub(crate) condition: u16,
    pub(crate) consequence: u16,
    pub(crate) definition: u16,
    pub(crate) expression: u16,
    pub(crate) function: u16,
    pub(crate) key: u16,
    pub(crate) left: u16,
    pub(crate) module_name: u16,
    pub(crate) name: u16,
    pub(crate) object: u16,
    pub(crate) parameters: u16,
    pub(crate) return_type: u16,
    pub(crate) right: u16,
    pub(crate) subject: u16,
    pub(crate) subscript: u16,
    pub(crate) superclasses: u16,
    pub(crate) type_: u16,
    pub(crate) value: u16,
}

pub(crate) static FIELDS: LazyLock<Fields> = LazyLock::new(|| {
    let language = language();
    let id = |name: &str| language.field_id_for_name(name).map_or(0, |id| id.get());
    Fields {
        alias: id("alias"),
        alternative: id("alternative"),
        argument: id("argument"),
        arguments: id("arguments"),
        attribute: id("attribute"),
        body: id("body"),
        condition: id("condition"),
        consequence: id("consequence"),
        definition: id("definition"),
        expression: id("expression"),
        function: id("function"),
        key: id("key"),
        left: id("left"),
        module_name: id("module_name"),
        name: id("name"),
        object: id("object"),
        parameters: id("parameters"),
        return_type: id("return_type"),
        right: id("right"),
        subject: id("subject"),
        subscript: id("subscript"),
        superclasses: id("superclasses"),
        type_: id("type"),
        value: id("value"),
    }
});

/// One cursor and a pool of node lists, reused for every node of a walk.
pub(crate) struct Children<'t, N: PyNode<'t> = Node<'t>> {
    cursor: N::Cursor,
    pool: Vec<Vec<N>>,
}

impl<'t, N: PyNode<'t>> Default for Children<'t, N> {
    fn default() -> Self {
        Children {
            cursor: N::Cursor::default(),
            pool: Vec::new(),
        }
    }
}

impl<'t, N: PyNode<'t>> Children<'t, N> {
    /// `node`'s named children in order (as `Node::named_children`); give the list back
    /// with [`Children::recycle`] when done.
    pub(crate) fn named(&mut self, node: N) -> Vec<N> {
        let mut list = self.pool.pop().unwrap_or_default();
        node.push_named(&mut self.cursor, &mut list);
        list
    }

    /// Every child of `node` in order (as `Node::children`).
    pub(crate) fn all(&mut self, node: N) -> Vec<N> {
        let mut list = self.pool.pop().unwrap_or_default();
        node.push_all(&mut self.cursor, &mut list);
        list
    }

    /// `node`'s children of field `field` in order (as `Node::children_by_field_id`).
    pub(crate) fn by_field(&mut self, node: N, field: u16) -> Vec<N> {
        let mut list = self.pool.pop().unwrap_or_default();
        node.push_by_field(&mut self.cursor, field, &mut list);
        list
    }

    pub(crate) fn recycle(&mut self, mut list: Vec<N>) {
        list.clear();
        self.pool.push(list);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::parse::parse_python;
    use crate::analysis::py_node::BY_INDEX_UP_TO;

    const SOURCE: &str = "import a.b as c\nfor x, *y in z:\n    f(x, key=1)  # note\nelse:\n    pass\nclass K(B):\n    def m(self, p=1) -> int:\n        return {k: v for k, v in p}\nx = (\n";

    fn every_node(root: Node) -> Vec<Node> {
        let mut nodes = Vec::new();
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            nodes.push(node);
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
        }
        nodes
    }

    #[test]
    fn kinds_match_the_grammar_names_on_every_node() {
        let tree = parse_python(SOURCE).expect("parse");
        for node in every_node(tree.root_node()) {
            assert_eq!(kind(node), Node::kind(&node), "{node:?}");
        }
    }

    #[test]
    fn gathered_children_match_tree_sitters_own_on_every_node() {
        gathered_children_match_on(SOURCE);
    }

    /// Nodes wider than `BY_INDEX_UP_TO` (taken with the cursor) beside narrow ones (by
    /// index), with comments (named extras) and errors among the children.
    #[test]
    fn wide_and_narrow_nodes_gather_the_same_children() {
        let mut source = String::from("values = [\n");
        for index in 0..20 {
            source.push_str(&format!("    {index},  # item {index}\n"));
        }
        source.push_str("]\n");
        for index in 0..12 {
            source.push_str(&format!("f{index}(a, b=1, *c, **d)  # call\n"));
        }
        source.push_str("g(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, x=)\nclass C(A, B):\n    pass\n");
        let tree = parse_python(&source).expect("parse");
        let widths: Vec<usize> = every_node(tree.root_node())
            .iter()
            .map(|node| node.named_child_count())
            .collect();
        assert!(widths.iter().any(|width| *width > BY_INDEX_UP_TO));
        assert!(
            widths
                .iter()
                .any(|width| (2..=BY_INDEX_UP_TO).contains(width))
        );
        gathered_children_match_on(&source);
    }

    fn gathered_children_match_on(source: &str) {
        let tree = parse_python(source).expect("parse");
        let mut children: Children = Children::default();
        let fields = &*FIELDS;
        for node in every_node(tree.root_node()) {
            let mut cursor = node.walk();
            let named = children.named(node);
            assert_eq!(named, node.named_children(&mut cursor).collect::<Vec<_>>());
            children.recycle(named);
            let all = children.all(node);
            assert_eq!(all, node.children(&mut cursor).collect::<Vec<_>>());
            children.recycle(all);
            for (field, name) in [(fields.name, "name"), (fields.alternative, "alternative")] {
                let found = children.by_field(node, field);
                assert_eq!(
                    found,
                    node.children_by_field_name(name, &mut cursor)
                        .collect::<Vec<_>>()
                );
                children.recycle(found);
            }
            for (field, name) in [
                (fields.left, "left"),
                (fields.body, "body"),
                (fields.alias, "alias"),
                (fields.type_, "type"),
                (fields.value, "value"),
            ] {
                assert_eq!(
                    node.child_by_field_id(field),
                    node.child_by_field_name(name)
                );
            }
        }
    }
}

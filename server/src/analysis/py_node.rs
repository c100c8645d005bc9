//! A node of a Python syntax tree, as the analysis walks read it: implemented for
//! tree-sitter's nodes and for the fast parser's (`fast_tree`), so that one walk serves
//! both trees.
//!
//! The methods are named and typed as tree-sitter's own, with the same meaning. Generic
//! code sees only these; code on a concrete `tree_sitter::Node` still calls the inherent
//! methods (same answers; `kind` there is the slower C-string one).

use std::fmt::Debug;

use tree_sitter::{Node, TreeCursor};

use super::node_access;

pub(crate) trait PyNode<'t>: Copy + PartialEq + Debug + 't {
    /// What a walk keeps between calls to gather children (tree-sitter: one cursor).
    type Cursor: Default;

    /// tree-sitter-python's name for the node's kind (`"call"`, `"identifier"`, ...).
    fn kind(self) -> &'t str;
    fn start_byte(self) -> usize;
    fn end_byte(self) -> usize;
    fn is_named(self) -> bool;
    fn is_error(self) -> bool;
    fn is_missing(self) -> bool;
    fn has_error(self) -> bool;
    fn parent(self) -> Option<Self>;
    fn child_by_field_id(self, field: u16) -> Option<Self>;
    fn named_child(self, index: u32) -> Option<Self>;
    /// The smallest node spanning `start..end` (as tree-sitter's, anonymous ones included).
    fn descendant_for_byte_range(self, start: usize, end: usize) -> Option<Self>;
    /// Appends the named children, in order.
    fn push_named(self, cursor: &mut Self::Cursor, list: &mut Vec<Self>);
    /// Appends every child, in order.
    fn push_all(self, cursor: &mut Self::Cursor, list: &mut Vec<Self>);
    /// Appends the children of field `field`, in order.
    fn push_by_field(self, cursor: &mut Self::Cursor, field: u16, list: &mut Vec<Self>);
}

/// Up to this many children, a node's children are taken by index: `Node::child(i)` walks
/// the node's children array from the start, so a few children cost a third of the
/// cursor's sibling steps (measured over the bench notebooks' cells); a wider node (a long
/// list literal, a big module) takes the cursor, linear where indexing is quadratic.
pub(crate) const BY_INDEX_UP_TO: usize = 8;

impl<'t> PyNode<'t> for Node<'t> {
    type Cursor = Option<TreeCursor<'t>>;

    fn kind(self) -> &'t str {
        node_access::kind(self)
    }
    fn start_byte(self) -> usize {
        Node::start_byte(&self)
    }
    fn end_byte(self) -> usize {
        Node::end_byte(&self)
    }
    fn is_named(self) -> bool {
        Node::is_named(&self)
    }
    fn is_error(self) -> bool {
        Node::is_error(&self)
    }
    fn is_missing(self) -> bool {
        Node::is_missing(&self)
    }
    fn has_error(self) -> bool {
        Node::has_error(&self)
    }
    fn parent(self) -> Option<Self> {
        Node::parent(&self)
    }
    fn child_by_field_id(self, field: u16) -> Option<Self> {
        Node::child_by_field_id(&self, field)
    }
    fn named_child(self, index: u32) -> Option<Self> {
        Node::named_child(&self, index)
    }
    fn descendant_for_byte_range(self, start: usize, end: usize) -> Option<Self> {
        Node::descendant_for_byte_range(&self, start, end)
    }
    fn push_named(self, cursor: &mut Self::Cursor, list: &mut Vec<Self>) {
        let count = Node::named_child_count(&self);
        if count > BY_INDEX_UP_TO {
            gather(self, cursor, list, |_, child| Node::is_named(&child));
        } else {
            list.extend((0..count as u32).filter_map(|index| Node::named_child(&self, index)));
        }
    }
    fn push_all(self, cursor: &mut Self::Cursor, list: &mut Vec<Self>) {
        let count = Node::child_count(&self);
        if count as usize > BY_INDEX_UP_TO {
            gather(self, cursor, list, |_, _| true);
        } else {
            list.extend((0..count).filter_map(|index| Node::child(&self, index)));
        }
    }
    fn push_by_field(self, cursor: &mut Self::Cursor, field: u16, list: &mut Vec<Self>) {
        gather(self, cursor, list, |cursor, _| {
            cursor.field_id().is_some_and(|id| id.get() == field)
        });
    }
}

fn gather<'t>(
    node: Node<'t>,
    slot: &mut Option<TreeCursor<'t>>,
    list: &mut Vec<Node<'t>>,
    keep: impl Fn(&TreeCursor<'t>, Node<'t>) -> bool,
) {
    let cursor = match slot {
        Some(cursor) => {
            cursor.reset(node);
            cursor
        }
        None => slot.insert(node.walk()),
    };
    if cursor.goto_first_child() {
        loop {
            let child = cursor.node();
            if keep(cursor, child) {
                list.push(child);
            }
            if !cursor.goto_next_sibling() {
                break;
            }
        }
    }
}

/// `node`'s named children in a new list (for the walks that do not reuse lists).
pub(crate) fn named_children<'t, N: PyNode<'t>>(node: N) -> Vec<N> {
    let mut list = Vec::new();
    node.push_named(&mut N::Cursor::default(), &mut list);
    list
}

/// `node`'s children in a new list.
pub(crate) fn all_children<'t, N: PyNode<'t>>(node: N) -> Vec<N> {
    let mut list = Vec::new();
    node.push_all(&mut N::Cursor::default(), &mut list);
    list
}

/// `node`'s children of field `field` in a new list.
pub(crate) fn field_children<'t, N: PyNode<'t>>(node: N, field: u16) -> Vec<N> {
    let mut list = Vec::new();
    node.push_by_field(&mut N::Cursor::default(), field, &mut list);
    list
}

/// `node.kind()` through the trait (a free function, as `node_access::kind` is).
pub(crate) fn kind<'t, N: PyNode<'t>>(node: N) -> &'t str {
    node.kind()
}

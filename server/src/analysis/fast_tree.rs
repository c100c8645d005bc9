//! The fast parser's syntax tree: an arena of named nodes with tree-sitter-python's kinds,
//! fields and byte ranges, read through [`PyNode`] by the same walks as tree-sitter's.
//!
//! Only named nodes are kept (no walk reads an anonymous token), and the tree never holds
//! an error: the fast parser declines text it cannot parse exactly as tree-sitter does.

use super::fast_lex::Extra;
use super::py_node::PyNode;

const NO_PARENT: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct NodeData {
    kind: &'static str,
    start: u32,
    end: u32,
    parent: u32,
    /// The field this node has in its parent (0: none).
    field: u16,
    children_start: u32,
    children_len: u32,
}

/// A parsed cell: nodes in an arena, each node's children a run of `children`.
#[derive(Debug, Default)]
pub(crate) struct FastTree {
    nodes: Vec<NodeData>,
    children: Vec<u32>,
    root: u32,
}

impl FastTree {
    pub(crate) fn with_capacity(nodes: usize) -> FastTree {
        FastTree {
            nodes: Vec::with_capacity(nodes),
            children: Vec::with_capacity(nodes),
            root: 0,
        }
    }

    /// Adds a node whose children are `children` (with their fields), in order.
    pub(crate) fn push(
        &mut self,
        kind: &'static str,
        start: usize,
        end: usize,
        children: &[(u32, u16)],
    ) -> u32 {
        let index = self.nodes.len() as u32;
        let children_start = self.children.len() as u32;
        for &(child, field) in children {
            let data = &mut self.nodes[child as usize];
            data.parent = index;
            data.field = field;
            self.children.push(child);
        }
        self.nodes.push(NodeData {
            kind,
            start: start as u32,
            end: end as u32,
            parent: NO_PARENT,
            field: 0,
            children_start,
            children_len: children.len() as u32,
        });
        index
    }

    pub(crate) fn set_kind(&mut self, node: u32, kind: &'static str) {
        self.nodes[node as usize].kind = kind;
    }

    pub(crate) fn kind_of(&self, node: u32) -> &'static str {
        self.nodes[node as usize].kind
    }

    pub(crate) fn range_of(&self, node: u32) -> (usize, usize) {
        let data = &self.nodes[node as usize];
        (data.start as usize, data.end as usize)
    }

    pub(crate) fn children_of(&self, node: u32) -> &[u32] {
        let data = &self.nodes[node as usize];
        let start = data.children_start as usize;
        &self.children[start..start + data.children_len as usize]
    }

    pub(crate) fn set_root(&mut self, node: u32) {
        self.root = node;
    }

    /// Puts each comment and line continuation (in text order) where tree-sitter does:
    /// among the children of the deepest node with a token before it and one after it;
    /// but one after the end of a block (or of blocks nested at their ends), before the
    /// dedent, goes into the innermost of those blocks that its indentation (and that
    /// of the comments before it since the code) does not close, or, at the end of a
    /// line of code, the innermost one; the block and the nodes that end with it then
    /// end with the comment.
    pub(crate) fn place_extras(&mut self, extras: &[Extra], text: &str) -> Option<()> {
        // The innermost column the comments since the last code line allow.
        let mut run_column = usize::MAX;
        let mut run_after = None;
        for extra in extras {
            let (start, end) = (extra.start as usize, extra.end as usize);
            let line_start = text[..start].rfind('\n').map_or(0, |at| at + 1);
            let trailing = !text[line_start..start].bytes().all(|byte| byte == b' ');
            let container = self.container_of(extra.start);
            // The child the extra follows, and the blocks ending with it.
            let before = self
                .children_of(container)
                .iter()
                .copied()
                .take_while(|&child| self.nodes[child as usize].start < extra.start)
                .last();
            // Where tree-sitter puts these is not modelled here.
            if matches!(self.nodes[container as usize].kind, "concatenated_string") {
                return None;
            }
            let mut target = container;
            if let Some(before) = before {
                if Some(before) != run_after || trailing {
                    run_column = usize::MAX;
                }
                run_after = Some(before);
                if !trailing {
                    run_column = run_column.min(start - line_start);
                }
                let end_before = self.nodes[before as usize].end;
                let mut chain = vec![before];
                while let Some(&last) = self.children_of(*chain.last()?).last() {
                    if self.nodes[last as usize].end != end_before {
                        break;
                    }
                    chain.push(last);
                }
                let mut chosen = None;
                for (index, &node) in chain.iter().enumerate() {
                    if self.nodes[node as usize].kind != "block" {
                        continue;
                    }
                    let block_start = self.nodes[node as usize].start as usize;
                    let block_line = text[..block_start].rfind('\n').map_or(0, |at| at + 1);
                    if block_start - block_line > run_column {
                        break;
                    }
                    chosen = Some(index);
                }
                if let Some(index) = chosen {
                    target = chain[index];
                    for &node in &chain[..=index] {
                        self.nodes[node as usize].end = extra.end;
                    }
                }
            }
            let node = self.push(extra.kind, start, end, &[]);
            self.nodes[node as usize].parent = target;
            let mut merged: Vec<u32> = self.children_of(target).to_vec();
            let at = merged
                .iter()
                .position(|&child| self.nodes[child as usize].start > extra.start)
                .unwrap_or(merged.len());
            merged.insert(at, node);
            let data = &mut self.nodes[target as usize];
            data.children_start = self.children.len() as u32;
            data.children_len = merged.len() as u32;
            self.children.extend(merged);
        }
        let root = self.root as usize;
        if let Some(&first) = self.children_of(self.root).first() {
            let start = self.nodes[first as usize].start;
            self.nodes[root].start = self.nodes[root].start.min(start);
        }
        Some(())
    }

    fn strictly_inside(&self, node: u32, at: u32) -> bool {
        let data = &self.nodes[node as usize];
        data.start < at && at < data.end
    }

    fn container_of(&self, at: u32) -> u32 {
        let mut node = self.root;
        'descend: loop {
            for &child in self.children_of(node) {
                if self.strictly_inside(child, at) {
                    node = child;
                    continue 'descend;
                }
            }
            return node;
        }
    }

    pub(crate) fn root_node(&self) -> FastNode<'_> {
        FastNode {
            tree: self,
            index: self.root,
        }
    }
}

/// A node of a [`FastTree`].
#[derive(Clone, Copy)]
pub(crate) struct FastNode<'t> {
    tree: &'t FastTree,
    index: u32,
}

impl PartialEq for FastNode<'_> {
    fn eq(&self, other: &FastNode<'_>) -> bool {
        std::ptr::eq(self.tree, other.tree) && self.index == other.index
    }
}

impl std::fmt::Debug for FastNode<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (start, end) = self.tree.range_of(self.index);
        write!(formatter, "{{{} {start}..{end}}}", self.data().kind)
    }
}

impl<'t> FastNode<'t> {
    fn data(self) -> &'t NodeData {
        &self.tree.nodes[self.index as usize]
    }

    fn at(self, index: u32) -> FastNode<'t> {
        FastNode {
            tree: self.tree,
            index,
        }
    }

    fn child_indices(self) -> &'t [u32] {
        self.tree.children_of(self.index)
    }

    /// The field this node has in its parent (0: none).
    pub(crate) fn field(self) -> u16 {
        self.data().field
    }

    /// The children, in order (all named).
    pub(crate) fn child_nodes(self) -> impl Iterator<Item = FastNode<'t>> {
        self.child_indices()
            .iter()
            .map(move |&index| self.at(index))
    }
}

impl<'t> PyNode<'t> for FastNode<'t> {
    type Cursor = ();

    fn kind(self) -> &'t str {
        self.data().kind
    }
    fn start_byte(self) -> usize {
        self.data().start as usize
    }
    fn end_byte(self) -> usize {
        self.data().end as usize
    }
    fn is_named(self) -> bool {
        true
    }
    fn is_error(self) -> bool {
        false
    }
    fn is_missing(self) -> bool {
        false
    }
    fn has_error(self) -> bool {
        false
    }
    fn parent(self) -> Option<Self> {
        let parent = self.data().parent;
        (parent != NO_PARENT).then(|| self.at(parent))
    }
    fn child_by_field_id(self, field: u16) -> Option<Self> {
        if field == 0 {
            return None;
        }
        self.child_indices()
            .iter()
            .find(|&&child| self.tree.nodes[child as usize].field == field)
            .map(|&child| self.at(child))
    }
    fn named_child(self, index: u32) -> Option<Self> {
        self.child_indices()
            .get(index as usize)
            .map(|&child| self.at(child))
    }
    fn descendant_for_byte_range(self, start: usize, end: usize) -> Option<Self> {
        // As tree-sitter: descend into the first child that reaches past `start` and to
        // `end`, while one starts at or before `start`.
        let mut node = self;
        'descend: loop {
            for &child in node.child_indices() {
                let data = &self.tree.nodes[child as usize];
                let (child_start, child_end) = (data.start as usize, data.end as usize);
                if child_end < end || (child_end <= start && child_start != child_end) {
                    continue;
                }
                if start < child_start {
                    break;
                }
                node = node.at(child);
                continue 'descend;
            }
            return Some(node);
        }
    }
    fn push_named(self, _: &mut (), list: &mut Vec<Self>) {
        list.extend(self.child_nodes());
    }
    fn push_all(self, _: &mut (), list: &mut Vec<Self>) {
        list.extend(self.child_nodes());
    }
    fn push_by_field(self, _: &mut (), field: u16, list: &mut Vec<Self>) {
        list.extend(self.child_nodes().filter(|child| child.field() == field));
    }
}

//! A recursive-descent parser for the common subset of Python, building the tree
//! tree-sitter-python 0.25 builds for the same text (named nodes only): same kinds,
//! fields, nesting and byte ranges.
//!
//! The subset: expression statements, assignments (chained, annotated, augmented, tuple
//! and list targets), `import`/`from ... import`, `def` (plain, default, typed,
//! `*args`/`**kwargs` parameters), `class`, `return`, `if`/`elif`/`else`, `for`, `while`,
//! `pass`/`break`/`continue`; calls with keyword and splat arguments, attributes,
//! subscripts and slices, literals, lists/tuples/dicts/sets, comprehensions, generator
//! expressions, f-strings, unary/binary/comparison/boolean operators, conditional
//! expressions. Anything else (`try`, `with`, decorators, `lambda`, `match`, `async`,
//! `yield`, `:=`, star targets, `global`, `del`, `raise`, `assert`, semicolons, a
//! statement on its block's header line, ...) returns `None`: the caller parses with
//! tree-sitter. The parser only accepts text tree-sitter parses without errors.

use super::fast_lex::{Token, TokenKind, tokenize};
use super::fast_tree::FastTree;
use super::node_access::FIELDS;

/// The tree of `text`, or `None` if it is not all in the subset.
pub(crate) fn parse_fast(text: &str) -> Option<FastTree> {
    let (tokens, extras) = tokenize(text)?;
    let mut parser = Parser {
        text,
        tree: FastTree::with_capacity(tokens.len()),
        tokens,
        at: 0,
        scratch: Vec::with_capacity(64),
        depth: 0,
    };
    let root = parser.module()?;
    parser.tree.set_root(root);
    parser.tree.place_extras(&extras, text)?;
    Some(parser.tree)
}

const KEYWORDS: [&str; 35] = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Soft keywords tree-sitter-python may read as a statement's keyword at its start.
const SOFT_KEYWORDS: [&str; 3] = ["match", "type", "case"];

/// Python 2 statements tree-sitter-python still knows: a call only when `(` follows.
const PYTHON2_STATEMENTS: [&str; 2] = ["print", "exec"];

/// Recursion bound (statements and expressions nested): deeper text goes to tree-sitter.
const MAX_DEPTH: usize = 100;

struct Parser<'s> {
    text: &'s str,
    tokens: Vec<Token>,
    at: usize,
    tree: FastTree,
    /// The children of the nodes being built, each node's above its mark.
    scratch: Vec<(u32, u16)>,
    depth: usize,
}

impl<'s> Parser<'s> {
    fn token(&self) -> Token {
        self.tokens[self.at]
    }

    fn kind(&self) -> TokenKind {
        self.tokens[self.at].kind
    }

    fn text_of(&self, token: Token) -> &'s str {
        &self.text[token.start as usize..token.end as usize]
    }

    /// The current token's text if it is an operator or a name.
    fn current(&self) -> &'s str {
        let token = self.token();
        match token.kind {
            TokenKind::Operator | TokenKind::Name => self.text_of(token),
            _ => "",
        }
    }

    fn is(&self, text: &str) -> bool {
        self.current() == text
    }

    fn peek_is(&self, offset: usize, text: &str) -> bool {
        self.tokens.get(self.at + offset).is_some_and(|token| {
            matches!(token.kind, TokenKind::Operator | TokenKind::Name)
                && self.text_of(*token) == text
        })
    }

    fn eat(&mut self, text: &str) -> Option<Token> {
        if self.is(text) {
            let token = self.token();
            self.at += 1;
            Some(token)
        } else {
            None
        }
    }

    fn expect(&mut self, text: &str) -> Option<Token> {
        self.eat(text)
    }

    fn expect_kind(&mut self, kind: TokenKind) -> Option<Token> {
        let token = self.token();
        if token.kind == kind {
            self.at += 1;
            Some(token)
        } else {
            None
        }
    }

    /// The end of the last token taken.
    fn last_end(&self) -> usize {
        self.tokens[self.at - 1].end as usize
    }

    fn mark(&self) -> usize {
        self.scratch.len()
    }

    fn child(&mut self, node: u32, field: u16) {
        self.scratch.push((node, field));
    }

    /// A node of `kind` over `start..end` with the children pushed since `mark`.
    fn finish(&mut self, kind: &'static str, start: usize, end: usize, mark: usize) -> u32 {
        let node = self.tree.push(kind, start, end, &self.scratch[mark..]);
        self.scratch.truncate(mark);
        node
    }

    fn leaf(&mut self, kind: &'static str, token: Token) -> u32 {
        self.tree
            .push(kind, token.start as usize, token.end as usize, &[])
    }

    fn range(&self, node: u32) -> (usize, usize) {
        self.tree.range_of(node)
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth < MAX_DEPTH).then_some(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn identifier(&mut self) -> Option<u32> {
        let token = self.token();
        if token.kind != TokenKind::Name || KEYWORDS.contains(&self.text_of(token)) {
            return None;
        }
        self.at += 1;
        Some(self.leaf("identifier", token))
    }

    // ----- statements -----

    fn module(&mut self) -> Option<u32> {
        let mark = self.mark();
        while self.kind() != TokenKind::End {
            let statement = self.statement()?;
            self.child(statement, 0);
        }
        // tree-sitter's module runs from its first statement to the end of the text.
        let end = self.text.len();
        let start = self.scratch[mark..]
            .first()
            .map_or(end, |&(first, _)| self.range(first).0);
        Some(self.finish("module", start, end, mark))
    }

    fn block(&mut self) -> Option<u32> {
        self.expect_kind(TokenKind::Newline)?;
        self.expect_kind(TokenKind::Indent)?;
        let mark = self.mark();
        while self.kind() != TokenKind::Dedent {
            let statement = self.statement()?;
            self.child(statement, 0);
        }
        self.at += 1;
        let first = self.scratch.get(mark)?.0;
        let last = self.scratch.last()?.0;
        let (start, end) = (self.range(first).0, self.range(last).1);
        Some(self.finish("block", start, end, mark))
    }

    fn statement(&mut self) -> Option<u32> {
        self.enter()?;
        let statement = self.statement_inner();
        self.leave();
        statement
    }

    fn statement_inner(&mut self) -> Option<u32> {
        let first = self.token();
        if first.kind == TokenKind::Name {
            let word = self.text_of(first);
            if SOFT_KEYWORDS.contains(&word)
                || (PYTHON2_STATEMENTS.contains(&word) && !self.peek_is(1, "("))
            {
                return None;
            }
        }
        let start = first.start as usize;
        let statement = match self.current() {
            "if" => return self.if_statement(),
            "for" => return self.for_statement(),
            "while" => return self.while_statement(),
            "def" => return self.function_definition(),
            "class" => return self.class_definition(),
            "pass" | "break" | "continue" => {
                let kind = match self.current() {
                    "pass" => "pass_statement",
                    "break" => "break_statement",
                    _ => "continue_statement",
                };
                self.at += 1;
                self.tree.push(kind, start, self.last_end(), &[])
            }
            "return" => {
                self.at += 1;
                let mark = self.mark();
                if self.kind() != TokenKind::Newline {
                    let value = self.expression_list()?;
                    self.child(value, 0);
                }
                let end = self.last_end();
                self.finish("return_statement", start, end, mark)
            }
            "import" => self.import_statement()?,
            "from" => self.import_from_statement()?,
            _ => self.expression_statement()?,
        };
        self.expect_kind(TokenKind::Newline)?;
        Some(statement)
    }

    fn expression_statement(&mut self) -> Option<u32> {
        let start = self.token().start as usize;
        let mark = self.mark();
        let (items, list_end) = self.comma_items()?;
        let operator = self.current();
        if operator == "=" {
            let left = self.items_as_pattern(&items, start, list_end)?;
            let assignment = self.assignment_rest(left, start)?;
            self.child(assignment, 0);
        } else if operator == ":" {
            let [left] = items[..] else { return None };
            target_kind(self.tree.kind_of(left))?;
            self.at += 1;
            let type_ = self.type_node()?;
            let assignment_mark = self.mark();
            self.child(left, FIELDS.left);
            self.child(type_, FIELDS.type_);
            if self.eat("=").is_some() {
                let right = self.right_side()?;
                self.child(right, FIELDS.right);
            }
            let end = self.last_end();
            let assignment = self.finish("assignment", start, end, assignment_mark);
            self.child(assignment, 0);
        } else if AUGMENTED.contains(&operator) {
            let [left] = items[..] else { return None };
            target_kind(self.tree.kind_of(left))?;
            self.at += 1;
            let right = self.right_side()?;
            let augmented_mark = self.mark();
            self.child(left, FIELDS.left);
            self.child(right, FIELDS.right);
            let end = self.last_end();
            let augmented = self.finish("augmented_assignment", start, end, augmented_mark);
            self.child(augmented, 0);
        } else {
            for item in items {
                self.child(item, 0);
            }
        }
        let end = self.last_end();
        Some(self.finish("expression_statement", start, end, mark))
    }

    /// After a target list `left` and before its `=`: the assignment, chained ones right
    /// of it nested as its `right`.
    fn assignment_rest(&mut self, left: u32, start: usize) -> Option<u32> {
        self.expect("=")?;
        let right_start = self.token().start as usize;
        let (items, list_end) = self.comma_items()?;
        let right = if self.is("=") {
            let inner_left = self.items_as_pattern(&items, right_start, list_end)?;
            self.assignment_rest(inner_left, right_start)?
        } else {
            self.items_as_expression(&items, right_start, list_end)
        };
        let mark = self.mark();
        self.child(left, FIELDS.left);
        self.child(right, FIELDS.right);
        let end = self.last_end();
        Some(self.finish("assignment", start, end, mark))
    }

    /// The right of `=`, `+=`, `return`: one expression or an `expression_list`.
    fn right_side(&mut self) -> Option<u32> {
        self.expression_list()
    }

    fn expression_list(&mut self) -> Option<u32> {
        let start = self.token().start as usize;
        let (items, end) = self.comma_items()?;
        Some(self.items_as_expression(&items, start, end))
    }

    /// Comma-separated expressions (a trailing comma allowed); the end includes it.
    fn comma_items(&mut self) -> Option<(Vec<u32>, Option<usize>)> {
        let mut items = vec![self.expression()?];
        let mut comma = false;
        while self.eat(",").is_some() {
            comma = true;
            if self.starts_expression() {
                items.push(self.expression()?);
            } else {
                break;
            }
        }
        Some((items, comma.then(|| self.last_end())))
    }

    fn items_as_expression(&mut self, items: &[u32], start: usize, list_end: Option<usize>) -> u32 {
        match (items, list_end) {
            ([only], None) => *only,
            (_, end) => {
                let mark = self.mark();
                for &item in items {
                    self.child(item, 0);
                }
                let end = end.unwrap_or_else(|| self.last_end());
                self.finish("expression_list", start, end, mark)
            }
        }
    }

    fn items_as_pattern(
        &mut self,
        items: &[u32],
        start: usize,
        list_end: Option<usize>,
    ) -> Option<u32> {
        for &item in items {
            self.make_pattern(item)?;
        }
        match (items, list_end) {
            ([only], None) => Some(*only),
            (_, end) => {
                let mark = self.mark();
                for &item in items {
                    self.child(item, 0);
                }
                let end = end.unwrap_or_else(|| self.last_end());
                Some(self.finish("pattern_list", start, end, mark))
            }
        }
    }

    /// Rewrites an expression parsed where a target stands into tree-sitter's pattern.
    fn make_pattern(&mut self, node: u32) -> Option<()> {
        let kind = match self.tree.kind_of(node) {
            "identifier" | "attribute" | "subscript" => return Some(()),
            "tuple" => "tuple_pattern",
            "list" => "list_pattern",
            _ => return None,
        };
        let children: Vec<u32> = self.tree.children_of(node).to_vec();
        if children.is_empty() {
            return None;
        }
        for child in children {
            self.make_pattern(child)?;
        }
        self.tree.set_kind(node, kind);
        Some(())
    }

    /// An annotation: only a name (tree-sitter has its own kinds for `list[int]`,
    /// `a | b`, ...).
    fn type_node(&mut self) -> Option<u32> {
        let inner = self.identifier()?;
        if !matches!(self.current(), "=" | "," | ")" | ":") || self.kind() != TokenKind::Operator {
            return None;
        }
        let (start, end) = self.range(inner);
        let mark = self.mark();
        self.child(inner, 0);
        Some(self.finish("type", start, end, mark))
    }

    fn import_statement(&mut self) -> Option<u32> {
        let start = self.expect("import")?.start as usize;
        let mark = self.mark();
        loop {
            let name = self.import_name()?;
            self.child(name, FIELDS.name);
            if self.eat(",").is_none() {
                break;
            }
        }
        let end = self.last_end();
        Some(self.finish("import_statement", start, end, mark))
    }

    fn import_from_statement(&mut self) -> Option<u32> {
        let start = self.expect("from")?.start as usize;
        if self.is("__future__") {
            return None;
        }
        let mark = self.mark();
        let module = self.dotted_name()?;
        self.child(module, FIELDS.module_name);
        self.expect("import")?;
        let parenthesized = self.eat("(").is_some();
        loop {
            let name = self.import_name()?;
            self.child(name, FIELDS.name);
            if self.eat(",").is_none() {
                break;
            }
            if parenthesized && self.is(")") {
                break;
            }
        }
        if parenthesized {
            self.expect(")")?;
        }
        let end = self.last_end();
        Some(self.finish("import_from_statement", start, end, mark))
    }

    /// `a.b` or `a.b as c`.
    fn import_name(&mut self) -> Option<u32> {
        let name = self.dotted_name()?;
        if self.eat("as").is_none() {
            return Some(name);
        }
        let alias = self.identifier()?;
        let (start, _) = self.range(name);
        let mark = self.mark();
        self.child(name, FIELDS.name);
        self.child(alias, FIELDS.alias);
        let end = self.last_end();
        Some(self.finish("aliased_import", start, end, mark))
    }

    fn dotted_name(&mut self) -> Option<u32> {
        let start = self.token().start as usize;
        let mark = self.mark();
        loop {
            let part = self.identifier()?;
            self.child(part, 0);
            if self.eat(".").is_none() {
                break;
            }
        }
        let end = self.last_end();
        Some(self.finish("dotted_name", start, end, mark))
    }

    fn if_statement(&mut self) -> Option<u32> {
        let start = self.expect("if")?.start as usize;
        let mark = self.mark();
        let condition = self.expression()?;
        self.child(condition, FIELDS.condition);
        self.expect(":")?;
        let consequence = self.block()?;
        self.child(consequence, FIELDS.consequence);
        while self.is("elif") {
            let clause_start = self.token().start as usize;
            self.at += 1;
            let clause_mark = self.mark();
            let condition = self.expression()?;
            self.child(condition, FIELDS.condition);
            self.expect(":")?;
            let consequence = self.block()?;
            self.child(consequence, FIELDS.consequence);
            let end = self.last_block_end();
            let clause = self.finish("elif_clause", clause_start, end, clause_mark);
            self.child(clause, FIELDS.alternative);
        }
        if self.is("else") {
            let clause = self.else_clause()?;
            self.child(clause, FIELDS.alternative);
        }
        let end = self.last_block_end();
        Some(self.finish("if_statement", start, end, mark))
    }

    /// The end of the block just finished (its last statement's end).
    fn last_block_end(&self) -> usize {
        let &(last, _) = self
            .scratch
            .last()
            .expect("a compound statement has a block");
        self.range(last).1
    }

    fn else_clause(&mut self) -> Option<u32> {
        let start = self.expect("else")?.start as usize;
        self.expect(":")?;
        let mark = self.mark();
        let body = self.block()?;
        self.child(body, FIELDS.body);
        let end = self.last_block_end();
        Some(self.finish("else_clause", start, end, mark))
    }

    fn for_statement(&mut self) -> Option<u32> {
        let start = self.expect("for")?.start as usize;
        let mark = self.mark();
        let left = self.targets()?;
        self.child(left, FIELDS.left);
        self.expect("in")?;
        let right = self.expression_list()?;
        self.child(right, FIELDS.right);
        self.loop_rest("for_statement", start, mark)
    }

    /// A loop's `:`, body and optional `else`, and the loop's node of `kind`.
    fn loop_rest(&mut self, kind: &'static str, start: usize, mark: usize) -> Option<u32> {
        self.expect(":")?;
        let body = self.block()?;
        self.child(body, FIELDS.body);
        if self.is("else") {
            let clause = self.else_clause()?;
            self.child(clause, FIELDS.alternative);
        }
        let end = self.last_block_end();
        Some(self.finish(kind, start, end, mark))
    }

    /// The targets of `for` (statement or clause): a pattern, or a `pattern_list`.
    fn targets(&mut self) -> Option<u32> {
        let start = self.token().start as usize;
        let mut items = vec![self.binary(0)?];
        let mut comma = false;
        while self.eat(",").is_some() {
            comma = true;
            if self.is("in") {
                break;
            }
            items.push(self.binary(0)?);
        }
        let end = comma.then(|| self.last_end());
        self.items_as_pattern(&items, start, end)
    }

    fn while_statement(&mut self) -> Option<u32> {
        let start = self.expect("while")?.start as usize;
        let mark = self.mark();
        let condition = self.expression()?;
        self.child(condition, FIELDS.condition);
        self.loop_rest("while_statement", start, mark)
    }

    fn function_definition(&mut self) -> Option<u32> {
        let start = self.expect("def")?.start as usize;
        let mark = self.mark();
        let name = self.identifier()?;
        self.child(name, FIELDS.name);
        let parameters = self.parameters()?;
        self.child(parameters, FIELDS.parameters);
        if self.eat("->").is_some() {
            let type_ = self.type_node()?;
            self.child(type_, FIELDS.return_type);
        }
        self.expect(":")?;
        let body = self.block()?;
        self.child(body, FIELDS.body);
        let end = self.last_block_end();
        Some(self.finish("function_definition", start, end, mark))
    }

    fn parameters(&mut self) -> Option<u32> {
        self.parenthesized_list("parameters", Self::parameter)
    }

    /// `(a, b, ...)` as a node of `kind` whose children are what `item` parses (a trailing
    /// comma allowed).
    fn parenthesized_list(
        &mut self,
        kind: &'static str,
        item: fn(&mut Self) -> Option<u32>,
    ) -> Option<u32> {
        let start = self.expect("(")?.start as usize;
        let mark = self.mark();
        while !self.is(")") {
            let node = item(self)?;
            self.child(node, 0);
            if self.eat(",").is_none() {
                break;
            }
        }
        self.expect(")")?;
        let end = self.last_end();
        Some(self.finish(kind, start, end, mark))
    }

    fn parameter(&mut self) -> Option<u32> {
        let start = self.token().start as usize;
        if self.is("*") || self.is("**") {
            let kind = if self.is("*") {
                "list_splat_pattern"
            } else {
                "dictionary_splat_pattern"
            };
            self.at += 1;
            let name = self.identifier()?;
            if self.is(":") || self.is("=") {
                return None;
            }
            let mark = self.mark();
            self.child(name, 0);
            let end = self.last_end();
            return Some(self.finish(kind, start, end, mark));
        }
        let name = self.identifier()?;
        let mark = self.mark();
        if self.eat(":").is_some() {
            let type_ = self.type_node()?;
            if self.eat("=").is_some() {
                let value = self.expression()?;
                self.child(name, FIELDS.name);
                self.child(type_, FIELDS.type_);
                self.child(value, FIELDS.value);
                let end = self.last_end();
                return Some(self.finish("typed_default_parameter", start, end, mark));
            }
            self.child(name, 0);
            self.child(type_, FIELDS.type_);
            let end = self.last_end();
            return Some(self.finish("typed_parameter", start, end, mark));
        }
        if self.eat("=").is_some() {
            let value = self.expression()?;
            self.child(name, FIELDS.name);
            self.child(value, FIELDS.value);
            let end = self.last_end();
            return Some(self.finish("default_parameter", start, end, mark));
        }
        Some(name)
    }

    fn class_definition(&mut self) -> Option<u32> {
        let start = self.expect("class")?.start as usize;
        let mark = self.mark();
        let name = self.identifier()?;
        self.child(name, FIELDS.name);
        if self.is("(") {
            let superclasses = self.argument_list()?;
            self.child(superclasses, FIELDS.superclasses);
        }
        self.expect(":")?;
        let body = self.block()?;
        self.child(body, FIELDS.body);
        let end = self.last_block_end();
        Some(self.finish("class_definition", start, end, mark))
    }

    // ----- expressions -----

    fn starts_expression(&self) -> bool {
        let token = self.token();
        match token.kind {
            TokenKind::Name => {
                let text = self.text_of(token);
                !KEYWORDS.contains(&text) || matches!(text, "not" | "None" | "True" | "False")
            }
            TokenKind::Integer | TokenKind::Float | TokenKind::StringStart => true,
            TokenKind::Operator => matches!(
                self.text_of(token),
                "(" | "[" | "{" | "-" | "+" | "~" | "..."
            ),
            _ => false,
        }
    }

    fn expression(&mut self) -> Option<u32> {
        self.enter()?;
        let expression = self.conditional();
        self.leave();
        expression
    }

    fn conditional(&mut self) -> Option<u32> {
        let body = self.or_test()?;
        if !self.is("if") {
            return Some(body);
        }
        self.at += 1;
        let condition = self.or_test()?;
        self.expect("else")?;
        let alternative = self.expression()?;
        let (start, _) = self.range(body);
        let mark = self.mark();
        self.child(body, 0);
        self.child(condition, 0);
        self.child(alternative, 0);
        let end = self.last_end();
        Some(self.finish("conditional_expression", start, end, mark))
    }

    fn or_test(&mut self) -> Option<u32> {
        self.boolean("or", Self::and_test)
    }

    fn and_test(&mut self) -> Option<u32> {
        self.boolean("and", Self::not_test)
    }

    fn boolean(&mut self, operator: &str, operand: fn(&mut Self) -> Option<u32>) -> Option<u32> {
        let mut left = operand(self)?;
        while self.eat(operator).is_some() {
            let right = operand(self)?;
            let (start, _) = self.range(left);
            let mark = self.mark();
            self.child(left, FIELDS.left);
            self.child(right, FIELDS.right);
            let end = self.last_end();
            left = self.finish("boolean_operator", start, end, mark);
        }
        Some(left)
    }

    fn not_test(&mut self) -> Option<u32> {
        if let Some(not) = self.eat("not") {
            self.enter()?;
            let argument = self.not_test();
            self.leave();
            let argument = argument?;
            let mark = self.mark();
            self.child(argument, FIELDS.argument);
            let end = self.last_end();
            return Some(self.finish("not_operator", not.start as usize, end, mark));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Option<u32> {
        let first = self.binary(0)?;
        if !self.at_comparison_operator() {
            return Some(first);
        }
        let mark = self.mark();
        self.child(first, 0);
        while self.at_comparison_operator() {
            if self.is("not") {
                self.at += 2;
            } else if self.is("is") {
                self.at += 1;
                self.eat("not");
            } else {
                self.at += 1;
            }
            let operand = self.binary(0)?;
            self.child(operand, 0);
        }
        let (start, _) = self.range(first);
        let end = self.last_end();
        Some(self.finish("comparison_operator", start, end, mark))
    }

    fn at_comparison_operator(&self) -> bool {
        match self.current() {
            "<" | ">" | "==" | ">=" | "<=" | "!=" | "in" | "is" => true,
            "not" => self.peek_is(1, "in"),
            _ => false,
        }
    }

    /// Binary operators by precedence climbing, from `|` (level 0) to `*` (level 5);
    /// their operands are unary operators, powers and primaries.
    fn binary(&mut self, min_level: usize) -> Option<u32> {
        let mut left = self.unary()?;
        while let Some(level) = self.binary_level() {
            if level < min_level {
                break;
            }
            self.at += 1;
            let right = self.binary(level + 1)?;
            let (start, _) = self.range(left);
            let mark = self.mark();
            self.child(left, FIELDS.left);
            self.child(right, FIELDS.right);
            let end = self.last_end();
            left = self.finish("binary_operator", start, end, mark);
        }
        Some(left)
    }

    /// The precedence level of the binary operator at the current token, if it is one.
    /// tree-sitter-python binds `^` tighter than `&` (Python: the reverse).
    fn binary_level(&self) -> Option<usize> {
        let token = self.token();
        if token.kind != TokenKind::Operator {
            return None;
        }
        match self.text_of(token).as_bytes() {
            b"|" => Some(0),
            b"&" => Some(1),
            b"^" => Some(2),
            b"<<" | b">>" => Some(3),
            b"+" | b"-" => Some(4),
            b"*" | b"/" | b"//" | b"%" | b"@" => Some(5),
            _ => None,
        }
    }

    fn unary(&mut self) -> Option<u32> {
        if self.kind() == TokenKind::Operator && matches!(self.current(), "-" | "+" | "~") {
            let start = self.token().start as usize;
            self.at += 1;
            self.enter()?;
            let argument = self.unary();
            self.leave();
            let argument = argument?;
            let mark = self.mark();
            self.child(argument, FIELDS.argument);
            let end = self.last_end();
            return Some(self.finish("unary_operator", start, end, mark));
        }
        self.power()
    }

    fn power(&mut self) -> Option<u32> {
        let base = self.primary()?;
        if self.eat("**").is_none() {
            return Some(base);
        }
        self.enter()?;
        let exponent = self.unary();
        self.leave();
        let exponent = exponent?;
        let (start, _) = self.range(base);
        let mark = self.mark();
        self.child(base, FIELDS.left);
        self.child(exponent, FIELDS.right);
        let end = self.last_end();
        Some(self.finish("binary_operator", start, end, mark))
    }

    fn primary(&mut self) -> Option<u32> {
        let mut node = self.atom()?;
        loop {
            let (start, _) = self.range(node);
            match self.current() {
                "." if self.kind() == TokenKind::Operator => {
                    self.at += 1;
                    let attribute = self.identifier()?;
                    let mark = self.mark();
                    self.child(node, FIELDS.object);
                    self.child(attribute, FIELDS.attribute);
                    let end = self.last_end();
                    node = self.finish("attribute", start, end, mark);
                }
                "(" if self.kind() == TokenKind::Operator => {
                    let arguments = self.call_arguments()?;
                    let mark = self.mark();
                    self.child(node, FIELDS.function);
                    self.child(arguments, FIELDS.arguments);
                    let end = self.last_end();
                    node = self.finish("call", start, end, mark);
                }
                "[" if self.kind() == TokenKind::Operator => {
                    self.at += 1;
                    let mark = self.mark();
                    self.child(node, FIELDS.value);
                    loop {
                        let item = self.subscript_item()?;
                        self.child(item, FIELDS.subscript);
                        if self.eat(",").is_none() || self.is("]") {
                            break;
                        }
                    }
                    self.expect("]")?;
                    let end = self.last_end();
                    node = self.finish("subscript", start, end, mark);
                }
                _ => return Some(node),
            }
        }
    }

    fn subscript_item(&mut self) -> Option<u32> {
        let start = self.token().start as usize;
        let first = if self.is(":") {
            None
        } else {
            Some(self.expression()?)
        };
        if !self.is(":") {
            return first;
        }
        let mark = self.mark();
        if let Some(first) = first {
            self.child(first, 0);
        }
        let mut colons = 0;
        while self.eat(":").is_some() {
            colons += 1;
            if colons > 2 {
                return None;
            }
            if !self.is(":") && !self.is("]") && !self.is(",") {
                let part = self.expression()?;
                self.child(part, 0);
            }
        }
        let end = self.last_end();
        Some(self.finish("slice", start, end, mark))
    }

    /// `(...)` after a callee: an `argument_list`, or a lone `generator_expression`.
    fn call_arguments(&mut self) -> Option<u32> {
        let open = self.token().start as usize;
        if !self.is("(") {
            return None;
        }
        // `f(x for x in y)`
        let save = self.at;
        self.at += 1;
        if self.starts_expression() && !self.is("*") {
            let body = self.expression()?;
            if self.is("for") {
                let mark = self.mark();
                self.child(body, FIELDS.body);
                self.comprehension_clauses()?;
                self.expect(")")?;
                let end = self.last_end();
                return Some(self.finish("generator_expression", open, end, mark));
            }
        }
        self.at = save;
        self.argument_list()
    }

    fn argument_list(&mut self) -> Option<u32> {
        self.parenthesized_list("argument_list", Self::argument)
    }

    fn argument(&mut self) -> Option<u32> {
        let start = self.token().start as usize;
        if self.is("*") || self.is("**") {
            let kind = if self.is("*") {
                "list_splat"
            } else {
                "dictionary_splat"
            };
            self.at += 1;
            let value = self.expression()?;
            let mark = self.mark();
            self.child(value, 0);
            let end = self.last_end();
            return Some(self.finish(kind, start, end, mark));
        }
        if self.kind() == TokenKind::Name && self.peek_is(1, "=") {
            let name = self.identifier()?;
            self.at += 1;
            let value = self.expression()?;
            let mark = self.mark();
            self.child(name, FIELDS.name);
            self.child(value, FIELDS.value);
            let end = self.last_end();
            return Some(self.finish("keyword_argument", start, end, mark));
        }
        let value = self.expression()?;
        if self.is("for") {
            return None;
        }
        Some(value)
    }

    /// `for ... in ...` and `if ...` clauses of a comprehension, pushed as children.
    fn comprehension_clauses(&mut self) -> Option<()> {
        if !self.is("for") {
            return None;
        }
        loop {
            let start = self.token().start as usize;
            if self.eat("for").is_some() {
                let mark = self.mark();
                let left = self.targets()?;
                self.child(left, FIELDS.left);
                self.expect("in")?;
                let right = self.or_test()?;
                self.child(right, FIELDS.right);
                if self.is(",") {
                    return None;
                }
                let end = self.last_end();
                let clause = self.finish("for_in_clause", start, end, mark);
                self.child(clause, 0);
            } else if self.eat("if").is_some() {
                let mark = self.mark();
                let condition = self.or_test()?;
                self.child(condition, 0);
                let end = self.last_end();
                let clause = self.finish("if_clause", start, end, mark);
                self.child(clause, 0);
            } else {
                return Some(());
            }
        }
    }

    fn atom(&mut self) -> Option<u32> {
        let token = self.token();
        match token.kind {
            TokenKind::Name => {
                let kind = match self.text_of(token) {
                    "True" => "true",
                    "False" => "false",
                    "None" => "none",
                    _ => return self.identifier(),
                };
                self.at += 1;
                Some(self.leaf(kind, token))
            }
            TokenKind::Integer => {
                self.at += 1;
                Some(self.leaf("integer", token))
            }
            TokenKind::Float => {
                self.at += 1;
                Some(self.leaf("float", token))
            }
            TokenKind::StringStart => self.strings(),
            TokenKind::Operator => match self.text_of(token) {
                "(" => self.parenthesized(),
                "[" => self.list(),
                "{" => self.braces(),
                "..." => {
                    self.at += 1;
                    Some(self.leaf("ellipsis", token))
                }
                _ => None,
            },
            _ => None,
        }
    }

    fn strings(&mut self) -> Option<u32> {
        let first = self.string()?;
        if self.kind() != TokenKind::StringStart {
            return Some(first);
        }
        let mark = self.mark();
        self.child(first, 0);
        while self.kind() == TokenKind::StringStart {
            let next = self.string()?;
            self.child(next, 0);
        }
        let (start, _) = self.range(first);
        let end = self.last_end();
        Some(self.finish("concatenated_string", start, end, mark))
    }

    fn string(&mut self) -> Option<u32> {
        let start_token = self.expect_kind(TokenKind::StringStart)?;
        let mark = self.mark();
        let start = self.leaf("string_start", start_token);
        self.child(start, 0);
        loop {
            let token = self.token();
            match token.kind {
                TokenKind::StringContent => {
                    self.at += 1;
                    let content_mark = self.mark();
                    while self.kind() == TokenKind::EscapeSequence {
                        let escape = self.leaf("escape_sequence", self.token());
                        self.at += 1;
                        self.child(escape, 0);
                    }
                    let content = self.finish(
                        "string_content",
                        token.start as usize,
                        token.end as usize,
                        content_mark,
                    );
                    self.child(content, 0);
                }
                TokenKind::InterpolationStart => {
                    self.at += 1;
                    let interpolation_mark = self.mark();
                    let expression = self.expression_list()?;
                    self.child(expression, FIELDS.expression);
                    let close = self.expect_kind(TokenKind::InterpolationEnd)?;
                    let interpolation = self.finish(
                        "interpolation",
                        token.start as usize,
                        close.end as usize,
                        interpolation_mark,
                    );
                    self.child(interpolation, 0);
                }
                TokenKind::StringEnd => {
                    self.at += 1;
                    let end = self.leaf("string_end", token);
                    self.child(end, 0);
                    return Some(self.finish(
                        "string",
                        start_token.start as usize,
                        token.end as usize,
                        mark,
                    ));
                }
                _ => return None,
            }
        }
    }

    /// `(...)`: a tuple, a parenthesized expression or a generator expression.
    fn parenthesized(&mut self) -> Option<u32> {
        let start = self.expect("(")?.start as usize;
        let mark = self.mark();
        if self.eat(")").is_some() {
            return Some(self.finish("tuple", start, self.last_end(), mark));
        }
        let first = self.expression()?;
        self.child(first, 0);
        if self.is("for") {
            self.scratch.last_mut()?.1 = FIELDS.body;
            self.comprehension_clauses()?;
            self.expect(")")?;
            let end = self.last_end();
            return Some(self.finish("generator_expression", start, end, mark));
        }
        if self.eat(")").is_some() {
            let end = self.last_end();
            return Some(self.finish("parenthesized_expression", start, end, mark));
        }
        self.items_through(")")?;
        let end = self.last_end();
        Some(self.finish("tuple", start, end, mark))
    }

    fn list(&mut self) -> Option<u32> {
        let start = self.expect("[")?.start as usize;
        let mark = self.mark();
        if self.eat("]").is_some() {
            return Some(self.finish("list", start, self.last_end(), mark));
        }
        let first = self.expression()?;
        self.child(first, 0);
        if self.is("for") {
            self.scratch.last_mut()?.1 = FIELDS.body;
            self.comprehension_clauses()?;
            self.expect("]")?;
            let end = self.last_end();
            return Some(self.finish("list_comprehension", start, end, mark));
        }
        self.items_through("]")?;
        let end = self.last_end();
        Some(self.finish("list", start, end, mark))
    }

    /// `{...}`: a dictionary, a set or their comprehensions.
    fn braces(&mut self) -> Option<u32> {
        let start = self.expect("{")?.start as usize;
        let mark = self.mark();
        if self.eat("}").is_some() {
            return Some(self.finish("dictionary", start, self.last_end(), mark));
        }
        if self.is("**") {
            return self.dictionary_rest(start, mark);
        }
        let first = self.expression()?;
        if self.is(":") {
            self.at += 1;
            let value = self.expression()?;
            let pair = self.pair(first, value);
            self.child(pair, 0);
            if self.is("for") {
                self.scratch.last_mut()?.1 = FIELDS.body;
                self.comprehension_clauses()?;
                self.expect("}")?;
                let end = self.last_end();
                return Some(self.finish("dictionary_comprehension", start, end, mark));
            }
            if self.eat(",").is_none() {
                self.expect("}")?;
                let end = self.last_end();
                return Some(self.finish("dictionary", start, end, mark));
            }
            return self.dictionary_rest(start, mark);
        }
        self.child(first, 0);
        if self.is("for") {
            self.scratch.last_mut()?.1 = FIELDS.body;
            self.comprehension_clauses()?;
            self.expect("}")?;
            let end = self.last_end();
            return Some(self.finish("set_comprehension", start, end, mark));
        }
        self.items_through("}")?;
        let end = self.last_end();
        Some(self.finish("set", start, end, mark))
    }

    /// The items after a collection's first, each a child, through `close` (a trailing
    /// comma allowed).
    fn items_through(&mut self, close: &str) -> Option<()> {
        while self.eat(",").is_some() {
            if self.is(close) {
                break;
            }
            let item = self.expression()?;
            self.child(item, 0);
        }
        self.expect(close)?;
        Some(())
    }

    /// The entries of a dictionary after its first (and its comma), through `}`.
    fn dictionary_rest(&mut self, start: usize, mark: usize) -> Option<u32> {
        while !self.is("}") {
            let entry_start = self.token().start as usize;
            if self.eat("**").is_some() {
                let value = self.binary(0)?;
                let splat_mark = self.mark();
                self.child(value, 0);
                let end = self.last_end();
                let splat = self.finish("dictionary_splat", entry_start, end, splat_mark);
                self.child(splat, 0);
            } else {
                let key = self.expression()?;
                self.expect(":")?;
                let value = self.expression()?;
                let pair = self.pair(key, value);
                self.child(pair, 0);
            }
            if self.eat(",").is_none() {
                break;
            }
        }
        self.expect("}")?;
        let end = self.last_end();
        Some(self.finish("dictionary", start, end, mark))
    }

    fn pair(&mut self, key: u32, value: u32) -> u32 {
        let (start, _) = self.range(key);
        let (_, end) = self.range(value);
        let mark = self.mark();
        self.child(key, FIELDS.key);
        self.child(value, FIELDS.value);
        self.finish("pair", start, end, mark)
    }
}

const AUGMENTED: [&str; 13] = [
    "+=", "-=", "*=", "/=", "//=", "%=", "**=", ">>=", "<<=", "&=", "|=", "^=", "@=",
];

/// `Some` for the kinds a single assignment target may have.
fn target_kind(kind: &str) -> Option<()> {
    matches!(kind, "identifier" | "attribute" | "subscript").then_some(())
}

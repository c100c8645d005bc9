//! Python syntax highlighting for code cells, on the tree-sitter-python tree the analysis
//! already depends on.
//!
//! tree-sitter-highlight 0.27.1 (which matches our tree-sitter 0.27) would also do; it is
//! not used because a notebook page needs only a handful of classes (keyword, string,
//! comment, number, constant, function, decorator), which one walk over the syntax tree
//! gives directly, with no query to compile per process and no new dependency. The
//! source text is always escaped; a cell that fails to parse is still highlighted as far
//! as the tree goes.

use tree_sitter::{Node, Parser};

use super::escape_into;

/// A Python parser kept across cells (creating one per cell costs more than parsing).
pub struct Highlighter {
    parser: Option<Parser>,
}

impl Default for Highlighter {
    fn default() -> Self {
        let mut parser = Parser::new();
        let ready = parser
            .set_language(&tree_sitter_python::LANGUAGE.into())
            .is_ok();
        Highlighter {
            parser: ready.then_some(parser),
        }
    }
}

impl Highlighter {
    /// `source` as escaped HTML with `<span class="hl-…">` around the highlighted tokens.
    pub fn highlight(&mut self, source: &str) -> String {
        let tree = self
            .parser
            .as_mut()
            .and_then(|parser| parser.parse(source, None));
        spans_to_html(source, tree)
    }
}

/// One-off [`Highlighter::highlight`].
pub fn highlight_python(source: &str) -> String {
    Highlighter::default().highlight(source)
}

fn spans_to_html(source: &str, tree: Option<tree_sitter::Tree>) -> String {
    let mut html = String::with_capacity(source.len() * 2);
    let Some(tree) = tree else {
        escape_into(&mut html, source);
        return html;
    };
    let mut spans = Vec::new();
    collect(tree.root_node(), &mut spans);
    let mut written = 0;
    for (start, end, class) in spans {
        if start < written || end > source.len() || start >= end {
            continue;
        }
        let (Some(gap), Some(token)) = (source.get(written..start), source.get(start..end)) else {
            continue;
        };
        escape_into(&mut html, gap);
        html.push_str("<span class=\"hl-");
        html.push_str(class);
        html.push_str("\">");
        escape_into(&mut html, token);
        html.push_str("</span>");
        written = end;
    }
    escape_into(&mut html, source.get(written..).unwrap_or(""));
    html
}

fn collect(node: Node<'_>, spans: &mut Vec<(usize, usize, &'static str)>) {
    if let Some(class) = class_of(node) {
        spans.push((node.start_byte(), node.end_byte(), class));
        return;
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        collect(child, spans);
    }
}

fn class_of(node: Node<'_>) -> Option<&'static str> {
    let kind = node.kind();
    if !node.is_named() {
        return (kind.len() > 1 && kind.bytes().all(|byte| byte.is_ascii_lowercase()))
            .then_some("keyword");
    }
    match kind {
        "comment" => Some("comment"),
        "string" | "concatenated_string" => Some("string"),
        "integer" | "float" => Some("number"),
        "true" | "false" | "none" => Some("constant"),
        "decorator" => Some("decorator"),
        "identifier" => {
            let parent = node.parent()?;
            let is_field = |field: &str| {
                parent
                    .child_by_field_name(field)
                    .is_some_and(|child| child.id() == node.id())
            };
            match parent.kind() {
                "function_definition" | "class_definition" if is_field("name") => Some("function"),
                "call" if is_field("function") => Some("function"),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::highlight_python;

    #[test]
    fn keywords_strings_comments_and_calls_get_classes() {
        let html = highlight_python("def f(x):\n    return print('<a>', 1)  # hi\n");
        assert!(
            html.contains("<span class=\"hl-keyword\">def</span>"),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"hl-function\">f</span>"),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"hl-string\">&#39;&lt;a&gt;&#39;</span>"),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"hl-number\">1</span>"),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"hl-comment\"># hi</span>"),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"hl-function\">print</span>"),
            "{html}"
        );
    }
}

//! The HTML block rule of the scanner: CommonMark's seven kinds of start line, as
//! markdown-it-py matches them (`html_blocks.py`, `html_re.py`), and where each ends. A
//! fence or `+++` inside an HTML block is HTML, so this decides what is top level.

use std::sync::LazyLock;

use regex::Regex;

use super::super::lines::is_python_space;
use super::Scanner;

/// The tag names of HTML blocks of kind 6 (CommonMark 0.31.2).
const BLOCK_NAMES: &[&str] = &[
    "address",
    "article",
    "aside",
    "base",
    "basefont",
    "blockquote",
    "body",
    "caption",
    "center",
    "col",
    "colgroup",
    "dd",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "frame",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hr",
    "html",
    "iframe",
    "legend",
    "li",
    "link",
    "main",
    "menu",
    "menuitem",
    "nav",
    "noframes",
    "ol",
    "optgroup",
    "option",
    "p",
    "param",
    "search",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "title",
    "tr",
    "track",
    "ul",
];

/// The raw-text tags of kind 1.
const RAW_NAMES: &[&str] = &["script", "pre", "style", "textarea"];

/// Kind 7: a whole line of one open or close tag (`HTML_OPEN_CLOSE_TAG_STR + \s*$`), with
/// Python's `\s` (which also holds `\x1c`–`\x1f`).
static OPEN_CLOSE_TAG_LINE: LazyLock<Regex> = LazyLock::new(|| {
    let space = r"[\s\x1c-\x1f]";
    let attr_name = "[a-zA-Z_:][a-zA-Z0-9:._-]*";
    let attr_value = r#"(?:[^"'=<>`\x00-\x20]+|'[^']*'|"[^"]*")"#;
    let attribute = format!("(?:{space}+{attr_name}(?:{space}*={space}*{attr_value})?)");
    let open_tag = format!("<[A-Za-z][A-Za-z0-9-]*{attribute}*{space}*/?>");
    let close_tag = format!("</[A-Za-z][A-Za-z0-9-]*{space}*>");
    let pattern = format!("^(?:{open_tag}|{close_tag}){space}*$");
    Regex::new(&pattern).unwrap_or_else(|error| panic!("bad pattern {pattern}: {error}"))
});

/// The kind of HTML block a line starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HtmlKind {
    /// `<script`, `<pre`, `<style`, `<textarea`: up to the closing tag.
    Raw,
    /// `<!--`: up to `-->`.
    Comment,
    /// `<?`: up to `?>`.
    Processing,
    /// `<!X`: up to `>`.
    Declaration,
    /// `<![CDATA[`: up to `]]>`.
    Cdata,
    /// A block tag name: up to a blank line.
    BlockTag,
    /// Any other lone tag: up to a blank line; cannot interrupt a paragraph.
    LoneTag,
}

impl HtmlKind {
    fn of(line: &str) -> Option<Self> {
        let rest = line.strip_prefix('<')?;
        if tag_name_follows(rest, RAW_NAMES, |after| {
            after.is_empty() || after.starts_with('>') || starts_with_space(after)
        }) {
            return Some(Self::Raw);
        }
        if rest.starts_with("!--") {
            return Some(Self::Comment);
        }
        if rest.starts_with('?') {
            return Some(Self::Processing);
        }
        if rest
            .strip_prefix('!')
            .is_some_and(|after| after.starts_with(|c: char| c.is_ascii_alphabetic()))
        {
            return Some(Self::Declaration);
        }
        if rest.starts_with("![CDATA[") {
            return Some(Self::Cdata);
        }
        let name = rest.strip_prefix('/').unwrap_or(rest);
        if tag_name_follows(name, BLOCK_NAMES, |after| {
            after.is_empty()
                || after.starts_with('>')
                || after.starts_with("/>")
                || starts_with_space(after)
        }) {
            return Some(Self::BlockTag);
        }
        OPEN_CLOSE_TAG_LINE.is_match(line).then_some(Self::LoneTag)
    }

    fn ends_on_blank_line(self) -> bool {
        matches!(self, Self::BlockTag | Self::LoneTag)
    }

    /// Whether `line` (after its indentation) ends a block of this kind.
    fn ends(self, line: &str) -> bool {
        match self {
            Self::Raw => line.match_indices("</").any(|(at, _)| {
                let rest = &line[at + 2..];
                RAW_NAMES.iter().any(|name| {
                    rest.get(..name.len())
                        .is_some_and(|found| found.eq_ignore_ascii_case(name))
                        && rest.as_bytes().get(name.len()) == Some(&b'>')
                })
            }),
            Self::Comment => line.contains("-->"),
            Self::Processing => line.contains("?>"),
            Self::Declaration => line.contains('>'),
            Self::Cdata => line.contains("]]>"),
            Self::BlockTag | Self::LoneTag => line.is_empty(),
        }
    }
}

/// Whether `text` starts with one of `names` (ASCII case-insensitively) followed by what
/// `follows` accepts.
fn tag_name_follows(text: &str, names: &[&str], follows: impl Fn(&str) -> bool) -> bool {
    let length = text.bytes().take_while(u8::is_ascii_alphanumeric).count();
    let name = &text[..length];
    names.iter().any(|known| known.eq_ignore_ascii_case(name)) && follows(&text[length..])
}

fn starts_with_space(text: &str) -> bool {
    text.chars().next().is_some_and(is_python_space)
}

impl Scanner<'_> {
    fn html_kind(&self, start: usize) -> Option<HtmlKind> {
        if self.is_code_block(start) {
            return None;
        }
        HtmlKind::of(self.line_text(start))
    }

    /// Whether an HTML block starts at `start` that may end a paragraph, quote or
    /// reference (every kind but the lone tag).
    pub(super) fn html_interrupts(&self, start: usize) -> bool {
        self.html_kind(start)
            .is_some_and(|kind| kind != HtmlKind::LoneTag)
    }

    pub(super) fn html_block(&mut self, start: usize, end: usize) -> bool {
        let Some(kind) = self.html_kind(start) else {
            return false;
        };
        let mut next = start + 1;
        if !kind.ends(self.line_text(start)) {
            while next < end {
                if self.s_count[next] < self.blk_indent
                    && (kind.ends_on_blank_line() || !self.is_empty(next))
                {
                    break;
                }
                let text = self.line_text(next);
                if kind.ends(text) {
                    if !text.is_empty() {
                        next += 1;
                    }
                    break;
                }
                next += 1;
            }
        }
        self.line = next;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_start_lines() {
        assert_eq!(HtmlKind::of("<script>"), Some(HtmlKind::Raw));
        assert_eq!(HtmlKind::of("<PRE class=x"), Some(HtmlKind::Raw));
        assert_eq!(HtmlKind::of("<scripts>"), Some(HtmlKind::LoneTag));
        assert_eq!(HtmlKind::of("<!-- c"), Some(HtmlKind::Comment));
        assert_eq!(HtmlKind::of("<?php"), Some(HtmlKind::Processing));
        assert_eq!(HtmlKind::of("<!DOCTYPE html>"), Some(HtmlKind::Declaration));
        assert_eq!(HtmlKind::of("<![CDATA[x"), Some(HtmlKind::Cdata));
        assert_eq!(HtmlKind::of("<div class=\"a\">"), Some(HtmlKind::BlockTag));
        assert_eq!(HtmlKind::of("</Table>"), Some(HtmlKind::BlockTag));
        assert_eq!(HtmlKind::of("<hr/>"), Some(HtmlKind::BlockTag));
        assert_eq!(HtmlKind::of("<header>"), Some(HtmlKind::BlockTag));
        assert_eq!(HtmlKind::of("<span>"), Some(HtmlKind::LoneTag));
        assert_eq!(HtmlKind::of("<a href='x' b>  "), Some(HtmlKind::LoneTag));
        assert_eq!(HtmlKind::of("<span> text"), None);
        assert_eq!(HtmlKind::of("<hr/x"), None);
        assert_eq!(HtmlKind::of("< div>"), None);
    }

    #[test]
    fn raw_blocks_end_at_any_closing_raw_tag() {
        assert!(HtmlKind::Raw.ends("x </STYLE> y"));
        assert!(!HtmlKind::Raw.ends("</div>"));
        assert!(HtmlKind::BlockTag.ends(""));
    }
}

//! The PEP-723 `# /// script` block: finding it, where it must sit, and what it says.
//!
//! Finding follows jellycell's `format/pep723.py` regex
//! `(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$` exactly (first
//! match only, and only if its type is `script`; the content is greedy, so the block ends
//! at the *last* `# ///` reachable through comment lines), implemented line by line, with
//! one deliberate fix: CRLF line endings work (jellycell's `$` does not match before `\r`,
//! so it misses CRLF blocks). [`position_ok`] and [`move_to_top`] are jellycell's lint rule
//! and fixer. The content is parsed as TOML into the dependency list, `requires-python`
//! and the `[tool.jellycell]` overrides; everything wrong becomes a [`Problem`]
//! (`pep723-invalid`, `unknown-override-key`, `pep723-position`), never a failure.

use crate::format::percent::lines::is_python_line_break;
use toml_edit::{Item, TableLike};

use crate::format::Problem;
use crate::format::tags::python_strip;
pub use crate::project::Overrides;
use crate::text::Span;
use crate::text::suggest::closest;

/// The override keys jellycell accepts in `[tool.jellycell]` (qualified form).
pub const ALLOWED_OVERRIDE_KEYS: [&str; 4] = [
    "project.name",
    "run.kernel",
    "run.timeout_seconds",
    "run.python",
];

/// The flat aliases jellycell maps to their qualified key.
const FLAT_ALIASES: [(&str, &str); 4] = [
    ("name", "project.name"),
    ("kernel", "run.kernel"),
    ("timeout_seconds", "run.timeout_seconds"),
    ("python", "run.python"),
];

/// A PEP-723 block found in a notebook's text.
#[derive(Debug, Clone, PartialEq)]
pub struct Pep723Block {
    /// From the `# /// script` line to the end of the `# ///` line (no line ending).
    pub span: Span,
    /// The block type from the opening line (always `script` for a returned block).
    pub kind: String,
    /// The TOML text: the content lines with their `# ` / `#` prefix removed, joined by `\n`.
    pub content: String,
    /// From the start of the first content line to the end of the last (no line ending).
    pub content_span: Span,
    /// Whether the block's lines end in `\r\n`.
    pub crlf: bool,
    /// The `dependencies` list (entries that are not strings are left out and reported).
    pub dependencies: Vec<String>,
    /// `requires-python`, if given as a string.
    pub requires_python: Option<String>,
    /// The valid `[tool.jellycell]` overrides.
    pub overrides: Overrides,
    /// Whether only whitespace precedes the block (jellycell's `position_ok`).
    pub position_ok: bool,
    /// What is wrong with the block, including `pep723-position` when it is not at the top.
    pub problems: Vec<Problem>,
}

/// One whole-text replacement that fixes something: replace `span` with `new_text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFix {
    pub span: Span,
    pub new_text: String,
}

/// The first PEP-723 block in `text`, if its type is `script`, with its parsed content
/// and problems.
pub fn find_block(text: &str) -> Option<Pep723Block> {
    let found = first_match(text)?;
    if found.kind != "script" {
        return None;
    }
    Some(build_block(text, found))
}

/// The block (as [`find_block`]) and every PEP-723 problem in `text`: the block's own
/// problems, a misplaced block of another type (jellycell's position rule looks at any
/// type), and a `# /// script` block that jellycell will not see because a line inside it
/// is not a comment line or it is never closed. Readers call this once and add the
/// problems to the notebook's.
pub fn scan(text: &str) -> (Option<Pep723Block>, Vec<Problem>) {
    match first_match(text) {
        Some(found) if found.kind == "script" => {
            let block = build_block(text, found);
            let problems = block.problems.clone();
            (Some(block), problems)
        }
        Some(found) => {
            let problems = position_problem(text, &found).into_iter().collect();
            (None, problems)
        }
        None => (None, malformed_script_block(text).into_iter().collect()),
    }
}

/// jellycell's `position_ok`: true when there is no block (of any type) or only
/// whitespace precedes the first one.
pub fn position_ok(text: &str) -> bool {
    first_match(text).is_none_or(|found| python_strip(&text[..found.span.start]).is_empty())
}

/// jellycell's `move_to_top`: the first block moved to the top as `"{block}\n\n{body}\n"`
/// (or `"{block}\n"` for an empty body), where the body is the rest with surrounding
/// newlines stripped. Unchanged when there is no block or it is already at the top. For a
/// CRLF block, `\r\n` is used and stripped instead of `\n`.
pub fn move_to_top(text: &str) -> String {
    let Some(found) = first_match(text) else {
        return text.to_string();
    };
    if python_strip(&text[..found.span.start]).is_empty() {
        return text.to_string();
    }
    let block = found.span.slice(text);
    let joined = format!("{}{}", &text[..found.span.start], &text[found.span.end..]);
    let (newline, body) = if found.crlf {
        ("\r\n", joined.trim_matches(['\r', '\n']))
    } else {
        ("\n", joined.trim_matches('\n'))
    };
    if body.is_empty() {
        format!("{block}{newline}")
    } else {
        format!("{block}{newline}{newline}{body}{newline}")
    }
}

/// The `pep723-position` fix as one replacement (the smallest span that differs between
/// `text` and [`move_to_top`]`(text)`), or `None` when nothing needs moving.
pub fn move_to_top_fix(text: &str) -> Option<TextFix> {
    let moved = move_to_top(text);
    if moved == text {
        return None;
    }
    let prefix = common_prefix_len(text, &moved);
    let suffix = common_suffix_len(&text[prefix..], &moved[prefix..]);
    Some(TextFix {
        span: Span::new(prefix, text.len() - suffix),
        new_text: moved[prefix..moved.len() - suffix].to_string(),
    })
}

fn common_prefix_len(a: &str, b: &str) -> usize {
    a.char_indices()
        .zip(b.chars())
        .find(|((_, ca), cb)| ca != cb)
        .map_or(a.len().min(b.len()), |((index, _), _)| index)
}

fn common_suffix_len(a: &str, b: &str) -> usize {
    let mut length = 0;
    for (ca, cb) in a.chars().rev().zip(b.chars().rev()) {
        if ca != cb {
            break;
        }
        length += ca.len_utf8();
    }
    length
}

/// One line of the text, split on `\n` only (as Python's `(?m)^`/`$` do).
struct Line {
    start: usize,
    /// End of the line's text, before `\n` and before a `\r` that ends the line.
    text_end: usize,
    /// Whether a `\n` follows (the regex's `$\s`).
    has_newline: bool,
    crlf: bool,
}

fn split_lines(text: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = 0;
    loop {
        let (end, has_newline) = match text[start..].find('\n') {
            Some(offset) => (start + offset, true),
            None => (text.len(), false),
        };
        let crlf = text[start..end].ends_with('\r');
        let text_end = if crlf { end - 1 } else { end };
        lines.push(Line {
            start,
            text_end,
            has_newline,
            crlf,
        });
        if !has_newline {
            return lines;
        }
        start = end + 1;
    }
}

/// What the regex matched.
struct Match {
    span: Span,
    kind: String,
    /// Spans of the content lines' text (without line endings), in order.
    content_lines: Vec<Span>,
    crlf: bool,
}

/// How a block's opening line starts (`# /// script`).
const OPENING: &str = "# /// ";

fn opening_kind(line: &str) -> Option<&str> {
    let kind = line.strip_prefix(OPENING)?;
    let valid = !kind.is_empty() && kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    valid.then_some(kind)
}

fn is_content(line: &str) -> bool {
    line == "#" || line.starts_with("# ")
}

fn first_match(text: &str) -> Option<Match> {
    // Every block opens with such a line; most notebooks have none.
    if !text.contains(OPENING) {
        return None;
    }
    let lines = split_lines(text);
    let line_text = |line: &Line| &text[line.start..line.text_end];
    // farthest_closer[j]: the last `# ///` line reachable from line j through content
    // lines that each end in a newline (the regex's greedy `(^#(| .*)$\s)+^# ///$`).
    let mut farthest_closer: Vec<Option<usize>> = vec![None; lines.len() + 1];
    for (index, line) in lines.iter().enumerate().rev() {
        let here = (line_text(line) == "# ///").then_some(index);
        farthest_closer[index] = if is_content(line_text(line)) && line.has_newline {
            farthest_closer[index + 1].or(here)
        } else {
            here
        };
    }
    for (index, line) in lines.iter().enumerate() {
        let Some(kind) = opening_kind(line_text(line)) else {
            continue;
        };
        if !line.has_newline {
            continue;
        }
        let Some(closer) = farthest_closer[index + 1].filter(|closer| *closer >= index + 2) else {
            continue;
        };
        let content_lines = lines[index + 1..closer]
            .iter()
            .map(|line| Span::new(line.start, line.text_end))
            .collect();
        return Some(Match {
            span: Span::new(line.start, lines[closer].text_end),
            kind: kind.to_string(),
            content_lines,
            crlf: line.crlf,
        });
    }
    None
}

fn position_problem(text: &str, found: &Match) -> Option<Problem> {
    if python_strip(&text[..found.span.start]).is_empty() {
        return None;
    }
    let opening_end = text[found.span.start..]
        .find(['\r', '\n'])
        .map_or(found.span.end, |offset| found.span.start + offset);
    Some(Problem::new(
        "pep723-position",
        Span::new(found.span.start, opening_end),
        "the PEP-723 block is not at the top of the file; only blank lines may come before \
         it (it can be moved to the top automatically)",
    ))
}

/// A `# /// script` opening line that the regex did not match: a line inside is not
/// `#` / `# ...`, or no `# ///` closes it.
fn malformed_script_block(text: &str) -> Option<Problem> {
    if !text.contains(OPENING) {
        return None;
    }
    let lines = split_lines(text);
    let line_text = |line: &Line| &text[line.start..line.text_end];
    let opening = lines
        .iter()
        .position(|line| opening_kind(line_text(line)) == Some("script"))?;
    let line_span = |line: &Line| Span::new(line.start, line.text_end);
    let Some(closer) = lines[opening + 1..]
        .iter()
        .position(|line| line_text(line) == "# ///")
        .map(|offset| opening + 1 + offset)
    else {
        return Some(Problem::new(
            "pep723-invalid",
            line_span(&lines[opening]),
            "this PEP-723 block is never closed; add a \"# ///\" line after its content",
        ));
    };
    if closer == opening + 1 {
        return Some(Problem::new(
            "pep723-invalid",
            line_span(&lines[opening]),
            "this PEP-723 block is empty, so jellycell and uv do not see it; add content \
             lines such as \"# dependencies = []\"",
        ));
    }
    let bad = lines[opening + 1..closer]
        .iter()
        .find(|line| !is_content(line_text(line)))?;
    Some(Problem::new(
        "pep723-invalid",
        line_span(bad),
        "every line inside a PEP-723 block must be \"#\" or start with \"# \"; as written, \
         jellycell and uv do not see this block",
    ))
}

fn build_block(text: &str, found: Match) -> Pep723Block {
    let mut problems = Vec::new();
    // content_starts[i]: (offset in `content`, offset in `text`) of content line i.
    let mut content = String::new();
    let mut content_starts = Vec::with_capacity(found.content_lines.len());
    for (index, line_span) in found.content_lines.iter().enumerate() {
        let line = line_span.slice(text);
        let prefix = if line == "#" { 1 } else { 2 };
        if index > 0 {
            content.push('\n');
        }
        content_starts.push((content.len(), line_span.start + prefix));
        content.push_str(&line[prefix.min(line.len())..]);
        if let Some(breaker) = line
            .chars()
            .find(|c| *c != '\n' && is_python_line_break(*c))
        {
            problems.push(Problem::new(
                "pep723-invalid",
                *line_span,
                format!(
                    "this line contains U+{:04X}, which Python treats as a line break, so \
                     jellycell rejects the block; remove it",
                    u32::from(breaker)
                ),
            ));
        }
    }
    let to_text = |offset: usize| -> usize {
        let line = content_starts
            .partition_point(|(content_start, _)| *content_start <= offset)
            .saturating_sub(1);
        let (content_start, text_start) = content_starts.get(line).copied().unwrap_or((0, 0));
        let line_end = found.content_lines.get(line).map_or(text_start, |s| s.end);
        (text_start + (offset - content_start)).min(line_end)
    };
    let to_text_span = |range: Option<std::ops::Range<usize>>| -> Span {
        match range {
            Some(range) => {
                let start = to_text(range.start);
                Span::new(start, to_text(range.end).max(start))
            }
            None => found.span,
        }
    };
    let content_span = Span::new(
        found
            .content_lines
            .first()
            .map_or(found.span.start, |s| s.start),
        found
            .content_lines
            .last()
            .map_or(found.span.start, |s| s.end),
    );

    let mut block = Pep723Block {
        span: found.span,
        kind: found.kind.clone(),
        content: String::new(),
        content_span,
        crlf: found.crlf,
        dependencies: Vec::new(),
        requires_python: None,
        overrides: Overrides::default(),
        position_ok: python_strip(&text[..found.span.start]).is_empty(),
        problems: Vec::new(),
    };
    match toml_edit::Document::parse(content.as_str()) {
        Err(error) => problems.push(Problem::new(
            "pep723-invalid",
            to_text_span(error.span()),
            format!(
                "the PEP-723 block is not valid TOML: {}",
                error.message().trim()
            ),
        )),
        Ok(document) => {
            let root = document.as_table();
            read_metadata(root, &mut block, &mut problems, &to_text_span);
        }
    }
    if let Some(problem) = position_problem(text, &found) {
        problems.push(problem);
    }
    block.content = content;
    block.problems = problems;
    block
}

fn read_metadata(
    root: &toml_edit::Table,
    block: &mut Pep723Block,
    problems: &mut Vec<Problem>,
    to_span: &dyn Fn(Option<std::ops::Range<usize>>) -> Span,
) {
    if let Some(item) = root.get("dependencies") {
        match item.as_array() {
            Some(array) => {
                for value in array.iter() {
                    match value.as_str() {
                        Some(dependency) => block.dependencies.push(dependency.to_string()),
                        None => problems.push(Problem::new(
                            "pep723-invalid",
                            to_span(value.span()),
                            "each entry of \"dependencies\" must be a string such as \"pandas>=2\"",
                        )),
                    }
                }
            }
            None => problems.push(Problem::new(
                "pep723-invalid",
                to_span(item.span()),
                "\"dependencies\" must be a list of strings, e.g. dependencies = [\"pandas\"]",
            )),
        }
    }
    if let Some(item) = root.get("requires-python") {
        match item.as_str() {
            Some(requirement) => block.requires_python = Some(requirement.to_string()),
            None => problems.push(Problem::new(
                "pep723-invalid",
                to_span(item.span()),
                "\"requires-python\" must be a string such as \">=3.11\"",
            )),
        }
    }
    let Some(tool) = root.get("tool").and_then(Item::as_table_like) else {
        return;
    };
    let Some(jellycell) = tool.get("jellycell") else {
        return;
    };
    match jellycell.as_table_like() {
        Some(table) => read_overrides(table, &mut block.overrides, problems, to_span),
        None => problems.push(Problem::new(
            "pep723-invalid",
            to_span(jellycell.span()),
            "[tool.jellycell] must be a table of overrides such as kernel = \"python3\"",
        )),
    }
}

fn read_overrides(
    table: &dyn TableLike,
    overrides: &mut Overrides,
    problems: &mut Vec<Problem>,
    to_span: &dyn Fn(Option<std::ops::Range<usize>>) -> Span,
) {
    for (key, item) in table.iter() {
        let key_span = to_span(
            table
                .get_key_value(key)
                .and_then(|(key, _)| key.span())
                .or_else(|| item.span()),
        );
        let qualified = FLAT_ALIASES
            .iter()
            .find(|(flat, _)| *flat == key)
            .map_or(key, |(_, qualified)| *qualified);
        if !ALLOWED_OVERRIDE_KEYS.contains(&qualified) {
            problems.push(Problem::new(
                "unknown-override-key",
                key_span,
                unknown_override_message(key, item),
            ));
            continue;
        }
        let value_span = to_span(
            item.span()
                .or_else(|| item.as_value().and_then(|v| v.span())),
        );
        match qualified {
            "run.timeout_seconds" => match item.as_integer() {
                Some(seconds) => overrides.timeout_seconds = Some(seconds),
                None => problems.push(Problem::new(
                    "pep723-invalid",
                    value_span,
                    format!("[tool.jellycell] {key} must be an integer number of seconds"),
                )),
            },
            _ => match item.as_str() {
                Some(value) if qualified == "run.kernel" => {
                    overrides.kernel = Some(value.to_string())
                }
                Some(value) if qualified == "run.python" => {
                    overrides.python = Some(value.to_string()).filter(|python| !python.is_empty())
                }
                Some(value) => overrides.project_name = Some(value.to_string()),
                None => problems.push(Problem::new(
                    "pep723-invalid",
                    value_span,
                    format!("[tool.jellycell] {key} must be a string"),
                )),
            },
        }
    }
}

fn unknown_override_message(key: &str, item: &Item) -> String {
    const ALLOWED: &str = "allowed: project.name, run.kernel, run.timeout_seconds, run.python, \
                           or the short forms name, kernel, timeout_seconds, python";
    if let Some(nested) = item.as_table_like() {
        let suggestions: Vec<String> = nested
            .iter()
            .map(|(sub, _)| format!("{key}.{sub}"))
            .filter(|qualified| ALLOWED_OVERRIDE_KEYS.contains(&qualified.as_str()))
            .map(|qualified| format!("\"{qualified}\" = ..."))
            .collect();
        if !suggestions.is_empty() {
            return format!(
                "[tool.jellycell] does not accept a nested table \"{key}\" (jellycell rejects \
                 it); write a quoted dotted key instead: {}",
                suggestions.join(", ")
            );
        }
    }
    let candidates = ALLOWED_OVERRIDE_KEYS
        .iter()
        .copied()
        .chain(FLAT_ALIASES.iter().map(|(flat, _)| *flat));
    match closest(key, candidates) {
        Some(candidate) => format!(
            "[tool.jellycell] override \"{key}\" is not allowed; did you mean \"{candidate}\"? \
             ({ALLOWED})"
        ),
        None => format!("[tool.jellycell] override \"{key}\" is not allowed ({ALLOWED})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BLOCK: &str = "# /// script\n# requires-python = \">=3.11\"\n# dependencies = [\n#   \"pandas>=2\",\n#   \"numpy\",\n# ]\n# ///";

    fn codes(block: &Pep723Block) -> Vec<&'static str> {
        block.problems.iter().map(|p| p.code).collect()
    }

    fn block_with(content: &str) -> Pep723Block {
        let lines: String = content
            .lines()
            .map(|line| {
                if line.is_empty() {
                    "#\n".to_string()
                } else {
                    format!("# {line}\n")
                }
            })
            .collect();
        find_block(&format!("# /// script\n{lines}# ///\n")).expect("block")
    }

    #[test]
    fn finds_a_block_at_the_top() {
        let text = format!("{BLOCK}\n\n# %%\nx = 1\n");
        let block = find_block(&text).expect("block");
        assert_eq!(block.span, Span::new(0, BLOCK.len()));
        assert_eq!(block.kind, "script");
        assert_eq!(block.dependencies, ["pandas>=2", "numpy"]);
        assert_eq!(block.requires_python.as_deref(), Some(">=3.11"));
        assert!(block.position_ok);
        assert!(block.problems.is_empty(), "{:?}", block.problems);
        assert!(block.content.starts_with("requires-python"));
        assert_eq!(block.content_span.slice(&text), &BLOCK[13..BLOCK.len() - 6]);
    }

    #[test]
    fn a_block_at_the_end_of_text_needs_no_newline() {
        assert!(find_block(BLOCK).is_some());
    }

    #[test]
    fn only_the_first_block_counts_and_it_must_be_a_script() {
        let text = format!("# /// pyproject\n# a = 1\n# ///\n\nx = 1\n\n{BLOCK}\n");
        assert!(find_block(&text).is_none());
        let text = format!("{BLOCK}\nx = 1\n# /// script\n# b = 2\n# ///\n");
        assert_eq!(
            find_block(&text).expect("block").span,
            Span::new(0, BLOCK.len())
        );
    }

    #[test]
    fn the_content_is_greedy_up_to_the_last_reachable_closer() {
        let text = "# /// script\n# a = 1\n# ///\n# /// script\n# b = 2\n# ///\nx = 1\n";
        let block = find_block(text).expect("block");
        assert_eq!(block.span, Span::new(0, text.len() - 7));
    }

    #[test]
    fn lines_that_are_not_comments_break_the_block() {
        assert!(find_block("# /// script\n#a = 1\n# ///\n").is_none());
        assert!(find_block("# /// script\n# ///\n").is_none());
        assert!(find_block("# /// script\na = 1\n# ///\n").is_none());
    }

    #[test]
    fn the_type_must_be_ascii_alphanumeric_or_dash() {
        assert!(find_block("# /// script \n# a = 1\n# ///\n").is_none());
        assert!(find_block("#  /// script\n# a = 1\n# ///\n").is_none());
    }

    #[test]
    fn crlf_blocks_parse_like_lf_blocks() {
        let lf = format!("{BLOCK}\n\n# %%\nx = 1\n");
        let crlf = lf.replace('\n', "\r\n");
        let (a, b) = (
            find_block(&lf).expect("lf"),
            find_block(&crlf).expect("crlf"),
        );
        assert!(b.crlf);
        assert_eq!(b.span.slice(&crlf), BLOCK.replace('\n', "\r\n"));
        assert_eq!(a.content, b.content);
        assert_eq!(a.dependencies, b.dependencies);
        assert!(b.problems.is_empty(), "{:?}", b.problems);
    }

    #[test]
    fn position_ok_allows_only_whitespace_before() {
        assert!(position_ok("x = 1\n"));
        assert!(position_ok(&format!("\n  \n{BLOCK}\n")));
        assert!(!position_ok(&format!("import os\n{BLOCK}\n")));
        // jellycell checks the first block of any type.
        assert!(!position_ok("x = 1\n# /// pyproject\n# a = 1\n# ///\n"));
    }

    #[test]
    fn a_misplaced_block_is_reported_with_its_opening_line() {
        let text = format!("# %%\nimport os\n\n{BLOCK}\n");
        let block = find_block(&text).expect("block");
        assert!(!block.position_ok);
        assert_eq!(codes(&block), ["pep723-position"]);
        assert_eq!(block.problems[0].span.slice(&text), "# /// script");
        assert!(block.problems[0].message.contains("moved to the top"));
    }

    #[test]
    fn move_to_top_matches_jellycell() {
        let text = format!("# %%\nimport os\n\n{BLOCK}\n\n# %%\nx = 1\n");
        assert_eq!(
            move_to_top(&text),
            format!("{BLOCK}\n\n# %%\nimport os\n\n\n\n# %%\nx = 1\n")
        );
        let only_block = format!("\n\nx\n{BLOCK}\n");
        assert_eq!(move_to_top(&only_block), format!("{BLOCK}\n\nx\n"));
        let at_top = format!("{BLOCK}\nx = 1");
        assert_eq!(move_to_top(&at_top), at_top);
        assert_eq!(move_to_top("x = 1"), "x = 1");
    }

    #[test]
    fn move_to_top_keeps_crlf() {
        let text = format!("x = 1\r\n{}\r\n", BLOCK.replace('\n', "\r\n"));
        let moved = move_to_top(&text);
        assert_eq!(
            moved,
            format!("{}\r\n\r\nx = 1\r\n", BLOCK.replace('\n', "\r\n"))
        );
    }

    #[test]
    fn move_to_top_fix_applies_to_the_same_result() {
        let text = format!("# %%\nimport os\n\n{BLOCK}\n\n# %%\nx = 1\n");
        let fix = move_to_top_fix(&text).expect("fix");
        let mut fixed = text.clone();
        fixed.replace_range(fix.span.range(), &fix.new_text);
        assert_eq!(fixed, move_to_top(&text));
        assert!(move_to_top_fix(&format!("{BLOCK}\n")).is_none());
    }

    #[test]
    fn bad_toml_is_reported_inside_the_block() {
        let text = "# /// script\n# dependencies = [\n# requires-python = 3\n# ///\n";
        let block = find_block(text).expect("block");
        assert_eq!(codes(&block), ["pep723-invalid"]);
        let span = block.problems[0].span;
        assert!(block.span.start <= span.start && span.end <= block.span.end);
        assert!(block.problems[0].message.contains("not valid TOML"));
    }

    #[test]
    fn wrong_types_are_reported() {
        let block = block_with("dependencies = \"pandas\"\nrequires-python = 3");
        assert_eq!(codes(&block), ["pep723-invalid", "pep723-invalid"]);
        let block = block_with("dependencies = [\"a\", 1]");
        assert_eq!(block.dependencies, ["a"]);
        assert_eq!(codes(&block), ["pep723-invalid"]);
    }

    #[test]
    fn overrides_accept_qualified_flat_and_quoted_dotted_keys() {
        let block = block_with(
            "[tool.jellycell]\nname = \"demo\"\n\"run.kernel\" = \"python3\"\ntimeout_seconds = 30",
        );
        assert!(block.problems.is_empty(), "{:?}", block.problems);
        assert_eq!(
            block.overrides,
            Overrides {
                project_name: Some("demo".into()),
                kernel: Some("python3".into()),
                timeout_seconds: Some(30),
                python: None,
            }
        );
    }

    #[test]
    fn unknown_override_keys_suggest_the_allowed_one() {
        let text = "# /// script\n# [tool.jellycell]\n# timeouts = 5\n# ///\n";
        let block = find_block(text).expect("block");
        assert_eq!(codes(&block), ["unknown-override-key"]);
        assert_eq!(block.problems[0].span.slice(text), "timeouts");
        assert!(
            block.problems[0]
                .message
                .contains("did you mean \"timeout_seconds\"?"),
            "{}",
            block.problems[0].message
        );
    }

    #[test]
    fn nested_override_tables_are_rejected_with_the_dotted_form() {
        let block = block_with("[tool.jellycell.run]\nkernel = \"python3\"");
        assert_eq!(codes(&block), ["unknown-override-key"]);
        assert!(block.problems[0].message.contains("\"run.kernel\" = ..."));
        assert_eq!(block.overrides, Overrides::default());
        // An unquoted dotted key is the same nested table in TOML.
        let block = block_with("[tool.jellycell]\nrun.kernel = \"python3\"");
        assert_eq!(codes(&block), ["unknown-override-key"]);
    }

    #[test]
    fn override_values_of_the_wrong_type_are_reported() {
        let block = block_with("[tool.jellycell]\ntimeout_seconds = \"soon\"\nkernel = 3");
        assert_eq!(codes(&block), ["pep723-invalid", "pep723-invalid"]);
        assert!(block.overrides.is_empty());
    }

    #[test]
    fn python_line_breaks_inside_a_line_are_reported_on_that_line() {
        let text = "# /// script\n# a = \"x\u{2028}y\"\n# ///\n";
        let block = find_block(text).expect("block");
        assert!(codes(&block).contains(&"pep723-invalid"));
        assert_eq!(block.problems[0].span.slice(text), "# a = \"x\u{2028}y\"");
    }

    #[test]
    fn scan_reports_a_script_block_jellycell_cannot_see() {
        let text = "# /// script\n# dependencies = []\nimport os\n# ///\n";
        let (block, problems) = scan(text);
        assert!(block.is_none());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, "pep723-invalid");
        assert_eq!(problems[0].span.slice(text), "import os");
        let (_, problems) = scan("# /// script\n# a = 1\n");
        assert!(problems[0].message.contains("never closed"));
    }

    #[test]
    fn scan_reports_a_misplaced_block_of_another_type() {
        let (block, problems) = scan("x = 1\n# /// pyproject\n# a = 1\n# ///\n");
        assert!(block.is_none());
        assert_eq!(problems[0].code, "pep723-position");
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "(\\PC|\r|\n|# /// script\n|# ///|# |#\n){0,40}") {
            let (block, problems) = scan(&text);
            let _ = position_ok(&text);
            let moved = move_to_top(&text);
            if let Some(fix) = move_to_top_fix(&text) {
                let mut fixed = text.clone();
                fixed.replace_range(fix.span.range(), &fix.new_text);
                prop_assert_eq!(fixed, moved);
            }
            for problem in problems {
                prop_assert!(problem.span.end <= text.len());
                prop_assert!(text.is_char_boundary(problem.span.start));
                prop_assert!(text.is_char_boundary(problem.span.end));
            }
            if let Some(block) = block {
                prop_assert!(block.span.end <= text.len());
            }
        }

        #[test]
        fn crlf_variants_of_valid_blocks_parse_the_same(
            lines in proptest::collection::vec("[a-z]{1,5} = (\"[a-z ]{0,6}\"|[0-9]{1,3})", 1..5),
            deps in proptest::collection::vec("[a-z]{1,6}", 0..3),
            before in "(\n|  \n){0,2}",
        ) {
            let deps_line = format!(
                "dependencies = [{}]",
                deps.iter().map(|d| format!("\"{d}\"")).collect::<Vec<_>>().join(", ")
            );
            let mut body = String::from("# /// script\n");
            for line in std::iter::once(&deps_line).chain(lines.iter()) {
                body.push_str(&format!("# {line}\n"));
            }
            body.push_str("# ///\n# %%\nx = 1\n");
            let lf = format!("{before}{body}");
            let crlf = lf.replace('\n', "\r\n");
            let a = find_block(&lf);
            let b = find_block(&crlf);
            prop_assert!(a.is_some() && b.is_some());
            let (a, b) = (a.unwrap(), b.unwrap());
            prop_assert_eq!(&a.content, &b.content);
            prop_assert_eq!(&a.dependencies, &b.dependencies);
            prop_assert_eq!(&a.overrides, &b.overrides);
            prop_assert_eq!(a.problems.len(), b.problems.len());
            prop_assert_eq!(a.position_ok, b.position_ok);
        }
    }
}

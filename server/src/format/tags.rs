//! The jellycell cell spec: what a cell's `tags` say about its kind, name, deps and
//! timeout.
//!
//! [`parse_tags`] follows jellycell's `format/tags.py::parse_tags` exactly (walk in order,
//! one kind tag, last `name=` wins, `deps=` split on `;`/`,` and accumulated, integer
//! `timeout=`), except that where jellycell raises `TagParseError` and crashes `run`, we
//! keep going and report a problem (`unknown-kind`, `multiple-kinds`, `bad-timeout`) and
//! we also flag commas in `deps=` (`deps-no-comma`: nbformat rejects them in files) and
//! tags nbformat rejects otherwise (`bad-tag`: a comma in another tag, an empty tag, a
//! tag that is not a string).
//! [`spec_for_cell`] adds the cell type rule and points each problem at the exact quoted
//! tag in the header text. [`render_tags`] is the inverse, in jellycell's canonical order.

use serde_json::{Map, Value};

use crate::format::{CellType, Problem};
use crate::text::Span;
use crate::text::suggest::did_you_mean;

/// The six jellycell cell kinds. Untagged code cells are `Step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CellKind {
    Load,
    #[default]
    Step,
    Figure,
    Table,
    Setup,
    Note,
}

impl CellKind {
    /// Every kind, in the order jellycell declares them.
    pub const ALL: [CellKind; 6] = [
        CellKind::Load,
        CellKind::Step,
        CellKind::Figure,
        CellKind::Table,
        CellKind::Setup,
        CellKind::Note,
    ];

    /// The bare kind name: `load`, `step`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            CellKind::Load => "load",
            CellKind::Step => "step",
            CellKind::Figure => "figure",
            CellKind::Table => "table",
            CellKind::Setup => "setup",
            CellKind::Note => "note",
        }
    }

    /// The tag that sets this kind: `jc.load`, `jc.step`, ….
    pub fn tag(self) -> &'static str {
        match self {
            CellKind::Load => "jc.load",
            CellKind::Step => "jc.step",
            CellKind::Figure => "jc.figure",
            CellKind::Table => "jc.table",
            CellKind::Setup => "jc.setup",
            CellKind::Note => "jc.note",
        }
    }

    /// The kind a tag sets, if it is exactly one of the six kind tags (case-sensitive).
    pub fn from_tag(tag: &str) -> Option<CellKind> {
        CellKind::ALL.into_iter().find(|kind| kind.tag() == tag)
    }
}

/// What a cell's tags say, as jellycell's `CellSpec` plus what we keep for write-back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CellSpec {
    pub kind: CellKind,
    /// Whether a kind tag was present (`false`: `kind` is the default `Step`).
    pub kind_explicit: bool,
    /// The `name=` value (last one wins; an empty value clears it).
    pub name: Option<String>,
    /// The `deps=` names, in order, without empties or duplicates.
    pub deps: Vec<String>,
    /// The `timeout=` value in seconds (0 and negatives are accepted, as jellycell does).
    pub timeout_seconds: Option<i64>,
    /// Tags this spec does not account for, in order: foreign tags (`parameters`,
    /// `tearsheet`, unknown `key=value` attributes) and tags in error (an unknown or
    /// second kind tag, a bad `timeout=`), so that [`render_tags`] loses nothing.
    pub foreign_tags: Vec<String>,
}

/// A problem found by [`parse_tags`], pointing at the tag by its index in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagProblem {
    /// Index of the offending tag in the list given to [`parse_tags`].
    pub index: usize,
    pub code: &'static str,
    pub message: String,
}

/// Parses a tag list the way jellycell's `parse_tags` does, reporting instead of raising.
pub fn parse_tags<S: AsRef<str>>(tags: &[S]) -> (CellSpec, Vec<TagProblem>) {
    let mut spec = CellSpec::default();
    let mut problems = Vec::new();
    for (index, tag) in tags.iter().enumerate() {
        let tag = tag.as_ref();
        let mut problem = |code: &'static str, message: String| {
            problems.push(TagProblem {
                index,
                code,
                message,
            })
        };
        if let Some((first, second)) = split_joined_tags(tag) {
            problem(
                "missing-tag-comma",
                format!(
                    "tag \"{tag}\" is two tags with no comma between them (Python joins \
                     adjacent strings); write \"{first}\", \"{second}\""
                ),
            );
            if tag.starts_with("jc.") {
                // Not also an unknown kind: the fix above is the one to make.
                spec.foreign_tags.push(tag.to_string());
                continue;
            }
        }
        if let Some(kind) = CellKind::from_tag(tag) {
            if spec.kind_explicit {
                problem(
                    "multiple-kinds",
                    format!(
                        "\"{tag}\" is a second kind tag on this cell (it already has \"{}\"); \
                         a cell has exactly one kind, so remove one of them",
                        spec.kind.tag()
                    ),
                );
                spec.foreign_tags.push(tag.to_string());
            } else {
                spec.kind = kind;
                spec.kind_explicit = true;
            }
            continue;
        }
        if tag.starts_with("jc.") {
            let hint = did_you_mean(tag, CellKind::ALL.map(CellKind::tag));
            let message = if hint.is_empty() {
                format!(
                    "\"{tag}\" is not a cell kind; the kinds are jc.load, jc.step, jc.figure, \
                     jc.table, jc.setup and jc.note"
                )
            } else {
                format!("\"{tag}\" is not a cell kind{hint}")
            };
            problem("unknown-kind", message);
            spec.foreign_tags.push(tag.to_string());
            continue;
        }
        if tag.is_empty() {
            problem(
                "bad-tag",
                "an empty tag is not allowed (nbformat's tag schema rejects it, so jellycell \
                 cannot read the notebook); remove it"
                    .to_string(),
            );
        } else if tag.contains(',') && !is_deps_tag(tag) {
            problem(
                "bad-tag",
                format!(
                    "tag \"{tag}\" contains a comma, which nbformat's tag schema rejects (jellycell \
                     cannot read the notebook); remove the comma or split it into two tags"
                ),
            );
        }
        let Some((key, value)) = tag.split_once('=') else {
            spec.foreign_tags.push(tag.to_string());
            continue;
        };
        let value = python_strip(value);
        match python_strip(key) {
            "name" => spec.name = (!value.is_empty()).then(|| value.to_string()),
            "deps" => {
                if value.contains(',') {
                    problem("deps-no-comma", comma_deps_message(tag));
                }
                for dep in value.split([',', ';']) {
                    let dep = python_strip(dep);
                    if !dep.is_empty() && !spec.deps.iter().any(|known| known == dep) {
                        spec.deps.push(dep.to_string());
                    }
                }
            }
            "timeout" => match parse_python_int(value) {
                Some(seconds) => spec.timeout_seconds = Some(seconds),
                None => {
                    problem(
                        "bad-timeout",
                        format!(
                            "timeout= expects integer seconds, got \"{value}\"; \
                             write e.g. \"timeout=60\""
                        ),
                    );
                    spec.foreign_tags.push(tag.to_string());
                }
            },
            other => {
                if let Some(attribute) = misspelt_attribute(other) {
                    problem(
                        "unknown-attribute",
                        format!(
                            "\"{other}=\" is not a cell attribute, so this tag is ignored; \
                             did you mean \"{attribute}={value}\"?"
                        ),
                    );
                }
                spec.foreign_tags.push(tag.to_string());
            }
        }
    }
    (spec, problems)
}

/// The attributes jellycell reads from `key=value` tags.
const ATTRIBUTES: [&str; 3] = ["name", "deps", "timeout"];

/// The attribute `key` is a typo of (`dep` → `deps`, `nmae` → `name`), if any. Keys far
/// from every attribute are other tools' tags and pass through silently.
pub fn misspelt_attribute(key: &str) -> Option<&'static str> {
    let key = key.to_ascii_lowercase();
    if key.is_empty() {
        return None;
    }
    if let Some(exact) = ATTRIBUTES.iter().find(|attribute| **attribute == key) {
        // Only the case differs (`Deps=a`): jellycell's keys are case-sensitive.
        return Some(exact);
    }
    ATTRIBUTES
        .iter()
        .find(|attribute| crate::text::suggest::edit_distance(&key, attribute) == 1)
        .copied()
}

/// A tag that is two tags run together, as Python's implicit concatenation makes of
/// `"name=e" "deps=a"`: the two parts when the second starts with an attribute key or is
/// a kind tag, and the first is itself a kind tag or an attribute tag.
pub fn split_joined_tags(tag: &str) -> Option<(&str, &str)> {
    let starts_like_a_tag = |part: &str| {
        CellKind::from_tag(part).is_some()
            || ATTRIBUTES.iter().any(|key| {
                part.strip_prefix(key)
                    .is_some_and(|rest| rest.starts_with('='))
            })
    };
    tag.char_indices().skip(1).find_map(|(at, _)| {
        let (first, second) = tag.split_at(at);
        let second_is_tag = CellKind::from_tag(second).is_some()
            || ATTRIBUTES.iter().any(|key| {
                second
                    .strip_prefix(key)
                    .is_some_and(|rest| rest.starts_with('=') && rest.len() > 1)
            });
        (second_is_tag && starts_like_a_tag(first) && first.len() > 1).then_some((first, second))
    })
}

/// `deps-no-comma` problems for the comma-separated `deps=` literals written in `text`
/// (at `start` in the notebook), for lines that look like a header but are not one
/// (`# %%tags=[...]`): jellycell checks the raw text there, so we do too.
pub fn comma_deps_in_text(text: &str, start: usize) -> Vec<Problem> {
    quoted_literals(text)
        .into_iter()
        .filter(|(value, _)| split_comma_deps(value).is_some())
        .map(|(value, span)| {
            Problem::new(
                "deps-no-comma",
                span.shifted(start),
                comma_deps_message(&value),
            )
        })
        .collect()
}

/// The offset just after the first quoted literal of `text` (where a missing comma goes).
pub fn first_literal_end(text: &str) -> Option<usize> {
    quoted_literals(text).first().map(|(_, span)| span.end)
}

/// Where two adjacent literals whose joined value is `tag` are written in `header_text`
/// (from the first quote to the last).
pub fn joined_literals(header_text: &str, tag: &str) -> Option<Span> {
    let literals = quoted_literals(header_text);
    literals.windows(2).find_map(|pair| {
        let [(first, first_span), (second, second_span)] = pair else {
            return None;
        };
        let between = header_text.get(first_span.end..second_span.start)?;
        (format!("{first}{second}") == tag && between.trim().is_empty())
            .then(|| Span::new(first_span.start, second_span.end))
    })
}

fn comma_deps_message(tag: &str) -> String {
    let split = split_comma_deps(tag)
        .unwrap_or_default()
        .iter()
        .map(|tag| format!("\"{tag}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "tag \"{tag}\" uses comma-separated deps, which nbformat's tag schema rejects; \
         split into one tag per dep: {split}"
    )
}

fn is_deps_tag(tag: &str) -> bool {
    tag.split_once('=')
        .is_some_and(|(key, _)| python_strip(key) == "deps")
}

/// For a `deps=` tag that contains commas, the tags it should be split into (one
/// `deps=` tag per comma-separated part, empty parts dropped). `None` for other tags.
pub fn split_comma_deps(tag: &str) -> Option<Vec<String>> {
    let (key, value) = tag.split_once('=')?;
    if python_strip(key) != "deps" || !value.contains(',') {
        return None;
    }
    Some(
        value
            .split(',')
            .map(python_strip)
            .filter(|part| !part.is_empty())
            .map(|part| format!("deps={part}"))
            .collect(),
    )
}

/// The spec of a cell from its metadata. Code cells get their parsed tags; markdown and
/// raw cells get the default spec with their tags kept as `foreign_tags` (jellycell
/// ignores tags there), and only the problems nbformat would fail on (commas, empty or
/// non-string tags). `header_text` is the text the metadata was read from and
/// `header_start` its offset in the notebook text: each problem points at its tag's quoted
/// literal there, or at the whole header when the literal cannot be found.
pub fn spec_for_cell(
    cell_type: CellType,
    metadata: &Map<String, Value>,
    header_text: &str,
    header_start: usize,
) -> (CellSpec, Vec<Problem>) {
    let header_span = Span::new(header_start, header_start + header_text.len());
    let mut problems = Vec::new();
    let mut tags: Vec<&str> = Vec::new();
    match metadata.get("tags") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                match item.as_str() {
                    Some(tag) => tags.push(tag),
                    None => problems.push(Problem::new(
                        "bad-tag",
                        header_span,
                        format!("tag {item} is not a string; tags must be strings"),
                    )),
                }
            }
        }
        Some(other) => problems.push(Problem::new(
            "bad-tag",
            header_span,
            format!("tags must be a list of strings, got {other}"),
        )),
    }
    let (mut spec, mut tag_problems) = parse_tags(&tags);
    if cell_type != CellType::Code {
        spec = CellSpec {
            foreign_tags: tags.iter().map(|tag| tag.to_string()).collect(),
            ..CellSpec::default()
        };
        // jellycell ignores tags here, but nbformat still validates every cell's tags.
        tag_problems.retain(|problem| matches!(problem.code, "deps-no-comma" | "bad-tag"));
    }
    if !tag_problems.is_empty() {
        let spans = tag_spans(header_text, header_start, &tags);
        for problem in tag_problems {
            let joined = (problem.code == "missing-tag-comma")
                .then(|| tags.get(problem.index))
                .flatten()
                .and_then(|tag| joined_literals(header_text, tag))
                .map(|span| span.shifted(header_start));
            let span = joined
                .or_else(|| spans.get(problem.index).copied().flatten())
                .unwrap_or(header_span);
            problems.push(Problem::new(problem.code, span, problem.message));
        }
    }
    (spec, problems)
}

/// The canonical tag list for a spec, in jellycell's order: the kind, `name=`, one
/// `deps=` per dep, `timeout=`; then the foreign tags, which jellycell drops but we keep.
pub fn render_tags(spec: &CellSpec) -> Vec<String> {
    let mut tags = vec![spec.kind.tag().to_string()];
    if let Some(name) = &spec.name {
        tags.push(format!("name={name}"));
    }
    tags.extend(spec.deps.iter().map(|dep| format!("deps={dep}")));
    if let Some(seconds) = spec.timeout_seconds {
        tags.push(format!("timeout={seconds}"));
    }
    tags.extend(spec.foreign_tags.iter().cloned());
    tags
}

/// The name other cells use to refer to a cell: its `name=` tag, else `<stem>:<ordinal>`
/// (the ordinal counts every cell, markdown too), as jellycell's runner does.
pub fn cell_name(spec: &CellSpec, stem: &str, ordinal: usize) -> String {
    match &spec.name {
        Some(name) => name.clone(),
        None => format!("{stem}:{ordinal}"),
    }
}

/// Where each tag is written in `header_text`, shifted by `header_start`: the span of its
/// quoted literal (quotes included), matched in order. A tag with no quoted literal is
/// looked for as bare text (YAML flow lists such as `[jc.step, name=x]`); `None` when
/// neither is found.
pub fn tag_spans<S: AsRef<str>>(
    header_text: &str,
    header_start: usize,
    tags: &[S],
) -> Vec<Option<Span>> {
    let literals = quoted_literals(header_text);
    let mut next_literal = 0;
    let mut cursor = 0;
    let mut spans = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = tag.as_ref();
        let quoted = literals[next_literal..]
            .iter()
            .position(|(value, _)| value == tag)
            .map(|offset| next_literal + offset);
        if let Some(found) = quoted {
            let span = literals[found].1;
            next_literal = found + 1;
            cursor = cursor.max(span.end);
            spans.push(Some(span.shifted(header_start)));
            continue;
        }
        match find_bare(header_text, tag, cursor) {
            Some(span) => {
                cursor = span.end;
                while literals
                    .get(next_literal)
                    .is_some_and(|(_, literal)| literal.start < cursor)
                {
                    next_literal += 1;
                }
                spans.push(Some(span.shifted(header_start)));
            }
            None => spans.push(None),
        }
    }
    spans
}

fn find_bare(text: &str, tag: &str, from: usize) -> Option<Span> {
    if tag.is_empty() {
        return None;
    }
    let mut search_from = from;
    while let Some(rest) = text.get(search_from..) {
        let found = search_from + rest.find(tag)?;
        let end = found + tag.len();
        let before_ok = text[..found]
            .chars()
            .next_back()
            .is_none_or(|c| matches!(c, '[' | ',' | ' ' | '\t' | ':' | '\n' | '\r'));
        let after_ok = text[end..]
            .chars()
            .next()
            .is_none_or(|c| matches!(c, ']' | ',' | ' ' | '\t' | '\n' | '\r'));
        if before_ok && after_ok {
            return Some(Span::new(found, end));
        }
        search_from = found + tag.chars().next().map_or(1, char::len_utf8);
    }
    None
}

/// Every single- or double-quoted string literal in `text`, decoded (JSON escapes), with
/// its span including the quotes. An unterminated literal ends the scan.
fn quoted_literals(text: &str) -> Vec<(String, Span)> {
    let mut literals = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c != '"' && c != '\'' {
            continue;
        }
        let quote = c;
        let mut value = String::new();
        let mut end = None;
        while let Some((index, c)) = chars.next() {
            if c == quote {
                end = Some(index + 1);
                break;
            }
            if c != '\\' {
                value.push(c);
                continue;
            }
            let Some((_, escaped)) = chars.next() else {
                break;
            };
            match escaped {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                'r' => value.push('\r'),
                'b' => value.push('\u{8}'),
                'f' => value.push('\u{c}'),
                'u' => {
                    let first = read_hex4(&mut chars);
                    let decoded = match first {
                        Some(high @ 0xD800..=0xDBFF) => {
                            let mut lookahead = chars.clone();
                            let low = match (lookahead.next(), lookahead.next()) {
                                (Some((_, '\\')), Some((_, 'u'))) => read_hex4(&mut lookahead),
                                _ => None,
                            };
                            match low {
                                Some(low @ 0xDC00..=0xDFFF) => {
                                    chars = lookahead;
                                    char::from_u32(
                                        0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00),
                                    )
                                }
                                _ => None,
                            }
                        }
                        Some(code) => char::from_u32(code),
                        None => None,
                    };
                    value.push(decoded.unwrap_or(char::REPLACEMENT_CHARACTER));
                }
                other => value.push(other),
            }
        }
        match end {
            Some(end) => literals.push((value, Span::new(start, end))),
            None => break,
        }
    }
    literals
}

fn read_hex4(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Option<u32> {
    let mut code = 0;
    for _ in 0..4 {
        let digit = chars.peek()?.1.to_digit(16)?;
        chars.next();
        code = code * 16 + digit;
    }
    Some(code)
}

/// Python's `str.strip()`: Rust's `trim` plus the separators U+001C..U+001F, which
/// Python counts as whitespace.
pub(crate) fn python_strip(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// Python's `int(text)` for text already stripped: optional sign, ASCII digits with
/// single underscores between them. `None` for anything else or beyond `i64`.
fn parse_python_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    let cleaned: String = digits.chars().filter(|c| *c != '_').collect();
    let magnitude: i128 = cleaned.parse().ok()?;
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn spec(tags: &[&str]) -> CellSpec {
        parse_tags(tags).0
    }

    fn codes(tags: &[&str]) -> Vec<&'static str> {
        parse_tags(tags).1.iter().map(|p| p.code).collect()
    }

    fn metadata(tags: Value) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("tags".into(), tags);
        map
    }

    #[test]
    fn untagged_cells_are_anonymous_steps() {
        let parsed = spec(&[]);
        assert_eq!(parsed, CellSpec::default());
        assert_eq!(parsed.kind, CellKind::Step);
        assert!(!parsed.kind_explicit);
    }

    #[test]
    fn kind_name_deps_and_timeout_are_read() {
        let parsed = spec(&["jc.figure", "name=plot", "deps=summary", "timeout=60"]);
        assert_eq!(parsed.kind, CellKind::Figure);
        assert!(parsed.kind_explicit);
        assert_eq!(parsed.name.as_deref(), Some("plot"));
        assert_eq!(parsed.deps, ["summary"]);
        assert_eq!(parsed.timeout_seconds, Some(60));
        assert!(parsed.foreign_tags.is_empty());
    }

    #[test]
    fn last_name_wins_and_an_empty_name_clears_it() {
        assert_eq!(spec(&["name=a", "name=b"]).name.as_deref(), Some("b"));
        assert_eq!(spec(&["name=a", "name= "]).name, None);
    }

    #[test]
    fn keys_and_values_are_stripped() {
        let parsed = spec(&[" name = raw ", "deps = a ; b "]);
        assert_eq!(parsed.name.as_deref(), Some("raw"));
        assert_eq!(parsed.deps, ["a", "b"]);
    }

    #[test]
    fn deps_accumulate_split_on_semicolons_and_drop_empties_and_duplicates() {
        let parsed = spec(&["deps=a;b", "deps=b", "deps=;c;;", "deps=a"]);
        assert_eq!(parsed.deps, ["a", "b", "c"]);
    }

    #[test]
    fn comma_deps_are_split_but_reported() {
        let (parsed, problems) = parse_tags(&["deps=a, b"]);
        assert_eq!(parsed.deps, ["a", "b"]);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, "deps-no-comma");
        assert!(
            problems[0]
                .message
                .contains("split into one tag per dep: \"deps=a\", \"deps=b\""),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn split_comma_deps_gives_one_tag_per_dep() {
        assert_eq!(
            split_comma_deps("deps=a,,c"),
            Some(vec!["deps=a".to_string(), "deps=c".to_string()])
        );
        assert_eq!(split_comma_deps("deps=a;b"), None);
        assert_eq!(split_comma_deps("name=a,b"), None);
    }

    #[test]
    fn unknown_kind_suggests_the_nearest_kind() {
        let (parsed, problems) = parse_tags(&["jc.stepp"]);
        assert_eq!(parsed.kind, CellKind::Step);
        assert_eq!(problems[0].code, "unknown-kind");
        assert!(
            problems[0].message.contains("did you mean \"jc.step\"?"),
            "{}",
            problems[0].message
        );
        assert_eq!(parsed.foreign_tags, ["jc.stepp"]);
    }

    #[test]
    fn unknown_kind_far_from_any_lists_the_kinds() {
        let (_, problems) = parse_tags(&["jc.banana"]);
        assert!(problems[0].message.contains("jc.load, jc.step"));
    }

    #[test]
    fn kind_tags_are_case_sensitive() {
        let (parsed, problems) = parse_tags(&["JC.step"]);
        assert!(problems.is_empty());
        assert_eq!(parsed.foreign_tags, ["JC.step"]);
        assert!(!parsed.kind_explicit);
    }

    #[test]
    fn a_second_kind_is_reported_and_the_first_kept() {
        let (parsed, problems) = parse_tags(&["jc.load", "jc.step"]);
        assert_eq!(parsed.kind, CellKind::Load);
        assert_eq!(problems[0].code, "multiple-kinds");
        assert_eq!(problems[0].index, 1);
        // Even the same kind twice: jellycell raises on any second kind tag.
        assert_eq!(codes(&["jc.step", "jc.step"]), ["multiple-kinds"]);
    }

    #[test]
    fn timeouts_follow_python_int() {
        assert_eq!(spec(&["timeout=0"]).timeout_seconds, Some(0));
        assert_eq!(spec(&["timeout=-5"]).timeout_seconds, Some(-5));
        assert_eq!(spec(&["timeout=+7"]).timeout_seconds, Some(7));
        assert_eq!(spec(&["timeout=1_000"]).timeout_seconds, Some(1000));
        assert_eq!(spec(&["timeout= 30 "]).timeout_seconds, Some(30));
        for bad in [
            "timeout=1.5",
            "timeout=",
            "timeout=abc",
            "timeout=1__0",
            "timeout=_1",
        ] {
            assert_eq!(codes(&[bad]), ["bad-timeout"], "{bad}");
            assert_eq!(spec(&[bad]).timeout_seconds, None);
        }
        assert_eq!(codes(&["timeout=99999999999999999999"]), ["bad-timeout"]);
    }

    #[test]
    fn foreign_tags_and_unknown_attributes_are_kept_in_order() {
        let parsed = spec(&["parameters", "jc.step", "cache=false", "tearsheet"]);
        assert_eq!(
            parsed.foreign_tags,
            ["parameters", "cache=false", "tearsheet"]
        );
    }

    #[test]
    fn render_tags_is_canonical_and_round_trips() {
        let parsed = spec(&["timeout=5", "deps=a;b", "name=x", "jc.table", "tearsheet"]);
        let rendered = render_tags(&parsed);
        assert_eq!(
            rendered,
            [
                "jc.table",
                "name=x",
                "deps=a",
                "deps=b",
                "timeout=5",
                "tearsheet"
            ]
        );
        assert_eq!(
            spec(&rendered.iter().map(String::as_str).collect::<Vec<_>>()),
            parsed
        );
    }

    #[test]
    fn render_tags_of_the_default_is_jc_step() {
        assert_eq!(render_tags(&CellSpec::default()), ["jc.step"]);
    }

    #[test]
    fn cell_name_falls_back_to_stem_and_ordinal() {
        assert_eq!(cell_name(&spec(&["name=raw"]), "prep", 3), "raw");
        assert_eq!(cell_name(&spec(&[]), "prep", 3), "prep:3");
    }

    #[test]
    fn spec_for_cell_points_problems_at_the_quoted_tag() {
        let header = r#"# %% tags=["jc.step", "jc.stepp"]"#;
        let (_, problems) = spec_for_cell(
            CellType::Code,
            &metadata(json!(["jc.step", "jc.stepp"])),
            header,
            100,
        );
        assert_eq!(problems.len(), 1);
        let local = Span::new(problems[0].span.start - 100, problems[0].span.end - 100);
        assert_eq!(local.slice(header), "\"jc.stepp\"");
    }

    #[test]
    fn spec_for_cell_matches_repeated_tags_in_order() {
        let header = r#"# %% tags=['jc.load', "jc.load"]"#;
        let (_, problems) = spec_for_cell(
            CellType::Code,
            &metadata(json!(["jc.load", "jc.load"])),
            header,
            0,
        );
        assert_eq!(problems[0].span.slice(header), "\"jc.load\"");
        assert_eq!(problems[0].span.start, header.rfind('"').unwrap() - 8);
    }

    #[test]
    fn spec_for_cell_decodes_json_escapes() {
        let header = r#"# %% tags=["caf\u00e9", "timeout=\u0031x"]"#;
        let (_, problems) = spec_for_cell(
            CellType::Code,
            &metadata(json!(["café", "timeout=1x"])),
            header,
            0,
        );
        assert_eq!(problems[0].span.slice(header), r#""timeout=\u0031x""#);
    }

    #[test]
    fn spec_for_cell_finds_bare_yaml_tags() {
        let header = ":tags: [jc.step, timeout=soon]";
        let (_, problems) = spec_for_cell(
            CellType::Code,
            &metadata(json!(["jc.step", "timeout=soon"])),
            header,
            0,
        );
        assert_eq!(problems[0].span.slice(header), "timeout=soon");
    }

    #[test]
    fn spec_for_cell_falls_back_to_the_header_span() {
        let (_, problems) =
            spec_for_cell(CellType::Code, &metadata(json!(["jc.nope"])), "# %%", 10);
        assert_eq!(problems[0].span, Span::new(10, 14));
    }

    #[test]
    fn non_code_cells_get_the_default_spec_with_tags_kept() {
        let (parsed, problems) = spec_for_cell(
            CellType::Markdown,
            &metadata(json!(["jc.stepp", "name=x"])),
            "",
            0,
        );
        assert!(problems.is_empty());
        assert_eq!(parsed.kind, CellKind::Step);
        assert_eq!(parsed.name, None);
        assert_eq!(parsed.foreign_tags, ["jc.stepp", "name=x"]);
    }

    #[test]
    fn commas_and_empty_tags_in_other_tags_are_bad_tags() {
        assert_eq!(codes(&["note, important"]), ["bad-tag"]);
        assert_eq!(codes(&["name=a,b"]), ["bad-tag"]);
        assert_eq!(codes(&[""]), ["bad-tag"]);
        assert_eq!(codes(&["deps=a,b"]), ["deps-no-comma"]);
    }

    #[test]
    fn non_code_cells_still_report_what_nbformat_rejects() {
        let (_, problems) = spec_for_cell(
            CellType::Markdown,
            &metadata(json!(["jc.stepp", "deps=a,b", "x,y"])),
            "",
            0,
        );
        let codes: Vec<_> = problems.iter().map(|p| p.code).collect();
        assert_eq!(codes, ["deps-no-comma", "bad-tag"]);
    }

    #[test]
    fn non_string_tags_are_reported_not_fatal() {
        let (parsed, problems) =
            spec_for_cell(CellType::Code, &metadata(json!(["jc.load", 3])), "# %%", 0);
        assert_eq!(parsed.kind, CellKind::Load);
        assert_eq!(problems[0].code, "bad-tag");
        let (_, problems) = spec_for_cell(CellType::Code, &metadata(json!("jc.load")), "# %%", 0);
        assert_eq!(problems[0].code, "bad-tag");
    }

    proptest! {
        #[test]
        fn arbitrary_tag_lists_never_panic(
            tags in proptest::collection::vec(
                prop_oneof![
                    "\\PC{0,12}",
                    "(jc\\.|name=|deps=|timeout=)[a-z0-9,; _.=+-]{0,8}",
                ],
                0..8,
            ),
            header in "\\PC{0,60}",
            start in 0usize..1000,
        ) {
            let (spec, problems) = parse_tags(&tags);
            let rendered = render_tags(&spec);
            prop_assert!(!rendered.is_empty());
            let meta = metadata(json!(tags));
            let (_, problems_with_spans) = spec_for_cell(CellType::Code, &meta, &header, start);
            prop_assert_eq!(problems.len(), problems_with_spans.len());
            for problem in problems_with_spans {
                prop_assert!(problem.span.start >= start);
                prop_assert!(problem.span.end <= start + header.len());
            }
        }

        #[test]
        fn parsing_rendered_tags_gives_the_same_spec(
            tags in proptest::collection::vec("(jc\\.(load|step|note)|name=[a-z]{0,3}|deps=[a-z;]{0,5}|timeout=[0-9]{1,3}|[a-z]{1,4})", 0..6),
        ) {
            let (spec, problems) = parse_tags(&tags);
            prop_assume!(problems.is_empty());
            let (again, _) = parse_tags(&render_tags(&spec));
            prop_assert_eq!(again.kind, spec.kind);
            prop_assert_eq!(again.name, spec.name);
            prop_assert_eq!(again.deps, spec.deps);
            prop_assert_eq!(again.timeout_seconds, spec.timeout_seconds);
        }
    }
}

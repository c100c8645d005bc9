//! Sanitizers: regex replacements applied to every compared string, on both the reference
//! and the fresh outputs, in order. nbval's file format (`--nbval-sanitize-with`): a line
//! `regex: PATTERN` followed on the very next line by `replace: REPLACEMENT`; anything
//! else (`[section]` headers, blank lines, comments) is ignored. Python's replacement
//! syntax (`\1`, `\g<1>`, `\g<name>`) is translated. Built-in sanitizers, off unless
//! asked for, cover the noise nbval's users report most: memory addresses, timestamps and
//! matplotlib's `<Figure size WxH with N Axes>`.

use regex::Regex;

/// One `regex:`/`replace:` pair.
#[derive(Debug, Clone)]
pub struct Sanitizer {
    pub pattern: Regex,
    /// In the regex crate's syntax (`${1}`).
    pub replacement: String,
}

/// The built-in sanitizers, by the name `--sanitize` takes.
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "addresses",
        "object addresses: `0x7f3a2c1d90` → `0xADDRESS`",
    ),
    (
        "timestamps",
        "ISO dates and times and epoch seconds: `2026-12-01 12:42:50.123` → `TIMESTAMP`",
    ),
    (
        "figures",
        "matplotlib figure sizes: `<Figure size 640x480 with 1 Axes>` → `<Figure size WxH with 1 Axes>`",
    ),
];

/// The built-in sanitizer `name` (one of [`BUILT_IN`]).
pub fn built_in(name: &str) -> Option<Vec<Sanitizer>> {
    let pairs: &[(&str, &str)] = match name {
        "addresses" => &[(r"\b0x[0-9a-fA-F]{6,16}\b", "0xADDRESS")],
        "timestamps" => &[
            (
                r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b",
                "TIMESTAMP",
            ),
            (r"\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b", "TIMESTAMP"),
            (r"\b1\d{9}(?:\.\d+)?\b", "TIMESTAMP"),
        ],
        "figures" => &[(
            r"<Figure size \d+(?:\.\d+)?x\d+(?:\.\d+)? with (\d+) Axes>",
            "<Figure size WxH with ${1} Axes>",
        )],
        _ => return None,
    };
    pairs
        .iter()
        .map(|(pattern, replacement)| {
            Regex::new(pattern).ok().map(|pattern| Sanitizer {
                pattern,
                replacement: (*replacement).to_string(),
            })
        })
        .collect()
}

/// The sanitizers of an nbval sanitizer file's `text`; an error names the line and why
/// (`path` is only for the message).
pub fn parse_file(path: &str, text: &str) -> Result<Vec<Sanitizer>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut sanitizers = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(pattern) = line.strip_prefix("regex: ") else {
            continue;
        };
        let Some(replacement) = lines
            .get(index + 1)
            .and_then(|next| next.strip_prefix("replace: "))
        else {
            // nbval's pattern needs `replace:` on the very next line; say so instead of
            // dropping the pair silently.
            return Err(format!(
                "{path}:{}: `regex:` must be followed on the next line by `replace: REPLACEMENT`",
                index + 1
            ));
        };
        let compiled = Regex::new(pattern)
            .map_err(|error| format!("{path}:{}: bad regex {pattern:?}: {error}", index + 1))?;
        sanitizers.push(Sanitizer {
            pattern: compiled,
            replacement: python_replacement(replacement),
        });
    }
    Ok(sanitizers)
}

/// `text` with every sanitizer applied in order.
pub fn apply(sanitizers: &[Sanitizer], text: &str) -> String {
    let mut text = text.to_string();
    for sanitizer in sanitizers {
        text = sanitizer
            .pattern
            .replace_all(&text, sanitizer.replacement.as_str())
            .into_owned();
    }
    text
}

/// Python's `re.sub` replacement syntax in the regex crate's: `\1`, `\g<1>` and
/// `\g<name>` become `${1}` and `${name}`, `$` is escaped, other escapes (`\n`) kept as
/// Python reads them.
fn python_replacement(replacement: &str) -> String {
    let mut out = String::new();
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(digit @ '0'..='9') => {
                    chars.next();
                    out.push_str(&format!("${{{digit}}}"));
                }
                Some('g') => {
                    chars.next();
                    if chars.peek() == Some(&'<') {
                        chars.next();
                        let group: String = chars.by_ref().take_while(|&c| c != '>').collect();
                        out.push_str(&format!("${{{group}}}"));
                    } else {
                        out.push_str("\\g");
                    }
                }
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('t') => {
                    chars.next();
                    out.push('\t');
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nbval_files_pair_regex_and_replace_lines_and_ignore_sections() {
        let file = "[addresses]\nregex: 0x[0-9a-f]+\nreplace: 0xADDR\n\n[time]\nregex: (\\d{10})\\.\\d+\nreplace: T\\1\n";
        let sanitizers = parse_file("s.cfg", file).unwrap_or_default();
        assert_eq!(sanitizers.len(), 2);
        assert_eq!(
            apply(&sanitizers, "<Foo at 0x7f00ab> 1700000000.25 $"),
            "<Foo at 0xADDR> T1700000000 $"
        );
    }

    #[test]
    fn a_regex_without_its_replace_line_is_an_error_naming_the_line() {
        let error = parse_file("s.cfg", "regex: a\n\nreplace: b\n").err();
        assert_eq!(
            error.as_deref(),
            Some("s.cfg:1: `regex:` must be followed on the next line by `replace: REPLACEMENT`")
        );
        let bad = parse_file("s.cfg", "regex: (\nreplace: b\n").err();
        assert!(bad.is_some_and(|message| message.starts_with("s.cfg:1: bad regex")));
    }

    #[test]
    fn built_ins_hide_addresses_timestamps_and_figure_sizes() {
        let all: Vec<Sanitizer> = BUILT_IN
            .iter()
            .flat_map(|(name, _)| built_in(name).unwrap_or_default())
            .collect();
        assert_eq!(
            apply(
                &all,
                "<__main__.Foo at 0x7f1119ba3090> at 2026-12-01T12:42:50.123Z, 12:42:50, 1764592970.5 <Figure size 640x480 with 2 Axes>"
            ),
            "<__main__.Foo at 0xADDRESS> at TIMESTAMP, TIMESTAMP, TIMESTAMP <Figure size WxH with 2 Axes>"
        );
        assert!(built_in("nope").is_none());
    }

    #[test]
    fn python_group_references_become_regex_crate_ones() {
        assert_eq!(
            python_replacement(r"\1-\g<2>-\g<name>$"),
            "${1}-${2}-${name}$$"
        );
    }
}

//! jupytext's comment-magic rules (`magics.py`): which commented lines in a code cell are
//! Jupyter magics that the reader uncomments (`# %matplotlib`, `# !pip`, `# x = !ls`,
//! `# ?help`, and — jupytext's trap — comments starting with a shell word such as
//! `# ls the files`), and how the writer comments them again.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::lines::{WS, is_py_space, py_lstrip};
use super::strings::{StringParser, comment_for_language};

fn regex(pattern: &str) -> Regex {
    // The patterns are constants of this module: a failure is a bug caught by every test.
    Regex::new(&pattern.replace("WS", WS))
        .unwrap_or_else(|error| panic!("bad pattern {pattern}: {error}"))
}

/// `_MAGIC_RE` for `#`-comment languages.
static MAGIC: LazyLock<Regex> = LazyLock::new(|| regex(r"^WS*(# |#)*(%|%%|%%%)[a-zA-Z]"));
static MAGIC_FORCE_ESC: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^WS*(# |#)*(%|%%|%%%)[a-zA-Z](.*)#WS*escape"));
static MAGIC_NOT_ESC: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^WS*(# |#)*(%|%%|%%%)[a-zA-Z](.*)#WS*noescape"));
static HELP_OR_BASH: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^WS*(?:(?:# |#)+WS*)?(\?|!)WS*[A-Za-z\.\~\$\\/\{\}]"));
/// The shell words of `_PYTHON_MAGIC_CMD` (posix, then windows).
const SHELL_WORDS: &[&str] = &[
    "cat", "cd", "cp", "mv", "rm", "rmdir", "mkdir", "copy", "ddir", "echo", "ls", "ldir", "ren",
];
static IPYTHON_HELP: LazyLock<Regex> = LazyLock::new(|| regex(r"^WS*(# )*[^\s\x1c-\x1f]*\?WS*$"));
static MAGIC_ASSIGN: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^(# |#)*WS*([a-zA-Z_][a-zA-Z_$0-9]*)WS*=WS*(%|%%|%%%|!)[a-zA-Z](.*)"));
static LINE_CONTINUATION: LazyLock<Regex> = LazyLock::new(|| regex(r"^.*\\WS*$"));
/// `_ESCAPED_CODE_START[".py"]`: a commented light-format `# +` marker.
static ESCAPED_CODE_START: LazyLock<Regex> = LazyLock::new(|| regex(r"^(# |#)*(#|# )\+"));

/// Why a line is a magic, for the lint that warns about English comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MagicKind {
    /// `%magic`, `!cmd`, `?help`, `x = !cmd`, …
    Jupyter,
    /// Only because it starts with a shell word (`ls`, `cd`, `echo`, …).
    ShellWord,
}

/// `usual_language_name`, reduced to what the magic rules look at.
fn usual_language_name(language: &str) -> String {
    let lower = language.to_lowercase();
    match lower.as_str() {
        "r" => "R".into(),
        l if l.starts_with("c++") => "c++".into(),
        "octave" => "matlab".into(),
        "sas" | "jenner" | "logtalk" => lower,
        "c#" | "cs" => "csharp".into(),
        "f#" | "fs" => "fsharp".into(),
        _ => lower,
    }
}

/// `is_magic(line, language, explicitly_code=...)`, telling which rule matched.
pub(crate) fn magic_kind(line: &str, language: &str, explicitly_code: bool) -> Option<MagicKind> {
    let python = language == "python";
    if !python {
        let language = usual_language_name(language);
        if matches!(
            language.as_str(),
            "octave" | "matlab" | "sas" | "jenner" | "logtalk"
        ) {
            return None;
        }
        match comment_for_language(&language) {
            None => return None,
            Some("#") => {}
            Some(_) => {
                return other_comment_magic(line, &language, true).then_some(MagicKind::Jupyter);
            }
        }
    }
    // Cheap byte tests first: every regex below needs one of these characters, and this
    // runs on every line of every code cell.
    let has_percent = line.contains('%');
    if has_percent {
        // Both need the word `escape` (`noescape` contains it too).
        if line.contains("escape") {
            if MAGIC_FORCE_ESC.is_match(line) {
                return Some(MagicKind::Jupyter);
            }
            if MAGIC_NOT_ESC.is_match(line) {
                return None;
            }
        }
        if MAGIC.is_match(line) {
            return Some(MagicKind::Jupyter);
        }
    }
    if !python {
        return None;
    }
    let has_question = line.contains('?');
    let has_bang = line.contains('!');
    if (has_question || has_bang) && HELP_OR_BASH.is_match(line) {
        return Some(MagicKind::Jupyter);
    }
    if (has_percent || has_bang) && line.contains('=') && MAGIC_ASSIGN.is_match(line) {
        return Some(MagicKind::Jupyter);
    }
    if explicitly_code && has_question && IPYTHON_HELP.is_match(line) {
        return Some(MagicKind::Jupyter);
    }
    is_shell_command(line).then_some(MagicKind::ShellWord)
}

/// `_MAGIC_RE`, `_MAGIC_FORCE_ESC_RE` and `_MAGIC_NOT_ESC_RE` of a language whose comment
/// is not `#` (`//` for C++, `;;` for Scheme, …), with jupytext's own overrides for Rust
/// (`:dep`), C# (`#!magic`) and Go (`!cmd`); a Rust or C# line is forced by `noescape`, not
/// `escape`, as jupytext's second assignment of the force pattern leaves it.
struct OtherMagicPatterns {
    magic: Regex,
    force_escape: Regex,
    not_escape: Regex,
}

fn other_magic_patterns(language: &str, comment: &str) -> OtherMagicPatterns {
    let c = regex::escape(comment);
    let default = |tail: &str| regex(&format!(r"^WS*({c} |{c})*(%|%%|%%%)[a-zA-Z]{tail}"));
    let escape = format!(r"(.*){c}WS*escape");
    let noescape = format!(r"(.*){c}WS*noescape");
    match language {
        "rust" => OtherMagicPatterns {
            magic: regex(r"^(// |//)*:[a-zA-Z]"),
            force_escape: regex(r"^(// |//)*:[a-zA-Z](.*)//WS*noescape"),
            not_escape: default(&noescape),
        },
        "csharp" => OtherMagicPatterns {
            magic: regex(r"^(// |//)*#![a-zA-Z]"),
            force_escape: regex(r"^(// |//)*#![a-zA-Z](.*)//WS*noescape"),
            not_escape: default(&noescape),
        },
        "go" => OtherMagicPatterns {
            magic: regex(r"^(// |//)*(!|!\*|%|%%|%%%)[a-zA-Z]"),
            force_escape: default(&escape),
            not_escape: default(&noescape),
        },
        _ => OtherMagicPatterns {
            magic: default(""),
            force_escape: default(&escape),
            not_escape: default(&noescape),
        },
    }
}

/// `is_magic` for a script language whose comment is not `#`.
fn other_comment_magic(line: &str, language: &str, global_escape: bool) -> bool {
    static PATTERNS: LazyLock<Vec<(&'static str, OtherMagicPatterns)>> = LazyLock::new(|| {
        [
            "c++",
            "javascript",
            "typescript",
            "scala",
            "rust",
            "csharp",
            "fsharp",
            "java",
            "groovy",
            "stata",
            "go",
            "scheme",
            "clojure",
            "q",
            "wolfram language",
            "ocaml",
            "idl",
            "haskell",
            "lua",
            "maxima",
        ]
        .into_iter()
        .filter_map(|language| {
            let comment = comment_for_language(language)?;
            Some((language, other_magic_patterns(language, comment)))
        })
        .collect()
    });
    let Some((_, patterns)) = PATTERNS.iter().find(|(known, _)| *known == language) else {
        return false;
    };
    if patterns.force_escape.is_match(line) {
        return true;
    }
    if !global_escape || patterns.not_escape.is_match(line) {
        return false;
    }
    patterns.magic.is_match(line)
}

/// `is_magic(line, language, global_escape_flag, explicitly_code)`: with the global flag
/// off (`comment_magics: false`, or markdown's default) only `# escape` lines count.
pub(crate) fn is_magic(
    line: &str,
    language: &str,
    global_escape: bool,
    explicitly_code: bool,
) -> bool {
    if global_escape {
        return magic_kind(line, language, explicitly_code).is_some();
    }
    let usual = usual_language_name(language);
    if matches!(
        usual.as_str(),
        "octave" | "matlab" | "sas" | "jenner" | "logtalk"
    ) {
        return false;
    }
    match comment_for_language(&usual) {
        None => false,
        Some("#") => line.contains("escape") && MAGIC_FORCE_ESC.is_match(line),
        Some(_) => other_comment_magic(line, &usual, false),
    }
}

/// The comment jupytext puts before a magic of `language` (`_COMMENT`; `#` for a
/// language it does not know).
pub(crate) fn magic_comment(language: &str) -> &'static str {
    comment_for_language(&usual_language_name(language)).unwrap_or("#")
}

/// `_PYTHON_MAGIC_CMD`, by hand: after `(# |#)*`, a shell word followed by the end of
/// the line, one blank and the end, or a blank and anything but `=` or `,`.
fn is_shell_command(line: &str) -> bool {
    let mut rest = line;
    loop {
        if let Some(next) = rest.strip_prefix("# ") {
            rest = next;
        } else if let Some(next) = rest.strip_prefix('#') {
            rest = next;
        } else {
            break;
        }
    }
    // Every shell word starts with one of these letters.
    if !matches!(
        rest.as_bytes().first(),
        Some(b'c' | b'm' | b'r' | b'd' | b'e' | b'l')
    ) {
        return false;
    }
    SHELL_WORDS.iter().any(|word| {
        let Some(after) = rest.strip_prefix(word) else {
            return false;
        };
        let mut chars = after.chars();
        match chars.next() {
            None => true,
            Some(c) if is_py_space(c) => !matches!(chars.next(), Some('=' | ',')),
            Some(_) => false,
        }
    })
}

/// `unesc`: remove one level of comment, keeping the indentation.
pub(crate) fn unescape(line: &str) -> String {
    unescape_with(line, "#")
}

/// [`unescape`] with the language's comment (`unesc(line, language)`).
pub(crate) fn unescape_with(line: &str, comment: &str) -> String {
    let unindented = py_lstrip(line);
    let indent = &line[..line.len() - unindented.len()];
    let spaced = format!("{comment} ");
    if let Some(rest) = unindented.strip_prefix(spaced.as_str()) {
        format!("{indent}{rest}")
    } else if let Some(rest) = unindented.strip_prefix(comment) {
        format!("{indent}{rest}")
    } else {
        line.to_string()
    }
}

/// One line that `uncomment_magic` changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Uncommented {
    pub index: usize,
    pub kind: Option<MagicKind>,
}

/// `uncomment_magic`: uncomment the magics of `source` in place; reports which lines
/// changed and why (`kind` is `None` for continuation lines of a magic).
pub(crate) fn uncomment_magics(source: &mut [Cow<'_, str>], language: &str) -> Vec<Uncommented> {
    uncomment_magics_in(source, language, true)
}

/// [`uncomment_magics`] with jupytext's `explicitly_code`: false for a light-format cell
/// with no `# +` marker, where a `name?` help line stays a comment.
pub(crate) fn uncomment_magics_in(
    source: &mut [Cow<'_, str>],
    language: &str,
    explicitly_code: bool,
) -> Vec<Uncommented> {
    let comment = magic_comment(language);
    // Only a line that starts with the comment past its indentation can be changed (a
    // commented magic, or a commented line continuing one): a cell without one, most code
    // cells, is left as it is without parsing its strings.
    if !source
        .iter()
        .any(|line| py_lstrip(line).starts_with(comment))
    {
        return Vec::new();
    }
    let mut parser = StringParser::new(language);
    let mut next_is_magic = false;
    let mut changed = Vec::new();
    for (index, line) in source.iter_mut().enumerate() {
        if !parser.is_quoted() {
            let kind = if next_is_magic {
                None
            } else {
                magic_kind(line, language, explicitly_code)
            };
            if next_is_magic || kind.is_some() {
                let unescaped = unescape_with(line, comment);
                next_is_magic = language == "python" && LINE_CONTINUATION.is_match(line);
                parser.read_line(line);
                if unescaped != **line {
                    changed.push(Uncommented { index, kind });
                    *line = Cow::Owned(unescaped);
                }
                continue;
            }
        }
        parser.read_line(line);
    }
    changed
}

/// `need_explicit_marker`: a Python cell with a line that is a magic only in an explicit
/// code cell (`name?`) needs its `# +` marker.
pub(crate) fn need_explicit_marker<S: AsRef<str>>(source: &[S], language: &str) -> bool {
    if language != "python" {
        return false;
    }
    let mut parser = StringParser::new(language);
    for line in source {
        let line = line.as_ref();
        if !parser.is_quoted()
            && magic_kind(line, language, true).is_some()
            && magic_kind(line, language, false).is_none()
        {
            return true;
        }
        parser.read_line(line);
    }
    false
}

/// `comment_magic`: the writer's inverse, commenting magics with `# ` (with the
/// language's comment: `// %timeit` in C++).
pub(crate) fn comment_magics(source: &mut [String], language: &str) {
    comment_magics_with(source, language, true, true);
}

/// `comment_magic(source, language, global_escape_flag, explicitly_code)`.
pub(crate) fn comment_magics_with(
    source: &mut [String],
    language: &str,
    global_escape: bool,
    explicitly_code: bool,
) {
    let comment = magic_comment(language);
    let mut parser = StringParser::new(language);
    let mut next_is_magic = false;
    for line in source.iter_mut() {
        if !parser.is_quoted()
            && (next_is_magic || is_magic(line, language, global_escape, explicitly_code))
        {
            let original = std::mem::take(line);
            *line = if next_is_magic {
                format!("{comment} {original}")
            } else {
                let unindented = py_lstrip(&original);
                let indent = &original[..original.len() - unindented.len()];
                format!("{indent}{comment} {unindented}")
            };
            next_is_magic = language == "python" && LINE_CONTINUATION.is_match(&original);
            parser.read_line(&original);
            continue;
        }
        parser.read_line(line);
    }
}

/// Go notebooks' `%%` and `%% -args` lines are gonb commands, which jupytext writes as
/// `//gonb:%%` so that they are not read as cell markers (in a go notebook's code cells).
pub(crate) fn escape_go_double_percent(source: &mut [String]) {
    static COMMAND: LazyLock<Regex> = LazyLock::new(|| regex(r"^(//WS*)*(%%WS*$|%%WS+-.*$)"));
    for line in source.iter_mut() {
        if line.contains("%%") && COMMAND.is_match(line) {
            *line = COMMAND.replace(line, "${1}//gonb:${2}").into_owned();
        }
    }
}

/// The reader's inverse of [`escape_go_double_percent`].
pub(crate) fn unescape_go_double_percent(source: &mut [Cow<'_, str>]) {
    static ESCAPED: LazyLock<Regex> = LazyLock::new(|| regex(r"^((//WS*)*)(//WS*gonb:%%)"));
    for line in source.iter_mut() {
        if line.contains("gonb:%%") && ESCAPED.is_match(line) {
            *line = Cow::Owned(ESCAPED.replace(line, "${1}%%").into_owned());
        }
    }
}

/// `escape_code_start` for `.py`: a code line that looks like a light-format `# +`
/// marker (commented or not) gets one more `# `.
pub(crate) fn escape_code_start(source: &mut [String], language: &str) {
    let mut parser = StringParser::new(language);
    for line in source.iter_mut() {
        if !parser.is_quoted() && line.contains('+') && ESCAPED_CODE_START.is_match(line) {
            parser.read_line(line);
            line.insert_str(0, "# ");
            continue;
        }
        parser.read_line(line);
    }
}

/// `unescape_code_start` for `.py`: `# # +` becomes `# +`.
pub(crate) fn unescape_code_start(source: &mut [Cow<'_, str>], language: &str) {
    // `^(# |#)*(#|# )\+` needs a line starting with `#` that holds a `+`.
    if !source
        .iter()
        .any(|line| line.starts_with('#') && line.contains('+'))
    {
        return;
    }
    let mut parser = StringParser::new(language);
    for line in source.iter_mut() {
        if !parser.is_quoted() && line.contains('+') && ESCAPED_CODE_START.is_match(line) {
            let unescaped = unescape(line);
            if ESCAPED_CODE_START.is_match(&unescaped) {
                parser.read_line(line);
                *line = Cow::Owned(unescaped);
                continue;
            }
        }
        parser.read_line(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(line: &str) -> String {
        let mut source = vec![Cow::Borrowed(line)];
        uncomment_magics(&mut source, "python");
        source.remove(0).into_owned()
    }

    fn cows(lines: &[&'static str]) -> Vec<Cow<'static, str>> {
        lines.iter().map(|line| Cow::Borrowed(*line)).collect()
    }

    #[test]
    fn reference_table_of_comment_magics() {
        // jellycell reference §1.4, verified against jupytext 1.19.6.
        for (line, expected) in [
            ("# %matplotlib inline", "%matplotlib inline"),
            ("# !pip list", "!pip list"),
            ("# x = !ls", "x = !ls"),
            ("# ?help", "?help"),
            ("# cd into the data dir", "cd into the data dir"),
            ("# ls the files", "ls the files"),
            ("# echo something", "echo something"),
            ("# rm stuff", "rm stuff"),
            ("# normal comment", "# normal comment"),
            ("# ls = 3", "# ls = 3"),
            ("# cat, dog", "# cat, dog"),
            ("# %%tags=[\"a\"]", "%%tags=[\"a\"]"),
            ("    # %time f()", "    %time f()"),
            ("# # %matplotlib", "# %matplotlib"),
            ("# what?", "what?"),
        ] {
            assert_eq!(read(line), expected, "{line}");
        }
    }

    #[test]
    fn shell_word_lines_are_told_apart() {
        assert_eq!(
            magic_kind("# ls the files", "python", true),
            Some(MagicKind::ShellWord)
        );
        assert_eq!(
            magic_kind("# %ls", "python", true),
            Some(MagicKind::Jupyter)
        );
        assert_eq!(magic_kind("# list the files", "python", true), None);
    }

    #[test]
    fn magics_inside_strings_stay() {
        let mut source = cows(&["x = '''", "# %magic", "'''"]);
        uncomment_magics(&mut source, "python");
        assert_eq!(source[1], "# %magic");
    }

    #[test]
    fn continuation_lines_follow_their_magic() {
        let mut source = cows(&["# !ls \\", "#   -la"]);
        uncomment_magics(&mut source, "python");
        assert_eq!(source, ["!ls \\", "  -la"]);
    }

    #[test]
    fn writer_comments_magics_back() {
        let mut source = vec![
            "%matplotlib inline".to_string(),
            "x = 1".to_string(),
            "  !ls".to_string(),
        ];
        comment_magics(&mut source, "python");
        assert_eq!(source, ["# %matplotlib inline", "x = 1", "  # !ls"]);
    }

    #[test]
    fn other_languages_use_their_own_comment() {
        // `jupytext.writes` of a C++ / Rust / Scheme notebook as py:percent.
        let mut source = vec!["%timeit f()".to_string(), "int x = 1;".to_string()];
        comment_magics(&mut source, "c++");
        assert_eq!(source, ["// %timeit f()", "int x = 1;"]);
        let mut source = vec![":dep serde".to_string()];
        comment_magics(&mut source, "rust");
        assert_eq!(source, ["// :dep serde"]);
        let mut source = vec!["%load x".to_string()];
        comment_magics(&mut source, "scheme");
        assert_eq!(source, [";; %load x"]);
        let mut read = cows(&["// %timeit f()", "// a comment"]);
        uncomment_magics(&mut read, "c++");
        assert_eq!(read, ["%timeit f()", "// a comment"]);
    }

    #[test]
    fn go_double_percent_commands_are_escaped_and_read_back() {
        let mut source = vec![
            "%%".to_string(),
            "%% -args x".to_string(),
            "x := 1".to_string(),
        ];
        escape_go_double_percent(&mut source);
        assert_eq!(source, ["//gonb:%%", "//gonb:%% -args x", "x := 1"]);
        let mut read: Vec<Cow<'_, str>> =
            source.iter().map(|l| Cow::Borrowed(l.as_str())).collect();
        unescape_go_double_percent(&mut read);
        assert_eq!(read, ["%%", "%% -args x", "x := 1"]);
    }

    #[test]
    fn escaped_light_markers() {
        let mut source = cows(&["# # +", "# +"]);
        unescape_code_start(&mut source, "python");
        assert_eq!(source, ["# +", "# +"]);
    }
}

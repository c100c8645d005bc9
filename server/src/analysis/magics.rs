//! Masks IPython syntax out of a code cell so tree-sitter sees plain Python.
//!
//! The input is the source as the kernel executes it (jupytext has already uncommented
//! `# %magic` lines). Masked: line magics (`%x`), a cell magic's first line (`%%x`) and,
//! unless the magic runs its body as Python (`%%time`, `%%timeit`, `%%capture`, ...), the
//! whole body; shell escapes (`!cmd`); assignments from them (`x = !cmd`, `x = %magic`);
//! help (`?x`, `??x`, `x?`, `x??`). Like IPython, only the start of a logical line counts,
//! so a `%` inside a string or a bracket is left alone.
//!
//! Masking keeps every byte offset: a masked range becomes `0` followed by spaces (a
//! valid expression statement, so an indented block stays non-empty), or all spaces for
//! cell magics. `%time STATEMENT` and `%timeit [options] STATEMENT` run Python, so only
//! the magic becomes `0;` and the statement is analysed (`jc.load` under `%time` counts). Multi-byte characters are overwritten byte for byte, so the result is
//! still UTF-8 of the same length.

use super::lexer::{Lexer, Line, lines};
use crate::text::Span;

/// What kind of IPython syntax a masked range held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MagicKind {
    /// `%name args`
    LineMagic,
    /// The `%%name args` line that opens a cell magic.
    CellMagic,
    /// A line in the body of a cell magic whose body is not Python (`%%bash`, `%%html`).
    CellMagicBody,
    /// `!cmd`
    Shell,
    /// `x = !cmd`: only the `!cmd` part is masked.
    ShellAssignment,
    /// `x = %magic`: only the `%magic` part is masked.
    MagicAssignment,
    /// `?x`, `??x`, `x?`, `x??`
    Help,
}

/// A range of the cell that held IPython syntax and was masked for parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MaskedLine {
    /// The masked bytes (never including the line ending).
    pub span: Span,
    pub kind: MagicKind,
}

/// The cell with its IPython syntax masked, same length as the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MaskedSource {
    pub text: String,
    pub masked: Vec<MaskedLine>,
}

/// Cell magics whose body IPython runs as Python in the user namespace.
const PYTHON_BODY_CELL_MAGICS: &[&str] = &["time", "timeit", "capture", "prun", "debug", "memit"];

pub(crate) fn mask_magics(source: &str) -> MaskedSource {
    // Every form masked starts with `%`, `!` or `?` (or, for help, ends with `?`): text
    // without them is its own masking, found without splitting it into lines.
    if !source
        .bytes()
        .any(|byte| matches!(byte, b'%' | b'!' | b'?'))
    {
        return MaskedSource {
            text: source.to_string(),
            masked: Vec::new(),
        };
    }
    let lines: Vec<Line> = lines(source).collect();
    let mut masker = Masker {
        bytes: source.as_bytes().to_vec(),
        masked: Vec::new(),
    };
    let mut index = first_non_blank(source, &lines);
    if let Some(line) = lines.get(index) {
        let content = &source[line.start..line.end];
        let trimmed = content.trim_start();
        if let Some(header) = trimmed.strip_prefix("%%") {
            let name: String = header
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            masker.mask(line.start..line.end, MagicKind::CellMagic, false);
            if !PYTHON_BODY_CELL_MAGICS.contains(&name.as_str()) {
                for body in &lines[index + 1..] {
                    masker.mask(body.start..body.end, MagicKind::CellMagicBody, false);
                }
                return masker.finish(source);
            }
            index += 1;
        } else {
            index = 0;
        }
    } else {
        index = 0;
    }

    let mut lexer = Lexer::default();
    while let Some(line) = lines.get(index) {
        if lexer.at_logical_line_start()
            && let Some((start, kind)) = magic_in_line(source, *line)
        {
            if kind == MagicKind::LineMagic
                && let Some(statement) = timed_statement(source, start, line.end)
            {
                // `%time x = f()` runs `x = f()`: mask only the magic, as `0;`, and let
                // the lexer see the statement.
                masker.mask_prefix(start..statement, kind);
                lexer.scan_line(source, line.start, line.end);
                index += 1;
                continue;
            }
            masker.mask(start..line.end, kind, true);
            // A trailing backslash continues the magic, as in IPython.
            let mut current = *line;
            while ends_with_backslash(source, current) {
                let Some(next) = lines.get(index + 1) else {
                    break;
                };
                index += 1;
                current = *next;
                masker.mask(current.start..current.end, kind, false);
            }
            index += 1;
            continue;
        }
        lexer.scan_line(source, line.start, line.end);
        index += 1;
    }
    masker.finish(source)
}

struct Masker {
    bytes: Vec<u8>,
    masked: Vec<MaskedLine>,
}

impl Masker {
    fn mask(&mut self, range: std::ops::Range<usize>, kind: MagicKind, placeholder: bool) {
        if range.is_empty() {
            return;
        }
        for (offset, byte) in self.bytes[range.clone()].iter_mut().enumerate() {
            *byte = if placeholder && offset == 0 {
                b'0'
            } else {
                b' '
            };
        }
        self.masked.push(MaskedLine {
            span: range.into(),
            kind,
        });
    }

    /// `0;` then spaces: the statement after it stays on the same logical line.
    fn mask_prefix(&mut self, range: std::ops::Range<usize>, kind: MagicKind) {
        for (offset, byte) in self.bytes[range.clone()].iter_mut().enumerate() {
            *byte = match offset {
                0 => b'0',
                1 => b';',
                _ => b' ',
            };
        }
        self.masked.push(MaskedLine {
            span: range.into(),
            kind,
        });
    }

    fn finish(self, source: &str) -> MaskedSource {
        // Whole characters are overwritten with ASCII, so this cannot fail; if it ever
        // did, parsing the unmasked source is the safe fallback.
        match String::from_utf8(self.bytes) {
            Ok(text) => MaskedSource {
                text,
                masked: self.masked,
            },
            Err(_) => MaskedSource {
                text: source.to_string(),
                masked: Vec::new(),
            },
        }
    }
}

fn first_non_blank(source: &str, lines: &[Line]) -> usize {
    lines
        .iter()
        .position(|line| !source[line.start..line.end].trim().is_empty())
        .unwrap_or(lines.len())
}

fn ends_with_backslash(source: &str, line: Line) -> bool {
    source[line.start..line.end].ends_with('\\')
}

/// For `%time STATEMENT` and `%timeit [options] STATEMENT`, where the statement starts.
/// `None` when the magic is another one, has no statement, or the statement is a
/// compound one (which cannot follow `0;`).
fn timed_statement(source: &str, start: usize, end: usize) -> Option<usize> {
    let magic = source.get(start..end)?;
    let name_end = magic.find(|c: char| c.is_whitespace())?;
    let takes_options = match &magic[..name_end] {
        "%time" => false,
        "%timeit" => true,
        _ => return None,
    };
    let mut rest = magic[name_end..].trim_start();
    while takes_options && rest.starts_with('-') {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let option = &rest[..word_end];
        rest = rest[word_end..].trim_start();
        if matches!(option, "-n" | "-r" | "-p") {
            let value_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            rest = rest[value_end..].trim_start();
        }
    }
    const COMPOUND: &[&str] = &[
        "if", "for", "while", "with", "def", "class", "try", "async", "match", "@",
    ];
    let first_word = rest
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '@'))
        .next()
        .unwrap_or("");
    if rest.is_empty() || rest.starts_with('#') || COMPOUND.contains(&first_word) {
        return None;
    }
    Some(end - rest.len())
}

/// Where IPython syntax starts on a line that begins a logical line, if it has any.
fn magic_in_line(source: &str, line: Line) -> Option<(usize, MagicKind)> {
    let content = &source[line.start..line.end];
    let rest = content.trim_start_matches([' ', '\t', '\x0c']);
    let at = line.start + (content.len() - rest.len());
    match rest.as_bytes().first()? {
        b'%' => return Some((at, MagicKind::LineMagic)),
        b'!' => return Some((at, MagicKind::Shell)),
        b'?' => return Some((at, MagicKind::Help)),
        _ => {}
    }
    let shape = LineShape::of(rest);
    if let Some(rhs) = shape.assignment_value {
        let value = rest.get(rhs..).unwrap_or("");
        let value_at = rhs + (value.len() - value.trim_start().len());
        match rest.as_bytes().get(value_at) {
            Some(b'!') => return Some((at + value_at, MagicKind::ShellAssignment)),
            Some(b'%') => return Some((at + value_at, MagicKind::MagicAssignment)),
            _ => {}
        }
    }
    let code = rest.get(..shape.code_end).unwrap_or("").trim_end();
    if !shape.ends_in_string && shape.depth == 0 && code.ends_with('?') {
        return Some((at, MagicKind::Help));
    }
    None
}

/// A quick look at one line: where its first plain `=` is, where its comment starts.
/// Strings are assumed to close on the line; one that does not makes `ends_in_string`.
struct LineShape {
    /// Offset just after the first `=` at bracket depth 0 that is an assignment (not
    /// `==`, `!=`, `<=`, `:=`, `+=`, ...).
    assignment_value: Option<usize>,
    /// Offset of the `#` that starts a comment, else the line's length.
    code_end: usize,
    ends_in_string: bool,
    depth: usize,
}

impl LineShape {
    fn of(line: &str) -> LineShape {
        let bytes = line.as_bytes();
        let mut shape = LineShape {
            assignment_value: None,
            code_end: bytes.len(),
            ends_in_string: false,
            depth: 0,
        };
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'#' => {
                    shape.code_end = i;
                    break;
                }
                quote @ (b'"' | b'\'') => {
                    let triple =
                        bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote);
                    let width = if triple { 3 } else { 1 };
                    match closing_quote(bytes, i + width, quote, triple) {
                        Some(after) => i = after,
                        None => {
                            shape.ends_in_string = true;
                            break;
                        }
                    }
                    continue;
                }
                b'(' | b'[' | b'{' => shape.depth += 1,
                b')' | b']' | b'}' => shape.depth = shape.depth.saturating_sub(1),
                b'=' if shape.depth == 0 && shape.assignment_value.is_none() => {
                    let before = i.checked_sub(1).map(|j| bytes[j]);
                    let compound = matches!(
                        before,
                        Some(
                            b'=' | b'!'
                                | b'<'
                                | b'>'
                                | b':'
                                | b'+'
                                | b'-'
                                | b'*'
                                | b'/'
                                | b'%'
                                | b'&'
                                | b'|'
                                | b'^'
                                | b'@'
                        )
                    );
                    if !compound && bytes.get(i + 1) != Some(&b'=') {
                        shape.assignment_value = Some(i + 1);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        shape
    }
}

/// Offset just after the quote(s) closing a string whose body starts at `from`.
fn closing_quote(bytes: &[u8], from: usize, quote: u8, triple: bool) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == quote {
            if !triple {
                return Some(i + 1);
            }
            if bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote) {
                return Some(i + 3);
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<(&str, MagicKind)> {
        let masked = mask_magics(source);
        assert_eq!(masked.text.len(), source.len());
        masked
            .masked
            .iter()
            .map(|line| (line.span.slice(source), line.kind))
            .collect()
    }

    fn masked_text(source: &str) -> String {
        mask_magics(source).text
    }

    #[test]
    fn line_magic_is_masked_with_a_placeholder() {
        assert_eq!(
            masked_text("%matplotlib inline\nx = 1\n"),
            "0                 \nx = 1\n"
        );
        assert_eq!(
            kinds("%matplotlib inline\n"),
            [("%matplotlib inline", MagicKind::LineMagic)]
        );
    }

    #[test]
    fn time_magic_keeps_its_statement() {
        let source = "%time df = jc.load('a')\n";
        assert_eq!(masked_text(source), "0;    df = jc.load('a')\n");
        assert_eq!(kinds(source), [("%time ", MagicKind::LineMagic)]);
    }

    #[test]
    fn timeit_options_are_masked_with_the_magic() {
        let source = "    %timeit -n 10 -r3 -q f(x)\n";
        assert_eq!(
            masked_text(source),
            format!("    0;{}f(x)\n", " ".repeat(19))
        );
    }

    #[test]
    fn time_magic_with_a_compound_statement_is_masked_whole() {
        assert_eq!(
            masked_text("%time for i in x: f(i)\n"),
            "0                     \n"
        );
    }

    #[test]
    fn shell_escape_is_masked() {
        assert_eq!(
            kinds("!pip install x\n"),
            [("!pip install x", MagicKind::Shell)]
        );
    }

    #[test]
    fn shell_assignment_keeps_the_target() {
        assert_eq!(masked_text("x = !ls\n"), "x = 0  \n");
        assert_eq!(kinds("x = !ls\n"), [("!ls", MagicKind::ShellAssignment)]);
    }

    #[test]
    fn magic_assignment_keeps_the_target() {
        assert_eq!(
            kinds("a, b = %who_ls\n"),
            [("%who_ls", MagicKind::MagicAssignment)]
        );
    }

    #[test]
    fn help_prefix_and_suffix_are_masked() {
        assert_eq!(kinds("?obj\n"), [("?obj", MagicKind::Help)]);
        assert_eq!(kinds("??obj\n"), [("??obj", MagicKind::Help)]);
        assert_eq!(kinds("obj?\n"), [("obj?", MagicKind::Help)]);
        assert_eq!(
            kinds("np.mean??  # look\n"),
            [("np.mean??  # look", MagicKind::Help)]
        );
    }

    #[test]
    fn indented_magic_keeps_the_block_non_empty() {
        let source = "for i in x:\n    %who int\n";
        assert_eq!(masked_text(source), "for i in x:\n    0       \n");
    }

    #[test]
    fn cell_magic_with_foreign_body_masks_the_whole_cell() {
        let source = "%%bash\necho 'hi\nls (\n";
        assert_eq!(masked_text(source), "      \n        \n    \n");
        assert_eq!(
            kinds(source),
            [
                ("%%bash", MagicKind::CellMagic),
                ("echo 'hi", MagicKind::CellMagicBody),
                ("ls (", MagicKind::CellMagicBody),
            ]
        );
    }

    #[test]
    fn time_cell_magic_keeps_its_python_body() {
        let source = "\n%%time\nx = jc.load('a')\n";
        assert_eq!(masked_text(source), "\n      \nx = jc.load('a')\n");
    }

    #[test]
    fn magic_characters_inside_strings_are_not_masked() {
        let source = "s = \"\"\"\n%not a magic\n!nor this\n\"\"\"\n";
        assert!(kinds(source).is_empty());
    }

    #[test]
    fn magic_characters_inside_brackets_are_not_masked() {
        let source = "x = (1,\n     %2)\n";
        assert!(kinds(source).is_empty());
    }

    #[test]
    fn comparison_and_modulo_are_not_magics() {
        assert!(kinds("x == !y\n").is_empty());
        assert!(kinds("x != 1\n").is_empty());
        assert!(kinds("y = a % b\n").is_empty());
        assert!(kinds("f(a=1)\n").is_empty());
    }

    #[test]
    fn question_mark_in_a_string_or_comment_is_not_help() {
        assert!(kinds("print('why?')\n").is_empty());
        assert!(kinds("x = 1  # why?\n").is_empty());
    }

    #[test]
    fn backslash_continues_a_magic() {
        let source = "!echo a \\\n  b\nx = 1\n";
        assert_eq!(
            kinds(source),
            [("!echo a \\", MagicKind::Shell), ("  b", MagicKind::Shell)]
        );
    }

    #[test]
    fn masking_multibyte_text_keeps_length_and_utf8() {
        let source = "!echo 日本\nx = 'é'\n";
        let masked = masked_text(source);
        assert_eq!(masked.len(), source.len());
        assert!(masked.ends_with("\nx = 'é'\n"));
    }

    #[test]
    fn crlf_line_endings_are_kept() {
        assert_eq!(masked_text("%pwd\r\nx = 1\r\n"), "0   \r\nx = 1\r\n");
    }
}

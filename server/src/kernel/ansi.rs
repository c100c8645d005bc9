//! Turns ANSI-coloured kernel text (IPython tracebacks, coloured stderr) into plain text,
//! or into text safe to print on a terminal.
//!
//! Owns escape-sequence filtering only: CSI (`ESC [ … final`), OSC (`ESC ] … BEL` or
//! `ESC ] … ESC \`) and two-byte escapes. Works on any input and never fails; an escape cut
//! off at the end of the text is dropped.

/// `text` without ANSI escape sequences.
pub fn strip_ansi(text: &str) -> String {
    filter_escapes(text, &|_| false, &|_| true)
}

/// `text` made safe to print on a terminal: kernel outputs are untrusted, and escape
/// sequences other than colours can retitle the window, write the clipboard (OSC 52) or
/// move the cursor over what was printed. Keeps SGR colour codes (`ESC [ … m`) when
/// `keep_colour`, and of the control characters only newline, tab and carriage return.
pub fn terminal_text(text: &str, keep_colour: bool) -> String {
    let is_colour = |sequence: &str| {
        sequence.starts_with("\u{1b}[")
            && sequence.ends_with('m')
            && sequence[2..sequence.len() - 1]
                .chars()
                .all(|c| c.is_ascii_digit() || c == ';')
    };
    filter_escapes(text, &|sequence| keep_colour && is_colour(sequence), &|c| {
        !c.is_control() || matches!(c, '\n' | '\t' | '\r')
    })
}

/// Copies `text`, keeping the escape sequences `keep_escape` accepts (given whole, `ESC`
/// included) and the other characters `keep_char` accepts.
fn filter_escapes(
    text: &str,
    keep_escape: &dyn Fn(&str) -> bool,
    keep_char: &dyn Fn(char) -> bool,
) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c != '\u{1b}' {
            if keep_char(c) {
                kept.push(c);
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let length = escape_length(rest);
        if keep_escape(&rest[..length]) {
            kept.push_str(&rest[..length]);
        }
        rest = &rest[length..];
    }
    kept
}

/// The length in bytes of the escape sequence at the start of `text` (which starts with
/// `ESC`): CSI (`ESC [ … final`), OSC (`ESC ] … BEL` or `ESC ] … ESC \`), or `ESC` and one
/// character; a sequence cut off at the end runs to the end.
fn escape_length(text: &str) -> usize {
    let mut chars = text.char_indices().skip(1).peekable();
    match chars.next() {
        Some((_, '[')) => {
            // Parameters and intermediates are 0x20..=0x3f; the final byte is 0x40..=0x7e.
            for (at, c) in chars {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    return at + 1;
                }
            }
            text.len()
        }
        Some((_, ']')) => {
            while let Some((at, c)) = chars.next() {
                if c == '\u{7}' {
                    return at + 1;
                }
                if c == '\u{1b}' && chars.peek().is_some_and(|&(_, next)| next == '\\') {
                    return at + 2;
                }
            }
            text.len()
        }
        Some((at, c)) => at + c.len_utf8(),
        None => text.len(),
    }
}

/// A traceback (one string per frame, as kernels send it) as plain text, one frame after
/// another, without colour codes.
pub fn plain_traceback(traceback: &[String]) -> String {
    let mut plain = String::new();
    for frame in traceback {
        if !plain.is_empty() && !plain.ends_with('\n') {
            plain.push('\n');
        }
        plain.push_str(&strip_ansi(frame));
    }
    plain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_colour_codes_from_an_ipython_traceback_line() {
        let line = "\u{1b}[0;31mValueError\u{1b}[0m: boom \u{1b}[38;5;241m# here\u{1b}[39m";
        assert_eq!(strip_ansi(line), "ValueError: boom # here");
    }

    #[test]
    fn strips_osc_hyperlinks_with_either_terminator() {
        let bel = "\u{1b}]8;;file:///x.py\u{7}x.py\u{1b}]8;;\u{7}";
        let st = "\u{1b}]8;;file:///x.py\u{1b}\\x.py\u{1b}]8;;\u{1b}\\";
        assert_eq!(strip_ansi(bel), "x.py");
        assert_eq!(strip_ansi(st), "x.py");
    }

    #[test]
    fn leaves_plain_and_non_ascii_text_alone() {
        assert_eq!(strip_ansi("héllo [0m] wörld"), "héllo [0m] wörld");
    }

    #[test]
    fn drops_an_escape_cut_off_at_the_end() {
        assert_eq!(strip_ansi("ok\u{1b}[0;3"), "ok");
        assert_eq!(strip_ansi("ok\u{1b}"), "ok");
    }

    #[test]
    fn terminal_text_keeps_colours_only_when_asked_and_drops_every_other_control() {
        let hostile =
            "a\u{1b}]52;c;ZXZpbA==\u{7}b\u{1b}[2J\u{1b}[31mred\u{1b}[0m\u{7}\u{8}\u{9b}2Jc\td\r\n";
        assert_eq!(
            terminal_text(hostile, true),
            "ab\u{1b}[31mred\u{1b}[0m2Jc\td\r\n"
        );
        assert_eq!(terminal_text(hostile, false), "abred2Jc\td\r\n");
        assert_eq!(terminal_text("é\u{1b}[1;3", true), "é");
    }

    #[test]
    fn joins_traceback_frames_into_lines() {
        let frames = vec![
            "\u{1b}[0;31m----\u{1b}[0m".to_string(),
            "Cell In[1], line 1\n----> 1 raise ValueError('boom')\n".to_string(),
            "\u{1b}[0;31mValueError\u{1b}[0m: boom".to_string(),
        ];
        assert_eq!(
            plain_traceback(&frames),
            "----\nCell In[1], line 1\n----> 1 raise ValueError('boom')\nValueError: boom"
        );
    }
}

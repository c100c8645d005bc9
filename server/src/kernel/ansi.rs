//! Turns ANSI-coloured kernel text (IPython tracebacks, coloured stderr) into plain text.
//!
//! Owns escape-sequence stripping only: CSI (`ESC [ … final`), OSC (`ESC ] … BEL` or
//! `ESC ] … ESC \`) and two-byte escapes. Works on any input and never fails; an escape cut
//! off at the end of the text is dropped.

/// `text` without ANSI escape sequences.
pub fn strip_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            plain.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                // Parameters and intermediates are 0x20..=0x3f; the final byte is 0x40..=0x7e.
                for c in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    plain
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

//! Tracks whether the next line starts inside a Python string, exactly as jupytext's
//! `StringParser` does (it is what hides `# %%` markers inside triple-quoted strings).
//!
//! jupytext's rules, kept here including their quirks: a line whose first non-blank text is
//! a comment is skipped unless already quoted; single-quoted strings end at the line end;
//! a quote preceded by a backslash is escaped (even `\\"`); a triple quote only counts when
//! it starts at least three characters after the previous one.

/// A string-state tracker for one language (`python` semantics unless `R`).
#[derive(Debug, Clone)]
pub(crate) struct StringParser {
    ignore: bool,
    python: bool,
    comment: Option<&'static str>,
    single: Option<u8>,
    triple: Option<u8>,
}

/// The comment prefix jupytext knows for `language` (`_COMMENT`).
pub(crate) fn comment_for_language(language: &str) -> Option<&'static str> {
    Some(match language {
        "python" | "coconut" | "R" | "julia" | "bash" | "powershell" | "robotframework" | "sos"
        | "sage" | "tcl" | "gnuplot" | "xonsh" => "#",
        "c++" | "javascript" | "typescript" | "scala" | "rust" | "csharp" | "fsharp" | "java"
        | "groovy" | "stata" | "go" => "//",
        "scheme" | "clojure" => ";;",
        "q" => "/",
        "matlab" | "logtalk" => "%",
        "wolfram language" | "ocaml" => "(*",
        "idl" => ";",
        "haskell" | "lua" => "--",
        "maxima" | "sas" | "jenner" => "/*",
        _ => return None,
    })
}

impl StringParser {
    pub fn new(language: &str) -> Self {
        StringParser {
            ignore: false,
            python: language != "R",
            comment: comment_for_language(language),
            single: None,
            triple: None,
        }
    }

    /// Is the next line quoted?
    pub fn is_quoted(&self) -> bool {
        !self.ignore && (self.single.is_some() || self.triple.is_some())
    }

    pub fn read_line(&mut self, line: &str) {
        if self.ignore {
            return;
        }
        if !self.is_quoted()
            && let Some(comment) = self.comment
            && super::lines::py_lstrip(line).starts_with(comment)
        {
            return;
        }
        // Quotes are ASCII, so byte positions give the same answers as Python's character
        // positions for every comparison below (see the module notes).
        let bytes = line.as_bytes();
        if !bytes.iter().any(|b| *b == b'"' || *b == b'\'') {
            // No quote: nothing can open or close; only the end-of-line rule applies.
            if self.python {
                self.single = None;
            }
            return;
        }
        let mut triple_start: isize = -1;
        for (i, &byte) in bytes.iter().enumerate() {
            if self.single.is_none()
                && self.triple.is_none()
                && let Some(comment) = self.comment
                && comment.as_bytes().first() == Some(&byte)
                && bytes[i..].starts_with(comment.as_bytes())
            {
                break;
            }
            if byte != b'"' && byte != b'\'' {
                continue;
            }
            if i > 0 && bytes[i - 1] == b'\\' {
                continue;
            }
            if self.single == Some(byte) {
                self.single = None;
                continue;
            }
            if self.single.is_some() || !self.python {
                continue;
            }
            let is_triple = i >= 2 && bytes[i - 2] == byte && bytes[i - 1] == byte;
            if is_triple && (i as isize) >= triple_start + 3 {
                if self.triple == Some(byte) {
                    self.triple = None;
                    triple_start = i as isize;
                    continue;
                }
                if self.triple.is_some() {
                    continue;
                }
                self.triple = Some(byte);
                triple_start = i as isize;
                continue;
            }
            if self.triple.is_some() {
                continue;
            }
            self.single = Some(byte);
        }
        if self.python {
            self.single = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quoted_after(lines: &[&str]) -> bool {
        let mut parser = StringParser::new("python");
        for line in lines {
            parser.read_line(line);
        }
        parser.is_quoted()
    }

    #[test]
    fn triple_quote_opens_and_closes() {
        assert!(quoted_after(&["x = \"\"\""]));
        assert!(!quoted_after(&["x = \"\"\"", "\"\"\""]));
        assert!(quoted_after(&["x = '''", "# %%"]));
    }

    #[test]
    fn single_quotes_end_at_line_end() {
        assert!(!quoted_after(&["x = 'abc"]));
    }

    #[test]
    fn comments_do_not_open_strings() {
        assert!(!quoted_after(&["# don't \"\"\""]));
        assert!(!quoted_after(&["x = 1  # \"\"\""]));
    }

    #[test]
    fn escaped_quote_is_ignored() {
        // Checked against jupytext's StringParser.
        assert!(!quoted_after(&[r#"x = """a\""""#]));
        assert!(quoted_after(&[r#"x = "\"""""#]));
    }

    #[test]
    fn six_quotes_are_an_empty_string() {
        assert!(!quoted_after(&["x = \"\"\"\"\"\""]));
    }
}

//! ANSI SGR colours (kernel tracebacks, coloured streams) turned into escaped HTML spans.
//!
//! Only the 16 standard colours and bold are kept, as `ansi-<colour>` classes styled by
//! the page's CSS; 256-colour and truecolour codes, cursor moves and every other escape
//! sequence are dropped. The text itself is always HTML-escaped.

use super::escape_into;

const COLOURS: [&str; 8] = [
    "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
];

#[derive(Default, Clone, Copy, PartialEq, Eq)]
struct Style {
    foreground: Option<&'static str>,
    bright: bool,
    bold: bool,
}

impl Style {
    fn is_plain(self) -> bool {
        self.foreground.is_none() && !self.bold
    }

    fn open(self, html: &mut String) {
        let mut classes = Vec::new();
        if let Some(colour) = self.foreground {
            classes.push(if self.bright {
                format!("ansi-bright-{colour}")
            } else {
                format!("ansi-{colour}")
            });
        }
        if self.bold {
            classes.push("ansi-bold".to_string());
        }
        html.push_str("<span class=\"");
        html.push_str(&classes.join(" "));
        html.push_str("\">");
    }
}

/// `text` with its ANSI escapes turned into `<span class="ansi-…">` and everything else
/// escaped.
pub fn ansi_to_html(text: &str) -> String {
    let mut html = String::with_capacity(text.len() + 16);
    let mut style = Style::default();
    let mut open = false;
    let mut rest = text;
    while let Some(at) = rest.find('\x1b') {
        escape_into(&mut html, &rest[..at]);
        let after = &rest[at + 1..];
        if let Some(body) = after.strip_prefix('[') {
            let end = body
                .find(|character: char| ('@'..='~').contains(&character))
                .unwrap_or(body.len());
            let final_byte = body[end..].chars().next();
            if final_byte == Some('m') {
                let next = apply_sgr(style, &body[..end]);
                if next != style {
                    if open {
                        html.push_str("</span>");
                        open = false;
                    }
                    style = next;
                    if !style.is_plain() {
                        style.open(&mut html);
                        open = true;
                    }
                }
            }
            rest = body.get(end + 1..).unwrap_or("");
        } else {
            // A lone ESC or a non-CSI sequence: drop the ESC and the byte after it.
            let mut chars = after.chars();
            chars.next();
            rest = chars.as_str();
        }
    }
    escape_into(&mut html, rest);
    if open {
        html.push_str("</span>");
    }
    html
}

fn apply_sgr(mut style: Style, parameters: &str) -> Style {
    let codes: Vec<u32> = parameters
        .split(';')
        .map(|code| code.parse().unwrap_or(0))
        .collect();
    let mut index = 0;
    while index < codes.len() {
        match codes[index] {
            0 => style = Style::default(),
            1 => style.bold = true,
            22 => style.bold = false,
            code @ 30..=37 => {
                style.foreground = Some(COLOURS[(code - 30) as usize]);
                style.bright = false;
            }
            code @ 90..=97 => {
                style.foreground = Some(COLOURS[(code - 90) as usize]);
                style.bright = true;
            }
            39 => style.foreground = None,
            // 38;5;n and 38;2;r;g;b (and the 48 background forms): skip their arguments.
            38 | 48 => {
                index += match codes.get(index + 1) {
                    Some(5) => 2,
                    Some(2) => 4,
                    _ => 0,
                };
            }
            _ => {}
        }
        index += 1;
    }
    style
}

#[cfg(test)]
mod tests {
    use super::ansi_to_html;

    #[test]
    fn colours_become_spans_and_text_is_escaped() {
        let html = ansi_to_html("\x1b[0;31mValueError\x1b[0m: <bad>");
        assert_eq!(
            html,
            "<span class=\"ansi-red\">ValueError</span>: &lt;bad&gt;"
        );
    }

    #[test]
    fn unknown_sequences_are_dropped() {
        assert_eq!(ansi_to_html("a\x1b[2Kb\x1b[38;5;208mc"), "abc");
    }
}

//! Where a cell failed: the line of the executed source that an ipykernel traceback
//! points at, for the editor's `cell-error` diagnostic.
//!
//! The outermost frame of the executed cell is the first frame of the traceback that
//! names a cell (execution starts at the top of the cell; frames below it are the
//! functions it called). IPython ≥ 8 writes `Cell In[7], line 3`; older IPython writes
//! `File "<ipython-input-7-…>", line 3` or `<ipython-input-7-…> in <module>` followed by
//! the source with `----> 3` at the failing line. A `SyntaxError` has the same first line.

use std::sync::LazyLock;

use regex::Regex;

use crate::kernel::strip_ansi;

static CELL_IN: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"Cell In\s*\[\s*\d*\s*\]\s*,\s*line (\d+)").ok());
static IPYTHON_INPUT_FILE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"File "?<ipython-input-[^>]*>"?,\s*line (\d+)"#).ok());
static IPYTHON_INPUT_FRAME: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"<ipython-input-[^>]*>").ok());
static ARROW: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"(?m)^-+>\s*(\d+)").ok());

/// The 1-based line of the executed source where the cell failed, if the traceback
/// names one.
pub fn failing_line(traceback: &[String]) -> Option<usize> {
    let text = strip_ansi(&traceback.join("\n"));
    let mut best: Option<(usize, usize)> = None;
    let mut consider = |at: usize, line: Option<usize>| {
        if let Some(line) = line
            && best.is_none_or(|(earliest, _)| at < earliest)
        {
            best = Some((at, line));
        }
    };
    if let Some(found) = CELL_IN.as_ref().and_then(|re| re.captures(&text)) {
        consider(found.get(0).map_or(0, |m| m.start()), number(&found));
    }
    if let Some(found) = IPYTHON_INPUT_FILE
        .as_ref()
        .and_then(|re| re.captures(&text))
    {
        consider(found.get(0).map_or(0, |m| m.start()), number(&found));
    }
    if let Some(frame) = IPYTHON_INPUT_FRAME.as_ref().and_then(|re| re.find(&text)) {
        // The old frame layout: the source excerpt follows, the arrow marks the line.
        let rest = &text[frame.end()..];
        let arrow = ARROW
            .as_ref()
            .and_then(|re| re.captures(rest))
            .and_then(|found| number(&found));
        consider(frame.start(), arrow);
    }
    best.map(|(_, line)| line).filter(|line| *line > 0)
}

fn number(captures: &regex::Captures<'_>) -> Option<usize> {
    captures.get(1)?.as_str().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.split('\n').map(str::to_string).collect()
    }

    #[test]
    fn ipython_8_takes_the_outermost_cell_frame() {
        let traceback = lines(
            "\u{1b}[0;31m---------------------------------------------------------------------------\u{1b}[0m\n\
             \u{1b}[0;31mValueError\u{1b}[0m                                Traceback (most recent call last)\n\
             Cell \u{1b}[0;32mIn[4], line 3\u{1b}[0m\n\
             \u{1b}[1;32m      1\u{1b}[0m x = 1\n\
             \u{1b}[0;32m----> 3\u{1b}[0m \u{1b}[43mf\u{1b}[49m()\n\
             Cell \u{1b}[0;32mIn[2], line 2\u{1b}[0m, in \u{1b}[0;36mf\u{1b}[0;34m()\u{1b}[0m\n\
             \u{1b}[0;32m----> 2\u{1b}[0m raise ValueError('kaboom')\n\
             \u{1b}[0;31mValueError\u{1b}[0m: kaboom",
        );
        assert_eq!(failing_line(&traceback), Some(3));
    }

    #[test]
    fn syntax_errors_name_their_line() {
        let traceback =
            lines("  Cell In[1], line 2\n    x = (\n        ^\nSyntaxError: '(' was never closed");
        assert_eq!(failing_line(&traceback), Some(2));
    }

    #[test]
    fn old_ipython_frames_are_read_too() {
        let file = lines("  File \"<ipython-input-3-abc>\", line 5\n    x = (\nSyntaxError: bad");
        assert_eq!(failing_line(&file), Some(5));
        let frame = lines(
            "ValueError  Traceback (most recent call last)\n<ipython-input-3-abc> in <module>\n      1 a = 1\n----> 2 raise ValueError('x')\n\nValueError: x",
        );
        assert_eq!(failing_line(&frame), Some(2));
    }

    #[test]
    fn no_cell_frame_no_line() {
        assert_eq!(failing_line(&lines("KeyboardInterrupt: ")), None);
        assert_eq!(failing_line(&[]), None);
    }
}

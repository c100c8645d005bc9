//! Where a cell failed: the line of the executed source that an ipykernel traceback
//! points at, for the editor's `cell-error` diagnostic; and tracebacks for people: frames
//! named by notebook file and line, the runner's own context comment hidden.
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

/// Drops every line of `traceback` whose text (colours aside) contains `needle`, such as
/// the context comment the runner appends to each cell, which IPython lists among the
/// source lines of the failing frame.
pub fn hide_lines_containing(traceback: &mut Vec<String>, needle: &str) {
    for entry in traceback.iter_mut() {
        if !strip_ansi(entry).contains(needle) {
            continue;
        }
        let kept: Vec<&str> = entry
            .split('\n')
            .filter(|line| !strip_ansi(line).contains(needle))
            .collect();
        *entry = kept.join("\n");
    }
    traceback.retain(|entry| !entry.is_empty());
}

/// Where the cell that ran as `In[N]` lives: its notebook and the file line of the first
/// line of its executed source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellPlace {
    pub notebook: String,
    pub first_line: usize,
}

/// `Cell In[N], line L` with colour codes anywhere between the words (IPython 8 colours
/// `Cell`, `In[N]` and `, line L` separately, and versions differ in where).
static CELL_FRAME: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"Cell(?:\x1b\[[0-9;]*m|\s)+In\s*\[\s*(\d+)\s*\](?:\x1b\[[0-9;]*m)*\s*,\s*line (\d+)",
    )
    .ok()
});

/// `traceback` with every `Cell In[N], line L` frame whose cell is in `places` written
/// as `File notebooks/prep.py:33`, so a terminal or an editor can open it.
pub fn with_file_lines(
    traceback: &[String],
    places: &std::collections::HashMap<u32, CellPlace>,
) -> Vec<String> {
    let Some(frame) = CELL_FRAME.as_ref() else {
        return traceback.to_vec();
    };
    traceback
        .iter()
        .map(|entry| {
            frame
                .replace_all(entry, |found: &regex::Captures<'_>| {
                    let count = found.get(1).and_then(|m| m.as_str().parse::<u32>().ok());
                    let line = found.get(2).and_then(|m| m.as_str().parse::<usize>().ok());
                    match (count.and_then(|count| places.get(&count)), line) {
                        (Some(place), Some(line)) if line > 0 => {
                            format!("File {}:{}", place.notebook, place.first_line + line - 1)
                        }
                        _ => found.get(0).map_or("", |m| m.as_str()).to_string(),
                    }
                })
                .into_owned()
        })
        .collect()
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
    fn cell_frames_become_file_lines_and_unknown_cells_stay() {
        let places = [(
            6,
            CellPlace {
                notebook: "notebooks/prep.py".into(),
                first_line: 33,
            },
        )]
        .into_iter()
        .collect();
        let traceback = lines(
            "Cell \u{1b}[0;32mIn[6], line 2\u{1b}[0m\n----> 2 f()\nCell In[3], line 1, in f()\n\u{1b}[36mCell\u{1b}[39m\u{1b}[36m \u{1b}[39m\u{1b}[32mIn[6]\u{1b}[39m\u{1b}[32m, line 4\u{1b}[39m",
        );
        assert_eq!(
            with_file_lines(&traceback, &places),
            lines(
                "File notebooks/prep.py:34\u{1b}[0m\n----> 2 f()\nCell In[3], line 1, in f()\n\u{1b}[36mFile notebooks/prep.py:36\u{1b}[39m"
            )
        );
    }

    #[test]
    fn context_lines_are_hidden() {
        let mut traceback = vec![
            "Cell In[1], line 1\n----> 1 x\n      2 \u{1b}[38;5;66m# jellycell-lsp-context: {}\u{1b}[39m".to_string(),
            "# jellycell-lsp-context: {}".to_string(),
            "NameError: x".to_string(),
        ];
        hide_lines_containing(&mut traceback, "# jellycell-lsp-context:");
        assert_eq!(traceback, ["Cell In[1], line 1\n----> 1 x", "NameError: x"]);
    }

    #[test]
    fn no_cell_frame_no_line() {
        assert_eq!(failing_line(&lines("KeyboardInterrupt: ")), None);
        assert_eq!(failing_line(&[]), None);
    }
}

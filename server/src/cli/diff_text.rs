//! The terminal form of a notebook diff: a git-like header, one `@@ cell … @@` line per
//! changed cell, then its `-`/`+` source lines, metadata and outputs; `--stat` gives one
//! line per changed cell and a summary. Colour (ANSI) only when asked for: red removed,
//! green added, cyan headers, changed characters in reverse video.

use std::fmt::Write;

use serde_json::Value;

use crate::review::lines::Hunk;
use crate::review::outputs::{OutputChange, ValueChange};
use crate::review::{CellDiff, CellOutputs, Change, NotebookDiff, OutputsDiff, Side, cell_label};

struct Paint {
    colour: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn header(&self, text: &str) -> String {
        self.wrap("36", text)
    }
    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }
    /// One `-`/`+` line, with the changed byte range in reverse video.
    fn line(&self, sign: char, line: &str, mark: Option<std::ops::Range<usize>>) -> String {
        let line = line.trim_end_matches(['\n', '\r']);
        let code = if sign == '-' { "31" } else { "32" };
        if !self.colour {
            return format!("{sign}{line}");
        }
        match mark.filter(|range| range.end <= line.len() && range.start < range.end) {
            Some(range) => format!(
                "\x1b[{code}m{sign}{}\x1b[7m{}\x1b[27m{}\x1b[0m",
                &line[..range.start],
                &line[range.clone()],
                &line[range.end..]
            ),
            None => format!("\x1b[{code}m{sign}{line}\x1b[0m"),
        }
    }
}

/// The diff as text.
pub(super) fn render(
    old: &Side,
    new: &Side,
    diff: &NotebookDiff,
    stat: bool,
    colour: bool,
) -> String {
    let paint = Paint { colour };
    let mut out = String::new();
    if diff.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "{}",
        paint.bold(&format!(
            "diff {} {} (outputs: {}, {})",
            old.label,
            new.label,
            old.origin.as_str(),
            new.origin.as_str()
        ))
    );
    for step in diff.cells.iter().filter(|step| step.is_change()) {
        if stat {
            let _ = writeln!(out, " {}", stat_line(old, new, step));
        } else {
            cell(&mut out, &paint, old, new, step);
        }
    }
    if stat {
        let _ = writeln!(out, "{}", summary(diff));
    }
    out
}

fn step_label(old: &Side, new: &Side, step: &CellDiff) -> String {
    match (step.new, step.old) {
        (Some(j), _) => cell_label(&new.notebook, j),
        (None, Some(i)) => cell_label(&old.notebook, i),
        (None, None) => String::new(),
    }
}

fn change_word(old: &Side, step: &CellDiff) -> String {
    match step.change {
        Change::Unchanged => "unchanged".into(),
        Change::Modified => "modified".into(),
        Change::Added => "added".into(),
        Change::Removed => "removed".into(),
        Change::MovedAway(to) => format!("moved to cell {}", to + 1),
        Change::MovedHere(from) => {
            let _ = old;
            format!("moved from cell {}", from + 1)
        }
    }
}

fn cell(out: &mut String, paint: &Paint, old: &Side, new: &Side, step: &CellDiff) {
    let header = format!(
        "@@ {} @@ {}",
        step_label(old, new, step),
        change_word(old, step)
    );
    let _ = writeln!(out, "{}", paint.header(&header));
    match step.change {
        Change::Added => {
            if let Some(j) = step.new {
                for line in new.notebook.cells[j].source.split_inclusive('\n') {
                    let _ = writeln!(out, "{}", paint.line('+', line, None));
                }
                outputs_of_one_side(out, new, j, '+');
            }
        }
        Change::Removed => {
            if let Some(i) = step.old {
                for line in old.notebook.cells[i].source.split_inclusive('\n') {
                    let _ = writeln!(out, "{}", paint.line('-', line, None));
                }
            }
        }
        _ => {
            for hunk in &step.source {
                hunk_lines(out, paint, hunk);
            }
            for change in &step.metadata {
                let show = |value: &Option<Value>| {
                    value.as_ref().map_or("(none)".into(), Value::to_string)
                };
                let _ = writeln!(
                    out,
                    "{}",
                    paint.header(&format!(
                        "  metadata {}: {} → {}",
                        change.key,
                        show(&change.old),
                        show(&change.new)
                    ))
                );
            }
            outputs_diff(out, paint, step);
        }
    }
}

fn hunk_lines(out: &mut String, paint: &Paint, hunk: &Hunk) {
    let _ = writeln!(
        out,
        "{}",
        paint.header(&format!("  line {}:", hunk.new_start + 1))
    );
    for (index, line) in hunk.removed.iter().enumerate() {
        let mark = hunk.marks.get(index).map(|(old, _)| old.clone());
        let _ = writeln!(out, "{}", paint.line('-', line, mark));
    }
    for (index, line) in hunk.added.iter().enumerate() {
        let mark = hunk.marks.get(index).map(|(_, new)| new.clone());
        let _ = writeln!(out, "{}", paint.line('+', line, mark));
    }
}

fn outputs_of_one_side(out: &mut String, side: &Side, index: usize, sign: char) {
    if let CellOutputs::Recorded(outputs) = side.outputs_of(index)
        && !outputs.is_empty()
    {
        let _ = writeln!(
            out,
            "{sign} ({} output{})",
            outputs.len(),
            plural(outputs.len())
        );
    }
}

fn outputs_diff(out: &mut String, paint: &Paint, step: &CellDiff) {
    match &step.outputs {
        OutputsDiff::Same => {}
        OutputsDiff::OldHasNoResult => {
            let _ = writeln!(
                out,
                "{}",
                paint.header("  outputs: the old side has no result")
            );
        }
        OutputsDiff::NewHasNoResult => {
            let _ = writeln!(
                out,
                "{}",
                paint.header("  outputs: the new side has no result")
            );
        }
        OutputsDiff::NeitherHasAResult => {}
        OutputsDiff::Changed(changes) => {
            for change in changes {
                match change {
                    OutputChange::Added { new, .. } => {
                        let _ = writeln!(
                            out,
                            "{}",
                            paint.header(&format!("  output {} added", new + 1))
                        );
                    }
                    OutputChange::Removed { old } => {
                        let _ = writeln!(
                            out,
                            "{}",
                            paint.header(&format!("  output {} removed", old + 1))
                        );
                    }
                    OutputChange::Changed { new, keys, .. } => {
                        for key in keys {
                            let title = format!("  output {} {}", new + 1, key.key);
                            match &key.change {
                                ValueChange::Text(hunks) => {
                                    let _ = writeln!(out, "{}", paint.header(&format!("{title}:")));
                                    for hunk in hunks {
                                        hunk_lines(out, paint, hunk);
                                    }
                                }
                                ValueChange::Replaced {
                                    old_hash, new_hash, ..
                                } => {
                                    let _ = writeln!(
                                        out,
                                        "{}",
                                        paint.header(&format!(
                                            "{title} changed ({old_hash} → {new_hash})"
                                        ))
                                    );
                                }
                                ValueChange::Added(_) => {
                                    let _ = writeln!(
                                        out,
                                        "{}",
                                        paint.header(&format!("{title} added"))
                                    );
                                }
                                ValueChange::Removed(_) => {
                                    let _ = writeln!(
                                        out,
                                        "{}",
                                        paint.header(&format!("{title} removed"))
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn stat_line(old: &Side, new: &Side, step: &CellDiff) -> String {
    let mut parts = vec![change_word(old, step)];
    let (added, removed) = step.source.iter().fold((0, 0), |(a, r), hunk| {
        (a + hunk.added.len(), r + hunk.removed.len())
    });
    if added + removed > 0 {
        parts.push(format!("source +{added} -{removed}"));
    }
    if !step.metadata.is_empty() {
        parts.push("metadata".into());
    }
    match &step.outputs {
        OutputsDiff::Changed(_) => parts.push("outputs".into()),
        OutputsDiff::OldHasNoResult => parts.push("outputs (old: no result)".into()),
        OutputsDiff::NewHasNoResult => parts.push("outputs (new: no result)".into()),
        _ => {}
    }
    format!("{:<40} | {}", step_label(old, new, step), parts.join(", "))
}

fn summary(diff: &NotebookDiff) -> String {
    let count = |wanted: fn(&Change) -> bool| {
        diff.cells
            .iter()
            .filter(|step| wanted(&step.change))
            .count()
    };
    let modified = count(|c| *c == Change::Modified);
    let added = count(|c| *c == Change::Added);
    let removed = count(|c| *c == Change::Removed);
    let moved = count(|c| matches!(c, Change::MovedHere(_)));
    let changed = modified + added + removed + moved;
    format!(
        " {changed} cell{} changed: {modified} modified, {added} added, {removed} removed, {moved} moved",
        plural(changed)
    )
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

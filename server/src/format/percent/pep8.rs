//! How many blank lines jupytext expects between two cells (`pep8.py`): two around a
//! function or class definition, one otherwise. The reader stores `lines_to_next_cell`
//! only when the file differs from this; the writer uses it when the metadata is absent.
//!
//! The "next lines" are taken as an iterator so the writer need not build the rest of the
//! file for every cell.

use super::lines::py_strip;
use super::strings::StringParser;

fn is_definition(line: &str) -> bool {
    line.starts_with("def ") || line.starts_with("async ") || line.starts_with("class ")
}

fn next_instruction_is_function_or_class<'a>(lines: impl Iterator<Item = &'a str>) -> bool {
    let mut parser = StringParser::new("python");
    let mut previous_blank = false;
    for (i, line) in lines.enumerate() {
        if parser.is_quoted() {
            parser.read_line(line);
            previous_blank = py_strip(line).is_empty();
            continue;
        }
        parser.read_line(line);
        let blank = py_strip(line).is_empty();
        if blank {
            if i > 0 && previous_blank {
                return false;
            }
            previous_blank = true;
            continue;
        }
        previous_blank = false;
        if is_definition(line) {
            return true;
        }
        if line.starts_with(['#', '@', ' ', ')']) {
            continue;
        }
        return false;
    }
    false
}

fn cell_ends_with_function_or_class(lines: &[&str]) -> bool {
    let mut parser = StringParser::new("python");
    let mut non_quoted = Vec::new();
    for line in lines {
        if !parser.is_quoted() {
            non_quoted.push(*line);
        }
        parser.read_line(line);
    }
    let mut previous_blank = false;
    for (i, line) in non_quoted.iter().rev().enumerate() {
        let blank = py_strip(line).is_empty();
        if blank {
            if i > 0 && previous_blank {
                return false;
            }
            previous_blank = true;
            continue;
        }
        previous_blank = false;
        if line.starts_with(['#', ' ', ')']) {
            continue;
        }
        return is_definition(line);
    }
    false
}

fn cell_ends_with_code(lines: &[&str]) -> bool {
    match lines.last() {
        Some(last) => !py_strip(last).is_empty() && !last.starts_with('#'),
        None => false,
    }
}

fn cell_has_code<'a>(lines: impl Iterator<Item = &'a str>) -> bool {
    let mut previous_blank = false;
    for (i, line) in lines.enumerate() {
        let stripped = py_strip(line);
        if stripped.starts_with('#') {
            previous_blank = false;
            continue;
        }
        if stripped.is_empty() {
            if i > 0 && previous_blank {
                return false;
            }
            previous_blank = true;
            continue;
        }
        return true;
    }
    false
}

/// `pep8_lines_between_cells(prev_lines, next_lines, ".py")`.
pub(crate) fn pep8_lines_between_cells<'a, I>(prev_lines: &[&str], next_lines: I) -> usize
where
    I: Iterator<Item = &'a str> + Clone,
{
    if next_lines.clone().next().is_none() {
        return 1;
    }
    if prev_lines.is_empty() {
        return 0;
    }
    if cell_ends_with_function_or_class(prev_lines) {
        return if cell_has_code(next_lines) { 2 } else { 1 };
    }
    if cell_ends_with_code(prev_lines) && next_instruction_is_function_or_class(next_lines) {
        return 2;
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn between(prev: &[&str], next: &[&str]) -> usize {
        pep8_lines_between_cells(prev, next.iter().copied())
    }

    #[test]
    fn two_lines_around_definitions() {
        assert_eq!(
            between(&["def f():", "    return 1"], &["# %%", "x = 1"]),
            2
        );
        assert_eq!(between(&["x = 1"], &["# %%", "def f():", "    pass"]), 2);
    }

    #[test]
    fn one_line_otherwise_and_at_the_end() {
        assert_eq!(between(&["x = 1"], &["# %%", "y = 2"]), 1);
        assert_eq!(between(&["def f():", "    pass"], &[]), 1);
        assert_eq!(
            between(&["def f():", "    pass"], &["# %% [markdown]", "# text"]),
            1
        );
    }
}

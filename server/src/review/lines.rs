//! Line diffs of two texts (cell sources, stream text, text outputs): hunks of removed and
//! added lines, with the changed characters of each replaced line pair marked.
//!
//! Lines keep their line endings (nbformat's `source` list, and nbdime's line keys).
//! Common prefix and suffix lines are trimmed, then an LCS runs on the middle; a middle
//! too large for the quadratic table is reported as one replaced block.

use std::ops::Range;

/// The most table cells the LCS may use (old lines × new lines of the trimmed middle).
const MAX_LCS_CELLS: usize = 4_000_000;

/// A run of changed lines: `old` lines replaced by `new` lines (either may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// The index of the first removed line in the old text (where the insertion goes
    /// when nothing is removed).
    pub old_start: usize,
    pub new_start: usize,
    pub removed: Vec<String>,
    pub added: Vec<String>,
    /// For the first `min(removed, added)` lines, paired in order: the byte ranges that
    /// differ in the removed line and in the added line.
    pub marks: Vec<(Range<usize>, Range<usize>)>,
}

/// Splits `text` into lines, each with its line ending.
pub fn split_lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// The hunks that turn `old` into `new`; empty when they are equal.
pub fn diff_lines(old: &str, new: &str) -> Vec<Hunk> {
    if old == new {
        return Vec::new();
    }
    let old_lines = split_lines(old);
    let new_lines = split_lines(new);
    let prefix = old_lines
        .iter()
        .zip(&new_lines)
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = old_lines[prefix..]
        .iter()
        .rev()
        .zip(new_lines[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old_middle = &old_lines[prefix..old_lines.len() - suffix];
    let new_middle = &new_lines[prefix..new_lines.len() - suffix];
    let matched = if old_middle.len().saturating_mul(new_middle.len()) <= MAX_LCS_CELLS {
        lcs_pairs(old_middle, new_middle)
    } else {
        Vec::new()
    };
    let mut hunks = Vec::new();
    let (mut old_at, mut new_at) = (0, 0);
    let anchors = matched
        .into_iter()
        .chain(std::iter::once((old_middle.len(), new_middle.len())));
    for (old_match, new_match) in anchors {
        if old_match > old_at || new_match > new_at {
            hunks.push(hunk(
                prefix + old_at,
                prefix + new_at,
                &old_middle[old_at..old_match],
                &new_middle[new_at..new_match],
            ));
        }
        old_at = old_match + 1;
        new_at = new_match + 1;
    }
    hunks
}

fn hunk(old_start: usize, new_start: usize, removed: &[&str], added: &[&str]) -> Hunk {
    let marks = removed
        .iter()
        .zip(added)
        .map(|(old, new)| changed_chars(old, new))
        .collect();
    Hunk {
        old_start,
        new_start,
        removed: removed.iter().map(|line| line.to_string()).collect(),
        added: added.iter().map(|line| line.to_string()).collect(),
        marks,
    }
}

/// The index pairs of a longest common subsequence of `old` and `new`, in order (lines
/// here, whole outputs in `outputs.rs`).
pub(super) fn lcs_pairs<T: PartialEq>(old: &[T], new: &[T]) -> Vec<(usize, usize)> {
    let (n, m) = (old.len(), new.len());
    let width = m + 1;
    let mut table = vec![0u32; (n + 1) * width];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[i * width + j] = if old[i] == new[j] {
                table[(i + 1) * width + j + 1] + 1
            } else {
                table[(i + 1) * width + j].max(table[i * width + j + 1])
            };
        }
    }
    let mut pairs = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if old[i] == new[j] {
            pairs.push((i, j));
            i += 1;
            j += 1;
        } else if table[(i + 1) * width + j] >= table[i * width + j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    pairs
}

/// The byte ranges of `old` and `new` between their common prefix and common suffix
/// (on character boundaries, line endings excluded from neither).
pub fn changed_chars(old: &str, new: &str) -> (Range<usize>, Range<usize>) {
    let prefix: usize = old
        .chars()
        .zip(new.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    let suffix: usize = old[prefix..]
        .chars()
        .rev()
        .zip(new[prefix..].chars().rev())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a.len_utf8())
        .sum();
    (prefix..old.len() - suffix, prefix..new.len() - suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_hunks() {
        assert!(diff_lines("a\nb\n", "a\nb\n").is_empty());
    }

    #[test]
    fn an_edited_line_is_one_hunk_with_its_changed_characters_marked() {
        let hunks = diff_lines("x = 1\ny = 2\nz = 3\n", "x = 1\ny = 20\nz = 3\n");
        assert_eq!(hunks.len(), 1);
        let hunk = &hunks[0];
        assert_eq!((hunk.old_start, hunk.new_start), (1, 1));
        assert_eq!(hunk.removed, ["y = 2\n"]);
        assert_eq!(hunk.added, ["y = 20\n"]);
        assert_eq!(hunk.marks, [(5..5, 5..6)]);
    }

    #[test]
    fn insertions_and_deletions_in_the_middle_keep_the_common_lines() {
        let hunks = diff_lines("a\nb\nc\nd\n", "a\nc\nX\nd\n");
        assert_eq!(hunks.len(), 2);
        assert_eq!(
            (hunks[0].old_start, &hunks[0].removed[..]),
            (1, &["b\n".to_string()][..])
        );
        assert!(hunks[0].added.is_empty());
        assert_eq!((hunks[1].old_start, hunks[1].new_start), (3, 2));
        assert_eq!(hunks[1].added, ["X\n"]);
    }

    #[test]
    fn changed_characters_respect_multibyte_boundaries() {
        let (old, new) = changed_chars("é1é", "é2é");
        assert_eq!((old, new), (2..3, 2..3));
    }
}

//! Cell alignment of two notebooks: which old cell became which new cell.
//!
//! Three passes, cheapest first: cells with the same name (`name=` in the cell spec),
//! then the same cache key or the same source; the matches that keep both orders (a
//! longest increasing subsequence) become anchors and the others are moves. Only inside
//! the gaps between anchors does an LCS on source similarity pair the remaining cells,
//! so the work is linear in the notebook and quadratic only in the size of a gap.

use std::collections::HashMap;

use crate::format::CellType;

/// The most similarity scores one gap may compute; larger gaps pair cells by position.
const MAX_GAP_CELLS: usize = 40_000;
/// The least similarity for two cells in a gap to count as one edited cell.
const MIN_SIMILARITY: f64 = 0.5;

/// What the aligner knows of one cell.
#[derive(Debug, Clone, Copy)]
pub struct CellIdentity<'a> {
    pub cell_type: CellType,
    /// The `name=` of the cell spec, if any.
    pub name: Option<&'a str>,
    /// The cell's current cache key, if known.
    pub key: Option<&'a str>,
    pub source: &'a str,
}

/// One step of an alignment, in an order that is increasing in both notebooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aligned {
    /// Old cell `old` is new cell `new` (maybe edited).
    Pair { old: usize, new: usize },
    /// Old cell `old` is gone from here; `moved_to` is where it went when it moved.
    Removed { old: usize, moved_to: Option<usize> },
    /// New cell `new` is new here; `moved_from` is where it was when it moved.
    Added {
        new: usize,
        moved_from: Option<usize>,
    },
}

/// Aligns `old` with `new`.
pub fn align(old: &[CellIdentity<'_>], new: &[CellIdentity<'_>]) -> Vec<Aligned> {
    let mut old_match: Vec<Option<usize>> = vec![None; old.len()];
    let mut new_match: Vec<Option<usize>> = vec![None; new.len()];
    match_unique_names(old, new, &mut old_match, &mut new_match);
    match_in_order(old, new, &mut old_match, &mut new_match, |cell| cell.key);
    match_in_order(old, new, &mut old_match, &mut new_match, |cell| {
        Some(cell.source)
    });

    let pairs: Vec<(usize, usize)> = old_match
        .iter()
        .enumerate()
        .filter_map(|(i, j)| j.map(|j| (i, j)))
        .collect();
    let anchors = increasing_subsequence(&pairs);
    let mut moved_old: Vec<Option<usize>> = vec![None; old.len()];
    let mut moved_new: Vec<Option<usize>> = vec![None; new.len()];
    let mut is_anchor = vec![false; pairs.len()];
    for &index in &anchors {
        is_anchor[index] = true;
    }
    for (index, &(i, j)) in pairs.iter().enumerate() {
        if !is_anchor[index] {
            moved_old[i] = Some(j);
            moved_new[j] = Some(i);
        }
    }

    let mut steps = Vec::with_capacity(old.len().max(new.len()));
    let (mut old_at, mut new_at) = (0, 0);
    let ends = anchors
        .iter()
        .map(|&index| pairs[index])
        .chain(std::iter::once((old.len(), new.len())));
    for (anchor_old, anchor_new) in ends {
        align_gap(
            old,
            new,
            old_at..anchor_old,
            new_at..anchor_new,
            &moved_old,
            &moved_new,
            &mut steps,
        );
        if anchor_old < old.len() {
            steps.push(Aligned::Pair {
                old: anchor_old,
                new: anchor_new,
            });
        }
        old_at = anchor_old + 1;
        new_at = anchor_new + 1;
    }
    steps
}

/// Matches cells whose name occurs once on each side, with the same cell type.
fn match_unique_names<'a>(
    old: &[CellIdentity<'a>],
    new: &[CellIdentity<'a>],
    old_match: &mut [Option<usize>],
    new_match: &mut [Option<usize>],
) {
    let unique = |cells: &[CellIdentity<'a>]| {
        let mut seen: HashMap<&'a str, Option<usize>> = HashMap::new();
        for (index, cell) in cells.iter().enumerate() {
            if let Some(name) = cell.name {
                seen.entry(name)
                    .and_modify(|slot| *slot = None)
                    .or_insert(Some(index));
            }
        }
        seen
    };
    let old_names = unique(old);
    let new_names = unique(new);
    for (name, i) in old_names {
        if let (Some(i), Some(Some(j))) = (i, new_names.get(name))
            && old[i].cell_type == new[*j].cell_type
        {
            old_match[i] = Some(*j);
            new_match[*j] = Some(i);
        }
    }
}

/// Matches still-unmatched cells with equal `identity` (and cell type): the k-th old
/// occurrence with the k-th new one.
fn match_in_order<'a>(
    old: &[CellIdentity<'a>],
    new: &[CellIdentity<'a>],
    old_match: &mut [Option<usize>],
    new_match: &mut [Option<usize>],
    identity: impl Fn(&CellIdentity<'a>) -> Option<&'a str>,
) {
    let mut waiting: HashMap<(CellType, &str), std::collections::VecDeque<usize>> = HashMap::new();
    for (j, cell) in new.iter().enumerate() {
        if new_match[j].is_none()
            && let Some(id) = identity(cell)
        {
            waiting
                .entry((cell.cell_type, id))
                .or_default()
                .push_back(j);
        }
    }
    for (i, cell) in old.iter().enumerate() {
        if old_match[i].is_some() {
            continue;
        }
        let Some(id) = identity(cell) else { continue };
        if let Some(j) = waiting
            .get_mut(&(cell.cell_type, id))
            .and_then(|queue| queue.pop_front())
        {
            old_match[i] = Some(j);
            new_match[j] = Some(i);
        }
    }
}

/// Indices into `pairs` (sorted by old index) of a longest subsequence increasing in the
/// new index (patience sorting, O(n log n)).
fn increasing_subsequence(pairs: &[(usize, usize)]) -> Vec<usize> {
    let mut tails: Vec<usize> = Vec::new();
    let mut previous: Vec<Option<usize>> = vec![None; pairs.len()];
    for (index, &(_, j)) in pairs.iter().enumerate() {
        let position = tails.partition_point(|&tail| pairs[tail].1 < j);
        previous[index] = position.checked_sub(1).map(|before| tails[before]);
        if position == tails.len() {
            tails.push(index);
        } else {
            tails[position] = index;
        }
    }
    let mut chain = Vec::with_capacity(tails.len());
    let mut at = tails.last().copied();
    while let Some(index) = at {
        chain.push(index);
        at = previous[index];
    }
    chain.reverse();
    chain
}

/// Aligns the cells strictly between two anchors: an LCS maximising total similarity,
/// where moved cells never pair.
fn align_gap(
    old: &[CellIdentity<'_>],
    new: &[CellIdentity<'_>],
    old_range: std::ops::Range<usize>,
    new_range: std::ops::Range<usize>,
    moved_old: &[Option<usize>],
    moved_new: &[Option<usize>],
    steps: &mut Vec<Aligned>,
) {
    let old_cells: Vec<usize> = old_range.collect();
    let new_cells: Vec<usize> = new_range.collect();
    let (n, m) = (old_cells.len(), new_cells.len());
    let score = |a: usize, b: usize| -> f64 {
        let (i, j) = (old_cells[a], new_cells[b]);
        if moved_old[i].is_some() || moved_new[j].is_some() {
            return 0.0;
        }
        if old[i].cell_type != new[j].cell_type {
            return 0.0;
        }
        let similarity = similarity(old[i].source, new[j].source);
        if similarity >= MIN_SIMILARITY {
            similarity
        } else {
            0.0
        }
    };
    let mut paired: Vec<(usize, usize)> = Vec::new();
    if n > 0 && m > 0 {
        if n.saturating_mul(m) <= MAX_GAP_CELLS {
            let width = m + 1;
            let mut table = vec![0.0f64; (n + 1) * width];
            let mut scores = vec![0.0f64; n * m];
            for a in (0..n).rev() {
                for b in (0..m).rev() {
                    let pair = score(a, b);
                    scores[a * m + b] = pair;
                    let diagonal = if pair > 0.0 {
                        table[(a + 1) * width + b + 1] + pair
                    } else {
                        0.0
                    };
                    table[a * width + b] = diagonal
                        .max(table[(a + 1) * width + b])
                        .max(table[a * width + b + 1]);
                }
            }
            let (mut a, mut b) = (0, 0);
            while a < n && b < m {
                let pair = scores[a * m + b];
                if pair > 0.0 && table[a * width + b] == table[(a + 1) * width + b + 1] + pair {
                    paired.push((a, b));
                    a += 1;
                    b += 1;
                } else if table[(a + 1) * width + b] >= table[a * width + b + 1] {
                    a += 1;
                } else {
                    b += 1;
                }
            }
        } else {
            paired = (0..n.min(m))
                .filter(|&k| score(k, k) > 0.0)
                .map(|k| (k, k))
                .collect();
        }
    }
    let (mut a, mut b) = (0, 0);
    for (pa, pb) in paired.into_iter().chain(std::iter::once((n, m))) {
        for &i in &old_cells[a..pa] {
            steps.push(Aligned::Removed {
                old: i,
                moved_to: moved_old[i],
            });
        }
        for &j in &new_cells[b..pb] {
            steps.push(Aligned::Added {
                new: j,
                moved_from: moved_new[j],
            });
        }
        if pa < n {
            steps.push(Aligned::Pair {
                old: old_cells[pa],
                new: new_cells[pb],
            });
        }
        a = pa + 1;
        b = pb + 1;
    }
}

/// How alike two sources are, 0 to 1: the larger of the share of common lines and the
/// share of common character pairs (so a one-line cell with one edit still scores high).
pub fn similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let total_lines = a.lines().count() + b.lines().count();
    let lines = if total_lines == 0 {
        0.0
    } else {
        let mut counts: HashMap<&str, i64> = HashMap::new();
        for line in a.lines() {
            *counts.entry(line).or_default() += 1;
        }
        let mut common = 0;
        for line in b.lines() {
            if let Some(count) = counts.get_mut(line)
                && *count > 0
            {
                *count -= 1;
                common += 1;
            }
        }
        2.0 * f64::from(common) / total_lines as f64
    };
    lines.max(bigram_similarity(a, b))
}

fn bigram_similarity(a: &str, b: &str) -> f64 {
    let bigrams = |text: &str| -> Vec<(u8, u8)> {
        text.as_bytes()
            .windows(2)
            .map(|pair| (pair[0], pair[1]))
            .collect()
    };
    let (left, right) = (bigrams(a), bigrams(b));
    let total = left.len() + right.len();
    if total == 0 {
        return 0.0;
    }
    let mut counts: HashMap<(u8, u8), i64> = HashMap::new();
    for pair in left {
        *counts.entry(pair).or_default() += 1;
    }
    let mut common = 0u32;
    for pair in right {
        if let Some(count) = counts.get_mut(&pair)
            && *count > 0
        {
            *count -= 1;
            common += 1;
        }
    }
    2.0 * f64::from(common) / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code<'a>(name: Option<&'a str>, source: &'a str) -> CellIdentity<'a> {
        CellIdentity {
            cell_type: CellType::Code,
            name,
            key: None,
            source,
        }
    }

    #[test]
    fn identical_notebooks_pair_every_cell() {
        let cells = [code(None, "a = 1"), code(None, "b = 2")];
        assert_eq!(
            align(&cells, &cells),
            [
                Aligned::Pair { old: 0, new: 0 },
                Aligned::Pair { old: 1, new: 1 }
            ]
        );
    }

    #[test]
    fn an_inserted_and_a_deleted_cell_show_as_added_and_removed() {
        let old = [
            code(None, "a = 1"),
            code(None, "gone()"),
            code(None, "c = 3"),
        ];
        let new = [
            code(None, "a = 1"),
            code(None, "c = 3"),
            code(None, "import fresh"),
        ];
        assert_eq!(
            align(&old, &new),
            [
                Aligned::Pair { old: 0, new: 0 },
                Aligned::Removed {
                    old: 1,
                    moved_to: None
                },
                Aligned::Pair { old: 2, new: 1 },
                Aligned::Added {
                    new: 2,
                    moved_from: None
                },
            ]
        );
    }

    #[test]
    fn a_moved_cell_is_removed_and_added_with_links() {
        let old = [
            code(None, "first()"),
            code(None, "second()"),
            code(None, "third()"),
        ];
        let new = [
            code(None, "second()"),
            code(None, "third()"),
            code(None, "first()"),
        ];
        assert_eq!(
            align(&old, &new),
            [
                Aligned::Removed {
                    old: 0,
                    moved_to: Some(2)
                },
                Aligned::Pair { old: 1, new: 0 },
                Aligned::Pair { old: 2, new: 1 },
                Aligned::Added {
                    new: 2,
                    moved_from: Some(0)
                },
            ]
        );
    }

    #[test]
    fn an_edited_cell_pairs_by_similarity_inside_its_gap() {
        let old = [
            code(None, "a = 1"),
            code(None, "total = compute(x, y)\nprint(total)"),
        ];
        let new = [
            code(None, "a = 1"),
            code(None, "total = compute(x, z)\nprint(total)"),
        ];
        assert_eq!(align(&old, &new)[1], Aligned::Pair { old: 1, new: 1 });
    }

    #[test]
    fn unrelated_cells_in_a_gap_do_not_pair() {
        let old = [code(None, "import numpy as np")];
        let new = [code(None, "plt.show()")];
        assert_eq!(
            align(&old, &new),
            [
                Aligned::Removed {
                    old: 0,
                    moved_to: None
                },
                Aligned::Added {
                    new: 0,
                    moved_from: None
                },
            ]
        );
    }

    #[test]
    fn a_named_cell_pairs_by_name_even_when_rewritten() {
        let old = [code(Some("load"), "df = read('a.csv')"), code(None, "x")];
        let new = [
            code(None, "x"),
            code(Some("load"), "frame = pandas.load_everything()"),
        ];
        let steps = align(&old, &new);
        assert!(
            steps.contains(&Aligned::Pair { old: 0, new: 1 })
                || steps.contains(&Aligned::Added {
                    new: 1,
                    moved_from: Some(0)
                })
        );
    }
}

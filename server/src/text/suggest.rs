//! "Did you mean …?" suggestions: the closest candidate to a misspelt word by edit
//! distance. Shared by the tag, PEP-723 and config readers so that every error names the
//! likely fix the same way.

/// The candidate closest to `word`, if it is close enough to be a plausible typo: at most
/// 2 edits (Levenshtein over chars, and no more than half the word), or else the candidate
/// sharing the longest prefix with `word` when that prefix is most of the word
/// (`timeouts` → `timeout_seconds`). Ties go to the earlier candidate.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_len = word.chars().count();
    let limit = 2.min(word_len.div_ceil(2).max(1));
    let mut best: Option<(usize, &'a str)> = None;
    let mut best_prefix: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        let distance = edit_distance(word, candidate);
        if distance <= limit && best.is_none_or(|(best_distance, _)| distance < best_distance) {
            best = Some((distance, candidate));
        }
        let shared = word
            .chars()
            .zip(candidate.chars())
            .take_while(|(a, b)| a == b)
            .count();
        if shared >= 4
            && shared * 4 >= word_len * 3
            && best_prefix.is_none_or(|(best_shared, _)| shared > best_shared)
        {
            best_prefix = Some((shared, candidate));
        }
    }
    best.or(best_prefix).map(|(_, candidate)| candidate)
}

/// `; did you mean "x"?` for the closest candidate, or an empty string.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match closest(word, candidates) {
        Some(candidate) => format!("; did you mean \"{candidate}\"?"),
        None => String::new(),
    }
}

/// Levenshtein distance between `a` and `b`, counted in chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance("jc.stepp", "jc.step"), 1);
        assert_eq!(edit_distance("kernal", "kernel"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn closest_picks_a_near_candidate() {
        let kinds = ["jc.load", "jc.step", "jc.figure"];
        assert_eq!(closest("jc.stepp", kinds), Some("jc.step"));
        assert_eq!(closest("jc.figur", kinds), Some("jc.figure"));
    }

    #[test]
    fn closest_rejects_far_candidates() {
        assert_eq!(closest("jc.banana", ["jc.load", "jc.step"]), None);
        assert_eq!(closest("x", ["name"]), None);
        assert_eq!(closest("timexyz", ["timeout_seconds"]), None);
    }

    #[test]
    fn closest_accepts_a_long_shared_prefix() {
        assert_eq!(
            closest("timeouts", ["kernel", "timeout_seconds"]),
            Some("timeout_seconds")
        );
    }

    #[test]
    fn did_you_mean_formats_the_hint() {
        assert_eq!(
            did_you_mean("timeout_second", ["timeout_seconds"]),
            "; did you mean \"timeout_seconds\"?"
        );
        assert_eq!(did_you_mean("zzz", ["timeout_seconds"]), "");
    }
}

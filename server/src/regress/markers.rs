//! nbval's cell markers: comment lines (`# NBVAL_IGNORE_OUTPUT`, `# NBVAL_CHECK_OUTPUT`,
//! `# NBVAL_RAISES_EXCEPTION`, `# NBVAL_SKIP`, legacy `# PYTEST_VALIDATE_IGNORE_OUTPUT`)
//! and the same names as cell tags, lower-cased with `-` (`nbval-ignore-output`, …), plus
//! the Notebook 5.1 tag `raises-exception`. As in nbval, a comment line counts when it
//! starts with `#` and the rest, after stripping further `#`s and blanks, is the marker;
//! when comments and tags both set an option, the comments win (with a warning).

use serde_json::Value;

/// What the markers of one cell ask for; `None` where nothing was said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Markers {
    /// `Some(false)`: ignore the outputs; `Some(true)`: check them even under `--lax`.
    pub check: Option<bool>,
    /// The cell is expected to raise; its `ename`/`evalue` are compared.
    pub raises: bool,
    /// Do not run the cell.
    pub skip: bool,
}

impl Markers {
    fn is_empty(&self) -> bool {
        *self == Markers::default()
    }

    fn set(&mut self, marker: &str) -> bool {
        match marker {
            "NBVAL_IGNORE_OUTPUT" | "PYTEST_VALIDATE_IGNORE_OUTPUT" => self.check = Some(false),
            "NBVAL_CHECK_OUTPUT" => self.check = Some(true),
            "NBVAL_RAISES_EXCEPTION" => self.raises = true,
            "NBVAL_SKIP" => self.skip = true,
            _ => return false,
        }
        true
    }
}

/// The markers of a cell, from its `source` and its metadata `tags`; the flag says that
/// comments and tags overlapped (the comments were used).
pub fn markers(source: &str, tags: Option<&Value>) -> (Markers, bool) {
    let mut from_comments = Markers::default();
    for line in source.lines() {
        let Some(rest) = line.strip_prefix('#') else {
            continue;
        };
        from_comments.set(rest.trim_start_matches('#').trim());
    }
    let mut from_tags = Markers::default();
    for tag in tags.and_then(Value::as_array).into_iter().flatten() {
        let Some(tag) = tag.as_str() else {
            continue;
        };
        if tag == "raises-exception" {
            from_tags.raises = true;
        } else {
            from_tags.set(&tag.to_ascii_uppercase().replace('-', "_"));
        }
    }
    match (from_comments.is_empty(), from_tags.is_empty()) {
        (_, true) => (from_comments, false),
        (true, false) => (from_tags, false),
        (false, false) => (from_comments, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn comment_markers_count_anywhere_in_the_cell_with_any_number_of_hashes() {
        let (found, overlap) = markers("x = 1\n## NBVAL_IGNORE_OUTPUT \nprint(x)", None);
        assert_eq!(found.check, Some(false));
        assert!(!overlap);
        assert!(markers("#NBVAL_SKIP", None).0.skip);
        assert!(markers("# NBVAL_RAISES_EXCEPTION\n1/0", None).0.raises);
        assert_eq!(
            markers("# PYTEST_VALIDATE_IGNORE_OUTPUT", None).0.check,
            Some(false)
        );
        // Not a comment line, and not the whole comment: no marker.
        assert!(markers("x = 1  # NBVAL_SKIP", None).0.is_empty());
        assert!(markers("# NBVAL_SKIP please", None).0.is_empty());
    }

    #[test]
    fn tags_are_the_lower_case_dashed_names_and_raises_exception() {
        let tags = json!(["jc.step", "nbval-check-output", "raises-exception"]);
        let (found, _) = markers("1", Some(&tags));
        assert_eq!(found.check, Some(true));
        assert!(found.raises);
        assert!(markers("1", Some(&json!(["nbval-skip"]))).0.skip);
        assert!(
            markers("1", Some(&json!(["nbval-raises-exception"])))
                .0
                .raises
        );
    }

    #[test]
    fn comments_win_over_tags_and_the_overlap_is_flagged() {
        let tags = json!(["nbval-ignore-output"]);
        let (found, overlap) = markers("# NBVAL_CHECK_OUTPUT\n1", Some(&tags));
        assert_eq!(found.check, Some(true));
        assert!(overlap);
    }
}

//! The py:percent cell-marker grammar (jupytext `DoublePercentScriptCellReader`): a marker
//! with options `^\s*#\s*%%(%*)\s(.*)$`, a bare marker
//! `^\s*#\s*(%%|<codecell>|In\[[0-9 ]*\]:?)\s*$`, and the near-miss `# %%tags=…` that is
//! not a marker at all.

use super::lines::is_py_space;

// The regexes are matched by hand: they run on every line of every notebook.

/// After `^\s*#\s*`: the rest of the line, or `None` when the line is not a comment.
fn after_hash(line: &str) -> Option<&str> {
    let rest = line.trim_start_matches(is_py_space).strip_prefix('#')?;
    Some(rest.trim_start_matches(is_py_space))
}

/// `%%(%*)\s(.*)$` at the start of `rest`.
fn percent_with_options(rest: &str) -> bool {
    let Some(after) = rest.strip_prefix("%%") else {
        return false;
    };
    after
        .trim_start_matches('%')
        .chars()
        .next()
        .is_some_and(is_py_space)
}

/// `(%%|<codecell>|In\[[0-9 ]*\]:?)\s*$` at the start of `rest`.
fn bare_marker(rest: &str) -> bool {
    let tail = if let Some(tail) = rest.strip_prefix("%%") {
        tail
    } else if let Some(tail) = rest.strip_prefix("<codecell>") {
        tail
    } else if let Some(tail) = rest.strip_prefix("In[") {
        let tail = tail.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
        let Some(tail) = tail.strip_prefix(']') else {
            return false;
        };
        tail.strip_prefix(':').unwrap_or(tail)
    } else {
        return false;
    };
    tail.chars().all(is_py_space)
}

/// A marker that carries options (title, cell type, metadata):
/// `^\s*#\s*%%(%*)\s(.*)$`.
pub(crate) fn is_marker_with_options(line: &str) -> bool {
    after_hash(line).is_some_and(percent_with_options)
}

/// Any line that starts a cell.
pub(crate) fn is_marker(line: &str) -> bool {
    after_hash(line).is_some_and(|rest| percent_with_options(rest) || bare_marker(rest))
}

/// `# %%tags=…`: looks like a marker, but jupytext needs whitespace after `%%`
/// (`^\s*#\s*%%[^%\s]`).
pub(crate) fn is_marker_without_space(line: &str) -> bool {
    after_hash(line).is_some_and(|rest| {
        rest.strip_prefix("%%")
            .and_then(|after| after.chars().next())
            .is_some_and(|c| c != '%' && !is_py_space(c))
    })
}

/// The option text of a marker: what follows `%%` once the comment is removed
/// (jupytext uncomments the line, then takes everything after the first `%%`).
pub(crate) fn marker_options(line: &str) -> &str {
    let uncommented = line
        .strip_prefix("# ")
        .or_else(|| line.strip_prefix('#'))
        .unwrap_or(line);
    match uncommented.find("%%") {
        Some(pos) => &uncommented[pos + 2..],
        None => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_forms() {
        for line in [
            "# %%",
            "#%%",
            "  # %% x",
            "# %% [markdown]",
            "# <codecell>",
            "# In[1]:",
            "# In[ ]",
            "# %%% sub",
            "# %%   ",
            "#\t%%%%\tx",
            "\u{1c}# In[]",
            "# In[ 12 ]:  ",
        ] {
            assert!(is_marker(line), "{line}");
        }
        for line in [
            "# %%tags=[\"a\"]",
            "# %%%",
            "%%",
            "# % %",
            "# In[a]:",
            "x # %%",
            "# In[1]::",
            "# <codecell> x",
            "# %%%%x",
        ] {
            assert!(!is_marker(line), "{line}");
        }
    }

    #[test]
    fn options_follow_the_percent_signs() {
        assert_eq!(
            marker_options("# %% [markdown] tags=[]"),
            " [markdown] tags=[]"
        );
        assert_eq!(marker_options("# %%% sub"), "% sub");
        assert_eq!(marker_options("    # %% x"), " x");
    }

    #[test]
    fn missing_space_is_detected() {
        assert!(is_marker_without_space("# %%tags=[\"a\"]"));
        assert!(!is_marker_without_space("# %% tags=[\"a\"]"));
        assert!(!is_marker_without_space("# %%"));
    }
}

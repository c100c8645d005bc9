//! The py:percent cell-marker grammar (jupytext `DoublePercentScriptCellReader`): a marker
//! with options `^\s*#\s*%%(%*)\s(.*)$`, a bare marker
//! `^\s*#\s*(%%|<codecell>|In\[[0-9 ]*\]:?)\s*$`, and the near-miss `# %%tags=…` that is
//! not a marker at all.

use std::sync::LazyLock;

use regex::Regex;

use super::lines::WS;

fn pattern(text: &str) -> Regex {
    let text = text.replace("WS", WS);
    Regex::new(&text).unwrap_or_else(|error| panic!("bad pattern {text}: {error}"))
}

static WITH_OPTIONS: LazyLock<Regex> = LazyLock::new(|| pattern(r"^WS*#WS*%%(%*)WS(.*)$"));
static BARE: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^WS*#WS*(%%|<codecell>|In\[[0-9 ]*\]:?)WS*$"));
static NO_SPACE: LazyLock<Regex> = LazyLock::new(|| pattern(r"^WS*#WS*%%[^%\s\x1c-\x1f]"));

/// Every marker starts (after blanks) with `#`: a cheap test before the regexes, which
/// run on every line.
fn may_be_marker(line: &str) -> bool {
    line.trim_start_matches(super::lines::is_py_space)
        .starts_with('#')
        && (line.contains("%%") || line.contains("<codecell>") || line.contains("In["))
}

/// A marker that carries options (title, cell type, metadata).
pub(crate) fn is_marker_with_options(line: &str) -> bool {
    may_be_marker(line) && WITH_OPTIONS.is_match(line)
}

/// Any line that starts a cell.
pub(crate) fn is_marker(line: &str) -> bool {
    may_be_marker(line) && (WITH_OPTIONS.is_match(line) || BARE.is_match(line))
}

/// `# %%tags=…`: looks like a marker, but jupytext needs whitespace after `%%`.
pub(crate) fn is_marker_without_space(line: &str) -> bool {
    may_be_marker(line) && line.contains("%%") && !is_marker(line) && NO_SPACE.is_match(line)
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

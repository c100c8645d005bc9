//! How durations and ages read, the same in the preview page, the hover and the code
//! lenses: `42 ms`, `1.3 s`, `2 min 5 s`; `just now`, `3 min ago`, `2 h ago`, `4 days ago`.

/// `42 ms`, `1.3 s`, `2 min 5 s`.
pub fn duration(milliseconds: u64) -> String {
    match milliseconds {
        0..1_000 => format!("{milliseconds} ms"),
        1_000..60_000 => format!("{:.1} s", milliseconds as f64 / 1000.0),
        _ => format!(
            "{} min {} s",
            milliseconds / 60_000,
            milliseconds % 60_000 / 1000
        ),
    }
}

/// `just now`, `3 min ago`, `2 h ago`, `4 days ago`, for an age in seconds.
pub fn ago(seconds: u64) -> String {
    match seconds {
        0..60 => "just now".to_string(),
        60..3600 => format!("{} min ago", seconds / 60),
        3600..86_400 => format!("{} h ago", seconds / 3600),
        _ => {
            let days = seconds / 86_400;
            format!("{days} day{} ago", if days == 1 { "" } else { "s" })
        }
    }
}

/// [`ago`] for a moment given in seconds since the Unix epoch.
pub fn ago_since(epoch_seconds: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    ago(now.saturating_sub(epoch_seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_the_unit_that_fits() {
        assert_eq!(duration(0), "0 ms");
        assert_eq!(duration(42), "42 ms");
        assert_eq!(duration(999), "999 ms");
        assert_eq!(duration(1234), "1.2 s");
        assert_eq!(duration(59_999), "60.0 s");
        assert_eq!(duration(185_000), "3 min 5 s");
    }

    #[test]
    fn ages_read_in_the_unit_that_fits() {
        assert_eq!(ago(2), "just now");
        assert_eq!(ago(180), "3 min ago");
        assert_eq!(ago(7200), "2 h ago");
        assert_eq!(ago(86_400), "1 day ago");
        assert_eq!(ago(3 * 86_400), "3 days ago");
        assert!(ago_since(0).ends_with("days ago"));
    }
}

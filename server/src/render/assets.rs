//! The page's CSS and the live-reload script, compiled into the binary from `static/`.

/// Inlined into every page (`style-src 'unsafe-inline'`).
pub const STYLE: &str = include_str!("static/style.css");

/// Served at [`LIVE_SCRIPT_PATH`]: the CSP allows only same-origin scripts, no inline ones.
pub const LIVE_SCRIPT: &str = include_str!("static/live.js");

pub const LIVE_SCRIPT_PATH: &str = "/assets/live.js";

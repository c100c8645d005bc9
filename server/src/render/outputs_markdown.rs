//! A cell's cached outputs as Markdown, for editor hovers: a one-line status header, then
//! each output in the order the cell produced it.
//!
//! Streams and `text/plain` go into fences (longer than any backtick run inside, so no
//! output can close its fence early), cut to a few lines and bytes with a note saying
//! how much was left out; errors show `ename: evalue` and the traceback with ANSI
//! removed; PNG, JPEG and SVG images link to the preview and are inlined as `data:` URIs
//! under a size cap; HTML and other rich types link to the preview with their plain-text
//! form when the bundle has one. The whole text stays under a budget.
//!
//! Reads blobs, but only as much of each as it shows (a long stream is read up to a cap,
//! an image only when it will be inlined): hovers must stay fast.

use std::collections::BTreeMap;
use std::io::Read;

use crate::cache::blobs::{BlobRef, BlobStore, base64_encode};
use crate::cache::manifest::parse_utc;
use crate::cache::{CellStatus, Manifest, OutputRecord};
use crate::kernel::strip_ansi;
use crate::render::time_text::{ago, duration};

/// How much a hover shows.
#[derive(Debug, Clone, Copy)]
pub struct HoverLimits {
    /// Lines of one stream or text output.
    pub text_lines: usize,
    /// Bytes of one stream or text output.
    pub text_bytes: usize,
    /// Lines of a traceback (its last ones: where it failed).
    pub traceback_lines: usize,
    /// The largest `data:` URI inlined for an image; bigger images are only linked. `0`:
    /// images are never inlined (for clients that cannot show them).
    pub inline_image_bytes: usize,
    /// The whole hover text; outputs past it are counted, not shown.
    pub total_bytes: usize,
    /// How much of a text blob is ever read (to count the lines that were cut).
    pub read_bytes: usize,
}

impl Default for HoverLimits {
    fn default() -> HoverLimits {
        HoverLimits {
            text_lines: 40,
            text_bytes: 4 * 1024,
            traceback_lines: 30,
            inline_image_bytes: 64 * 1024,
            total_bytes: 160 * 1024,
            read_bytes: 1024 * 1024,
        }
    }
}

/// Where the preview shows this cell, when a preview server runs for the project.
#[derive(Debug, Clone)]
pub struct PreviewLinks {
    /// The notebook page at the cell: `http://127.0.0.1:PORT/nb/…#cell-N`.
    pub cell_page: String,
    /// `http://127.0.0.1:PORT` (blob URLs are `/blob/<hash>.<ext>` under it).
    pub origin: String,
    /// Write links as `text: URL` rather than `[text](URL)`: for clients that conceal a
    /// Markdown link's target (Neovim), where the URL could be neither seen nor copied.
    pub plain: bool,
}

impl PreviewLinks {
    /// A link to `url` labelled `text`, as the client shows links.
    pub fn link(&self, text: &str, url: &str) -> String {
        if self.plain {
            format!("{text}: {url}")
        } else {
            format!("[{text}]({url})")
        }
    }
}

/// The hover text of one code cell: the status header, a stale marker, the outputs.
/// `manifest` is the current key's (cached, error) or the newest older one (stale);
/// `now` is seconds since the epoch.
pub fn cell_hover_markdown(
    status: CellStatus,
    manifest: Option<&Manifest>,
    blobs: &BlobStore,
    links: Option<&PreviewLinks>,
    now: u64,
    limits: &HoverLimits,
) -> String {
    let mut out = status_line(status, manifest, now);
    if let Some(links) = links
        && manifest.is_some()
    {
        out.push_str(&format!(
            " · {}",
            links.link("open in preview", &links.cell_page)
        ));
    }
    out.push_str("\n\n");
    if let Some(manifest) = manifest {
        out.push_str(&outputs_markdown(&manifest.outputs, blobs, links, limits));
    }
    out.truncate(out.trim_end().len());
    out
}

/// Whether any output is best seen in the preview (images, HTML, other rich types), so
/// that a hover is worth starting the preview server for its links.
pub fn wants_preview(outputs: &[OutputRecord]) -> bool {
    outputs.iter().any(|output| match output {
        OutputRecord::DisplayData { data, .. } | OutputRecord::ExecuteResult { data, .. } => data
            .keys()
            .any(|mime| mime != "text/plain" && mime != "text/markdown"),
        _ => false,
    })
}

/// The one-line status: `✓ cached · 1.2 s · 3 min ago`, `✗ ValueError: kaboom · …`,
/// `● stale — outputs from 3 min ago, the cell changed since`, `○ not run — …`.
pub fn status_line(status: CellStatus, manifest: Option<&Manifest>, now: u64) -> String {
    let ago = manifest
        .and_then(|manifest| parse_utc(&manifest.executed_at))
        .map(|then| ago(now.saturating_sub(then)));
    let timing = manifest
        .map(|manifest| {
            let mut timing = format!(" · {}", duration(manifest.duration_ms));
            if let Some(ago) = &ago {
                timing.push_str(&format!(" · {ago}"));
            }
            timing
        })
        .unwrap_or_default();
    match status {
        CellStatus::Cached => format!("✓ cached{timing}"),
        CellStatus::Error => {
            let error = manifest
                .and_then(Manifest::error)
                .map(|(ename, evalue, _)| one_line(&format!("{ename}: {evalue}"), 120))
                .unwrap_or_else(|| "failed".to_string());
            format!("✗ {}{timing}", escape_markdown(&error))
        }
        CellStatus::Stale => match manifest {
            Some(manifest) => {
                let failed = if manifest.error().is_some() {
                    " (it failed then)"
                } else {
                    ""
                };
                format!(
                    "● stale — outputs from {}{failed}, the cell changed since",
                    ago.as_deref().unwrap_or("an earlier run")
                )
            }
            None => "● stale — the cell changed since it last ran".to_string(),
        },
        CellStatus::New => "○ not run — run it with the `▶ Run` lens or the `jellycell.runCell` \
             command (`:JellycellRun` in Neovim), or `jellycell-lsp run NOTEBOOK` in a terminal"
            .to_string(),
        CellStatus::Setup => {
            "setup cell — runs before the cells below it on every run, never cached".to_string()
        }
        CellStatus::Note => "note cell — never runs".to_string(),
    }
}

/// The outputs as Markdown blocks separated by blank lines, within `limits.total_bytes`.
pub fn outputs_markdown(
    outputs: &[OutputRecord],
    blobs: &BlobStore,
    links: Option<&PreviewLinks>,
    limits: &HoverLimits,
) -> String {
    if outputs.is_empty() {
        return "*(no output)*".to_string();
    }
    let mut out = String::new();
    let mut index = 0;
    while index < outputs.len() {
        // Consecutive chunks of one stream read as one block, as in a notebook.
        let mut end = index + 1;
        if let OutputRecord::Stream { name, .. } = &outputs[index] {
            while let Some(OutputRecord::Stream { name: next, .. }) = outputs.get(end) {
                if next != name {
                    break;
                }
                end += 1;
            }
        }
        let left = limits.total_bytes.saturating_sub(out.len());
        let block = match &outputs[index] {
            OutputRecord::Stream { name, .. } => {
                stream_block(name, &outputs[index..end], blobs, limits)
            }
            OutputRecord::DisplayData { data, .. } | OutputRecord::ExecuteResult { data, .. } => {
                bundle_block(data, blobs, links, limits, left)
            }
            OutputRecord::Error {
                ename,
                evalue,
                traceback,
            } => error_block(ename, evalue, traceback, limits),
        };
        if block.len() + 2 > left {
            let hidden = outputs.len() - index;
            out.push_str(&format!(
                "*… {hidden} more output{} not shown{}*",
                plural(hidden),
                links
                    .map(|links| format!(": {}", links.link("open in preview", &links.cell_page)))
                    .unwrap_or_default()
            ));
            return out;
        }
        out.push_str(&block);
        out.push_str("\n\n");
        index = end;
    }
    out.truncate(out.trim_end().len());
    out
}

fn stream_block(
    name: &str,
    chunks: &[OutputRecord],
    blobs: &BlobStore,
    limits: &HoverLimits,
) -> String {
    let mut bytes = Vec::new();
    let mut total = 0u64;
    for chunk in chunks {
        if let OutputRecord::Stream { blob, .. } = chunk {
            total += blobs.size(blob).unwrap_or(0);
            if bytes.len() < limits.read_bytes {
                let wanted = limits.read_bytes - bytes.len();
                bytes.extend(read_prefix(blobs, blob, wanted));
            }
        }
    }
    let text = strip_ansi(&utf8_prefix(&bytes));
    let label = if name == "stderr" { "stderr\n\n" } else { "" };
    format!(
        "{label}{}",
        fenced_cut(&text, total, bytes.len() as u64, limits)
    )
}

fn error_block(ename: &str, evalue: &str, traceback: &[String], limits: &HoverLimits) -> String {
    let mut out = format!(
        "**{}**: {}",
        escape_markdown(&one_line(ename, 80)),
        escape_markdown(&one_line(evalue, 200))
    );
    let plain = strip_ansi(&traceback.join("\n"));
    let lines: Vec<&str> = plain.lines().collect();
    if lines.is_empty() {
        return out;
    }
    let skip = lines.len().saturating_sub(limits.traceback_lines);
    let mut shown = lines[skip..].join("\n");
    if shown.len() > limits.text_bytes * 2 {
        let mut start = shown.len() - limits.text_bytes * 2;
        while !shown.is_char_boundary(start) {
            start += 1;
        }
        shown = shown[start..].to_string();
    }
    if skip > 0 {
        out.push_str(&format!(
            "\n\n*traceback: the first {skip} line{} not shown*",
            plural(skip)
        ));
    }
    out.push_str("\n\n");
    out.push_str(&fence(&shown, ""));
    out
}

fn bundle_block(
    data: &BTreeMap<String, BlobRef>,
    blobs: &BlobStore,
    links: Option<&PreviewLinks>,
    limits: &HoverLimits,
    left: usize,
) -> String {
    let scraps = crate::render::scraps::cached_scraps(data, blobs);
    if !scraps.is_empty() {
        return scraps
            .iter()
            .map(|scrap| format!("`{}`", scrap.display().replace('`', "'")))
            .collect::<Vec<_>>()
            .join("  \n");
    }
    let plain = data.get("text/plain");
    for mime in ["image/png", "image/jpeg", "image/svg+xml"] {
        if let Some(reference) = data.get(mime) {
            return image_block(mime, reference, blobs, links, limits, left);
        }
    }
    if let Some(reference) = data.get("text/markdown") {
        let size = blobs.size(&reference.blob).unwrap_or(0);
        let text = utf8_prefix(&read_prefix(blobs, &reference.blob, limits.text_bytes + 1));
        // Inlined only whole: a cut could leave a fence open and swallow what follows.
        if size as usize <= limits.text_bytes {
            return text;
        }
        return text_block(reference, blobs, limits);
    }
    let rich = data
        .keys()
        .find(|mime| mime.as_str() != "text/plain")
        .map(String::as_str);
    match (rich, plain) {
        (None, Some(reference)) => text_block(reference, blobs, limits),
        (None, None) => "*(empty output)*".to_string(),
        (Some(mime), plain) => {
            let size = data
                .get(mime)
                .and_then(|reference| blobs.size(&reference.blob))
                .unwrap_or(0);
            let mut out = format!(
                "`{mime}` output · {} — {}",
                bytes_text(size),
                preview_hint(links)
            );
            if let Some(reference) = plain {
                out.push_str("\n\n");
                out.push_str(&text_block(reference, blobs, limits));
            }
            out
        }
    }
}

fn image_block(
    mime: &str,
    reference: &BlobRef,
    blobs: &BlobStore,
    links: Option<&PreviewLinks>,
    limits: &HoverLimits,
    left: usize,
) -> String {
    let size = blobs.size(&reference.blob).unwrap_or(0);
    let uri_length = "data:;base64,".len() + mime.len() + (size as usize).div_ceil(3) * 4;
    let mut out = format!("`{mime}` · {}", bytes_text(size));
    if let Some(links) = links {
        let extension = super::blob_extension(mime).unwrap_or("bin");
        let image = format!("{}/blob/{}.{extension}", links.origin, reference.blob);
        out.push_str(&format!(
            " · {} · {}",
            links.link("open in preview", &links.cell_page),
            links.link("image", &image)
        ));
    } else {
        out.push_str(&format!(" — {}", preview_hint(None)));
    }
    if limits.inline_image_bytes == 0 {
        return out;
    }
    // Room for the link line, the image and a later note.
    let fits = uri_length <= limits.inline_image_bytes && uri_length + out.len() + 256 < left;
    if !fits {
        out.push_str(" · too large to show here");
        return out;
    }
    match blobs.get(&reference.blob) {
        // SVG is stored as text, the others decoded: either way the URI carries base64.
        Ok(bytes) => format!(
            "![{mime} output](data:{mime};base64,{})\n\n{out}",
            base64_encode(&bytes)
        ),
        Err(_) => format!("{out} · the blob is missing from the cache"),
    }
}

/// A `text/plain` (or other text) value in a fence, cut to the limits.
fn text_block(reference: &BlobRef, blobs: &BlobStore, limits: &HoverLimits) -> String {
    let total = blobs.size(&reference.blob).unwrap_or(0);
    let bytes = read_prefix(blobs, &reference.blob, limits.read_bytes);
    let text = strip_ansi(&utf8_prefix(&bytes));
    fenced_cut(&text, total, bytes.len() as u64, limits)
}

fn preview_hint(links: Option<&PreviewLinks>) -> String {
    match links {
        Some(links) => links.link("open in preview", &links.cell_page),
        None => "shown in the preview (`jellycell.openPreview`, `:JellycellPreview`)".to_string(),
    }
}

/// `text` (the first `read` of `total` bytes of an output) cut to the limits, fenced,
/// with a note of what was left out.
fn fenced_cut(text: &str, total: u64, read: u64, limits: &HoverLimits) -> String {
    let (shown, cut) = cut_text(text, limits.text_lines, limits.text_bytes);
    let mut out = fence(shown, "text");
    let unread = total.saturating_sub(read);
    if cut.is_some() || unread > 0 {
        let (lines, bytes) = cut.unwrap_or((0, 0));
        let at_least = if unread > 0 { "at least " } else { "" };
        let lines_note = match cut {
            Some(_) => format!("{at_least}{lines} more line{}", plural(lines)),
            None => "the rest".to_string(),
        };
        out.push_str(&format!(
            "\n\n*… {lines_note} ({}) not shown*",
            bytes_text(bytes as u64 + unread)
        ));
    }
    out
}

/// The head of `text` within `max_lines` lines and `max_bytes` bytes (cut on a character
/// boundary), and, when anything was cut, how many lines (a partly shown line counts)
/// and bytes were left out. A rest of only whitespace is dropped without a note.
pub fn cut_text(text: &str, max_lines: usize, max_bytes: usize) -> (&str, Option<(usize, usize)>) {
    let mut end = text.len();
    if max_lines == 0 {
        end = 0;
    } else if let Some((at, _)) = text.match_indices('\n').nth(max_lines - 1) {
        end = at;
    }
    let mut end = end.min(max_bytes);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let (shown, rest) = text.split_at(end);
    if rest.trim().is_empty() {
        return (shown, None);
    }
    // The newline that ends the last line shown is not a line left out.
    let hidden = rest.strip_prefix('\n').unwrap_or(rest);
    let lines = hidden
        .strip_suffix('\n')
        .unwrap_or(hidden)
        .matches('\n')
        .count()
        + 1;
    (shown, Some((lines, hidden.len())))
}

/// `text` in a backtick fence longer than any run of backticks inside it.
pub fn fence(text: &str, language: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let ticks = "`".repeat((longest + 1).max(3));
    let body = text.trim_end_matches('\n');
    format!("{ticks}{language}\n{body}\n{ticks}")
}

/// `bytes` as text, without a character cut off at the end (a prefix read can end
/// inside one); invalid sequences elsewhere are replaced.
fn utf8_prefix(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..complete_prefix_len(bytes)]).into_owned()
}

/// The length of `bytes` without a trailing incomplete UTF-8 sequence.
fn complete_prefix_len(bytes: &[u8]) -> usize {
    // A sequence is at most 4 bytes: look at the last 3 for its lead byte.
    for back in 1..=bytes.len().min(3) {
        let byte = bytes[bytes.len() - back];
        if byte & 0xC0 == 0x80 {
            continue;
        }
        let needed = match byte {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if needed > back {
            bytes.len() - back
        } else {
            bytes.len()
        };
    }
    bytes.len()
}

/// Up to `limit` bytes from the start of blob `hex` (nothing if it is missing).
fn read_prefix(blobs: &BlobStore, hex: &str, limit: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    if let Ok(file) = std::fs::File::open(blobs.path(hex)) {
        let _ = file.take(limit as u64).read_to_end(&mut bytes);
    }
    bytes
}

/// The first line of `text`, at most `max` characters (with `…` when cut).
fn one_line(text: &str, max: usize) -> String {
    let first = strip_ansi(text.lines().next().unwrap_or(""));
    if first.chars().count() <= max && !text.trim_end().contains('\n') {
        return first;
    }
    let mut cut: String = first.chars().take(max).collect();
    cut.push('…');
    cut
}

/// Backslash-escapes the characters Markdown would read as markup in inline text.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\`*_{}[]<>()#+-.!|~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `812 B`, `3.4 KiB`, `1.2 MiB`.
pub fn bytes_text(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::ManifestStatus;

    fn store() -> (tempfile::TempDir, BlobStore) {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::new(dir.path().join("blobs"));
        (dir, blobs)
    }

    fn stream(blobs: &BlobStore, name: &str, text: &str) -> OutputRecord {
        OutputRecord::Stream {
            name: name.into(),
            blob: blobs.put(text.as_bytes()).unwrap(),
        }
    }

    fn display(blobs: &BlobStore, items: &[(&str, serde_json::Value)]) -> OutputRecord {
        OutputRecord::DisplayData {
            data: items
                .iter()
                .map(|(mime, value)| (mime.to_string(), blobs.put_mime(mime, value).unwrap()))
                .collect(),
            metadata: Default::default(),
        }
    }

    fn links() -> PreviewLinks {
        PreviewLinks {
            cell_page: "http://127.0.0.1:9/nb/notebooks/a.py#cell-2".into(),
            origin: "http://127.0.0.1:9".into(),
            plain: false,
        }
    }

    #[test]
    fn plain_links_show_their_url() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::new(dir.path().to_path_buf());
        let mut data = BTreeMap::new();
        data.insert(
            "image/png".to_string(),
            blobs
                .put_mime("image/png", &serde_json::json!("iVBORw0KGgo="))
                .unwrap(),
        );
        let outputs = [OutputRecord::DisplayData {
            data,
            metadata: Default::default(),
        }];
        let plain = PreviewLinks {
            plain: true,
            ..links()
        };
        let limits = HoverLimits {
            inline_image_bytes: 0,
            ..HoverLimits::default()
        };
        let out = outputs_markdown(&outputs, &blobs, Some(&plain), &limits);
        assert!(
            out.contains("open in preview: http://127.0.0.1:9/nb/notebooks/a.py#cell-2"),
            "{out}"
        );
        assert!(out.contains("image: http://127.0.0.1:9/blob/"), "{out}");
        assert!(!out.contains("]("), "{out}");
    }

    fn manifest(status: ManifestStatus, outputs: Vec<OutputRecord>) -> Manifest {
        Manifest {
            schema_version: 1,
            cache_key: "k".repeat(64),
            notebook: "notebooks/a.py".into(),
            cell: 2,
            cell_id: "a:2".into(),
            cell_name: None,
            name: "a:2".into(),
            kind: "jc.step".into(),
            kernel: "python3".into(),
            key_version: "v".into(),
            source_hash: String::new(),
            dep_keys: Vec::new(),
            setup_hashes: Vec::new(),
            env_hash: String::new(),
            params_hash: None,
            executed_at: "2026-11-21T23:05:59.459647Z".into(),
            duration_ms: 1234,
            status,
            outputs,
            artifacts: Vec::new(),
            blob_sizes: Default::default(),
            snapshots: Vec::new(),
            unsnapshotted: Vec::new(),
            inputs: Vec::new(),
            loads: Vec::new(),
        }
    }

    const EXECUTED_AT: u64 = 1_795_302_359;

    #[test]
    fn text_within_the_limits_is_not_cut() {
        assert_eq!(cut_text("a\nb\n", 2, 100), ("a\nb", None));
        assert_eq!(cut_text("a\nb", 2, 3), ("a\nb", None));
        assert_eq!(cut_text("", 0, 0), ("", None));
        // A rest of blank lines is dropped without a note.
        assert_eq!(cut_text("a\n\n\n  \n", 1, 100), ("a", None));
    }

    #[test]
    fn one_line_over_says_one_line_was_cut() {
        assert_eq!(cut_text("a\nb\nc\n", 2, 100), ("a\nb", Some((1, 2))));
        assert_eq!(cut_text("a\nb\nc", 2, 100), ("a\nb", Some((1, 1))));
        // Blank lines left out are lines too.
        assert_eq!(cut_text("a\n\n\nd", 1, 100), ("a", Some((3, 3))));
        assert_eq!(cut_text("a\nb", 0, 100), ("", Some((2, 3))));
    }

    #[test]
    fn a_byte_cut_mid_line_counts_that_line_and_never_splits_a_character() {
        assert_eq!(cut_text("abcdef\nxyz", 10, 3), ("abc", Some((2, 7))));
        // "é" is two bytes: a cut at byte 2 falls inside it and moves back to byte 1.
        assert_eq!(cut_text("aé\nb", 10, 2), ("a", Some((2, 4))));
        let emoji = "🦀".repeat(10);
        for limit in 0..12 {
            let (shown, cut) = cut_text(&emoji, 10, limit);
            assert_eq!(shown.len(), limit / 4 * 4);
            assert!(cut.is_some());
        }
    }

    #[test]
    fn a_read_that_ends_inside_a_character_drops_that_character() {
        let bytes = "aé🦀".as_bytes();
        assert_eq!(utf8_prefix(&bytes[..2]), "a");
        assert_eq!(utf8_prefix(&bytes[..3]), "aé");
        for end in 4..7 {
            assert_eq!(utf8_prefix(&bytes[..end]), "aé");
        }
        assert_eq!(utf8_prefix(bytes), "aé🦀");
        // Invalid bytes inside are replaced, not a reason to drop the rest.
        assert_eq!(utf8_prefix(b"a\xffb"), "a\u{fffd}b");
    }

    #[test]
    fn backticks_inside_an_output_never_close_its_fence() {
        assert_eq!(fence("x", "text"), "```text\nx\n```");
        let inner = "before\n```\nfake close\n````\nafter\n";
        let fenced = fence(inner, "text");
        assert!(fenced.starts_with("`````text\n"), "{fenced}");
        assert!(fenced.ends_with("\n`````"), "{fenced}");
        assert_eq!(fence("a `b` ``c``", ""), "```\na `b` ``c``\n```");
    }

    #[test]
    fn long_streams_are_cut_with_a_note_of_lines_and_bytes() {
        let (_dir, blobs) = store();
        let text: String = (0..100).map(|n| format!("line {n}\n")).collect();
        let out = outputs_markdown(
            &[stream(&blobs, "stdout", &text)],
            &blobs,
            None,
            &HoverLimits::default(),
        );
        assert!(out.contains("line 39\n```"), "{out}");
        assert!(!out.contains("line 40"), "{out}");
        let rest: usize = (40..100).map(|n| format!("line {n}\n").len()).sum();
        assert!(
            out.contains(&format!("… 60 more lines ({rest} B) not shown")),
            "{out}"
        );
    }

    #[test]
    fn a_blob_longer_than_what_is_read_says_at_least() {
        let (_dir, blobs) = store();
        let text = "x\n".repeat(5000);
        let limits = HoverLimits {
            read_bytes: 1000,
            ..HoverLimits::default()
        };
        let out = outputs_markdown(&[stream(&blobs, "stdout", &text)], &blobs, None, &limits);
        assert!(
            out.contains("… at least 460 more lines (9.7 KiB) not shown"),
            "{out}"
        );
    }

    #[test]
    fn consecutive_stream_chunks_show_as_one_block_and_stderr_is_labelled() {
        let (_dir, blobs) = store();
        let outputs = [
            stream(&blobs, "stdout", "one\n"),
            stream(&blobs, "stdout", "two\n"),
            stream(&blobs, "stderr", "warn\n"),
        ];
        let out = outputs_markdown(&outputs, &blobs, None, &HoverLimits::default());
        assert_eq!(
            out,
            "```text\none\ntwo\n```\n\nstderr\n\n```text\nwarn\n```"
        );
    }

    #[test]
    fn errors_show_name_value_and_the_traceback_without_ansi() {
        let (_dir, blobs) = store();
        let error = OutputRecord::Error {
            ename: "ValueError".into(),
            evalue: "kaboom".into(),
            traceback: vec![
                "\u{1b}[0;31m---------\u{1b}[0m".into(),
                "\u{1b}[0;31mValueError\u{1b}[0m: kaboom".into(),
            ],
        };
        let out = outputs_markdown(&[error], &blobs, None, &HoverLimits::default());
        assert!(!out.contains('\u{1b}'), "{out}");
        assert!(
            out.starts_with("**ValueError**: kaboom\n\n```\n---------\nValueError: kaboom\n```"),
            "{out}"
        );
    }

    #[test]
    fn images_are_linked_and_inlined_under_the_cap() {
        let (_dir, blobs) = store();
        let png = base64_encode(b"\x89PNG\r\n\x1a\nfake");
        let out = outputs_markdown(
            &[display(
                &blobs,
                &[
                    ("image/png", png.clone().into()),
                    ("text/plain", "<Figure>".into()),
                ],
            )],
            &blobs,
            Some(&links()),
            &HoverLimits::default(),
        );
        assert!(
            out.contains(&format!("](data:image/png;base64,{png})")),
            "{out}"
        );
        assert!(
            out.contains("[open in preview](http://127.0.0.1:9/nb/notebooks/a.py#cell-2)"),
            "{out}"
        );
        assert!(out.contains("[image](http://127.0.0.1:9/blob/"), "{out}");
        let small = HoverLimits {
            inline_image_bytes: 10,
            ..HoverLimits::default()
        };
        let out = outputs_markdown(
            &[display(&blobs, &[("image/png", png.into())])],
            &blobs,
            Some(&links()),
            &small,
        );
        assert!(!out.contains("data:"), "{out}");
        assert!(
            out.contains("too large to show here") && out.contains("open in preview"),
            "{out}"
        );
        // A cap of 0 turns inlining off: links only, no "too large".
        let off = HoverLimits {
            inline_image_bytes: 0,
            ..HoverLimits::default()
        };
        let out = outputs_markdown(
            &[display(
                &blobs,
                &[("image/png", base64_encode(b"png").into())],
            )],
            &blobs,
            Some(&links()),
            &off,
        );
        assert!(
            !out.contains("data:") && !out.contains("too large"),
            "{out}"
        );
        assert!(out.contains("[image](http://127.0.0.1:9/blob/"), "{out}");
    }

    #[test]
    fn svg_is_inlined_as_base64() {
        let (_dir, blobs) = store();
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
        let out = outputs_markdown(
            &[display(&blobs, &[("image/svg+xml", svg.into())])],
            &blobs,
            None,
            &HoverLimits::default(),
        );
        assert!(
            out.contains(&format!(
                "data:image/svg+xml;base64,{}",
                base64_encode(svg.as_bytes())
            )),
            "{out}"
        );
        assert!(out.contains("jellycell.openPreview"), "{out}");
    }

    #[test]
    fn html_links_to_the_preview_and_keeps_the_plain_text() {
        let (_dir, blobs) = store();
        let out = outputs_markdown(
            &[display(
                &blobs,
                &[
                    ("text/html", "<table></table>".into()),
                    ("text/plain", "   a\n0  1".into()),
                ],
            )],
            &blobs,
            Some(&links()),
            &HoverLimits::default(),
        );
        assert!(out.starts_with("`text/html` output · 15 B — [open in preview](http://127.0.0.1:9/nb/notebooks/a.py#cell-2)"), "{out}");
        assert!(out.contains("```text\n   a\n0  1\n```"), "{out}");
        assert!(!out.contains("<table>"), "{out}");
    }

    #[test]
    fn short_markdown_is_inlined_and_long_markdown_is_fenced() {
        let (_dir, blobs) = store();
        let out = outputs_markdown(
            &[display(&blobs, &[("text/markdown", "**bold**".into())])],
            &blobs,
            None,
            &HoverLimits::default(),
        );
        assert_eq!(out, "**bold**");
        let long = "```python\n".to_string() + &"x = 1\n".repeat(2000);
        let out = outputs_markdown(
            &[display(&blobs, &[("text/markdown", long.into())])],
            &blobs,
            None,
            &HoverLimits::default(),
        );
        assert!(out.starts_with("````text\n```python\n"), "{out}");
        assert!(out.contains("not shown"), "{out}");
    }

    #[test]
    fn outputs_past_the_budget_are_counted() {
        let (_dir, blobs) = store();
        let outputs: Vec<OutputRecord> = (0..50)
            .map(|n| {
                display(
                    &blobs,
                    &[("text/plain", format!("{n}").repeat(3000).into())],
                )
            })
            .collect();
        let limits = HoverLimits {
            total_bytes: 20_000,
            ..HoverLimits::default()
        };
        let out = outputs_markdown(&outputs, &blobs, Some(&links()), &limits);
        assert!(out.len() <= 20_000, "{}", out.len());
        assert!(
            out.contains("more outputs not shown: [open in preview]"),
            "{out}"
        );
    }

    #[test]
    fn the_status_header_says_cached_error_stale_or_not_run() {
        let (_dir, blobs) = store();
        let ok = manifest(ManifestStatus::Ok, vec![stream(&blobs, "stdout", "hi\n")]);
        let now = EXECUTED_AT + 185;
        let text = cell_hover_markdown(
            CellStatus::Cached,
            Some(&ok),
            &blobs,
            None,
            now,
            &HoverLimits::default(),
        );
        assert_eq!(text, "✓ cached · 1.2 s · 3 min ago\n\n```text\nhi\n```");
        let stale = cell_hover_markdown(
            CellStatus::Stale,
            Some(&ok),
            &blobs,
            Some(&links()),
            now,
            &HoverLimits::default(),
        );
        assert!(
            stale.starts_with(
                "● stale — outputs from 3 min ago, the cell changed since · [open in preview]("
            ),
            "{stale}"
        );
        assert!(stale.ends_with("```text\nhi\n```"), "{stale}");
        let failed = manifest(
            ManifestStatus::Error,
            vec![OutputRecord::Error {
                ename: "ValueError".into(),
                evalue: "bad [x]".into(),
                traceback: Vec::new(),
            }],
        );
        let text = status_line(CellStatus::Error, Some(&failed), EXECUTED_AT + 2);
        assert_eq!(text, "✗ ValueError: bad \\[x\\] · 1.2 s · just now");
        let new = cell_hover_markdown(
            CellStatus::New,
            None,
            &blobs,
            None,
            now,
            &HoverLimits::default(),
        );
        assert!(new.starts_with("○ not run — run it with"), "{new}");
        assert!(new.contains("jellycell.runCell"), "{new}");
    }

    #[test]
    fn durations_ages_and_sizes_read_naturally() {
        assert_eq!(bytes_text(812), "812 B");
        assert_eq!(bytes_text(3482), "3.4 KiB");
    }
}

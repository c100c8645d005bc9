//! One line that sums a cell's cached outputs up, for display right after the cell in an
//! editor (inlay hints, Neovim virtual text, VS Code decorations): `42`, `DataFrame 150×5`,
//! `✗ NameError: name 'x' is not defined`, `🖼 figure`, `hello (+3 lines)`.
//!
//! Which output speaks for the cell: an error, else the last `execute_result`, else the
//! images (figures), else the last display with a text form, else the streams, else any
//! other display (`application/… output`). Only the head of a blob is
//! read (a summary is one line), so it stays fast on any output size.

use std::collections::BTreeMap;
use std::io::Read;

use crate::cache::OutputRecord;
use crate::cache::blobs::{BlobRef, BlobStore};
use crate::kernel::strip_ansi;

/// The longest summary, in characters (a line of an editor, after the code).
pub const SUMMARY_CHARS: usize = 80;
/// How much of a blob is read to sum it up.
const READ_BYTES: usize = 64 * 1024;

/// The summary of `outputs`; `None` when the cell produced nothing.
pub fn output_summary(outputs: &[OutputRecord], blobs: &BlobStore) -> Option<String> {
    if let Some((ename, evalue)) = outputs.iter().find_map(|output| match output {
        OutputRecord::Error { ename, evalue, .. } => Some((ename, evalue)),
        _ => None,
    }) {
        let evalue = strip_ansi(evalue);
        let first = evalue.lines().next().unwrap_or("").trim();
        let text = if first.is_empty() {
            format!("✗ {ename}")
        } else {
            format!("✗ {ename}: {first}")
        };
        return Some(cut(&text));
    }
    let result = outputs.iter().rev().find_map(|output| match output {
        OutputRecord::ExecuteResult { data, .. } => Some(data),
        _ => None,
    });
    let displays: Vec<&BTreeMap<String, BlobRef>> = outputs
        .iter()
        .filter_map(|output| match output {
            OutputRecord::DisplayData { data, .. } => Some(data),
            _ => None,
        })
        .collect();
    let figures = displays.iter().filter(|data| has_image(data)).count()
        + result.filter(|data| has_image(data)).map_or(0, |_| 1);
    if let Some(data) = result {
        return Some(with_more_figures(
            bundle_summary(data, blobs),
            figures - usize::from(has_image(data)),
        ));
    }
    if figures > 0 {
        return Some(match figures {
            1 => "🖼 figure".to_string(),
            many => format!("🖼 {many} figures"),
        });
    }
    // A display with text speaks for the cell; one with only other types (a scrap, a
    // widget) only when nothing was printed.
    if let Some(data) = displays
        .iter()
        .rev()
        .find(|data| data.contains_key("text/plain"))
    {
        return Some(bundle_summary(data, blobs));
    }
    let mut stream = Vec::new();
    for output in outputs {
        if let OutputRecord::Stream { blob, .. } = output
            && stream.len() < READ_BYTES
        {
            stream.extend(read_prefix(blobs, blob, READ_BYTES - stream.len()));
        }
    }
    if stream.is_empty() {
        return displays.last().map(|data| bundle_summary(data, blobs));
    }
    Some(text_summary(&String::from_utf8_lossy(&stream)))
}

fn has_image(data: &BTreeMap<String, BlobRef>) -> bool {
    data.keys().any(|mime| mime.starts_with("image/"))
}

fn with_more_figures(summary: String, figures: usize) -> String {
    match figures {
        0 => summary,
        1 => cut(&format!("{summary} · 🖼 figure")),
        many => cut(&format!("{summary} · 🖼 {many} figures")),
    }
}

/// One MIME bundle: a figure, a table's shape, or the first line of its plain text.
fn bundle_summary(data: &BTreeMap<String, BlobRef>, blobs: &BlobStore) -> String {
    if has_image(data) {
        return "🖼 figure".to_string();
    }
    let read = |mime: &str| {
        data.get(mime).map(|reference| {
            String::from_utf8_lossy(&read_prefix(blobs, &reference.blob, READ_BYTES)).into_owned()
        })
    };
    let plain = read("text/plain");
    if let Some(shape) = plain.as_deref().and_then(table_shape) {
        return shape;
    }
    if let Some(shape) = read("text/html").as_deref().and_then(html_table_shape) {
        return shape;
    }
    if let Some(plain) = plain {
        return text_summary(&plain);
    }
    match data.keys().next() {
        Some(mime) => format!("{mime} output"),
        None => "(empty output)".to_string(),
    }
}

/// `DataFrame R×C` from a table's text repr: pandas' `[R rows x C columns]` footer (a
/// truncated frame), polars' `shape: (R, C)` header, or a frame small enough to show whole
/// (a header line of column names, then one line per row that starts with its index).
fn table_shape(text: &str) -> Option<String> {
    let text = strip_ansi(text);
    for line in text.lines().rev().take(3) {
        if let Some(shape) = pandas_footer(line.trim()) {
            return Some(shape);
        }
    }
    let first = text.lines().next()?.trim();
    if let Some(inner) = first
        .strip_prefix("shape: (")
        .and_then(|rest| rest.strip_suffix(')'))
    {
        let (rows, columns) = inner.split_once(',')?;
        let rows: usize = rows.trim().replace('_', "").parse().ok()?;
        let columns: usize = columns.trim().replace('_', "").parse().ok()?;
        return Some(format!("DataFrame {rows}×{columns}"));
    }
    None
}

/// `[150 rows x 5 columns]` → `DataFrame 150×5`.
fn pandas_footer(line: &str) -> Option<String> {
    let inner = line.strip_prefix('[')?.strip_suffix(']')?;
    let (rows, columns) = inner.split_once(" rows x ")?;
    let columns = columns.strip_suffix(" columns")?;
    let rows: usize = rows.trim().parse().ok()?;
    let columns: usize = columns.trim().parse().ok()?;
    Some(format!("DataFrame {rows}×{columns}"))
}

/// The shape of a pandas `<table class="dataframe">`: its footer (`150 rows × 5 columns`)
/// when it has one, else its body rows and the cells of its first body row.
fn html_table_shape(html: &str) -> Option<String> {
    if !html.contains("class=\"dataframe") {
        return None;
    }
    if let Some(at) = html.find(" rows × ") {
        let rows: String = html[..at]
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let columns: String = html[at + " rows × ".len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let (Ok(rows), Ok(columns)) = (rows.parse::<usize>(), columns.parse::<usize>()) {
            return Some(format!("DataFrame {rows}×{columns}"));
        }
    }
    let body = &html[html.find("<tbody")?..];
    let body = &body[..body.find("</tbody>").unwrap_or(body.len())];
    let rows = body.matches("<tr").count();
    let first_row = body.split("<tr").nth(1).unwrap_or("");
    let columns = first_row.matches("<td").count();
    Some(format!("DataFrame {rows}×{columns}"))
}

/// The first non-blank line, with how many more lines there are.
fn text_summary(text: &str) -> String {
    let text = strip_ansi(text);
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let Some(first) = lines.next() else {
        return "(blank output)".to_string();
    };
    let more = lines.count();
    let first = first.trim_end();
    match more {
        0 => cut(first),
        more => {
            let suffix = format!(" (+{more} line{})", if more == 1 { "" } else { "s" });
            let room = SUMMARY_CHARS.saturating_sub(suffix.chars().count());
            format!("{}{suffix}", cut_to(first, room))
        }
    }
}

fn cut(text: &str) -> String {
    cut_to(text, SUMMARY_CHARS)
}

/// `text` on one line, at most `max` characters (with `…` when cut).
fn cut_to(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| {
            if c == '\n' || c == '\r' || c == '\t' {
                ' '
            } else {
                c
            }
        })
        .collect();
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut out: String = one_line.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn read_prefix(blobs: &BlobStore, hex: &str, limit: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    if let Ok(file) = std::fs::File::open(blobs.path(hex)) {
        let _ = file.take(limit as u64).read_to_end(&mut bytes);
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::blobs::Encoding;

    fn store() -> (tempfile::TempDir, BlobStore) {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::new(dir.path().to_path_buf());
        (dir, blobs)
    }

    fn bundle(blobs: &BlobStore, items: &[(&str, &str)]) -> BTreeMap<String, BlobRef> {
        items
            .iter()
            .map(|(mime, text)| {
                let blob = blobs.put(text.as_bytes()).unwrap();
                (
                    mime.to_string(),
                    BlobRef {
                        blob,
                        encoding: Encoding::Text,
                    },
                )
            })
            .collect()
    }

    fn result(data: BTreeMap<String, BlobRef>) -> OutputRecord {
        OutputRecord::ExecuteResult {
            data,
            metadata: Default::default(),
            execution_count: Some(1),
        }
    }

    #[test]
    fn a_value_is_its_repr() {
        let (_dir, blobs) = store();
        let outputs = [result(bundle(&blobs, &[("text/plain", "42")]))];
        assert_eq!(output_summary(&outputs, &blobs).as_deref(), Some("42"));
    }

    #[test]
    fn tables_give_their_shape() {
        let (_dir, blobs) = store();
        let pandas = "     a  b\n0    1  2\n..  .. ..\n\n[150 rows x 5 columns]";
        let outputs = [result(bundle(&blobs, &[("text/plain", pandas)]))];
        assert_eq!(
            output_summary(&outputs, &blobs).as_deref(),
            Some("DataFrame 150×5")
        );
        let polars = "shape: (3, 2)\n┌─────┬─────┐";
        let outputs = [result(bundle(&blobs, &[("text/plain", polars)]))];
        assert_eq!(
            output_summary(&outputs, &blobs).as_deref(),
            Some("DataFrame 3×2")
        );
        let html = "<table border=\"1\" class=\"dataframe\"><thead><tr><th></th><th>a</th>\
                    <th>b</th></tr></thead><tbody><tr><th>0</th><td>1</td><td>2</td></tr>\
                    <tr><th>1</th><td>3</td><td>4</td></tr></tbody></table>";
        let outputs = [result(bundle(
            &blobs,
            &[
                ("text/plain", "   a  b\n0  1  2\n1  3  4"),
                ("text/html", html),
            ],
        ))];
        assert_eq!(
            output_summary(&outputs, &blobs).as_deref(),
            Some("DataFrame 2×2")
        );
    }

    #[test]
    fn an_error_wins_over_everything_else() {
        let (_dir, blobs) = store();
        let outputs = [
            OutputRecord::Stream {
                name: "stdout".to_string(),
                blob: blobs.put(b"before\n").unwrap(),
            },
            OutputRecord::Error {
                ename: "NameError".to_string(),
                evalue: "name 'x' is not defined".to_string(),
                traceback: vec![],
            },
        ];
        assert_eq!(
            output_summary(&outputs, &blobs).as_deref(),
            Some("✗ NameError: name 'x' is not defined")
        );
    }

    #[test]
    fn images_are_figures_and_streams_count_their_lines() {
        let (_dir, blobs) = store();
        let image = OutputRecord::DisplayData {
            data: bundle(
                &blobs,
                &[
                    ("image/png", "PNG"),
                    ("text/plain", "<Figure size 640x480>"),
                ],
            ),
            metadata: Default::default(),
        };
        assert_eq!(
            output_summary(std::slice::from_ref(&image), &blobs).as_deref(),
            Some("🖼 figure")
        );
        assert_eq!(
            output_summary(&[image.clone(), image], &blobs).as_deref(),
            Some("🖼 2 figures")
        );
        let stream = OutputRecord::Stream {
            name: "stdout".to_string(),
            blob: blobs.put(b"hello\nworld\n\nagain\n").unwrap(),
        };
        assert_eq!(
            output_summary(&[stream], &blobs).as_deref(),
            Some("hello (+2 lines)")
        );
        assert_eq!(output_summary(&[], &blobs), None);
    }

    #[test]
    fn long_lines_are_cut_on_a_character() {
        let (_dir, blobs) = store();
        let long = "é".repeat(200);
        let outputs = [result(bundle(&blobs, &[("text/plain", long.as_str())]))];
        let summary = output_summary(&outputs, &blobs).unwrap();
        assert_eq!(summary.chars().count(), SUMMARY_CHARS);
        assert!(summary.ends_with('…'));
    }
}

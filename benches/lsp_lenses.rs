//! Benchmark (figures, not pass/fail): the lens scaling table. Code lenses, their
//! `codeLens/resolve`, inlay hints, symbols and folding at 500 / 2,000 / 8,000 / 16,000
//! cells in a project where every code cell has a result, and 100,000 bare `# %%` cells
//! (issue #14's notebook, never run), over real stdio against the release binary.
//!
//! Run: `cargo bench --bench lsp_lenses` (`JELLYCELL_BENCH_CELLS` picks the sizes of the
//! ran notebooks, `JELLYCELL_BENCH_BARE` the bare one's (0: none), `JELLYCELL_BENCH_SERVER`
//! another build for before/after figures). For each size a fresh project's py:percent
//! notebook (markdown every 10 cells, steps chained by `deps=` within a section) is run
//! by `jellycell-lsp run` with the test venv's kernel (`JELLYCELL_TEST_PYTHON`'s folder,
//! else `target/py`), so every code cell has a real manifest; then a fresh server opens it
//! and times (3 warm-up or more lasting at least `JELLYCELL_BENCH_SETTLE_MS`, default
//! 2 s, then 20 timed each; p50 / p95 / max): `codeLens` of the document (and
//! its size); `codeLens/resolve` of each lens on a 60-line visible page in the middle (per
//! request, and the page's total; nothing when the lenses came resolved); `inlayHint`
//! over those 60 lines and over the whole document; `documentSymbol` (and its size);
//! `foldingRange`; and after a one-character edit (a new snapshot, so the memoised keys
//! start over) the first `inlayHint` of the page. A time is from the request's last byte
//! written to the answer's last byte read (the client's own JSON parse is not the
//! server's). For the bare notebook, the server's CPU per `codeLens` (utime + stime from
//! `/proc`, 10 ms ticks, over every request sent) too. Prints markdown tables and `uptime`'s
//! load before and after each table (the machine is shared: compare rows of one run).

#![allow(clippy::print_stdout)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use support::{Client, Message, Stats, millis};

const WARMUP: usize = 3;
const RUNS: usize = 20;
const VISIBLE_LINES: usize = 60;

/// A server message and when its frame had been read (the reader thread deserialises
/// right after reading the body, so this is before the client's parse).
struct Timed {
    received: Instant,
    value: Value,
}

impl<'de> Deserialize<'de> for Timed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Timed, D::Error> {
        let received = Instant::now();
        let value = Value::deserialize(deserializer)?;
        Ok(Timed { received, value })
    }
}

impl Message for Timed {
    fn request_id(&self) -> Option<Value> {
        self.value.request_id()
    }

    fn response_id(&self) -> Option<i64> {
        self.value.response_id()
    }

    fn error(&self) -> Option<String> {
        self.value.error()
    }

    fn ends_progress(&self) -> bool {
        self.value.ends_progress()
    }
}

/// A py:percent notebook of `cells` cells: markdown every 10, the others steps whose
/// `deps=` chain them within their section.
fn notebook(cells: usize) -> String {
    let mut text = String::new();
    for i in 0..cells {
        if i % 10 == 0 {
            text.push_str(&format!(
                "# %% [markdown]\n# ## Section {i}\n#\n# Some prose about part {i}.\n\n"
            ));
            continue;
        }
        let deps = if i % 10 == 1 {
            String::new()
        } else {
            format!(", \"deps=c{}\"", i - 1)
        };
        text.push_str(&format!(
            "# %% tags=[\"jc.step\", \"name=c{i}\"{deps}]\nvalue_{i} = {i} * 2\nvalue_{i}\n\n"
        ));
    }
    text
}

struct Session {
    client: Client<Timed>,
    uri: String,
    version: i32,
}

impl Session {
    fn open(root: &Path, path: &Path, text: &str) -> (Session, Duration) {
        let mut client: Client<Timed> = Client::spawn(&mut support::server());
        client.initialize(
            root,
            json!({"general": {"positionEncodings": ["utf-8", "utf-16"]}}),
        );
        let opened = Instant::now();
        let uri = client.open(path, text);
        let mut session = Session {
            client,
            uri,
            version: 1,
        };
        session.diagnostics();
        (session, opened.elapsed())
    }

    fn diagnostics(&mut self) {
        let (uri, version) = (self.uri.clone(), self.version);
        self.client.wait(|message| {
            message.value["method"] == "textDocument/publishDiagnostics"
                && message.value["params"]["uri"] == uri.as_str()
                && message.value["params"]["version"] == version
        });
    }

    /// The answer to `method` on the document and how long it took to arrive.
    fn request(&mut self, method: &str, extra: Value) -> (Duration, Value) {
        let mut params = json!({"textDocument": {"uri": self.uri}});
        if let (Some(params), Some(extra)) = (params.as_object_mut(), extra.as_object()) {
            params.extend(extra.clone());
        }
        self.call(method, params)
    }

    fn call(&mut self, method: &str, params: Value) -> (Duration, Value) {
        let sent = Instant::now();
        let answer = self.client.call(method, params);
        (answer.received.duration_since(sent), answer.value)
    }

    /// Times `method` (warm-ups lasting at least `support::settle()`, then the timed
    /// runs; each sample is request written → answer read); the last answer and how
    /// many requests were sent too.
    fn time(&mut self, method: &str, extra: &Value) -> (Stats, Value, usize) {
        let mut samples = Vec::new();
        let mut last = Value::Null;
        support::time_settled(WARMUP, RUNS, |_| {
            let (took, answer) = self.request(method, extra.clone());
            samples.push(took);
            last = answer;
        });
        let sent = samples.len();
        let timed = samples.split_off(sent - RUNS);
        (Stats::of(timed), last, sent)
    }

    /// Resolves every unresolved lens on lines `first..first + VISIBLE_LINES`: the time
    /// of each resolve, and of them all.
    fn resolve_visible(&mut self, lenses: &Value, first: usize) -> (Vec<Duration>, Duration) {
        let mut each = Vec::new();
        let mut page = Duration::ZERO;
        for lens in lenses["result"].as_array().into_iter().flatten() {
            let line = lens["range"]["start"]["line"].as_u64().unwrap_or(0) as usize;
            if lens.get("command").is_some() || line < first || line >= first + VISIBLE_LINES {
                continue;
            }
            let (took, answer) = self.call("codeLens/resolve", lens.clone());
            assert!(
                answer["result"]["command"]["title"].is_string(),
                "resolved: {answer}"
            );
            each.push(took);
            page += took;
        }
        (each, page)
    }

    /// Server CPU time so far (utime + stime), from `/proc`.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.client.child.id()))
            .unwrap_or_default();
        // After the command name (in parentheses, may hold spaces): state, ppid, …;
        // utime and stime are the 12th and 13th of those, in clock ticks (100 a second).
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        let ticks = |index: usize| {
            fields
                .get(index)
                .and_then(|field| field.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let ticks = ticks(11) + ticks(12);
        Duration::from_millis(ticks * 10)
    }
}

struct Row {
    label: String,
    run: Option<Duration>,
    first: Duration,
    lens: Stats,
    lens_bytes: usize,
    /// Server CPU per `codeLens`, over the timed runs (bare notebook only).
    lens_cpu: Option<Duration>,
    resolve: Option<Stats>,
    resolve_page: Option<Stats>,
    resolved: usize,
    hint: Stats,
    hint_all: Stats,
    symbols: Stats,
    symbol_bytes: usize,
    folding: Stats,
    hint_after_edit: Duration,
}

fn range(first: usize, last: usize) -> Value {
    json!({"range": {"start": {"line": first, "character": 0}, "end": {"line": last, "character": 0}}})
}

/// The figures of one notebook, open in a fresh server.
fn measure(label: String, root: &Path, path: &Path, text: &str, run: Option<Duration>) -> Row {
    let (mut session, first) = Session::open(root, path, text);
    let lines = text.lines().count();
    let middle = lines / 2;
    let cpu_before = session.cpu();
    let (lens, lenses, sent) = session.time("textDocument/codeLens", &json!({}));
    let lens_cpu = (session.cpu().saturating_sub(cpu_before)) / sent as u32;
    let lens_bytes = lenses["result"].to_string().len();
    let mut each = Vec::new();
    let mut pages = Vec::new();
    let mut resolved = 0;
    for run in 0..WARMUP + RUNS {
        let (times, page) = session.resolve_visible(&lenses, middle);
        resolved = times.len();
        if run >= WARMUP {
            each.extend(times);
            pages.push(page);
        }
    }
    let (resolve, resolve_page) = if each.is_empty() {
        (None, None)
    } else {
        (Some(Stats::of(each)), Some(Stats::of(pages)))
    };
    let visible = range(middle, middle + VISIBLE_LINES);
    let (hint, _, _) = session.time("textDocument/inlayHint", &visible);
    let (hint_all, _, _) = session.time("textDocument/inlayHint", &range(0, lines));
    let (symbols, symbol_answer, _) = session.time("textDocument/documentSymbol", &json!({}));
    let symbol_bytes = symbol_answer["result"].to_string().len();
    let (folding, _, _) = session.time("textDocument/foldingRange", &json!({}));
    // A blank line appended: a new snapshot whose cells' keys did not change.
    session.version += 1;
    session.client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": session.uri, "version": session.version},
            "contentChanges": [{"range": range(lines, lines)["range"], "text": "\n"}],
        }),
    );
    session.diagnostics();
    let (hint_after_edit, _) = session.request("textDocument/inlayHint", visible);
    session.client.shutdown();
    Row {
        label,
        run,
        first,
        lens,
        lens_bytes,
        lens_cpu: run.is_none().then_some(lens_cpu),
        resolve,
        resolve_page,
        resolved,
        hint,
        hint_all,
        symbols,
        symbol_bytes,
        folding,
        hint_after_edit,
    }
}

fn stats(stats: &Stats) -> String {
    format!(
        "{} / {} / {}",
        millis(stats.p50),
        millis(stats.p95),
        millis(stats.max)
    )
}

fn size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{:.0} KiB", bytes as f64 / 1024.0)
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("JELLYCELL_BENCH_CELLS")
        .unwrap_or_else(|_| "500,2000,8000,16000".into())
        .split(',')
        .filter_map(|size| size.trim().parse().ok())
        .collect();
    let bare_cells: usize = std::env::var("JELLYCELL_BENCH_BARE")
        .ok()
        .and_then(|cells| cells.trim().parse().ok())
        .unwrap_or(100_000);
    let load_before = support::load();
    let mut rows = Vec::new();
    for &cells in &sizes {
        let text = notebook(cells);
        let support::RanProject {
            dir,
            path,
            run_time: run,
        } = support::ran_project("nb.py", &text);
        rows.push(measure(
            format!("{cells} cells, all run"),
            dir.path(),
            &path,
            &text,
            Some(run),
        ));
    }
    if bare_cells > 0 {
        rows.push(bare(bare_cells));
    }
    let load_after = support::load();
    println!(
        "lens scaling over stdio (release build); load average before {load_before}, after {load_after}"
    );
    println!(
        "p50 / p95 / max of {RUNS} after at least {WARMUP} warm-up lasting {} s or more, request written → answer read; the visible page is {VISIBLE_LINES} lines in the middle",
        support::settle().as_secs_f64()
    );
    println!();
    println!(
        "| notebook | run | first diagnostics | codeLens | its size | server CPU per codeLens | resolve, per lens | resolve, the page (lenses) | inlayHint, page | inlayHint, whole | documentSymbol | its size | foldingRange | inlayHint after an edit |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in &rows {
        let none = || "—".to_string();
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} ({}) | {} | {} | {} | {} | {} | {} |",
            row.label,
            row.run
                .map_or_else(none, |run| format!("{:.1} s", run.as_secs_f64())),
            millis(row.first),
            stats(&row.lens),
            size(row.lens_bytes),
            row.lens_cpu.map_or_else(none, millis),
            row.resolve.as_ref().map_or_else(none, stats),
            row.resolve_page.as_ref().map_or_else(none, stats),
            row.resolved,
            stats(&row.hint),
            stats(&row.hint_all),
            stats(&row.symbols),
            size(row.symbol_bytes),
            stats(&row.folding),
            millis(row.hint_after_edit),
        );
    }
}

/// Issue #14's notebook: `cells` bare `# %%` lines, in a project that never ran.
fn bare(cells: usize) -> Row {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(root.join("jellycell.toml"), "[project]\nname = \"bench\"\n").expect("config");
    std::fs::create_dir_all(root.join("notebooks")).expect("folders");
    let path = root.join("notebooks/bare.py");
    let text = "# %%\n".repeat(cells);
    std::fs::write(&path, &text).expect("notebook");
    measure(
        format!("{cells} bare `# %%` cells"),
        root,
        &path,
        &text,
        None,
    )
}

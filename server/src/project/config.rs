//! The typed `jellycell.toml`: every section and key jellycell 1.4.0 knows, with its
//! defaults (`config.py`), plus our lint extensions (`select`, `ignore`,
//! `[lint.severity]`).
//!
//! Reading never fails. jellycell forbids unknown keys (pydantic `extra="forbid"`) and
//! stops on a bad value; we report each as a [`ConfigProblem`] (code `config-invalid`,
//! with a "did you mean" for near-miss keys) and use the default for that key. Values are
//! accepted the way pydantic's lax mode accepts them (an integer-valued float for an int,
//! `"yes"`/`1` for a bool, …), so we do not flag what jellycell takes.
//!
//! jellycell itself rejects our extension keys as unknown, so they belong in
//! `jellycell-lsp.toml` (`[lint]`) or `pyproject.toml` (`[tool.jellycell-lsp.lint]`),
//! read by [`read_tool_settings`]; in `jellycell.toml` they are still read, with a
//! `config-deprecated` warning. The same goes for our `[run]` keys (`python`,
//! `snapshot_max_mb`, …): `[run]` of our own settings is read by the same [`read_run`],
//! and in `jellycell.toml` they are still read (without a warning, for now).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml_edit::{Item, TableLike};

use crate::text::Span;
use crate::text::suggest::closest;

/// The rule id of a config problem: an unknown key or a bad value.
pub const CONFIG_INVALID: &str = "config-invalid";
/// The rule id of a setting read from a place it should move from.
pub const CONFIG_DEPRECATED: &str = "config-deprecated";
/// Our own settings file beside `jellycell.toml` (Python jellycell never reads it).
pub const TOOL_CONFIG_FILE: &str = "jellycell-lsp.toml";

/// Reads jellycell-lsp's own settings from the TOML `text` of the file at `path`: the
/// tables `lint` (`select`, `ignore`, `[...severity]`, `max_file_mb`) and `run` (every
/// `[run]` key, ours and jellycell's) under the table at `prefix` (`[]` for
/// `jellycell-lsp.toml`, `["tool", "jellycell-lsp"]` for `pyproject.toml`), into `config`,
/// replacing what jellycell.toml set for the keys they have. `None` when the file has no
/// table at `prefix`.
pub fn read_tool_settings(
    text: &str,
    path: &Path,
    prefix: &[&str],
    config: &mut Config,
) -> Option<Vec<ConfigProblem>> {
    let mut reader = Reader {
        text,
        path,
        problems: Vec::new(),
    };
    let file_name = path
        .file_name()
        .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
    let document = match toml_edit::Document::parse(text) {
        Ok(document) => document,
        Err(error) => {
            reader.problem(
                error.span(),
                format!("{file_name} is not valid TOML: {}", error.message().trim()),
            );
            return Some(reader.problems);
        }
    };
    let mut table: &dyn TableLike = document.as_table();
    for name in prefix {
        table = table.get(name)?.as_table_like()?;
    }
    // Ours (the whole jellycell-lsp.toml, or [tool.jellycell-lsp]): its keys are checked.
    let prefix = prefix.join(".");
    reader.check_keys(table, &prefix, &["lint", "run"]);
    let section = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        }
    };
    for name in ["lint", "run"] {
        let Some(item) = table.get(name) else {
            continue;
        };
        let section = section(name);
        let Some(inner) = item.as_table_like() else {
            reader.problem(item.span(), format!("[{section}] must be a table"));
            continue;
        };
        if name == "lint" {
            read_tool_lint(&mut reader, inner, &section, &mut config.lint);
        } else {
            read_run(&mut reader, inner, &section, &mut config.run);
        }
    }
    Some(reader.problems)
}

/// Our `[lint]` keys from our own settings table `lint_table` (named `section`).
fn read_tool_lint(
    reader: &mut Reader<'_>,
    lint_table: &dyn TableLike,
    section: &str,
    lint: &mut LintConfig,
) {
    reader.check_keys(
        lint_table,
        section,
        &["select", "ignore", "severity", "max_file_mb"],
    );
    let mut ours = LintConfig::default();
    read_rule_settings(reader, lint_table, section, &mut ours);
    let mut max_file_mb = lint.max_file_mb;
    reader.integer(lint_table, section, "max_file_mb", &mut max_file_mb);
    if max_file_mb > 0 {
        lint.max_file_mb = max_file_mb;
    }
    if lint_table.get("select").is_some() {
        lint.select = ours.select;
    }
    if lint_table.get("ignore").is_some() {
        lint.ignore = ours.ignore;
    }
    if lint_table.get("severity").is_some() {
        lint.severity = ours.severity;
    }
}

/// The keys of `[run]`: jellycell's (`kernel`, `subprocess`, `timeout_seconds`) and ours,
/// which Python jellycell rejects in jellycell.toml (so they are best kept in our own
/// settings, where [`read_run`] reads them too).
const RUN_KEYS: &[&str] = &[
    "kernel",
    "subprocess",
    "timeout_seconds",
    "snapshot_max_mb",
    "python",
    "env",
    "server",
    "token_env",
    "kernel_env",
    "start_timeout_seconds",
];

/// A `[run]` table (named `section`) into `run`: the keys it has replace what `run` held.
/// The one reader of `[run]`, for jellycell.toml and for our own settings alike.
fn read_run(reader: &mut Reader<'_>, table: &dyn TableLike, section: &str, run: &mut RunConfig) {
    reader.check_keys(table, section, RUN_KEYS);
    read_remote(reader, table, section, run);
    reader.string(table, section, "kernel", &mut run.kernel);
    if table.get("python").is_some() {
        let mut python = String::new();
        reader.string(table, section, "python", &mut python);
        run.python = Some(python).filter(|python| !python.is_empty());
    }
    if table.get("env").is_some() {
        let mut env = String::new();
        reader.string(table, section, "env", &mut env);
        match env.as_str() {
            "pep723" => run.pep723_env = true,
            "" => {}
            other => reader.problem(
                table.get("env").and_then(Item::span),
                format!(
                    "[{section}] env must be \"pep723\" (an environment built by uv from each \
                     notebook's PEP-723 dependencies), got {other:?}"
                ),
            ),
        }
    }
    reader.boolean(table, section, "subprocess", &mut run.subprocess);
    reader.integer(table, section, "timeout_seconds", &mut run.timeout_seconds);
    reader.integer(table, section, "snapshot_max_mb", &mut run.snapshot_max_mb);
}

/// The parsed `jellycell.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub project: ProjectSection,
    pub paths: PathsConfig,
    pub run: RunConfig,
    pub viewer: ViewerConfig,
    pub lint: LintConfig,
    pub artifacts: ArtifactsConfig,
    pub journal: JournalConfig,
}

impl Config {
    /// The defaults for a project called `name` (jellycell's `default_config`).
    pub fn default_named(name: &str) -> Self {
        Config {
            project: ProjectSection {
                name: name.to_string(),
            },
            paths: PathsConfig::default(),
            run: RunConfig::default(),
            viewer: ViewerConfig::default(),
            lint: LintConfig::default(),
            artifacts: ArtifactsConfig::default(),
            journal: JournalConfig::default(),
        }
    }
}

/// `[project]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSection {
    /// Required by jellycell; when missing we report it and use the root folder's name.
    pub name: String,
}

/// `[paths]`: folders relative to the project root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathsConfig {
    pub notebooks: String,
    pub data: String,
    pub artifacts: String,
    pub site: String,
    pub manuscripts: String,
    pub cache: String,
}

impl Default for PathsConfig {
    fn default() -> Self {
        PathsConfig {
            notebooks: "notebooks".into(),
            data: "data".into(),
            artifacts: "artifacts".into(),
            site: "site".into(),
            manuscripts: "manuscripts".into(),
            cache: ".jellycell/cache".into(),
        }
    }
}

/// `[run]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunConfig {
    pub kernel: String,
    pub subprocess: bool,
    pub timeout_seconds: i64,
    /// The largest pickled value (MB) the runner snapshots for state restore; larger values
    /// are replayed instead, and 0 turns snapshots off (ours: jellycell has no such key).
    pub snapshot_max_mb: i64,
    /// The Python that runs the kernel (`python -m ipykernel_launcher`), relative to the
    /// project root or absolute; before the project's `.venv` and the kernelspecs (our
    /// extension).
    pub python: Option<String>,
    /// `env = "pep723"`: each notebook runs in an environment uv builds from its PEP-723
    /// dependencies (ours).
    pub pep723_env: bool,
    /// A Jupyter server to run kernels on instead of locally (our extension; see
    /// docs/kernel.md "Remote kernels").
    pub server: Option<String>,
    /// The environment variable that holds the server's token.
    pub token_env: String,
    /// `KERNEL_*` variables sent with the kernel start (Enterprise Gateway).
    pub kernel_env: BTreeMap<String, String>,
    /// How long a remote kernel may take to start.
    pub start_timeout_seconds: i64,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            kernel: "python3".into(),
            subprocess: true,
            timeout_seconds: 600,
            snapshot_max_mb: 512,
            python: None,
            pep723_env: false,
            server: None,
            token_env: crate::kernel::DEFAULT_TOKEN_ENV.into(),
            kernel_env: BTreeMap::new(),
            start_timeout_seconds: 120,
        }
    }
}

/// `[run] server`, `token_env`, `kernel_env` and `start_timeout_seconds`.
fn read_remote(reader: &mut Reader<'_>, table: &dyn TableLike, section: &str, run: &mut RunConfig) {
    if table.get("server").is_some() {
        let mut server = String::new();
        reader.string(table, section, "server", &mut server);
        run.server = Some(server.trim().to_string()).filter(|server| !server.is_empty());
        if let Some(server) = &run.server
            && let Err(error) = crate::kernel::check_server_url(server)
        {
            reader.problem(table.get("server").and_then(Item::span), error.to_string());
        }
    }
    reader.string(table, section, "token_env", &mut run.token_env);
    reader.integer(
        table,
        section,
        "start_timeout_seconds",
        &mut run.start_timeout_seconds,
    );
    let Some(item) = table.get("kernel_env") else {
        return;
    };
    let Some(entries) = item.as_table_like() else {
        reader.problem(
            item.span(),
            format!("[{section}] kernel_env must be a table of strings, e.g. {{ KERNEL_USERNAME = \"alice\" }}"),
        );
        return;
    };
    for (name, value) in entries.iter() {
        match value.as_str() {
            Some(text) if name.starts_with("KERNEL_") => {
                run.kernel_env.insert(name.to_string(), text.to_string());
            }
            Some(_) => reader.problem(
                value.span(),
                format!(
                    "[{section}] kernel_env: {name:?} is not sent: gateways pass only KERNEL_* \
                     variables to the kernel; rename it KERNEL_{name}"
                ),
            ),
            None => reader.problem(
                value.span(),
                format!("[{section}] kernel_env: {name} must be a string"),
            ),
        }
    }
}

/// `[viewer]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerConfig {
    pub host: String,
    pub port: u16,
    pub watch: Vec<String>,
}

impl Default for ViewerConfig {
    fn default() -> Self {
        ViewerConfig {
            host: "127.0.0.1".into(),
            port: 5179,
            watch: vec!["notebooks".into(), "manuscripts".into(), "artifacts".into()],
        }
    }
}

/// How a lint rule's findings are reported (our extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    Error,
    Warning,
    Info,
    Off,
}

impl Severity {
    pub const NAMES: [&'static str; 4] = ["error", "warning", "info", "off"];

    pub fn from_name(name: &str) -> Option<Severity> {
        match name {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            "off" => Some(Severity::Off),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        Severity::NAMES[self as usize]
    }
}

/// `[lint]`: jellycell's three keys plus our `select`, `ignore` and `[lint.severity]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintConfig {
    pub enforce_artifact_paths: bool,
    pub enforce_declared_deps: bool,
    /// A size such as `"10MB"` (see [`parse_size`]).
    pub warn_on_large_cell_output: String,
    /// Rule ids to run; `None` runs every rule.
    pub select: Option<Vec<String>>,
    /// Rule ids never to run.
    pub ignore: Vec<String>,
    /// Per-rule severity overrides.
    pub severity: BTreeMap<String, Severity>,
    /// Notebooks larger than this many megabytes are not read (an `unreadable-file`
    /// finding instead): a cap on what one file can cost, `/dev/zero` behind a symlink
    /// included (our extension).
    pub max_file_mb: i64,
}

impl Default for LintConfig {
    fn default() -> Self {
        LintConfig {
            enforce_artifact_paths: true,
            enforce_declared_deps: false,
            warn_on_large_cell_output: "10MB".into(),
            select: None,
            ignore: Vec::new(),
            severity: BTreeMap::new(),
            max_file_mb: DEFAULT_MAX_FILE_MB,
        }
    }
}

/// The default `[lint] max_file_mb`.
pub const DEFAULT_MAX_FILE_MB: i64 = 10;

impl LintConfig {
    /// The `max_file_mb` limit in bytes.
    pub fn max_file_bytes(&self) -> u64 {
        u64::try_from(self.max_file_mb)
            .unwrap_or(0)
            .saturating_mul(1 << 20)
    }

    /// The `warn_on_large_cell_output` limit in bytes.
    pub fn large_output_limit(&self) -> Option<u64> {
        parse_size(&self.warn_on_large_cell_output)
    }

    /// Whether `rule` runs under `select` and `ignore`.
    pub fn is_enabled(&self, rule: &str) -> bool {
        let selected = self
            .select
            .as_ref()
            .is_none_or(|select| select.iter().any(|id| id == rule));
        selected
            && !self.ignore.iter().any(|id| id == rule)
            && self.severity.get(rule) != Some(&Severity::Off)
    }
}

/// `[artifacts] layout`: where path-less `jc.figure()` / `jc.table()` write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArtifactLayout {
    #[default]
    Flat,
    ByNotebook,
    ByCell,
}

impl ArtifactLayout {
    pub const NAMES: [&'static str; 3] = ["flat", "by_notebook", "by_cell"];

    pub fn from_name(name: &str) -> Option<ArtifactLayout> {
        match name {
            "flat" => Some(ArtifactLayout::Flat),
            "by_notebook" => Some(ArtifactLayout::ByNotebook),
            "by_cell" => Some(ArtifactLayout::ByCell),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        ArtifactLayout::NAMES[self as usize]
    }
}

/// `[artifacts]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactsConfig {
    pub layout: ArtifactLayout,
    pub max_committed_size_mb: i64,
}

impl Default for ArtifactsConfig {
    fn default() -> Self {
        ArtifactsConfig {
            layout: ArtifactLayout::Flat,
            max_committed_size_mb: 50,
        }
    }
}

/// `[journal]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalConfig {
    pub enabled: bool,
    /// Relative to the manuscripts folder.
    pub path: String,
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            enabled: true,
            path: "journal.md".into(),
        }
    }
}

/// File-scope overrides from a notebook's PEP-723 `[tool.jellycell]` table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Overrides {
    /// `project.name` / `name`.
    pub project_name: Option<String>,
    /// `run.kernel` / `kernel`.
    pub kernel: Option<String>,
    /// `run.timeout_seconds` / `timeout_seconds`.
    pub timeout_seconds: Option<i64>,
    /// `run.python` / `python` (ours: the Python that runs this notebook's kernel).
    pub python: Option<String>,
}

impl Overrides {
    pub fn is_empty(&self) -> bool {
        self == &Overrides::default()
    }
}

/// Something wrong in a `jellycell.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// [`CONFIG_INVALID`] or [`CONFIG_DEPRECATED`].
    pub code: &'static str,
    pub path: PathBuf,
    /// 1-based line of `span.start`.
    pub line: usize,
    /// 1-based column of `span.start`, in characters.
    pub column: usize,
    /// Byte span in the file's text.
    pub span: Span,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.code,
            self.message
        )
    }
}

/// jellycell's size syntax for `warn_on_large_cell_output`: `^\s*\d+\s*[KMG]?B?\s*$`,
/// case-insensitive, powers of 1024. `None` when it does not match (or overflows).
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_uppercase();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    if digits_end == 0 {
        return None;
    }
    let number: u64 = text[..digits_end].parse().ok()?;
    let unit = text[digits_end..].trim_start();
    let unit = unit.strip_suffix('B').unwrap_or(unit);
    let multiplier: u64 = match unit {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(multiplier)
}

/// Reads `text` (the contents of the `jellycell.toml` at `path`) into a config. Never
/// fails: problems come back beside it, in text order, and every bad value falls back to
/// its default.
/// `default_name` is the project name used when `[project] name` is missing.
pub fn read_config(text: &str, path: &Path, default_name: &str) -> (Config, Vec<ConfigProblem>) {
    let mut reader = Reader {
        text,
        path,
        problems: Vec::new(),
    };
    let mut config = Config::default_named(default_name);
    let document = match toml_edit::Document::parse(text) {
        Ok(document) => document,
        Err(error) => {
            reader.problem(
                error.span(),
                format!(
                    "jellycell.toml is not valid TOML: {}",
                    error.message().trim()
                ),
            );
            return (config, reader.problems);
        }
    };
    let root = document.as_table();
    reader.check_keys(
        root,
        "",
        &[
            "project",
            "paths",
            "run",
            "viewer",
            "lint",
            "artifacts",
            "journal",
        ],
    );

    match reader.section(root, "project") {
        Some(table) => {
            reader.check_keys(table, "project", &["name"]);
            if table.get("name").is_none() {
                reader.problem(
                    root.get("project").and_then(Item::span),
                    "[project] needs a name, e.g. name = \"my-analysis\"",
                );
            }
            reader.string(table, "project", "name", &mut config.project.name);
        }
        None => reader.problem(
            Some(0..0),
            "jellycell.toml needs a [project] table with a name, e.g. [project] name = \"my-analysis\"",
        ),
    }

    if let Some(table) = reader.section(root, "paths") {
        let paths = &mut config.paths;
        reader.check_keys(
            table,
            "paths",
            &[
                "notebooks",
                "data",
                "artifacts",
                "site",
                "manuscripts",
                "cache",
            ],
        );
        reader.string(table, "paths", "notebooks", &mut paths.notebooks);
        reader.string(table, "paths", "data", &mut paths.data);
        reader.string(table, "paths", "artifacts", &mut paths.artifacts);
        reader.string(table, "paths", "site", &mut paths.site);
        reader.string(table, "paths", "manuscripts", &mut paths.manuscripts);
        reader.string(table, "paths", "cache", &mut paths.cache);
    }

    if let Some(table) = reader.section(root, "run") {
        read_run(&mut reader, table, "run", &mut config.run);
    }

    if let Some(table) = reader.section(root, "viewer") {
        let viewer = &mut config.viewer;
        reader.check_keys(table, "viewer", &["host", "port", "watch"]);
        reader.string(table, "viewer", "host", &mut viewer.host);
        let mut port = i64::from(viewer.port);
        reader.integer(table, "viewer", "port", &mut port);
        match u16::try_from(port) {
            Ok(port) => viewer.port = port,
            Err(_) => reader.problem(
                table.get("port").and_then(Item::span),
                format!("[viewer] port must be between 0 and 65535, got {port}"),
            ),
        }
        reader.strings(table, "viewer", "watch", &mut viewer.watch);
    }

    if let Some(table) = reader.section(root, "lint") {
        read_lint(&mut reader, table, &mut config.lint);
    }

    if let Some(table) = reader.section(root, "artifacts") {
        let artifacts = &mut config.artifacts;
        reader.check_keys(table, "artifacts", &["layout", "max_committed_size_mb"]);
        let mut layout = artifacts.layout.as_str().to_string();
        reader.string(table, "artifacts", "layout", &mut layout);
        match ArtifactLayout::from_name(&layout) {
            Some(parsed) => artifacts.layout = parsed,
            None => {
                let hint = hint(&layout, ArtifactLayout::NAMES);
                reader.problem(
                    table.get("layout").and_then(Item::span),
                    format!(
                        "[artifacts] layout must be \"flat\", \"by_notebook\" or \"by_cell\", \
                         got \"{layout}\"{hint}"
                    ),
                );
            }
        }
        reader.integer(
            table,
            "artifacts",
            "max_committed_size_mb",
            &mut artifacts.max_committed_size_mb,
        );
    }

    if let Some(table) = reader.section(root, "journal") {
        let journal = &mut config.journal;
        reader.check_keys(table, "journal", &["enabled", "path"]);
        reader.boolean(table, "journal", "enabled", &mut journal.enabled);
        reader.string(table, "journal", "path", &mut journal.path);
    }

    let mut problems = reader.problems;
    problems.sort_by_key(|problem| problem.span.start);
    (config, problems)
}

fn read_lint(reader: &mut Reader<'_>, table: &dyn TableLike, lint: &mut LintConfig) {
    reader.check_keys(
        table,
        "lint",
        &[
            "enforce_artifact_paths",
            "enforce_declared_deps",
            "warn_on_large_cell_output",
            "select",
            "ignore",
            "severity",
            "max_file_mb",
        ],
    );
    let mut max_file_mb = lint.max_file_mb;
    reader.integer(table, "lint", "max_file_mb", &mut max_file_mb);
    if max_file_mb > 0 {
        lint.max_file_mb = max_file_mb;
    } else {
        reader.problem(
            table.get("max_file_mb").and_then(Item::span),
            format!(
                "[lint] max_file_mb must be a positive number of megabytes, got {max_file_mb} \
                 (using the default, {DEFAULT_MAX_FILE_MB})"
            ),
        );
    }
    reader.boolean(
        table,
        "lint",
        "enforce_artifact_paths",
        &mut lint.enforce_artifact_paths,
    );
    reader.boolean(
        table,
        "lint",
        "enforce_declared_deps",
        &mut lint.enforce_declared_deps,
    );
    let mut size = lint.warn_on_large_cell_output.clone();
    reader.string(table, "lint", "warn_on_large_cell_output", &mut size);
    if parse_size(&size).is_some() {
        lint.warn_on_large_cell_output = size;
    } else if size != lint.warn_on_large_cell_output {
        reader.problem(
            table.get("warn_on_large_cell_output").and_then(Item::span),
            format!(
                "[lint] warn_on_large_cell_output must be a size such as \"10MB\", \"512KB\" or \
                 \"1G\", got \"{size}\" (using the default, 10MB)"
            ),
        );
    }
    for key in ["select", "ignore", "severity"] {
        if let Some((key_item, item)) = table.get_key_value(key) {
            reader.problem_coded(
                CONFIG_DEPRECATED,
                key_item.span().or_else(|| item.span()),
                format!(
                    "[lint] {key} is jellycell-lsp's setting, and Python jellycell rejects \
                     jellycell.toml because of it (it refuses unknown keys); move it to [lint] \
                     in {TOOL_CONFIG_FILE} or to [tool.jellycell-lsp.lint] in pyproject.toml"
                ),
            );
        }
    }
    read_rule_settings(reader, table, "lint", lint);
}

/// `select`, `ignore` and `[<section>.severity]`: which rules run and how loudly.
fn read_rule_settings(
    reader: &mut Reader<'_>,
    table: &dyn TableLike,
    section: &str,
    lint: &mut LintConfig,
) {
    if table.get("select").is_some() {
        let mut select = Vec::new();
        if reader.strings(table, section, "select", &mut select) {
            lint.select = Some(select);
        }
    }
    reader.strings(table, section, "ignore", &mut lint.ignore);
    let Some(item) = table.get("severity") else {
        return;
    };
    let Some(severities) = item.as_table_like() else {
        reader.problem(
            item.span(),
            format!(
                "[{section}.severity] must be a table such as {{ deps-no-comma = \"warning\" }}"
            ),
        );
        return;
    };
    for (rule, value) in severities.iter() {
        match value.as_str().map(|name| (name, Severity::from_name(name))) {
            Some((_, Some(severity))) => {
                lint.severity.insert(rule.to_string(), severity);
            }
            Some((name, None)) => {
                let hint = hint(name, Severity::NAMES);
                reader.problem(
                    value.span(),
                    format!(
                        "[{section}.severity] {rule} must be \"error\", \"warning\", \"info\" or \
                         \"off\", got \"{name}\"{hint}"
                    ),
                );
            }
            None => reader.problem(
                value.span(),
                format!(
                    "[{section}.severity] {rule} must be \"error\", \"warning\", \"info\" or \"off\""
                ),
            ),
        }
    }
}

fn hint<const N: usize>(word: &str, candidates: [&str; N]) -> String {
    closest(word, candidates)
        .map(|candidate| format!("; did you mean \"{candidate}\"?"))
        .unwrap_or_default()
}

struct Reader<'a> {
    text: &'a str,
    path: &'a Path,
    problems: Vec<ConfigProblem>,
}

impl Reader<'_> {
    fn problem(&mut self, range: Option<Range<usize>>, message: impl Into<String>) {
        self.problem_coded(CONFIG_INVALID, range, message);
    }

    fn problem_coded(
        &mut self,
        code: &'static str,
        range: Option<Range<usize>>,
        message: impl Into<String>,
    ) {
        let range = range.unwrap_or(0..0);
        let start = floor_boundary(self.text, range.start);
        let end = floor_boundary(self.text, range.end).max(start);
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |index| index + 1);
        let column = before[line_start..].chars().count() + 1;
        self.problems.push(ConfigProblem {
            code,
            path: self.path.to_path_buf(),
            line,
            column,
            span: Span::new(start, end),
            message: message.into(),
        });
    }

    /// The table `name` of `root`, reporting it if it is not a table.
    fn section<'t>(&mut self, root: &'t toml_edit::Table, name: &str) -> Option<&'t dyn TableLike> {
        let item = root.get(name)?;
        match item.as_table_like() {
            Some(table) => Some(table),
            None => {
                self.problem(
                    item.span(),
                    format!("[{name}] must be a table (using the defaults for it)"),
                );
                None
            }
        }
    }

    fn check_keys(&mut self, table: &dyn TableLike, section: &str, allowed: &[&str]) {
        for (key, item) in table.iter() {
            if allowed.contains(&key) {
                continue;
            }
            let span = table
                .get_key_value(key)
                .and_then(|(key, _)| key.span())
                .or_else(|| item.span());
            let place = if section.is_empty() {
                format!(
                    "\"{key}\" is not a {} section",
                    self.path
                        .file_name()
                        .map_or_else(|| "jellycell.toml".into(), |name| name.to_string_lossy())
                )
            } else {
                format!("[{section}] has no key \"{key}\"")
            };
            let hint = closest(key, allowed.iter().copied())
                .map(|candidate| format!("; did you mean \"{candidate}\"?"))
                .unwrap_or_else(|| format!(" (known: {})", allowed.join(", ")));
            self.problem(span, format!("{place}{hint}"));
        }
    }

    fn wrong_type(&mut self, item: &Item, section: &str, key: &str, expected: &str) {
        self.problem(
            item.span(),
            format!(
                "[{section}] {key} must be {expected}, got {} (using the default)",
                item.type_name()
            ),
        );
    }

    fn string(&mut self, table: &dyn TableLike, section: &str, key: &str, slot: &mut String) {
        let Some(item) = table.get(key) else { return };
        match item.as_str() {
            Some(value) => *slot = value.to_string(),
            None => self.wrong_type(item, section, key, "a string"),
        }
    }

    fn boolean(&mut self, table: &dyn TableLike, section: &str, key: &str, slot: &mut bool) {
        let Some(item) = table.get(key) else { return };
        let value = item
            .as_bool()
            .or_else(|| match item.as_integer() {
                Some(0) => Some(false),
                Some(1) => Some(true),
                _ => None,
            })
            .or_else(|| match item.as_str()?.to_ascii_lowercase().as_str() {
                "0" | "off" | "f" | "false" | "n" | "no" => Some(false),
                "1" | "on" | "t" | "true" | "y" | "yes" => Some(true),
                _ => None,
            });
        match value {
            Some(value) => *slot = value,
            None => self.wrong_type(item, section, key, "true or false"),
        }
    }

    fn integer(&mut self, table: &dyn TableLike, section: &str, key: &str, slot: &mut i64) {
        let Some(item) = table.get(key) else { return };
        let value = item
            .as_integer()
            .or_else(|| {
                let float = item.as_float()?;
                (float.fract() == 0.0 && float.abs() < 9.0e18).then_some(float as i64)
            })
            .or_else(|| item.as_str()?.trim().parse().ok());
        match value {
            Some(value) => *slot = value,
            None => self.wrong_type(item, section, key, "an integer"),
        }
    }

    /// Reads a list of strings; returns whether it was valid.
    fn strings(
        &mut self,
        table: &dyn TableLike,
        section: &str,
        key: &str,
        slot: &mut Vec<String>,
    ) -> bool {
        let Some(item) = table.get(key) else {
            return false;
        };
        let values: Option<Vec<String>> = item.as_array().and_then(|array| {
            array
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect()
        });
        match values {
            Some(values) => {
                *slot = values;
                true
            }
            None => {
                self.wrong_type(item, section, key, "a list of strings");
                false
            }
        }
    }
}

fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Config, Vec<ConfigProblem>) {
        read_config(text, Path::new("jellycell.toml"), "fallback")
    }

    fn messages(problems: &[ConfigProblem]) -> Vec<&str> {
        problems.iter().map(|p| p.message.as_str()).collect()
    }

    #[test]
    fn a_minimal_config_gets_jellycell_defaults() {
        let (config, problems) = read("[project]\nname = \"demo\"\n");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(config, Config::default_named("demo"));
        assert_eq!(config.paths.cache, ".jellycell/cache");
        assert_eq!(config.paths.site, "site");
        assert_eq!(config.run.timeout_seconds, 600);
        assert!(config.run.subprocess);
        assert_eq!(config.viewer.port, 5179);
        assert_eq!(
            config.viewer.watch,
            ["notebooks", "manuscripts", "artifacts"]
        );
        assert!(config.lint.enforce_artifact_paths);
        assert!(!config.lint.enforce_declared_deps);
        assert_eq!(config.lint.large_output_limit(), Some(10 << 20));
        assert_eq!(config.artifacts.layout, ArtifactLayout::Flat);
        assert_eq!(config.artifacts.max_committed_size_mb, 50);
        assert!(config.journal.enabled);
        assert_eq!(config.journal.path, "journal.md");
    }

    #[test]
    fn every_key_is_read() {
        let text = r#"
[project]
name = "full"
[paths]
notebooks = "nb"
data = "d"
artifacts = "out"
site = "public"
manuscripts = "docs"
cache = ".cache"
[run]
kernel = "ir"
subprocess = false
timeout_seconds = 30
python = ".venv-3.12/bin/python"
[viewer]
host = "0.0.0.0"
port = 8000
watch = ["nb"]
[lint]
enforce_artifact_paths = false
enforce_declared_deps = true
warn_on_large_cell_output = "512 kb"
select = ["layout"]
ignore = ["pep723-position"]
[lint.severity]
deps-no-comma = "warning"
layout = "off"
[artifacts]
layout = "by_cell"
max_committed_size_mb = 0
[journal]
enabled = false
path = "log/runs.md"
"#;
        let (config, problems) = read(text);
        // Our keys are read, each with its deprecation (jellycell rejects them here).
        let deprecated: Vec<&str> = problems
            .iter()
            .filter(|problem| problem.code == CONFIG_DEPRECATED)
            .map(|problem| problem.message.split(' ').nth(1).unwrap_or_default())
            .collect();
        assert_eq!(deprecated, ["select", "ignore", "severity"], "{problems:?}");
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert_eq!(config.paths.notebooks, "nb");
        assert_eq!(config.paths.cache, ".cache");
        assert_eq!(config.run.kernel, "ir");
        assert_eq!(config.run.python.as_deref(), Some(".venv-3.12/bin/python"));
        assert!(!config.run.subprocess);
        assert_eq!(config.viewer.port, 8000);
        assert_eq!(config.lint.large_output_limit(), Some(512 * 1024));
        assert_eq!(
            config.lint.select.as_deref(),
            Some(&["layout".to_string()][..])
        );
        assert_eq!(
            config.lint.severity.get("deps-no-comma"),
            Some(&Severity::Warning)
        );
        assert!(!config.lint.is_enabled("layout"));
        assert!(!config.lint.is_enabled("pep723-position"));
        assert!(!config.lint.is_enabled("deps-no-comma"));
        assert_eq!(config.artifacts.layout, ArtifactLayout::ByCell);
        assert_eq!(config.journal.path, "log/runs.md");
    }

    #[test]
    fn unknown_keys_are_reported_with_a_suggestion() {
        let text = "[project]\nname = \"x\"\n[run]\ntimeout = 5\nkernal = \"py\"\n[extra]\n";
        let (config, problems) = read(text);
        assert_eq!(config.run, RunConfig::default());
        let messages = messages(&problems);
        assert!(
            messages[0].contains("[run] has no key \"timeout\""),
            "{messages:?}"
        );
        assert!(
            messages[0].contains("did you mean \"timeout_seconds\"?"),
            "{messages:?}"
        );
        assert!(messages[1].contains("did you mean \"kernel\"?"));
        assert!(messages[2].contains("\"extra\" is not a jellycell.toml section"));
        assert_eq!(problems[0].line, 4);
        assert_eq!(problems[0].column, 1);
        assert_eq!(problems[0].span.slice(text), "timeout");
        assert!(problems.iter().all(|p| p.code == CONFIG_INVALID));
    }

    #[test]
    fn bad_values_fall_back_to_the_default() {
        let text = "[project]\nname = \"x\"\n[run]\ntimeout_seconds = \"soon\"\nsubprocess = \"maybe\"\n[viewer]\nport = 70000\nwatch = \"nb\"\n[artifacts]\nlayout = \"by-cell\"\n";
        let (config, problems) = read(text);
        assert_eq!(config.run, RunConfig::default());
        assert_eq!(config.viewer, ViewerConfig::default());
        assert_eq!(config.artifacts.layout, ArtifactLayout::Flat);
        assert_eq!(problems.len(), 5, "{:?}", messages(&problems));
        assert!(problems[4].message.contains("did you mean \"by_cell\"?"));
        assert_eq!(problems[0].span.slice(text), "\"soon\"");
    }

    #[test]
    fn lax_values_that_pydantic_accepts_are_not_reported() {
        let text = "[project]\nname = \"x\"\n[run]\ntimeout_seconds = 30.0\nsubprocess = 0\n[journal]\nenabled = \"yes\"\n";
        let (config, problems) = read(text);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(config.run.timeout_seconds, 30);
        assert!(!config.run.subprocess);
        assert!(config.journal.enabled);
    }

    #[test]
    fn a_bad_size_string_is_reported_and_defaults() {
        let (config, problems) =
            read("[project]\nname = \"x\"\n[lint]\nwarn_on_large_cell_output = \"ten megs\"\n");
        assert_eq!(config.lint.warn_on_large_cell_output, "10MB");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("must be a size"));
    }

    #[test]
    fn sizes_follow_jellycell() {
        assert_eq!(parse_size("10MB"), Some(10 * 1024 * 1024));
        assert_eq!(parse_size(" 3 k "), Some(3 * 1024));
        assert_eq!(parse_size("2gb"), Some(2 << 30));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("7B"), Some(7));
        for bad in ["", "MB", "1.5MB", "10 TB", "-1", "10MBB"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_missing_project_name_is_reported_and_the_fallback_used() {
        let (config, problems) = read("[run]\nkernel = \"python3\"\n");
        assert_eq!(config.project.name, "fallback");
        assert_eq!(problems.len(), 1);
        let (_, problems) = read("[project]\n");
        assert!(problems[0].message.contains("needs a name"));
    }

    #[test]
    fn invalid_toml_gives_one_problem_and_defaults() {
        let (config, problems) = read("[project\nname = 1");
        assert_eq!(config, Config::default_named("fallback"));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("not valid TOML"));
        assert_eq!(problems[0].line, 1);
    }

    #[test]
    fn a_section_that_is_not_a_table_is_reported() {
        let (config, problems) = read("run = 5\n[project]\nname = \"x\"\n");
        assert_eq!(config.run, RunConfig::default());
        assert!(problems[0].message.contains("[run] must be a table"));
    }

    #[test]
    fn bad_severities_are_reported() {
        let (config, problems) =
            read("[project]\nname = \"x\"\n[lint.severity]\nlayout = \"warn\"\n");
        assert!(config.lint.severity.is_empty());
        let invalid: Vec<_> = problems
            .iter()
            .filter(|problem| problem.code == CONFIG_INVALID)
            .collect();
        assert!(
            invalid[0].message.contains("did you mean \"warning\"?"),
            "{problems:?}"
        );
    }

    #[test]
    fn problems_display_as_path_line_column() {
        let (_, problems) = read("[project]\nname = \"x\"\n[run]\n  kernal = \"p\"\n");
        assert_eq!(
            problems[0].to_string(),
            "jellycell.toml:4:3: config-invalid: [run] has no key \"kernal\"; did you mean \"kernel\"?"
        );
    }

    #[test]
    fn remote_server_settings_are_read_and_checked() {
        let (config, problems) = read(
            "[project]\nname = \"x\"\n[run]\nserver = \"https://hub.example.org/user/alice/\"\ntoken_env = \"HUB_TOKEN\"\n\
             start_timeout_seconds = 900\nkernel_env = { KERNEL_USERNAME = \"alice\", HOME = \"/x\" }\n",
        );
        assert_eq!(
            config.run.server.as_deref(),
            Some("https://hub.example.org/user/alice/")
        );
        assert_eq!(config.run.token_env, "HUB_TOKEN");
        assert_eq!(config.run.start_timeout_seconds, 900);
        assert_eq!(
            config
                .run
                .kernel_env
                .get("KERNEL_USERNAME")
                .map(String::as_str),
            Some("alice")
        );
        assert!(!config.run.kernel_env.contains_key("HOME"));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("KERNEL_HOME"), "{problems:?}");

        let (config, problems) = read("[project]\nname = \"x\"\n[run]\nserver = \"ftp://x\"\n");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("http://"), "{problems:?}");
        assert_eq!(config.run.token_env, "JUPYTER_TOKEN");
    }
}

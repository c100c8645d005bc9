//! The project a notebook belongs to: found by walking up to `jellycell.toml` (as
//! jellycell's `Project.from_path` does), with its typed config (`config`) and the paths
//! every other layer derives from it.
//!
//! Never fails: a notebook with no project gets the default config and its own folder as
//! root; an unreadable or invalid `jellycell.toml` gives defaults plus [`ConfigProblem`]s.

mod config;
mod containment;
pub mod file_stamp;
pub mod read;
mod tool_config;
pub mod walk;

use std::path::{Component, Path, PathBuf};

pub use config::{
    ArtifactLayout, ArtifactsConfig, CONFIG_DEPRECATED, CONFIG_INVALID, Config, ConfigProblem,
    DEFAULT_MAX_FILE_MB, JournalConfig, LintConfig, Overrides, PathsConfig, ProjectSection,
    RunConfig, Severity, TOOL_CONFIG_FILE, ViewerConfig, parse_size, read_config,
};

use crate::text::Span;

/// The file that marks a project root.
pub const CONFIG_FILE: &str = "jellycell.toml";

/// The files at a project root that a [`Project`] is read from: `jellycell.toml`, and our
/// settings beside it (`tool_config`). A change to any of them means reading it again.
pub const SETTINGS_FILES: [&str; 3] = [CONFIG_FILE, TOOL_CONFIG_FILE, "pyproject.toml"];

/// Our own folder inside the cache folder, so that jellycell's `manifests/`, `blobs/` and
/// `state.db` beside it are never touched (DESIGN contract 4).
pub const LSP_CACHE_DIR: &str = "jellycell-lsp";

/// A project root with its config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The folder holding `jellycell.toml`, or the notebook's own folder when none.
    pub root: PathBuf,
    pub config: Config,
    /// The `jellycell.toml` read, if any.
    pub config_path: Option<PathBuf>,
    /// What was wrong with it.
    pub problems: Vec<ConfigProblem>,
}

/// A path that would resolve outside the project root.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path} escapes the project root {root}")]
pub struct PathEscape {
    pub path: PathBuf,
    pub root: PathBuf,
}

impl Project {
    /// The project of `start` (a notebook file or a folder): the nearest `jellycell.toml`
    /// at or above it, or, when there is none, a default project rooted at `start`'s
    /// folder.
    pub fn discover(start: &Path) -> Project {
        let start = absolute(start);
        let folder = start_folder(&start);
        match find_config(&folder) {
            Some(config_path) => Project::read(&config_path),
            None => Project::without_config(&folder),
        }
    }

    /// The project whose root is `root`, without walking up (jellycell's `--project`).
    /// A missing `jellycell.toml` is reported and the defaults are used.
    pub fn load(root: &Path) -> Project {
        let root = absolute(root);
        let config_path = root.join(CONFIG_FILE);
        if config_path.exists() {
            return Project::read(&config_path);
        }
        let mut project = Project::without_config(&root);
        project.problems.push(ConfigProblem {
            code: CONFIG_INVALID,
            path: config_path.clone(),
            line: 1,
            column: 1,
            span: Span::default(),
            message: format!(
                "no {CONFIG_FILE} at {}; create one with [project] name = \"...\"",
                root.display()
            ),
        });
        project
    }

    /// The project of the `jellycell.toml` at `config_path` whose text is `text` (for an
    /// unsaved editor buffer).
    pub fn from_config_text(config_path: &Path, text: &str) -> Project {
        let config_path = absolute(config_path);
        let root = config_path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let (mut config, mut problems) = read_config(text, &config_path, &folder_name(&root));
        containment::contain_paths(&root, &config_path, text, &mut config, &mut problems);
        tool_config::overlay(&root, &mut config, &mut problems);
        Project {
            root,
            config,
            config_path: Some(config_path),
            problems,
        }
    }

    /// A project with the default config rooted at `root`, named after the folder.
    pub fn without_config(root: &Path) -> Project {
        Project {
            root: root.to_path_buf(),
            config: Config::default_named(&folder_name(root)),
            config_path: None,
            problems: Vec::new(),
        }
    }

    fn read(config_path: &Path) -> Project {
        match std::fs::read_to_string(config_path) {
            Ok(text) => Project::from_config_text(config_path, &text),
            Err(error) => {
                let root = config_path
                    .parent()
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
                let mut project = Project::without_config(&root);
                project.config_path = Some(config_path.to_path_buf());
                project.problems.push(ConfigProblem {
                    code: CONFIG_INVALID,
                    path: config_path.to_path_buf(),
                    line: 1,
                    column: 1,
                    span: Span::default(),
                    message: format!("cannot read {CONFIG_FILE} (using the defaults): {error}"),
                });
                project
            }
        }
    }

    pub fn name(&self) -> &str {
        &self.config.project.name
    }

    pub fn notebooks_dir(&self) -> PathBuf {
        self.root.join(&self.config.paths.notebooks)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join(&self.config.paths.data)
    }

    pub fn artifacts_dir(&self) -> PathBuf {
        self.root.join(&self.config.paths.artifacts)
    }

    pub fn site_dir(&self) -> PathBuf {
        self.root.join(&self.config.paths.site)
    }

    pub fn manuscripts_dir(&self) -> PathBuf {
        self.root.join(&self.config.paths.manuscripts)
    }

    /// `[paths] cache` (default `.jellycell/cache`), shared with Python jellycell.
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join(&self.config.paths.cache)
    }

    /// Our own store: `<cache>/jellycell-lsp/`.
    pub fn lsp_cache_dir(&self) -> PathBuf {
        self.cache_dir().join(LSP_CACHE_DIR)
    }

    /// Where `jellycell run` appends its journal: `<manuscripts>/<[journal] path>`.
    pub fn journal_path(&self) -> PathBuf {
        self.manuscripts_dir().join(&self.config.journal.path)
    }

    /// Every declared root, in jellycell's order (notebooks, data, artifacts, site,
    /// manuscripts, cache).
    pub fn declared_roots(&self) -> Vec<PathBuf> {
        vec![
            self.notebooks_dir(),
            self.data_dir(),
            self.artifacts_dir(),
            self.site_dir(),
            self.manuscripts_dir(),
            self.cache_dir(),
        ]
    }

    /// `relative` joined to the root and normalised (lexically: `.` and `..` folded, no
    /// filesystem access), or an error when it would leave the root (jellycell's
    /// `Project.resolve`).
    pub fn resolve(&self, relative: impl AsRef<Path>) -> Result<PathBuf, PathEscape> {
        let root = normalize(&self.root);
        let joined = normalize(&root.join(relative.as_ref()));
        if joined.starts_with(&root) {
            Ok(joined)
        } else {
            Err(PathEscape { path: joined, root })
        }
    }

    /// `path` relative to the root, if it is inside it.
    pub fn relative_path(&self, path: &Path) -> Option<PathBuf> {
        normalize(path)
            .strip_prefix(normalize(&self.root))
            .ok()
            .map(Path::to_path_buf)
    }

    /// This project with a notebook's `[tool.jellycell]` overrides applied (jellycell's
    /// `Project.with_overrides`).
    pub fn with_overrides(&self, overrides: &Overrides) -> Project {
        let mut project = self.clone();
        if let Some(name) = &overrides.project_name {
            project.config.project.name = name.clone();
        }
        if let Some(kernel) = &overrides.kernel {
            project.config.run.kernel = kernel.clone();
        }
        if let Some(seconds) = overrides.timeout_seconds {
            project.config.run.timeout_seconds = seconds;
        }
        project
    }
}

/// The nearest `jellycell.toml` in `folder` or above it.
pub fn find_config(folder: &Path) -> Option<PathBuf> {
    folder
        .ancestors()
        .map(|ancestor| ancestor.join(CONFIG_FILE))
        .find(|candidate| candidate.exists())
}

/// `path` made absolute: canonical when it exists (as Python's `resolve()`), else joined
/// to the current directory, else as given.
fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// The folder a discovery starts from: `start` itself when it is a folder, else its parent.
fn start_folder(start: &Path) -> PathBuf {
    if start.is_dir() {
        return start.to_path_buf();
    }
    match start.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn folder_name(folder: &Path) -> String {
    folder
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "project".to_string())
}

/// Folds `.` and `..` without touching the filesystem.
fn normalize(path: &Path) -> PathBuf {
    let mut normalized = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !normalized.pop() {
                    normalized.push(component);
                }
            }
            other => normalized.push(other),
        }
    }
    normalized
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn project_tree(config: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join(CONFIG_FILE), config).expect("write config");
        fs::create_dir_all(dir.path().join("notebooks/deep")).expect("mkdir");
        fs::write(dir.path().join("notebooks/deep/report.py"), "# %%\n").expect("write nb");
        dir
    }

    fn canonical(path: &Path) -> PathBuf {
        fs::canonicalize(path).expect("canonical")
    }

    #[test]
    fn discovery_walks_up_from_a_notebook() {
        let dir = project_tree("[project]\nname = \"demo\"\n");
        let project = Project::discover(&dir.path().join("notebooks/deep/report.py"));
        assert_eq!(project.root, canonical(dir.path()));
        assert_eq!(project.name(), "demo");
        assert_eq!(
            project.config_path,
            Some(canonical(dir.path()).join(CONFIG_FILE))
        );
        assert!(project.problems.is_empty());
    }

    #[test]
    fn discovery_from_a_folder_and_from_the_root() {
        let dir = project_tree("[project]\nname = \"demo\"\n");
        let from_folder = Project::discover(&dir.path().join("notebooks"));
        let from_root = Project::discover(dir.path());
        assert_eq!(from_folder.root, canonical(dir.path()));
        assert_eq!(from_root.root, canonical(dir.path()));
    }

    #[test]
    fn a_notebook_with_no_project_gets_defaults_and_its_own_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let folder = dir.path().join("loose");
        fs::create_dir_all(&folder).expect("mkdir");
        fs::write(folder.join("nb.py"), "").expect("write");
        let project = Project::discover(&folder.join("nb.py"));
        // A jellycell.toml above the temp dir would be found; there is none on test hosts.
        if project.config_path.is_none() {
            assert_eq!(project.root, canonical(&folder));
            assert_eq!(project.name(), "loose");
            assert_eq!(project.config.paths, PathsConfig::default());
            assert!(project.problems.is_empty());
        }
    }

    #[test]
    fn discovery_of_a_missing_file_still_finds_the_project() {
        let dir = project_tree("[project]\nname = \"demo\"\n");
        let project = Project::discover(&dir.path().join("notebooks/unsaved.py"));
        assert_eq!(project.root, canonical(dir.path()));
    }

    #[test]
    fn an_invalid_config_gives_problems_and_defaults() {
        let dir = project_tree("[project]\nname = \"demo\"\n[paths]\nnotebook = \"nb\"\n");
        let project = Project::discover(dir.path());
        assert_eq!(project.config.paths, PathsConfig::default());
        assert_eq!(project.problems.len(), 1);
        let problem = &project.problems[0];
        assert_eq!(problem.path, canonical(dir.path()).join(CONFIG_FILE));
        assert_eq!((problem.line, problem.column), (4, 1));
        assert!(problem.message.contains("did you mean \"notebooks\"?"));
    }

    #[test]
    fn load_without_a_config_reports_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let project = Project::load(dir.path());
        assert_eq!(project.config_path, None);
        assert_eq!(project.problems.len(), 1);
        assert!(project.problems[0].message.contains("no jellycell.toml"));
    }

    #[test]
    fn paths_resolve_against_the_root() {
        let dir = project_tree(
            "[project]\nname = \"demo\"\n[paths]\ncache = \"tmp/cache\"\nartifacts = \"out\"\n",
        );
        let project = Project::discover(dir.path());
        let root = canonical(dir.path());
        assert_eq!(project.notebooks_dir(), root.join("notebooks"));
        assert_eq!(project.artifacts_dir(), root.join("out"));
        assert_eq!(project.cache_dir(), root.join("tmp/cache"));
        assert_eq!(
            project.lsp_cache_dir(),
            root.join("tmp/cache/jellycell-lsp")
        );
        assert_eq!(project.journal_path(), root.join("manuscripts/journal.md"));
        assert_eq!(project.declared_roots().len(), 6);
    }

    #[test]
    fn the_default_cache_is_under_dot_jellycell() {
        let project = Project::without_config(Path::new("/p"));
        assert_eq!(project.cache_dir(), Path::new("/p/.jellycell/cache"));
        assert_eq!(
            project.lsp_cache_dir(),
            Path::new("/p/.jellycell/cache/jellycell-lsp")
        );
    }

    #[test]
    fn resolve_rejects_escapes() {
        let project = Project::without_config(Path::new("/p/root"));
        assert_eq!(
            project.resolve("artifacts/./x/../y.json"),
            Ok(PathBuf::from("/p/root/artifacts/y.json"))
        );
        assert!(project.resolve("../elsewhere").is_err());
        assert!(project.resolve("/etc/passwd").is_err());
        assert_eq!(
            project.relative_path(Path::new("/p/root/notebooks/a.py")),
            Some(PathBuf::from("notebooks/a.py"))
        );
        assert_eq!(project.relative_path(Path::new("/q/a.py")), None);
    }

    #[test]
    fn configured_paths_that_leave_the_root_are_refused_on_their_line() {
        let dir = project_tree(
            "[project]\nname = \"demo\"\n[paths]\nartifacts = \"../../../../etc\"\ncache = \"link/c\"\ndata = \"fresh/../d\"\n",
        );
        std::os::unix::fs::symlink("/tmp", dir.path().join("link")).expect("symlink");
        let project = Project::discover(dir.path());
        let lines: Vec<usize> = project
            .problems
            .iter()
            .map(|problem| problem.line)
            .collect();
        assert_eq!(lines, vec![4, 5], "{:?}", project.problems);
        assert!(
            project.problems[0]
                .message
                .contains("outside the project root")
        );
        assert_eq!(project.config.paths.artifacts, "artifacts");
        assert_eq!(project.config.paths.cache, ".jellycell/cache");
        assert_eq!(project.config.paths.data, "fresh/../d");
    }

    #[test]
    fn overrides_replace_name_kernel_and_timeout() {
        let project = Project::without_config(Path::new("/p"));
        let overridden = project.with_overrides(&Overrides {
            project_name: None,
            kernel: Some("ir".into()),
            timeout_seconds: Some(5),
            python: None,
        });
        assert_eq!(overridden.config.run.kernel, "ir");
        assert_eq!(overridden.config.run.timeout_seconds, 5);
        assert_eq!(overridden.name(), "p");
    }

    #[test]
    fn an_unsaved_buffer_can_be_read() {
        let project = Project::from_config_text(
            Path::new("/p/jellycell.toml"),
            "[project]\nname = \"buffer\"\n",
        );
        assert_eq!(project.root, Path::new("/p"));
        assert_eq!(project.name(), "buffer");
    }
}

//! A command that works in a project refuses to run on a `jellycell.toml` with problems
//! (jellycell stops on an invalid config too): each problem is printed as
//! `path:line:col: config-invalid: what is expected`, and the command exits 2 instead of
//! quietly using defaults the user did not ask for. `--check` reports the same problems as
//! `config-invalid` findings instead (see `check`).

use crate::project::Project;

/// `Ok` when the project's config has no problems; else prints them and says how to go on.
pub(super) fn require_valid_config(project: &Project) -> Result<(), String> {
    if project.problems.is_empty() {
        return Ok(());
    }
    for problem in &project.problems {
        eprintln!("{problem}");
    }
    let config = project.config_path.as_ref().map_or_else(
        || "jellycell.toml".to_string(),
        |path| path.display().to_string(),
    );
    Err(format!(
        "{config} is invalid ({} problem{}); fix it and run the command again",
        project.problems.len(),
        if project.problems.len() == 1 { "" } else { "s" }
    ))
}

//! `--check`'s cache (`.jellycell/cache/jellycell-lsp/check/`) is invisible in what it
//! reports: cold, warm and `--no-cache` runs print the same, edits are seen however the
//! file's times look, a corrupt cache is rewritten, a config change starts afresh, and
//! `--fix` works through it. `JELLYCELL_LSP_CHECK_STATS` shows that the cache was used.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

const CONFIG: &str = "[project]\nname = \"demo\"\n\n[lint]\nenforce_declared_deps = true\n";

/// Three notebooks with findings of every cached kind: reader (`deps-no-comma`, fixable),
/// syntax, graph (`unknown-dep`, `forward-dep`, across notebooks) and
/// `enforce-declared-deps` (a fix from the graph), plus a paired notebook whose `.ipynb`
/// is missing (`paired-out-of-sync`, never cached).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("jellycell.toml"), CONFIG).unwrap();
    for folder in ["notebooks", "data", "artifacts", "site", "manuscripts"] {
        std::fs::create_dir_all(root.join(folder)).unwrap();
    }
    write(
        root,
        "notebooks/prep.py",
        r#"# %% tags=["jc.load", "name=raw"]
jc.save([1], "artifacts/raw.json")

# %% tags=["jc.step", "name=summary", "deps=raw,clean"]
z = (

# %% tags=["jc.step", "deps=later"]
v = 1

# %% tags=["jc.step", "name=later"]
u = 2
"#,
    );
    write(
        root,
        "notebooks/report.py",
        r#"# %% tags=["jc.step", "name=report"]
rows = jc.load("artifacts/raw.json")

# %% tags=["jc.step", "deps=raw"]
print(rows)
"#,
    );
    write(
        root,
        "notebooks/paired.py",
        "# ---\n# jupyter:\n#   jupytext:\n#     formats: ipynb,py:percent\n# ---\n\n# %%\nx = 1\n",
    );
    dir
}

fn write(root: &Path, relative: &str, text: &str) {
    std::fs::write(root.join(relative), text).unwrap();
}

fn check(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
        .arg("--check")
        .args(args)
        .current_dir(root)
        .env("JELLYCELL_LSP_CHECK_STATS", "1")
        .env_remove("NO_COLOR")
        .output()
        .unwrap()
}

/// stdout and exit code: what must not depend on the cache.
fn result(output: &Output) -> (String, Option<i32>) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        output.status.code(),
    )
}

/// (cached, analysed) from the stats line on stderr; `None` when no cache was used.
fn stats(output: &Output) -> Option<(usize, usize)> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr
        .lines()
        .find_map(|line| line.strip_prefix("jellycell-lsp: check cache: "))?;
    let (cached, rest) = line.split_once(" cached, ")?;
    let analysed = rest.strip_suffix(" analysed")?;
    Some((cached.parse().ok()?, analysed.parse().ok()?))
}

fn cache_file(root: &Path) -> PathBuf {
    root.join(".jellycell/cache/jellycell-lsp/check/notebooks.bin")
}

fn rules(output: &Output) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|diagnostic| diagnostic["rule"].as_str().unwrap().to_string())
        .collect()
}

/// Sets the file's modification time (its ctime moves on regardless).
fn set_modified(path: &Path, time: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

/// Waits until files written now are past the cache's racy window (2 s), so that the
/// next run trusts their stamps alone; the cache is then exercised without content hashes.
fn let_stamps_settle() {
    std::thread::sleep(Duration::from_millis(2200));
}

#[test]
fn cold_warm_and_uncached_runs_print_the_same() {
    let dir = project();
    let root = dir.path();
    for args in [
        &["--format", "json"][..],
        &["--format", "human"],
        &["--format", "github"],
        &["--format", "sarif"],
        &["--format", "json", "notebooks/report.py"],
        &[
            "--format",
            "json",
            "notebooks/prep.py",
            "notebooks/paired.py",
        ],
        &[
            "--format",
            "json",
            "--ignore",
            "unknown-dep,python-syntax-error",
        ],
        &["--format", "json", "--select", "enforce-declared-deps"],
    ] {
        let _ = std::fs::remove_dir_all(root.join(".jellycell"));
        let uncached = check(root, &[args, &["--no-cache"]].concat());
        assert_eq!(stats(&uncached), None, "--no-cache uses no cache");
        let cold = check(root, args);
        let warm = check(root, args);
        assert_eq!(result(&cold), result(&uncached), "cold {args:?}");
        assert_eq!(result(&warm), result(&uncached), "warm {args:?}");
        let (_, analysed_cold) = stats(&cold).unwrap();
        assert!(analysed_cold > 0, "{args:?}");
        assert_eq!(stats(&warm).map(|(_, analysed)| analysed), Some(0));
    }
    let everything = check(root, &["--format", "json", "--no-cache"]);
    let found = rules(&everything);
    for rule in [
        "deps-no-comma",
        "python-syntax-error",
        "unknown-dep",
        "forward-dep",
        "enforce-declared-deps",
        "paired-out-of-sync",
    ] {
        assert!(found.iter().any(|id| id == rule), "{rule} in {found:?}");
    }
}

#[test]
fn the_cache_stays_out_of_git_and_out_of_folders_that_are_no_project() {
    let dir = project();
    let root = dir.path();
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .unwrap()
    };
    git(&["init", "-q"]);
    let untracked = || {
        let status = git(&["status", "--porcelain", "--untracked-files=all"]);
        String::from_utf8_lossy(&status.stdout).into_owned()
    };
    let before = untracked();
    check(root, &["--format", "json"]);
    assert!(cache_file(root).exists());
    assert_eq!(untracked(), before, "the cache is ignored");

    let elsewhere = tempfile::tempdir().unwrap();
    write(elsewhere.path(), "analysis.py", "# %%\nx = 1\n");
    let output = check(elsewhere.path(), &["--format", "json", "analysis.py"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stats(&output), None, "no project, no cache");
    assert!(!elsewhere.path().join(".jellycell").exists());
}

#[test]
fn an_edit_of_the_same_size_is_seen_even_with_the_old_mtime() {
    let dir = project();
    let root = dir.path();
    let notebook = root.join("notebooks/report.py");
    let before = modified(&notebook);
    let_stamps_settle();
    let first = check(root, &["--format", "json"]);
    assert!(!rules(&first).contains(&"setup-dep".to_string()));
    let warm = check(root, &["--format", "json"]);
    assert_eq!(stats(&warm), Some((3, 0)), "stamps alone decide");
    assert_eq!(result(&warm), result(&first));

    // One character, same size, and the modification time put back exactly.
    let text = std::fs::read_to_string(&notebook).unwrap();
    write(
        root,
        "notebooks/report.py",
        &text.replace("deps=raw\"", "deps=rax\""),
    );
    set_modified(&notebook, before);
    let edited = check(root, &["--format", "json"]);
    assert_eq!(stats(&edited), Some((2, 1)));
    assert_eq!(
        result(&edited),
        result(&check(root, &["--format", "json", "--no-cache"]))
    );
    assert!(
        String::from_utf8_lossy(&edited.stdout).contains("no cell is named \\\"rax\\\""),
        "{}",
        String::from_utf8_lossy(&edited.stdout)
    );

    // And again with the mtime set an hour back, on the one-notebook check.
    let text = std::fs::read_to_string(&notebook).unwrap();
    write(
        root,
        "notebooks/report.py",
        &text.replace("deps=rax\"", "deps=raw\""),
    );
    set_modified(&notebook, before - Duration::from_secs(3600));
    let one = check(root, &["--format", "json", "notebooks/report.py"]);
    assert_eq!(
        result(&one),
        result(&check(
            root,
            &["--format", "json", "--no-cache", "notebooks/report.py"]
        ))
    );
    assert!(!String::from_utf8_lossy(&one.stdout).contains("rax"));
}

#[test]
fn an_edit_in_another_notebook_changes_the_graph_findings_of_a_cached_one() {
    let dir = project();
    let root = dir.path();
    let report = ["--format", "json", "notebooks/report.py"];
    let first = check(root, &report);
    assert!(!String::from_utf8_lossy(&first.stdout).contains("unknown-dep"));
    // `raw` is renamed in prep.py: report.py's `deps=raw` no longer resolves.
    let prep = std::fs::read_to_string(root.join("notebooks/prep.py")).unwrap();
    write(
        root,
        "notebooks/prep.py",
        &prep.replace("name=raw\"", "name=src\""),
    );
    let after = check(root, &report);
    // report.py comes from the cache; prep.py changed; paired.py, which the first check
    // never needed to read, is analysed now for its names (`unknown-dep` suggests one).
    assert_eq!(
        stats(&after),
        Some((1, 2)),
        "report.py is not analysed again"
    );
    assert!(String::from_utf8_lossy(&after.stdout).contains("unknown-dep"));
    assert_eq!(
        result(&after),
        result(&check(root, &[&report[..], &["--no-cache"]].concat()))
    );
}

#[test]
fn a_corrupt_cache_is_ignored_and_rewritten() {
    let dir = project();
    let root = dir.path();
    let expected = result(&check(root, &["--format", "json", "--no-cache"]));
    check(root, &["--format", "json"]);
    let good = std::fs::read(cache_file(root)).unwrap();
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0xff;
    for corrupt in [
        b"not a cache at all".to_vec(),
        good[..good.len() / 2].to_vec(),
        flipped,
        Vec::new(),
    ] {
        std::fs::write(cache_file(root), &corrupt).unwrap();
        let output = check(root, &["--format", "json"]);
        assert_eq!(result(&output), expected);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("error"), "{stderr}");
        assert_eq!(stats(&output), Some((0, 3)), "nothing trusted");
        let rewritten = std::fs::read(cache_file(root)).unwrap();
        assert!(rewritten.starts_with(b"JCLCHK02"), "rewritten");
        assert_eq!(stats(&check(root, &["--format", "json"])), Some((3, 0)));
    }
}

#[test]
fn a_config_change_starts_from_an_empty_cache() {
    let dir = project();
    let root = dir.path();
    let before = check(root, &["--format", "json"]);
    assert!(rules(&before).contains(&"enforce-declared-deps".to_string()));
    write(
        root,
        "jellycell.toml",
        &CONFIG.replace(
            "enforce_declared_deps = true",
            "enforce_declared_deps = false",
        ),
    );
    let after = check(root, &["--format", "json"]);
    assert_eq!(stats(&after), Some((0, 3)));
    assert!(!rules(&after).contains(&"enforce-declared-deps".to_string()));
    assert_eq!(
        result(&after),
        result(&check(root, &["--format", "json", "--no-cache"]))
    );
}

#[test]
fn fix_goes_through_the_cache_and_reports_what_remains() {
    let dir = project();
    let root = dir.path();
    check(root, &["--format", "json"]);
    let fixed = check(root, &["--format", "json", "--fix"]);
    let fixed_rules = rules(&fixed);
    assert!(!fixed_rules.contains(&"deps-no-comma".to_string()));
    assert!(!fixed_rules.contains(&"enforce-declared-deps".to_string()));
    let prep = std::fs::read_to_string(root.join("notebooks/prep.py")).unwrap();
    assert!(prep.contains(r#""deps=raw", "deps=clean""#), "{prep}");
    let report = std::fs::read_to_string(root.join("notebooks/report.py")).unwrap();
    assert!(report.contains("\"deps=raw\"]\nrows"), "{report}");
    // paired-out-of-sync is fixed by syncing: the missing .ipynb is written.
    assert!(!fixed_rules.contains(&"paired-out-of-sync".to_string()));
    assert!(root.join("notebooks/paired.ipynb").is_file());
    let uncached = result(&check(root, &["--format", "json", "--no-cache"]));
    let mut fixed_result = result(&fixed);
    // Only the summary's `fixed` count differs from a check after the fact.
    fixed_result.0 = fixed_result.0.replace("\"fixed\":3", "\"fixed\":0");
    assert_eq!(fixed_result, uncached);
    assert_eq!(result(&check(root, &["--format", "json"])), uncached);
}

#[test]
fn a_paired_notebook_is_checked_against_its_ipynb_on_every_run() {
    let dir = project();
    let root = dir.path();
    let args = ["--format", "json", "notebooks/paired.py"];
    let missing = check(root, &args);
    assert!(String::from_utf8_lossy(&missing.stdout).contains("does not exist"));
    Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
        .args(["export", "notebooks/paired.py", "--to", "ipynb"])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(root.join("notebooks/paired.ipynb").exists());
    let synced = check(root, &args);
    assert_eq!(stats(&synced).map(|(_, analysed)| analysed), Some(0));
    assert!(!rules(&synced).contains(&"paired-out-of-sync".to_string()));
    assert_eq!(
        result(&synced),
        result(&check(root, &[&args[..], &["--no-cache"]].concat()))
    );
}

/// (remembered, from the check, read again) from the environment hints' stats line.
fn hint_stats(output: &Output) -> Option<(usize, usize, usize)> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr
        .lines()
        .find_map(|line| line.strip_prefix("jellycell-lsp: environment hints: "))?;
    let (remembered, rest) = line.split_once(" names remembered, ")?;
    let (from_check, rest) = rest.split_once(" from the check, ")?;
    let read = rest.strip_suffix(" read")?;
    Some((
        remembered.parse().ok()?,
        from_check.parse().ok()?,
        read.parse().ok()?,
    ))
}

#[test]
fn the_hints_take_the_names_of_the_notebooks_the_check_analysed_instead_of_reading_them_again() {
    let dir = project();
    let root = dir.path();
    let cold = check(root, &["--format", "json"]);
    assert_eq!(hint_stats(&cold), Some((0, 3, 0)), "{cold:?}");
    let warm = check(root, &["--format", "json"]);
    assert_eq!(hint_stats(&warm), Some((3, 0, 0)), "{warm:?}");
    assert_eq!(result(&warm), result(&cold));
    write(
        root,
        "notebooks/report.py",
        "# %% tags=[\"jc.step\", \"name=report\"]\nimport json\nimport not_a_module_here\n",
    );
    let edited = check(root, &["--format", "json"]);
    assert_eq!(hint_stats(&edited), Some((2, 1, 0)), "{edited:?}");
    let uncached = check(root, &["--no-cache", "--format", "json"]);
    assert_eq!(hint_stats(&uncached), Some((0, 3, 0)), "{uncached:?}");
    assert_eq!(result(&uncached), result(&edited));
    // Only the checked notebook is reported, so only its names are wanted.
    let one = check(
        root,
        &["--no-cache", "--format", "json", "notebooks/report.py"],
    );
    assert_eq!(hint_stats(&one), Some((0, 1, 0)), "{one:?}");
}

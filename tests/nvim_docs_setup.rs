//! The Neovim set-up of `docs/editors.md`, run as the page writes it, in real headless
//! Neovim 0.11 (`support::nvim`): the page's Lua blocks are read from it and written where
//! a user puts them (`~/.config/nvim/init.lua`, `~/.config/nvim/lua/plugins/jellycell.lua`,
//! with `HOME` a temporary folder, this repository as `~/src/jellycell-lsp`, and the built
//! `jellycell-lsp` on `PATH`), then `tests/nvim/docs_setup.lua` opens a notebook and checks
//! that a diagnostic is drawn as virtual text and that completion opens by itself while
//! keys are typed.
//!
//! What is run and what is not: the init.lua blocks (the plugin on 'runtimepath' and its
//! `setup()`, the diagnostics and completion settings) run verbatim. lazy.nvim itself is
//! only on GitHub, which CI does not reach, so it is not run: the page's spec is loaded
//! verbatim and applied as lazy.nvim loads a start-up plugin (the clone's folder, here
//! `~/.local/share/nvim/lazy/jellycell-lsp`, on 'runtimepath', its `plugin/` scripts, then
//! the spec's `config(plugin, opts)`), with the settings block verbatim in init.lua; the
//! spec's repository is checked against `Cargo.toml`'s. The page's `sh` block that installs
//! Neovim from PyPI is what `.ci/run` runs (its version is checked here), not this test.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::nvim::{NVIM_PACKAGE, nvim};
use support::project::TestProject;
use support::repo_root;

/// A notebook with an unknown dependency (a diagnostic) and a cell named `raw` (what
/// `deps=` completes).
const NOTEBOOK: &str = "# %% tags=[\"jc.step\", \"name=raw\"]\nrows = [1, 2]\n\n\
# %% tags=[\"jc.step\", \"deps=nowhere\"]\ntotal = sum(rows)\n";

/// The page's Neovim section.
fn neovim_section() -> String {
    let page = std::fs::read_to_string(repo_root().join("docs/editors.md")).expect("read");
    let start = page.find("## Neovim (0.11+)").expect("a Neovim section");
    let rest = &page[start + 3..];
    let end = rest.find("\n## ").map_or(rest.len(), |end| end);
    page[start..start + 3 + end].to_string()
}

/// The fenced blocks of `language` in `section`, each without the fence's indent (a block
/// in a list item is indented).
fn blocks(section: &str, language: &str) -> Vec<String> {
    let fence = format!("```{language}");
    let mut found = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for line in section.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let closed = match &mut current {
            None => {
                if trimmed == fence {
                    current = Some((indent, String::new()));
                }
                false
            }
            Some(_) if trimmed == "```" => true,
            Some((fence_indent, block)) => {
                block.push_str(line.get(*fence_indent..).unwrap_or(trimmed));
                block.push('\n');
                false
            }
        };
        if closed && let Some((_, block)) = current.take() {
            found.push(block);
        }
    }
    found
}

/// The three Lua blocks: the plugin on 'runtimepath', the editor settings, the lazy spec.
struct Blocks {
    plugin: String,
    settings: String,
    lazy_spec: String,
}

fn lua_blocks() -> Blocks {
    let lua = blocks(&neovim_section(), "lua");
    assert_eq!(lua.len(), 3, "the Neovim section's Lua blocks: {lua:#?}");
    let pick = |needle: &str| {
        lua.iter()
            .find(|block| block.contains(needle))
            .unwrap_or_else(|| panic!("no Lua block with {needle:?}: {lua:#?}"))
            .clone()
    };
    Blocks {
        plugin: pick("require('jellycell').setup"),
        settings: pick("vim.lsp.completion.enable"),
        lazy_spec: pick("return {"),
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn link(target: &Path, at: &Path) {
    std::fs::create_dir_all(at.parent().expect("a parent")).expect("mkdir");
    std::os::unix::fs::symlink(target, at).expect("symlink");
}

/// Runs `tests/nvim/docs_setup.lua` with `home/.config/nvim/init.lua` in `project`, and
/// returns its stdout; fails the test when it fails.
fn run_setup(home: &Path, project: &TestProject, lazy: Option<(&Path, &Path)>) -> String {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_jellycell-lsp"));
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::iter::once(bin.parent().expect("bin dir").to_path_buf())
        .chain(std::env::split_paths(&path));
    let mut command = Command::new(nvim());
    command
        .arg("--headless")
        .arg("-u")
        .arg(home.join(".config/nvim/init.lua"))
        .arg("-c")
        .arg(format!(
            "luafile {}",
            repo_root().join("tests/nvim/docs_setup.lua").display()
        ))
        .current_dir(project.root())
        .stdin(std::process::Stdio::null())
        .env("HOME", home)
        .env("PATH", std::env::join_paths(dirs).expect("PATH"))
        .env("DOCS_NOTEBOOK", project.path("notebooks/a.py"))
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_STATE_HOME")
        .env_remove("VIRTUAL_ENV");
    if let Some((spec, plugin_dir)) = lazy {
        command
            .env("DOCS_LAZY_SPEC", spec)
            .env("DOCS_PLUGIN_DIR", plugin_dir);
    }
    let output = command.output().expect("run nvim");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "nvim failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn assert_the_setup_works(stdout: &str) {
    assert!(stdout.contains("attached jellycell"), "{stdout}");
    assert!(
        stdout.contains("virtual_text unknown-dep: no cell is named \"nowhere\""),
        "{stdout}"
    );
    let completion = stdout
        .lines()
        .find_map(|line| line.strip_prefix("completion "))
        .unwrap_or_else(|| panic!("no completion: {stdout}"));
    assert!(completion.contains("raw"), "{stdout}");
}

#[test]
fn the_documented_init_lua_shows_diagnostics_as_virtual_text_and_completes_as_you_type() {
    let blocks = lua_blocks();
    let home = tempfile::tempdir().expect("home");
    link(repo_root(), &home.path().join("src/jellycell-lsp"));
    write(
        &home.path().join(".config/nvim/init.lua"),
        &format!("{}\n{}", blocks.plugin, blocks.settings),
    );
    let project = TestProject::new(&[("notebooks/a.py", NOTEBOOK)]);
    assert_the_setup_works(&run_setup(home.path(), &project, None));
}

#[test]
fn the_documented_lazy_spec_loads_the_plugin_from_the_repository() {
    let blocks = lua_blocks();
    let manifest = std::fs::read_to_string(repo_root().join("Cargo.toml")).expect("Cargo.toml");
    let repository = manifest
        .lines()
        .find_map(|line| line.strip_prefix("repository = "))
        .and_then(|url| url.trim_matches('"').strip_prefix("https://github.com/"))
        .expect("a GitHub repository in Cargo.toml");
    assert!(
        blocks.lazy_spec.contains(&format!("'{repository}'")),
        "the spec names {repository}: {}",
        blocks.lazy_spec
    );
    let home = tempfile::tempdir().expect("home");
    let name = repository.rsplit('/').next().expect("a name");
    // Where lazy.nvim clones a plugin: stdpath('data')/lazy/<name>.
    let plugin_dir = home.path().join(".local/share/nvim/lazy").join(name);
    link(repo_root(), &plugin_dir);
    let spec = home.path().join(".config/nvim/lua/plugins/jellycell.lua");
    write(&spec, &blocks.lazy_spec);
    write(&home.path().join(".config/nvim/init.lua"), &blocks.settings);
    let project = TestProject::new(&[("notebooks/a.py", NOTEBOOK)]);
    let stdout = run_setup(home.path(), &project, Some((&spec, &plugin_dir)));
    assert!(
        stdout.contains(&format!("lazy spec applied: {name}")),
        "{stdout}"
    );
    assert_the_setup_works(&stdout);
}

#[test]
fn the_documented_pypi_neovim_is_the_one_ci_installs() {
    let section = neovim_section();
    let ci = std::fs::read_to_string(repo_root().join(".ci/run")).expect(".ci/run");
    assert!(
        section.contains(&format!("pip install {NVIM_PACKAGE}")),
        "{NVIM_PACKAGE} in docs/editors.md"
    );
    assert!(ci.contains(NVIM_PACKAGE), "{NVIM_PACKAGE} in .ci/run");
    let sh = blocks(&section, "sh");
    assert!(
        sh.iter().any(|block| block.contains(NVIM_PACKAGE)),
        "{sh:#?}"
    );
}

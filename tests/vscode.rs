//! A real VS Code: code-server 4.100.3 (VS Code 1.100.3, from npm) with our extension's
//! `.vsix` and the built `jellycell-lsp`, on a copy of `fixtures/editors`, driven in
//! Debian's headless Chromium by playwright-core (`editors/vscode/test/drive.js`) the way a
//! user would. The notebook's diagnostics reach the Problems panel, the status lens says
//! `○ not run`, clicking `▶ Run` executes the cell in a real ipykernel, the lens turns
//! `✓ cached`, hovering the cell shows what it printed, and the palette's *Jellycell: Run
//! Cell* runs the cell under the cursor; *Restart Kernel* puts the kernel status bar
//! back to "no kernel". A second drive starts with `jellycell.server.path` pointing nowhere:
//! the error names the fix, and applying it in the settings starts the server. A third
//! installs the platform `.vsix` with the server inside (`package-bundled.sh linux-x64`),
//! with no `jellycell.server.path` and no `jellycell-lsp` on PATH, and runs a cell with
//! the bundled server. Screenshots land in `target/vscode-*.png`.
//!
//! Provisioning (each step skipped when already done; `.ci/run` does them beforehand):
//! code-server into `target/code-server` (`editors/vscode/test/install-code-server.sh`,
//! ~90 s, npm + a few Debian build packages), the extension's npm dependencies
//! (`npm ci` in `editors/vscode`), playwright-core into `target/vscode-driver`, and
//! Debian's `chromium`. Node 20 and npm must be on PATH.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;
use support::editors::{GroupChild, apt_install, editors_project, manifests, target_dir};
use support::python::python_bin_dir;
use support::repo_root;

const CODE_SERVER_VERSION: &str = "4.100.3";
const CHROMIUM: &str = "/usr/bin/chromium";

fn run(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("{what}: cannot start ({error})"));
    assert!(
        output.status.success(),
        "{what} failed:\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn node_is_20_or_newer() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .and_then(|output| {
            let version = String::from_utf8_lossy(&output.stdout).to_string();
            version
                .trim()
                .trim_start_matches('v')
                .split('.')
                .next()
                .and_then(|major| major.parse::<u32>().ok())
        })
        .is_some_and(|major| major >= 20)
}

fn code_server() -> PathBuf {
    if let Ok(explicit) = std::env::var("JELLYCELL_TEST_CODE_SERVER") {
        return PathBuf::from(explicit);
    }
    let prefix = target_dir().join("code-server");
    let binary = prefix.join("node_modules/.bin/code-server");
    let ready = Command::new(&binary)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.stdout.starts_with(CODE_SERVER_VERSION.as_bytes()));
    if !ready {
        run(
            Command::new("bash")
                .arg(repo_root().join("editors/vscode/test/install-code-server.sh"))
                .arg(&prefix),
            "editors/vscode/test/install-code-server.sh",
        );
    }
    binary
}

/// `npm ci` (when needed) and `vsce package` of `editors/vscode`: the `.vsix` of the
/// extension as it is in the tree now.
fn package_extension() -> PathBuf {
    let extension = repo_root().join("editors/vscode");
    if !extension
        .join("node_modules/vscode-languageclient")
        .is_dir()
        || !extension.join("node_modules/@vscode/vsce").is_dir()
        || !extension.join("node_modules/esbuild").is_dir()
    {
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&extension),
            "npm ci in editors/vscode",
        );
    }
    let vsix = target_dir().join("vscode/jellycell-lsp.vsix");
    std::fs::create_dir_all(vsix.parent().unwrap_or(Path::new("."))).expect("mkdir");
    let _ = std::fs::remove_file(&vsix);
    run(
        Command::new("npx")
            .args([
                "--no-install",
                "vsce",
                "package",
                "--no-dependencies",
                "--out",
            ])
            .arg(&vsix)
            .current_dir(&extension),
        "vsce package",
    );
    vsix
}

/// The platform `.vsix` of `editors/vscode` for linux-x64 with the test's `jellycell-lsp`
/// inside (`package-bundled.sh`), its debug info stripped to keep the package small.
fn package_bundled_extension() -> PathBuf {
    package_extension(); // npm ci when needed
    let scratch = tempfile::tempdir().expect("temp dir");
    let binary = scratch.path().join("jellycell-lsp");
    run(
        Command::new("strip")
            .args(["--strip-debug", "-o"])
            .arg(&binary)
            .arg(env!("CARGO_BIN_EXE_jellycell-lsp")),
        "strip a copy of jellycell-lsp",
    );
    let vsix = target_dir().join("vscode/jellycell-lsp-linux-x64.vsix");
    let _ = std::fs::remove_file(&vsix);
    run(
        Command::new("sh")
            .arg(repo_root().join("editors/vscode/package-bundled.sh"))
            .arg("linux-x64")
            .arg(&binary)
            .arg(&vsix),
        "package-bundled.sh linux-x64",
    );
    vsix
}

/// The `node_modules` holding playwright-core (`editors/vscode/test/package-lock.json`).
fn playwright() -> PathBuf {
    let source = repo_root().join("editors/vscode/test");
    let dir = target_dir().join("vscode-driver");
    let lock = std::fs::read(source.join("package-lock.json")).expect("the driver's lock file");
    let up_to_date = std::fs::read(dir.join("package-lock.json")).is_ok_and(|old| old == lock)
        && dir.join("node_modules/playwright-core").is_dir();
    if !up_to_date {
        std::fs::create_dir_all(&dir).expect("mkdir");
        for file in ["package.json", "package-lock.json"] {
            std::fs::copy(source.join(file), dir.join(file)).expect("copy the driver's manifest");
        }
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir),
            "npm ci of playwright-core",
        );
    }
    dir.join("node_modules")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

fn texts(seen: &Value, key: &str) -> Vec<String> {
    seen[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|text| text.as_str().map(str::to_string))
        .collect()
}

/// What every drive needs, provisioned once per test binary.
struct Tools {
    code_server: PathBuf,
    vsix: PathBuf,
    node_modules: PathBuf,
}

/// Which server the extension is to start.
enum Server<'a> {
    /// `jellycell.server.path` set to this path, in the plain `.vsix`.
    Setting(&'a Path),
    /// The platform `.vsix` with the server inside, and no setting.
    Bundled,
}

fn tools() -> &'static Tools {
    static TOOLS: OnceLock<Tools> = OnceLock::new();
    TOOLS.get_or_init(|| {
        assert!(
            node_is_20_or_newer(),
            "node 20 or newer and npm must be on PATH (code-server {CODE_SERVER_VERSION} needs \
             Node 20), e.g. from https://deb.nodesource.com"
        );
        apt_install(&["chromium"]);
        Tools {
            code_server: code_server(),
            vsix: package_extension(),
            node_modules: playwright(),
        }
    })
}

/// Starts code-server with the extension and `server` on `root`, runs `drive.js SCENARIO`,
/// stops code-server, and returns what the driver saw (with `bundled`: whether the installed
/// extension holds the server). No folder with a `jellycell-lsp` is on the PATH it runs
/// with. Screenshots are copied to `target/` under their names. One drive at a time: each is
/// a whole VS Code plus a browser, on a 2-core machine.
fn drive(scenario: &str, server: Server, root: &Path, notebook: &str, shots: &[&str]) -> Value {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let tools = tools();
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let python_bin = python_bin_dir();
    for shot in shots {
        let _ = std::fs::remove_file(target_dir().join(shot));
    }
    let scratch = tempfile::tempdir().expect("temp dir");
    let state = scratch.path();
    for dir in ["user/User", "extensions", "config", "data", "out"] {
        std::fs::create_dir_all(state.join(dir)).expect("mkdir");
    }
    let code_server_command = |extra: &[&str]| {
        let mut command = Command::new(&tools.code_server);
        command
            .arg("--user-data-dir")
            .arg(state.join("user"))
            .arg("--extensions-dir")
            .arg(state.join("extensions"))
            .args(extra)
            // code-server writes its config.yaml there; keep the user's home untouched.
            .env("XDG_CONFIG_HOME", state.join("config"))
            .env("XDG_DATA_HOME", state.join("data"));
        command
    };
    let vsix = match server {
        Server::Setting(_) => tools.vsix.clone(),
        Server::Bundled => {
            static BUNDLED: OnceLock<PathBuf> = OnceLock::new();
            BUNDLED.get_or_init(package_bundled_extension).clone()
        }
    };
    run(
        code_server_command(&["--install-extension"]).arg(&vsix),
        "code-server --install-extension",
    );
    let installed_server = std::fs::read_dir(state.join("extensions"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| entry.path().join("server/jellycell-lsp").is_file());
    let mut settings = serde_json::json!({
        "workbench.startupEditor": "none",
        "security.workspace.trust.enabled": false,
        "telemetry.telemetryLevel": "off",
        "update.mode": "none",
        "extensions.autoCheckUpdates": false,
        "extensions.autoUpdate": false,
        "extensions.ignoreRecommendations": true,
        "workbench.tips.enabled": false,
        "editor.hover.delay": 200,
        // Below the line, so the screenshot shows the cell's lens and its hover together.
        "editor.hover.above": false,
    });
    if let Server::Setting(server_path) = server {
        settings["jellycell.server.path"] = serde_json::json!(server_path);
    }
    std::fs::write(
        state.join("user/User/settings.json"),
        serde_json::to_string_pretty(&settings).expect("json"),
    )
    .expect("write settings.json");

    // The server that the extension starts inherits this environment: the test venv's
    // python3 (with ipykernel and its kernelspec) comes first on PATH.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![python_bin.clone()];
    dirs.extend(std::env::split_paths(&path).filter(|dir| !dir.join("jellycell-lsp").exists()));
    let port = free_port();
    let out = state.join("out");
    let log = std::fs::File::create(out.join("code-server.log")).expect("log file");
    let mut serve = code_server_command(&[
        "--auth",
        "none",
        "--bind-addr",
        &format!("127.0.0.1:{port}"),
        "--disable-telemetry",
        "--disable-update-check",
        "--disable-workspace-trust",
        "--disable-getting-started-override",
    ]);
    serve
        .arg(root)
        .env("PATH", std::env::join_paths(dirs).expect("PATH"))
        .env("VIRTUAL_ENV", python_bin.parent().unwrap_or(&python_bin))
        .env_remove("JUPYTER_PATH")
        .env_remove("PYTHONPATH")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log);
    let server = GroupChild::spawn(serve).expect("start code-server");

    let driven = Command::new("node")
        .arg(repo_root().join("editors/vscode/test/drive.js"))
        .arg(format!(
            "http://127.0.0.1:{port}/?folder={}",
            root.display()
        ))
        .arg(notebook)
        .arg(&out)
        .arg(scenario)
        .env("NODE_PATH", &tools.node_modules)
        .env("JELLYCELL_TEST_CHROMIUM", CHROMIUM)
        .env("JELLYCELL_TEST_SERVER", env!("CARGO_BIN_EXE_jellycell-lsp"))
        .output()
        .expect("run the playwright driver");
    drop(server);
    for shot in shots.iter().chain(&["vscode-failure.png"]) {
        let _ = std::fs::copy(out.join(shot), target_dir().join(shot));
    }
    let stdout = String::from_utf8_lossy(&driven.stdout);
    let report = format!(
        "driver stdout:\n{stdout}\ndriver stderr:\n{}\ncode-server log:\n{}",
        String::from_utf8_lossy(&driven.stderr),
        std::fs::read_to_string(out.join("code-server.log")).unwrap_or_default()
    );
    let mut seen: Value = stdout
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| panic!("the driver printed no JSON\n{report}"));
    assert!(
        seen.get("error").is_none(),
        "the driver stopped (screenshot: target/vscode-failure.png)\n{report}"
    );
    seen["bundled"] = Value::Bool(installed_server);
    seen
}

#[test]
fn vscode_shows_diagnostics_lenses_runs_a_cell_and_hovers_its_output() {
    let (_project, root) = editors_project();
    let seen = drive(
        "run",
        Server::Setting(Path::new(env!("CARGO_BIN_EXE_jellycell-lsp"))),
        &root,
        "analysis.py",
        &["vscode-screenshot.png", "vscode-lenses.png"],
    );
    let problems = texts(&seen, "problems").join("\n");
    assert!(
        problems.contains("unknown-dep") && problems.contains("did you mean \"hello\""),
        "the Problems panel lists the unknown dependency: {problems}"
    );
    let before = texts(&seen, "lensesBefore");
    assert!(
        before
            .first()
            .is_some_and(|lens| lens.contains("○ not run")),
        "the first cell's lens says not run: {before:?}"
    );
    assert!(
        before.first().is_some_and(|lens| lens.contains("▶ Run")),
        "{before:?}"
    );
    let status = texts(&seen, "statusBarBefore");
    assert!(
        status.iter().any(|text| text.contains("kernel")),
        "the status bar shows the kernel state: {status:?}"
    );
    let after = texts(&seen, "lensesAfter");
    assert!(
        after.first().is_some_and(|lens| lens.contains("✓ cached")),
        "after ▶ Run the lens says cached: {after:?}"
    );
    let status_after = texts(&seen, "statusBarAfter");
    assert!(
        status_after.iter().any(|text| text.contains("kernel idle")),
        "after the run the status bar says the kernel is idle: {status_after:?}"
    );
    let hover = seen["hover"].as_str().unwrap_or_default();
    assert!(
        hover.contains("hello from the kernel"),
        "hovering the cell shows its printed output: {hover:?}"
    );
    assert!(
        seen["paletteEntry"]
            .as_str()
            .is_some_and(|entry| entry.contains("Jellycell: Run Cell")),
        "{seen}"
    );
    let after_palette = texts(&seen, "lensesAfterPalette");
    assert!(
        after_palette
            .get(1)
            .is_some_and(|lens| lens.contains("✓ cached")),
        "the palette's Run Cell ran the cell under the cursor: {after_palette:?}"
    );
    assert!(
        seen["restartEntry"]
            .as_str()
            .is_some_and(|entry| entry.contains("Jellycell: Restart Kernel"))
            && texts(&seen, "statusBarRestarted")
                .iter()
                .any(|text| text.contains("no kernel")),
        "Restart Kernel from the palette: {seen}"
    );
    assert!(
        manifests(&root).len() >= 2,
        "two manifests in the project's cache"
    );
    let screenshot = std::fs::read(target_dir().join("vscode-screenshot.png")).expect("screenshot");
    assert!(screenshot.starts_with(b"\x89PNG") && screenshot.len() > 10_000);
}

#[test]
fn vscode_says_how_to_fix_a_missing_server_and_starts_once_fixed() {
    let (_project, root) = editors_project();
    let missing = root.join("no-such-dir/jellycell-lsp");
    let seen = drive(
        "missing-server",
        Server::Setting(&missing),
        &root,
        "analysis.py",
        &["vscode-missing-server.png"],
    );
    let notification = seen["notification"].as_str().unwrap_or_default();
    assert!(
        notification.contains("cannot start the language server")
            && notification.contains("does not exist or is not executable")
            && notification.contains("uv tool install jellycell-lsp")
            && notification.contains("jellycell.server.path"),
        "the error names the setting and the fix: {notification:?}"
    );
    let status = texts(&seen, "statusBar");
    assert!(
        status
            .iter()
            .any(|text| text.contains("jellycell-lsp not found")),
        "{status:?}"
    );
    // Setting `jellycell.server.path` to the binary starts the server: diagnostics arrive
    // and the status bar shows the kernel state instead.
    let fixed = texts(&seen, "statusBarFixed");
    assert!(
        fixed.iter().any(|text| text.contains("no kernel")),
        "{fixed:?}"
    );
}

#[test]
fn vscode_runs_a_cell_with_the_server_bundled_in_the_vsix_and_none_on_path() {
    let (_project, root) = editors_project();
    let seen = drive("bundled", Server::Bundled, &root, "analysis.py", &[]);
    assert_eq!(
        seen["bundled"],
        Value::Bool(true),
        "the installed extension holds server/jellycell-lsp: {seen}"
    );
    let after = texts(&seen, "lensesAfter");
    assert!(
        after.first().is_some_and(|lens| lens.contains("✓ cached")),
        "▶ Run ran the cell with the bundled server: {after:?}"
    );
}

/// A notebook with a printed line, a picture and an error, run by the CLI before VS Code
/// opens it: its outputs come from the cache, as in a new session.
const OUTPUTS_NOTEBOOK: &str = r#"# %% tags=["jc.step", "name=greet"]
greeting = "hello, outputs"
print(greeting)

# %% tags=["jc.step", "name=picture"]
import struct, zlib
from IPython.display import Image, display
w, h = 240, 120
raw = b"".join(b"\x00" + bytes(v for x in range(w) for v in (x, 120 + y, 255 - x)) for y in range(h))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
display(Image(data=png))

# %% tags=["jc.step", "name=broken", "deps=greet"]
print(undefined_name)
"#;

#[test]
fn vscode_shows_each_cells_output_after_it_and_in_the_outputs_view() {
    let project = support::project::TestProject::new(&[("notebooks/outputs.py", OUTPUTS_NOTEBOOK)]);
    let (code, report) = project.run("notebooks/outputs.py", &["--keep-going"]);
    assert_eq!(code, 1, "the broken cell fails: {report}");
    let seen = drive(
        "outputs",
        Server::Setting(Path::new(env!("CARGO_BIN_EXE_jellycell-lsp"))),
        project.root(),
        "outputs.py",
        &["vscode-inline-outputs.png", "vscode-outputs-view.png"],
    );
    let inline = texts(&seen, "inline");
    assert_eq!(
        inline,
        [
            "→ hello, outputs",
            "→ 🖼 figure",
            "→ ✗ NameError: name 'undefined_name' is not defined"
        ],
        "{seen}"
    );
    let view = seen["viewText"].as_str().unwrap_or_default();
    assert!(
        view.contains("picture") && view.contains("cached"),
        "{seen}"
    );
    assert_eq!(seen["viewImages"], 1, "the picture is in the view: {seen}");
    let followed = seen["followedText"].as_str().unwrap_or_default();
    assert!(
        followed.contains("greet") && followed.contains("hello, outputs"),
        "{seen}"
    );
    for shot in ["vscode-inline-outputs.png", "vscode-outputs-view.png"] {
        let bytes = std::fs::read(target_dir().join(shot)).expect("screenshot");
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
            "{shot}"
        );
    }
}

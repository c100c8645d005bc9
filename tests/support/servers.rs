//! Real Jupyter servers on 127.0.0.1 for the remote-kernel tests, from the PyPI packages in
//! the test venv: Jupyter Server (v1 websocket framing, or forced to the legacy framing),
//! Kernel Gateway, and a JupyterHub user's server reached through the hub's proxy (the
//! PyPI `configurable-http-proxy`, which strips websocket subprotocols) with a hub service
//! token. Ports are picked free at runtime; readiness is polled with generous bounds; the
//! whole process group is killed on drop.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::python::python_bin_dir;

/// Which engine to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    JupyterServer,
    /// Jupyter Server with `kernel_ws_protocol=''`: it selects no subprotocol.
    JupyterServerLegacy,
    KernelGateway,
    /// A JupyterHub user's server, through the hub's proxy.
    Hub,
}

/// A running server: its base URL and token.
pub struct Server {
    pub engine: Engine,
    pub port: u16,
    pub url: String,
    pub token: String,
    child: Option<Child>,
    /// Config, database, runtime files and the log.
    state: tempfile::TempDir,
}

/// How long a server may take to answer (a loaded 2-core machine; the hub's user server
/// alone took 7.6 s on an idle one).
const READY_WITHIN: Duration = Duration::from_secs(120);

impl Server {
    /// Starts `engine` serving kernels whose working directory is `root`, with
    /// `pythonpath` importable in them.
    pub fn start(engine: Engine, root: &Path, pythonpath: Option<&Path>) -> Server {
        Server::start_on(engine, root, pythonpath, free_port())
    }

    /// [`Server::start`] on `port` (to bring a server back where a client expects it).
    pub fn start_on(engine: Engine, root: &Path, pythonpath: Option<&Path>, port: u16) -> Server {
        Server::start_with(engine, root, pythonpath, port, &[])
    }

    /// [`Server::start_on`] with extra command-line options for the server.
    pub fn start_with(
        engine: Engine,
        root: &Path,
        pythonpath: Option<&Path>,
        port: u16,
        extra: &[&str],
    ) -> Server {
        let state = tempfile::tempdir().expect("temp dir");
        let token = format!("test-token-{}", std::process::id());
        let log = state.path().join("server.log");
        let mut command = match engine {
            Engine::JupyterServer | Engine::JupyterServerLegacy => {
                let mut command = jupyter(&["server"]);
                command.args([
                    "--no-browser",
                    "--allow-root",
                    "--ip=127.0.0.1",
                    &format!("--port={port}"),
                    &format!("--IdentityProvider.token={token}"),
                    &format!("--ServerApp.root_dir={}", root.display()),
                ]);
                if engine == Engine::JupyterServerLegacy {
                    command.arg("--ZMQChannelsWebsocketConnection.kernel_ws_protocol=");
                }
                command
            }
            Engine::KernelGateway => {
                let mut command = jupyter(&["kernelgateway"]);
                command.args([
                    "--KernelGatewayApp.ip=127.0.0.1",
                    &format!("--KernelGatewayApp.port={port}"),
                    &format!("--KernelGatewayApp.auth_token={token}"),
                ]);
                command
            }
            Engine::Hub => {
                let config = hub_config(state.path(), root, port, &token);
                let mut command = Command::new(python_bin_dir().join("jupyterhub"));
                command.arg("-f").arg(config);
                command
            }
        };
        command.args(extra);
        let logfile = std::fs::File::create(&log).expect("server log");
        command
            .current_dir(root)
            .env("PATH", venv_path())
            .env("JUPYTER_DATA_DIR", state.path().join("data"))
            .env("JUPYTER_CONFIG_DIR", state.path().join("config"))
            .env("JUPYTER_RUNTIME_DIR", state.path().join("runtime"))
            .env_remove("JUPYTER_PATH")
            .env_remove("JUPYTER_TOKEN")
            .env("PYTHONPATH", pythonpath.unwrap_or(Path::new("")))
            .stdin(Stdio::null())
            .stdout(logfile.try_clone().expect("log handle"))
            .stderr(logfile)
            .process_group(0);
        let child = command.spawn().expect("the server starts");
        let mut server = Server {
            engine,
            port,
            url: format!("http://127.0.0.1:{port}/"),
            token,
            child: Some(child),
            state,
        };
        server.wait_until_ready();
        server
    }

    /// The server's log so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.state.path().join("server.log")).unwrap_or_default()
    }

    /// Kills the server's whole process group now and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill")
                .args(["-KILL", "--", &group])
                .stderr(Stdio::null())
                .status();
            let _ = child.wait();
        }
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + READY_WITHIN;
        let api = if self.engine == Engine::Hub {
            format!("{}hub/api/", self.url)
        } else {
            format!("{}api", self.url)
        };
        let token = self.token.clone();
        while http("GET", &api, Some(&token), None).is_none_or(|(status, _)| status != 200) {
            self.assert_running(deadline);
            std::thread::sleep(Duration::from_millis(200));
        }
        if self.engine != Engine::Hub {
            return;
        }
        // Start alice's server and wait until the hub says it is ready.
        let hub = self.url.clone();
        let users = format!("{hub}hub/api/users/alice");
        let started = http("POST", &format!("{users}/server"), Some(&token), Some("{}"));
        assert!(
            started
                .as_ref()
                .is_some_and(|(status, _)| *status == 201 || *status == 202),
            "POST {users}/server: {started:?}\n{}",
            self.log()
        );
        loop {
            let ready = http("GET", &users, Some(&token), None)
                .and_then(|(_, body)| serde_json::from_str::<serde_json::Value>(&body).ok())
                .is_some_and(|user| user["servers"][""]["ready"] == true);
            if ready {
                break;
            }
            self.assert_running(deadline);
            std::thread::sleep(Duration::from_millis(300));
        }
        self.url = format!("{hub}user/alice/");
    }

    fn assert_running(&mut self, deadline: Instant) {
        let exited = self
            .child
            .as_mut()
            .and_then(|child| child.try_wait().ok().flatten());
        assert!(
            exited.is_none(),
            "{:?} exited ({exited:?}):\n{}",
            self.engine,
            self.log()
        );
        assert!(
            Instant::now() < deadline,
            "{:?} not ready within {READY_WITHIN:?}:\n{}",
            self.engine,
            self.log()
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_ref() {
            // The hub stops its users' servers on SIGTERM; give it a moment, then kill.
            let group = format!("-{}", child.id());
            let _ = Command::new("kill")
                .args(["-TERM", "--", &group])
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                let exited = self
                    .child
                    .as_mut()
                    .and_then(|child| child.try_wait().ok().flatten());
                if exited.is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        self.kill();
    }
}

fn jupyter(args: &[&str]) -> Command {
    let mut command = Command::new(python_bin_dir().join("jupyter"));
    command.args(args);
    command
}

/// PATH with the venv's `bin/` first: the stock kernelspec's argv is the bare `python`.
fn venv_path() -> std::ffi::OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![python_bin_dir()];
    dirs.extend(std::env::split_paths(&path));
    std::env::join_paths(dirs).unwrap_or(path)
}

fn hub_config(state: &Path, root: &Path, port: u16, token: &str) -> PathBuf {
    let hub_port = free_port();
    let proxy_port = free_port();
    let config = state.join("jupyterhub_config.py");
    let text = format!(
        r#"c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_port}"
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.spawner_class = "simple"
c.Authenticator.allowed_users = {{"alice"}}
c.Spawner.args = ["--allow-root"]
c.Spawner.notebook_dir = {root:?}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.JupyterHub.db_url = "sqlite:///{db}"
c.JupyterHub.cookie_secret_file = "{secret}"
c.JupyterHub.services = [{{"name": "jc-test", "api_token": "{token}"}}]
c.JupyterHub.load_roles = [{{"name": "jc-test-role", "services": ["jc-test"],
    "scopes": ["admin:users", "admin:servers", "access:servers", "tokens"]}}]
"#,
        root = root.display().to_string(),
        db = state.join("jupyterhub.sqlite").display(),
        secret = state.join("jupyterhub_cookie_secret").display(),
    );
    std::fs::write(&config, text).expect("write hub config");
    config
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// A plain HTTP/1.1 request (`Authorization: token` when given); `None` when nothing
/// answers. For readiness polls and REST checks in tests.
pub fn http(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Option<(u16, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = TcpStream::connect(authority).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let body = body.unwrap_or("");
    let auth = token
        .map(|token| format!("Authorization: token {token}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: {authority}\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    Some((status, body))
}

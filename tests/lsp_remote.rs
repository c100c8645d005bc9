//! The editor's runs on a kernel on a real Jupyter Server (tests/support/servers.rs), over
//! the real binary's stdio: `initializationOptions.server`, `jellycell/kernelStatus` with
//! `location: "remote: <host>"`, a cell run and cached, interrupt through the server, a
//! server that goes away reported as a dead kernel with a warning (the language server
//! lives on), and the next run starting a new kernel once the server is back.

mod support;

use serde_json::{Value, json};
use support::lsp::{LspClient, project};
use support::project::configure_kernel_env;
use support::servers::{Engine, Server};

const NOTEBOOK: &str = "# %% tags=[\"jc.step\", \"name=hello\"]\nprint(\"hello\")\n\n\
# %% tags=[\"jc.step\", \"name=slow\"]\nimport time\ntime.sleep(120)\n";

fn command(client: &mut LspClient, uri: &str, command: &str, cell: usize) -> Value {
    client.call(
        "workspace/executeCommand",
        json!({"command": command, "arguments": [{"uri": uri, "cell": cell}]}),
    )
}

#[test]
fn runs_interrupts_and_a_lost_server_through_initialization_options_server() {
    let dir = project("//- jellycell.toml\n[project]\nname = \"p\"\n");
    let mut server = Server::start(Engine::JupyterServer, dir.path(), None);
    let location = format!("remote: 127.0.0.1:{}", server.port);
    let token = server.token.clone();
    let mut client = LspClient::spawn_with(|command| {
        configure_kernel_env(command);
        command.env("JUPYTER_TOKEN", &token);
    });
    client.initialize_with_options(
        dir.path(),
        json!({"window": {"workDoneProgress": true}}),
        json!({"kernelStatus": true, "server": server.url}),
    );
    let uri = client.open(&dir.path().join("notebooks/nb.py"), "python", NOTEBOOK);
    let status_is = |state: &'static str, location: &str| {
        let uri = uri.clone();
        let location = location.to_string();
        move |params: &Value| {
            params["uri"] == uri.as_str()
                && params["state"] == state
                && params["location"] == location.as_str()
        }
    };

    assert_eq!(
        command(&mut client, &uri, "jellycell.runCell", 0),
        json!({"queued": true})
    );
    client.wait_for("jellycell/kernelStatus", status_is("busy", &location));
    client.wait_for("jellycell/kernelStatus", status_is("idle", &location));
    let lenses = client.call(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    assert!(lenses.to_string().contains("cached"), "{lenses}");

    // Interrupt goes to the server; the kernel stays.
    command(&mut client, &uri, "jellycell.runCell", 1);
    client.wait_for("jellycell/kernelStatus", status_is("busy", &location));
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        command(&mut client, &uri, "jellycell.interrupt", 1),
        json!({"interrupted": true})
    );
    client.wait_for("jellycell/kernelStatus", status_is("idle", &location));

    // The server goes away while the kernel is idle: reported as dead, with a warning.
    let port = server.port;
    server.kill();
    client.wait_for("jellycell/kernelStatus", status_is("dead", &location));
    let warning = client.wait_for("window/showMessage", |params| {
        params["message"]
            .as_str()
            .is_some_and(|text| text.contains("lost the connection to the Jupyter server"))
    });
    assert_eq!(warning["type"], 2, "{warning}");
    assert!(client.is_running(), "the language server lives on");

    // Back on the same port (a new token is the same: it is derived from our pid): the
    // next run starts a new kernel there.
    let server = Server::start_on(Engine::JupyterServer, dir.path(), None, port);
    assert_eq!(server.token, token);
    command(&mut client, &uri, "jellycell.runCell", 0);
    let started_uri = uri.clone();
    client.wait_for("jellycell/kernelStatus", move |params| {
        params["uri"] == started_uri.as_str() && params["state"] == "starting"
    });
    client.wait_for("jellycell/kernelStatus", status_is("idle", &location));
    assert_eq!(client.shutdown(), Some(0));
}

//! Starting a kernel: ports, the connection file, spawning the process, and waiting until
//! it is ready, reporting promptly if it dies first.
//!
//! The connection file lives in a fresh private directory (0700) and is written with mode
//! 0600 and a random HMAC key; it is removed when the kernel is dropped. The kernel listens
//! on loopback TCP ports, or (opt-in) on IPC sockets inside that private directory. Readiness is
//! jupyter_client's rule: send `kernel_info_request` until the reply *and* an iopub message
//! for it arrive (an `iopub_welcome` alone is not enough: ipykernel < 7 never sends one and
//! ipykernel 7 sends it only to the first subscriber). Every wait is raced against the
//! process exiting, because zmq.rs `connect` otherwise waits out its 30 s connect timeout
//! for a kernel that is already dead.

use std::collections::HashSet;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use jupyter_protocol::KernelInfoRequest;
use jupyter_protocol::connection_info::Transport;
use jupyter_zmq_client::ConnectionInfo;
use serde_json::Value;
use tokio::time::{Instant, timeout};

use super::cleanup::Registration;
use super::client::{Channel, Client};
use super::process::KernelProcess;
use super::{KernelError, KernelOptions, KernelSpec, KernelTransport};

/// How long one `kernel_info_request` may go unanswered before it is sent again.
const READY_ATTEMPT: Duration = Duration::from_secs(1);

/// A private directory (0700) holding the connection file and, for IPC, the kernel's
/// sockets; removed with everything in it on drop.
pub(crate) struct ConnectionFile {
    dir: PathBuf,
    path: PathBuf,
    /// Removes the directory at exit even when `Drop` never runs (a signal).
    _at_exit: Registration,
}

impl ConnectionFile {
    /// Creates a new private directory under `parent`; the file is written by [`Self::write`].
    pub(crate) fn create(parent: &Path) -> std::io::Result<ConnectionFile> {
        super::stale_connections::sweep_once(parent);
        let dir = parent.join(super::stale_connections::directory_name());
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.recursive(true).create(&dir)?;
        let path = dir.join("connection.json");
        Ok(ConnectionFile {
            _at_exit: Registration::directory(dir.clone()),
            dir,
            path,
        })
    }

    /// Writes `info` as the connection file, readable and writable by us only.
    pub(crate) fn write(&self, info: &ConnectionInfo) -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&self.path)?;
        file.write_all(&serde_json::to_vec_pretty(info).map_err(std::io::Error::other)?)?;
        file.sync_all()
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The prefix of the kernel's IPC socket paths (`<prefix>-<n>`).
    fn ipc_prefix(&self) -> PathBuf {
        self.dir.join("kernel")
    }
}

impl Drop for ConnectionFile {
    fn drop(&mut self) {
        // A killed kernel leaves its IPC socket files behind, so remove the whole directory.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A random HMAC key: 256 bits from the OS generator (via uuid v4), hex encoded.
fn random_key() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A started, ready kernel.
pub(crate) struct Launched {
    pub(crate) process: KernelProcess,
    pub(crate) client: Client,
    pub(crate) connection_file: ConnectionFile,
    pub(crate) kernel_info: Value,
}

/// Starts `spec` and waits until it answers on shell and iopub.
pub(crate) async fn launch(
    spec: &KernelSpec,
    options: &KernelOptions,
) -> Result<Launched, KernelError> {
    let mut attempt = 1;
    loop {
        match launch_once(spec, options).await {
            // The ports are free when we pick them but another process may bind one before
            // the kernel does; the kernel then dies with EADDRINUSE. New ports fix that.
            Err(KernelError::DiedDuringStartup { output_tail, .. })
                if attempt < PORT_ATTEMPTS && output_tail.contains("Address already in use") =>
            {
                attempt += 1;
            }
            // Another process took one of our ports before the kernel bound it, and our
            // client reached that process's socket (zmq refuses the socket pairing).
            Err(KernelError::Connection(_))
                if attempt < PORT_ATTEMPTS && options.transport == KernelTransport::Tcp =>
            {
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

/// Launch attempts when the kernel loses a port race.
const PORT_ATTEMPTS: u32 = 3;

async fn launch_once(spec: &KernelSpec, options: &KernelOptions) -> Result<Launched, KernelError> {
    if !options.cwd.is_dir() {
        return Err(KernelError::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "the kernel's working directory {} does not exist",
                options.cwd.display()
            ),
        )));
    }
    let runtime_dir = options
        .runtime_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    let connection_file = ConnectionFile::create(&runtime_dir)?;
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    // Held until this attempt ends, so kernels starting at the same time in this process
    // never share a port (the kernel has bound its ports by the time it answers).
    let mut reservation = None;
    let (transport, ip, ports) = match options.transport {
        KernelTransport::Tcp => {
            let ports = reservation.insert(PortReservation::new(loopback)?).ports;
            (Transport::TCP, loopback.to_string(), ports)
        }
        KernelTransport::Ipc => {
            let prefix = connection_file.ipc_prefix().display().to_string();
            // A Unix socket path must fit in sockaddr_un (108 bytes on Linux, 104 on macOS).
            if prefix.len() + "-5".len() >= 104 {
                return Err(KernelError::Io(std::io::Error::other(format!(
                    "IPC socket paths under {} would be too long for Unix sockets; use a \
                     shorter runtime directory or TCP",
                    runtime_dir.display()
                ))));
            }
            (Transport::IPC, prefix, [1, 2, 3, 4, 5])
        }
    };
    let [shell_port, iopub_port, stdin_port, control_port, hb_port] = ports;
    let info = ConnectionInfo {
        ip,
        transport,
        shell_port,
        iopub_port,
        stdin_port,
        control_port,
        hb_port,
        key: random_key(),
        signature_scheme: "hmac-sha256".to_string(),
        kernel_name: Some(spec.name.clone()),
    };
    connection_file.write(&info)?;

    let mut env = spec.env.clone();
    env.extend(options.env.clone());
    // debugpy (imported by ipykernel) warns on every start without this.
    env.insert("PYDEVD_DISABLE_FILE_VALIDATION".into(), "1".into());
    // ipykernel exits by itself when this process goes away, even if we could not kill it.
    env.insert("JPY_PARENT_PID".into(), std::process::id().to_string());
    let argv = spec.command_line(connection_file.path());
    let process =
        KernelProcess::spawn(&argv, &env, &options.cwd).map_err(|source| KernelError::Spawn {
            name: spec.name.clone(),
            program: argv.first().cloned().unwrap_or_default(),
            source,
        })?;

    let started = Instant::now();
    let ready = async {
        wait_for_listener(&info).await;
        let client = Client::connect(&info, options.heartbeat).await?;
        let kernel_info = wait_until_ready(&client).await?;
        Ok::<_, KernelError>((client, kernel_info))
    };
    let outcome = tokio::select! {
        outcome = ready => Some(outcome),
        status = process.exited() => {
            return Err(KernelError::DiedDuringStartup {
                name: spec.name.clone(),
                status,
                output_tail: process.output_tail().await,
            });
        }
        () = tokio::time::sleep(options.startup_timeout) => None,
    };
    match outcome {
        Some(Ok((client, kernel_info))) => Ok(Launched {
            process,
            client,
            connection_file,
            kernel_info,
        }),
        Some(Err(error)) => {
            process.kill(Duration::from_secs(2)).await;
            Err(error)
        }
        None => {
            process.kill(Duration::from_secs(2)).await;
            Err(KernelError::StartupTimeout {
                name: spec.name.clone(),
                after: started.elapsed(),
                output_tail: process.output_tail().await,
            })
        }
    }
}

/// Ports handed to kernels that are still starting in this process.
static RESERVED_PORTS: LazyLock<Mutex<HashSet<u16>>> = LazyLock::new(|| Mutex::new(HashSet::new()));

/// Five distinct free ports for one kernel start, released before the kernel binds them
/// (as jupyter_client does) but reserved in this process until the start ends: the OS may
/// hand a just-released port to the next `bind(0)`, and two kernels starting at once would
/// then share it. jupyter-zmq-client's `peek_ports_with_listeners` keeps its listeners open
/// until after the spawn instead, but with it most concurrent starts here failed with
/// "connection reset by peer": our connect reached a listener that was not the kernel's.
struct PortReservation {
    ports: [u16; 5],
}

impl PortReservation {
    fn new(ip: IpAddr) -> std::io::Result<PortReservation> {
        let mut reserved = RESERVED_PORTS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut ports = Vec::with_capacity(5);
        let mut listeners = Vec::new();
        // Keep every listener open while choosing, so no port comes back twice.
        while ports.len() < 5 {
            let listener = std::net::TcpListener::bind((ip, 0))?;
            let port = listener.local_addr()?.port();
            if !reserved.contains(&port) {
                ports.push(port);
            }
            listeners.push(listener);
        }
        let mut chosen = [0; 5];
        chosen.copy_from_slice(&ports);
        reserved.extend(chosen);
        Ok(PortReservation { ports: chosen })
    }
}

impl Drop for PortReservation {
    fn drop(&mut self) {
        let mut reserved = RESERVED_PORTS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for port in self.ports {
            reserved.remove(&port);
        }
    }
}

/// Polls until something listens on the shell endpoint. zmq.rs retries a refused connect
/// with a doubling backoff (50, 100, 200, 400, 800 ms…), which would add up to a second to
/// a kernel start; a plain probe every 10 ms finds the socket as soon as it is bound.
async fn wait_for_listener(info: &ConnectionInfo) {
    loop {
        let probe = async {
            match info.transport {
                Transport::TCP => {
                    let address = format!("{}:{}", info.ip, info.shell_port);
                    tokio::net::TcpStream::connect(address).await.is_ok()
                }
                #[cfg(unix)]
                Transport::IPC => {
                    let path = format!("{}-{}", info.ip, info.shell_port);
                    tokio::net::UnixStream::connect(path).await.is_ok()
                }
                #[cfg(not(unix))]
                Transport::IPC => true,
            }
        };
        if let Ok(true) = timeout(Duration::from_millis(200), probe).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Sends `kernel_info_request` until both its reply (shell) and an iopub message with it as
/// parent arrive; returns the reply content.
async fn wait_until_ready(client: &Client) -> Result<Value, KernelError> {
    loop {
        let message = client.message(KernelInfoRequest {});
        let mut route = client.request(Channel::Shell, message).await?;
        let mut reply = None;
        let mut iopub_seen = false;
        let deadline = Instant::now() + READY_ATTEMPT;
        while let Ok(Some(incoming)) = tokio::time::timeout_at(deadline, route.recv()).await {
            match incoming.channel {
                Channel::Iopub => iopub_seen = true,
                Channel::Shell if incoming.msg_type == "kernel_info_reply" => {
                    reply = Some(incoming.content);
                }
                _ => {}
            }
            if iopub_seen && let Some(reply) = reply.take() {
                return Ok(reply);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ConnectionInfo {
        ConnectionInfo {
            ip: "127.0.0.1".into(),
            transport: Transport::TCP,
            shell_port: 1,
            iopub_port: 2,
            stdin_port: 3,
            control_port: 4,
            hb_port: 5,
            key: random_key(),
            signature_scheme: "hmac-sha256".into(),
            kernel_name: Some("python3".into()),
        }
    }

    #[cfg(unix)]
    #[test]
    fn connection_file_is_private_and_removed_on_drop() {
        use std::os::unix::fs::PermissionsExt;
        let parent = tempfile::tempdir().unwrap();
        let info = info();
        let file = ConnectionFile::create(parent.path()).unwrap();
        file.write(&info).unwrap();
        let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(file.path().parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        let written: Value = serde_json::from_slice(&std::fs::read(file.path()).unwrap()).unwrap();
        assert_eq!(written["key"], info.key.as_str());
        assert_eq!(written["transport"], "tcp");
        assert_eq!(written["signature_scheme"], "hmac-sha256");
        let path = file.path().to_path_buf();
        drop(file);
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 0);
    }

    #[test]
    fn reservations_held_at_the_same_time_never_share_a_port() {
        let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let held: Vec<PortReservation> = (0..20)
            .map(|_| PortReservation::new(loopback).expect("free ports"))
            .collect();
        let mut all: Vec<u16> = held
            .iter()
            .flat_map(|reservation| reservation.ports)
            .collect();
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count, "every port handed out once");
        let first = held[0].ports;
        drop(held);
        let reserved = RESERVED_PORTS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        assert!(
            first.iter().all(|port| !reserved.contains(port)),
            "released on drop"
        );
    }

    #[test]
    fn keys_are_long_random_and_distinct() {
        let (first, second) = (random_key(), random_key());
        assert_eq!(first.len(), 64);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(first, second);
    }
}

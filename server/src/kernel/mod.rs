//! Jupyter kernels: finding a kernelspec, launching it, and one async [`Kernel`] handle to
//! run code in it over ZeroMQ (jupyter-protocol + jupyter-zmq-client).
//!
//! Owns everything between "a kernel name" and "the outputs of this code": discovery
//! (`kernelspec`), the process (`process`), starting and readiness (`launch`), the sockets
//! (`client`), kernels on a Jupyter server instead (`remote`), which Python runs it (`environment`, `pep723_env` for the uv-built ones), what that Python can import (`probe`, its answers kept by `probe_memory` with the `witness`es of what they were read from), one running kernel (`session`), what to undo at exit (`cleanup`), the shared handle and its queue (`handle`),
//! our plain output types (`output`) and ANSI stripping (`ansi`). It knows nothing of
//! notebooks, caches, LSP or HTTP. User-facing behaviour is described in `docs/kernel.md`.

mod ansi;
mod cleanup;
mod client;
mod environment;
mod handle;
mod kernelspec;
mod launch;
mod output;
mod pep723_env;
mod probe;
mod probe_memory;
mod process;
mod remote;
mod session;
mod stale_connections;
mod witness;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub use ansi::{plain_traceback, strip_ansi, terminal_text};
pub(crate) use cleanup::Registration as CleanupAtExit;
pub use cleanup::{clean_up_now, clean_up_on_signals, exit_code_after_signal};
pub use environment::{Environment, EnvironmentChoice, EnvironmentKind, NotebookEnvironment};
pub use handle::Kernel;
pub use kernelspec::{InterruptMode, KernelSpec, SpecSearch};
pub use output::{ExecutionResult, ExecutionStatus, KernelEvent, MimeBundle, Output};
pub use pep723_env::{Pep723Environment, Pep723Request};
pub use probe::{ProbeAnswers, ProbeReport, probe_environment};
pub use probe_memory::ProbeMemory;
pub use remote::{DEFAULT_TOKEN_ENV, FileStamp, RemoteFiles, RemoteServer, check_server_url};

/// How the kernel's sockets are reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KernelTransport {
    /// Loopback TCP ports (what Jupyter does; every kernel supports it).
    #[default]
    Tcp,
    /// Unix sockets inside the kernel's private 0700 directory: no port to race for and no
    /// other local user can connect. ipykernel supports it; not every kernel does.
    Ipc,
}

/// How to start a kernel.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelOptions {
    /// The kernel's working directory.
    pub cwd: PathBuf,
    /// Environment variables added to the kernel's (over the spec's `env`).
    pub env: BTreeMap<String, String>,
    /// How long a kernel may take to answer after launch.
    pub startup_timeout: Duration,
    /// How long shutdown waits for the kernel to exit before killing it.
    pub shutdown_timeout: Duration,
    /// Heartbeat period and the time a pong may take; three misses in a row count as dead.
    pub heartbeat: Duration,
    /// Where the connection file's private directory is created (default: the temp dir).
    pub runtime_dir: Option<PathBuf>,
    pub transport: KernelTransport,
    /// How long a running cell may go on after an interrupt (a timeout's or the user's)
    /// before the kernel counts as not responding and is killed.
    pub interrupt_grace: Duration,
}

/// The environment variable that sets [`KernelOptions::interrupt_grace`] (seconds).
pub const INTERRUPT_GRACE_ENV: &str = "JELLYCELL_INTERRUPT_GRACE_SECONDS";

/// The interrupt grace: `JELLYCELL_INTERRUPT_GRACE_SECONDS` when it is a number of seconds
/// (fractions allowed), else 5 s.
fn interrupt_grace_from_env() -> Duration {
    std::env::var(INTERRUPT_GRACE_ENV)
        .ok()
        .and_then(|text| text.trim().parse::<f64>().ok())
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .unwrap_or(Duration::from_secs(5))
}

impl KernelOptions {
    /// Defaults: 60 s to start (as jupyter_client), 5 s to shut down, 3 s heartbeat, 5 s
    /// of grace after an interrupt (or [`INTERRUPT_GRACE_ENV`]).
    pub fn new(cwd: impl Into<PathBuf>) -> KernelOptions {
        KernelOptions {
            cwd: cwd.into(),
            env: BTreeMap::new(),
            startup_timeout: Duration::from_secs(60),
            shutdown_timeout: Duration::from_secs(5),
            heartbeat: Duration::from_secs(3),
            runtime_dir: None,
            transport: KernelTransport::Tcp,
            interrupt_grace: interrupt_grace_from_env(),
        }
    }
}

/// Finds the kernel called `name` the way Jupyter does, in this process's environment. May
/// run `python3` once (for the ipykernel fallback); call it off the async executor.
pub fn find_kernel(name: &str) -> Result<KernelSpec, KernelError> {
    SpecSearch::from_env().find(name)
}

/// Why a kernel could not be found, started or used.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error("{}", not_found_message(.name, .searched, .available, .python.as_ref()))]
    NotFound {
        name: String,
        searched: Vec<PathBuf>,
        available: Vec<String>,
        /// The `python3` found on the path that could not import ipykernel.
        python: Option<PathBuf>,
    },
    #[error("kernelspec {} is invalid: {reason}; fix or remove that file", .path.display())]
    InvalidSpec { path: PathBuf, reason: String },
    #[error("could not start kernel {name:?}: `{program}`: {source}; check the kernelspec's argv")]
    Spawn {
        name: String,
        program: String,
        source: std::io::Error,
    },
    #[error("kernel {name:?} exited while starting ({status}){}", tail_suffix(.output_tail))]
    DiedDuringStartup {
        name: String,
        status: String,
        output_tail: String,
    },
    #[error("kernel {name:?} did not answer within {:.0?} of starting{}", .after, tail_suffix(.output_tail))]
    StartupTimeout {
        name: String,
        after: Duration,
        output_tail: String,
    },
    #[error(
        "{} ({source_name}) {reason}, so it cannot run the kernel.\nfix: `{} -m pip install \
         ipykernel` (or `uv pip install --python {} ipykernel`)",
        .python.display(), .python.display(), .python.display()
    )]
    EnvironmentUnusable {
        python: PathBuf,
        source_name: &'static str,
        reason: String,
    },
    #[error(
        "[run] env = \"pep723\" builds the notebook's environment with uv, which is not on \
         PATH.\nfix: `pip install uv` (or `pipx install uv`; see \
         https://docs.astral.sh/uv/getting-started/installation/), or remove `env` from [run]"
    )]
    UvMissing,
    #[error(
        "`{command}` could not build the notebook's PEP-723 environment:\n{output}\nfix: correct \
         the `dependencies` of its `# /// script` block (each must install with pip)"
    )]
    EnvironmentBuild {
        command: &'static str,
        output: String,
    },
    #[error("kernel connection failed: {0}")]
    Connection(String),
    /// A remote server's answer, or why there was none, with the fix.
    #[error("{0}")]
    Remote(String),
    #[error("the kernel is not running (it exited or was shut down); restart it")]
    NotRunning,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn tail_suffix(tail: &str) -> String {
    if tail.trim().is_empty() {
        "; it printed nothing".to_string()
    } else {
        format!("; its last output:\n{tail}")
    }
}

fn not_found_message(
    name: &str,
    searched: &[PathBuf],
    available: &[String],
    python: Option<&PathBuf>,
) -> String {
    let dirs = searched
        .iter()
        .map(|dir| dir.join("kernels").display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let installed = if available.is_empty() {
        "no kernels are installed".to_string()
    } else {
        format!("installed kernels: {}", available.join(", "))
    };
    let mut message = format!("no Jupyter kernel named {name:?}: not in {dirs}; {installed}");
    if name == "python3" {
        match python {
            Some(python) => message.push_str(&format!(
                ", and {} cannot import ipykernel.\nfix: install ipykernel into the Python the \
                 notebook should use: `{} -m pip install ipykernel` (or `pip install ipykernel` \
                 in your activated virtual environment)",
                python.display(),
                python.display()
            )),
            None => message.push_str(
                ", and there is no `python3` on PATH.\nfix: install Python 3, then `pip install \
                 ipykernel`",
            ),
        }
    } else {
        message.push_str(&format!(
            ".\nfix: install the {name:?} kernel (`jupyter kernelspec list` shows what Jupyter \
             sees), or set `kernel` under [run] in jellycell.toml (or [tool.jellycell] in the \
             notebook) to an installed one"
        ));
    }
    if name == "python3" && !available.is_empty() {
        message.push_str(", or set `kernel` under [run] to an installed one");
    }
    message
}

//! `jellycell-lsp preview [PATH] [--port N] [--open] [-p NAME VALUE]... [--params-file
//! FILE]`: serves the project around PATH
//! (a notebook or a folder; default the current directory) with its cached outputs and
//! live reload. The first line on stdout is the URL (the notebook's page when PATH is a
//! notebook), so scripts can read it; the server runs until interrupted. With parameters, the pages show
//! the outputs of the run with them (`run -p`).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{EXIT_USAGE, messages};
use crate::preview::{PreviewOptions, start};
use crate::project::Project;

#[derive(Debug, clap::Args)]
pub struct PreviewArgs {
    /// A notebook or a project folder (default: the current directory).
    path: Option<PathBuf>,
    /// Port on 127.0.0.1 (default: `[viewer] port` when jellycell.toml sets it, else any
    /// free port; 0 = any free port).
    #[arg(long)]
    port: Option<u16>,
    /// Open the page in the default browser ($BROWSER, else xdg-open / open).
    #[arg(long)]
    open: bool,
    /// Show the outputs of the run with this parameter (repeatable), as `run -p` set it.
    #[arg(short = 'p', long = "parameter", num_args = 2, value_names = ["NAME", "VALUE"])]
    parameters: Vec<String>,
    /// Read the parameters from a YAML or JSON mapping (-p values win), as `run`'s.
    #[arg(long, value_name = "FILE")]
    params_file: Option<PathBuf>,
}

pub(super) fn run(args: &PreviewArgs) -> i32 {
    let start_path = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    if !start_path.exists() {
        messages::error(&format!("{} does not exist", start_path.display()));
        return EXIT_USAGE;
    }
    let project = Project::discover(&start_path);
    if let Err(message) = super::config_gate::require_valid_config(&project) {
        messages::error(&message);
        return EXIT_USAGE;
    }
    let parameters =
        match super::run::parameters_from(&args.parameters, args.params_file.as_deref()) {
            Ok(parameters) => parameters,
            Err(message) => {
                messages::error(&message);
                return EXIT_USAGE;
            }
        };
    let port = args
        .port
        .or_else(|| crate::preview::configured_port(&project));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            messages::error(&format!("cannot start the async runtime: {error}"));
            return EXIT_USAGE;
        }
    };
    runtime.block_on(async {
        let extra_notebooks = if start_path.is_file() {
            vec![start_path.clone()]
        } else {
            Vec::new()
        };
        let options = PreviewOptions {
            port,
            extra_notebooks,
            parameters,
        };
        let handle = match start(project, options).await {
            Ok(handle) => handle,
            Err(error) => {
                messages::error(&error.to_string());
                return EXIT_USAGE;
            }
        };
        let url = if start_path.is_file() {
            handle
                .notebook_url(&start_path)
                .unwrap_or_else(|| handle.url())
        } else {
            handle.url()
        };
        println!("{url}");
        let _ = std::io::stdout().flush();
        eprintln!("jellycell-lsp: preview on {url} (read-only; Ctrl-C to stop)");
        if args.open {
            open_browser(&url);
        }
        let _ = tokio::signal::ctrl_c().await;
        handle.shutdown().await;
        0
    })
}

fn open_browser(url: &str) {
    let opener = std::env::var_os("BROWSER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(if cfg!(target_os = "macos") {
                "open"
            } else {
                "xdg-open"
            })
        });
    let spawned = std::process::Command::new(&opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(error) = spawned {
        eprintln!(
            "jellycell-lsp: warning: cannot open a browser with {}: {error}; open {url} yourself",
            Path::new(&opener).display()
        );
    }
}

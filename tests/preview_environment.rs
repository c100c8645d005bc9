//! The notebook page names the environment that runs its kernel, over real HTTP from a
//! real `preview`: the same words as `run`'s summary line after a real run, the project's
//! `.venv` when there is one, and the Jupyter server when `[run] server` sends the
//! kernels there.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::Duration;

use support::project::TestProject;
use support::python::python;

const NOTEBOOK: &str = "# %% tags=[\"jc.step\", \"name=a\"]\nx = 1\n";

/// A `preview --port 0` started as the project's other commands are, killed on drop.
struct Preview {
    child: Child,
    address: String,
}

impl Preview {
    fn start(project: &TestProject) -> Preview {
        let mut child = project
            .command(&["preview", "--port", "0", "."])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn preview");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("read the URL");
        let address = first
            .trim()
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no URL: {first}"))
            .to_string();
        Preview { child, address }
    }

    fn page(&self, path: &str) -> String {
        let mut stream = TcpStream::connect(&self.address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.address
        )
        .expect("send");
        let mut reply = String::new();
        let _ = stream.read_to_string(&mut reply);
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        reply
    }
}

impl Drop for Preview {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kernel_line(page: &str) -> String {
    let start = page
        .find("<p class=\"jc-environment\">")
        .unwrap_or_else(|| panic!("no environment in the page:\n{page}"));
    let rest = &page[start..];
    rest[..rest.find("</p>").expect("closed")].to_string()
}

fn shown(description: &str) -> String {
    format!("<p class=\"jc-environment\">Kernel: <code>{description}</code>")
}

#[test]
fn the_page_names_the_environment_of_runs_summary_line() {
    let project = TestProject::new(&[("notebooks/a.py", NOTEBOOK)]);
    let output = project.output(&["run", "notebooks/a.py"]);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "{stdout}");
    let summary = stdout
        .lines()
        .find(|line| line.contains("(kernel: "))
        .unwrap_or_else(|| panic!("no summary line with the kernel: {stdout}"));
    let description = &summary[summary.find("(kernel: ").expect("kernel") + "(kernel: ".len()
        ..summary.rfind(')').expect("closing parenthesis")];
    assert!(description.starts_with("VIRTUAL_ENV "), "{summary}");

    let preview = Preview::start(&project);
    let page = preview.page("/nb/notebooks/a.py");
    assert_eq!(kernel_line(&page), shown(description));
}

#[test]
fn a_project_venv_and_a_jupyter_server_are_named() {
    let project = TestProject::new(&[("notebooks/a.py", NOTEBOOK)]);
    let status = std::process::Command::new(python())
        .args(["-m", "venv", "--without-pip"])
        .arg(project.path(".venv"))
        .status()
        .expect("python runs");
    assert!(status.success());
    let root = std::fs::canonicalize(project.root()).expect("root");
    {
        let preview = Preview::start(&project);
        let page = preview.page("/nb/notebooks/a.py");
        let venv_python = root.join(".venv/bin/python");
        assert_eq!(
            kernel_line(&page),
            shown(&format!("project venv {}", venv_python.display()))
        );
    }

    project.write(
        "jellycell.toml",
        "[project]\nname = \"t\"\n[run]\nserver = \"http://127.0.0.1:9/\"\n",
    );
    let preview = Preview::start(&project);
    let page = preview.page("/nb/notebooks/a.py");
    assert_eq!(
        kernel_line(&page),
        shown("remote python3 on http://127.0.0.1:9/")
    );
}

/// A notebook in another language runs the kernel it names, not the project's python3: the
/// page names that kernel (here not installed, as `run` would find it).
#[test]
fn a_notebook_in_another_language_names_its_own_kernel() {
    let r_notebook = "---\njupytext:\n  text_representation:\n    extension: .md\n    \
                      format_name: myst\nkernelspec:\n  display_name: R\n  language: R\n  \
                      name: ir\n---\n\n```{code-cell} r\nx <- 1\n```\n";
    let project = TestProject::new(&[("notebooks/a.py", NOTEBOOK), ("notebooks/r.md", r_notebook)]);
    let preview = Preview::start(&project);
    let page = preview.page("/nb/notebooks/r.md");
    assert_eq!(
        kernel_line(&page),
        shown(
            "no kernel &quot;ir&quot; found (`jupyter kernelspec list` shows the installed ones)"
        )
    );
    let python_page = preview.page("/nb/notebooks/a.py");
    assert!(
        kernel_line(&python_page).contains("VIRTUAL_ENV "),
        "{python_page}"
    );
}

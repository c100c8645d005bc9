//! A real `jellycell-lsp preview --port 0` for the preview tests, and raw HTTP/1.1
//! requests to it over TCP (so that malformed requests can be sent as they are).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A running `preview --port 0` of a project; killed when dropped.
pub struct PreviewProcess {
    child: std::process::Child,
    pub address: SocketAddr,
}

impl PreviewProcess {
    pub fn start(root: &Path) -> PreviewProcess {
        PreviewProcess::start_with(root, &[])
    }

    /// `preview --port 0 ROOT ARGS...`.
    pub fn start_with(root: &Path, args: &[&str]) -> PreviewProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_jellycell-lsp"))
            .args(["preview", "--port", "0"])
            .arg(root)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("read");
        let address = first
            .trim()
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .and_then(|authority| authority.parse().ok())
            .unwrap_or_else(|| panic!("no URL: {first}"));
        PreviewProcess { child, address }
    }

    /// Sends `head` (request line and headers, without the blank line) and returns the
    /// status and the whole reply.
    pub fn raw(&self, head: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(self.address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        write!(stream, "{head}Connection: close\r\n\r\n").expect("send");
        let mut raw = String::new();
        let _ = stream.read_to_string(&mut raw);
        let status = raw
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        (status, raw)
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        self.raw(&format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\n",
            self.address
        ))
    }
}

impl Drop for PreviewProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

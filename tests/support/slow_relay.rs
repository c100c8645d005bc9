//! A TCP relay in front of a real server that plays a slow network for the first kernel
//! websocket the client keeps (a legacy server's answer to the v1 offer is refused by the
//! client and does not count): its upgrade response passes at once, then everything the server sends on it
//! is held back for a while (no frames, no pongs), as a loaded server that is still
//! connecting the kernel's channels looks to the client. Everything else (REST calls, later
//! websockets) passes straight through.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A running relay; its threads end with the process (the test's).
pub struct SlowRelay {
    pub port: u16,
}

impl SlowRelay {
    /// Relays 127.0.0.1:`port` to 127.0.0.1:`target`, holding the first websocket's
    /// server-to-client bytes after its upgrade for `hold`.
    pub fn start(target: u16, hold: Duration) -> SlowRelay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("the relay binds");
        let port = listener.local_addr().expect("the relay's address").port();
        let held_one = Arc::new(AtomicBool::new(false));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let held_one = held_one.clone();
                std::thread::spawn(move || relay(client, target, hold, &held_one));
            }
        });
        SlowRelay { port }
    }
}

fn relay(mut client: TcpStream, target: u16, hold: Duration, held_one: &AtomicBool) {
    let Ok(mut server) = TcpStream::connect(("127.0.0.1", target)) else {
        return;
    };
    // The request head decides whether this is the connection to slow down.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let request = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let websocket = request.starts_with("get ") && request.contains("/channels");
    let offered = request.contains("sec-websocket-protocol:");
    if server.write_all(&head).is_err() {
        return;
    }
    let (Ok(mut client_reader), Ok(mut server_writer)) = (client.try_clone(), server.try_clone())
    else {
        return;
    };
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_reader, &mut server_writer);
        let _ = server_writer.shutdown(Shutdown::Write);
    });
    let mut response_head = Vec::new();
    let mut released = !websocket;
    let mut release_at = None;
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let read = match server.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        let mut chunk = &buffer[..read];
        if !released {
            // Pass the upgrade response through, then hold what follows it.
            if release_at.is_none() {
                let mut split = chunk.len();
                for (index, byte) in chunk.iter().enumerate() {
                    response_head.push(*byte);
                    if response_head.ends_with(b"\r\n\r\n") {
                        split = index + 1;
                        release_at = Some(Instant::now() + hold);
                        break;
                    }
                }
                if release_at.is_some() {
                    let response = String::from_utf8_lossy(&response_head).to_ascii_lowercase();
                    let kept = response.starts_with("http/1.1 101")
                        && (!offered || response.contains("sec-websocket-protocol:"));
                    if !kept || held_one.swap(true, Ordering::SeqCst) {
                        released = true;
                    }
                }
                if client.write_all(&chunk[..split]).is_err() {
                    break;
                }
                chunk = &chunk[split..];
            }
            if !released
                && let Some(at) = release_at
                && !chunk.is_empty()
            {
                std::thread::sleep(at.saturating_duration_since(Instant::now()));
                released = true;
            }
        }
        if client.write_all(chunk).is_err() {
            break;
        }
    }
    let _ = client.shutdown(Shutdown::Write);
}

//! The stdio transport: our framing reader in front of tower-lsp's service.
//!
//! tower-lsp-server's own `Server` stops reading at the first frame it cannot decode (its
//! `FramedRead` ends the stream after an error), so one bad message made the server exit.
//! This loop does what `Server::serve` does — one `Service::call` per message, in arrival
//! order (the ordering guarantee of `mod.rs` rests on that), up to [`MAX_CONCURRENCY`]
//! requests in flight, server→client requests interleaved with responses on stdout — but
//! reads with `framing` and `incoming`: a bad header is skipped to the next frame, a body
//! that is not a request is answered with -32700/-32600 and the loop goes on. Each is
//! logged to stderr. The loop ends at end of input, after `exit`, or when the service has
//! exited. The service answers with an [`Outgoing`]: a JSON-RPC response, or one already
//! written as JSON (`encoded.rs`). Frames are written by a thread that owns stdout
//! ([`stdout`], `spawn_writer`): one hand-off per message, and a body larger than the
//! thread's buffer is written from where it was encoded, not copied.

use std::io::Write;

use futures::channel::mpsc;
use futures::future::BoxFuture;
use futures::{FutureExt, SinkExt, StreamExt, TryFutureExt, future, stream};
use tokio::io::{AsyncRead, AsyncReadExt};
use tower_lsp_server::jsonrpc::{Request, Response};
use tower_lsp_server::{ClientSocket, ExitedError};
use tower_service::Service;

use super::framing::{self, Decoder, Frame};
use super::incoming::{self, Incoming};

/// Requests handled at once (tower-lsp's default).
const MAX_CONCURRENCY: usize = 4;
/// Calls queued for the handlers before reading waits (tower-lsp's figure).
const QUEUE: usize = 100;
const READ_CHUNK: usize = 64 * 1024;
/// Frames waiting for the stdout thread before the answers wait (a client that stops
/// reading holds the server's answers, not its memory).
const WRITE_QUEUE: usize = 16;
/// The stdout thread's buffer: a small message and its header leave in one `write`; a
/// larger body goes straight from its own buffer.
const WRITE_BUFFER: usize = 64 * 1024;

/// What the service answers a request with.
pub(crate) enum Outgoing {
    Message(Response),
    /// A whole JSON-RPC response, already encoded.
    Encoded(Vec<u8>),
}

/// The pipe capacity asked for stdout: Linux's default 64 KiB holds a sixth of a
/// 2,000-cell notebook's outline, so a large answer crossed in several wake-ups of the
/// client's reader. 1 MiB is the most an unprivileged process may set (the kernel's
/// `pipe-max-size` default).
#[cfg(target_os = "linux")]
const STDOUT_PIPE: usize = 1024 * 1024;

/// Widens stdout's pipe when stdout is one (an editor's stdio), so an answer of up to
/// [`STDOUT_PIPE`] is written in one go; anything else (a file, a terminal, a refused
/// size) is left as it is.
pub(crate) fn widen_stdout_pipe() {
    #[cfg(target_os = "linux")]
    {
        let stdout = std::io::stdout();
        let _ = rustix::pipe::fcntl_setpipe_size(&stdout, STDOUT_PIPE);
    }
}

/// Where the protocol is written: stdout, as a file of its own (a duplicate of the
/// descriptor), not through `std::io::Stdout`, whose line buffering scans every body for
/// a newline; `std::io::Stdout` only if the descriptor cannot be duplicated.
pub(crate) fn stdout() -> Box<dyn Write + Send> {
    use std::os::fd::AsFd;
    match std::io::stdout().as_fd().try_clone_to_owned() {
        Ok(descriptor) => Box::new(std::fs::File::from(descriptor)),
        Err(_) => Box::new(std::io::stdout()),
    }
}

/// Writes one line to stderr (the protocol owns stdout).
pub(crate) fn log(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "jellycell-lsp: {message}");
}

/// Serves `service` over `input`/`output` until the input ends or the client says `exit`.
pub(crate) async fn serve<S, I, O>(input: I, output: O, socket: ClientSocket, mut service: S)
where
    S: Service<Request, Response = Option<Outgoing>, Error = ExitedError>,
    S::Future: Send + 'static,
    I: AsyncRead + Unpin,
    O: Write + Send + 'static,
{
    let (client_requests, mut client_responses) = socket.split();
    let (client_requests, client_abort) = stream::abortable(client_requests);
    let (mut responses, responses_rx) = mpsc::channel::<Outgoing>(0);
    let (mut calls, calls_rx) = mpsc::channel::<BoxFuture<'static, Option<Outgoing>>>(QUEUE);

    let answer_calls = calls_rx
        .buffer_unordered(MAX_CONCURRENCY)
        .filter_map(future::ready)
        .map(Ok)
        .forward(responses.clone());

    let outgoing = stream::select(
        responses_rx.map(|answer| match answer {
            Outgoing::Message(response) => serde_json::to_vec(&response),
            Outgoing::Encoded(body) => Ok(body),
        }),
        client_requests.map(|request| serde_json::to_vec(&request)),
    );
    let (frames, writer) = match spawn_writer(output) {
        Ok(writer) => writer,
        Err(error) => {
            log(format_args!(
                "cannot start the thread that writes stdout: {error}"
            ));
            return;
        }
    };
    let write_output = write_all(frames, outgoing);

    let read_input = async {
        let mut input = input;
        let mut decoder = Decoder::default();
        let mut chunk = vec![0; READ_CHUNK];
        'reading: loop {
            while let Some(frame) = decoder.next_frame() {
                let (bytes, refused) = match frame {
                    Frame::Skipped(why) => {
                        log(format_args!("skipped input that is not a frame: {why}"));
                        continue;
                    }
                    Frame::Body { bytes, refused } => (bytes, refused),
                };
                let mut message = incoming::read(&bytes, refused.as_deref());
                if matches!(message, Incoming::Refused { .. })
                    && refused.is_none()
                    && let Some(at) = framing::embedded_frame(&bytes)
                {
                    // The Content-Length claimed more than the message: read what follows
                    // as the next frame.
                    log(format_args!(
                        "a Content-Length ran {} bytes into the next frame; reading it again",
                        bytes.len() - at
                    ));
                    decoder.unread(&bytes[at..]);
                    message = incoming::read(&bytes[..at], None);
                }
                match message {
                    Incoming::Request(request) => {
                        if future::poll_fn(|cx| service.poll_ready(cx)).await.is_err() {
                            break 'reading;
                        }
                        // The spec says to exit right after `exit`; some clients keep stdin
                        // open, so stop reading here.
                        let exit = request.method() == "exit";
                        let call = service.call(request).unwrap_or_else(|_| None).boxed();
                        if calls.send(call).await.is_err() || exit {
                            break 'reading;
                        }
                    }
                    Incoming::Response(response) => {
                        let _ = client_responses.send(response).await;
                    }
                    Incoming::Refused { ids, error } => {
                        log(format_args!(
                            "answered {} ({}) to a frame starting {}",
                            error.code.code(),
                            error.message,
                            framing::preview(&bytes)
                        ));
                        for id in ids {
                            let answer = Outgoing::Message(Response::from_error(id, error.clone()));
                            if responses.send(answer).await.is_err() {
                                break 'reading;
                            }
                        }
                    }
                    Incoming::Dropped(why) => log(format_args!("ignored {why}")),
                }
            }
            match input.read(&mut chunk).await {
                Ok(0) => {
                    if decoder.pending_bytes() > 0 {
                        log(format_args!(
                            "the input ended inside a frame ({} bytes unread)",
                            decoder.pending_bytes()
                        ));
                    }
                    break;
                }
                Ok(read) => decoder.push(&chunk[..read]),
                Err(error) => {
                    log(format_args!("cannot read stdin: {error}"));
                    break;
                }
            }
        }
        calls.disconnect();
        responses.disconnect();
        client_abort.abort();
    };

    futures::join!(answer_calls.map(|_| ()), write_output, read_input);
    // Every frame queued is written before the server exits.
    let _ = tokio::task::spawn_blocking(move || writer.join()).await;
}

/// The thread that writes frames to `output` in the order they are sent, each flushed.
/// It ends when the sender is dropped or a write fails (the client has gone); sending
/// then fails.
fn spawn_writer<O: Write + Send + 'static>(
    output: O,
) -> std::io::Result<(
    tokio::sync::mpsc::Sender<Vec<u8>>,
    std::thread::JoinHandle<()>,
)> {
    let (frames, mut queued) = tokio::sync::mpsc::channel::<Vec<u8>>(WRITE_QUEUE);
    let write = move || {
        let mut output = std::io::BufWriter::with_capacity(WRITE_BUFFER, output);
        while let Some(body) = queued.blocking_recv() {
            let written = write!(output, "Content-Length: {}\r\n\r\n", body.len())
                .and_then(|()| output.write_all(&body))
                .and_then(|()| output.flush());
            if let Err(error) = written {
                log(format_args!("cannot write to stdout: {error}"));
                return;
            }
        }
    };
    let writer = std::thread::Builder::new()
        .name("jellycell-stdout".into())
        .spawn(write)?;
    Ok((frames, writer))
}

/// Hands each message to the stdout thread; after it stopped (a write failed: the client
/// has gone) keeps draining so that nobody waits on a full channel.
async fn write_all(
    frames: tokio::sync::mpsc::Sender<Vec<u8>>,
    mut messages: impl futures::Stream<Item = serde_json::Result<Vec<u8>>> + Unpin,
) {
    let mut broken = false;
    while let Some(message) = messages.next().await {
        let body = match message {
            Ok(body) => body,
            Err(error) => {
                log(format_args!("cannot encode a message: {error}"));
                continue;
            }
        };
        // The writer has stopped after a failed write (and said why).
        if !broken && frames.send(body).await.is_err() {
            broken = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer whose bytes the test reads back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .expect("not poisoned")
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A client that has gone: every write fails.
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_stdout_thread_writes_each_body_as_a_frame_in_order() {
        let output = Shared::default();
        let (frames, writer) = spawn_writer(output.clone()).expect("thread");
        let large = vec![b'x'; 3 * WRITE_BUFFER];
        frames.blocking_send(b"{}".to_vec()).expect("queued");
        frames.blocking_send(large.clone()).expect("queued");
        frames.blocking_send(b"[1]".to_vec()).expect("queued");
        drop(frames);
        writer
            .join()
            .expect("the thread ends when the sender is gone");

        let mut expected = b"Content-Length: 2\r\n\r\n{}".to_vec();
        expected.extend_from_slice(format!("Content-Length: {}\r\n\r\n", large.len()).as_bytes());
        expected.extend_from_slice(&large);
        expected.extend_from_slice(b"Content-Length: 3\r\n\r\n[1]");
        assert!(*output.0.lock().expect("not poisoned") == expected);
    }

    #[test]
    fn after_a_failed_write_the_stdout_thread_stops_and_sending_fails() {
        let (frames, writer) = spawn_writer(Closed).expect("thread");
        // The first frame may be taken before the failure is seen; the thread then ends.
        let _ = frames.blocking_send(b"{}".to_vec());
        writer
            .join()
            .expect("the thread ends after the failed write");
        assert!(frames.blocking_send(b"{}".to_vec()).is_err());
    }
}

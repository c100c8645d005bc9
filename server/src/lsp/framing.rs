//! LSP base-protocol framing: `Content-Length` headers, then that many bytes of body.
//!
//! Owns cutting the client's byte stream into message bodies and surviving bad input: a
//! header block that cannot be read (no or a bad `Content-Length`, a line that is not a
//! header, an absurd length) is skipped up to the next `Content-Length`, garbage between
//! frames is skipped, and a `Content-Type` whose charset is not UTF-8 keeps its body (the
//! length is known) but marks it refused. Nothing here fails: every problem comes back as a
//! [`Frame::Skipped`] or a refused body, for the transport to log and answer. JSON is not
//! looked at here (see `incoming.rs`).

/// The longest header block read before it counts as garbage.
const MAX_HEADER_BYTES: usize = 16 * 1024;
/// The longest body accepted; a larger `Content-Length` is treated as a bad header.
const MAX_BODY_BYTES: usize = 512 * 1024 * 1024;
const CONTENT_LENGTH: &[u8] = b"content-length";
const CONTENT_PREFIX: &[u8] = b"content-";

/// One step of the decoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A whole body. `refused` says why the headers forbid reading it (its id may still be
    /// readable, to answer with an error).
    Body {
        bytes: Vec<u8>,
        refused: Option<String>,
    },
    /// Bytes that could not be framed were dropped; why.
    Skipped(String),
}

/// Cuts a byte stream into frames. Feed it with [`Decoder::push`], take frames with
/// [`Decoder::next_frame`] until `None`, then feed more.
#[derive(Debug, Default)]
pub(crate) struct Decoder {
    buffer: Vec<u8>,
    /// Where the unread part of `buffer` starts (compacted now and then).
    start: usize,
    /// The body being waited for, once its headers were read.
    body: Option<PendingBody>,
}

#[derive(Debug)]
struct PendingBody {
    length: usize,
    refused: Option<String>,
}

impl Decoder {
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start * 2 >= self.buffer.len() {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// Puts `bytes` back in front of what is still unread (a frame found inside a body
    /// whose `Content-Length` was too long).
    pub fn unread(&mut self, bytes: &[u8]) {
        let mut rest = bytes.to_vec();
        rest.extend_from_slice(&self.buffer[self.start..]);
        self.buffer = rest;
        self.start = 0;
    }

    /// Unread bytes (for the message when the input ends).
    pub fn pending_bytes(&self) -> usize {
        self.buffer.len() - self.start
    }

    pub fn next_frame(&mut self) -> Option<Frame> {
        if let Some(body) = &self.body {
            let unread = &self.buffer[self.start..];
            if unread.len() < body.length {
                return None;
            }
            let bytes = unread[..body.length].to_vec();
            self.start += body.length;
            let refused = self.body.take().and_then(|body| body.refused);
            return Some(Frame::Body { bytes, refused });
        }
        self.next_header()
    }

    fn next_header(&mut self) -> Option<Frame> {
        let unread = &self.buffer[self.start..];
        // Line ends between frames are noise some clients send, not garbage.
        let blank = unread
            .iter()
            .take_while(|byte| byte.is_ascii_whitespace())
            .count();
        self.start += blank;
        let unread = &self.buffer[self.start..];
        if unread.is_empty() {
            return None;
        }
        if !starts_with_ignore_case(unread, CONTENT_PREFIX) {
            if unread.len() < CONTENT_PREFIX.len()
                && starts_with_ignore_case(CONTENT_PREFIX, unread)
            {
                return None;
            }
            return Some(self.skip_garbage("bytes that are not a header"));
        }
        let Some((block_len, header_end)) = header_block(unread) else {
            if unread.len() > MAX_HEADER_BYTES {
                return Some(self.skip_garbage("a header block with no end"));
            }
            return None;
        };
        let block = &unread[..block_len];
        match parse_headers(block) {
            Ok((length, refused)) => {
                self.start += header_end;
                self.body = Some(PendingBody { length, refused });
                self.next_frame()
            }
            Err(problem) => {
                let shown = preview(block);
                // Garbage glued to a real header (`content-Content-Length: 5`): resume at
                // the header inside the block rather than losing it.
                self.start += find_ignore_case(block, CONTENT_LENGTH, 1).unwrap_or(header_end);
                Some(Frame::Skipped(format!("{problem} in the header {shown}")))
            }
        }
    }

    /// Drops unread bytes up to the next `Content-Length` after the first byte; keeps a
    /// tail that may be the start of one. Always drops at least one byte.
    fn skip_garbage(&mut self, what: &str) -> Frame {
        let unread = &self.buffer[self.start..];
        let shown = preview(unread);
        let skip = find_ignore_case(unread, CONTENT_LENGTH, 1).unwrap_or_else(|| {
            let keep = (1..CONTENT_LENGTH.len().min(unread.len()))
                .rev()
                .find(|&keep| {
                    starts_with_ignore_case(CONTENT_LENGTH, &unread[unread.len() - keep..])
                })
                .unwrap_or(0);
            (unread.len() - keep).max(1)
        });
        self.start += skip;
        Frame::Skipped(format!("{what}: dropped {skip} bytes starting {shown}"))
    }
}

/// The length of the header block (without its terminating empty line) and the offset
/// just past it, once the empty line has arrived. Lines end in CRLF (a bare LF is accepted).
fn header_block(unread: &[u8]) -> Option<(usize, usize)> {
    let mut line_start = 0;
    while let Some(newline) = unread[line_start..].iter().position(|&byte| byte == b'\n') {
        let line_end = line_start + newline;
        let line = &unread[line_start..line_end];
        if line.is_empty() || line == b"\r" {
            return Some((line_start, line_end + 1));
        }
        line_start = line_end + 1;
        if line_start > MAX_HEADER_BYTES {
            return None;
        }
    }
    None
}

/// The body length, and why the body may not be read, from a header block.
fn parse_headers(block: &[u8]) -> Result<(usize, Option<String>), String> {
    let mut length = None;
    let mut refused = None;
    for line in block.split(|&byte| byte == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let Some(colon) = line.iter().position(|&byte| byte == b':') else {
            return Err(format!(
                "a line that is not `Name: value` ({})",
                preview(line)
            ));
        };
        let name = String::from_utf8_lossy(&line[..colon])
            .trim()
            .to_ascii_lowercase();
        let value = String::from_utf8_lossy(&line[colon + 1..])
            .trim()
            .to_string();
        match name.as_str() {
            "content-length" => {
                let parsed = value
                    .parse::<usize>()
                    .ok()
                    .filter(|&length| length <= MAX_BODY_BYTES)
                    .ok_or_else(|| {
                        format!(
                            "Content-Length {value:?} is not a byte count (0 to {MAX_BODY_BYTES})"
                        )
                    })?;
                if length.is_some_and(|earlier| earlier != parsed) {
                    return Err("two different Content-Length headers".to_string());
                }
                length = Some(parsed);
            }
            "content-type" => {
                if let Some(problem) = content_type_problem(&value) {
                    refused = Some(problem);
                }
            }
            // The base protocol defines no other header; others are ignored, as HTTP does.
            _ => {}
        }
    }
    let length = length.ok_or_else(|| "no Content-Length".to_string())?;
    Ok((length, refused))
}

/// Why a `Content-Type` value rules the body out (only its charset matters: UTF-8, the
/// default, under any of its spellings).
fn content_type_problem(value: &str) -> Option<String> {
    let charset = value
        .split(';')
        .skip(1)
        .filter_map(|parameter| parameter.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
        .map(|(_, charset)| charset.trim().trim_matches('"').to_ascii_lowercase());
    match charset.as_deref() {
        None | Some("utf-8" | "utf8") => None,
        Some(other) => Some(format!(
            "Content-Type {value:?} names charset {other:?}; LSP messages are UTF-8"
        )),
    }
}

fn starts_with_ignore_case(haystack: &[u8], prefix: &[u8]) -> bool {
    haystack.len() >= prefix.len() && haystack[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn find_ignore_case(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if haystack.len() < needle.len() {
        return None;
    }
    (from..=haystack.len() - needle.len())
        .find(|&at| haystack[at..at + needle.len()].eq_ignore_ascii_case(needle))
}

/// Where a frame starts inside `body` (whose `Content-Length` claimed too much): the
/// offset of a `Content-Length` header that begins a complete header block.
pub(crate) fn embedded_frame(body: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = find_ignore_case(body, CONTENT_LENGTH, from) {
        if header_block(&body[at..])
            .is_some_and(|(block, _)| parse_headers(&body[at..at + block]).is_ok())
        {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The first bytes of `bytes`, quoted and escaped, for a log line.
pub(crate) fn preview(bytes: &[u8]) -> String {
    const SHOWN: usize = 60;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(SHOWN)]);
    let more = if bytes.len() > SHOWN { "…" } else { "" };
    format!("{:?}{more}", text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<Frame> {
        let mut decoder = Decoder::default();
        decoder.push(input);
        std::iter::from_fn(|| decoder.next_frame()).collect()
    }

    fn body(text: &str) -> Frame {
        Frame::Body {
            bytes: text.as_bytes().to_vec(),
            refused: None,
        }
    }

    #[test]
    fn frames_are_cut_at_their_length_even_when_split_across_reads() {
        let input = b"Content-Length: 2\r\n\r\n{}Content-Length: 4\r\n\r\nnull";
        assert_eq!(frames(input), vec![body("{}"), body("null")]);
        let mut decoder = Decoder::default();
        let mut seen = Vec::new();
        for byte in input {
            decoder.push(&[*byte]);
            seen.extend(std::iter::from_fn(|| decoder.next_frame()));
        }
        assert_eq!(seen, vec![body("{}"), body("null")]);
    }

    #[test]
    fn a_bad_content_length_is_skipped_to_the_next_frame() {
        for bad in ["abc", "-1", "99999999999999999999999", "1e3", ""] {
            let input = format!("Content-Length: {bad}\r\n\r\nxyzContent-Length: 2\r\n\r\n{{}}");
            let got = frames(input.as_bytes());
            assert!(
                matches!(&got[0], Frame::Skipped(why) if why.contains("Content-Length")),
                "{bad}: {got:?}"
            );
            assert_eq!(got.last(), Some(&body("{}")), "{bad}: {got:?}");
        }
    }

    #[test]
    fn garbage_between_frames_is_dropped() {
        let got = frames(b"hello\r\n\r\nContent-Length: 2\r\n\r\n{}");
        assert!(matches!(&got[0], Frame::Skipped(_)));
        assert_eq!(got[1], body("{}"));
    }

    #[test]
    fn header_names_are_case_insensitive_and_lf_alone_ends_lines() {
        assert_eq!(frames(b"content-length: 2\n\n{}"), vec![body("{}")]);
        let typed = b"Content-Type: application/vscode-jsonrpc; charset=utf8\r\nCONTENT-LENGTH: 2\r\n\r\n{}";
        assert_eq!(frames(typed), vec![body("{}")]);
    }

    #[test]
    fn a_foreign_charset_keeps_the_body_but_refuses_it() {
        let got =
            frames(b"Content-Length: 2\r\nContent-Type: text/plain; charset=latin1\r\n\r\n{}");
        assert!(
            matches!(&got[0], Frame::Body { bytes, refused: Some(why) } if bytes == b"{}" && why.contains("latin1")),
            "{got:?}"
        );
    }

    #[test]
    fn garbage_glued_to_a_header_keeps_the_header() {
        let got = frames(b"content-Content-Length: 2\r\n\r\n{}");
        assert!(matches!(&got[0], Frame::Skipped(_)), "{got:?}");
        assert_eq!(got.last(), Some(&body("{}")));
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_in_any_chunks_never_stall_and_frames_after_them_are_found(
            garbage in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
            bodies in proptest::collection::vec("[ -~]{0,40}", 1..4),
            cuts in proptest::collection::vec(1usize..64, 1..20),
        ) {
            let lowered = String::from_utf8_lossy(&garbage).to_ascii_lowercase();
            proptest::prop_assume!(!lowered.contains("content-length"));
            let mut input = garbage.clone();
            // A terminated header block, so what the garbage starts is finished.
            input.extend_from_slice(b"\r\n\r\n");
            for body in &bodies {
                input.extend(format!("Content-Length: {}\r\n\r\n{body}", body.len()).bytes());
            }
            let mut decoder = Decoder::default();
            let mut seen = Vec::new();
            let mut at = 0;
            for cut in cuts.iter().cycle() {
                if at >= input.len() {
                    break;
                }
                let end = (at + cut).min(input.len());
                decoder.push(&input[at..end]);
                at = end;
                seen.extend(std::iter::from_fn(|| decoder.next_frame()));
            }
            let found: Vec<Vec<u8>> = seen
                .into_iter()
                .filter_map(|frame| match frame {
                    Frame::Body { bytes, refused: None } => Some(bytes),
                    _ => None,
                })
                .collect();
            let wanted: Vec<Vec<u8>> = bodies.iter().map(|body| body.clone().into_bytes()).collect();
            proptest::prop_assert!(found.ends_with(&wanted), "{found:?} ends with {wanted:?}");
            proptest::prop_assert_eq!(decoder.pending_bytes(), 0);
        }
    }

    #[test]
    fn a_header_without_colon_is_skipped() {
        let got = frames(b"Content-Length 2\r\n\r\nContent-Length: 2\r\n\r\n{}");
        assert!(matches!(&got[0], Frame::Skipped(_)), "{got:?}");
        assert_eq!(got.last(), Some(&body("{}")));
    }

    #[test]
    fn an_endless_header_is_dropped_without_holding_memory() {
        let mut input = b"Content-Length: 2\r\nX: ".to_vec();
        input.extend(std::iter::repeat_n(b'a', MAX_HEADER_BYTES * 2));
        let mut decoder = Decoder::default();
        decoder.push(&input);
        let got: Vec<_> = std::iter::from_fn(|| decoder.next_frame()).collect();
        assert!(matches!(&got[0], Frame::Skipped(_)), "{got:?}");
        assert!(decoder.pending_bytes() < CONTENT_LENGTH.len());
    }

    #[test]
    fn a_frame_inside_a_too_long_body_is_found() {
        let body = b"{\"a\":1}\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(embedded_frame(body), Some(9));
        assert_eq!(embedded_frame(b"{\"text\":\"Content-Length: 3\"}"), None);
    }
}

//! The two ways a Jupyter server frames kernel messages on its websocket.
//!
//! `v1.kernel.websocket.jupyter.org` (negotiated as a subprotocol): every frame is binary,
//! `u64 LE n`, then `n` little-endian u64 offsets, then channel, header, parent header,
//! metadata, content and buffers at those offsets; the last offset is the frame length.
//! Legacy (the server selected no subprotocol): a text frame holds one JSON object with a
//! `channel` key; a message with buffers is a binary frame of `u32 BE` part count and
//! offsets (no end offset), the JSON and then the buffers.
//!
//! Sending, only the first four parts matter (we never send buffers); receiving, buffers are
//! skipped (nothing we run on uses them).

use serde_json::{Map, Value};

/// A kernel message as it crosses the websocket, without buffers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WireMessage {
    pub(crate) channel: String,
    pub(crate) header: Value,
    pub(crate) parent_header: Value,
    pub(crate) metadata: Value,
    pub(crate) content: Value,
}

/// Which framing the handshake settled on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    V1,
    Legacy,
}

/// The subprotocol we offer.
pub(crate) const V1_PROTOCOL: &str = "v1.kernel.websocket.jupyter.org";

/// One outgoing websocket frame.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

impl WireMessage {
    /// The message as `framing` puts it on the wire.
    pub(crate) fn encode(&self, framing: Framing) -> Frame {
        match framing {
            Framing::V1 => Frame::Binary(self.encode_v1()),
            Framing::Legacy => {
                let mut object = Map::new();
                object.insert("header".into(), self.header.clone());
                object.insert("parent_header".into(), self.parent_header.clone());
                object.insert("metadata".into(), self.metadata.clone());
                object.insert("content".into(), self.content.clone());
                object.insert("buffers".into(), Value::Array(Vec::new()));
                // A missing or null channel would be routed to shell by the server.
                object.insert("channel".into(), Value::String(self.channel.clone()));
                Frame::Text(Value::Object(object).to_string())
            }
        }
    }

    fn encode_v1(&self) -> Vec<u8> {
        let parts: [Vec<u8>; 5] = [
            self.channel.as_bytes().to_vec(),
            self.header.to_string().into_bytes(),
            self.parent_header.to_string().into_bytes(),
            self.metadata.to_string().into_bytes(),
            self.content.to_string().into_bytes(),
        ];
        let count = parts.len() + 1;
        let mut offsets = Vec::with_capacity(count);
        let mut at = 8 * (1 + count);
        offsets.push(at);
        for part in &parts {
            at += part.len();
            offsets.push(at);
        }
        let mut frame = Vec::with_capacity(at);
        frame.extend_from_slice(&(count as u64).to_le_bytes());
        for offset in offsets {
            frame.extend_from_slice(&(offset as u64).to_le_bytes());
        }
        for part in parts {
            frame.extend_from_slice(&part);
        }
        frame
    }

    /// Reads a text frame (legacy JSON).
    pub(crate) fn decode_text(text: &str) -> Option<WireMessage> {
        from_legacy_json(serde_json::from_str(text).ok()?)
    }

    /// Reads a binary frame in `framing`'s layout; `None` if it is malformed.
    pub(crate) fn decode_binary(frame: &[u8], framing: Framing) -> Option<WireMessage> {
        match framing {
            Framing::V1 => decode_v1(frame),
            Framing::Legacy => decode_legacy_binary(frame),
        }
    }
}

fn decode_v1(frame: &[u8]) -> Option<WireMessage> {
    let word = |index: usize| -> Option<usize> {
        let bytes = frame.get(index * 8..index * 8 + 8)?;
        usize::try_from(u64::from_le_bytes(bytes.try_into().ok()?)).ok()
    };
    let count = word(0)?;
    if count < 6 {
        return None;
    }
    let offsets = (1..=count).map(word).collect::<Option<Vec<usize>>>()?;
    let part = |index: usize| -> Option<&[u8]> {
        let start = *offsets.get(index)?;
        let end = *offsets.get(index + 1)?;
        frame.get(start..end)
    };
    let json = |index: usize| -> Option<Value> {
        let bytes = part(index)?;
        if bytes.is_empty() {
            return Some(Value::Object(Map::new()));
        }
        serde_json::from_slice(bytes).ok()
    };
    Some(WireMessage {
        channel: std::str::from_utf8(part(0)?).ok()?.to_string(),
        header: json(1)?,
        parent_header: json(2)?,
        metadata: json(3)?,
        content: json(4)?,
    })
}

fn decode_legacy_binary(frame: &[u8]) -> Option<WireMessage> {
    let word = |index: usize| -> Option<usize> {
        let bytes = frame.get(index * 4..index * 4 + 4)?;
        usize::try_from(u32::from_be_bytes(bytes.try_into().ok()?)).ok()
    };
    let count = word(0)?;
    let start = word(1)?;
    let end = if count > 1 { word(2)? } else { frame.len() };
    from_legacy_json(serde_json::from_slice(frame.get(start..end)?).ok()?)
}

fn from_legacy_json(value: Value) -> Option<WireMessage> {
    let Value::Object(mut object) = value else {
        return None;
    };
    let mut take = |key: &str| object.remove(key).unwrap_or(Value::Object(Map::new()));
    let header = take("header");
    let parent_header = take("parent_header");
    let metadata = take("metadata");
    let content = take("content");
    let channel = object.get("channel")?.as_str()?.to_string();
    Some(WireMessage {
        channel,
        header,
        parent_header,
        metadata,
        content,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message() -> WireMessage {
        WireMessage {
            channel: "iopub".into(),
            header: json!({"msg_id": "a", "msg_type": "stream"}),
            parent_header: json!({"msg_id": "p"}),
            metadata: json!({}),
            content: json!({"name": "stdout", "text": "hi\n"}),
        }
    }

    #[test]
    fn v1_frames_read_back_and_match_the_observed_layout() {
        let Frame::Binary(frame) = message().encode(Framing::V1) else {
            panic!("v1 frames are binary");
        };
        assert_eq!(&frame[..8], &6u64.to_le_bytes());
        assert_eq!(&frame[8..16], &56u64.to_le_bytes());
        assert_eq!(&frame[56..61], b"iopub");
        let last = u64::from_le_bytes(frame[48..56].try_into().unwrap());
        assert_eq!(last as usize, frame.len());
        assert_eq!(
            WireMessage::decode_binary(&frame, Framing::V1),
            Some(message())
        );
    }

    #[test]
    fn v1_frames_with_buffers_are_read_without_them() {
        let Frame::Binary(mut frame) = message().encode(Framing::V1) else {
            panic!("v1 frames are binary");
        };
        // Rebuild with one buffer: count 7, an extra offset, the buffer at the end.
        let old_len = frame.len();
        let mut offsets: Vec<u64> = (1..=6)
            .map(|i| u64::from_le_bytes(frame[i * 8..i * 8 + 8].try_into().unwrap()) + 8)
            .collect();
        offsets.push(old_len as u64 + 8 + 3);
        let body = frame.split_off(56);
        let mut rebuilt = 7u64.to_le_bytes().to_vec();
        for offset in offsets {
            rebuilt.extend_from_slice(&offset.to_le_bytes());
        }
        rebuilt.extend_from_slice(&body);
        rebuilt.extend_from_slice(b"abc");
        assert_eq!(
            WireMessage::decode_binary(&rebuilt, Framing::V1),
            Some(message())
        );
    }

    #[test]
    fn truncated_or_garbage_frames_are_refused() {
        let Frame::Binary(frame) = message().encode(Framing::V1) else {
            panic!("v1 frames are binary");
        };
        assert_eq!(WireMessage::decode_binary(&frame[..40], Framing::V1), None);
        assert_eq!(WireMessage::decode_binary(&[1, 2, 3], Framing::V1), None);
        assert_eq!(WireMessage::decode_binary(&[], Framing::Legacy), None);
        assert_eq!(WireMessage::decode_text("not json"), None);
        assert_eq!(WireMessage::decode_text("{\"header\": {}}"), None);
    }

    #[test]
    fn legacy_text_frames_carry_the_channel_explicitly() {
        let Frame::Text(text) = message().encode(Framing::Legacy) else {
            panic!("legacy frames without buffers are text");
        };
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["channel"], "iopub");
        assert_eq!(value["buffers"], json!([]));
        assert_eq!(WireMessage::decode_text(&text), Some(message()));
    }

    #[test]
    fn legacy_binary_frames_are_read_with_their_big_endian_offsets() {
        let Frame::Text(text) = message().encode(Framing::Legacy) else {
            panic!("legacy frames without buffers are text");
        };
        let json = text.into_bytes();
        let mut frame = Vec::new();
        frame.extend_from_slice(&2u32.to_be_bytes());
        let start = 4 * 3;
        frame.extend_from_slice(&(start as u32).to_be_bytes());
        frame.extend_from_slice(&((start + json.len()) as u32).to_be_bytes());
        frame.extend_from_slice(&json);
        frame.extend_from_slice(b"buffer");
        assert_eq!(
            WireMessage::decode_binary(&frame, Framing::Legacy),
            Some(message())
        );
    }
}

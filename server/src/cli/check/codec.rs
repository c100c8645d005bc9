//! A small binary encoding for the check cache: little-endian fixed-width integers,
//! LEB128 variable-width sizes (offsets, counts, lengths: mostly one or two bytes), and
//! length-prefixed strings and byte strings. Reading never panics and never trusts a length: any
//! inconsistency (a truncated or corrupt file) makes the reader return `None`, and the
//! caller then treats the whole cache as empty.

/// Appends values to a byte buffer.
#[derive(Debug, Default)]
pub(super) struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    pub fn raw(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    pub fn u8(&mut self, value: u8) {
        self.bytes.push(value);
    }

    pub fn bool(&mut self, value: bool) {
        self.u8(u8::from(value));
    }

    pub fn u64(&mut self, value: u64) {
        self.raw(&value.to_le_bytes());
    }

    pub fn i64(&mut self, value: i64) {
        self.raw(&value.to_le_bytes());
    }

    /// A `usize` (offset, count, length) in LEB128: seven bits a byte, low bits first.
    pub fn size(&mut self, value: usize) {
        let mut rest = value as u64;
        loop {
            let low = (rest & 0x7f) as u8;
            rest >>= 7;
            if rest == 0 {
                self.u8(low);
                return;
            }
            self.u8(low | 0x80);
        }
    }

    pub fn bytes(&mut self, value: &[u8]) {
        self.size(value.len());
        self.raw(value);
    }

    pub fn str(&mut self, value: &str) {
        self.bytes(value.as_bytes());
    }
}

/// Reads values back in the order they were written.
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes }
    }

    pub fn is_at_end(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn raw(&mut self, length: usize) -> Option<&'a [u8]> {
        if length > self.bytes.len() {
            return None;
        }
        let (taken, rest) = self.bytes.split_at(length);
        self.bytes = rest;
        Some(taken)
    }

    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.raw(N)?.try_into().ok()
    }

    pub fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }

    pub fn bool(&mut self) -> Option<bool> {
        match self.u8()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.array()?))
    }

    pub fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.array()?))
    }

    pub fn size(&mut self) -> Option<usize> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            value |= u64::from(byte & 0x7f).checked_shl(shift)?;
            if byte & 0x80 == 0 {
                return usize::try_from(value).ok();
            }
        }
        None
    }

    /// A count of items that follow, each at least `min_item` bytes long: a count the
    /// rest of the input cannot hold is corrupt (and would otherwise allocate wildly).
    pub fn count(&mut self, min_item: usize) -> Option<usize> {
        let count = self.size()?;
        (count.saturating_mul(min_item.max(1)) <= self.bytes.len()).then_some(count)
    }

    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let length = self.size()?;
        self.raw(length)
    }

    pub fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }

    pub fn string(&mut self) -> Option<String> {
        self.str().map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_back_in_order() {
        let mut writer = Writer::default();
        writer.u8(7);
        writer.bool(true);
        writer.i64(-5);
        writer.str("héllo");
        writer.bytes(&[1, 2, 3]);
        let bytes = writer.into_bytes();
        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.u8(), Some(7));
        assert_eq!(reader.bool(), Some(true));
        assert_eq!(reader.i64(), Some(-5));
        assert_eq!(reader.str(), Some("héllo"));
        assert_eq!(reader.bytes(), Some(&[1u8, 2, 3][..]));
        assert!(reader.is_at_end());
    }

    #[test]
    fn truncated_and_absurd_lengths_read_as_none() {
        let mut writer = Writer::default();
        writer.str("hello");
        let bytes = writer.into_bytes();
        assert_eq!(Reader::new(&bytes[..bytes.len() - 1]).str(), None);
        let mut huge = Writer::default();
        huge.size(usize::MAX);
        let huge = huge.into_bytes();
        assert_eq!(Reader::new(&huge).bytes(), None);
        assert_eq!(Reader::new(&huge).count(1), None);
        assert_eq!(Reader::new(&[2]).bool(), None);
        assert_eq!(Reader::new(&[0xff; 11]).size(), None, "more than 64 bits");
    }

    #[test]
    fn sizes_take_one_byte_below_128_and_read_back_at_any_width() {
        for value in [0, 1, 127, 128, 300, 1 << 40, usize::MAX] {
            let mut writer = Writer::default();
            writer.size(value);
            let bytes = writer.into_bytes();
            assert_eq!(bytes.len() == 1, value < 128, "{value}");
            assert_eq!(Reader::new(&bytes).size(), Some(value));
        }
    }
}

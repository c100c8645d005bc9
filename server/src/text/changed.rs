//! Where two texts differ: the bytes an edit replaced, found by comparing the texts
//! before and after it from both ends, blocks at a time (`memcmp`), since an edit of a
//! big notebook leaves megabytes on either side of it.

/// The bytes an edit replaced: `old[start..old_end]` became `new[start..new_end]`,
/// everything before and after is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangedBytes {
    pub start: usize,
    pub old_end: usize,
    pub new_end: usize,
}

impl ChangedBytes {
    /// The change from `old` to `new` (the longest common prefix first, then the longest
    /// common suffix of what is left).
    pub fn between(old: &[u8], new: &[u8]) -> ChangedBytes {
        let start = common_prefix(old, new);
        let same_tail = common_suffix(&old[start..], &new[start..]);
        ChangedBytes {
            start,
            old_end: old.len() - same_tail,
            new_end: new.len() - same_tail,
        }
    }

    /// Whether this can be a change from a text of `old_len` bytes to one of `new_len`.
    pub fn fits(&self, old_len: usize, new_len: usize) -> bool {
        self.start <= self.old_end
            && self.start <= self.new_end
            && self.old_end <= old_len
            && self.new_end <= new_len
            && old_len - self.old_end == new_len - self.new_end
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.start == self.old_end && self.start == self.new_end
    }

    /// Whether `old` and `new` are the same outside this change (it may cover more).
    pub fn covers(&self, old: &[u8], new: &[u8]) -> bool {
        self.fits(old.len(), new.len())
            && old[..self.start] == new[..self.start]
            && old[self.old_end..] == new[self.new_end..]
    }

    /// Where an old offset at or after the change lies in the new text.
    pub fn moved(&self, offset: usize) -> Option<usize> {
        (offset >= self.old_end).then(|| offset - self.old_end + self.new_end)
    }
}

/// Blocks compared at once: big ones over the untouched megabytes, then small ones and
/// bytes near the change.
const BLOCKS: [usize; 2] = [4096, 64];

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let limit = a.len().min(b.len());
    let mut same = 0;
    for block in BLOCKS {
        while same + block <= limit && a[same..same + block] == b[same..same + block] {
            same += block;
        }
    }
    same + a[same..limit]
        .iter()
        .zip(&b[same..limit])
        .take_while(|(x, y)| x == y)
        .count()
}

fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    let limit = a.len().min(b.len());
    let (a_end, b_end) = (a.len(), b.len());
    let mut same = 0;
    for block in BLOCKS {
        while same + block <= limit
            && a[a_end - same - block..a_end - same] == b[b_end - same - block..b_end - same]
        {
            same += block;
        }
    }
    same + a[..a_end - same]
        .iter()
        .rev()
        .zip(b[..b_end - same].iter().rev())
        .take(limit - same)
        .take_while(|(x, y)| x == y)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The obvious byte-at-a-time reading.
    fn naive(old: &[u8], new: &[u8]) -> ChangedBytes {
        let start = old.iter().zip(new).take_while(|(a, b)| a == b).count();
        let limit = old.len().min(new.len()) - start;
        let same_tail = old
            .iter()
            .rev()
            .zip(new.iter().rev())
            .take(limit)
            .take_while(|(a, b)| a == b)
            .count();
        ChangedBytes {
            start,
            old_end: old.len() - same_tail,
            new_end: new.len() - same_tail,
        }
    }

    proptest! {
        #[test]
        fn blocks_find_what_bytes_find(
            text in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b')], 0..400),
            at in 0usize..400,
            removed in 0usize..90,
            inserted in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b')], 0..90),
        ) {
            let start = at.min(text.len());
            let end = (start + removed).min(text.len());
            let mut edited = text[..start].to_vec();
            edited.extend(&inserted);
            edited.extend(&text[end..]);
            prop_assert_eq!(ChangedBytes::between(&text, &edited), naive(&text, &edited));
            prop_assert_eq!(ChangedBytes::between(&edited, &text), naive(&edited, &text));
        }
    }
}

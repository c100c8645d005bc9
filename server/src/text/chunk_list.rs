//! A list kept in shared chunks, for what a notebook holds per cell (its cells, their
//! analyses and graph facts): a copy of the list takes one reference per chunk, not per
//! item, and a list built from another with a few items replaced (an edit's re-read)
//! shares every chunk the replacement did not touch. An edit of a 16,000-cell notebook
//! then copies and frees a few chunks and the chunk index, not 16,000 reference counts
//! scattered over the heap (a cache miss each, when copied and again when freed).
//!
//! Read it like a slice (`len`, `get`, indexing, `iter`); build it with
//! [`ChunkListBuilder`], which shares whole chunks of another list
//! ([`ChunkListBuilder::extend_from`]) and packs what it copies into chunks of about
//! [`CHUNK`] items, merging small neighbours, so that edits anywhere never leave a list
//! of tiny chunks.

use std::fmt;
use std::ops::{Index, Range};
use std::sync::Arc;

/// The items a builder packs into one chunk. Chunks hold between half and twice this,
/// except the last.
pub const CHUNK: usize = 64;

/// See the module docs.
#[derive(Clone)]
pub struct ChunkList<T> {
    chunks: Vec<Arc<[T]>>,
    /// How many items the chunks up to and including each one hold.
    ends: Vec<usize>,
}

impl<T> ChunkList<T> {
    pub fn new() -> Self {
        ChunkList {
            chunks: Vec::new(),
            ends: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, index: usize) -> Option<&T> {
        let chunk = self.chunk_of(index);
        let items = self.chunks.get(chunk)?;
        items.get(index - self.start_of(chunk))
    }

    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            chunks: self.chunks.iter(),
            front: Default::default(),
            back: Default::default(),
            remaining: self.len(),
        }
    }

    /// The item at `index` to change: its chunk is copied first when another list
    /// shares it.
    pub fn get_mut(&mut self, index: usize) -> Option<&mut T>
    where
        T: Clone,
    {
        let chunk = self.chunk_of(index);
        let start = self.start_of(chunk);
        let items = self.chunks.get_mut(chunk)?;
        if Arc::get_mut(items).is_none() {
            *items = Arc::from(items.to_vec());
        }
        Arc::get_mut(items)?.get_mut(index - start)
    }

    /// The positions where this list and `other` may hold different items: every
    /// position but those of a chunk both share at the same place (whose items are the
    /// same, by pointer). All positions past the shorter list's end are included.
    pub fn unshared(&self, other: &ChunkList<T>) -> Vec<Range<usize>> {
        let mut ranges: Vec<Range<usize>> = Vec::new();
        let mut add = |range: Range<usize>| match ranges.last_mut() {
            Some(last) if last.end == range.start => last.end = range.end,
            _ => ranges.push(range),
        };
        let mut theirs = 0;
        for (chunk, items) in self.chunks.iter().enumerate() {
            let (start, end) = (self.start_of(chunk), self.ends[chunk]);
            while theirs < other.chunks.len() && other.start_of(theirs) < start {
                theirs += 1;
            }
            let shared = other.chunks.get(theirs).is_some_and(|their_items| {
                other.start_of(theirs) == start && Arc::ptr_eq(items, their_items)
            });
            if !shared {
                add(start..end);
            }
        }
        let (shorter, longer) = (self.len().min(other.len()), self.len().max(other.len()));
        if longer > shorter {
            add(shorter..longer);
        }
        ranges
    }

    /// The chunk holding `index` (`chunks.len()` past the end).
    fn chunk_of(&self, index: usize) -> usize {
        self.ends.partition_point(|&end| end <= index)
    }

    fn start_of(&self, chunk: usize) -> usize {
        if chunk == 0 { 0 } else { self.ends[chunk - 1] }
    }
}

fn chunk_items<T>(chunk: &Arc<[T]>) -> std::slice::Iter<'_, T> {
    chunk.iter()
}

impl<T> Default for ChunkList<T> {
    fn default() -> Self {
        ChunkList::new()
    }
}

impl<T: Clone> FromIterator<T> for ChunkList<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut builder = ChunkListBuilder::new();
        for item in items {
            builder.push(item);
        }
        builder.finish()
    }
}

impl<T> Index<usize> for ChunkList<T> {
    type Output = T;

    fn index(&self, index: usize) -> &T {
        match self.get(index) {
            Some(item) => item,
            None => panic!("index {index} out of a list of {}", self.len()),
        }
    }
}

impl<'a, T> IntoIterator for &'a ChunkList<T> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

/// Equal when the items are, however they are chunked.
impl<T: PartialEq> PartialEq for ChunkList<T> {
    fn eq(&self, other: &ChunkList<T>) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: Eq> Eq for ChunkList<T> {}

impl<T: fmt::Debug> fmt::Debug for ChunkList<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_list().entries(self.iter()).finish()
    }
}

/// The items of a [`ChunkList`] in order. Skipping (`nth`, `skip`) passes over whole
/// chunks without visiting their items.
#[derive(Clone)]
pub struct Iter<'a, T> {
    /// The chunks between `front` and `back`.
    chunks: std::slice::Iter<'a, Arc<[T]>>,
    front: std::slice::Iter<'a, T>,
    back: std::slice::Iter<'a, T>,
    remaining: usize,
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        self.nth(0)
    }

    fn nth(&mut self, mut skipped: usize) -> Option<&'a T> {
        if skipped >= self.remaining {
            self.remaining = 0;
            self.front = Default::default();
            self.chunks = Default::default();
            self.back = Default::default();
            return None;
        }
        self.remaining -= skipped + 1;
        while skipped >= self.front.len() {
            skipped -= self.front.len();
            self.front = Default::default();
            match self.chunks.next() {
                Some(chunk) => self.front = chunk.iter(),
                None => return self.back.nth(skipped),
            }
        }
        self.front.nth(skipped)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<T> DoubleEndedIterator for Iter<'_, T> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        loop {
            if let Some(item) = self.back.next_back() {
                return Some(item);
            }
            match self.chunks.next_back() {
                Some(chunk) => self.back = chunk.iter(),
                None => return self.front.next_back(),
            }
        }
    }
}

impl<T> ExactSizeIterator for Iter<'_, T> {}

/// Builds a [`ChunkList`] item by item and from ranges of other lists.
pub struct ChunkListBuilder<T> {
    chunks: Vec<Arc<[T]>>,
    ends: Vec<usize>,
    /// Items not yet packed into a chunk.
    pending: Vec<T>,
}

impl<T: Clone> ChunkListBuilder<T> {
    pub fn new() -> Self {
        ChunkListBuilder {
            chunks: Vec::new(),
            ends: Vec::new(),
            pending: Vec::new(),
        }
    }

    /// A builder for a list of about `items` items.
    pub fn with_capacity(items: usize) -> Self {
        let chunks = items / CHUNK + 2;
        ChunkListBuilder {
            chunks: Vec::with_capacity(chunks),
            ends: Vec::with_capacity(chunks),
            pending: Vec::new(),
        }
    }

    pub fn push(&mut self, item: T) {
        if self.pending.capacity() == 0 {
            self.pending.reserve(CHUNK);
        }
        self.pending.push(item);
        if self.pending.len() >= CHUNK {
            self.pack();
        }
    }

    /// Appends `list[range]`: its whole chunks shared, the rest copied. A shared chunk
    /// follows what is pending only when that is at least half a chunk, and is shared
    /// only when it is at least half a chunk itself; otherwise the two are merged, so
    /// repeated edits never fragment the list.
    pub fn extend_from(&mut self, list: &ChunkList<T>, range: Range<usize>) {
        let range = range.start..range.end.min(list.len());
        if range.start >= range.end {
            return;
        }
        let mut chunk = list.chunk_of(range.start);
        let mut at = range.start;
        while at < range.end {
            let (start, end) = (list.start_of(chunk), list.ends[chunk]);
            let (from, to) = (at.max(start), end.min(range.end));
            let whole = from == start && to == end;
            let items = &list.chunks[chunk];
            if whole
                && items.len() >= CHUNK / 2
                && (self.pending.is_empty() || self.pending.len() >= CHUNK / 2)
            {
                self.pack();
                self.append(Arc::clone(items));
            } else {
                self.pending
                    .extend_from_slice(&items[from - start..to - start]);
                self.pack_when_full();
            }
            at = to;
            chunk += 1;
        }
    }

    /// The items so far, in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks
            .iter()
            .flat_map(chunk_items)
            .chain(self.pending.iter())
    }

    pub fn finish(mut self) -> ChunkList<T> {
        self.pack();
        ChunkList {
            chunks: self.chunks,
            ends: self.ends,
        }
    }

    /// Packs what is pending once it fills a chunk: into two when it is more than two
    /// (a merge adds up to a whole chunk to what was pending).
    fn pack_when_full(&mut self) {
        if self.pending.len() > 2 * CHUNK {
            let second = self.pending.split_off(self.pending.len() / 2);
            self.pack();
            self.pending = second;
            self.pack();
        } else if self.pending.len() >= CHUNK {
            self.pack();
        }
    }

    /// Packs what is pending into one chunk.
    fn pack(&mut self) {
        if !self.pending.is_empty() {
            let items: Arc<[T]> = Arc::from(std::mem::take(&mut self.pending));
            self.append(items);
        }
    }

    fn append(&mut self, items: Arc<[T]>) {
        let len = self.ends.last().copied().unwrap_or(0) + items.len();
        self.chunks.push(items);
        self.ends.push(len);
    }
}

impl<T: Clone> Default for ChunkListBuilder<T> {
    fn default() -> Self {
        ChunkListBuilder::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn list(items: std::ops::Range<u32>) -> ChunkList<u32> {
        items.collect()
    }

    #[test]
    fn reads_like_the_vector_it_was_built_from() {
        let items: Vec<u32> = (0..1000).collect();
        let chunked: ChunkList<u32> = items.iter().copied().collect();
        assert_eq!(chunked.len(), 1000);
        assert_eq!(chunked.iter().copied().collect::<Vec<_>>(), items);
        assert_eq!(chunked.iter().next_back(), Some(&999));
        assert_eq!(chunked.iter().len(), 1000);
        assert_eq!(chunked[0], 0);
        assert_eq!(chunked[64], 64);
        assert_eq!(chunked[999], 999);
        assert_eq!(chunked.get(1000), None);
        assert!(ChunkList::<u32>::new().is_empty());
        assert_eq!(ChunkList::<u32>::new().get(0), None);
        let mut edited = chunked.clone();
        *edited.get_mut(70).expect("in the list") = 7;
        assert!(edited.get_mut(1000).is_none());
        assert_eq!((edited[70], chunked[70], edited.len()), (7, 70, 1000));
    }

    #[test]
    fn replacing_one_item_shares_every_other_chunk() {
        let old = list(0..16_000);
        let mut builder = ChunkListBuilder::with_capacity(old.len());
        builder.extend_from(&old, 0..8_000);
        builder.push(7);
        builder.extend_from(&old, 8_001..16_000);
        let new = builder.finish();
        assert_eq!(new.len(), 16_000);
        assert_eq!(new[8_000], 7);
        let shared = new
            .chunks
            .iter()
            .filter(|chunk| old.chunks.iter().any(|old| Arc::ptr_eq(chunk, old)))
            .count();
        assert!(
            shared + 1 >= old.chunks.len(),
            "{shared} of {}",
            old.chunks.len()
        );
    }

    #[test]
    fn a_copy_shares_all_and_an_edit_shares_all_but_its_chunk() {
        let old = list(0..500);
        assert!(old.unshared(&old.clone()).is_empty());
        let new = edited(&old, 200, 1, &[7]);
        let unshared = new.unshared(&old);
        assert_eq!(unshared.len(), 1);
        assert!(unshared[0].contains(&200) && unshared[0].len() <= 2 * CHUNK);
        assert_eq!(
            old.unshared(&edited(&old, 500, 0, &[1, 2])).last(),
            Some(&(500..502))
        );
    }

    /// An edit is a range of the old list replaced by new items.
    fn edited(old: &ChunkList<u32>, start: usize, removed: usize, added: &[u32]) -> ChunkList<u32> {
        let start = start.min(old.len());
        let stop = (start + removed).min(old.len());
        let mut builder = ChunkListBuilder::with_capacity(old.len());
        builder.extend_from(old, 0..start);
        for &item in added {
            builder.push(item);
        }
        builder.extend_from(old, stop..old.len());
        builder.finish()
    }

    proptest! {
        /// Skipping from the front and taking from both ends give what a slice's
        /// iterator gives, in a list of chunks of every size.
        #[test]
        fn the_iterator_walks_and_skips_like_a_slice(
            sizes in prop::collection::vec(0usize..150, 0..8),
            steps in prop::collection::vec((0usize..3, 0usize..200), 0..30),
        ) {
            let mut builder = ChunkListBuilder::new();
            let mut vector = Vec::new();
            for size in sizes {
                let chunk: ChunkList<usize> = (vector.len()..vector.len() + size).collect();
                vector.extend(vector.len()..vector.len() + size);
                builder.extend_from(&chunk, 0..size);
            }
            let list = builder.finish();
            let (mut ours, mut theirs) = (list.iter(), vector.iter());
            for (kind, skipped) in steps {
                match kind {
                    0 => prop_assert_eq!(ours.nth(skipped), theirs.nth(skipped)),
                    1 => prop_assert_eq!(ours.next_back(), theirs.next_back()),
                    _ => prop_assert_eq!(ours.next(), theirs.next()),
                }
                prop_assert_eq!(ours.len(), theirs.len());
            }
            prop_assert!(ours.eq(theirs));
        }

        /// Any edits give what the same edits of a vector give, and the chunks stay big:
        /// every chunk but the last holds at least half of `CHUNK`, none more than twice.
        #[test]
        fn edits_agree_with_a_vector_and_keep_chunks_big(
            initial in 0usize..600,
            edits in proptest::collection::vec(
                (0usize..700, 0usize..80, proptest::collection::vec(any::<u32>(), 0..80)),
                1..25,
            ),
        ) {
            let mut vector: Vec<u32> = (0..initial as u32).collect();
            let mut chunked: ChunkList<u32> = vector.iter().copied().collect();
            for (start, removed, added) in edits {
                let before = chunked.clone();
                chunked = edited(&before, start, removed, &added);
                let start = start.min(vector.len());
                let stop = (start + removed).min(vector.len());
                vector.splice(start..stop, added);
                prop_assert_eq!(chunked.iter().copied().collect::<Vec<_>>(), vector.clone());
                prop_assert_eq!(chunked.len(), vector.len());
                for (index, item) in vector.iter().enumerate() {
                    prop_assert_eq!(chunked.get(index), Some(item));
                }
                let sizes: Vec<usize> = chunked.chunks.iter().map(|chunk| chunk.len()).collect();
                if let Some((_, all_but_last)) = sizes.split_last() {
                    prop_assert!(all_but_last.iter().all(|&size| size >= CHUNK / 2), "{:?}", sizes);
                }
                prop_assert!(sizes.iter().all(|&size| size > 0 && size <= 2 * CHUNK), "{:?}", sizes);
                // Outside what `unshared` names, the items are the same.
                let unshared: Vec<usize> = chunked.unshared(&before).into_iter().flatten().collect();
                for index in 0..chunked.len().min(before.len()) {
                    if !unshared.contains(&index) {
                        prop_assert_eq!(chunked.get(index), before.get(index));
                    }
                }
            }
        }
    }
}

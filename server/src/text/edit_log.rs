//! The changes an open document went through, as byte ranges, so that an edit's re-read
//! knows which bytes changed without comparing the megabytes on either side of them
//! (`ChangedBytes::between`), and the analysis knows the text is the one it already
//! read without comparing it whole.
//!
//! Each replacement is one revision. Revisions are unique in the process, so a
//! revision of another document (a buffer opened again) is never taken for one of this
//! log's. The last [`KEPT`] replacements are kept; the change since an older or unknown
//! revision is `None`, and callers compare the texts instead.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::text::changed::ChangedBytes;

/// Replacements remembered: more than an editor sends between two analyses.
pub const KEPT: usize = 64;

/// See the module docs. Cloning shares the log until the next change.
#[derive(Debug, Clone)]
pub struct EditLog {
    revision: u64,
    recent: Arc<VecDeque<Logged>>,
}

impl Default for EditLog {
    fn default() -> Self {
        EditLog {
            revision: next_revision(),
            recent: Arc::default(),
        }
    }
}

fn next_revision() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[derive(Debug, Clone, Copy)]
struct Logged {
    /// The revision the change was made to.
    before: u64,
    change: ChangedBytes,
    old_len: usize,
    new_len: usize,
}

impl EditLog {
    /// Which text this is: a number no other text of any document in the process has.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Records a replacement of a text of `old_len` bytes: `change.start..change.old_end`
    /// became `change.start..change.new_end`.
    pub fn record(&mut self, change: ChangedBytes, old_len: usize) {
        let new_len = old_len + change.new_end - change.old_end;
        let recent = Arc::make_mut(&mut self.recent);
        if recent.len() == KEPT {
            recent.pop_front();
        }
        recent.push_back(Logged {
            before: self.revision,
            change,
            old_len,
            new_len,
        });
        self.revision = next_revision();
    }

    /// The bytes changed between `revision` and now (the text now being `len` bytes):
    /// empty at the end of the text when nothing changed, `None` when the log does not
    /// reach back to `revision`. It may cover more than what differs (a character typed
    /// and deleted), never less.
    pub fn since(&self, revision: u64, len: usize) -> Option<ChangedBytes> {
        if revision == self.revision {
            if self.recent.back().is_some_and(|last| last.new_len != len) {
                return None;
            }
            return Some(ChangedBytes {
                start: len,
                old_end: len,
                new_end: len,
            });
        }
        let first = self
            .recent
            .iter()
            .position(|logged| logged.before == revision)?;
        let mut changes = self.recent.iter().skip(first);
        let first = changes.next()?;
        let (mut total, old_len, mut now_len) = (first.change, first.old_len, first.new_len);
        for next in changes {
            if next.old_len != now_len {
                return None;
            }
            // What neither change touched at the end, counted back from the text between.
            let tail = (now_len - total.new_end).min(now_len - next.change.old_end);
            total = ChangedBytes {
                start: total.start.min(next.change.start),
                old_end: old_len - tail,
                new_end: next.new_len - tail,
            };
            now_len = next.new_len;
        }
        (now_len == len).then_some(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn replace(
        text: &mut Vec<u8>,
        log: &mut EditLog,
        start: usize,
        removed: usize,
        inserted: &[u8],
    ) {
        let start = start.min(text.len());
        let end = (start + removed).min(text.len());
        let old_len = text.len();
        text.splice(start..end, inserted.iter().copied());
        log.record(
            ChangedBytes {
                start,
                old_end: end,
                new_end: start + inserted.len(),
            },
            old_len,
        );
    }

    #[test]
    fn nothing_changed_since_now_and_too_old_is_unknown() {
        let mut log = EditLog::default();
        let mut text = b"hello".to_vec();
        let opened = log.revision();
        assert_eq!(log.since(opened, 5).map(|change| change.start), Some(5));
        replace(&mut text, &mut log, 0, 1, b"j");
        let second = log.revision();
        for _ in 0..KEPT {
            replace(&mut text, &mut log, 0, 1, b"j");
        }
        assert!(log.since(opened, text.len()).is_none());
        assert!(log.since(second, text.len()).is_some());
        assert!(log.since(log.revision(), text.len() + 1).is_none());
        // Another document's revisions mean nothing here.
        let other = EditLog::default();
        assert!(log.since(other.revision(), text.len()).is_none());
        assert!(other.since(second, 5).is_none());
    }

    proptest! {
        /// The change since any revision covers every byte that differs: before its
        /// start and after its ends, the old and new texts are the same.
        #[test]
        fn the_change_since_a_revision_covers_what_differs(
            initial in proptest::collection::vec(b'a'..b'e', 0..60),
            edits in proptest::collection::vec(
                (0usize..70, 0usize..8, proptest::collection::vec(b'a'..b'e', 0..8)),
                1..12,
            ),
            from in 0usize..12,
        ) {
            let mut text = initial;
            let mut log = EditLog::default();
            let mut history = vec![(log.revision(), text.clone())];
            for (start, removed, inserted) in &edits {
                replace(&mut text, &mut log, *start, *removed, inserted);
                history.push((log.revision(), text.clone()));
            }
            let (revision, old) = &history[from.min(edits.len())];
            let change = log.since(*revision, text.len()).expect("kept");
            prop_assert!(change.start <= change.old_end && change.old_end <= old.len());
            prop_assert!(change.start <= change.new_end && change.new_end <= text.len());
            prop_assert_eq!(old.len() - change.old_end, text.len() - change.new_end);
            prop_assert_eq!(&old[..change.start], &text[..change.start]);
            prop_assert_eq!(&old[change.old_end..], &text[change.new_end..]);
        }
    }
}

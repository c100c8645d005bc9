//! A small, bounded memo of cell analyses keyed by a blake3 hash of the source and the
//! aliases in scope, so that re-analysing an unchanged cell after an edit elsewhere
//! costs a hash.
//!
//! Bounded by evicting the oldest entry (insertion order); a poisoned lock just means
//! analysing without the memo. Analyses are kept and handed out by `Arc`: a hit or an
//! insert costs a reference count, not a copy of the analysis (a cold check inserts
//! every cell it analyses).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, LazyLock, Mutex};

use super::{Aliases, CellAnalysis, JcModule};

const CAPACITY: usize = 512;

#[derive(Default)]
struct Memo {
    entries: HashMap<[u8; 32], Arc<CellAnalysis>>,
    order: VecDeque<[u8; 32]>,
}

static MEMO: LazyLock<Mutex<Memo>> = LazyLock::new(|| Mutex::new(Memo::default()));

pub(crate) fn analyze_memoized(
    source: &str,
    aliases: &Aliases,
    analyze: fn(&str, &Aliases) -> CellAnalysis,
) -> Arc<CellAnalysis> {
    let key = memo_key(source, aliases);
    if let Ok(memo) = MEMO.lock()
        && let Some(analysis) = memo.entries.get(&key)
    {
        return Arc::clone(analysis);
    }
    let analysis = Arc::new(analyze(source, aliases));
    let mut evicted = None;
    if let Ok(mut memo) = MEMO.lock()
        && !memo.entries.contains_key(&key)
    {
        if memo.order.len() >= CAPACITY
            && let Some(oldest) = memo.order.pop_front()
        {
            evicted = memo.entries.remove(&oldest);
        }
        memo.order.push_back(key);
        memo.entries.insert(key, Arc::clone(&analysis));
    }
    // Freed (when no notebook holds it) after the lock is released: the other workers
    // do not wait for it.
    drop(evicted);
    analysis
}

/// Length-prefixed fields, so no two (source, aliases) pairs hash the same bytes.
fn memo_key(source: &str, aliases: &Aliases) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    let mut field = |bytes: &[u8]| {
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    field(b"jellycell-lsp analysis v1");
    field(source.as_bytes());
    for (local, module) in aliases.modules() {
        field(b"module");
        field(local.as_bytes());
        field(match module {
            JcModule::Package => b"jellycell",
            JcModule::Api => b"jellycell.api",
        });
    }
    for (local, function) in aliases.functions() {
        field(b"function");
        field(local.as_bytes());
        field(function.name().as_bytes());
    }
    if aliases.has_star_import() {
        field(b"star");
    }
    *hasher.finalize().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memo_key_differs_when_aliases_differ() {
        let mut aliases = Aliases::new();
        let plain = memo_key("J.load('a')", &aliases);
        aliases.insert_module("J", JcModule::Api);
        assert_ne!(plain, memo_key("J.load('a')", &aliases));
    }

    #[test]
    fn a_memo_hit_returns_the_same_analysis_shared_not_copied() {
        let source = "jc.deps('memo-test')\n";
        let first = analyze_memoized(
            source,
            &Aliases::new(),
            super::super::parse::analyze_uncached,
        );
        let second = analyze_memoized(source, &Aliases::new(), |_, _| CellAnalysis::default());
        assert_eq!(first, second);
        assert!(!first.jc_calls.is_empty());
        assert!(Arc::ptr_eq(&first, &second));
    }
}

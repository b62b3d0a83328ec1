//! A per-thread memo for tokenizers whose output for a raw segment does not depend on its
//! context (word, whitespace, prefix, and the fastembed flavour). Natural text repeats its words,
//! so each distinct raw segment is normalised, filtered, stemmed and hashed once; afterwards a
//! token costs one hash-map probe. Terms are interned, so documents are counted per term index
//! without hashing strings again.
//!
//! Counting stays per *term* (not per id), so two different terms whose ids collide are still
//! counted apart and resolved exactly as without the cache. The memo is bounded: it is emptied
//! between documents once it holds `MAX_SEGMENTS` raw segments.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::hash::{Hash, Hasher};

use rustc_hash::FxHashMap;

use crate::hash::token_id;

/// Raw segments remembered per thread and encoder before the memo starts over (a few tens of MB
/// at most for ordinary text).
const MAX_SEGMENTS: usize = 1 << 19;
/// Encoders whose memos one thread keeps at once.
const MAX_MEMOS_PER_THREAD: usize = 4;

/// A memo key: short segments (most words) are stored inside the table entry, so a lookup
/// compares bytes in place instead of following a pointer.
#[derive(Clone)]
enum SegmentKey {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

const INLINE: usize = 22;

impl SegmentKey {
    fn new(raw: &str) -> Self {
        if raw.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..raw.len()].copy_from_slice(raw.as_bytes());
            SegmentKey::Inline {
                len: raw.len() as u8,
                bytes,
            }
        } else {
            SegmentKey::Heap(raw.into())
        }
    }
}

impl Borrow<str> for SegmentKey {
    #[inline]
    fn borrow(&self) -> &str {
        match self {
            // SAFETY: the bytes were copied from a `&str` of exactly `len` bytes.
            SegmentKey::Inline { len, bytes } => unsafe {
                std::str::from_utf8_unchecked(&bytes[..usize::from(*len)])
            },
            SegmentKey::Heap(s) => s,
        }
    }
}

// Hash and equality are those of the text, as `Borrow<str>` requires.
impl Hash for SegmentKey {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        Borrow::<str>::borrow(self).hash(state);
    }
}

impl PartialEq for SegmentKey {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        Borrow::<str>::borrow(self) == Borrow::<str>::borrow(other)
    }
}

impl Eq for SegmentKey {}

#[derive(Default)]
pub struct TermCache {
    /// raw segment -> (range start in `expansions`, length); for one term, (term index, 1)
    segments: FxHashMap<SegmentKey, (u32, u32)>,
    /// term indices, in emission order, for every remembered segment
    expansions: Vec<u32>,
    /// term -> term index
    terms: FxHashMap<Box<str>, u32>,
    /// term index -> token id
    ids: Vec<u32>,
    /// term index -> occurrences in the current document
    counts: Vec<u32>,
    /// term indices of the current document, in order of first occurrence
    touched: Vec<u32>,
}

impl TermCache {
    fn intern(&mut self, term: &str) -> u32 {
        if let Some(&t) = self.terms.get(term) {
            return t;
        }
        let t = self.ids.len() as u32;
        self.terms.insert(term.into(), t);
        self.ids.push(token_id(term));
        self.counts.push(0);
        t
    }

    /// The term indices of `raw`, computing them with `expand` on first sight.
    #[inline]
    pub fn terms_of(&mut self, raw: &str, expand: impl FnOnce(&mut dyn FnMut(&str))) -> (u32, u32) {
        if let Some(&range) = self.segments.get(raw) {
            return range;
        }
        let mut found: Vec<u32> = Vec::new();
        expand(&mut |term: &str| found.push(self.intern(term)));
        // One term (the usual case) is stored in place of a range start.
        let range = if let [t] = found[..] {
            (t, 1)
        } else {
            let start = self.expansions.len() as u32;
            self.expansions.extend_from_slice(&found);
            (start, found.len() as u32)
        };
        self.segments.insert(SegmentKey::new(raw), range);
        range
    }

    /// Count one occurrence of every term of `range` in the current document; returns how many.
    #[inline]
    pub fn count(&mut self, range: (u32, u32)) -> usize {
        let (start, len) = (range.0 as usize, range.1 as usize);
        if len == 1 {
            self.count_term(range.0);
        } else {
            for k in start..start + len {
                self.count_term(self.expansions[k]);
            }
        }
        len
    }

    #[inline]
    fn count_term(&mut self, t: u32) {
        let c = &mut self.counts[t as usize];
        if *c == 0 {
            self.touched.push(t);
        }
        *c += 1;
    }

    /// The current document's (id, order of first occurrence, count) rows; resets the counts.
    pub fn drain_document(&mut self, mut each: impl FnMut(u32, u32, u32)) {
        for (order, &t) in self.touched.iter().enumerate() {
            let c = std::mem::take(&mut self.counts[t as usize]);
            each(self.ids[t as usize], order as u32, c);
        }
        self.touched.clear();
    }

    /// The current document's ids (for queries); resets the counts.
    pub fn drain_ids(&mut self, out: &mut Vec<u32>) {
        for &t in &self.touched {
            self.counts[t as usize] = 0;
            out.push(self.ids[t as usize]);
        }
        self.touched.clear();
    }

    fn trim(&mut self) {
        if self.segments.len() > MAX_SEGMENTS {
            *self = TermCache::default();
        }
    }
}

thread_local! {
    static MEMOS: RefCell<Vec<(u64, TermCache)>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` with this thread's memo for `key` (an encoder and mode). Memos of other keys are kept
/// up to `MAX_MEMOS_PER_THREAD`, most recently used last.
pub fn with_cache<R>(key: u64, f: impl FnOnce(&mut TermCache) -> R) -> R {
    MEMOS.with(|memos| {
        let mut memos = memos.borrow_mut();
        let pos = match memos.iter().position(|(k, _)| *k == key) {
            Some(pos) => pos,
            None => {
                if memos.len() >= MAX_MEMOS_PER_THREAD {
                    memos.remove(0);
                }
                memos.push((key, TermCache::default()));
                memos.len() - 1
            }
        };
        let last = memos.len() - 1;
        memos.swap(pos, last);
        let cache = &mut memos[last].1;
        cache.trim();
        f(cache)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_short_and_long_round_trip() {
        let mut cache = TermCache::default();
        let long = "x".repeat(INLINE + 5);
        for raw in ["a", "exactly-twenty-two-byt", long.as_str(), "é"] {
            let r = cache.terms_of(raw, |push| push(raw));
            assert_eq!(cache.terms_of(raw, |_| panic!("memoised")), r);
        }
        assert_eq!(cache.segments.len(), 4);
    }
}

//! A per-thread memo for tokenizers whose output for a raw segment does not depend on its
//! context (word, whitespace, prefix, and the fastembed flavour). Natural text repeats its words,
//! so each distinct raw segment is normalised, filtered, stemmed and hashed once; afterwards a
//! token costs one hash-map probe. Terms are interned, so documents are counted per term index
//! without hashing strings again.
//!
//! Counting stays per *term* (not per id), so two different terms whose ids collide are still
//! counted apart and resolved exactly as without the cache.
//!
//! The memo is bounded in bytes: once it holds more than [`MAX_MEMO_BYTES`] (an estimate of its
//! heap use), it is freed and started over between documents. Very long prefix-tokenizer words
//! are not memoised at all (see [`TermCache::count_long_prefixes`]).

use std::borrow::Borrow;
use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::mem::size_of;

use rustc_hash::FxHashMap;

use crate::hash::{token_id, PrefixHasher};

/// Heap bytes one memo may hold before it is dropped and rebuilt (between documents).
pub const MAX_MEMO_BYTES: usize = 16 << 20;
/// Encoders (and modes) whose memos one thread keeps at once; with [`MAX_MEMO_BYTES`] this
/// bounds a thread's memos to 64 MiB plus the words of the document being encoded.
pub const MAX_MEMOS_PER_THREAD: usize = 4;
/// Prefix-tokenizer words longer than this (in chars, after processing) are not memoised: their
/// prefixes up to this length are interned as usual, the longer ones are counted per document.
pub const LONG_WORD_CHARS: usize = 64;

/// Estimated heap bytes of one hash-table entry holding `T` (slot, control byte, load factor).
const fn entry<T>() -> usize {
    (size_of::<T>() + 1) * 8 / 7
}

/// A memo key: short segments (most words) are stored inside the table entry, so a lookup
/// compares bytes in place instead of following a pointer.
#[derive(Clone)]
enum SegmentKey {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

const INLINE: usize = 22;

impl SegmentKey {
    // `raw.len() <= INLINE` (22) here, so it fits u8.
    #[allow(clippy::cast_possible_truncation)]
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
    /// estimated heap bytes of the memo (segments, expansions, terms, ids, counts)
    bytes: usize,
    /// the current document's prefixes of long words (not memoised)
    long: LongPrefixes,
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
    // Hot-path file (issue 15): an allow for now, to become `u32::try_from` there. Bound: indices
    // count the memo's distinct terms (or a long word's prefixes); the memo is trimmed to
    // `MAX_MEMO_BYTES` between documents, so past that only one document adds to it, and 2^32
    // distinct terms in one document would take tens of GB of text.
    #[allow(clippy::cast_possible_truncation)]
    fn intern(&mut self, term: &str) -> u32 {
        if let Some(&t) = self.terms.get(term) {
            return t;
        }
        let t = self.ids.len() as u32;
        self.bytes += term.len() + entry::<(Box<str>, u32)>() + 2 * size_of::<u32>();
        self.terms.insert(term.into(), t);
        self.ids.push(token_id(term));
        self.counts.push(0);
        t
    }

    /// The memoised term indices of `raw`, if it was seen before.
    #[inline]
    pub fn memoised(&self, raw: &str) -> Option<(u32, u32)> {
        self.segments.get(raw).copied()
    }

    /// The term indices of `raw`, computing them with `expand` on first sight.
    #[inline]
    pub fn terms_of(&mut self, raw: &str, expand: impl FnOnce(&mut dyn FnMut(&str))) -> (u32, u32) {
        if let Some(&range) = self.segments.get(raw) {
            return range;
        }
        self.memoise(raw, expand)
    }

    /// Compute and remember the term indices of `raw` (not yet memoised).
    // As `intern`: below 2^32 (see there).
    #[allow(clippy::cast_possible_truncation)]
    pub fn memoise(&mut self, raw: &str, expand: impl FnOnce(&mut dyn FnMut(&str))) -> (u32, u32) {
        let mut found: Vec<u32> = Vec::new();
        expand(&mut |term: &str| found.push(self.intern(term)));
        // One term (the usual case) is stored in place of a range start.
        let range = if let [t] = found[..] {
            (t, 1)
        } else {
            let start = self.expansions.len() as u32;
            self.expansions.extend_from_slice(&found);
            self.bytes += found.len() * size_of::<u32>();
            (start, found.len() as u32)
        };
        let key = SegmentKey::new(raw);
        if let SegmentKey::Heap(s) = &key {
            self.bytes += s.len();
        }
        self.bytes += entry::<(SegmentKey, (u32, u32))>();
        self.segments.insert(key, range);
        range
    }

    /// Count the prefixes of one long processed word (more than [`LONG_WORD_CHARS`] chars) in
    /// the current document without memoising them: the prefixes of `min..=min(max, len)` chars,
    /// as the prefix tokenizer emits them, in that order. Those of up to [`LONG_WORD_CHARS`]
    /// chars are interned like any term (they are short); the longer ones are told apart by a
    /// per-document byte trie and hashed incrementally, so the work and memory are linear in
    /// the word's length instead of quadratic. Returns how many terms were counted.
    pub fn count_long_prefixes(&mut self, token: &str, min: usize, max: usize) -> usize {
        let chars = token.chars().count();
        let hi = max.min(chars);
        // `min_token_len: 0` makes Qdrant emit the empty prefix too (hash 0), once per word.
        let mut counted = 0usize;
        if min == 0 {
            let t = self.intern("");
            self.count_term(t);
            counted += 1;
        }
        let lo = min.max(1);
        if lo > hi {
            return counted;
        }
        let bytes = token.as_bytes();
        let mut hasher = PrefixHasher::default();
        let mut node = 0u32;
        let mut n = 0usize;
        for (i, &b) in bytes.iter().enumerate() {
            hasher.push(b);
            node = self.long.child(node, b);
            if !token.is_char_boundary(i + 1) {
                continue;
            }
            n += 1;
            if n >= lo {
                if n <= LONG_WORD_CHARS {
                    let t = self.intern(&token[..=i]);
                    self.count_term(t);
                } else {
                    let order = self.touched.len();
                    self.long.count(node, || hasher.token_id(), order);
                }
                counted += 1;
            }
            if n == hi {
                break;
            }
        }
        counted
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
    /// Orders compare as the terms' first occurrences do; their values are otherwise opaque.
    pub fn drain_document(&mut self, mut each: impl FnMut(u32, u64, u32)) {
        for (order, &t) in self.touched.iter().enumerate() {
            let c = std::mem::take(&mut self.counts[t as usize]);
            each(self.ids[t as usize], (order as u64 + 1) << 32, c);
        }
        self.touched.clear();
        for &(id, order, c) in &self.long.rows {
            each(id, order, c);
        }
        self.long.clear();
    }

    /// The current document's ids (for queries); resets the counts.
    pub fn drain_ids(&mut self, out: &mut Vec<u32>) {
        for &t in &self.touched {
            self.counts[t as usize] = 0;
            out.push(self.ids[t as usize]);
        }
        self.touched.clear();
        out.extend(self.long.rows.iter().map(|&(id, _, _)| id));
        self.long.clear();
    }

    /// Estimated heap bytes held by the memo (the tests check the budget with it).
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Free the memo once it is over its budget (called between documents).
    fn trim(&mut self) {
        if self.bytes > MAX_MEMO_BYTES {
            *self = TermCache::default();
        }
    }
}

/// The prefixes longer than [`LONG_WORD_CHARS`] chars of the current document's long words:
/// a byte trie (each node is one distinct prefix, so equal prefixes of different words meet
/// at one node) and one row per distinct prefix counted.
#[derive(Default)]
struct LongPrefixes {
    /// (node, next byte) -> child node; node 0 is the empty prefix
    children: FxHashMap<(u32, u8), u32>,
    /// node -> its row in `rows`
    row_of: FxHashMap<u32, u32>,
    /// (id, order of first occurrence, count)
    rows: Vec<(u32, u64, u32)>,
}

impl LongPrefixes {
    #[inline]
    // As `TermCache::intern`: below 2^32 (see there).
    #[allow(clippy::cast_possible_truncation)]
    fn child(&mut self, node: u32, byte: u8) -> u32 {
        let next = self.children.len() as u32 + 1;
        *self.children.entry((node, byte)).or_insert(next)
    }

    /// Count one occurrence of the prefix at `node`; `touched` memo terms were first seen
    /// before it, which places it between those and the next one in first-occurrence order.
    #[inline]
    // As `TermCache::intern`: below 2^32 (see there).
    #[allow(clippy::cast_possible_truncation)]
    fn count(&mut self, node: u32, id: impl FnOnce() -> u32, touched: usize) {
        let next = self.rows.len() as u32;
        let row = *self.row_of.entry(node).or_insert(next);
        if row == next {
            let order = ((touched as u64) << 32) | (u64::from(next) + 1).min(u64::from(u32::MAX));
            self.rows.push((id(), order, 0));
        }
        self.rows[row as usize].2 += 1;
    }

    fn clear(&mut self) {
        if self.rows.is_empty() && self.children.is_empty() {
            return;
        }
        // Keep the tables of ordinary documents for reuse; free those of an outsized one.
        if self.children.capacity() > 1 << 16 {
            *self = LongPrefixes::default();
        } else {
            self.children.clear();
            self.row_of.clear();
            self.rows.clear();
        }
    }
}

thread_local! {
    static MEMOS: RefCell<Vec<(u64, TermCache)>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` with this thread's memo for `key` (an encoder and mode). Memos of other keys are kept
/// up to `MAX_MEMOS_PER_THREAD`, most recently used last.
// Hot-path file (issue 15), left as written for now: the unwind guard is declared where it is
// used, after the lookup.
#[allow(clippy::items_after_statements, clippy::single_match_else)]
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
        // If `f` panics mid-document, its counts are half-updated: drop this memo rather than
        // let the next document start from them.
        struct ResetOnUnwind<'a>(&'a mut TermCache);
        impl Drop for ResetOnUnwind<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    *self.0 = TermCache::default();
                }
            }
        }
        let guard = ResetOnUnwind(cache);
        f(&mut *guard.0)
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

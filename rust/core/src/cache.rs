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

// Indices into the memo's vectors are u32 by design (half the memory of usize in the hot
// tables); the memo is freed past MAX_MEMO_BYTES, far below 2^32 entries, so the `usize as u32`
// casts cannot truncate. Packed keys split a u64 into (id, rank) halves on purpose.
#![allow(clippy::cast_possible_truncation)]

use std::cell::RefCell;
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

/// The memo's key of a raw segment: its length and, for segments of up to 16 bytes (most
/// words), its bytes packed into two words. Made once per segment with at most two pairs of
/// loads (no loop), it gives both the hash and an exact equality test by integer compares, so a
/// lookup neither hashes the bytes again nor calls `memcmp`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SegmentKey {
    len: u32,
    /// Short: the first 8 bytes (or 4, or 3 sampled); long: the hash of all the bytes.
    a: u64,
    /// Short: the last 8 bytes (or 4); long: 0.
    b: u64,
}

/// Segments up to this many bytes are keyed by their bytes; longer ones by a hash plus a byte
/// comparison against the memo's copy.
const SHORT: usize = 16;

#[inline(always)]
fn load_u64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

#[inline(always)]
fn load_u32(bytes: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes(
        bytes[at..at + 4].try_into().expect("4 bytes"),
    ))
}

/// A 64x64 -> 128-bit multiply folded to 64 bits: the mixing step of wyhash/foldhash.
#[inline(always)]
fn fold_mul(x: u64, y: u64) -> u64 {
    let p = u128::from(x) * u128::from(y);
    (p as u64) ^ ((p >> 64) as u64)
}

const SEED0: u64 = 0x243f_6a88_85a3_08d3;
const SEED1: u64 = 0x1319_8a2e_0370_7344;
const SEED2: u64 = 0xa409_3822_299f_31d0;

impl SegmentKey {
    #[inline(always)]
    pub fn new(raw: &str) -> Self {
        let bytes = raw.as_bytes();
        let len = bytes.len();
        // Given the length, (a, b) determine the bytes: the two loads overlap and cover them all.
        let (a, b) = if len >= 8 {
            if len <= SHORT {
                (load_u64(bytes, 0), load_u64(bytes, len - 8))
            } else {
                (long_hash(bytes), 0)
            }
        } else if len >= 4 {
            (load_u32(bytes, 0), load_u32(bytes, len - 4))
        } else if len > 0 {
            let a = u64::from(bytes[0])
                | (u64::from(bytes[len / 2]) << 8)
                | (u64::from(bytes[len - 1]) << 16);
            (a, 0)
        } else {
            (0, 0)
        };
        SegmentKey {
            len: len as u32,
            a,
            b,
        }
    }

    #[inline(always)]
    fn is_short(&self) -> bool {
        self.len as usize <= SHORT
    }

    /// The table hash. Fixed seeds: the same corpus always builds the same table.
    #[inline(always)]
    fn hash(&self) -> u64 {
        fold_mul(self.a ^ SEED0, self.b ^ SEED1 ^ u64::from(self.len))
    }
}

/// The hash of a long segment's bytes (more than [`SHORT`]), 16 bytes at a time.
#[inline(never)]
fn long_hash(bytes: &[u8]) -> u64 {
    let mut h = SEED2 ^ bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(16);
    for c in &mut chunks {
        h = fold_mul(load_u64(c, 0) ^ SEED0 ^ h, load_u64(c, 8) ^ SEED1);
    }
    // The last 16 bytes (overlapping the chunks) cover the tail.
    let n = bytes.len();
    fold_mul(
        load_u64(bytes, n - 16) ^ SEED0 ^ h,
        load_u64(bytes, n - 8) ^ SEED2,
    )
}

/// One slot of [`Segments`]: 32 bytes, two to a cache line.
#[derive(Clone, Copy)]
struct Slot {
    a: u64,
    b: u64,
    /// the segment's length; `EMPTY` for a free slot
    len: u32,
    /// long segments: where their bytes start in `Segments::long_bytes`
    at: u32,
    /// the memoised (range start, length), see [`TermCache::terms_of`]
    start: u32,
    n: u32,
}

const EMPTY: u32 = u32::MAX;
const FREE: Slot = Slot {
    a: 0,
    b: 0,
    len: EMPTY,
    at: 0,
    start: 0,
    n: 0,
};

/// Raw segment -> memoised range: an open-addressing table (linear probing, at most half
/// full) over [`SegmentKey`]s, which carry their own hash and compare as integers. Long
/// segments' bytes live in one buffer, so memoising one allocates nothing per segment.
#[derive(Default)]
struct Segments {
    slots: Vec<Slot>,
    used: usize,
    long_bytes: Vec<u8>,
}

impl Segments {
    #[inline(always)]
    fn find(&self, key: &SegmentKey, raw: &str) -> Result<(u32, u32), usize> {
        if self.slots.is_empty() {
            return Err(usize::MAX);
        }
        let mask = self.slots.len() - 1;
        let mut i = key.hash() as usize & mask;
        loop {
            let s = &self.slots[i];
            if s.len == EMPTY {
                return Err(i);
            }
            if s.len == key.len
                && s.a == key.a
                && s.b == key.b
                && (key.is_short()
                    || self.long_bytes[s.at as usize..s.at as usize + raw.len()] == *raw.as_bytes())
            {
                return Ok((s.start, s.n));
            }
            i = (i + 1) & mask;
        }
    }

    /// Insert `raw` (not present) with its range.
    fn insert(&mut self, key: &SegmentKey, raw: &str, range: (u32, u32)) {
        if (self.used + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let Err(i) = self.find(key, raw) else {
            unreachable!("inserted twice")
        };
        let at = if key.is_short() {
            0
        } else {
            let at = self.long_bytes.len() as u32;
            self.long_bytes.extend_from_slice(raw.as_bytes());
            at
        };
        self.slots[i] = Slot {
            a: key.a,
            b: key.b,
            len: key.len,
            at,
            start: range.0,
            n: range.1,
        };
        self.used += 1;
    }

    fn grow(&mut self) {
        let cap = (self.slots.len() * 2).max(256);
        let old = std::mem::replace(&mut self.slots, vec![FREE; cap]);
        let mask = cap - 1;
        for s in old.into_iter().filter(|s| s.len != EMPTY) {
            let key = SegmentKey {
                len: s.len,
                a: s.a,
                b: s.b,
            };
            let mut i = key.hash() as usize & mask;
            while self.slots[i].len != EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }

    /// Heap bytes held.
    fn bytes(&self) -> usize {
        self.slots.capacity() * size_of::<Slot>() + self.long_bytes.capacity()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.used
    }
}

#[derive(Default)]
pub struct TermCache {
    /// estimated heap bytes of the memo (segments, expansions, terms, ids, counts)
    bytes: usize,
    /// the current document's prefixes of long words (not memoised)
    long: LongPrefixes,
    /// raw segment -> (range start in `expansions`, length); for one term, (term index, 1)
    segments: Segments,
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
    // The `as u32` casts of this file (allowed file-wide, above) stay below 2^32: indices
    // count the memo's distinct terms (or a long word's prefixes); the memo is trimmed to
    // `MAX_MEMO_BYTES` between documents, so past that only one document adds to it, and 2^32
    // distinct terms in one document would take tens of GB of text.
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

    /// The memoised term indices of `raw` (keyed `key`), if it was seen before.
    #[inline(always)]
    pub fn memoised(&self, key: &SegmentKey, raw: &str) -> Option<(u32, u32)> {
        self.segments.find(key, raw).ok()
    }

    /// The term indices of `raw`, computing them with `expand` on first sight.
    #[cfg(test)]
    pub fn terms_of(&mut self, raw: &str, expand: impl FnOnce(&mut dyn FnMut(&str))) -> (u32, u32) {
        let key = SegmentKey::new(raw);
        if let Ok(range) = self.segments.find(&key, raw) {
            return range;
        }
        self.memoise(&key, raw, expand)
    }

    /// Compute and remember the term indices of `raw` (keyed `key`, not yet memoised).
    #[inline(never)]
    pub fn memoise(
        &mut self,
        key: &SegmentKey,
        raw: &str,
        expand: impl FnOnce(&mut dyn FnMut(&str)),
    ) -> (u32, u32) {
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
        self.segments.insert(key, raw, range);
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
        let lo = min.max(1);
        let mut counted = 0usize;
        // `min_token_len` 0: the empty prefix comes first, as `prefixes` emits it.
        if min == 0 {
            let t = self.intern("");
            self.count_term(t);
            counted += 1;
        }
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
    #[inline(always)]
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

    #[inline(always)]
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

    /// The current document's distinct terms as sort keys `(id << 32) | k` and `counts[k]`,
    /// `k` numbering them in order of first occurrence; resets the counts. Returns false (and
    /// does nothing) when the document has long prefix-tokenizer words, whose rows need
    /// [`TermCache::drain_document`].
    #[inline]
    pub fn drain_keys(&mut self, keys: &mut Vec<u64>, counts: &mut Vec<u32>) -> bool {
        if !self.long.rows.is_empty() {
            return false;
        }
        keys.reserve(self.touched.len());
        counts.reserve(self.touched.len());
        for (k, &t) in self.touched.iter().enumerate() {
            let c = std::mem::take(&mut self.counts[t as usize]);
            keys.push((u64::from(self.ids[t as usize]) << 32) | k as u64);
            counts.push(c);
        }
        self.touched.clear();
        true
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

    /// Estimated heap bytes held by the memo.
    pub fn bytes(&self) -> usize {
        self.bytes + self.segments.bytes()
    }

    /// Free the memo once it is over its budget (call between documents).
    pub fn trim(&mut self) {
        if self.bytes() > MAX_MEMO_BYTES {
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
    fn child(&mut self, node: u32, byte: u8) -> u32 {
        let next = self.children.len() as u32 + 1;
        *self.children.entry((node, byte)).or_insert(next)
    }

    /// Count one occurrence of the prefix at `node`; `touched` memo terms were first seen
    /// before it, which places it between those and the next one in first-occurrence order.
    #[inline]
    // As `TermCache::intern`: below 2^32 (see there).
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
        let long = "x".repeat(SHORT + 5);
        let raws = [
            "a",
            "ab",
            "abc",
            "abd",
            "acc",
            "abcd",
            "abce",
            "abcdefg",
            "abcdefh",
            "bbcdefg",
            "exactly-sixteen!",
            "exactly-sixteen?",
            "seventeen-bytes!!",
            "seventeen-bytes!?",
            long.as_str(),
            "é",
            "éé",
            "",
        ];
        // Enough segments to grow the table several times; every one keeps its own range.
        let many: Vec<String> = (0..5000).map(|i| format!("w{i}")).collect();
        let all: Vec<&str> = raws
            .iter()
            .copied()
            .chain(many.iter().map(String::as_str))
            .collect();
        let ranges: Vec<(u32, u32)> = all
            .iter()
            .map(|raw| cache.terms_of(raw, |push| push(raw)))
            .collect();
        for (raw, r) in all.iter().zip(&ranges) {
            assert_eq!(cache.terms_of(raw, |_| panic!("memoised {raw:?}")), *r);
            assert_eq!(cache.terms[*raw], r.0, "{raw:?}");
        }
        assert_eq!(cache.segments.len(), all.len());
    }
}

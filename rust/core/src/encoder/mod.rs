//! The encoder: tokenizes a text with the configured flavour, counts terms, hashes them to ids
//! and weights them. Documents get BM25 term-frequency weights; queries get weight 1 per
//! distinct id. Indices come out strictly ascending in both flavours.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use rustc_hash::FxHashMap;

use crate::cache::{self, SegmentKey, TermCache};
use crate::error::Result;
use crate::hash::token_id;
use crate::options::{Config, Flavor};
use crate::process::Processor;
use crate::tokenize::{self, pyword, TokenizerKind};
use crate::weight;

pub(crate) mod assemble;
mod batch;
mod explain;
mod sparse;

pub use crate::tokenize::Mode;
pub use batch::BatchError;
pub use explain::Explained;
pub use sparse::{Csr, FirstOccurrenceCsr, SparseVec};

/// Weights of counts up to this are remembered per document (see [`Scratch::weights`]).
const MEMO_WEIGHTS: usize = 64;

/// Per-document scratch space, reused across the documents of a batch.
#[derive(Default)]
struct Scratch {
    /// `(id << 32) | k` per distinct term, `k` its rank in order of first occurrence.
    keys: Vec<u64>,
    /// Occurrences of each distinct term, by rank.
    counts: Vec<u32>,
    /// (id, order of first occurrence, weight): the general path's rows.
    rows: Vec<(u32, u64, f32)>,
    /// The weights of n = 1.. occurrences in the current document, filled on first use
    /// (most terms occur once or a few times; each weight costs a division).
    weights: Vec<f32>,
}

#[derive(Debug)]
pub struct Encoder {
    config: Config,
    processor: Processor,
    /// Distinguishes this encoder's per-thread memos from other encoders'.
    uid: u64,
}

static NEXT_UID: AtomicU64 = AtomicU64::new(0);

impl Encoder {
    pub fn new(config: Config) -> Result<Self> {
        let processor = assemble::processor(&config);
        let uid = NEXT_UID.fetch_add(1, Ordering::Relaxed);
        Ok(Encoder {
            config,
            processor,
            uid,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Every final term of `text`, in order, duplicates included.
    #[inline]
    // Hot-path file (issue 15): left as written for now (a unit-returning arm without `;`).
    #[allow(clippy::semicolon_if_nothing_returned)]
    pub fn for_each_term<'a, F: FnMut(Cow<'a, str>)>(&self, text: &'a str, mode: Mode, emit: F) {
        match self.config.flavor {
            Flavor::Qdrant => {
                tokenize::tokenize(self.config.tokenizer, text, &self.processor, mode, emit)
            }
            Flavor::Fastembed => pyword::tokenize(text, &self.processor, emit),
        }
    }

    /// The final terms of `text`, in order.
    pub fn terms(&self, text: &str, mode: Mode) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_term(text, mode, |t| out.push(t.into_owned()));
        out
    }

    pub fn encode(&self, text: &str, mode: Mode) -> SparseVec {
        let mut out = SparseVec::default();
        self.encode_to(text, mode, &mut out);
        out
    }

    /// [`Self::encode`] into `out` (cleared first), so that a caller encoding one text at a
    /// time can reuse its buffers.
    pub fn encode_to(&self, text: &str, mode: Mode, out: &mut SparseVec) {
        out.indices.clear();
        out.values.clear();
        self.encode_each(
            std::slice::from_ref(&text),
            mode,
            &mut out.indices,
            &mut out.values,
            |_| {},
        );
    }

    /// Append the vector of each text to `indices`/`values`, calling `end_row` with the
    /// length of `indices` after each one. The per-thread memo is taken once for all of them.
    fn encode_each<S: AsRef<str>>(
        &self,
        texts: &[S],
        mode: Mode,
        indices: &mut Vec<u32>,
        values: &mut Vec<f32>,
        mut end_row: impl FnMut(usize),
    ) {
        let mut scratch = Scratch::default();
        if self.memoisable() {
            cache::with_cache(self.memo_key(mode), |cache| {
                for text in texts {
                    cache.trim();
                    let text = text.as_ref();
                    match mode {
                        Mode::Document => {
                            let doc_len = self.count_segments(text, mode, cache);
                            let Scratch { keys, counts, .. } = &mut scratch;
                            keys.clear();
                            counts.clear();
                            if cache.drain_keys(keys, counts) {
                                self.emit_keyed(doc_len, &mut scratch, indices, values);
                            } else {
                                let rows = &mut scratch.rows;
                                rows.clear();
                                let weigh = self.weigh();
                                let params = &self.config.params;
                                cache.drain_document(|id, first, n| {
                                    rows.push((id, first, weigh(n, doc_len, params)));
                                });
                                Self::emit_rows(rows, indices, values);
                            }
                        }
                        Mode::Query => {
                            let start = indices.len();
                            self.count_segments(text, mode, cache);
                            cache.drain_ids(indices);
                            Self::finish_query(start, indices, values);
                        }
                    }
                    end_row(indices.len());
                }
            });
        } else {
            for text in texts {
                let text = text.as_ref();
                match mode {
                    Mode::Document => {
                        self.encode_document_plain(text, &mut scratch.rows, indices, values);
                    }
                    Mode::Query => {
                        let start = indices.len();
                        self.for_each_term(text, Mode::Query, |term| indices.push(token_id(&term)));
                        Self::finish_query(start, indices, values);
                    }
                }
                end_row(indices.len());
            }
        }
    }

    fn weigh(&self) -> fn(u32, usize, &crate::weight::Params) -> f32 {
        match self.config.flavor {
            Flavor::Qdrant => weight::qdrant,
            Flavor::Fastembed => weight::fastembed,
        }
    }

    /// Whether terms can be memoised per raw segment (see `crate::cache`).
    fn memoisable(&self) -> bool {
        self.config.flavor == Flavor::Fastembed || tokenize::is_local(self.config.tokenizer)
    }

    /// Feed every raw segment's memoised terms to `cache`; returns the number of terms.
    fn count_segments(&self, text: &str, mode: Mode, cache: &mut TermCache) -> usize {
        let mut total = 0;
        let long_prefixes = self.config.flavor == Flavor::Qdrant
            && self.config.tokenizer == TokenizerKind::Prefix
            && mode == Mode::Document;
        let mut one = |raw: &str| {
            let key = SegmentKey::new(raw);
            if let Some(range) = cache.memoised(&key, raw) {
                total += cache.count(range);
                return;
            }
            if long_prefixes {
                total += self.count_prefix_word(raw, &key, cache);
                return;
            }
            let range = cache.memoise(&key, raw, |push| match self.config.flavor {
                Flavor::Fastembed => pyword::expand(raw, &self.processor, |t| push(&t)),
                Flavor::Qdrant => tokenize::expand_segment(
                    self.config.tokenizer,
                    raw,
                    &self.processor,
                    mode,
                    |t| push(&t),
                ),
            });
            total += cache.count(range);
        };
        match self.config.flavor {
            Flavor::Fastembed => pyword::split(text).for_each(&mut one),
            Flavor::Qdrant => tokenize::for_each_segment(self.config.tokenizer, text, &mut one),
        }
        total
    }

    /// A prefix-tokenizer document word not memoised yet: processed once; an ordinary word's
    /// prefixes are memoised, a long word's are counted without memoising (linear work and
    /// memory, see [`TermCache::count_long_prefixes`]). Returns the number of terms.
    fn count_prefix_word(&self, raw: &str, key: &SegmentKey, cache: &mut TermCache) -> usize {
        let token = if raw.is_empty() {
            None
        } else {
            self.processor.process(Cow::Borrowed(raw), false)
        };
        let min = self.processor.min_token_len.unwrap_or(1);
        let max = self.processor.max_token_len.unwrap_or(usize::MAX);
        match token {
            Some(token) if token.chars().nth(cache::LONG_WORD_CHARS).is_some() => {
                cache.count_long_prefixes(&token, min, max)
            }
            token => {
                let range = cache.memoise(key, raw, |push| {
                    if let Some(token) = token {
                        tokenize::prefix::prefixes(token, min, max, |t| push(&t));
                    }
                });
                cache.count(range)
            }
        }
    }

    fn memo_key(&self, mode: Mode) -> u64 {
        self.uid * 2 + u64::from(mode == Mode::Query)
    }

    /// A document's rows from [`TermCache::drain_keys`]: sorted as packed keys (id, then
    /// first occurrence), each weight computed once per distinct count.
    // Packed u64 keys are split into their u32 halves on purpose.
    #[allow(clippy::cast_possible_truncation)]
    fn emit_keyed(
        &self,
        doc_len: usize,
        scratch: &mut Scratch,
        indices: &mut Vec<u32>,
        values: &mut Vec<f32>,
    ) {
        let Scratch {
            keys,
            counts,
            weights,
            ..
        } = scratch;
        keys.sort_unstable();
        weights.clear();
        let weigh = self.weigh();
        let params = &self.config.params;
        indices.reserve(keys.len());
        values.reserve(keys.len());
        let start = indices.len();
        for &key in keys.iter() {
            // The packed key's halves: the id above, the rank below (see `Scratch::keys`).
            let (id, rank) = ((key >> 32) as u32, key as u32);
            let n = counts[rank as usize];
            let slot = n as usize - 1;
            let value = match weights.get(slot) {
                Some(&w) if !w.is_nan() => w,
                _ => {
                    let w = weigh(n, doc_len, params);
                    if slot < MEMO_WEIGHTS {
                        if weights.len() <= slot {
                            weights.resize(slot + 1, f32::NAN);
                        }
                        weights[slot] = w;
                    }
                    w
                }
            };
            // Distinct terms that share an id (a hash collision, or h and -h folded by abs):
            // the term that occurs first later in the text wins, as in fastembed (Qdrant's
            // choice is arbitrary there). Keys of one id are in first-occurrence order.
            if indices.len() > start && indices.last() == Some(&id) {
                *values.last_mut().unwrap() = value;
            } else {
                indices.push(id);
                values.push(value);
            }
        }
    }

    /// Sort (id, first occurrence, weight) rows and append them, the last-occurring term of a
    /// shared id winning (see [`Encoder::emit_keyed`]).
    fn emit_rows(rows: &mut [(u32, u64, f32)], indices: &mut Vec<u32>, values: &mut Vec<f32>) {
        rows.sort_unstable_by_key(|&(id, first, _)| (id, first));
        let start = indices.len();
        for &(id, _, value) in rows.iter() {
            if indices.len() > start && indices.last() == Some(&id) {
                *values.last_mut().unwrap() = value;
            } else {
                indices.push(id);
                values.push(value);
            }
        }
    }

    /// A document of a tokenizer that is not memoised per segment.
    fn encode_document_plain(
        &self,
        text: &str,
        rows: &mut Vec<(u32, u64, f32)>,
        indices: &mut Vec<u32>,
        values: &mut Vec<f32>,
    ) {
        let params = &self.config.params;
        let weigh = self.weigh();
        rows.clear();
        // term -> (count, order of first occurrence)
        let mut counts: FxHashMap<Cow<'_, str>, (u32, u64)> = FxHashMap::default();
        let mut doc_len = 0usize;
        self.for_each_term(text, Mode::Document, |term| {
            let next = counts.len() as u64;
            counts.entry(term).or_insert((0, next)).0 += 1;
            doc_len += 1;
        });
        rows.extend(
            counts
                .iter()
                .map(|(term, &(n, first))| (token_id(term), first, weigh(n, doc_len, params))),
        );
        Self::emit_rows(rows, indices, values);
    }

    /// Sort and deduplicate the query ids appended after `start`; each gets weight 1.
    fn finish_query(start: usize, indices: &mut Vec<u32>, values: &mut Vec<f32>) {
        let mine = &mut indices[start..];
        mine.sort_unstable();
        let mut kept = start;
        for i in start..indices.len() {
            if kept == start || indices[i] != indices[kept - 1] {
                indices[kept] = indices[i];
                kept += 1;
            }
        }
        indices.truncate(kept);
        values.resize(indices.len(), 1.0);
    }

    /// Documents as fastembed lays them out (see [`FirstOccurrenceCsr`]), encoded one after
    /// another on this thread. For the fastembed flavour only (other flavours have no such
    /// layout); `None` otherwise.
    pub fn encode_first_occurrence<S: AsRef<str>>(
        &self,
        texts: &[S],
    ) -> Option<FirstOccurrenceCsr> {
        if self.config.flavor != Flavor::Fastembed {
            return None;
        }
        let params = &self.config.params;
        let mut out = FirstOccurrenceCsr {
            indptr: Vec::with_capacity(texts.len() + 1),
            indices: Vec::new(),
            values: Vec::new(),
        };
        out.indptr.push(0);
        // id -> its position in the current row
        let mut position: FxHashMap<u32, usize> = FxHashMap::default();
        let mut rows: Vec<(u32, u64, u32)> = Vec::new();
        cache::with_cache(self.memo_key(Mode::Document), |cache| {
            for text in texts {
                cache.trim();
                let doc_len = self.count_segments(text.as_ref(), Mode::Document, cache);
                rows.clear();
                cache.drain_document(|id, first, n| rows.push((id, first, n)));
                rows.sort_by_key(|&(_, first, _)| first);
                position.clear();
                let start = out.indices.len();
                for &(id, _, n) in &rows {
                    let value = weight::fastembed_f64(n, doc_len, params);
                    match position.entry(id) {
                        std::collections::hash_map::Entry::Occupied(e) => {
                            out.values[*e.get()] = value;
                        }
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(out.indices.len());
                            out.indices.push(id);
                            out.values.push(value);
                        }
                    }
                }
                debug_assert!(out.indices.len() - start <= rows.len());
                out.indptr.push(out.indices.len() as u64);
            }
        });
        Some(out)
    }
}

#[cfg(test)]
// Ids as the references print them; weights from the default parameters.
#[allow(
    clippy::unreadable_literal,
    clippy::default_trait_access,
    clippy::cast_possible_wrap
)]
mod tests {
    use super::*;
    use crate::weight::Params;

    fn enc(json: &str) -> Encoder {
        Encoder::new(Config::from_json(json).unwrap()).unwrap()
    }

    #[test]
    fn published_qdrant_example() {
        let v = enc("{}").encode("Recipe for baking chocolate chip cookies", Mode::Document);
        assert_eq!(
            v.indices,
            vec![112174620, 177304315, 662344706, 771857363, 1617337648]
        );
        assert!(v.values.iter().all(|&x| x == 1.669_730_2_f32));
        let q = enc("{}").encode("How to bake cookies?", Mode::Query);
        assert_eq!(q.indices, vec![112174620, 662344706]);
        assert_eq!(q.values, vec![1.0, 1.0]);
    }

    #[test]
    fn collisions_keep_one_id_deterministically() {
        let e = enc("{}");
        let a = e.encode("hello hello ccphujgn", Mode::Document);
        assert_eq!(a.indices, vec![613153351]);
        // ccphujgn (n=1) occurs first later, so its value wins.
        assert_eq!(a.values, vec![weight::qdrant(1, 3, &Default::default())]);
        let fe = enc(r#"{"flavor": "fastembed"}"#);
        let b = fe.encode("ccphujgn hello hello", Mode::Document);
        assert_eq!(b.values, vec![weight::fastembed(2, 3, &Default::default())]);
    }

    #[test]
    fn empty_stem_is_kept_by_qdrant_and_dropped_by_fastembed() {
        let v = enc(r#"{"language": "arabic"}"#).encode("\u{640}", Mode::Document);
        assert_eq!(v.indices, vec![0]);
        let v = enc(r#"{"flavor": "fastembed", "language": "arabic"}"#)
            .encode("\u{640}", Mode::Document);
        assert!(v.indices.is_empty());
    }

    #[test]
    fn batch_equals_one_by_one_in_parallel_too() {
        let texts: Vec<String> = (0..500)
            .map(|i| format!("document {i} about cookies and {} dogs", i % 7))
            .collect();
        let e = enc("{}");
        let serial = e.encode_batch(&texts, Mode::Document, 1).unwrap();
        let parallel = e.encode_batch(&texts, Mode::Document, 4).unwrap();
        assert_eq!(serial, parallel);
        // Uneven lengths: pieces cut by bytes still cover every text once, in order.
        let uneven: Vec<String> = (0..300)
            .map(|i| format!("w{i} ").repeat(if i % 50 == 0 { 400 } else { 1 + i % 3 }))
            .collect();
        for threads in [2, 3, 7] {
            assert_eq!(
                e.encode_batch(&uneven, Mode::Document, threads).unwrap(),
                e.encode_batch(&uneven, Mode::Document, 1).unwrap()
            );
        }
        assert_eq!(serial.len(), 500);
        assert_eq!(serial.row(3), e.encode(&texts[3], Mode::Document));
    }

    /// The plain (unmemoised) count of `terms`, the reference for the memoised paths.
    fn reference(e: &Encoder, text: &str) -> SparseVec {
        let mut rows = Vec::new();
        let mut counts: FxHashMap<String, (u32, u64)> = FxHashMap::default();
        let terms = e.terms(text, Mode::Document);
        for t in &terms {
            let next = counts.len() as u64;
            counts.entry(t.clone()).or_insert((0, next)).0 += 1;
        }
        for (t, &(n, first)) in &counts {
            rows.push((
                token_id(t),
                first,
                weight::qdrant(n, terms.len(), &e.config.params),
            ));
        }
        rows.sort_unstable_by_key(|&(id, first, _)| (id, first));
        let mut out = SparseVec::default();
        for (id, _, value) in rows {
            if out.indices.last() == Some(&id) {
                *out.values.last_mut().unwrap() = value;
            } else {
                out.indices.push(id);
                out.values.push(value);
            }
        }
        out
    }

    #[test]
    fn long_prefix_words_are_exact_and_not_memoised() {
        let long = "Ab".repeat(150);
        let texts = [
            format!("{long} {long}x {} the {long}", &long[..100]),
            format!("x{long} {}", "é".repeat(90)),
            format!("{} short words {}", "a".repeat(65), "a".repeat(200)),
        ];
        for cfg in [
            r#"{"tokenizer": "prefix"}"#,
            r#"{"tokenizer": "prefix", "min_token_len": 3, "max_token_len": 100}"#,
            r#"{"tokenizer": "prefix", "min_token_len": 70, "lowercase": false}"#,
            // min_token_len 0: the empty prefix is a term too (a bug once missed it here).
            r#"{"tokenizer": "prefix", "min_token_len": 0}"#,
            r#"{"tokenizer": "prefix", "min_token_len": 0, "max_token_len": 0}"#,
        ] {
            let e = enc(cfg);
            for text in &texts {
                assert_eq!(
                    e.encode(text, Mode::Document),
                    reference(&e, text),
                    "{cfg} {text}"
                );
            }
        }
        // 20,000 chars: 20,000 distinct prefixes counted, the memo keeps only short ones.
        let e = enc(r#"{"tokenizer": "prefix"}"#);
        let v = e.encode(&"x".repeat(20_000), Mode::Document);
        assert_eq!(v.indices.len(), 20_000);
        let bytes = cache::with_cache(e.memo_key(Mode::Document), |c| c.bytes());
        assert!(bytes < 64 * 1024, "memo holds {bytes} bytes");
    }

    #[test]
    fn memo_is_bounded_in_bytes() {
        let e = enc("{}");
        let word = |i: usize| format!("{i}{}", "q".repeat(4000));
        let mut most = 0;
        for i in 0..8000 {
            e.encode(&word(i), Mode::Document);
            most = most.max(cache::with_cache(e.memo_key(Mode::Document), |c| c.bytes()));
        }
        // One 4 kB word past the budget at most (the memo is trimmed between documents).
        assert!(
            most <= cache::MAX_MEMO_BYTES + 8192,
            "memo reached {most} bytes"
        );
        assert!(
            most > cache::MAX_MEMO_BYTES / 2,
            "budget never approached: {most}"
        );
    }

    #[test]
    fn first_occurrence_layout_matches_fastembed() {
        let e = enc(r#"{"flavor": "fastembed"}"#);
        let p = Params::default();
        // "hello" and "ccphujgn" share an id: the first one's place, the later one's weight.
        let texts = ["zebra hello apple zebra ccphujgn hello hello", "", "the"];
        let out = e.encode_first_occurrence(&texts).unwrap();
        assert_eq!(out.indptr, vec![0, 3, 3, 3]);
        let ids: Vec<u32> = ["zebra", "hello", "appl"]
            .iter()
            .map(|t| token_id(t))
            .collect();
        assert_eq!(out.indices, ids);
        assert_eq!(
            out.values,
            vec![
                weight::fastembed_f64(2, 7, &p),
                weight::fastembed_f64(1, 7, &p),
                weight::fastembed_f64(1, 7, &p),
            ]
        );
        // The same weights as the sorted encoding, before rounding to f32.
        let sorted = e.encode(texts[0], Mode::Document);
        for (id, v) in out.indices.iter().zip(&out.values) {
            let i = sorted.indices.iter().position(|x| x == id).unwrap();
            #[allow(clippy::cast_possible_truncation)] // the f64 -> f32 rounding under test
            let rounded = *v as f32;
            assert_eq!(sorted.values[i], rounded);
        }
        assert!(enc("{}").encode_first_occurrence(&texts).is_none());
    }
}

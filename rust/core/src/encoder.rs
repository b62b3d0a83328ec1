//! The encoder: tokenizes a text with the configured flavour, counts terms, hashes them to ids
//! and weights them. Documents get BM25 term-frequency weights; queries get weight 1 per
//! distinct id. Indices come out strictly ascending in both flavours.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use rustc_hash::FxHashMap;

use crate::cache::{self, TermCache};
use crate::error::Result;
use crate::hash::token_id;
use crate::options::{Config, Flavor};
use crate::process::Processor;
use crate::tokenize::{self, fastembed, TokenizerKind};
use crate::weight;

pub(crate) mod assemble;
mod explain;
mod sparse;

pub use crate::tokenize::Mode;
pub use explain::Explained;
pub use sparse::{Csr, SparseVec};

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
            Flavor::Fastembed => fastembed::tokenize(text, &self.processor, emit),
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
        self.encode_into(
            text,
            mode,
            &mut Vec::new(),
            &mut out.indices,
            &mut out.values,
        );
        out
    }

    /// Append the vector of `text` to `indices`/`values`; `rows` is scratch space reused
    /// across calls.
    fn encode_into(
        &self,
        text: &str,
        mode: Mode,
        rows: &mut Vec<(u32, u64, f32)>,
        indices: &mut Vec<u32>,
        values: &mut Vec<f32>,
    ) {
        match mode {
            Mode::Document => self.encode_document(text, rows, indices, values),
            Mode::Query => self.encode_query(text, indices, values),
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
            if long_prefixes && cache.memoised(raw).is_none() {
                total += self.count_prefix_word(raw, cache);
                return;
            }
            let range = cache.terms_of(raw, |push| match self.config.flavor {
                Flavor::Fastembed => fastembed::expand(raw, &self.processor, |t| push(&t)),
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
            Flavor::Fastembed => fastembed::split(text).for_each(&mut one),
            Flavor::Qdrant => tokenize::for_each_segment(self.config.tokenizer, text, &mut one),
        }
        total
    }

    /// A prefix-tokenizer document word not memoised yet: processed once; an ordinary word's
    /// prefixes are memoised, a long word's are counted without memoising (linear work and
    /// memory, see [`TermCache::count_long_prefixes`]). Returns the number of terms.
    fn count_prefix_word(&self, raw: &str, cache: &mut TermCache) -> usize {
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
                let range = cache.memoise(raw, |push| {
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

    // Hot-path file (issue 15): left as written for now (a unit-returning closure without `;`).
    #[allow(clippy::semicolon_if_nothing_returned)]
    fn encode_document(
        &self,
        text: &str,
        rows: &mut Vec<(u32, u64, f32)>,
        indices: &mut Vec<u32>,
        values: &mut Vec<f32>,
    ) {
        let params = &self.config.params;
        let weigh = match self.config.flavor {
            Flavor::Qdrant => weight::qdrant,
            Flavor::Fastembed => weight::fastembed,
        };
        // (id, order of first occurrence, weight) per distinct term; orders only compare
        rows.clear();
        if self.memoisable() {
            cache::with_cache(self.memo_key(Mode::Document), |cache| {
                let doc_len = self.count_segments(text, Mode::Document, cache);
                cache.drain_document(|id, first, n| {
                    rows.push((id, first, weigh(n, doc_len, params)))
                });
            });
        } else {
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
        }
        // Distinct terms that share an id (a hash collision, or h and -h folded by abs): the
        // term that occurs first later in the text wins, as in fastembed (Qdrant's choice is
        // arbitrary there).
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

    fn encode_query(&self, text: &str, indices: &mut Vec<u32>, values: &mut Vec<f32>) {
        let start = indices.len();
        if self.memoisable() {
            cache::with_cache(self.memo_key(Mode::Query), |cache| {
                self.count_segments(text, Mode::Query, cache);
                cache.drain_ids(indices);
            });
        } else {
            self.for_each_term(text, Mode::Query, |term| indices.push(token_id(&term)));
        }
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

    /// Encode many texts into one CSR batch, in input order. With `threads > 1` the texts are
    /// split into contiguous chunks encoded in parallel on a pool of that many threads; the
    /// result is the same. Fails only if the operating system refuses to start the threads.
    // The rayon prelude is imported only where the parallel path needs it.
    #[allow(clippy::items_after_statements)]
    pub fn encode_batch<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        mode: Mode,
        threads: usize,
    ) -> std::result::Result<Csr, crate::pool::SpawnError> {
        if threads <= 1 || texts.len() < 2 {
            return Ok(self.encode_serial(texts, mode));
        }
        use rayon::prelude::*;
        let chunk = texts.len().div_ceil(threads.saturating_mul(4)).max(1);
        let parts: Vec<Csr> = crate::pool::get(threads)?.install(|| {
            texts
                .par_chunks(chunk)
                .map(|part| self.encode_serial(part, mode))
                .collect()
        });
        let mut csr = Csr::default();
        for part in parts {
            csr.append(part);
        }
        Ok(csr)
    }

    fn encode_serial<S: AsRef<str>>(&self, texts: &[S], mode: Mode) -> Csr {
        let mut csr = Csr::default();
        let mut rows = Vec::new();
        for text in texts {
            self.encode_into(
                text.as_ref(),
                mode,
                &mut rows,
                &mut csr.indices,
                &mut csr.values,
            );
            csr.indptr.push(csr.indices.len() as u64);
        }
        csr
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
}

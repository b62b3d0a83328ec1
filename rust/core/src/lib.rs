//! bm25x-core: text to BM25 sparse vectors, bit-identical to Qdrant's `qdrant/bm25` model
//! (server flavour) and to fastembed's `Qdrant/bm25` (fastembed flavour), in pure Rust.
//!
//! Given the same options, a text encodes to exactly the indices and the float32 weights the
//! reference computes: same tokens, same stopwords and stems, same `MurmurHash3` ids, same
//! rounding. Documents get BM25 term-frequency weights (`k`, `b`, `avg_len`); queries get weight
//! 1 per distinct term, for Qdrant's IDF modifier to weigh at search time. Batches encode on a
//! thread pool ([`Encoder::encode_batch`]). Nothing here depends on Python; the Python package
//! `bm25x` is built on this crate.
//!
//! # Example
//!
//! ```
//! use bm25x_core::hash::token_id;
//! use bm25x_core::{Config, Encoder, Mode};
//!
//! // Options as a Qdrant `Document` carries them; unset ones take Qdrant's defaults (word
//! // tokenizer, lowercase, English stopwords and stemmer, k = 1.2, b = 0.75, avg_len = 256).
//! let encoder = Encoder::new(Config::from_json(r#"{"language": "english"}"#)?)?;
//!
//! let text = "The quick brown fox jumps over the lazy dog";
//! let terms = encoder.terms(text, Mode::Document);
//! assert_eq!(terms, ["quick", "brown", "fox", "jump", "lazi", "dog"]);
//! let doc = encoder.encode(text, Mode::Document);
//! // Each term once in a 6-term document: 2.2 / (1 + 1.2 * (0.25 + 0.75 * 6 / 256)).
//! assert_eq!(doc.indices.len(), 6);
//! assert!(doc.values.iter().all(|&w| w == 1.665_286_8));
//!
//! let query = encoder.encode("quick foxes", Mode::Query);
//! let mut ids = vec![token_id("quick"), token_id("fox")];
//! ids.sort_unstable(); // indices come out ascending
//! assert_eq!(query.indices, ids);
//! assert_eq!(query.values, [1.0, 1.0]);
//! assert!(query.indices.iter().all(|i| doc.indices.contains(i)));
//! # Ok::<(), bm25x_core::Error>(())
//! ```
//!
//! # Pipeline
//!
//! One module per stage, in the order a token goes through them:
//!
//! 1. [`normalize`]: ASCII folding, then lowercasing.
//! 2. [`tokenize`]: the tokenizers Qdrant offers (`word`, `whitespace`, `prefix`, `multilingual`,
//!    `code`) and fastembed's word splitter.
//! 3. [`filter`]: stopwords (Qdrant's lists per [`language`], plus custom ones) and token
//!    lengths.
//! 4. [`stem`]: Snowball stemming (the `rust-stemmers` algorithms Qdrant and fastembed run).
//! 5. [`hash`]: the token id, `|murmur3_x86_32(token) as i32|`.
//! 6. [`weight`]: BM25 term-frequency weights from [`Params`].
//!
//! [`process`] chains the per-token stages in Qdrant's order (folding, lowercasing, stopwords,
//! stemming, lengths); [`encoder`] runs a tokenizer over that chain, counts a text's terms,
//! hashes and weighs them into a [`SparseVec`] (many texts: a [`Csr`]).
//! [`options`] turns the JSON-shaped options Qdrant and fastembed accept into a validated
//! [`Config`] (an unknown option is an error, not ignored); [`error`] is the one error type.
//!
//! # Features
//!
//! - `japanese`: Japanese text under the `multilingual` tokenizer split exactly as Qdrant splits
//!   it, with vaporetto and the same model (which the build script takes from the crates.io
//!   package `qdrant-edge` 0.9.0, or from the file named by `BM25X_VAPORETTO_MODEL`). Without
//!   it, Japanese is split by an approximation, the one place output may differ from Qdrant's.
//!
//! # Module graph
//!
//! Imports go one way, from the leaves up; a module may import only modules on a lower layer:
//!
//! ```text
//! 0  error, language, hash, normalize      leaves (language: stopword lists, stemmer names)
//! 1  filter, stem, weight, cache, pool     stages that need a leaf (cache: hash; filter, stem:
//!                                          language); `weight` owns `Params`
//! 2  process                               the per-token chain; owns `Processor`, `Profile`
//! 3  tokenize                              tokenizers over a `Processor`; owns `TokenizerKind`
//! 4  options                               JSON -> `Config` made of the stages' own types
//! 5  encoder                               assembles a `Config` into stages and runs them
//! ```
//!
//! No stage (layers 0-3) imports `options` or `encoder`: each owns its small config type and
//! `options` parses into it. The test `core_imports_go_downwards` of the workspace's
//! `bm25x-layers` crate keeps this order.

mod cache;
pub mod encoder;
pub mod error;
pub mod filter;
pub mod hash;
pub mod language;
pub mod normalize;
pub mod options;
mod pool;
pub mod process;
pub mod stem;
pub mod tokenize;
pub mod weight;

#[cfg(test)]
mod testing;

pub use encoder::{Csr, Encoder, Explained, Mode, SparseVec};
pub use error::Error;
pub use options::{Config, Flavor, OptionValue};
pub use pool::{forget_after_fork, SpawnError};
pub use process::Profile;
pub use tokenize::TokenizerKind;
pub use weight::Params;

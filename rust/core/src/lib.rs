//! bm25x-core: text to BM25 sparse vectors, bit-identical to Qdrant's `qdrant/bm25` model
//! (server flavour) and to fastembed's `Qdrant/bm25` (fastembed flavour).
//!
//! The pipeline has one module per stage:
//! [`normalize`] -> [`tokenize`] -> [`filter`] -> [`stem`] -> [`hash`] -> [`weight`],
//! wired together by [`process`] (per-token processing) and [`encoder`] (per-document counting
//! and weighting). [`options`] turns the JSON-shaped options Qdrant accepts into a validated
//! [`Config`]; [`error`] is the one error type. Nothing here depends on Python.
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

//! bm25x-core: text to BM25 sparse vectors, bit-identical to Qdrant's `qdrant/bm25` model
//! (server flavour) and to fastembed's `Qdrant/bm25` (fastembed flavour).
//!
//! The pipeline has one module per stage:
//! [`normalize`] -> [`tokenize`] -> [`filter`] -> [`stem`] -> [`hash`] -> [`weight`],
//! wired together by [`process`] (per-token processing) and [`encoder`] (per-document counting
//! and weighting). [`options`] turns the JSON-shaped options Qdrant accepts into a validated
//! [`Config`]; [`error`] is the one error type. Nothing here depends on Python.

pub mod cache;
pub mod encoder;
pub mod error;
pub mod filter;
pub mod hash;
pub mod language;
pub mod normalize;
pub mod options;
pub mod pool;
pub mod process;
pub mod stem;
pub mod tokenize;
pub mod value;
pub mod weight;

pub use encoder::{Encoder, Explained, Mode, SparseVec};
pub use error::Error;
pub use options::{Config, Flavor, Profile, TokenizerKind};
pub use value::OptionValue;

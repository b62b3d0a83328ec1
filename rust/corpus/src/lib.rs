//! bm25x-corpus: the I/O of the `bm25x` command around the BM25 encoder — reading a corpus of
//! JSONL documents fast, and writing the points a store upserts — in pure Rust, without Python.
//!
//! - [`jsonl`]: the corpus reader's fast path. Documents `(id, text, line)` from a buffer of
//!   JSONL bytes, parsed by `serde_json` with only the text and id fields decoded; it stops at
//!   the first line it is not sure of and leaves that line to the caller's reference rules.
//! - [`points`]: a document's point id (UUID v5 of its id), its text fingerprint (`BLAKE2b`,
//!   12 bytes) and the JSON body of Qdrant's REST upsert for a batch of sparse (and optional
//!   dense) vectors, numbers written as qdrant-client writes them.
//!
//! The two modules are independent of each other and of the encoder (`bm25x-core`). The Python
//! package `bm25x` binds both in its `bm25x._native` extension; the Python rules stay the
//! reference for every value made here.
//!
//! # Module graph
//!
//! Imports go one way, from the leaves up; a module may import only modules on a lower layer
//! (siblings by `super::`, the others by `crate::`):
//!
//! ```text
//! 0  jsonl::lines, jsonl::fields, jsonl::record,    leaves: where lines end, which fields
//!    points::point_id, points::fingerprint          are read, a JSON object read for them
//! 1  jsonl::document, points::upsert                a line's document; the upsert body
//! 2  jsonl::read                                    a buffer read line by line
//! 3  jsonl::duplicate_ids                           the duplicate-id check over `read`
//! 4  jsonl, points                                  each re-exports its own modules
//! ```
//!
//! The test `corpus_imports_go_downwards` of the workspace's `bm25x-layers` crate keeps this
//! order. (It does not forbid `jsonl` and `points` to import each other's leaves; today they
//! import nothing from each other.)

pub mod jsonl;
pub mod points;

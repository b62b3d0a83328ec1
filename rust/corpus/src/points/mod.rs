//! What a document becomes in Qdrant besides its vector, for the `bm25x` command's stores: its
//! point id ([`point_id`]), its text fingerprint ([`fingerprint`]), and the JSON of a REST
//! upsert of a batch of documents ([`upsert_json`]).
//!
//! Each has a Python reference that stays the definition (`bm25x._ids.point_id`,
//! `bm25x.app.store.fingerprint`, and the JSON qdrant-client sends for the same points); these
//! are the same values made a batch at a time, without a Python object per step.
//!
//! ```
//! use bm25x_corpus::points::{fingerprint, point_id, upsert_json, Upsert};
//!
//! assert_eq!(point_id("d0"), "95d262d7-10ca-5080-a776-79d3770eb4c9");
//! assert_eq!(fingerprint("abc"), "48b4f1f9042a2d5033b382b5");
//! let batch = Upsert {
//!     doc_ids: &["d0"],
//!     payloads: br#"[{"lang":"en"}]"#,
//!     indptr: &[0, 1],
//!     indices: &[7],
//!     values: &[1.5],
//!     dense: None,
//!     sparse_name: "bm25",
//!     dense_name: "dense",
//! };
//! let body = String::from_utf8(upsert_json(&batch)?).unwrap();
//! assert_eq!(
//!     body,
//!     r#"{"points":[{"id":"95d262d7-10ca-5080-a776-79d3770eb4c9","vector":{"bm25":{"indices":[7],"values":[1.5]}},"payload":{"doc_id":"d0","lang":"en"}}]}"#
//! );
//! # Ok::<(), String>(())
//! ```

mod fingerprint;
mod point_id;
mod upsert;

pub use fingerprint::fingerprint;
pub use point_id::point_id;
pub use upsert::{upsert_json, Upsert};

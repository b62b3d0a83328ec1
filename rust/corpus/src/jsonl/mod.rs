//! The fast path of bm25x's JSONL corpus reader: documents (id, text, line) out of a buffer of
//! JSONL bytes, parsed without Python.
//!
//! It accepts only the lines whose document it is sure of, and stops at the first line it is
//! not: a line that is not valid JSON to `serde_json`, not an object, or whose text fields or id
//! are anything but what the plain rules of [`Document`] take (a string or null text, a
//! non-empty string or 64-bit integer id). The Python reader then reads that one line with its
//! own rules, which decide everything this module declines (errors and their wording, NaN,
//! integers beyond 64 bits, lone surrogates, Unicode blank lines) and are the reference: on
//! every line accepted here, both give the same document.
//!
//! Lines end at `\n`, `\r\n` or a lone `\r`, as in Python's universal newlines, so line numbers
//! agree with the Python reader's.
//!
//! One module a job: `lines` (where lines end), `fields` (which fields make a document),
//! `record` (a JSON object read for those fields), `document` (a line's document, or declined),
//! `read` (a buffer read line by line, [`parse`] collecting in a [`Collect`] shape), and
//! `duplicate_ids` (the duplicate-id check, [`check`]).
//!
//! ```
//! use bm25x_corpus::jsonl::{parse, Columns, Fields};
//!
//! let fields = Fields::new(&[("text".into(), true)], &["_id".into()], true);
//! let buf = b"{\"_id\":\"a\",\"text\":\"first\"}\n{\"text\":\"second\"}\nnot json\n";
//! let (docs, cursor) = parse::<Columns>(buf, 0, 1, true, &fields);
//! assert_eq!(docs.ids, ["a", "2"]); // no id field: the line number
//! assert_eq!(docs.texts, ["first", "second"]);
//! assert_eq!(cursor.declined, Some((3, 45, 53))); // left to the Python rules
//! ```

mod document;
mod duplicate_ids;
mod fields;
mod lines;
mod read;
mod record;

pub use document::Document;
pub use duplicate_ids::{check, Ids, Repeat};
pub use fields::Fields;
pub use read::{each_document, parse, Collect, Columns, Cursor, Rows};

//! `JsonlReader`: the core's JSONL fast path (`bm25x_core::jsonl`) for the corpus reader in
//! `bm25x.app.corpus`, which reads every line declined here with its own rules.

use bm25x_core::jsonl::{parse, Fields};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::guard;

/// `(documents as (id, text, line) tuples, end, next line, declined line or None)`.
type ParseResult = (
    Vec<(String, String, u64)>,
    usize,
    u64,
    Option<(u64, usize, usize)>,
);

#[pyclass(frozen, module = "bm25x._native")]
pub struct JsonlReader {
    fields: Fields,
}

#[pymethods]
impl JsonlReader {
    #[new]
    fn new(text_fields: Vec<(String, bool)>, id_fields: Vec<String>, line_ids: bool) -> Self {
        JsonlReader {
            fields: Fields {
                text: text_fields,
                ids: id_fields,
                line_ids,
            },
        }
    }

    /// Documents from the whole lines of `buf[start:]` (the first being line `line`); parsed
    /// without the GIL.
    #[pyo3(signature = (buf, start, line, at_eof, max_docs))]
    fn parse(
        &self,
        py: Python<'_>,
        buf: &Bound<'_, PyBytes>,
        start: usize,
        line: u64,
        at_eof: bool,
        max_docs: usize,
    ) -> PyResult<ParseResult> {
        let bytes = buf.as_bytes();
        if start > bytes.len() {
            return Err(PyValueError::new_err(format!(
                "start {start} is past the end of the buffer ({} bytes)",
                bytes.len()
            )));
        }
        guard(|| {
            let p = py.detach(|| parse(bytes, start, line, at_eof, max_docs, &self.fields));
            Ok((p.docs, p.end, p.next_line, p.declined))
        })
    }
}

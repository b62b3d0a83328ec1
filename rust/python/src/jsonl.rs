//! `JsonlReader`: the JSONL fast path of `bm25x-corpus` (`bm25x_corpus::jsonl`) for the corpus
//! reader in `bm25x.app.corpus`, which reads every line declined here with its own rules.

use bm25x_corpus::jsonl::{check, parse, Collect, Columns, Cursor, Fields, Ids, Repeat, Rows};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::guard;

/// A declined line: `(line, start, end)`.
type Declined = Option<(u64, usize, usize)>;
/// `parse`'s answer: `(documents as (id, text, line), end, next line, declined)`.
type Parsed = (Rows, usize, u64, Declined);
/// `parse_columns`'s answer: `(ids, texts, end, next line, declined)`.
type ColumnsParsed = (Vec<String>, Vec<String>, usize, u64, Declined);
/// `check`'s answer, in the same shape: `(repeated id, end, next line, declined)`.
type Checked = (Option<Repeat>, usize, u64, Declined);

#[pyclass(module = "bm25x._native")]
pub struct JsonlReader {
    fields: Fields,
    ids: Ids,
}

/// Run `read` on the bytes of `buf` without the GIL (and within the panic guard), after checking
/// that `start` lies within them: the one way into a buffer for every method below.
fn detached<T: Send>(
    py: Python<'_>,
    buf: &Bound<'_, PyBytes>,
    start: usize,
    read: impl FnOnce(&[u8]) -> T + Send,
) -> PyResult<T> {
    let bytes = buf.as_bytes();
    if start > bytes.len() {
        return Err(PyValueError::new_err(format!(
            "start {start} is past the end of the buffer ({} bytes)",
            bytes.len()
        )));
    }
    guard(|| Ok(py.detach(|| read(bytes))))
}

impl JsonlReader {
    /// The documents of the whole lines of `buf[start:]`, in the shape `C`, and where reading
    /// stopped: what `parse` and `parse_columns` share.
    fn documents<C: Collect + Send>(
        &self,
        py: Python<'_>,
        buf: &Bound<'_, PyBytes>,
        start: usize,
        line: u64,
        at_eof: bool,
    ) -> PyResult<(C, Cursor)> {
        detached(py, buf, start, |bytes| {
            parse(bytes, start, line, at_eof, &self.fields)
        })
    }
}

#[pymethods]
impl JsonlReader {
    #[new]
    #[allow(clippy::needless_pass_by_value)] // PyO3 extracts Python lists as owned Vecs
    fn new(text_fields: Vec<(String, bool)>, id_fields: Vec<String>, line_ids: bool) -> Self {
        JsonlReader {
            fields: Fields::new(&text_fields, &id_fields, line_ids),
            ids: Ids::default(),
        }
    }

    /// `(documents as (id, text, line), end, next line, declined)` from the whole lines of
    /// `buf[start:]`, the first being line `line`; parsed without the GIL.
    #[pyo3(signature = (buf, start, line, at_eof))]
    fn parse(
        &self,
        py: Python<'_>,
        buf: &Bound<'_, PyBytes>,
        start: usize,
        line: u64,
        at_eof: bool,
    ) -> PyResult<Parsed> {
        let (docs, c) = self.documents::<Rows>(py, buf, start, line, at_eof)?;
        Ok((docs, c.end, c.next_line, c.declined))
    }

    /// Like `parse`, as two lists (ids, texts) instead of a tuple per document: what an
    /// ingest writes needs no line numbers, and a batch is then two Python lists.
    #[pyo3(signature = (buf, start, line, at_eof))]
    fn parse_columns(
        &self,
        py: Python<'_>,
        buf: &Bound<'_, PyBytes>,
        start: usize,
        line: u64,
        at_eof: bool,
    ) -> PyResult<ColumnsParsed> {
        let (docs, c) = self.documents::<Columns>(py, buf, start, line, at_eof)?;
        Ok((docs.ids, docs.texts, c.end, c.next_line, c.declined))
    }

    /// Like `parse`, keeping only the ids (in this reader) and stopping at the first one seen
    /// before: `((line, id, first line) or None, end, next line, declined)`.
    #[pyo3(signature = (buf, start, line, at_eof))]
    fn check(
        &mut self,
        py: Python<'_>,
        buf: &Bound<'_, PyBytes>,
        start: usize,
        line: u64,
        at_eof: bool,
    ) -> PyResult<Checked> {
        let (fields, ids) = (&self.fields, &mut self.ids);
        let (cursor, repeat) = detached(py, buf, start, |bytes| {
            check(bytes, start, line, at_eof, fields, ids)
        })?;
        Ok((repeat, cursor.end, cursor.next_line, cursor.declined))
    }

    /// Record an id read by the caller; if it was seen before, the line it was first on.
    fn add_id(&mut self, id: &str, line: u64) -> Option<u64> {
        self.ids.insert(id, line)
    }

    /// How many distinct ids `check` and `add_id` have recorded.
    #[getter]
    fn ids_seen(&self) -> usize {
        self.ids.len()
    }
}

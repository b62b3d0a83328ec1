//! The `bm25x` command's points (`bm25x_corpus::points`) a batch at a time: point ids, text
//! fingerprints and the REST upsert JSON, one call per batch instead of Python work per
//! document.

use numpy::{PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use pyo3::IntoPyObjectExt;

use bm25x_corpus::points::{fingerprint, point_id, upsert_json as write_upsert_json, Upsert};

use crate::convert::surrogate_position;
use crate::errors::guard;
use crate::later::{Pending, Texts, Worker};

/// The strings of `items` (any iterable of str), kept alive by the caller.
fn strings<'py>(items: &Bound<'py, PyAny>, what: &str) -> PyResult<Vec<Bound<'py, PyString>>> {
    let mut out = Vec::new();
    for (i, item) in items.try_iter()?.enumerate() {
        let item = item?;
        let s = item.cast_into::<PyString>().map_err(|e| {
            PyTypeError::new_err(format!(
                "{what} {i} must be a str, got {}",
                e.into_inner().get_type()
            ))
        })?;
        out.push(s);
    }
    Ok(out)
}

/// The UTF-8 of each string; a lone surrogate is an error naming where it is.
fn utf8<'a>(strings: &'a [Bound<'_, PyString>], what: &str) -> PyResult<Vec<&'a str>> {
    strings
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.to_str().map_err(|_| {
                let at = surrogate_position(s)
                    .map(|p| format!(" at index {p}"))
                    .unwrap_or_default();
                PyValueError::new_err(format!("{what} {i} contains a lone surrogate{at}"))
            })
        })
        .collect()
}

/// The point id of each document id (`bm25x._ids.point_id`), hashed without the GIL.
#[pyfunction]
pub fn point_ids(py: Python<'_>, doc_ids: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    guard(|| {
        let held = strings(doc_ids, "id")?;
        let ids = utf8(&held, "id")?;
        Ok(py.detach(|| ids.into_iter().map(point_id).collect()))
    })
}

/// The fingerprint of each text (`bm25x.app.store.fingerprint`), hashed without the GIL.
#[pyfunction]
pub fn fingerprints(py: Python<'_>, texts: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    guard(|| {
        let held = strings(texts, "text")?;
        let texts = utf8(&held, "text")?;
        Ok(py.detach(|| texts.into_iter().map(fingerprint).collect()))
    })
}

/// `(point ids, fingerprints)` of a batch, as `point_ids` and `fingerprints` make them, on
/// `worker`'s thread (`bm25x._native.Worker`). Returns at once (the strings are copied) a
/// `Pending`; what those two refuse is refused here, before anything is submitted.
#[pyfunction]
pub fn point_keys_later(
    worker: &Worker,
    doc_ids: &Bound<'_, PyAny>,
    texts: &Bound<'_, PyAny>,
) -> PyResult<Pending> {
    guard(|| {
        let held = strings(doc_ids, "id")?;
        let ids = Texts::copy(&utf8(&held, "id")?);
        let held = strings(texts, "text")?;
        let texts = Texts::copy(&utf8(&held, "text")?);
        worker.submit(
            move || {
                let ids: Vec<String> = ids.slices().into_iter().map(point_id).collect();
                let prints: Vec<String> = texts.slices().into_iter().map(fingerprint).collect();
                (ids, prints)
            },
            |py, keys| keys.into_py_any(py),
        )
    })
}

/// The JSON body of a REST upsert of these documents (see `bm25x_corpus::points::upsert_json`).
#[pyfunction]
#[pyo3(signature = (doc_ids, payloads, indptr, indices, values, sparse_name, dense, dense_name))]
#[allow(clippy::too_many_arguments, clippy::needless_pass_by_value)] // one batch, by parts
pub fn upsert_json<'py>(
    py: Python<'py>,
    doc_ids: &Bound<'py, PyAny>,
    payloads: &Bound<'py, PyBytes>,
    indptr: PyReadonlyArray1<'py, i64>,
    indices: PyReadonlyArray1<'py, u32>,
    values: PyReadonlyArray1<'py, f32>,
    sparse_name: &str,
    dense: Option<PyReadonlyArray2<'py, f32>>,
    dense_name: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let held = strings(doc_ids, "id")?;
        let ids = utf8(&held, "id")?;
        let contiguous = |what: &str| PyValueError::new_err(format!("{what} is not contiguous"));
        let dense = match &dense {
            Some(rows) => {
                let width = rows.shape()[1];
                Some((rows.as_slice().map_err(|_| contiguous("dense"))?, width))
            }
            None => None,
        };
        let batch = Upsert {
            doc_ids: &ids,
            payloads: payloads.as_bytes(),
            indptr: indptr.as_slice().map_err(|_| contiguous("indptr"))?,
            indices: indices.as_slice().map_err(|_| contiguous("indices"))?,
            values: values.as_slice().map_err(|_| contiguous("values"))?,
            dense,
            sparse_name,
            dense_name,
        };
        let body = write_upsert_json(&batch).map_err(PyValueError::new_err)?;
        Ok(PyBytes::new(py, &body))
    })
}

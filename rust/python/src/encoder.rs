//! The native encoder class. The Python package wraps it (`bm25x.Bm25`); this class only moves
//! data across the boundary.

use std::sync::Arc;

use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyTuple, PyType};
use pyo3::IntoPyObjectExt;

use bm25x_core::encoder::BatchError;
use bm25x_core::{Config, Encoder, Mode, SparseVec};

use crate::convert::{option_value, surrogate_position};
use crate::errors::{guard, spawn_to_py, to_py};
use crate::later::{Pending, Texts, Worker};

/// The most threads one call may ask for (the Python package checks this first).
pub const MAX_THREADS: usize = 1024;

/// Texts shorter than this (in UTF-8 bytes) are encoded without releasing the GIL: for a short
/// query, releasing and re-taking it costs more than the encoding.
const RELEASE_GIL_ABOVE: usize = 4096;
type Batch<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<f32>>,
);

type FirstOccurrenceBatch<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<f64>>,
);

#[pyclass(frozen, module = "bm25x._native", name = "Encoder")]
pub struct NativeEncoder {
    /// Shared with the jobs `encode_many_later` gives a worker thread.
    inner: Arc<Encoder>,
}

fn mode(query: bool) -> Mode {
    if query {
        Mode::Query
    } else {
        Mode::Document
    }
}

fn position_name(position: Option<usize>) -> String {
    match position {
        Some(i) => format!("item {i}"),
        None => "text".to_string(),
    }
}

/// One text item as a `str`; errors name the item's position.
fn item_str<'py>(
    item: &Bound<'py, PyAny>,
    position: Option<usize>,
) -> PyResult<Bound<'py, PyString>> {
    match item.cast::<PyString>() {
        Ok(s) => Ok(s.clone()),
        Err(_) => Err(PyTypeError::new_err(format!(
            "{} must be str, got {}",
            position_name(position),
            item.get_type().name()?
        ))),
    }
}

/// The items of a list or tuple of str, each as a `str` (errors name the position, counted
/// from `offset`). A snapshot: a list changed by another thread while the GIL is released
/// cannot shift positions under the caller. `method` names the caller in the type error.
fn str_items<'py>(
    items: &Bound<'py, PyAny>,
    method: &str,
    offset: usize,
) -> PyResult<Vec<Bound<'py, PyString>>> {
    let all: Vec<Bound<'py, PyAny>> = if let Ok(list) = items.cast::<PyList>() {
        list.iter().collect()
    } else if let Ok(tuple) = items.cast::<PyTuple>() {
        tuple.iter().collect()
    } else {
        return Err(PyTypeError::new_err(format!(
            "{method} takes a list or tuple of str"
        )));
    };
    all.iter()
        .enumerate()
        .map(|(i, item)| item_str(item, Some(offset + i)))
        .collect()
}

/// The UTF-8 text of a str without copying it: CPython keeps it (ASCII strings are their own
/// UTF-8; others get it cached on first use), and it lives as long as the str, which the
/// caller holds. Lone surrogates (not representable in UTF-8) are a ValueError naming the item.
// Hot-path file (issue 15): the doc names CPython and ValueError bare; left as written for now.
#[allow(clippy::doc_markdown)]
fn utf8_of<'a>(s: &'a Bound<'_, PyString>, position: Option<usize>) -> PyResult<&'a str> {
    s.to_str().map_err(|_| {
        let pos = surrogate_position(s)
            .map(|p| format!(" at index {p}"))
            .unwrap_or_default();
        PyValueError::new_err(format!(
            "{} contains a lone surrogate{pos}, which is not valid Unicode text; \
             fix the decoding upstream or clean it with \
             text.encode('utf-8', 'replace').decode('utf-8')",
            position_name(position)
        ))
    })
}

/// Extract one text item as an owned String.
fn item_text(item: &Bound<'_, PyAny>, position: Option<usize>) -> PyResult<String> {
    Ok(utf8_of(&item_str(item, position)?, position)?.to_string())
}

thread_local! {
    /// The buffers a short text is encoded into (see `encode_one`); they hold at most one short
    /// text's vector.
    static ONE: std::cell::RefCell<SparseVec> = std::cell::RefCell::default();
}

/// `bm25x.SparseVector`, looked up once.
static SPARSE_VECTOR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A `bm25x.SparseVector` holding `indices` and `values`, made without running Python code
/// (no `__new__`/`__init__` frames): allocated as `object.__new__` would, slots set directly.
// Hot-path file (issue 15): the named lifetime is left as written for now.
#[allow(clippy::elidable_lifetime_names)]
fn sparse_vector<'py>(
    py: Python<'py>,
    indices: Bound<'py, PyArray1<u32>>,
    values: Bound<'py, PyArray1<f32>>,
) -> PyResult<Bound<'py, PyAny>> {
    let cls = SPARSE_VECTOR.import(py, "bm25x._sparse", "SparseVector")?;
    // SAFETY: `cls` is a heap type whose instances `object.__new__` makes with `tp_alloc`,
    // which for such classes is PyType_GenericAlloc; it returns a new reference or NULL with
    // an exception set.
    let obj = unsafe {
        Bound::from_owned_ptr_or_err(py, pyo3::ffi::PyType_GenericAlloc(cls.as_type_ptr(), 0))?
    };
    obj.setattr(intern!(py, "indices"), indices)?;
    obj.setattr(intern!(py, "values"), values)?;
    Ok(obj)
}

#[pymethods]
impl NativeEncoder {
    #[new]
    fn new(options: &Bound<'_, PyDict>) -> PyResult<Self> {
        guard(|| {
            let mut items = Vec::with_capacity(options.len());
            for (key, value) in options.iter() {
                let key: String = key.extract()?;
                let value = option_value(&key, &value)?;
                items.push((key, value));
            }
            let config = Config::from_options(&items).map_err(to_py)?;
            let inner = Encoder::new(config).map_err(to_py)?;
            Ok(NativeEncoder {
                inner: Arc::new(inner),
            })
        })
    }

    /// Encode one str into a `bm25x.SparseVector`.
    fn encode_one<'py>(
        &self,
        py: Python<'py>,
        item: &Bound<'py, PyAny>,
        query: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let s = item_str(item, None)?;
            let text = utf8_of(&s, None)?;
            // Releasing the GIL costs more than encoding a short text; only long ones release
            // it. A short text is encoded into this thread's reused buffers and copied into
            // arrays numpy allocates (no Rust allocation, no array base object per call).
            if text.len() < RELEASE_GIL_ABOVE {
                // Only numpy's allocation runs while the buffers are borrowed (no Python code
                // that could re-enter this method on this thread).
                let (indices, values) = ONE.with_borrow_mut(|v| {
                    self.inner.encode_to(text, mode(query), v);
                    (
                        PyArray1::from_slice(py, &v.indices),
                        PyArray1::from_slice(py, &v.values),
                    )
                });
                sparse_vector(py, indices, values)
            } else {
                let v = py.detach(|| self.inner.encode(text, mode(query)));
                sparse_vector(
                    py,
                    PyArray1::from_vec(py, v.indices),
                    PyArray1::from_vec(py, v.values),
                )
            }
        })
    }

    /// What `encode_one` costs besides encoding: the same argument checks, and a
    /// `bm25x.SparseVector` of two empty arrays. The floor of one short query, for the
    /// benchmark (`benches/`). A method, as `encode_one` is, so both calls take the same path.
    #[allow(clippy::unused_self)]
    fn floor_one<'py>(
        &self,
        py: Python<'py>,
        item: &Bound<'py, PyAny>,
        query: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let s = item_str(item, None)?;
            let _ = (utf8_of(&s, None)?, mode(query));
            sparse_vector(
                py,
                PyArray1::<u32>::from_slice(py, &[]),
                PyArray1::<f32>::from_slice(py, &[]),
            )
        })
    }

    /// Encode a list or tuple of str: CSR (indptr int64, indices uint32, values float32).
    /// `offset` is added to item positions in error messages (for streamed batches).
    ///
    /// The items are encoded with the GIL released; every few milliseconds the calling thread
    /// takes it back to run signal handlers, so Ctrl-C raises `KeyboardInterrupt` promptly (the
    /// encoder holds no per-call state, so nothing is left half-done).
    #[pyo3(signature = (items, query, threads, offset = 0))]
    // `indptr` entries are offsets into in-memory Vecs, so they are below `i64::MAX`.
    #[allow(clippy::cast_possible_wrap)]
    fn encode_many<'py>(
        &self,
        py: Python<'py>,
        items: &Bound<'py, PyAny>,
        query: bool,
        threads: usize,
        offset: usize,
    ) -> PyResult<Batch<'py>> {
        guard(|| {
            if threads == 0 || threads > MAX_THREADS {
                return Err(PyValueError::new_err(format!(
                    "threads must be an integer in 1..={MAX_THREADS}, got {threads}"
                )));
            }
            let strs = str_items(items, "encode_many", offset)?;
            // The strs' own UTF-8, not copies: `strs` holds them (immutable) while the GIL is
            // released, whatever happens to the list meanwhile.
            let texts: Vec<&str> = strs
                .iter()
                .enumerate()
                .map(|(i, s)| utf8_of(s, Some(offset + i)))
                .collect::<PyResult<_>>()?;
            let csr = py
                .detach(|| {
                    self.inner
                        .encode_batch_polled(&texts, mode(query), threads, || {
                            // A closure, not the method path: the path's lifetime is too narrow.
                            #[allow(clippy::redundant_closure_for_method_calls)]
                            Python::attach(|py| py.check_signals())
                        })
                })
                .map_err(|e| match e {
                    BatchError::Spawn(e) => spawn_to_py(e),
                    BatchError::Stopped(e) => e,
                })?;
            // Same size: collected in place, without a second buffer.
            let indptr: Vec<i64> = csr.indptr.into_iter().map(|x| x as i64).collect();
            Ok((
                indptr.into_pyarray(py),
                csr.indices.into_pyarray(py),
                csr.values.into_pyarray(py),
            ))
        })
    }

    /// `encode_many` on `worker`'s thread (`bm25x._native.Worker`): returns at once (the texts
    /// are copied) a `Pending` whose `result()` is what `encode_many` returns. The items are
    /// checked here, with the same errors. The job never takes the GIL, so it runs while the
    /// caller holds it.
    // `indptr` entries are offsets into in-memory Vecs, so they are below `i64::MAX`.
    #[allow(clippy::cast_possible_wrap)]
    fn encode_many_later(
        &self,
        worker: &Worker,
        items: &Bound<'_, PyAny>,
        query: bool,
        threads: usize,
    ) -> PyResult<Pending> {
        guard(|| {
            if threads == 0 || threads > MAX_THREADS {
                return Err(PyValueError::new_err(format!(
                    "threads must be an integer in 1..={MAX_THREADS}, got {threads}"
                )));
            }
            let strs = str_items(items, "encode_many", 0)?;
            let texts: Vec<&str> = strs
                .iter()
                .enumerate()
                .map(|(i, s)| utf8_of(s, Some(i)))
                .collect::<PyResult<_>>()?;
            let texts = Texts::copy(&texts);
            let encoder = Arc::clone(&self.inner);
            let mode = mode(query);
            worker.submit(
                move || {
                    let csr = encoder.encode_batch(&texts.slices(), mode, threads)?;
                    let indptr: Vec<i64> = csr.indptr.into_iter().map(|x| x as i64).collect();
                    Ok((indptr, csr.indices, csr.values))
                },
                |py, encoded| {
                    let (indptr, indices, values) = encoded.map_err(spawn_to_py)?;
                    (
                        indptr.into_pyarray(py),
                        indices.into_pyarray(py),
                        values.into_pyarray(py),
                    )
                        .into_py_any(py)
                },
            )
        })
    }

    /// Documents laid out as fastembed's `Qdrant/bm25` builds them: CSR (indptr int64,
    /// indices int64, values float64), each row's distinct ids in first-occurrence order with
    /// fastembed's float64 weights. Fastembed-flavour encoders only; a list or tuple of str.
    fn encode_first_occurrence<'py>(
        &self,
        py: Python<'py>,
        items: &Bound<'py, PyAny>,
    ) -> PyResult<FirstOccurrenceBatch<'py>> {
        guard(|| {
            if self.inner.config().flavor != bm25x_core::Flavor::Fastembed {
                return Err(PyValueError::new_err(
                    "encode_first_occurrence is for the fastembed flavour only \
                     (Bm25(flavor='fastembed'))",
                ));
            }
            let strs = str_items(items, "encode_first_occurrence", 0)?;
            let texts: Vec<&str> = strs
                .iter()
                .enumerate()
                .map(|(i, s)| utf8_of(s, Some(i)))
                .collect::<PyResult<_>>()?;
            let out = py
                .detach(|| self.inner.encode_first_occurrence(&texts))
                .expect("fastembed flavour checked above");
            // Offsets into in-memory arrays: far below i64::MAX.
            #[allow(clippy::cast_possible_wrap)]
            let indptr: Vec<i64> = out.indptr.into_iter().map(|x| x as i64).collect();
            let indices: Vec<i64> = out.indices.into_iter().map(i64::from).collect();
            Ok((
                indptr.into_pyarray(py),
                indices.into_pyarray(py),
                out.values.into_pyarray(py),
            ))
        })
    }

    /// The final terms of one text, in order (duplicates included).
    fn terms(&self, item: &Bound<'_, PyAny>, query: bool) -> PyResult<Vec<String>> {
        guard(|| {
            let text = item_text(item, None)?;
            Ok(self.inner.terms(&text, mode(query)))
        })
    }

    /// Rows (raw, normalized, dropped reason or None, [(term, id)]) for `explain`.
    #[allow(clippy::type_complexity)]
    fn explain(
        &self,
        item: &Bound<'_, PyAny>,
        query: bool,
    ) -> PyResult<Vec<(String, String, Option<&'static str>, Vec<(String, u32)>)>> {
        guard(|| {
            let text = item_text(item, None)?;
            Ok(self
                .inner
                .explain(&text, mode(query))
                .into_iter()
                .map(|r| (r.raw, r.normalized, r.dropped, r.terms))
                .collect())
        })
    }

    /// The resolved configuration, for `repr` and introspection.
    // Hot-path file (issue 15): a closure for `StemLanguage::name`, left as written for now.
    #[allow(clippy::redundant_closure_for_method_calls)]
    fn resolved<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let c = self.inner.config();
            let d = PyDict::new(py);
            d.set_item(
                "flavor",
                match c.flavor {
                    bm25x_core::Flavor::Qdrant => "qdrant",
                    bm25x_core::Flavor::Fastembed => "fastembed",
                },
            )?;
            if c.flavor == bm25x_core::Flavor::Qdrant {
                d.set_item("profile", c.profile.name())?;
            }
            d.set_item("k", c.params.k)?;
            d.set_item("b", c.params.b)?;
            d.set_item("avg_len", c.params.avg_len)?;
            d.set_item("tokenizer", c.tokenizer.name())?;
            d.set_item("lowercase", c.lowercase)?;
            d.set_item("ascii_folding", c.ascii_folding)?;
            let langs: Vec<&str> = c.stopword_languages.iter().map(|l| l.name()).collect();
            d.set_item("stopword_languages", langs)?;
            d.set_item("custom_stopwords", c.custom_stopwords.clone())?;
            d.set_item("stemmer", c.stemmer.map(|s| s.name()))?;
            d.set_item("min_token_len", c.min_token_len)?;
            d.set_item("max_token_len", c.max_token_len)?;
            Ok(d)
        })
    }
}

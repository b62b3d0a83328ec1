//! `bm25x._native`: the PyO3 glue over `bm25x-core` (the encoder) and `bm25x-corpus` (the
//! command's JSONL reader and points). Only conversion lives here: Python options to core
//! options, Python strings to Rust strings, core vectors to numpy arrays, core errors to Python
//! exceptions. The GIL is released around all encoding and parsing work.

mod convert;
mod encoder;
mod errors;
mod jsonl;
mod later;
mod points;

use bm25x_core::language::{StemLanguage, StopwordLanguage};
use pyo3::prelude::*;

/// The stopword list of a language (name or alias), in list order.
#[pyfunction]
fn stopwords(language: &str) -> PyResult<Vec<&'static str>> {
    let lang = StopwordLanguage::parse(language).ok_or_else(|| {
        errors::OptionError::new_err(format!(
            "unknown stopword language {language:?}; accepted: {}",
            StopwordLanguage::accepted()
        ))
    })?;
    Ok(lang.words().collect())
}

/// `(stopword languages, stemmer languages)`: canonical names.
#[pyfunction]
fn languages() -> (Vec<&'static str>, Vec<&'static str>) {
    (
        StopwordLanguage::all()
            .map(StopwordLanguage::name)
            .collect(),
        StemLanguage::all().map(StemLanguage::name).collect(),
    )
}

/// Drop the encoder thread pools inherited from the parent process (their threads do not exist
/// after `fork()`); registered with `os.register_at_fork` by the Python package.
#[pyfunction]
fn _after_fork_in_child() {
    bm25x_core::forget_after_fork();
}

/// Load numpy's C API now, at import: loaded lazily, a Ctrl-C pending during a process's first
/// encode would make the load fail inside the conversion, where rust-numpy can only panic.
fn load_numpy_api(py: Python<'_>) -> PyResult<()> {
    errors::guard(|| {
        numpy::PyArray1::<u32>::zeros(py, 0, false);
        Ok(())
    })
    .map_err(|e| {
        pyo3::exceptions::PyImportError::new_err(format!(
            "bm25x could not load numpy's C API (is numpy installed and importable?): {e}"
        ))
    })
}

/// Panic inside the FFI guard, so tests can check that a Rust panic reaches Python as
/// `bm25x.InternalError` and never as PyO3's `PanicException`.
#[pyfunction]
fn _panic_for_tests() -> PyResult<()> {
    errors::guard(|| panic!("deliberate panic for the test suite"))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    load_numpy_api(m.py())?;
    m.add_class::<encoder::NativeEncoder>()?;
    m.add_class::<jsonl::JsonlReader>()?;
    m.add_class::<later::Worker>()?;
    m.add_class::<later::Pending>()?;
    m.add_function(wrap_pyfunction!(points::point_ids, m)?)?;
    m.add_function(wrap_pyfunction!(points::fingerprints, m)?)?;
    m.add_function(wrap_pyfunction!(points::point_keys_later, m)?)?;
    m.add_function(wrap_pyfunction!(points::upsert_json, m)?)?;
    m.add_function(wrap_pyfunction!(stopwords, m)?)?;
    m.add_function(wrap_pyfunction!(languages, m)?)?;
    m.add_function(wrap_pyfunction!(_after_fork_in_child, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    m.add("OptionError", m.py().get_type::<errors::OptionError>())?;
    m.add(
        "ThreadStartError",
        m.py().get_type::<errors::ThreadStartError>(),
    )?;
    m.add("InternalError", m.py().get_type::<errors::InternalError>())?;
    m.add("MAX_THREADS", encoder::MAX_THREADS)?;
    m.add(
        "PYTHON_WORD_UNICODE_VERSION",
        bm25x_core::tokenize::pyword::UNICODE_VERSION,
    )?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

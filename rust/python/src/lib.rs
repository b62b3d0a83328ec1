//! `bm25x._native`: the PyO3 glue over `bm25x-core`. Only conversion lives here: Python
//! options to core options, Python strings to Rust strings, core vectors to numpy arrays, core
//! errors to Python exceptions. The GIL is released around all encoding work.

mod convert;
mod encoder;
mod errors;

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
    bm25x_core::pool::forget_after_fork();
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<encoder::NativeEncoder>()?;
    m.add_function(wrap_pyfunction!(stopwords, m)?)?;
    m.add_function(wrap_pyfunction!(languages, m)?)?;
    m.add_function(wrap_pyfunction!(_after_fork_in_child, m)?)?;
    m.add("OptionError", m.py().get_type::<errors::OptionError>())?;
    m.add(
        "PYTHON_WORD_UNICODE_VERSION",
        bm25x_core::tokenize::fastembed::UNICODE_VERSION,
    )?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

//! `bm25x._native`: the PyO3 glue over `bm25x-core`. Only conversion lives here: Python
//! options to core options, Python strings to Rust strings, core vectors to numpy arrays, core
//! errors to Python exceptions. The GIL is released around all encoding work.

mod convert;
mod encoder;
mod errors;

use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<encoder::NativeEncoder>()?;
    m.add("OptionError", m.py().get_type::<errors::OptionError>())?;
    m.add(
        "PYTHON_WORD_UNICODE_VERSION",
        bm25x_core::tokenize::fastembed::UNICODE_VERSION,
    )?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

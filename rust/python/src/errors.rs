//! Core errors become Python exceptions here, and only here.

use pyo3::create_exception;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::PyErr;

create_exception!(
    bm25x,
    OptionError,
    PyValueError,
    "An option has a value bm25x does not accept; the message names the option and what is accepted."
);

pub fn to_py(err: bm25x_core::Error) -> PyErr {
    if err.is_type_error() {
        PyTypeError::new_err(err.to_string())
    } else {
        OptionError::new_err(err.to_string())
    }
}

//! Core errors become Python exceptions here, and only here. [`guard`] is the one panic
//! boundary: no Rust panic reaches Python as PyO3's `PanicException` (which `except Exception`
//! does not catch).

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::{PyErr, PyResult};

create_exception!(
    bm25x,
    OptionError,
    PyValueError,
    "An option has a value bm25x does not accept; the message names the option and what is accepted."
);

create_exception!(
    bm25x,
    ThreadStartError,
    PyRuntimeError,
    "The operating system refused to start the encoder threads asked for; pass a smaller threads=."
);

create_exception!(
    bm25x,
    InternalError,
    PyRuntimeError,
    "A bug in bm25x (an internal invariant failed); please report it with the message."
);

// By value so that it reads `.map_err(to_py)`, like the conversion it is.
#[allow(clippy::needless_pass_by_value)]
pub fn to_py(err: bm25x_core::Error) -> PyErr {
    if err.is_type_error() {
        PyTypeError::new_err(err.to_string())
    } else {
        OptionError::new_err(err.to_string())
    }
}

// By value, as `to_py`.
#[allow(clippy::needless_pass_by_value)]
pub fn spawn_to_py(err: bm25x_core::SpawnError) -> PyErr {
    ThreadStartError::new_err(err.to_string())
}

/// Run `f`, turning a panic into [`InternalError`]. Encoders are immutable and per-thread memos
/// are rebuilt on demand, so nothing observable is left half-updated by an unwound call.
pub fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| Err(panicked(&*payload)))
}

/// The [`InternalError`] for a caught panic's payload.
pub fn panicked(payload: &(dyn Any + Send)) -> PyErr {
    let what = payload
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    InternalError::new_err(format!(
        "internal error in bm25x (this is a bug, please report it): {what}"
    ))
}

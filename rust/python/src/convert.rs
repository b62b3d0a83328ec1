//! Python objects to core values.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PySet, PyString, PyTuple};

use bm25x_core::OptionValue;

use crate::errors::OptionError;

/// How deeply option values may nest. Real options nest two levels (`stopwords.custom`); the
/// limit keeps a self-containing or absurdly deep value from exhausting the stack.
pub const MAX_OPTION_DEPTH: usize = 32;

/// Convert a JSON-shaped Python value (None, bool, int, float, str, list/tuple/set, dict) into
/// an [`OptionValue`]. Enums with a string `.value` (e.g. qdrant-client's) are taken by value.
pub fn option_value(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<OptionValue> {
    nested_value(name, obj, 0)
}

fn nested_value(name: &str, obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<OptionValue> {
    if depth > MAX_OPTION_DEPTH {
        let top = name.split('.').next().unwrap_or(name);
        return Err(OptionError::new_err(format!(
            "option {top:?} nests more than {MAX_OPTION_DEPTH} levels deep (at {name:?}), or \
             contains itself; options are plain JSON values such as \
             {{\"custom\": [\"word\", ...]}}"
        )));
    }
    if obj.is_none() {
        return Ok(OptionValue::Null);
    }
    if obj.is_instance_of::<PyBool>() {
        return Ok(OptionValue::Bool(obj.extract::<bool>()?));
    }
    if obj.is_instance_of::<PyInt>() {
        // Like a JSON parser, read an integer too large for i128 as a float.
        return match obj.extract::<i128>() {
            Ok(i) => Ok(OptionValue::Int(i)),
            Err(_) => Ok(OptionValue::Float(obj.extract::<f64>().map_err(|_| {
                OptionError::new_err(format!("option {name:?}: integer {obj} is out of range"))
            })?)),
        };
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(OptionValue::Float(obj.extract::<f64>()?));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(OptionValue::Str(text(s).map_err(|_| {
            OptionError::new_err(format!("option {name:?} contains a lone surrogate"))
        })?));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut items = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key: String = k.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "option {name:?}: mapping keys must be strings, got {k:?}"
                ))
            })?;
            let value = nested_value(&format!("{name}.{key}"), &v, depth + 1)?;
            items.push((key, value));
        }
        return Ok(OptionValue::Map(items));
    }
    if obj.is_instance_of::<PyList>()
        || obj.is_instance_of::<PyTuple>()
        || obj.is_instance_of::<PySet>()
        || obj.is_instance_of::<PyFrozenSet>()
    {
        let mut items = Vec::new();
        for item in obj.try_iter()? {
            items.push(nested_value(name, &item?, depth + 1)?);
        }
        // Sets have no order; sort their items so equal options give equal configurations.
        if obj.is_instance_of::<PySet>() || obj.is_instance_of::<PyFrozenSet>() {
            items.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        }
        return Ok(OptionValue::List(items));
    }
    // numpy scalars (np.int64, np.float32, np.bool_) carry a plain Python value in `.item()`.
    if obj.hasattr("dtype")? {
        if let Ok(item) = obj.call_method0("item") {
            if !item.hasattr("dtype")? {
                return nested_value(name, &item, depth + 1);
            }
        }
    }
    // Enum members (qdrant-client's TokenizerType.WORD, ...) carry their JSON form in `.value`.
    if let Ok(value) = obj.getattr("value") {
        if value.is_instance_of::<PyString>() {
            return nested_value(name, &value, depth + 1);
        }
    }
    // Pydantic models (qdrant-client's StopwordsSet, SnowballParams, ...) dump to JSON shapes.
    if let Ok(dump) = obj.call_method1("model_dump", ()) {
        if dump.is_instance_of::<PyDict>() {
            return nested_value(name, &dump, depth + 1);
        }
    }
    Err(PyTypeError::new_err(format!(
        "option {name:?} must be a JSON value (None, bool, number, string, list or dict), got {}",
        obj.get_type().name()?
    )))
}

/// A Python `str` as Rust text. Fails on lone surrogates (not representable in UTF-8).
pub fn text(s: &Bound<'_, PyString>) -> PyResult<String> {
    Ok(s.to_cow()?.into_owned())
}

/// The index (in code points) of the first lone surrogate of a str that failed to convert.
pub fn surrogate_position(s: &Bound<'_, PyString>) -> Option<usize> {
    let bytes = s
        .call_method1("encode", ("utf-8", "surrogatepass"))
        .ok()?
        .extract::<Vec<u8>>()
        .ok()?;
    let valid = match std::str::from_utf8(&bytes) {
        Ok(_) => return None,
        Err(e) => e.valid_up_to(),
    };
    Some(std::str::from_utf8(&bytes[..valid]).ok()?.chars().count())
}

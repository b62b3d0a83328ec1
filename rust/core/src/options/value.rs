//! A JSON-like option value. Python objects and JSON text both convert into it, so options are
//! validated once, here in the core, whatever the front end.
//!
//! It is not `serde_json::Value` because a Python float may be NaN or infinite, which JSON cannot
//! hold, and such a value must still reach validation to get a precise error.
//!
//! The typed readers below (`number`, `boolean`, `count`, `string`) are shared by the server and
//! fastembed parsers; each names the option in its error.

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    List(Vec<OptionValue>),
    Map(Vec<(String, OptionValue)>),
}

impl OptionValue {
    /// The JSON type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            OptionValue::Null => "null",
            OptionValue::Bool(_) => "a boolean",
            OptionValue::Int(_) => "an integer",
            OptionValue::Float(_) => "a float",
            OptionValue::Str(_) => "a string",
            OptionValue::List(_) => "a list",
            OptionValue::Map(_) => "a mapping",
        }
    }

    /// A short rendering of the value, for error messages.
    pub fn describe(&self) -> String {
        let shown = match self {
            OptionValue::Null => "null".to_string(),
            OptionValue::Bool(b) => b.to_string(),
            OptionValue::Int(i) => i.to_string(),
            OptionValue::Float(x) => format!("{x:?}"),
            OptionValue::Str(s) => format!("{s:?}"),
            OptionValue::List(items) => format!("of {} item(s)", items.len()),
            OptionValue::Map(items) => format!("with {} key(s)", items.len()),
        };
        match self {
            OptionValue::Str(_) | OptionValue::List(_) | OptionValue::Map(_) => {
                format!("{} {shown}", self.type_name())
            }
            _ => shown,
        }
    }

    /// Parse JSON text (used by the CLI and by tests).
    pub fn from_json(text: &str) -> std::result::Result<OptionValue, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(Self::from(value))
    }
}

impl From<serde_json::Value> for OptionValue {
    fn from(value: serde_json::Value) -> Self {
        match value {
            serde_json::Value::Null => OptionValue::Null,
            serde_json::Value::Bool(b) => OptionValue::Bool(b),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    OptionValue::Int(i128::from(i))
                } else if let Some(u) = n.as_u64() {
                    OptionValue::Int(i128::from(u))
                } else {
                    OptionValue::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            serde_json::Value::String(s) => OptionValue::Str(s),
            serde_json::Value::Array(items) => {
                OptionValue::List(items.into_iter().map(Self::from).collect())
            }
            serde_json::Value::Object(map) => {
                OptionValue::Map(map.into_iter().map(|(k, v)| (k, Self::from(v))).collect())
            }
        }
    }
}

/// A number option (an integer is taken as its float value, as in Python and JSON).
pub(super) fn number(name: &str, value: &OptionValue) -> Result<f64> {
    match value {
        // Rounds to the nearest float, as Python's `float(int)` does; an integer too large for
        // a float becomes infinite and fails the range checks with a clear message.
        #[allow(clippy::cast_precision_loss)]
        OptionValue::Int(i) => Ok(*i as f64),
        OptionValue::Float(x) => Ok(*x),
        other => Err(Error::kind(name, "a number", other.describe())),
    }
}

pub(super) fn boolean(name: &str, value: &OptionValue) -> Result<bool> {
    match value {
        OptionValue::Bool(b) => Ok(*b),
        other => Err(Error::kind(name, "a boolean", other.describe())),
    }
}

/// A non-negative integer option.
pub(super) fn count(name: &str, value: &OptionValue) -> Result<usize> {
    match value {
        OptionValue::Int(i) => usize::try_from(*i)
            .map_err(|_| Error::value(name, format!("must be a non-negative integer, got {i}"))),
        other => Err(Error::kind(
            name,
            "a non-negative integer",
            other.describe(),
        )),
    }
}

pub(super) fn string<'a>(name: &str, value: &'a OptionValue) -> Result<&'a str> {
    match value {
        OptionValue::Str(s) => Ok(s),
        other => Err(Error::kind(name, "a string", other.describe())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_the_type_once() {
        let map = OptionValue::from_json(r#"{"custom": ["a"]}"#).unwrap();
        assert_eq!(map.describe(), "a mapping with 1 key(s)");
        let list = OptionValue::from_json(r#"["a", "b"]"#).unwrap();
        assert_eq!(list.describe(), "a list of 2 item(s)");
        assert_eq!(OptionValue::Str("x".into()).describe(), "a string \"x\"");
        assert_eq!(OptionValue::Int(3).describe(), "3");
    }
}

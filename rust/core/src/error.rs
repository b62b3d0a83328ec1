//! The single error type of the core. Each variant names the offending option and says what is
//! accepted, so the message can be shown to a user as is.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// An option name that no flavour knows.
    UnknownOption {
        option: String,
        accepted: Vec<&'static str>,
    },
    /// An option given a value of the wrong JSON type (a string where a number belongs, ...).
    OptionType {
        option: String,
        expected: &'static str,
        got: String,
    },
    /// An option whose type is right but whose value is not accepted.
    OptionValue { option: String, message: String },
}

impl Error {
    pub fn value(option: impl Into<String>, message: impl Into<String>) -> Self {
        Error::OptionValue {
            option: option.into(),
            message: message.into(),
        }
    }

    pub fn kind(option: impl Into<String>, expected: &'static str, got: impl Into<String>) -> Self {
        Error::OptionType {
            option: option.into(),
            expected,
            got: got.into(),
        }
    }

    /// True for errors that Python should raise as `TypeError` rather than `ValueError`.
    pub fn is_type_error(&self) -> bool {
        matches!(self, Error::OptionType { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownOption { option, accepted } => write!(
                f,
                "unknown option {option:?}; accepted options: {}",
                accepted.join(", ")
            ),
            Error::OptionType {
                option,
                expected,
                got,
            } => write!(f, "option {option:?} must be {expected}, got {got}"),
            Error::OptionValue { option, message } => write!(f, "option {option:?}: {message}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

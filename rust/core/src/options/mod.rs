//! Options: the JSON shapes a Qdrant `Document` carries in `options` for model `qdrant/bm25`
//! (server flavour) or that fastembed's `Bm25` takes as keyword arguments (fastembed flavour),
//! validated into a [`Config`].
//!
//! Unlike Qdrant, which ignores unknown keys, an unknown key is an error here: a typo such as
//! `avglen` would otherwise silently change every vector.

mod fastembed;
mod server;
mod value;

pub use fastembed::{
    LANGUAGES as FASTEMBED_LANGUAGES, OPTIONS as FASTEMBED_OPTIONS,
    TOKEN_MAX_LENGTH as FASTEMBED_TOKEN_MAX_LENGTH,
};
pub use server::OPTIONS as SERVER_OPTIONS;
pub use value::OptionValue;

use crate::error::{Error, Result};
use crate::language::{StemLanguage, StopwordLanguage};
use crate::process::Profile;
use crate::tokenize::TokenizerKind;
use crate::weight::Params;
use value::number;

/// Which reference pipeline to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Qdrant's server-side `qdrant/bm25` (and qdrant-edge's `Bm25`).
    Qdrant,
    /// fastembed's `Qdrant/bm25` (`fastembed.SparseTextEmbedding`), also qdrant-client's local mode.
    Fastembed,
}

/// A validated configuration: everything the pipeline needs, nothing left to resolve.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub flavor: Flavor,
    /// Server flavour: which Qdrant build to follow (see [`Profile`]). Fastembed flavour: unused.
    pub profile: Profile,
    pub params: Params,
    pub tokenizer: TokenizerKind,
    pub lowercase: bool,
    pub ascii_folding: bool,
    pub stopword_languages: Vec<StopwordLanguage>,
    pub custom_stopwords: Vec<String>,
    pub stemmer: Option<StemLanguage>,
    /// Server flavour: checked on the stemmed token. Fastembed flavour: unused.
    pub min_token_len: Option<usize>,
    /// Server flavour: checked on the stemmed token (no default limit).
    /// Fastembed flavour: `token_max_length`, checked before stemming (default 40).
    pub max_token_len: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Config::from_options(&[]).expect("the defaults are valid")
    }
}

impl Config {
    /// Build a configuration from option key/value pairs. `null` means "not given" (the default),
    /// as in Qdrant's JSON.
    pub fn from_options(options: &[(String, OptionValue)]) -> Result<Config> {
        let get = |name: &str| -> Option<&OptionValue> {
            options
                .iter()
                .rev()
                .find(|(k, v)| k == name && *v != OptionValue::Null)
                .map(|(_, v)| v)
        };
        let flavor = match get("flavor") {
            None => Flavor::Qdrant,
            Some(OptionValue::Str(s)) if s == "qdrant" => Flavor::Qdrant,
            Some(OptionValue::Str(s)) if s == "fastembed" => Flavor::Fastembed,
            Some(OptionValue::Str(s)) => {
                return Err(Error::value(
                    "flavor",
                    format!("unknown flavor {s:?}; accepted: \"qdrant\" (the default, Qdrant's server-side qdrant/bm25) or \"fastembed\" (the fastembed flavour: fastembed's Python Bm25, its Qdrant/bm25)"),
                ))
            }
            Some(other) => return Err(Error::kind("flavor", "a string", other.describe())),
        };
        let accepted = match flavor {
            Flavor::Qdrant => SERVER_OPTIONS,
            Flavor::Fastembed => FASTEMBED_OPTIONS,
        };
        for (key, _) in options {
            if !accepted.contains(&key.as_str()) {
                let mut err = Error::UnknownOption {
                    option: key.clone(),
                    accepted: accepted.to_vec(),
                };
                let other = match flavor {
                    Flavor::Qdrant => ("fastembed", FASTEMBED_OPTIONS),
                    Flavor::Fastembed => ("qdrant", SERVER_OPTIONS),
                };
                if other.1.contains(&key.as_str()) {
                    err = Error::value(
                        key.clone(),
                        format!(
                            "this option belongs to the {:?} flavour; pass flavor={:?} to use it, or use one of: {}",
                            other.0,
                            other.0,
                            accepted.join(", ")
                        ),
                    );
                }
                return Err(err);
            }
        }
        let params = parse_params(&get)?;
        match flavor {
            Flavor::Qdrant => server::config(params, &get),
            Flavor::Fastembed => fastembed::config(params, &get),
        }
    }

    /// Parse a JSON object of options (the CLI's `--options '{...}'`).
    pub fn from_json(text: &str) -> Result<Config> {
        match OptionValue::from_json(text) {
            Ok(OptionValue::Map(items)) => Config::from_options(&items),
            Ok(other) => Err(Error::kind("options", "a JSON object", other.describe())),
            Err(e) => Err(Error::value("options", format!("invalid JSON: {e}"))),
        }
    }
}

/// A number as a person reads it in an error: scientific notation when it is very large or
/// very small, so `1e-300` is not printed as three hundred zeros.
fn readable(x: f64) -> String {
    if x != 0.0 && (x.abs() >= 1e16 || x.abs() < 1e-6) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// The largest `k` accepted: every weight is at most `k + 1`, which must fit float32.
pub const MAX_K: f64 = 1e38;
/// The smallest `avg_len` accepted with `k = 0` (and `b > 0`): keeps `doc_len / avg_len`
/// finite for any document of fewer than 2^64 tokens.
pub const MIN_AVG_LEN_WITH_K0: f64 = 1e-280;

fn parse_params<'a>(get: &impl Fn(&str) -> Option<&'a OptionValue>) -> Result<Params> {
    let mut params = Params::default();
    if let Some(v) = get("k") {
        let k = number("k", v)?;
        // A weight never exceeds k + 1; above MAX_K it would not fit float32 (Qdrant accepts
        // any finite k >= 0 and then stores inf or NaN weights).
        if !(0.0..=MAX_K).contains(&k) {
            return Err(Error::value(
                "k",
                format!(
                    "must be in [0, {MAX_K:e}] so that weights fit float32, got {} \
                     (Qdrant accepts larger finite values but then stores infinite weights)",
                    readable(k)
                ),
            ));
        }
        params.k = k;
    }
    if let Some(v) = get("b") {
        let b = number("b", v)?;
        if !(0.0..=1.0).contains(&b) {
            return Err(Error::value(
                "b",
                format!("must be finite and in [0.0, 1.0], got {b}"),
            ));
        }
        params.b = b;
    }
    if let Some(v) = get("avg_len") {
        let avg = number("avg_len", v)?;
        if !avg.is_finite() || avg <= 0.0 {
            return Err(Error::value(
                "avg_len",
                format!("must be finite and > 0, got {avg}"),
            ));
        }
        params.avg_len = avg;
    }
    // With k = 0 every weight is n / (0 * norm + n); a length normalisation that overflows to
    // infinity (b > 0 and a tiny avg_len) makes that 0 * inf = NaN, so refuse the combination
    // (Qdrant accepts it and stores NaN). With k > 0 an infinite normalisation gives weight 0.
    if params.k == 0.0 && params.b > 0.0 && params.avg_len < MIN_AVG_LEN_WITH_K0 {
        return Err(Error::value(
            "avg_len",
            format!(
                "with k = 0 and b > 0, avg_len must be >= {MIN_AVG_LEN_WITH_K0:e} so that \
                 weights stay finite, got {}",
                readable(params.avg_len)
            ),
        ));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(json: &str) -> Result<Config> {
        Config::from_json(json)
    }

    #[test]
    fn defaults_match_qdrant() {
        let c = Config::default();
        assert_eq!(c.params, Params::default());
        assert_eq!(c.tokenizer, TokenizerKind::Word);
        assert!(c.lowercase && !c.ascii_folding);
        assert_eq!(c.stopword_languages[0].name(), "english");
        assert_eq!(c.stemmer.unwrap().name(), "english");
        assert_eq!((c.min_token_len, c.max_token_len), (None, None));
    }

    #[test]
    fn languages_resolve_independently() {
        let c = opts(r#"{"language": "tamil"}"#).unwrap();
        assert!(c.stopword_languages.is_empty());
        assert_eq!(c.stemmer.unwrap().name(), "tamil");
        let c = opts(r#"{"language": "zh"}"#).unwrap();
        assert_eq!(c.stopword_languages[0].name(), "chinese");
        assert!(c.stemmer.is_none());
        let c = opts(r#"{"language": "none"}"#).unwrap();
        assert!(c.stopword_languages.is_empty() && c.stemmer.is_none());
    }

    #[test]
    fn explicit_stopwords_replace_the_language_list() {
        let c = opts(r#"{"stopwords": {"custom": ["Hello"]}}"#).unwrap();
        assert!(c.stopword_languages.is_empty());
        assert_eq!(c.custom_stopwords, vec!["Hello".to_string()]);
        let c = opts(r#"{"stopwords": {"languages": ["de", "german", "fr"]}}"#).unwrap();
        assert_eq!(c.stopword_languages.len(), 2);
    }

    #[test]
    fn stemmer_forms() {
        assert!(opts(r#"{"stemmer": {"type": "none"}}"#)
            .unwrap()
            .stemmer
            .is_none());
        let c = opts(r#"{"stemmer": {"type": "snowball", "language": "hy"}}"#).unwrap();
        assert_eq!(c.stemmer.unwrap().name(), "armenian");
        assert!(opts(r#"{"stemmer": {"type": "snowball"}}"#).is_err());
        assert!(opts(r#"{"stemmer": "english"}"#)
            .unwrap_err()
            .is_type_error());
    }

    #[test]
    fn bad_values_name_the_option() {
        for (json, option) in [
            (r#"{"k": -1}"#, "k"),
            (r#"{"b": 1.5}"#, "b"),
            (r#"{"avg_len": 0}"#, "avg_len"),
            (r#"{"tokenizer": "words"}"#, "tokenizer"),
            (r#"{"language": "English"}"#, "language"),
            (r#"{"min_token_len": -2}"#, "min_token_len"),
            (r#"{"avglen": 3}"#, "avglen"),
            (r#"{"token_max_length": 3}"#, "token_max_length"),
            (r#"{"k": 1e308}"#, "float32"),
            (r#"{"avg_len": 5e-324, "k": 0}"#, "avg_len"),
            (
                r#"{"min_token_len": 5, "max_token_len": 3}"#,
                "max_token_len (3)",
            ),
            (r#"{"profile": "edge"}"#, "profile"),
        ] {
            let err = opts(json).unwrap_err();
            assert!(err.to_string().contains(option), "{json}: {err}");
        }
        assert!(opts(r#"{"k": "1.2"}"#).unwrap_err().is_type_error());
        assert!(opts(r#"{"lowercase": 1}"#).unwrap_err().is_type_error());
        assert!(opts(r#"{"min_token_len": 2.0}"#)
            .unwrap_err()
            .is_type_error());
        assert!(opts(r#"{"profile": 1}"#).unwrap_err().is_type_error());
    }

    #[test]
    fn profile_defaults_to_the_server() {
        assert_eq!(Config::default().profile, Profile::Server);
        let c = opts(r#"{"profile": "edge-0.9"}"#).unwrap();
        assert_eq!((c.profile, c.profile.name()), (Profile::Edge09, "edge-0.9"));
        // A server-flavour option: the fastembed flavour names it as such.
        let err = opts(r#"{"flavor": "fastembed", "profile": "server"}"#).unwrap_err();
        assert!(err.to_string().contains("qdrant"), "{err}");
    }

    #[test]
    fn fastembed_options() {
        let c = opts(r#"{"flavor": "fastembed"}"#).unwrap();
        assert_eq!(c.max_token_len, Some(40));
        assert_eq!(c.stopword_languages[0].name(), "english");
        let c = opts(r#"{"flavor": "fastembed", "disable_stemmer": true, "language": "klingon"}"#)
            .unwrap();
        assert!(c.stemmer.is_none() && c.stopword_languages.is_empty());
        let c = opts(r#"{"flavor": "fastembed", "language": "tamil"}"#).unwrap();
        assert!(c.stopword_languages.is_empty());
        assert!(opts(r#"{"flavor": "fastembed", "language": "en"}"#).is_err());
        assert!(opts(r#"{"flavor": "fastembed", "tokenizer": "word"}"#).is_err());
    }
}

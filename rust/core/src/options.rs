//! Options: the JSON shapes a Qdrant `Document` carries in `options` for model `qdrant/bm25`
//! (server flavour) or that fastembed's `Bm25` takes as keyword arguments (fastembed flavour),
//! validated into a [`Config`].
//!
//! Unlike Qdrant, which ignores unknown keys, an unknown key is an error here: a typo such as
//! `avglen` would otherwise silently change every vector.

use crate::error::{Error, Result};
use crate::language::{StemLanguage, StopwordLanguage};
use crate::value::OptionValue;

/// Which reference pipeline to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Qdrant's server-side `qdrant/bm25` (and qdrant-edge's `Bm25`).
    Qdrant,
    /// fastembed's `Qdrant/bm25` (`fastembed.SparseTextEmbedding`), also qdrant-client's local mode.
    Fastembed,
}

/// The server flavour's tokenizers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenizerKind {
    Word,
    Whitespace,
    Prefix,
    Multilingual,
    Code,
}

impl TokenizerKind {
    const NAMES: &'static [(&'static str, TokenizerKind)] = &[
        ("word", TokenizerKind::Word),
        ("whitespace", TokenizerKind::Whitespace),
        ("prefix", TokenizerKind::Prefix),
        ("multilingual", TokenizerKind::Multilingual),
        ("code", TokenizerKind::Code),
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, k)| *k == self).unwrap().0
    }
}

/// Which Qdrant build to follow where Qdrant's own builds disagree. Only the Japanese branch of
/// the `multilingual` tokenizer differs today: the released servers (v1.18.x, v1.19.0) lowercase
/// each word vaporetto splits off and test the *raw* word against the stopwords, but never fold,
/// stem or length-filter it; qdrant-edge 0.9.0 sends those words through the full per-token
/// chain. bm25x's own option (not a Qdrant one), named so it cannot clash with Qdrant's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// The Qdrant server, `qdrant/bm25` computed server-side (the default).
    Server,
    /// qdrant-edge 0.9.0 (`qdrant_edge.Bm25` of qdrant-edge-py 0.9.0).
    Edge09,
}

impl Profile {
    const NAMES: &'static [(&'static str, Profile)] =
        &[("server", Profile::Server), ("edge-0.9", Profile::Edge09)];

    pub fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, p)| *p == self).unwrap().0
    }

    fn parse(value: &OptionValue) -> Result<Profile> {
        let name = string("profile", value)?;
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| *p)
            .ok_or_else(|| {
                Error::value(
                    "profile",
                    format!("unknown profile {name:?}; accepted: \"server\" (the default: what a Qdrant server computes) or \"edge-0.9\" (qdrant-edge 0.9.0, which differs on Japanese text under tokenizer \"multilingual\")"),
                )
            })
    }
}

/// BM25 parameters, validated as Qdrant validates them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub k: f64,
    pub b: f64,
    pub avg_len: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            k: 1.2,
            b: 0.75,
            avg_len: 256.0,
        }
    }
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

pub const SERVER_OPTIONS: &[&str] = &[
    "flavor",
    "profile",
    "k",
    "b",
    "avg_len",
    "tokenizer",
    "language",
    "lowercase",
    "ascii_folding",
    "stopwords",
    "stemmer",
    "min_token_len",
    "max_token_len",
];

pub const FASTEMBED_OPTIONS: &[&str] = &[
    "flavor",
    "k",
    "b",
    "avg_len",
    "language",
    "token_max_length",
    "disable_stemmer",
    "stopwords",
];

/// fastembed's languages: those of its Snowball stemmer (py_rust_stemmers), names only.
pub const FASTEMBED_LANGUAGES: &[&str] = &[
    "arabic",
    "danish",
    "dutch",
    "english",
    "finnish",
    "french",
    "german",
    "greek",
    "hungarian",
    "italian",
    "norwegian",
    "portuguese",
    "romanian",
    "russian",
    "spanish",
    "swedish",
    "tamil",
    "turkish",
];

/// fastembed's default `token_max_length`.
pub const FASTEMBED_TOKEN_MAX_LENGTH: usize = 40;

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
                    format!("unknown flavor {s:?}; accepted: \"qdrant\" (the default, Qdrant's server-side qdrant/bm25) or \"fastembed\" (fastembed's Qdrant/bm25)"),
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
            Flavor::Qdrant => server_config(params, &get),
            Flavor::Fastembed => fastembed_config(params, &get),
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

fn number(name: &str, value: &OptionValue) -> Result<f64> {
    match value {
        OptionValue::Int(i) => Ok(*i as f64),
        OptionValue::Float(x) => Ok(*x),
        other => Err(Error::kind(name, "a number", other.describe())),
    }
}

fn boolean(name: &str, value: &OptionValue) -> Result<bool> {
    match value {
        OptionValue::Bool(b) => Ok(*b),
        other => Err(Error::kind(name, "a boolean", other.describe())),
    }
}

fn count(name: &str, value: &OptionValue) -> Result<usize> {
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

fn string<'a>(name: &str, value: &'a OptionValue) -> Result<&'a str> {
    match value {
        OptionValue::Str(s) => Ok(s),
        other => Err(Error::kind(name, "a string", other.describe())),
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

fn server_config<'a>(
    params: Params,
    get: &impl Fn(&str) -> Option<&'a OptionValue>,
) -> Result<Config> {
    let tokenizer = match get("tokenizer") {
        None => TokenizerKind::Word,
        Some(v) => {
            let name = string("tokenizer", v)?;
            TokenizerKind::NAMES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, k)| *k)
                .ok_or_else(|| {
                    Error::value(
                        "tokenizer",
                        format!("unknown tokenizer {name:?}; accepted: word, whitespace, prefix, multilingual, code"),
                    )
                })?
        }
    };
    let language = match get("language") {
        None => "english",
        Some(v) => string("language", v)?,
    };
    let lang_stopwords = StopwordLanguage::parse(language);
    let lang_stemmer = StemLanguage::parse(language);
    if lang_stopwords.is_none() && lang_stemmer.is_none() && language != "none" {
        return Err(Error::value(
            "language",
            format!(
                "unsupported language {language:?} (names are case-sensitive); accepted: \"none\" (no stopwords, no stemmer), stopword languages {}, and stemmer-only languages armenian (hy), tamil (ta)",
                StopwordLanguage::accepted()
            ),
        ));
    }
    let lowercase = get("lowercase")
        .map(|v| boolean("lowercase", v))
        .transpose()?
        .unwrap_or(true);
    let ascii_folding = get("ascii_folding")
        .map(|v| boolean("ascii_folding", v))
        .transpose()?
        .unwrap_or(false);

    // An explicit `stopwords` replaces the language's list; it is not merged with it.
    let (stopword_languages, custom_stopwords) = match get("stopwords") {
        None => (lang_stopwords.into_iter().collect(), Vec::new()),
        Some(v) => server_stopwords(v)?,
    };

    let stemmer = match get("stemmer") {
        None => lang_stemmer,
        Some(v) => server_stemmer(v)?,
    };
    let min_token_len = get("min_token_len")
        .map(|v| count("min_token_len", v))
        .transpose()?;
    let max_token_len = get("max_token_len")
        .map(|v| count("max_token_len", v))
        .transpose()?;
    if let (Some(min), Some(max)) = (min_token_len, max_token_len) {
        if min > max {
            return Err(Error::value(
                "min_token_len",
                format!(
                    "min_token_len ({min}) is greater than max_token_len ({max}): no token can \
                     satisfy both, so every document vector would be empty (Qdrant accepts this \
                     silently); lower min_token_len or raise max_token_len"
                ),
            ));
        }
    }
    let profile = get("profile")
        .map(Profile::parse)
        .transpose()?
        .unwrap_or(Profile::Server);

    Ok(Config {
        flavor: Flavor::Qdrant,
        profile,
        params,
        tokenizer,
        lowercase,
        ascii_folding,
        stopword_languages,
        custom_stopwords,
        stemmer,
        min_token_len,
        max_token_len,
    })
}

fn stopword_language(option: &str, value: &OptionValue) -> Result<StopwordLanguage> {
    let name = string(option, value)?;
    StopwordLanguage::parse(name).ok_or_else(|| {
        Error::value(
            option,
            format!(
                "unknown stopword language {name:?} (case-sensitive); accepted: {}",
                StopwordLanguage::accepted()
            ),
        )
    })
}

fn server_stopwords(value: &OptionValue) -> Result<(Vec<StopwordLanguage>, Vec<String>)> {
    match value {
        OptionValue::Str(_) => Ok((vec![stopword_language("stopwords", value)?], Vec::new())),
        OptionValue::Map(entries) => {
            let mut languages = Vec::new();
            let mut custom = Vec::new();
            for (key, v) in entries {
                match (key.as_str(), v) {
                    (_, OptionValue::Null) if key == "languages" || key == "custom" => {}
                    ("languages", OptionValue::List(items)) => {
                        for item in items {
                            languages.push(stopword_language("stopwords.languages", item)?);
                        }
                    }
                    ("custom", OptionValue::List(items)) => {
                        for item in items {
                            custom.push(string("stopwords.custom", item)?.to_string());
                        }
                    }
                    ("languages" | "custom", other) => {
                        return Err(Error::kind(
                            format!("stopwords.{key}"),
                            "a list of strings",
                            other.describe(),
                        ))
                    }
                    _ => {
                        return Err(Error::UnknownOption {
                            option: format!("stopwords.{key}"),
                            accepted: vec!["languages", "custom"],
                        })
                    }
                }
            }
            languages.sort();
            languages.dedup();
            Ok((languages, custom))
        }
        other => Err(Error::kind(
            "stopwords",
            "a language name or a mapping {\"languages\": [...], \"custom\": [...]}",
            other.describe(),
        )),
    }
}

fn server_stemmer(value: &OptionValue) -> Result<Option<StemLanguage>> {
    let entries = match value {
        OptionValue::Map(entries) => entries,
        other => {
            return Err(Error::kind(
                "stemmer",
                "a mapping {\"type\": \"snowball\", \"language\": ...} or {\"type\": \"none\"}",
                other.describe(),
            ))
        }
    };
    let field = |name: &str| entries.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    for (key, _) in entries {
        if key != "type" && key != "language" {
            return Err(Error::UnknownOption {
                option: format!("stemmer.{key}"),
                accepted: vec!["type", "language"],
            });
        }
    }
    let kind = match field("type") {
        Some(v) => string("stemmer.type", v)?,
        None => {
            return Err(Error::value(
                "stemmer",
                "missing \"type\": use {\"type\": \"snowball\", \"language\": ...} or {\"type\": \"none\"}",
            ))
        }
    };
    match kind {
        "none" => Ok(None),
        "snowball" => {
            let Some(lang) = field("language") else {
                return Err(Error::value(
                    "stemmer.language",
                    format!(
                        "required for a snowball stemmer; accepted: {}",
                        StemLanguage::accepted()
                    ),
                ));
            };
            let name = string("stemmer.language", lang)?;
            StemLanguage::parse(name).map(Some).ok_or_else(|| {
                Error::value(
                    "stemmer.language",
                    format!(
                        "unknown snowball language {name:?} (case-sensitive); accepted: {}",
                        StemLanguage::accepted()
                    ),
                )
            })
        }
        other => Err(Error::value(
            "stemmer.type",
            format!("unknown stemmer type {other:?}; accepted: \"snowball\", \"none\""),
        )),
    }
}

fn fastembed_config<'a>(
    params: Params,
    get: &impl Fn(&str) -> Option<&'a OptionValue>,
) -> Result<Config> {
    let disable_stemmer = get("disable_stemmer")
        .map(|v| boolean("disable_stemmer", v))
        .transpose()?
        .unwrap_or(false);
    let language = match get("language") {
        None => "english",
        Some(v) => string("language", v)?,
    };
    let known = FASTEMBED_LANGUAGES.contains(&language);
    // fastembed only checks the language when it needs a stemmer.
    if !known && !disable_stemmer {
        return Err(Error::value(
            "language",
            format!(
                "fastembed flavour: unsupported language {language:?} (names are case-sensitive); accepted: {}",
                FASTEMBED_LANGUAGES.join(", ")
            ),
        ));
    }
    let max_len = match get("token_max_length") {
        None => FASTEMBED_TOKEN_MAX_LENGTH,
        Some(v) => count("token_max_length", v)?,
    };
    let (stopword_languages, custom_stopwords) = match get("stopwords") {
        Some(OptionValue::List(items)) => {
            let mut words = Vec::with_capacity(items.len());
            for item in items {
                let word = string("stopwords", item)?;
                words.push(crate::tokenize::fastembed::lower_stopword(word));
            }
            (Vec::new(), words)
        }
        Some(other) => {
            return Err(Error::kind(
                "stopwords",
                "a list or set of words (fastembed flavour)",
                other.describe(),
            ))
        }
        // `disable_stemmer` also drops the bundled list; Tamil has no list.
        None if disable_stemmer || !known => (Vec::new(), Vec::new()),
        None => (
            StopwordLanguage::parse(language).into_iter().collect(),
            Vec::new(),
        ),
    };
    let stemmer = if disable_stemmer {
        None
    } else {
        StemLanguage::parse(language)
    };
    Ok(Config {
        flavor: Flavor::Fastembed,
        profile: Profile::Server,
        params,
        tokenizer: TokenizerKind::Word,
        lowercase: true,
        ascii_folding: false,
        stopword_languages,
        custom_stopwords,
        stemmer,
        min_token_len: None,
        max_token_len: Some(max_len),
    })
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

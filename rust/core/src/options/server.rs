//! The server flavour's options: what a Qdrant `Document` carries in `options` for model
//! `qdrant/bm25` (plus bm25x's own `profile`).

use super::value::{boolean, count, string, OptionValue};
use super::{Config, Flavor};
use crate::error::{Error, Result};
use crate::language::{StemLanguage, StopwordLanguage};
use crate::process::Profile;
use crate::tokenize::TokenizerKind;
use crate::weight::Params;

/// The keys the server flavour accepts.
pub const OPTIONS: &[&str] = &[
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

fn profile(value: &OptionValue) -> Result<Profile> {
    let name = string("profile", value)?;
    Profile::from_name(name).ok_or_else(|| {
        Error::value(
            "profile",
            format!("unknown profile {name:?}; accepted: \"server\" (the default: what a Qdrant server computes) or \"edge-0.9\" (qdrant-edge 0.9.0, which differs on Japanese text under tokenizer \"multilingual\")"),
        )
    })
}

pub(super) fn config<'a>(
    params: Params,
    get: &impl Fn(&str) -> Option<&'a OptionValue>,
) -> Result<Config> {
    let tokenizer = match get("tokenizer") {
        None => TokenizerKind::Word,
        Some(v) => {
            let name = string("tokenizer", v)?;
            TokenizerKind::from_name(name).ok_or_else(|| {
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
        Some(v) => parse_stopwords(v)?,
    };

    let stemmer = match get("stemmer") {
        None => lang_stemmer,
        Some(v) => parse_stemmer(v)?,
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
        .map(profile)
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

fn parse_stopwords(value: &OptionValue) -> Result<(Vec<StopwordLanguage>, Vec<String>)> {
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

fn parse_stemmer(value: &OptionValue) -> Result<Option<StemLanguage>> {
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

//! The fastembed flavour's options: the keyword arguments of fastembed's `Bm25`.

use super::value::{boolean, count, string, OptionValue};
use super::{Config, Flavor};
use crate::error::{Error, Result};
use crate::language::{StemLanguage, StopwordLanguage};
use crate::process::Profile;
use crate::tokenize::{pyword, TokenizerKind};
use crate::weight::Params;

/// The keys the fastembed flavour accepts.
pub const OPTIONS: &[&str] = &[
    "flavor",
    "k",
    "b",
    "avg_len",
    "language",
    "token_max_length",
    "disable_stemmer",
    "stopwords",
];

/// fastembed's languages: those of its Snowball stemmer (`py_rust_stemmers`), names only.
pub const LANGUAGES: &[&str] = &[
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
pub const TOKEN_MAX_LENGTH: usize = 40;

pub(super) fn config<'a>(
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
    let known = LANGUAGES.contains(&language);
    // fastembed only checks the language when it needs a stemmer.
    if !known && !disable_stemmer {
        return Err(Error::value(
            "language",
            format!(
                "fastembed flavour: unsupported language {language:?} (names are case-sensitive); accepted: {}",
                LANGUAGES.join(", ")
            ),
        ));
    }
    let max_len = match get("token_max_length") {
        None => TOKEN_MAX_LENGTH,
        Some(v) => count("token_max_length", v)?,
    };
    let (stopword_languages, custom_stopwords) = match get("stopwords") {
        Some(OptionValue::List(items)) => {
            let mut words = Vec::with_capacity(items.len());
            for item in items {
                let word = string("stopwords", item)?;
                words.push(pyword::lower_stopword(word));
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

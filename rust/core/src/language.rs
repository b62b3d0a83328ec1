//! The languages Qdrant knows: 30 stopword languages and 19 Snowball stemmer languages, each
//! with its name and ISO-style alias, resolved case-sensitively as Qdrant does.
//!
//! The stopword lists are data files under `data/stopwords/` (see the README there for their
//! provenance), compiled into the binary so nothing is read at run time.

use rust_stemmers::Algorithm;

/// A stopword language: canonical name, alias, and the list (one word a line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StopwordLanguage(usize);

/// A Snowball stemmer language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StemLanguage(usize);

const STOPWORDS: &[(&str, &str, &str)] = &[
    ("arabic", "ar", include_str!("../data/stopwords/arabic.txt")),
    (
        "azerbaijani",
        "az",
        include_str!("../data/stopwords/azerbaijani.txt"),
    ),
    ("basque", "eu", include_str!("../data/stopwords/basque.txt")),
    (
        "bengali",
        "bn",
        include_str!("../data/stopwords/bengali.txt"),
    ),
    (
        "catalan",
        "ca",
        include_str!("../data/stopwords/catalan.txt"),
    ),
    (
        "chinese",
        "zh",
        include_str!("../data/stopwords/chinese.txt"),
    ),
    ("danish", "da", include_str!("../data/stopwords/danish.txt")),
    ("dutch", "nl", include_str!("../data/stopwords/dutch.txt")),
    (
        "english",
        "en",
        include_str!("../data/stopwords/english.txt"),
    ),
    (
        "finnish",
        "fi",
        include_str!("../data/stopwords/finnish.txt"),
    ),
    ("french", "fr", include_str!("../data/stopwords/french.txt")),
    ("german", "de", include_str!("../data/stopwords/german.txt")),
    ("greek", "el", include_str!("../data/stopwords/greek.txt")),
    ("hebrew", "he", include_str!("../data/stopwords/hebrew.txt")),
    (
        "hinglish",
        "hi-en",
        include_str!("../data/stopwords/hinglish.txt"),
    ),
    (
        "hungarian",
        "hu",
        include_str!("../data/stopwords/hungarian.txt"),
    ),
    (
        "indonesian",
        "id",
        include_str!("../data/stopwords/indonesian.txt"),
    ),
    (
        "italian",
        "it",
        include_str!("../data/stopwords/italian.txt"),
    ),
    (
        "japanese",
        "jp",
        include_str!("../data/stopwords/japanese.txt"),
    ),
    ("kazakh", "kk", include_str!("../data/stopwords/kazakh.txt")),
    ("nepali", "ne", include_str!("../data/stopwords/nepali.txt")),
    (
        "norwegian",
        "no",
        include_str!("../data/stopwords/norwegian.txt"),
    ),
    (
        "portuguese",
        "pt",
        include_str!("../data/stopwords/portuguese.txt"),
    ),
    (
        "romanian",
        "ro",
        include_str!("../data/stopwords/romanian.txt"),
    ),
    (
        "russian",
        "ru",
        include_str!("../data/stopwords/russian.txt"),
    ),
    (
        "slovene",
        "sl",
        include_str!("../data/stopwords/slovene.txt"),
    ),
    (
        "spanish",
        "es",
        include_str!("../data/stopwords/spanish.txt"),
    ),
    (
        "swedish",
        "sv",
        include_str!("../data/stopwords/swedish.txt"),
    ),
    ("tajik", "tg", include_str!("../data/stopwords/tajik.txt")),
    (
        "turkish",
        "tr",
        include_str!("../data/stopwords/turkish.txt"),
    ),
];

const STEMMERS: &[(&str, &str, Algorithm)] = &[
    ("arabic", "ar", Algorithm::Arabic),
    ("armenian", "hy", Algorithm::Armenian),
    ("danish", "da", Algorithm::Danish),
    ("dutch", "nl", Algorithm::Dutch),
    ("english", "en", Algorithm::English),
    ("finnish", "fi", Algorithm::Finnish),
    ("french", "fr", Algorithm::French),
    ("german", "de", Algorithm::German),
    ("greek", "el", Algorithm::Greek),
    ("hungarian", "hu", Algorithm::Hungarian),
    ("italian", "it", Algorithm::Italian),
    ("norwegian", "no", Algorithm::Norwegian),
    ("portuguese", "pt", Algorithm::Portuguese),
    ("romanian", "ro", Algorithm::Romanian),
    ("russian", "ru", Algorithm::Russian),
    ("spanish", "es", Algorithm::Spanish),
    ("swedish", "sv", Algorithm::Swedish),
    ("tamil", "ta", Algorithm::Tamil),
    ("turkish", "tr", Algorithm::Turkish),
];

fn find<T>(table: &[T], key: impl Fn(&T) -> (&str, &str), name: &str) -> Option<usize> {
    table.iter().position(|entry| {
        let (canonical, alias) = key(entry);
        canonical == name || alias == name
    })
}

impl StopwordLanguage {
    /// Resolve a name or alias (`"english"`, `"en"`); case-sensitive, as in Qdrant.
    pub fn parse(name: &str) -> Option<Self> {
        find(STOPWORDS, |e| (e.0, e.1), name).map(StopwordLanguage)
    }

    pub fn name(self) -> &'static str {
        STOPWORDS[self.0].0
    }

    /// The words of the list, in file order (duplicates and all).
    pub fn words(self) -> impl Iterator<Item = &'static str> {
        STOPWORDS[self.0].2.lines()
    }

    /// `name (alias)` for every language, for error messages.
    pub fn accepted() -> String {
        STOPWORDS
            .iter()
            .map(|(n, a, _)| format!("{n} ({a})"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn all() -> impl Iterator<Item = StopwordLanguage> {
        (0..STOPWORDS.len()).map(StopwordLanguage)
    }
}

impl StemLanguage {
    /// Resolve a name or alias (`"english"`, `"en"`); case-sensitive, as in Qdrant.
    pub fn parse(name: &str) -> Option<Self> {
        find(STEMMERS, |e| (e.0, e.1), name).map(StemLanguage)
    }

    pub fn name(self) -> &'static str {
        STEMMERS[self.0].0
    }

    pub fn algorithm(self) -> Algorithm {
        STEMMERS[self.0].2
    }

    pub fn accepted() -> String {
        STEMMERS
            .iter()
            .map(|(n, a, _)| format!("{n} ({a})"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn all() -> impl Iterator<Item = StemLanguage> {
        (0..STEMMERS.len()).map(StemLanguage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_resolve_case_sensitively() {
        assert_eq!(StopwordLanguage::parse("en").unwrap().name(), "english");
        assert_eq!(StopwordLanguage::parse("hi-en").unwrap().name(), "hinglish");
        assert_eq!(StopwordLanguage::parse("jp").unwrap().name(), "japanese");
        assert!(StopwordLanguage::parse("English").is_none());
        assert!(StopwordLanguage::parse("tamil").is_none());
        assert_eq!(StemLanguage::parse("hy").unwrap().name(), "armenian");
        assert!(StemLanguage::parse("chinese").is_none());
        assert_eq!(StopwordLanguage::all().count(), 30);
        assert_eq!(StemLanguage::all().count(), 19);
    }

    #[test]
    fn every_list_is_present_and_lowercase() {
        for lang in StopwordLanguage::all() {
            let words: Vec<_> = lang.words().collect();
            assert!(
                words.len() > 40,
                "{} has {} words",
                lang.name(),
                words.len()
            );
            for w in words {
                assert_eq!(w, w.to_lowercase(), "{}: {w:?}", lang.name());
            }
        }
        assert!(StopwordLanguage::parse("english")
            .unwrap()
            .words()
            .any(|w| w == "the"));
    }
}

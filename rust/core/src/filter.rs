//! Stage 3: filters that drop tokens: stopword lists and token-length limits.

use rustc_hash::FxHashSet;

use crate::language::StopwordLanguage;

/// A stopword set. Membership is exact on the (already normalised) token.
#[derive(Debug, Clone, Default)]
pub struct Stopwords {
    words: FxHashSet<Box<str>>,
}

impl Stopwords {
    /// Build the union of the language lists and the custom words. With `lowercase`, entries are
    /// lowercased as Qdrant does; the fastembed flavour takes the list lines as they are.
    pub fn new(languages: &[StopwordLanguage], custom: &[String], lowercase: bool) -> Self {
        let mut words = FxHashSet::default();
        let mut add = |word: &str| {
            let entry = if lowercase {
                word.to_lowercase()
            } else {
                word.to_string()
            };
            words.insert(entry.into_boxed_str());
        };
        languages
            .iter()
            .flat_map(|lang| lang.words())
            .for_each(&mut add);
        for word in custom {
            add(word);
        }
        Stopwords { words }
    }

    #[inline]
    pub fn contains(&self, token: &str) -> bool {
        !self.words.is_empty() && self.words.contains(token)
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

/// Number of chars (code points) in a token, the unit of every length limit in both references.
#[inline]
pub fn char_len(token: &str) -> usize {
    if token.is_ascii() {
        token.len()
    } else {
        token.chars().count()
    }
}

/// Why a token was dropped; used by `explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    Stopword,
    TooShort,
    TooLong,
    EmptyStem,
    Punctuation,
}

impl Dropped {
    pub fn describe(self) -> &'static str {
        match self {
            Dropped::Stopword => "stopword",
            Dropped::TooShort => "shorter than min_token_len",
            Dropped::TooLong => "longer than the maximum token length",
            Dropped::EmptyStem => "empty stem",
            Dropped::Punctuation => "punctuation",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopwords_lowercase_entries_only_when_asked() {
        let custom = vec!["Hello".to_string()];
        assert!(Stopwords::new(&[], &custom, true).contains("hello"));
        assert!(!Stopwords::new(&[], &custom, false).contains("hello"));
        assert!(Stopwords::new(&[], &custom, false).contains("Hello"));
        let en = StopwordLanguage::parse("en").unwrap();
        let sw = Stopwords::new(&[en], &[], true);
        assert!(sw.contains("the") && !sw.contains("cat"));
    }

    #[test]
    fn char_len_counts_code_points() {
        assert_eq!(char_len("abc"), 3);
        assert_eq!(char_len("été"), 3);
        assert_eq!(char_len(""), 0);
    }
}

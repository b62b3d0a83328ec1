//! The fastembed flavour's whole chain (fastembed's `Bm25`): words are maximal runs of Python
//! `\w` characters (Unicode letters and numbers of Python 3.11's Unicode 14, plus `_`); each run
//! is lowercased with full Unicode mapping and split again where lowercasing produced non-word
//! characters (`İ` -> `i` + U+0307). Then: the lone token `_` is dropped (it is punctuation),
//! stopwords (exact match), tokens longer than `token_max_length` chars (before stemming);
//! stems; empty stems are dropped.
//!
//! Lowercasing each run equals fastembed's whole-text lowercasing: runs are separated by
//! whitespace, which is neither cased nor case-ignorable, so Final_Sigma sees the same context.

use std::borrow::Cow;

use super::pyword_table::WORD_RANGES;
use crate::filter::{char_len, Dropped};
use crate::process::{Processor, Tracer};

pub use super::pyword_table::UNICODE_VERSION;

/// Python's `re` `\w` for one char.
#[inline]
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    let cp = c as u32;
    WORD_RANGES
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// The maximal runs of word chars, before lowercasing.
pub fn split(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !is_word_char(c)).filter(|s| !s.is_empty())
}

/// fastembed's filters and stemmer for one lowercased token.
pub fn process_traced<'a, T: Tracer>(
    token: Cow<'a, str>,
    processor: &Processor,
    tracer: &mut T,
) -> Option<Cow<'a, str>> {
    tracer.normalized(&token);
    if token == "_" {
        tracer.dropped(Dropped::Punctuation);
        return None;
    }
    if processor.is_stopword(&token) {
        tracer.dropped(Dropped::Stopword);
        return None;
    }
    if processor
        .max_token_len
        .is_some_and(|max| char_len(&token) > max)
    {
        tracer.dropped(Dropped::TooLong);
        return None;
    }
    let stem = processor.stem(token);
    if stem.is_empty() {
        tracer.dropped(Dropped::EmptyStem);
        return None;
    }
    Some(stem)
}

/// Lowercase one run and split it where lowercasing produced non-word chars.
fn lowered_pieces<'a>(run: &'a str, mut each: impl FnMut(Cow<'a, str>)) {
    let lowered = crate::normalize::lowercase(Cow::Borrowed(run));
    match lowered {
        Cow::Borrowed(s) => each(Cow::Borrowed(s)),
        Cow::Owned(s) => {
            if s.chars().all(is_word_char) {
                each(Cow::Owned(s));
            } else {
                for piece in split(&s) {
                    each(Cow::Owned(piece.to_string()));
                }
            }
        }
    }
}

#[inline]
pub fn tokenize<'a, F: FnMut(Cow<'a, str>)>(text: &'a str, processor: &Processor, mut emit: F) {
    for run in split(text) {
        lowered_pieces(run, |token| {
            if let Some(stem) = process_traced(token, processor, &mut ()) {
                emit(stem);
            }
        });
    }
}

/// The lowercased tokens of one run, for `explain`.
pub fn pieces(run: &str) -> Vec<String> {
    let mut out = Vec::new();
    lowered_pieces(run, |t| out.push(t.into_owned()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Config;

    fn terms(json: &str, text: &str) -> Vec<String> {
        let p = Processor::new(&Config::from_json(json).unwrap(), false);
        let mut out = Vec::new();
        tokenize(text, &p, |t| out.push(t.into_owned()));
        out
    }

    const FE: &str = r#"{"flavor": "fastembed"}"#;

    #[test]
    fn python_word_chars() {
        assert!(is_word_char('_') && is_word_char('é') && is_word_char('٣'));
        assert!(!is_word_char('\u{301}') && !is_word_char('Ⓐ') && !is_word_char('-'));
    }

    #[test]
    fn underscores_join_and_lone_underscore_drops() {
        assert_eq!(terms(FE, "foo_bar baz"), vec!["foo_bar", "baz"]);
        assert_eq!(terms(FE, "_ __ a_b"), vec!["__", "a_b"]);
    }

    #[test]
    fn dotted_capital_i_splits() {
        // "İstanbul" lowercases to "i" + U+0307 + "stanbul"; "i" is an English stopword.
        assert_eq!(terms(FE, "İstanbul"), vec!["stanbul"]);
    }

    #[test]
    fn length_limit_is_before_stemming() {
        let long = "a".repeat(41);
        assert_eq!(terms(FE, &format!("{long} short")), vec!["short"]);
        let cfg = r#"{"flavor": "fastembed", "token_max_length": 7}"#;
        assert_eq!(terms(cfg, "running runnings"), vec!["run"]);
    }

    #[test]
    fn marks_split_words() {
        assert_eq!(terms(r#"{"flavor": "fastembed", "language": "tamil"}"#, "தமிழ்").len(), 2);
    }
}

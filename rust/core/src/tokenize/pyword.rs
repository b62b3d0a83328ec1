//! Python words: the fastembed flavour's whole chain (fastembed's Python `Bm25`), named for its
//! word rule, Python's `re` `\w+`. Words are maximal runs of Python `\w` characters (Unicode
//! letters and numbers of Python 3.11's Unicode 14, plus `_`); each run is lowercased with full
//! Unicode mapping and split again where lowercasing produced non-word characters (`İ` -> `i` +
//! U+0307). Then: the lone token `_` is dropped (it is punctuation), stopwords (exact match),
//! tokens longer than `token_max_length` chars (before stemming); stems; empty stems are dropped.
//!
//! Lowercasing each run equals fastembed's whole-text lowercasing: runs are separated by
//! whitespace, which is neither cased nor case-ignorable, so `Final_Sigma` sees the same context.
//! Whether a capital sigma is final is decided with Python's own case properties (generated
//! tables), not Rust's: their Unicode versions disagree on some letters (U+0295 `ʕ` is cased in
//! Python 3.11's Unicode 14, not in Rust's), and `ʕΣ` must lowercase to `ʕς` as in Python.

use std::borrow::Cow;

use super::pyword_table::{SIGMA_CASED_RANGES, SIGMA_IGNORABLE_RANGES, WORD_RANGES};
use super::runs::{Runs, ASCII_ALNUM_UNDERSCORE};
use crate::filter::{char_len, Dropped};
use crate::process::{Processor, Tracer};

pub use super::pyword_table::UNICODE_VERSION;

fn in_ranges(ranges: &[(u32, u32)], c: char) -> bool {
    let cp = c as u32;
    ranges
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

/// Python's `re` `\w` for one char.
#[inline]
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    in_ranges(&WORD_RANGES, c)
}

/// Python's `str.lower` choice for the capital sigma at `chars[i]`: final (`ς`) when a cased
/// letter precedes it and none follows, skipping case-ignorable chars on both sides. `chars` is
/// one run of word chars, the only context the tables cover.
fn python_final_sigma(chars: &[char], i: usize) -> bool {
    let significant = |c: &&char| !in_ranges(&SIGMA_IGNORABLE_RANGES, **c);
    let cased = |c: &char| in_ranges(&SIGMA_CASED_RANGES, *c);
    chars[..i].iter().rev().find(significant).is_some_and(cased)
        && !chars[i + 1..].iter().find(significant).is_some_and(cased)
}

/// Python's `str.lower` of one run of word chars. Only the capital sigma depends on context;
/// every other char maps as Rust maps it (checked for every word char in the tests).
fn python_lower(run: &str) -> Cow<'_, str> {
    if !run.contains('Σ') {
        return crate::normalize::lowercase(Cow::Borrowed(run));
    }
    let chars: Vec<char> = run.chars().collect();
    let mut out = String::with_capacity(run.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == 'Σ' {
            out.push(if python_final_sigma(&chars, i) {
                'ς'
            } else {
                'σ'
            });
        } else {
            out.extend(c.to_lowercase());
        }
    }
    Cow::Owned(out)
}

/// The maximal runs of word chars, before lowercasing.
pub fn split(text: &str) -> impl Iterator<Item = &str> {
    Runs::new(text, &ASCII_ALNUM_UNDERSCORE, is_word_char)
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

/// A custom stopword lowercased as fastembed lowercases it (Python's `str.lower`). Only words of
/// word chars need Python's exact rule: lowercasing never turns a non-word char into a word
/// char, so a word holding one can never equal a token whichever way it is lowercased.
pub fn lower_stopword(word: &str) -> String {
    if word.chars().all(is_word_char) {
        python_lower(word).into_owned()
    } else {
        word.to_lowercase()
    }
}

/// Lowercase one run and split it where lowercasing produced non-word chars.
fn lowered_pieces<'a>(run: &'a str, mut each: impl FnMut(Cow<'a, str>)) {
    match python_lower(run) {
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

/// The terms of one run of word chars.
#[inline]
pub fn expand<'a, F: FnMut(Cow<'a, str>)>(run: &'a str, processor: &Processor, mut emit: F) {
    lowered_pieces(run, |token| {
        if let Some(stem) = process_traced(token, processor, &mut ()) {
            emit(stem);
        }
    });
}

#[inline]
pub fn tokenize<'a, F: FnMut(Cow<'a, str>)>(text: &'a str, processor: &Processor, mut emit: F) {
    for run in split(text) {
        expand(run, processor, &mut emit);
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

    fn terms(json: &str, text: &str) -> Vec<String> {
        crate::testing::collect(json, text, |t, p, emit| tokenize(t, p, emit))
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
    fn final_sigma_uses_python_case_properties() {
        // U+0295 is cased for Python 3.11 (Unicode 14), not for Rust's newer Unicode.
        let no_stem = r#"{"flavor": "fastembed", "disable_stemmer": true}"#;
        assert_eq!(
            terms(no_stem, "ʕΣ AʕΣ AΣʕ AΣʕB"),
            vec!["ʕς", "aʕς", "aσʕ", "aσʕb"]
        );
        assert_eq!(
            terms(no_stem, "ΟΔΟΣ ΣΑ Σ AΣ_Σ"),
            vec!["οδος", "σα", "σ", "aς_σ"]
        );
        // Modifier letters are skipped (case-ignorable); digits end the word.
        assert_eq!(terms(no_stem, "AΣʰ AʰΣ AΣ1"), vec!["aςʰ", "aʰς", "aς1"]);
    }

    #[test]
    fn custom_stopwords_are_lowercased_as_python_does() {
        assert_eq!(lower_stopword("ʕΣ"), "ʕς");
        assert_eq!(lower_stopword("ΟΔΟΣ"), "οδος");
        let cfg =
            r#"{"flavor": "fastembed", "disable_stemmer": true, "stopwords": ["ʕΣ", "ΟΔΟΣ"]}"#;
        assert_eq!(terms(cfg, "ʕΣ ʕς ΟΔΟΣ οδοσ x"), vec!["οδοσ", "x"]);
    }

    #[test]
    fn marks_split_words() {
        assert_eq!(
            terms(r#"{"flavor": "fastembed", "language": "tamil"}"#, "தமிழ்").len(),
            2
        );
    }
}

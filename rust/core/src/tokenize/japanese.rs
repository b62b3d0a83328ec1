//! The Japanese branch of the `multilingual` tokenizer.
//!
//! Qdrant splits a text that charabia detects as Japanese with vaporetto and its
//! `bccwj-suw_c1.0` model (short-unit words of the BCCWJ corpus) and keeps the words that have an
//! alphabetic char. What happens to each word then depends on the Qdrant build
//! ([`Profile`], see [`process_word`]): the released servers only test it against the stopwords
//! and lowercase it; qdrant-edge 0.9.0 runs it through the usual [`Processor`] chain.
//!
//! That model file is not part of this repository. It is compiled in with the `japanese` cargo
//! feature (on in the Python package's builds); `build.rs` takes it from the crates.io package
//! qdrant-edge 0.9.0, or from the file named by `BM25X_VAPORETTO_MODEL`. With it, the output is
//! the server's. Without it, the text is split by
//! [`fallback_words`], an approximation (runs of one script class, with a few common particles
//! peeled off), which cannot reproduce the model's word boundaries in general.

use std::borrow::Cow;

use crate::filter::Dropped;
use crate::normalize;
use crate::process::{Processor, Profile, Tracer};

/// True when `word` has no alphabetic char (punctuation, spaces, digits, symbols).
#[inline]
fn lacks_letters(word: &str) -> bool {
    !word.chars().any(char::is_alphabetic)
}

pub fn tokenize<'a, F: FnMut(Cow<'a, str>)>(text: &'a str, processor: &Processor, mut emit: F) {
    for word in words(text) {
        if lacks_letters(word) {
            continue;
        }
        if let Some(token) = process_word(word, processor, &mut ()) {
            emit(token);
        }
    }
}

/// The term one vaporetto word (with a letter) becomes, under `processor.profile`:
/// - [`Profile::Server`] (Qdrant v1.18.x and v1.19.0, `tokenizers/japanese.rs`): the word *as
///   split* is tested against the stopword set (so a capitalised stopword survives), then
///   lowercased if `lowercase` is on. No ASCII folding, no stemming, no `min_token_len` /
///   `max_token_len`: this holds for Latin words inside Japanese text too.
/// - [`Profile::Edge09`] (qdrant-edge 0.9.0): the full chain of [`Processor::process`].
pub fn process_word<'a, T: Tracer>(
    word: &'a str,
    processor: &Processor,
    tracer: &mut T,
) -> Option<Cow<'a, str>> {
    match processor.profile {
        Profile::Edge09 => processor.process_traced(Cow::Borrowed(word), true, tracer),
        Profile::Server => {
            if processor.is_stopword(word) {
                tracer.normalized(word);
                tracer.dropped(Dropped::Stopword);
                return None;
            }
            let term = if processor.lowercase {
                normalize::lowercase(Cow::Borrowed(word))
            } else {
                Cow::Borrowed(word)
            };
            tracer.normalized(&term);
            Some(term)
        }
    }
}

/// The words of `text` that can become terms, for `explain`.
pub fn segments(text: &str) -> Vec<&str> {
    words(text).filter(|w| !lacks_letters(w)).collect()
}

#[cfg(feature = "japanese")]
mod model {
    use std::borrow::Cow;
    use std::sync::LazyLock;

    use vaporetto::{Model, Predictor, Sentence};

    /// The vaporetto model, given at build time (see the module docs).
    const MODEL_BYTES: &[u8] = include_bytes!(env!("BM25X_VAPORETTO_MODEL_FILE"));

    static PREDICTOR: LazyLock<Predictor> = LazyLock::new(|| {
        let (model, _) = Model::read_slice(MODEL_BYTES).expect("invalid vaporetto model");
        Predictor::new(model, false).expect("unusable vaporetto model")
    });

    /// Vaporetto's words, as spans of `text` (its tokens tile the text without gaps).
    pub fn words(text: &str) -> Vec<&str> {
        let Ok(mut sentence) = Sentence::from_raw(Cow::Borrowed(text)) else {
            return Vec::new();
        };
        PREDICTOR.predict(&mut sentence);
        let mut out = Vec::new();
        let mut pos = 0;
        for token in sentence.iter_tokens() {
            let surface = token.surface();
            // Tokens are contiguous; re-find defensively in case a char was skipped.
            let start = if text[pos..].starts_with(surface) {
                pos
            } else {
                match text[pos..].find(surface) {
                    Some(at) => pos + at,
                    None => continue,
                }
            };
            pos = start + surface.len();
            out.push(&text[start..pos]);
        }
        out
    }
}

#[cfg(feature = "japanese")]
fn words(text: &str) -> impl Iterator<Item = &str> {
    model::words(text).into_iter()
}

#[cfg(not(feature = "japanese"))]
fn words(text: &str) -> impl Iterator<Item = &str> {
    fallback_words(text).into_iter()
}

/// Coarse character classes for the model-free split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Kanji,
    Hiragana,
    Katakana,
    /// Letters and digits of other scripts (a Latin word inside Japanese text, ...).
    Other,
    /// Everything without a letter or digit: always its own one-char piece.
    Separator,
}

fn class(c: char) -> Class {
    match c {
        '\u{3041}'..='\u{309F}' => Class::Hiragana,
        // The prolonged sound mark 'ー' and the middle dot are written inside katakana words.
        '\u{30A0}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}' | '\u{FF66}'..='\u{FF9F}' => {
            Class::Katakana
        }
        '\u{3005}'
        | '\u{3007}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}' => Class::Kanji,
        c if c.is_alphanumeric() => Class::Other,
        // Combining marks stay with the char before them.
        c if is_mark(c) => Class::Other,
        _ => Class::Separator,
    }
}

fn is_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{3099}'..='\u{309A}' | '\u{FE00}'..='\u{FE0F}')
}

/// Hiragana function words that a short-unit-word split nearly always separates from the run
/// they start (longest first).
const PARTICLES: &[&str] = &[
    "から", "まで", "より", "です", "ます", "でし", "まし", "の", "は", "が", "を", "に", "で",
    "と", "も", "へ", "や", "か", "な", "た", "て", "し", "さ", "れ", "い",
];

/// Split `text` into runs of one character class (kanji, hiragana, katakana, other letters and
/// digits; every other char alone), then peel the leading particles off hiragana runs.
pub fn fallback_words(text: &str) -> Vec<&str> {
    let mut runs: Vec<(Class, &str)> = Vec::new();
    let mut start = 0;
    let mut current: Option<Class> = None;
    for (i, c) in text.char_indices() {
        let mut k = class(c);
        if is_mark(c) {
            k = current.unwrap_or(Class::Other);
        }
        if current != Some(k) || k == Class::Separator {
            if let Some(prev) = current {
                runs.push((prev, &text[start..i]));
            }
            start = i;
            current = Some(k);
        }
    }
    if let Some(prev) = current {
        runs.push((prev, &text[start..]));
    }
    let mut out = Vec::new();
    for (k, run) in runs {
        if k != Class::Hiragana {
            out.push(run);
            continue;
        }
        let mut rest = run;
        while !rest.is_empty() {
            if let Some(p) = PARTICLES.iter().find(|p| rest.starts_with(**p)) {
                out.push(&rest[..p.len()]);
                rest = &rest[p.len()..];
            } else {
                let len = rest.chars().next().map_or(0, char::len_utf8);
                out.push(&rest[..len]);
                rest = &rest[len..];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(json: &str, text: &str) -> Vec<String> {
        crate::testing::collect(json, text, |t, p, emit| tokenize(t, p, emit))
    }

    #[test]
    fn fallback_splits_by_script_and_particles() {
        assert_eq!(
            fallback_words("日本語のテキストです。"),
            vec!["日本語", "の", "テキスト", "です", "。"]
        );
    }

    #[test]
    fn server_profile_lowercases_and_tests_raw_stopwords_only() {
        // Qdrant v1.18/v1.19 `japanese.rs`: stopword test on the raw word, then lowercase; no
        // folding, stemming or length limits, Latin words included.
        let json = r#"{"tokenizer": "multilingual", "ascii_folding": true, "min_token_len": 3, "max_token_len": 4, "stopwords": {"custom": ["it", "the"]}}"#;
        let p = crate::testing::processor(json);
        let word = |w: &str| process_word(w, &p, &mut ()).map(Cow::into_owned);
        assert_eq!(word("Running").as_deref(), Some("running"));
        assert_eq!(word("Café").as_deref(), Some("café"));
        assert_eq!(word("の").as_deref(), Some("の"));
        assert_eq!(word("テキスト").as_deref(), Some("テキスト"));
        assert_eq!(word("it"), None);
        // "The" is not in the (lowercased) set as written; the server keeps it, lowercased.
        assert_eq!(word("The").as_deref(), Some("the"));
    }

    #[test]
    fn edge_profile_runs_the_full_chain() {
        let json = r#"{"tokenizer": "multilingual", "profile": "edge-0.9", "ascii_folding": true, "min_token_len": 3, "stopwords": {"custom": ["the"]}}"#;
        let p = crate::testing::processor(json);
        let word = |w: &str| process_word(w, &p, &mut ()).map(Cow::into_owned);
        assert_eq!(word("Running").as_deref(), Some("run"));
        assert_eq!(word("Café").as_deref(), Some("cafe"));
        assert_eq!(word("の"), None);
        assert_eq!(word("The"), None);
    }

    #[test]
    fn latin_words_inside_japanese_are_processed() {
        let json = r#"{"tokenizer": "multilingual", "profile": "edge-0.9", "stopwords": {"custom": ["it"]}}"#;
        let out = terms(json, "日本語のテキストです。It's used in Qdrant's code");
        assert!(!out.iter().any(|t| t == "it" || t == "It"), "{out:?}");
        assert!(out.iter().any(|t| t == "qdrant"), "{out:?}");
        assert!(out.iter().any(|t| t == "use"), "{out:?}");
    }

    #[cfg(feature = "japanese")]
    #[test]
    fn model_split_matches_the_server() {
        let out = terms(
            r#"{"tokenizer": "multilingual", "language": "none", "lowercase": false}"#,
            "日本語のテキストです。Qdrantのコードで単体テストで使用されています。",
        );
        assert_eq!(
            out.join("|"),
            "日本|語|の|テキスト|です|Qdrant|の|コード|で|単体|テスト|で|使用|さ|れ|て|い|ます"
        );
    }
}

//! Qdrant's `prefix` tokenizer. Documents: each word (split as by `word`) is processed fully,
//! then every prefix of `min_token_len` (default 1) up to `max_token_len` chars is emitted, or the
//! whole word once it is shorter. Queries: no stopword test; each word is folded, lowercased,
//! stemmed, dropped if shorter than `min_token_len`, and cut to `max_token_len` chars.

use std::borrow::Cow;

use super::{word, Mode};
use crate::filter::char_len;
use crate::process::Processor;

/// Byte offset just past the first `n` chars, or `None` if the token has `n` chars or fewer.
#[inline]
fn end_of_chars(token: &str, n: usize) -> Option<usize> {
    token.char_indices().map(|(i, _)| i).nth(n)
}

fn cut(token: Cow<'_, str>, end: usize) -> Cow<'_, str> {
    match token {
        Cow::Borrowed(s) => Cow::Borrowed(&s[..end]),
        Cow::Owned(mut s) => {
            s.truncate(end);
            Cow::Owned(s)
        }
    }
}

/// The terms of one raw segment (a word).
pub fn expand<'a, F: FnMut(Cow<'a, str>)>(
    raw: &'a str,
    processor: &Processor,
    mode: Mode,
    mut emit: F,
) {
    if raw.is_empty() {
        return;
    }
    match mode {
        Mode::Document => {
            let Some(token) = processor.process(Cow::Borrowed(raw), false) else {
                return;
            };
            let min = processor.min_token_len.unwrap_or(1);
            let max = processor.max_token_len.unwrap_or(usize::MAX);
            prefixes(token, min, max, emit);
        }
        Mode::Query => {
            let max = processor.max_token_len.unwrap_or(usize::MAX);
            let token = processor.stem(processor.normalize(Cow::Borrowed(raw)));
            if processor
                .min_token_len
                .is_some_and(|min| char_len(&token) < min)
            {
                return;
            }
            match end_of_chars(&token, max) {
                Some(end) => emit(cut(token, end)),
                None => emit(token),
            }
        }
    }
}

/// The document terms of one processed word: its prefixes of `min..=max` chars, the whole word
/// once they reach its length.
pub fn prefixes<'a, F: FnMut(Cow<'a, str>)>(
    token: Cow<'a, str>,
    min: usize,
    max: usize,
    mut emit: F,
) {
    for n in min..=max {
        let Some(end) = end_of_chars(&token, n) else {
            emit(token);
            break;
        };
        emit(match &token {
            Cow::Borrowed(s) => Cow::Borrowed(&s[..end]),
            Cow::Owned(s) => Cow::Owned(s[..end].to_string()),
        });
    }
}

pub fn tokenize<'a, F: FnMut(Cow<'a, str>)>(
    text: &'a str,
    processor: &Processor,
    mode: Mode,
    mut emit: F,
) {
    for raw in word::split(text) {
        expand(raw, processor, mode, &mut emit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(json: &str, text: &str, mode: Mode) -> Vec<String> {
        crate::testing::collect(json, text, |t, p, emit| tokenize(t, p, mode, emit))
    }

    #[test]
    fn documents_emit_prefixes() {
        let cfg = r#"{"tokenizer": "prefix", "language": "none", "min_token_len": 2}"#;
        assert_eq!(
            run(cfg, "hello", Mode::Document),
            vec!["he", "hel", "hell", "hello"]
        );
        let cfg = r#"{"tokenizer": "prefix", "language": "none", "max_token_len": 2}"#;
        assert_eq!(run(cfg, "héllo a", Mode::Document), vec!["h", "hé", "a"]);
    }

    #[test]
    fn queries_skip_stopwords_and_truncate() {
        let cfg = r#"{"tokenizer": "prefix", "max_token_len": 3}"#;
        assert_eq!(run(cfg, "The Cookies", Mode::Query), vec!["the", "coo"]);
        assert!(run(cfg, "The", Mode::Document).is_empty());
    }
}

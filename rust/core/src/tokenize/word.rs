//! Qdrant's `word` tokenizer: split at every char that is not `char::is_alphanumeric`
//! (Unicode Alphabetic, which includes many combining marks, or a Number). `_` splits words.

use std::borrow::Cow;

use super::runs::{Runs, ASCII_ALNUM};
use crate::process::Processor;

#[inline]
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        c.is_alphanumeric()
    }
}

/// The non-empty runs of alphanumeric chars.
pub fn split(text: &str) -> impl Iterator<Item = &str> {
    Runs::new(text, &ASCII_ALNUM, is_word_char)
}

/// The term (if any) of one raw segment.
#[inline]
pub fn expand<'a, F: FnMut(Cow<'a, str>)>(raw: &'a str, processor: &Processor, mut emit: F) {
    if let Some(token) = processor.process(Cow::Borrowed(raw), true) {
        emit(token);
    }
}

#[inline]
pub fn tokenize<'a, F: FnMut(Cow<'a, str>)>(text: &'a str, processor: &Processor, mut emit: F) {
    for raw in split(text) {
        expand(raw, processor, &mut emit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(json: &str, text: &str) -> Vec<String> {
        crate::testing::collect(json, text, |t, p, emit| tokenize(t, p, emit))
    }

    #[test]
    fn splits_on_punctuation_and_underscore() {
        let none = r#"{"language": "none"}"#;
        assert_eq!(
            terms(none, "foo_bar, Baz-9"),
            vec!["foo", "bar", "baz", "9"]
        );
        // Vowel signs are Alphabetic and stay inside words; the virama is not and splits.
        assert_eq!(terms(none, "नमस्ते दुनिया"), vec!["नमस", "ते", "दुनिया"]);
        assert_eq!(terms(none, "Ⓐⓑⓒ"), vec!["ⓐⓑⓒ"]);
    }

    #[test]
    fn default_pipeline() {
        assert_eq!(
            terms("{}", "Recipe for baking chocolate chip cookies"),
            vec!["recip", "bake", "chocol", "chip", "cooki"]
        );
    }
}

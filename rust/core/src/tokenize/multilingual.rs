//! Qdrant's `multilingual` tokenizer, built on charabia (segmentation + normalization).
//!
//! The whole input is first classified: a text whose dominant script is Latin goes straight to
//! charabia; otherwise the language is guessed among a fixed allow-list, and a text guessed as
//! Japanese is handed to the Japanese word splitter ([`super::japanese`]). Everything else also
//! goes to charabia. From charabia's normalized pieces, only those holding at least one
//! alphabetic char are kept, and each goes through the usual [`Processor`] chain.

use std::borrow::Cow;

use charabia::normalizer::{ClassifierOption, NormalizerOption};
use charabia::{Language, Script, Segment, StrDetection};

use super::japanese;
use crate::process::Processor;

/// The options charabia's own `tokenize()` uses by default, spelled out because the segment +
/// normalize steps are driven by hand here (to keep the pieces borrowed from the input).
const NORMALIZER: NormalizerOption<'static> = NormalizerOption {
    create_char_map: false,
    lossy: true,
    classifier: ClassifierOption {
        stop_words: None,
        separators: None,
    },
};

/// The languages the server lets charabia's detector choose from (those with a stemmer, plus
/// Chinese and Japanese). The order does not matter to the detector.
const DETECTABLE: &[Language] = &[
    Language::Eng,
    Language::Rus,
    Language::Por,
    Language::Ita,
    Language::Deu,
    Language::Ara,
    Language::Dan,
    Language::Swe,
    Language::Fin,
    Language::Tur,
    Language::Nld,
    Language::Hun,
    Language::Ell,
    Language::Tam,
    Language::Ron,
    Language::Cmn,
    Language::Jpn,
];

/// Which splitter a whole text goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Charabia,
    Japanese,
}

/// Latin-script texts skip language detection altogether; other texts are sent to the
/// Japanese splitter only when the detector picks Japanese.
pub fn route(text: &str) -> Route {
    if StrDetection::new(text, Some(DETECTABLE)).script() == Script::Latin {
        return Route::Charabia;
    }
    if StrDetection::new(text, Some(DETECTABLE)).language() == Some(Language::Jpn) {
        Route::Japanese
    } else {
        Route::Charabia
    }
}

/// True when `piece` has no alphabetic char at all (spaces, punctuation, digits, emoji, ...):
/// such pieces never become terms.
#[inline]
fn lacks_letters(piece: &str) -> bool {
    !piece.chars().any(char::is_alphabetic)
}

/// charabia's normalized pieces of `text`, with their byte span in `text`.
fn charabia_pieces(text: &str) -> impl Iterator<Item = (Cow<'_, str>, usize, usize)> {
    text.segment()
        .normalize(&NORMALIZER)
        .map(|token| (token.lemma, token.byte_start, token.byte_end))
}

pub fn tokenize<'a, F: FnMut(Cow<'a, str>)>(text: &'a str, processor: &Processor, mut emit: F) {
    if route(text) == Route::Japanese {
        japanese::tokenize(text, processor, emit);
        return;
    }
    for (lemma, _, _) in charabia_pieces(text) {
        if lacks_letters(&lemma) {
            continue;
        }
        if let Some(token) = processor.process(lemma, true) {
            emit(token);
        }
    }
}

/// The raw spans of `text` that the tokenizer turns into candidate terms, for `explain`.
pub fn segments(text: &str) -> Vec<&str> {
    if route(text) == Route::Japanese {
        return japanese::segments(text);
    }
    charabia_pieces(text)
        .filter(|(lemma, _, _)| !lacks_letters(lemma))
        .map(|(_, start, end)| &text[start..end])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(json: &str, text: &str) -> Vec<String> {
        crate::testing::collect(json, text, |t, p, emit| tokenize(t, p, emit))
    }

    const PLAIN: &str = r#"{"tokenizer": "multilingual", "language": "none"}"#;

    #[test]
    fn latin_text_is_split_and_normalized() {
        assert_eq!(
            terms(PLAIN, "This is english text. It's used in Qdrant's code."),
            vec!["this", "is", "english", "text", "it", "s", "used", "in", "qdrant", "s", "code"]
        );
        // charabia strips diacritics (lossy normalization) even without ascii_folding.
        assert_eq!(terms(PLAIN, "Café Ärger"), vec!["cafe", "arger"]);
        // Pieces without any letter are dropped: numbers, punctuation, emoji.
        assert_eq!(terms(PLAIN, "route 66 🚗 !"), vec!["route"]);
    }

    #[test]
    fn stemming_and_stopwords_apply_to_lemmas() {
        let json = r#"{"tokenizer": "multilingual"}"#;
        assert_eq!(terms(json, "Testing this"), vec!["test"]);
    }

    #[test]
    fn chinese_is_segmented_with_jieba() {
        // jieba splits the run; charabia's Chinese normalizer maps variants ("语" -> "語").
        assert_eq!(
            terms(PLAIN, "这是一段德语文本。"),
            vec!["这", "是", "一段", "德語", "文本"]
        );
    }

    #[test]
    fn routes() {
        assert_eq!(route("Dies ist ein Test"), Route::Charabia);
        assert_eq!(route("这是一段德语文本。"), Route::Charabia);
        assert_eq!(route("日本語のテキストです。"), Route::Japanese);
    }

    #[test]
    fn segments_are_raw_spans() {
        assert_eq!(segments("Café, 42 Ärger!"), vec!["Café", "Ärger"]);
    }
}

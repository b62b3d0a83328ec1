//! Qdrant's `whitespace` tokenizer: split on Unicode `White_Space` only; punctuation stays in tokens.

use std::borrow::Cow;

use super::Mode;
use crate::process::Processor;

/// Qdrant drops this token from queries (its array-boundary sentinel). Only the whitespace
/// tokenizer can produce it.
const QUERY_SENTINEL: &str = "\0";

/// The raw segments: runs between Unicode `White_Space` chars.
pub fn split(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace()
}

/// The term (if any) of one raw segment.
#[inline]
pub fn expand<'a, F: FnMut(Cow<'a, str>)>(
    raw: &'a str,
    processor: &Processor,
    mode: Mode,
    mut emit: F,
) {
    if let Some(token) = processor.process(Cow::Borrowed(raw), true) {
        if mode == Mode::Query && token == QUERY_SENTINEL {
            return;
        }
        emit(token);
    }
}

#[inline]
pub fn tokenize<'a, F: FnMut(Cow<'a, str>)>(
    text: &'a str,
    processor: &Processor,
    mode: Mode,
    mut emit: F,
) {
    for raw in split(text) {
        expand(raw, processor, mode, &mut emit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_punctuation_and_drops_nul_from_queries() {
        let p = crate::testing::processor(r#"{"language": "none"}"#);
        let run = |mode| {
            let mut out = Vec::new();
            tokenize("Hello, world! \0 a_b", &p, mode, |t| {
                out.push(t.into_owned());
            });
            out
        };
        assert_eq!(run(Mode::Document), vec!["hello,", "world!", "\0", "a_b"]);
        assert_eq!(run(Mode::Query), vec!["hello,", "world!", "a_b"]);
    }
}

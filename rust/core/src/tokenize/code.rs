//! Qdrant's `code` tokenizer, reconstructed by black-box probing of qdrant-edge 0.9.0 (its
//! source was not available to us). The rules, as measured:
//!
//! * **Identifiers.** The text is cut into maximal runs of identifier chars: `_` or any
//!   `char::is_alphanumeric` char (the same class as the `word` tokenizer, so `$`, `-`, `.`,
//!   emoji, combining marks that are not Alphabetic, etc. all separate identifiers).
//! * **Number-like identifiers.** A run whose first char is an ASCII digit (`0xFF`, `1_000`,
//!   `3abcDef`) is not split: its `_`s are removed and the rest is one token. A leading `_`
//!   disables this (`_1_a` is an ordinary identifier), and so do non-ASCII digits (`²`, `٣`).
//! * **Parts.** Otherwise the run is cut at every `_` into segments (empty ones vanish), and
//!   each segment is cut into parts before an uppercase char (`char::is_uppercase`, so also
//!   `Ⅻ` and `Ⓐ`, but not the titlecase `ǅ`) when either
//!   - the previous char is not uppercase (`getUser`, `user2Name`, `漢字Def`), or
//!   - the previous char is uppercase and the next char is a non-uppercase, non-numeric
//!     letter (`HTTPServer` -> `HTTP` + `Server`, `ABCdef` -> `AB` + `Cdef`; but `ABC123` and
//!     `AⅫⅻ` stay whole because digits, including numeric letters like `ⅻ`, do not count).
//!     Exception: a plural `s` (ASCII, lowercase) that is not itself followed by such a
//!     letter does not count either, so `URLs`, `getIDsFor` -> `get` + `IDs` + `For`, and
//!     `AAs1` stay together, while `AAst` -> `A` + `Ast`.
//!
//!   Digits never start a part by themselves (`user123Name` -> `user123` + `Name`).
//! * **Emission.** Every part goes through the usual [`Processor`] chain (folding, lowercase,
//!   stopwords, stemming, min/max length on the stem). With lowercasing on, two joined forms
//!   are emitted as well, each processed on its own like any token:
//!   - every `_`-segment that has two or more parts (`getUser` in `getUser_name`), and
//!   - the whole identifier without its `_`s, when it has two or more segments.
//!
//!   So `get_user_name` -> `get`, `user`, `name`, `getusername`; `getUser_name` -> `get`,
//!   `user`, `getuser`, `name`, `getusername`; `__fooBar__` -> `foo`, `bar`, `foobar` (once).
//!   With `lowercase: false` no joined form is ever emitted, only the parts. A single-part
//!   identifier is therefore emitted exactly once. Splitting looks at the raw chars: folding
//!   and lowercasing happen per token, afterwards (`Ærodynamic` stays one part even when
//!   folding turns it into `AErodynamic`).
//! * Documents and queries tokenize identically.

use std::borrow::Cow;

use crate::process::Processor;

#[inline]
fn is_ident_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '_'
    } else {
        c.is_alphanumeric()
    }
}

/// The identifiers of `text`: maximal non-empty runs of alphanumeric chars and `_`.
pub fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !is_ident_char(c))
        .filter(|s| !s.is_empty())
}

/// A letter that continues a capitalised word (`Server` in `HTTPServer`): not uppercase and
/// not numeric.
#[inline]
fn is_word_tail(c: char) -> bool {
    c.is_alphabetic() && !c.is_numeric() && !c.is_uppercase()
}

/// Whether the uppercase char before `rest` starts a new word although the char before it
/// is uppercase too: `rest` must start with a word tail, except a lone plural `s` (`URLs`).
#[inline]
fn acronym_ends_before(mut rest: std::str::Chars<'_>) -> bool {
    match rest.next() {
        Some('s') => rest.next().is_some_and(is_word_tail),
        Some(n) => is_word_tail(n),
        None => false,
    }
}

/// Cut one `_`-free piece at its case boundaries, calling `f` on each part.
fn camel_parts<'a>(piece: &'a str, f: &mut impl FnMut(&'a str)) {
    let mut start = 0;
    let mut chars = piece.char_indices();
    let mut prev_upper = match chars.next() {
        Some((_, c)) => c.is_uppercase(),
        None => return,
    };
    while let Some((i, c)) = chars.next() {
        let upper = c.is_uppercase();
        if upper && (!prev_upper || acronym_ends_before(chars.as_str().chars())) {
            f(&piece[start..i]);
            start = i;
        }
        prev_upper = upper;
    }
    f(&piece[start..]);
}

/// `ident` without its underscores.
fn joined(ident: &str) -> Cow<'_, str> {
    if ident.contains('_') {
        Cow::Owned(ident.replace('_', ""))
    } else {
        Cow::Borrowed(ident)
    }
}

/// Tokenize one identifier (a run of [`identifiers`]).
#[inline]
fn tokenize_ident<'a, F: FnMut(Cow<'a, str>)>(ident: &'a str, processor: &Processor, emit: &mut F) {
    let mut emit_processed = |token: Cow<'a, str>| {
        if let Some(token) = processor.process(token, true) {
            emit(token);
        }
    };
    if ident.as_bytes()[0].is_ascii_digit() {
        emit_processed(joined(ident));
        return;
    }
    let mut segments = 0usize;
    for segment in ident.split('_').filter(|s| !s.is_empty()) {
        segments += 1;
        let mut parts = 0usize;
        camel_parts(segment, &mut |part| {
            parts += 1;
            emit_processed(Cow::Borrowed(part));
        });
        if parts > 1 && processor.lowercase {
            emit_processed(Cow::Borrowed(segment));
        }
    }
    if segments > 1 && processor.lowercase {
        emit_processed(joined(ident));
    }
}

#[inline]
pub fn tokenize<'a, F: FnMut(Cow<'a, str>)>(text: &'a str, processor: &Processor, mut emit: F) {
    for ident in identifiers(text) {
        tokenize_ident(ident, processor, &mut emit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(json: &str, text: &str) -> Vec<String> {
        crate::testing::collect(json, text, |t, p, emit| tokenize(t, p, emit))
    }

    /// The camel-case parts of each `_`-separated segment.
    fn split(ident: &str) -> Vec<&str> {
        let mut out = Vec::new();
        for segment in ident.split('_').filter(|s| !s.is_empty()) {
            camel_parts(segment, &mut |p| out.push(p));
        }
        out
    }

    const NONE: &str = r#"{"language": "none"}"#;
    const CASED: &str = r#"{"language": "none", "lowercase": false}"#;

    #[test]
    fn camel_and_snake_parts() {
        assert_eq!(split("getUserName"), vec!["get", "User", "Name"]);
        assert_eq!(split("HTTPServerError"), vec!["HTTP", "Server", "Error"]);
        assert_eq!(split("parseJSON2XML"), vec!["parse", "JSON2", "XML"]);
        assert_eq!(split("ABCdef"), vec!["AB", "Cdef"]);
        assert_eq!(split("ABC123DEF"), vec!["ABC123", "DEF"]);
        assert_eq!(split("user123Name"), vec!["user123", "Name"]);
        assert_eq!(split("__a__b_"), vec!["a", "b"]);
        assert_eq!(split("IPHONE"), vec!["IPHONE"]);
        // A plural `s` after an acronym stays with it, unless a word continues after it.
        assert_eq!(split("getURLsFor"), vec!["get", "URLs", "For"]);
        assert_eq!(split("AAs1"), vec!["AAs1"]);
        assert_eq!(split("AAst"), vec!["A", "Ast"]);
        // Caseless and titlecase letters count as word tails; numeric letters do not.
        assert_eq!(split("AA漢"), vec!["A", "A漢"]);
        assert_eq!(split("AAǅ"), vec!["A", "Aǅ"]);
        assert_eq!(split("AAⅻ"), vec!["AAⅻ"]);
        assert_eq!(split("abc漢字Def"), vec!["abc漢字", "Def"]);
        assert_eq!(split("fooⅫBar"), vec!["foo", "Ⅻ", "Bar"]);
    }

    #[test]
    fn whole_identifier_joins_parts_when_lowercasing() {
        assert_eq!(
            terms(NONE, "getUserName"),
            vec!["get", "user", "name", "getusername"]
        );
        assert_eq!(
            terms(NONE, "get_user_name"),
            vec!["get", "user", "name", "getusername"]
        );
        assert_eq!(terms(NONE, "foo.bar(baz)"), vec!["foo", "bar", "baz"]);
        assert_eq!(terms(NONE, "__init__"), vec!["init"]);
        assert_eq!(terms(CASED, "getUserName"), vec!["get", "User", "Name"]);
        assert_eq!(terms(CASED, "get_user"), vec!["get", "user"]);
        // Each multi-part segment is joined too, then the whole identifier.
        assert_eq!(
            terms(NONE, "getUser_name"),
            vec!["get", "user", "getuser", "name", "getusername"]
        );
        assert_eq!(terms(NONE, "__fooBar__"), vec!["foo", "bar", "foobar"]);
        assert_eq!(terms(NONE, "x_1AB"), vec!["x", "1", "ab", "1ab", "x1ab"]);
    }

    #[test]
    fn number_like_identifiers_are_not_split() {
        assert_eq!(
            terms(NONE, "1_000 0xFF 1abCd 1.5"),
            vec!["1000", "0xff", "1abcd", "1", "5"]
        );
        assert_eq!(terms(NONE, "_1_a"), vec!["1", "a", "1a"]);
        assert_eq!(terms(NONE, "²abc_def"), vec!["²abc", "def", "²abcdef"]);
    }

    #[test]
    fn processing_applies_to_parts_and_whole_separately() {
        let json = r#"{"language": "english", "stopwords": {"languages": [], "custom": ["the"]}}"#;
        assert_eq!(
            terms(json, "theCat runningDogs"),
            vec!["cat", "thecat", "run", "dog", "runningdog"]
        );
        let json = r#"{"language": "none", "max_token_len": 3}"#;
        assert_eq!(terms(json, "getUser ÉtéÉté"), vec!["get", "été", "été"]);
        let json = r#"{"language": "none", "min_token_len": 2}"#;
        assert_eq!(terms(json, "aB"), vec!["ab"]);
    }
}

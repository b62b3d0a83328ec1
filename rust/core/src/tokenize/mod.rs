//! Stage 2: tokenizers. Each splits a text into raw tokens and runs them through the
//! [`Processor`] (or, for the fastembed flavour, through its own chain: [`pyword`], Python's
//! `\w` words), emitting final terms.

pub mod code;
pub mod japanese;
pub mod multilingual;
pub mod prefix;
pub mod pyword;
pub mod pyword_table;
pub mod runs;
pub mod whitespace;
pub mod word;

use std::borrow::Cow;

use crate::process::Processor;

/// The server flavour's tokenizers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenizerKind {
    Word,
    Whitespace,
    Prefix,
    Multilingual,
    Code,
}

impl TokenizerKind {
    const ALL: [TokenizerKind; 5] = [
        TokenizerKind::Word,
        TokenizerKind::Whitespace,
        TokenizerKind::Prefix,
        TokenizerKind::Multilingual,
        TokenizerKind::Code,
    ];

    /// The name Qdrant's `tokenizer` option gives this tokenizer.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            TokenizerKind::Word => "word",
            TokenizerKind::Whitespace => "whitespace",
            TokenizerKind::Prefix => "prefix",
            TokenizerKind::Multilingual => "multilingual",
            TokenizerKind::Code => "code",
        }
    }

    /// The tokenizer Qdrant's `tokenizer` option names (exact, case-sensitive), if any.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Documents and queries are tokenized differently by some tokenizers (prefix), and encoded
/// differently by every flavour (queries: distinct ids, weight 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Document,
    Query,
}

/// Run the server-flavour tokenizer `kind` over `text`, emitting each final term.
#[inline]
pub fn tokenize<'a, F: FnMut(Cow<'a, str>)>(
    kind: TokenizerKind,
    text: &'a str,
    processor: &Processor,
    mode: Mode,
    emit: F,
) {
    match kind {
        TokenizerKind::Word => word::tokenize(text, processor, emit),
        TokenizerKind::Whitespace => whitespace::tokenize(text, processor, mode, emit),
        TokenizerKind::Prefix => prefix::tokenize(text, processor, mode, emit),
        TokenizerKind::Multilingual => multilingual::tokenize(text, processor, emit),
        TokenizerKind::Code => code::tokenize(text, processor, emit),
    }
}

/// Whether a tokenizer's terms for a raw segment depend on that segment alone, so that they
/// can be memoised per segment (see `crate::cache`). Multilingual and code tokenizers look at
/// more context (script detection, identifier structure).
pub fn is_local(kind: TokenizerKind) -> bool {
    matches!(
        kind,
        TokenizerKind::Word | TokenizerKind::Whitespace | TokenizerKind::Prefix
    )
}

/// The non-empty raw segments of a local tokenizer (see [`is_local`]).
#[inline]
pub fn for_each_segment<'a>(kind: TokenizerKind, text: &'a str, mut f: impl FnMut(&'a str)) {
    match kind {
        TokenizerKind::Whitespace => whitespace::split(text).for_each(f),
        _ => word::split(text).for_each(&mut f),
    }
}

/// The terms of one raw segment of a local tokenizer.
#[inline]
pub fn expand_segment<'a, F: FnMut(Cow<'a, str>)>(
    kind: TokenizerKind,
    raw: &'a str,
    processor: &Processor,
    mode: Mode,
    emit: F,
) {
    match kind {
        TokenizerKind::Whitespace => whitespace::expand(raw, processor, mode, emit),
        TokenizerKind::Prefix => prefix::expand(raw, processor, mode, emit),
        _ => word::expand(raw, processor, emit),
    }
}

/// The raw pieces a tokenizer starts from (before any processing), for `explain`.
pub fn segments(kind: TokenizerKind, text: &str) -> Vec<&str> {
    match kind {
        TokenizerKind::Whitespace => text.split_whitespace().collect(),
        TokenizerKind::Multilingual => multilingual::segments(text),
        TokenizerKind::Code => code::identifiers(text).collect(),
        _ => word::split(text).collect(),
    }
}

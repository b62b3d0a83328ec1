//! Per-token processing for the server flavour, in Qdrant's order:
//! ASCII folding -> lowercasing -> stopword test -> stemming -> length limits (on the stem).
//! Empty input tokens are dropped; an empty *stem* is kept (Qdrant hashes it as `""`).

use std::borrow::Cow;

use crate::filter::{char_len, Dropped, Stopwords};
use crate::normalize;
use crate::stem::Stemmer;

/// Which Qdrant build to follow where Qdrant's own builds disagree. Only the Japanese branch of
/// the `multilingual` tokenizer differs today: the released servers (v1.18.x, v1.19.0) lowercase
/// each word vaporetto splits off and test the *raw* word against the stopwords, but never fold,
/// stem or length-filter it; qdrant-edge 0.9.0 sends those words through the full per-token
/// chain. bm25x's own option (not a Qdrant one), named so it cannot clash with Qdrant's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// The Qdrant server, `qdrant/bm25` computed server-side (the default).
    Server,
    /// qdrant-edge 0.9.0 (`qdrant_edge.Bm25` of qdrant-edge-py 0.9.0).
    Edge09,
}

impl Profile {
    const ALL: [Profile; 2] = [Profile::Server, Profile::Edge09];

    /// The name the `profile` option gives this profile.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Profile::Server => "server",
            Profile::Edge09 => "edge-0.9",
        }
    }

    /// The profile the `profile` option names (exact), if any.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// The per-token chain, built from plain settings (the encoder assembles it from a validated
/// configuration; this stage knows nothing of options).
#[derive(Debug)]
pub struct Processor {
    pub lowercase: bool,
    pub ascii_folding: bool,
    pub stopwords: Stopwords,
    pub stemmer: Option<Stemmer>,
    pub min_token_len: Option<usize>,
    pub max_token_len: Option<usize>,
    /// Which Qdrant build's rules apply where they differ (Japanese words, see `tokenize::japanese`).
    pub profile: Profile,
}

/// Observes the intermediate steps of [`Processor::process`]; `()` observes nothing and compiles
/// away, so the hot path pays nothing for `explain`.
pub trait Tracer {
    fn normalized(&mut self, _token: &str) {}
    fn dropped(&mut self, _why: Dropped) {}
}

impl Tracer for () {}

/// What happened to one token, for `explain`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    pub normalized: String,
    pub dropped: Option<Dropped>,
}

impl Tracer for Trace {
    fn normalized(&mut self, token: &str) {
        self.normalized = token.to_string();
    }
    fn dropped(&mut self, why: Dropped) {
        self.dropped = Some(why);
    }
}

impl Processor {
    /// Folding and lowercasing, as configured.
    #[inline]
    pub fn normalize<'a>(&self, mut token: Cow<'a, str>) -> Cow<'a, str> {
        if self.ascii_folding {
            token = normalize::fold_to_ascii(token);
        }
        if self.lowercase {
            token = normalize::lowercase(token);
        }
        token
    }

    #[inline]
    pub fn stem<'a>(&self, token: Cow<'a, str>) -> Cow<'a, str> {
        match &self.stemmer {
            Some(stemmer) => stemmer.stem(token),
            None => token,
        }
    }

    #[inline]
    pub fn is_stopword(&self, token: &str) -> bool {
        self.stopwords.contains(token)
    }

    /// The full per-token chain. `check_max_len` is false for the prefix tokenizer, which turns
    /// `max_token_len` into a prefix limit instead.
    #[inline]
    pub fn process<'a>(&self, token: Cow<'a, str>, check_max_len: bool) -> Option<Cow<'a, str>> {
        self.process_traced(token, check_max_len, &mut ())
    }

    pub fn process_traced<'a, T: Tracer>(
        &self,
        token: Cow<'a, str>,
        check_max_len: bool,
        tracer: &mut T,
    ) -> Option<Cow<'a, str>> {
        if token.is_empty() {
            return None;
        }
        let token = self.normalize(token);
        tracer.normalized(&token);
        if self.is_stopword(&token) {
            tracer.dropped(Dropped::Stopword);
            return None;
        }
        let token = self.stem(token);
        if self.min_token_len.is_some() || (check_max_len && self.max_token_len.is_some()) {
            let len = char_len(&token);
            if self.min_token_len.is_some_and(|min| len < min) {
                tracer.dropped(Dropped::TooShort);
                return None;
            }
            if check_max_len && self.max_token_len.is_some_and(|max| len > max) {
                tracer.dropped(Dropped::TooLong);
                return None;
            }
        }
        Some(token)
    }

    /// `process` for one token, recording each step.
    pub fn trace(&self, token: &str, check_max_len: bool) -> (Trace, Option<String>) {
        let mut trace = Trace::default();
        let out = self
            .process_traced(Cow::Borrowed(token), check_max_len, &mut trace)
            .map(Cow::into_owned);
        (trace, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::processor;

    #[test]
    fn order_is_fold_lower_stop_stem_length() {
        let p = processor("{}");
        assert_eq!(p.process("Running".into(), true).unwrap(), "run");
        assert!(p.process("The".into(), true).is_none());
        assert!(p.process("".into(), true).is_none());
        // min/max apply to the stem: "running" (7 chars) stems to "run" (3).
        let p = processor(r#"{"max_token_len": 3}"#);
        assert_eq!(p.process("running".into(), true).unwrap(), "run");
        assert_eq!(p.process("runnings".into(), false).unwrap(), "run");
        let p = processor(r#"{"min_token_len": 4}"#);
        assert!(p.process("running".into(), true).is_none());
    }

    #[test]
    fn trace_records_the_reason() {
        let p = processor("{}");
        let (t, out) = p.trace("The", true);
        assert_eq!(
            (t.normalized.as_str(), t.dropped, out),
            ("the", Some(Dropped::Stopword), None)
        );
        let (t, out) = p.trace("Cookies", true);
        assert_eq!(
            (t.normalized.as_str(), out.as_deref()),
            ("cookies", Some("cooki"))
        );
    }
}

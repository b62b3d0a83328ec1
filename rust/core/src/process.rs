//! Per-token processing for the server flavour, in Qdrant's order:
//! ASCII folding -> lowercasing -> stopword test -> stemming -> length limits (on the stem).
//! Empty input tokens are dropped; an empty *stem* is kept (Qdrant hashes it as `""`).

use std::borrow::Cow;

use crate::filter::{char_len, Dropped, Stopwords};
use crate::normalize;
use crate::options::{Config, Flavor, Profile};
use crate::stem::Stemmer;

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
    /// The processor an encoder with `config` uses. The server lowercases stopword entries when
    /// it lowercases tokens; fastembed matches its list lines as they are.
    pub fn for_config(config: &Config) -> Self {
        let lowercase_stopwords = config.flavor == Flavor::Qdrant && config.lowercase;
        Processor::new(config, lowercase_stopwords)
    }

    pub fn new(config: &Config, lowercase_stopwords: bool) -> Self {
        Processor {
            lowercase: config.lowercase,
            ascii_folding: config.ascii_folding,
            stopwords: Stopwords::new(
                &config.stopword_languages,
                &config.custom_stopwords,
                lowercase_stopwords,
            ),
            stemmer: config.stemmer.map(Stemmer::new),
            min_token_len: config.min_token_len,
            max_token_len: config.max_token_len,
            profile: config.profile,
        }
    }

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
    use crate::options::Config;

    fn processor(json: &str) -> Processor {
        Processor::new(&Config::from_json(json).unwrap(), true)
    }

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

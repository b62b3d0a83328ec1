//! `explain`: a token-by-token account of how a text becomes terms (what `_explain.py` shows).
//! Slow on purpose (one trace per raw piece); nothing here is on the encoding path.

use std::borrow::Cow;

use super::{Encoder, Mode};
use crate::filter::Dropped;
use crate::hash::token_id;
use crate::options::Flavor;
use crate::process::Trace;
use crate::tokenize::{self, japanese, multilingual, pyword, TokenizerKind};

/// One row of `explain`: a raw piece of the text and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Explained {
    /// The text as the tokenizer cut it.
    pub raw: String,
    /// After folding and lowercasing.
    pub normalized: String,
    /// Why the token was dropped, if it was.
    pub dropped: Option<&'static str>,
    /// The terms it contributes (the stem; several for the prefix tokenizer), each with its id.
    pub terms: Vec<(String, u32)>,
}

impl Encoder {
    /// Token-by-token account of how `text` becomes terms.
    pub fn explain(&self, text: &str, mode: Mode) -> Vec<Explained> {
        let mut rows = Vec::new();
        let ids = |terms: Vec<String>| {
            terms
                .into_iter()
                .map(|t| {
                    let id = token_id(&t);
                    (t, id)
                })
                .collect()
        };
        match self.config.flavor {
            Flavor::Fastembed => {
                for run in pyword::split(text) {
                    for piece in pyword::pieces(run) {
                        let mut trace = Trace::default();
                        let out = pyword::process_traced(
                            Cow::Borrowed(piece.as_str()),
                            &self.processor,
                            &mut trace,
                        )
                        .map(Cow::into_owned);
                        rows.push(Explained {
                            raw: run.to_string(),
                            normalized: trace.normalized,
                            dropped: trace.dropped.map(Dropped::describe),
                            terms: ids(out.into_iter().collect()),
                        });
                    }
                }
            }
            Flavor::Qdrant => {
                let kind = self.config.tokenizer;
                if kind == TokenizerKind::Multilingual
                    && multilingual::route(text) == multilingual::Route::Japanese
                {
                    // A Japanese word's fate depends on the profile, and a word taken out of
                    // its text could be routed differently: trace it in place.
                    for raw in japanese::segments(text) {
                        let mut trace = Trace::default();
                        let out = japanese::process_word(raw, &self.processor, &mut trace)
                            .map(Cow::into_owned);
                        rows.push(Explained {
                            raw: raw.to_string(),
                            normalized: trace.normalized,
                            dropped: trace.dropped.map(Dropped::describe),
                            terms: ids(out.into_iter().collect()),
                        });
                    }
                    return rows;
                }
                for raw in tokenize::segments(kind, text) {
                    if raw.is_empty() {
                        continue;
                    }
                    let check_max = kind != TokenizerKind::Prefix;
                    let (trace, _) = self.processor.trace(raw, check_max);
                    let terms = self.terms(raw, mode);
                    let dropped = match (trace.dropped, terms.is_empty()) {
                        (Some(why), true) => Some(why.describe()),
                        _ => None,
                    };
                    rows.push(Explained {
                        raw: raw.to_string(),
                        normalized: trace.normalized,
                        dropped,
                        terms: ids(terms),
                    });
                }
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Config;

    fn enc(json: &str) -> Encoder {
        Encoder::new(Config::from_json(json).unwrap()).unwrap()
    }

    #[test]
    fn explain_reports_drops_and_stems() {
        let rows = enc("{}").explain("The Cookies", Mode::Document);
        assert_eq!(rows[0].dropped, Some("stopword"));
        assert_eq!(rows[1].normalized, "cookies");
        assert_eq!(rows[1].terms, vec![("cooki".to_string(), 112_174_620)]);
    }
}

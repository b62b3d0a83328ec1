//! Assembly: a validated [`Config`] (from `options`) turned into the stages' own settings. The
//! stages know nothing of options; this is the one place that maps one onto the other.

use crate::filter::Stopwords;
use crate::options::{Config, Flavor};
use crate::process::Processor;
use crate::stem::Stemmer;

/// The per-token processor of an encoder with `config`. The server lowercases stopword entries
/// when it lowercases tokens; fastembed matches its list lines as they are.
pub(crate) fn processor(config: &Config) -> Processor {
    let lowercase_stopwords = config.flavor == Flavor::Qdrant && config.lowercase;
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

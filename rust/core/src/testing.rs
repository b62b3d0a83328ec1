//! Test support shared by the stage modules' unit tests: a stage's settings built from the
//! options JSON a user would write (through the same assembly as the encoder), so a test reads
//! as the options it exercises. Test-only, so the stages' own code never sees `options`.

use std::borrow::Cow;

use crate::options::Config;
use crate::process::Processor;

/// The processor an encoder with the options `json` uses.
pub(crate) fn processor(json: &str) -> Processor {
    crate::encoder::assemble::processor(&Config::from_json(json).unwrap())
}

/// The terms a tokenizer function emits for `text` under the options `json`.
pub(crate) fn collect<'a>(
    json: &str,
    text: &'a str,
    tokenize: impl FnOnce(&'a str, &Processor, &mut dyn FnMut(Cow<'a, str>)),
) -> Vec<String> {
    let processor = processor(json);
    let mut out = Vec::new();
    tokenize(text, &processor, &mut |t| out.push(t.into_owned()));
    out
}

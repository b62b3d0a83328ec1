//! Drives the whole pipeline with arbitrary text and arbitrary options. The first bytes choose
//! the options (including invalid ones, which must give an `Err`, never a panic); the rest is
//! the text. Every vector must be well-formed, and batches must equal one-by-one encoding.
//!
//! Run: cargo install cargo-fuzz && cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run encode -- -max_total_time=600

#![no_main]

use bm25x_core::{Config, Encoder, Mode, OptionValue};
use libfuzzer_sys::fuzz_target;

const TOKENIZERS: &[&str] = &["word", "whitespace", "prefix", "multilingual", "code", "bogus"];
const LANGUAGES: &[&str] = &[
    "english", "en", "arabic", "german", "russian", "greek", "turkish", "tamil", "armenian",
    "chinese", "japanese", "hinglish", "none", "klingon", "",
];

fn pick<'a>(table: &[&'a str], byte: u8) -> &'a str {
    table[usize::from(byte) % table.len()]
}

fn options(b: &[u8; 12]) -> Vec<(String, OptionValue)> {
    let mut out = Vec::new();
    let mut put = |k: &str, v: OptionValue| out.push((k.to_string(), v));
    if b[0] & 1 == 1 {
        put("flavor", OptionValue::Str("fastembed".into()));
        put("language", OptionValue::Str(pick(LANGUAGES, b[1]).into()));
        put("token_max_length", OptionValue::Int(i128::from(b[2] % 50)));
        put("disable_stemmer", OptionValue::Bool(b[3] & 1 == 1));
    } else {
        put("tokenizer", OptionValue::Str(pick(TOKENIZERS, b[1]).into()));
        put("language", OptionValue::Str(pick(LANGUAGES, b[2]).into()));
        put("lowercase", OptionValue::Bool(b[3] & 1 == 1));
        put("ascii_folding", OptionValue::Bool(b[3] & 2 == 2));
        if b[3] & 4 == 4 {
            put("stemmer", OptionValue::Map(vec![("type".into(), OptionValue::Str("none".into()))]));
        }
        if b[4] % 3 == 0 {
            put("min_token_len", OptionValue::Int(i128::from(b[4] % 7)));
        }
        if b[5] % 3 == 0 {
            put("max_token_len", OptionValue::Int(i128::from(b[5] % 9)));
        }
        if b[6] & 1 == 1 {
            let custom = vec![OptionValue::Str("ThE".into()), OptionValue::Str("ß".into())];
            put("stopwords", OptionValue::Map(vec![("custom".into(), OptionValue::List(custom))]));
        }
    }
    put("k", OptionValue::Float(f64::from(i8::from_le_bytes([b[7]])) / 10.0));
    put("b", OptionValue::Float(f64::from(b[8]) / 200.0));
    put("avg_len", OptionValue::Float(f64::from(i16::from_le_bytes([b[9], b[10]]))));
    out
}

fn check(v: &bm25x_core::SparseVec, query: bool) {
    assert_eq!(v.indices.len(), v.values.len());
    assert!(v.indices.windows(2).all(|w| w[0] < w[1]), "indices not ascending");
    for &x in &v.values {
        assert!(x.is_finite() && x > 0.0, "bad value {x}");
        if query {
            assert_eq!(x, 1.0);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let (head, text) = data.split_at(12);
    let head: &[u8; 12] = head.try_into().unwrap();
    let text = String::from_utf8_lossy(text);
    let Ok(config) = Config::from_options(&options(head)) else {
        return;
    };
    let Ok(encoder) = Encoder::new(config) else {
        return;
    };
    let doc = encoder.encode(&text, Mode::Document);
    let query = encoder.encode(&text, Mode::Query);
    check(&doc, false);
    check(&query, true);
    let _ = encoder.explain(&text, Mode::Document);
    // Batches (serial and parallel) equal one-by-one encoding.
    let parts: Vec<&str> = text.split('\n').collect();
    let batch = encoder
        .encode_batch(&parts, Mode::Document, 1 + usize::from(head[11] % 3))
        .unwrap();
    assert_eq!(batch.len(), parts.len());
    for (i, part) in parts.iter().enumerate() {
        assert_eq!(batch.row(i), encoder.encode(part, Mode::Document));
    }
});

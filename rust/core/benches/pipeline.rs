//! Cargo-level benchmark of the pure-Rust pipeline, stage by stage, on the same corpus as the
//! Python benchmark. No harness dependency: `cargo bench -p bm25x-core` prints one table.
//!
//! Corpus: `$BM25X_CORPUS` or ../shared/corpora/pydocs.jsonl.gz (read through `gzip -dc`),
//! else generated text. Each row adds one stage to the previous, so the differences between rows
//! show where the time goes.

// Counts become f64 only for the printed rates; they are far below 2^53.
#![allow(clippy::cast_precision_loss)]

use std::borrow::Cow;
use std::hint::black_box;
use std::io::Read;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use bm25x_core::filter::Stopwords;
use bm25x_core::hash::token_id;
use bm25x_core::language::{StemLanguage, StopwordLanguage};
use bm25x_core::normalize::lowercase;
use bm25x_core::stem::Stemmer;
use bm25x_core::tokenize::word;
use bm25x_core::{Config, Encoder, Mode};

fn corpus() -> (Vec<String>, String) {
    let path = std::env::var_os("BM25X_CORPUS").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/corpora/pydocs.jsonl.gz")
        },
        PathBuf::from,
    );
    if path.exists() {
        let mut raw = String::new();
        if path.extension().is_some_and(|e| e == "gz") {
            let out = Command::new("gzip")
                .arg("-dc")
                .arg(&path)
                .output()
                .expect("gzip -dc");
            raw = String::from_utf8(out.stdout).expect("utf-8 corpus");
        } else {
            std::fs::File::open(&path)
                .unwrap()
                .read_to_string(&mut raw)
                .unwrap();
        }
        let docs = raw
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v.get("text").and_then(|t| t.as_str()).map(str::to_string))
            .collect();
        return (docs, path.display().to_string());
    }
    let words = [
        "Return",
        "the",
        "array",
        "of",
        "given",
        "shape",
        "and",
        "type",
        "filled",
        "with",
        "zeros",
        "client",
        "request",
        "default",
        "parameters",
        "None",
        "string",
        "index",
    ];
    let mut seed = 42u64;
    let docs = (0..10_000)
        .map(|_| {
            (0..120)
                .map(|_| {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    words[(seed >> 33) as usize % words.len()]
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    (docs, "generated".to_string())
}

fn time(label: &str, docs: &[String], mb: f64, mut f: impl FnMut(&str) -> usize) {
    let mut best = f64::INFINITY;
    let mut sink = 0usize;
    for _ in 0..5 {
        let start = Instant::now();
        for d in docs {
            sink = sink.wrapping_add(f(d));
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    black_box(sink);
    println!(
        "| {label:44} | {:>10.0} | {:>8.1} |",
        docs.len() as f64 / best,
        mb / best
    );
}

fn main() {
    let (docs, name) = corpus();
    let mb = docs.iter().map(String::len).sum::<usize>() as f64 / 1e6;
    println!(
        "corpus: {name} ({} documents, {mb:.1} MB), one thread\n",
        docs.len()
    );
    println!(
        "| {:44} | {:>10} | {:>8} |",
        "stages (cumulative)", "docs/s", "MB/s"
    );
    println!("|{}|{}|{}|", "-".repeat(46), "-".repeat(12), "-".repeat(10));

    let english = StopwordLanguage::parse("english").unwrap();
    let stopwords = Stopwords::new(&[english], &[], true);
    let stemmer = Stemmer::new(StemLanguage::parse("english").unwrap());

    time("split (word tokenizer)", &docs, mb, |d| {
        word::split(d).filter(|t| !t.is_empty()).count()
    });
    time("+ lowercase", &docs, mb, |d| {
        word::split(d)
            .filter(|t| !t.is_empty())
            .map(|t| lowercase(Cow::Borrowed(t)).len())
            .sum()
    });
    time("+ stopwords", &docs, mb, |d| {
        word::split(d)
            .filter(|t| !t.is_empty())
            .map(|t| lowercase(Cow::Borrowed(t)))
            .filter(|t| !stopwords.contains(t))
            .count()
    });
    time("+ stem", &docs, mb, |d| {
        word::split(d)
            .filter(|t| !t.is_empty())
            .map(|t| lowercase(Cow::Borrowed(t)))
            .filter(|t| !stopwords.contains(t))
            .map(|t| stemmer.stem(t).len())
            .sum()
    });
    time("+ hash", &docs, mb, |d| {
        word::split(d)
            .filter(|t| !t.is_empty())
            .map(|t| lowercase(Cow::Borrowed(t)))
            .filter(|t| !stopwords.contains(t))
            .map(|t| token_id(&stemmer.stem(t)) as usize)
            .fold(0, usize::wrapping_add)
    });
    for (label, json) in [
        ("full encode, documents (count + weight)", "{}"),
        (
            "full encode, fastembed flavour documents",
            r#"{"flavor": "fastembed"}"#,
        ),
    ] {
        let enc = Encoder::new(Config::from_json(json).unwrap()).unwrap();
        time(label, &docs, mb, |d| {
            enc.encode(d, Mode::Document).indices.len()
        });
    }
    let enc = Encoder::new(Config::default()).unwrap();
    time("full encode, queries", &docs, mb, |d| {
        enc.encode(d, Mode::Query).indices.len()
    });
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    for n in [1, threads] {
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let start = Instant::now();
            black_box(enc.encode_batch(&docs, Mode::Document, n).unwrap());
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!(
            "| {:44} | {:>10.0} | {:>8.1} |",
            format!("encode_batch, documents, {n} thread(s)"),
            docs.len() as f64 / best,
            mb / best
        );
    }
}

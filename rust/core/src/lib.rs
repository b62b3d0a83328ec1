//! bm25x-core: text to BM25 sparse vectors, bit-identical to Qdrant's `qdrant/bm25` model
//! (server flavour) and to fastembed's `Qdrant/bm25` (fastembed flavour).
//!
//! The pipeline has one module per stage:
//! [`normalize`] -> [`tokenize`] -> [`filter`] -> [`stem`] -> [`hash`] -> [`weight`],
//! wired together by [`process`] (per-token processing) and [`encoder`] (per-document counting
//! and weighting). [`options`] turns the JSON-shaped options Qdrant accepts into a validated
//! [`Config`]; [`error`] is the one error type. Nothing here depends on Python.
//!
//! # Module graph
//!
//! Imports go one way, from the leaves up; a module may import only modules on a lower layer:
//!
//! ```text
//! 0  error, language, hash, normalize,     leaves (language: stopword lists, stemmer names;
//!    jsonl, points                         jsonl: the corpus reader's fast path, points: the
//!                                          command's point ids, fingerprints and REST JSON,
//!                                          both beside the pipeline)
//! 1  filter, stem, weight, cache, pool     stages that need a leaf (cache: hash; filter, stem:
//!                                          language); `weight` owns `Params`
//! 2  process                               the per-token chain; owns `Processor`, `Profile`
//! 3  tokenize                              tokenizers over a `Processor`; owns `TokenizerKind`
//! 4  options                               JSON -> `Config` made of the stages' own types
//! 5  encoder                               assembles a `Config` into stages and runs them
//! ```
//!
//! No stage (layers 0-3) imports `options` or `encoder`: each owns its small config type and
//! `options` parses into it. `tests::layers_import_downwards` below keeps this order.

mod cache;
pub mod encoder;
pub mod error;
pub mod filter;
pub mod hash;
pub mod jsonl;
pub mod language;
pub mod normalize;
pub mod options;
pub mod points;
mod pool;
pub mod process;
pub mod stem;
pub mod tokenize;
pub mod weight;

#[cfg(test)]
mod testing;

pub use encoder::{Csr, Encoder, Explained, Mode, SparseVec};
pub use error::Error;
pub use options::{Config, Flavor, OptionValue};
pub use pool::{forget_after_fork, SpawnError};
pub use process::Profile;
pub use tokenize::TokenizerKind;
pub use weight::Params;

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Each module's layer in the graph drawn in the crate docs.
    const LAYERS: &[(&str, u8)] = &[
        ("error", 0),
        ("language", 0),
        ("hash", 0),
        ("jsonl", 0),
        ("points", 0),
        ("normalize", 0),
        ("filter", 1),
        ("stem", 1),
        ("weight", 1),
        ("cache", 1),
        ("pool", 1),
        ("process", 2),
        ("tokenize", 3),
        ("options", 4),
        ("encoder", 5),
    ];

    fn layer(module: &str) -> Option<u8> {
        LAYERS.iter().find(|(m, _)| *m == module).map(|l| l.1)
    }

    /// The `crate::<module>` paths a source file's non-test code names (`use` lines and inline
    /// paths alike); every item under `#[cfg(test)]` is left out, wherever it stands in the file
    /// (tests may build a stage from options), and only that item.
    fn crate_imports(source: &str) -> Vec<String> {
        let code = without_test_items(source);
        code.match_indices("crate::")
            .map(|(i, m)| {
                let rest = &code[i + m.len()..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                rest[..end].to_string()
            })
            .collect()
    }

    /// `source` less each item marked `#[cfg(test)]`: from the attribute to the end of the item
    /// it marks, the `;` of a one-line item or the brace closing its block.
    fn without_test_items(source: &str) -> String {
        const MARK: &str = "#[cfg(test)]";
        let mut out = String::with_capacity(source.len());
        let mut rest = source;
        while let Some(at) = rest.find(MARK) {
            out.push_str(&rest[..at]);
            let item = &rest[at + MARK.len()..];
            let mut depth = 0usize;
            let mut end = item.len();
            for (i, c) in item.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            end = i + 1;
                            break;
                        }
                    }
                    ';' if depth == 0 => {
                        end = i + 1;
                        break;
                    }
                    _ => {}
                }
            }
            rest = &item[end..];
        }
        out.push_str(rest);
        out
    }

    fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn layers_import_downwards() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let mut checked = 0;
        for file in files {
            let relative = file.strip_prefix(&src).unwrap();
            // The top-level module a file belongs to: `tokenize/word.rs` -> `tokenize`.
            let first = relative.components().next().unwrap().as_os_str();
            let module = first.to_str().unwrap().trim_end_matches(".rs");
            if module == "lib" || module == "testing" {
                continue;
            }
            let own = layer(module).unwrap_or_else(|| {
                panic!(
                    "{}: module {module:?} has no layer in LAYERS",
                    file.display()
                )
            });
            for imported in crate_imports(&std::fs::read_to_string(&file).unwrap()) {
                if imported == module {
                    continue;
                }
                let theirs = layer(&imported).unwrap_or_else(|| {
                    panic!("{}: crate::{imported} has no layer", file.display())
                });
                assert!(
                    theirs < own,
                    "{} (layer {own}) imports crate::{imported} (layer {theirs}): imports must \
                     go to a lower layer (see the module graph in lib.rs)",
                    file.display()
                );
            }
            checked += 1;
        }
        // Every module file was seen (a wrong path would make the test vacuous).
        assert!(checked >= 25, "only {checked} files checked");
    }

    #[test]
    fn the_import_scan_sees_inline_paths() {
        let found = crate_imports(
            "use crate::process::Processor;\nfn f() { crate::options::Config::default(); }\n\
             #[cfg(test)]\nmod tests { use crate::encoder::Encoder; }",
        );
        assert_eq!(found, vec!["process", "options"]);
    }

    #[test]
    fn the_import_scan_reads_past_test_items_in_the_middle_of_a_file() {
        // A test-only method early in a file hides only itself: the code after it is scanned.
        let found = crate_imports(
            "use crate::hash::Hasher;
impl A {
    #[cfg(test)]
    fn len(&self) -> usize \
             { crate::encoder::count() }
    #[cfg(test)]
    use crate::options::Config;
}
             fn g() { crate::weight::Params::default(); }
",
        );
        assert_eq!(found, vec!["hash", "weight"]);
    }
}

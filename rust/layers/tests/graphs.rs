//! Each crate's module graph, as drawn in its `lib.rs`: a module may import only modules on a
//! lower layer. A new module needs its line here (and in the drawing).

use std::path::Path;

/// `rust/core`: the BM25 pipeline (graph in `rust/core/src/lib.rs`).
const CORE: &[(&str, u8)] = &[
    ("error", 0),
    ("language", 0),
    ("hash", 0),
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

/// `rust/corpus`: the corpus reader and the points writer (graph in `rust/corpus/src/lib.rs`).
const CORPUS: &[(&str, u8)] = &[
    ("jsonl::lines", 0),
    ("jsonl::fields", 0),
    ("jsonl::record", 0),
    ("points::point_id", 0),
    ("points::fingerprint", 0),
    ("jsonl::document", 1),
    ("points::upsert", 1),
    ("jsonl::read", 2),
    ("jsonl::duplicate_ids", 3),
    ("jsonl", 4),
    ("points", 4),
];

/// Check the crate at `rust/<dir>`, which has at least `files` module files.
fn check(dir: &str, layers: &[(&str, u8)], files: usize) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(dir)
        .join("src");
    let (problems, checked) = bm25x_layers::violations(&src, layers);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every module file was seen (a wrong path would make the test vacuous).
    assert!(
        checked >= files,
        "only {checked} files checked in {}",
        src.display()
    );
}

#[test]
fn core_imports_go_downwards() {
    check("core", CORE, 30);
}

#[test]
fn corpus_imports_go_downwards() {
    check("corpus", CORPUS, 11);
}

#[test]
fn an_upward_import_an_unknown_module_and_a_stale_entry_are_each_reported() {
    let src = Path::new(env!("CARGO_TARGET_TMPDIR")).join("layers-fixture/src");
    let _ = std::fs::remove_dir_all(&src);
    std::fs::create_dir_all(src.join("top")).unwrap();
    let files = [
        ("lib.rs", "pub mod low; pub mod top; mod stray;"),
        (
            "low.rs",
            "use crate::top::inner::X;\n#[cfg(test)] mod t { use crate::top::Y; }",
        ),
        ("top/mod.rs", "mod inner; #[cfg(test)] mod testing;"),
        ("top/inner.rs", "use super::super::low::A; use crate::Root;"),
        ("top/testing.rs", "use crate::top::Anything;"),
        ("stray.rs", "use crate::low::A;"),
    ];
    for (path, text) in files {
        std::fs::write(src.join(path), text).unwrap();
    }
    let (problems, checked) =
        bm25x_layers::violations(&src, &[("low", 0), ("top", 1), ("gone", 2)]);
    assert_eq!(checked, 4, "{problems:#?}");
    let expected = [
        "low.rs (low, layer 0) imports top (layer 1)",
        "names crate::Root, in no module",
        "module stray has no layer",
        "the layer table names gone",
    ];
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    for what in expected {
        assert!(
            problems.iter().any(|p| p.contains(what)),
            "{what}: {problems:#?}"
        );
    }
}

//! bm25x-layers: keeps the module graphs of the workspace's crates (drawn in each crate's
//! `lib.rs`) one way, from the leaves up. Test-only, not published: its tests
//! (`tests/graphs.rs`) hold each crate's layer table and read the crate's sources.
//!
//! A source file is read as Rust tokens, so string, char and comment contents are never taken
//! for code. Its imports are the `crate::` and `super::` paths its code names, `use` lines and
//! inline paths alike (grouped `use crate::{a, b::c}` included), resolved to the module they
//! name. Every item marked `#[cfg(test)]` is left out, wherever it stands in the file, and only
//! that item (tests may build a stage from options); a module declared `#[cfg(test)] mod name;`
//! is test-only, and so are its files.

use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// A module path inside a crate: `["jsonl", "read"]`; the crate root is empty.
pub type ModulePath = Vec<String>;

/// What the code of one source file names.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// The paths the code names through `crate::` or `super::`, resolved from the crate root
    /// (an item's path included: `crate::hash::token_id` is `["hash", "token_id"]`).
    pub imports: Vec<ModulePath>,
    /// Modules declared `#[cfg(test)] mod name;`.
    pub test_modules: Vec<ModulePath>,
}

/// Scan the source of the module `module`.
pub fn scan(source: &str, module: &[String]) -> Result<Scan, String> {
    let tokens: TokenStream = source.parse().map_err(|e| format!("{e:?}"))?;
    let mut out = Scan::default();
    walk(&tokens.into_iter().collect::<Vec<_>>(), module, &mut out);
    Ok(out)
}

/// Every import under `src` (a crate's `src` folder) of a module on the same or a higher layer
/// than the importing file's, as a message each, by the table `layers` (`("encoder", 5)`,
/// `("jsonl::read", 2)`): a path belongs to the longest module of the table it starts with, and
/// imports within one such module are free. Also a message for each file of no module in the
/// table, each path into no module of it, and each table entry no file belongs to. Returns the
/// messages and the number of files checked.
pub fn violations(src: &Path, layers: &[(&str, u8)]) -> (Vec<String>, usize) {
    let table: Vec<(ModulePath, u8)> = layers
        .iter()
        .map(|(name, layer)| (name.split("::").map(String::from).collect(), *layer))
        .collect();
    let owner = |path: &[String]| {
        table
            .iter()
            .filter(|(m, _)| path.starts_with(m))
            .max_by_key(|(m, _)| m.len())
    };
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut scans = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        let module = module_of(file.strip_prefix(src).unwrap_or(&file));
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        match scan(&text, &module) {
            Ok(s) => scans.push((file, module, s)),
            Err(e) => problems.push(format!("{}: not Rust tokens: {e}", file.display())),
        }
    }
    let test_only: Vec<&ModulePath> = scans.iter().flat_map(|s| &s.2.test_modules).collect();
    let mut checked = 0;
    let mut seen: Vec<&ModulePath> = Vec::new();
    for (file, module, s) in &scans {
        // The root may name every module; test-only files are out of the graph.
        if module.is_empty() || test_only.iter().any(|t| module.starts_with(t)) {
            continue;
        }
        checked += 1;
        let Some((own, own_layer)) = owner(module) else {
            problems.push(format!(
                "{}: module {} has no layer",
                file.display(),
                module.join("::")
            ));
            continue;
        };
        seen.push(own);
        for path in &s.imports {
            let Some((theirs, their_layer)) = owner(path) else {
                problems.push(format!(
                    "{}: names crate::{}, in no module of the layer table (name items by the \
                     module that defines them)",
                    file.display(),
                    path.join("::")
                ));
                continue;
            };
            if theirs != own && their_layer >= own_layer {
                problems.push(format!(
                    "{} ({}, layer {own_layer}) imports {} (layer {their_layer}): imports must go \
                     to a lower layer (see the module graph in lib.rs)",
                    file.display(),
                    own.join("::"),
                    theirs.join("::"),
                ));
            }
        }
    }
    for (m, _) in &table {
        if !seen.contains(&m) {
            problems.push(format!(
                "the layer table names {}, which no file is",
                m.join("::")
            ));
        }
    }
    (problems, checked)
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
}

/// The module of a file, from its path below `src`: `jsonl/read.rs` and `jsonl/read/mod.rs` are
/// `jsonl::read`, `lib.rs` the root.
fn module_of(relative: &Path) -> ModulePath {
    let mut parts: ModulePath = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn walk(tokens: &[TokenTree], module: &[String], out: &mut Scan) {
    let mut i = 0;
    while i < tokens.len() {
        if let Some(next) = test_attribute(tokens, i) {
            if punct(&tokens[i + 1], '!') {
                return; // `#![cfg(test)]`: everything that follows, in this block or file
            }
            let end = item_end(tokens, next);
            if let Some(name) = declared_module(&tokens[next..end]) {
                out.test_modules.push([module, &[name]].concat());
            }
            i = end;
            continue;
        }
        match &tokens[i] {
            TokenTree::Ident(id) if (id == "crate" || id == "super") && path_sep(tokens, i + 1) => {
                let base = if id == "crate" {
                    Vec::new()
                } else {
                    module[..module.len().saturating_sub(1)].to_vec()
                };
                i = path(tokens, i + 3, base, out);
                continue;
            }
            TokenTree::Ident(id) if id == "mod" => {
                if let (Some(TokenTree::Ident(name)), Some(TokenTree::Group(g))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    if g.delimiter() == Delimiter::Brace {
                        let inner = [module, &[name.to_string()]].concat();
                        walk(&g.stream().into_iter().collect::<Vec<_>>(), &inner, out);
                        i += 3;
                        continue;
                    }
                }
            }
            // `pub(in crate::x)` names where an item is visible, not what it uses.
            TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis && starts_with_in(g) => {
            }
            TokenTree::Group(g) => {
                walk(&g.stream().into_iter().collect::<Vec<_>>(), module, out);
            }
            _ => {}
        }
        i += 1;
    }
}

/// Read the path whose next segment is at `i`, below `base`; returns where it ends.
fn path(tokens: &[TokenTree], mut i: usize, mut base: ModulePath, out: &mut Scan) -> usize {
    loop {
        match tokens.get(i) {
            Some(TokenTree::Ident(id)) if id == "super" => {
                base.pop();
            }
            Some(TokenTree::Ident(id)) if id == "self" => {}
            Some(TokenTree::Ident(id)) => base.push(id.to_string()),
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                // `{a, b::c}`: each a path below `base`.
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                let mut at = 0;
                while at < inner.len() {
                    at = path(&inner, at, base.clone(), out);
                    while at < inner.len() && !punct(&inner[at], ',') {
                        at += 1;
                    }
                    at += 1;
                }
                return i + 1;
            }
            _ => {
                out.imports.push(base);
                return i;
            }
        }
        i += 1;
        if !path_sep(tokens, i) {
            out.imports.push(base);
            return i;
        }
        i += 2;
    }
}

/// At `i`, `#[cfg(test)]` or `#![cfg(test)]`: the index after it.
fn test_attribute(tokens: &[TokenTree], i: usize) -> Option<usize> {
    if !punct(&tokens[i], '#') {
        return None;
    }
    let at = i + 1 + usize::from(tokens.get(i + 1).is_some_and(|t| punct(t, '!')));
    let TokenTree::Group(g) = tokens.get(at)? else {
        return None;
    };
    let inner: Vec<TokenTree> = g.stream().into_iter().collect();
    let is_test = g.delimiter() == Delimiter::Bracket
        && matches!(&inner[..], [TokenTree::Ident(cfg), TokenTree::Group(arg)]
            if cfg == "cfg" && arg.stream().to_string() == "test");
    is_test.then_some(at + 1)
}

/// Where the item starting at `i` ends: after its `;` or its block. Items that end in `;` but
/// may hold a block before it (`const X: S = S { .. };`) end at the `;`.
fn item_end(tokens: &[TokenTree], i: usize) -> usize {
    let keyword = tokens[i..].iter().find_map(|t| match t {
        TokenTree::Ident(id) if id != "pub" => Some(id.to_string()),
        _ => None,
    });
    let const_item = keyword.as_deref() == Some("const")
        && !tokens[i..]
            .iter()
            .take(4)
            .any(|t| matches!(t, TokenTree::Ident(id) if id == "fn"));
    let ends_at_semicolon =
        const_item || matches!(keyword.as_deref(), Some("use" | "static" | "type" | "let"));
    for (k, t) in tokens.iter().enumerate().skip(i) {
        match t {
            TokenTree::Punct(p) if p.as_char() == ';' => return k + 1,
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace && !ends_at_semicolon => {
                return k + 1
            }
            _ => {}
        }
    }
    tokens.len()
}

/// The name of `mod name;` (after any attributes and visibility), if `item` is one.
fn declared_module(item: &[TokenTree]) -> Option<String> {
    let at = item
        .iter()
        .position(|t| matches!(t, TokenTree::Ident(id) if id == "mod"))?;
    match (item.get(at + 1), item.get(at + 2)) {
        (Some(TokenTree::Ident(name)), Some(t)) if punct(t, ';') => Some(name.to_string()),
        _ => None,
    }
}

fn punct(t: &TokenTree, c: char) -> bool {
    matches!(t, TokenTree::Punct(p) if p.as_char() == c)
}

/// `::` at `i`.
fn path_sep(tokens: &[TokenTree], i: usize) -> bool {
    matches!(
        (tokens.get(i), tokens.get(i + 1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
            if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':'
    )
}

fn starts_with_in(g: &proc_macro2::Group) -> bool {
    matches!(g.stream().into_iter().next(), Some(TokenTree::Ident(id)) if id == "in")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imports(source: &str, module: &[&str]) -> Vec<String> {
        let module: ModulePath = module.iter().map(ToString::to_string).collect();
        scan(source, &module)
            .unwrap()
            .imports
            .iter()
            .map(|p| p.join("::"))
            .collect()
    }

    #[test]
    fn use_lines_and_inline_paths_are_imports() {
        let found = imports(
            "use crate::process::Processor;\nfn f() { crate::options::Config::default(); }\n\
             #[cfg(test)]\nmod tests { use crate::encoder::Encoder; }",
            &["tokenize"],
        );
        assert_eq!(found, ["process::Processor", "options::Config::default"]);
    }

    #[test]
    fn grouped_and_relative_paths_resolve_from_the_root() {
        let found = imports(
            "use crate::{hash::{self, token_id}, weight};\nuse super::document::Document;\n\
             use super::super::points::Upsert;\nuse super::*;",
            &["jsonl", "read"],
        );
        let expected = [
            "hash",
            "hash::token_id",
            "weight",
            "jsonl::document::Document",
            "points::Upsert",
            "jsonl",
        ];
        assert_eq!(found, expected);
    }

    #[test]
    fn test_items_in_the_middle_of_a_file_hide_only_themselves() {
        // A test-only method early in a file hides only itself, whatever its strings and chars
        // hold: the code after it is scanned.
        let found = imports(
            "use crate::hash::Hasher;
impl A {
    #[cfg(test)]
    fn len(&self) -> [u8; 2] { let _ = ('{', \"{{\"); crate::encoder::count() }
    #[cfg(test)]
    use crate::options::Config;
    #[cfg(test)]
    const C: S = S { a: crate::options::A };
}
fn g() { crate::weight::Params::default(); }
",
            &["cache"],
        );
        assert_eq!(found, ["hash::Hasher", "weight::Params::default"]);
    }

    #[test]
    fn a_brace_in_a_char_of_a_test_item_hides_nothing_after_it() {
        // Counted as text, the `'{'` left the test item open to the end of the file.
        let found = imports(
            "#[cfg(test)]\nfn f() { let c = '{'; }\nfn g() { crate::encoder::x(); }",
            &["cache"],
        );
        assert_eq!(found, ["encoder::x"]);
    }

    #[test]
    fn comments_strings_and_visibilities_are_not_imports() {
        let found = imports(
            "//! See crate::encoder.\n/// Like `crate::options::Config`.\n\
             pub(crate) fn f() -> &'static str { \"crate::weight\" } // crate::stem\n\
             pub(super) struct S; pub(in crate::process) struct T; /* crate::filter */",
            &["tokenize"],
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn inline_modules_resolve_super_from_themselves() {
        let found = imports("mod inner { use super::sibling::X; }", &["a"]);
        assert_eq!(found, ["a::sibling::X"]);
    }

    #[test]
    fn test_only_modules_are_recorded_and_a_test_only_file_is_skipped() {
        let module = vec!["jsonl".to_string()];
        let s = scan("#[cfg(test)]\npub(crate) mod testing;\nmod read;", &module).unwrap();
        assert_eq!(
            s.test_modules,
            [vec!["jsonl".to_string(), "testing".into()]]
        );
        let whole = scan("#![cfg(test)]\nuse crate::encoder::E;", &module).unwrap();
        assert!(whole.imports.is_empty());
    }

    #[test]
    fn files_name_their_modules() {
        let m = |p: &str| module_of(Path::new(p)).join("::");
        assert_eq!(m("lib.rs"), "");
        assert_eq!(m("hash.rs"), "hash");
        assert_eq!(m("jsonl/mod.rs"), "jsonl");
        assert_eq!(m("jsonl/read.rs"), "jsonl::read");
    }
}

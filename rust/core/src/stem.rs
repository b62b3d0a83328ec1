//! Stage 4: Snowball stemming with the `rust-stemmers` 1.2 algorithms (Qdrant's fork
//! `qdrant-rust-stemmers`, the crate both Qdrant and fastembed's `py_rust_stemmers` run).

use std::borrow::Cow;
use std::fmt;

use crate::language::StemLanguage;

pub struct Stemmer {
    language: StemLanguage,
    inner: rust_stemmers::Stemmer,
}

impl Stemmer {
    pub fn new(language: StemLanguage) -> Self {
        Stemmer {
            language,
            inner: rust_stemmers::Stemmer::create(language.algorithm()),
        }
    }

    pub fn language(&self) -> StemLanguage {
        self.language
    }

    #[inline]
    pub fn stem<'a>(&self, token: Cow<'a, str>) -> Cow<'a, str> {
        self.inner.stem_cow(token)
    }
}

impl fmt::Debug for Stemmer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Stemmer({})", self.language.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_snowball() {
        let s = Stemmer::new(StemLanguage::parse("english").unwrap());
        assert_eq!(s.stem("running".into()), "run");
        assert_eq!(s.stem("cookies".into()), "cooki");
        // rust-stemmers 1.2 (what Qdrant runs) stems this to "organ".
        assert_eq!(s.stem("organization".into()), "organ");
    }

    #[test]
    fn arabic_tatweel_stems_to_empty() {
        let s = Stemmer::new(StemLanguage::parse("arabic").unwrap());
        assert_eq!(s.stem("\u{640}".into()), "");
    }
}

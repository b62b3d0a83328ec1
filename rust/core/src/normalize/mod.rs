//! Stage 1: per-token normalisation (ASCII folding, then lowercasing), as Qdrant applies it.

mod ascii_fold;
mod ascii_fold_table;

use std::borrow::Cow;

pub use ascii_fold::fold_to_ascii;

/// Lowercase with Rust's full Unicode mapping (`Final_Sigma` included), computed per token as
/// Qdrant does. ASCII-lowercase tokens are returned borrowed.
#[inline]
pub fn lowercase(token: Cow<'_, str>) -> Cow<'_, str> {
    let bytes = token.as_bytes();
    if bytes.is_ascii() {
        if !bytes.iter().any(u8::is_ascii_uppercase) {
            return token;
        }
        let mut owned = token.into_owned();
        owned.make_ascii_lowercase();
        return Cow::Owned(owned);
    }
    let lowered = token.to_lowercase();
    if lowered == *token {
        token
    } else {
        Cow::Owned(lowered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercase_is_full_unicode() {
        assert_eq!(lowercase("HeLLo".into()), "hello");
        assert_eq!(lowercase("ΟΔΟΣ".into()), "οδος");
        assert_eq!(lowercase("İstanbul".into()), "i\u{307}stanbul");
        assert!(matches!(lowercase("plain".into()), Cow::Borrowed(_)));
    }
}

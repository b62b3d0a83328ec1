//! A text's fingerprint, which tells a store whether a document's text changed
//! (`bm25x.app.store.fingerprint` is the reference).

use std::fmt::Write as _;

use blake2::digest::consts::U12;
use blake2::{Blake2b, Digest};

/// A text's fingerprint: `BLAKE2b` with a 12-byte digest of its UTF-8, in lowercase hex.
pub fn fingerprint(text: &str) -> String {
    let digest = Blake2b::<U12>::digest(text.as_bytes());
    let mut out = String::with_capacity(2 * digest.len());
    for byte in digest {
        // Writing to a String cannot fail.
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_blake2b_of_twelve_bytes() {
        // hashlib.blake2b(b"", digest_size=12).hexdigest(), and of "abc"
        assert_eq!(fingerprint(""), "b8e1dda3ac0aa3820ad2990b");
        assert_eq!(fingerprint("abc"), "48b4f1f9042a2d5033b382b5");
    }
}

//! ASCII folding: Qdrant's `ascii_folding` option maps accented and compatibility characters to
//! ASCII (the Lucene `ASCIIFoldingFilter` behaviour). The table in `ascii_fold_table.rs` was derived
//! by probing qdrant-edge-py character by character (see `tools/gen_ascii_fold.py`).

use std::borrow::Cow;

use super::ascii_fold_table::FOLDS;

fn lookup(c: char) -> Option<&'static str> {
    FOLDS
        .binary_search_by_key(&c, |(from, _)| *from)
        .ok()
        .map(|i| FOLDS[i].1)
}

/// Fold every character that has an ASCII replacement; other characters are kept as they are.
pub fn fold_to_ascii(token: Cow<'_, str>) -> Cow<'_, str> {
    if token.is_ascii() {
        return token;
    }
    let Some(first) = token.char_indices().find(|(_, c)| lookup(*c).is_some()) else {
        return token;
    };
    let mut out = String::with_capacity(token.len());
    out.push_str(&token[..first.0]);
    for c in token[first.0..].chars() {
        match lookup(c) {
            Some(rep) => out.push_str(rep),
            None => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_ascii() {
        assert!(FOLDS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(FOLDS.iter().all(|(c, rep)| !c.is_ascii() && rep.is_ascii()));
    }

    #[test]
    fn folds_accents() {
        assert_eq!(fold_to_ascii("café".into()), "cafe");
        assert_eq!(fold_to_ascii("Ærøskøbing".into()), "AEroskobing");
        assert_eq!(fold_to_ascii("straße".into()), "strasse");
        assert_eq!(fold_to_ascii("日本".into()), "日本");
    }
}

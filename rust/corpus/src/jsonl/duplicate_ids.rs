//! The duplicate-id check of a whole corpus without a Python object per document: every id seen
//! so far, each with the line it was first on.

use std::collections::HashMap;

use super::fields::Fields;
use super::read::{each_document, Cursor};

/// The ids of a corpus seen so far, each with the line it was first on.
#[derive(Debug, Default)]
pub struct Ids {
    first: HashMap<String, u64>,
}

impl Ids {
    /// Record `id` on `line`; if it was seen before, the line it was first on (and the id is
    /// not copied).
    pub fn insert(&mut self, id: &str, line: u64) -> Option<u64> {
        if let Some(&first) = self.first.get(id) {
            return Some(first);
        }
        self.first.insert(id.to_owned(), line);
        None
    }

    pub fn len(&self) -> usize {
        self.first.len()
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_empty()
    }
}

/// A repeated id: `(line, id, line it was first on)`.
pub type Repeat = (u64, String, u64);

/// [`each_document`] recording every id in `ids`, stopping at the first repeated one.
pub fn check(
    buf: &[u8],
    start: usize,
    line: u64,
    at_eof: bool,
    fields: &Fields,
    ids: &mut Ids,
) -> (Cursor, Option<Repeat>) {
    let mut repeat = None;
    let cursor = each_document(buf, start, line, at_eof, fields, |doc| {
        let first = ids.insert(&doc.id, doc.line);
        if let Some(first) = first {
            repeat = Some((doc.line, doc.id.into_owned(), first));
        }
        first.is_none()
    });
    (cursor, repeat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_stops_at_the_first_repeated_id_and_keeps_the_ids_across_calls() {
        let fields = Fields::new(&[("text".into(), true)], &["id".into()], true);
        let mut ids = Ids::default();
        let buf = b"{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"b\",\"text\":\"x\"}\n";
        let (cursor, repeat) = check(buf, 0, 1, true, &fields, &mut ids);
        assert_eq!((cursor.next_line, repeat, ids.len()), (3, None, 2));
        let again =
            b"{\"text\":\"y\"}\n{\"id\":\"b\",\"text\":\"y\"}\n{\"id\":\"c\",\"text\":\"z\"}\n";
        let (cursor, repeat) = check(again, 0, 3, true, &fields, &mut ids);
        assert_eq!(repeat, Some((4, "b".into(), 2)));
        assert_eq!((cursor.end, cursor.next_line), (again.len() - 22, 5));
        assert_eq!(ids.insert("3", 9), Some(3)); // line 3's id is its line number
        assert_eq!(ids.insert("new", 9), None);
        assert!(!ids.is_empty());
    }
}

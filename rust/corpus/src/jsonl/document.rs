//! The document of one line, by the plain rules this fast path is sure of: a string or null text
//! field, a non-empty string or 64-bit integer id (else the line number, when asked). A line
//! that takes anything else is declined and left to the Python reader.

use std::borrow::Cow;

use super::fields::Fields;
use super::record::{self, Slot};

/// One document of a line, its strings borrowed from the line where they hold no escape.
pub struct Document<'a> {
    pub id: Cow<'a, str>,
    parts: Vec<Cow<'a, str>>,
    pub line: u64,
}

impl<'a> Document<'a> {
    /// The document of the line `text` (line number `line`), or None to decline it.
    pub(super) fn from_line(text: &'a [u8], line: u64, fields: &Fields) -> Option<Self> {
        // serde_json checks UTF-8 only in the strings it decodes, not in those it skips
        let text = std::str::from_utf8(text).ok()?;
        let slots = record::read(text, &fields.names)?;
        let mut parts = Vec::with_capacity(fields.text.len());
        let mut found = false;
        for &(i, counts) in &fields.text {
            match &slots[i] {
                None | Some(Slot::Null) => {}
                Some(Slot::Str(s)) => {
                    found |= counts;
                    if !s.is_empty() {
                        parts.push(s.clone());
                    }
                }
                Some(_) => return None,
            }
        }
        if !found {
            return None;
        }
        let id = match fields.ids.iter().find_map(|&i| slots[i].as_ref()) {
            Some(Slot::Str(s)) if !s.is_empty() => s.clone(),
            Some(Slot::Int(n)) => Cow::Owned(n.to_string()),
            None if fields.line_ids => Cow::Owned(line.to_string()),
            Some(_) | None => return None,
        };
        Some(Document { id, parts, line })
    }

    /// The text: the non-empty text fields joined with a space.
    pub fn text(&self) -> String {
        self.parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(id, text)` of `line` read as line 7, or None when it is declined.
    fn read(line: &[u8], fields: &Fields) -> Option<(String, String)> {
        Document::from_line(line, 7, fields).map(|d| (d.id.to_string(), d.text()))
    }

    fn doc(id: &str, text: &str) -> (String, String) {
        (id.into(), text.into())
    }

    #[test]
    fn texts_join_with_a_space_and_ids_fall_back_to_the_line() {
        let both = br#"{"_id":"a","title":"T","text":"x"}"#;
        assert_eq!(read(both, &Fields::beir()), Some(doc("a", "T x")));
        assert_eq!(
            read(br#"{"id":7,"title":"","text":""}"#, &Fields::beir()),
            Some(doc("7", ""))
        );
        assert_eq!(
            read(br#"{"text":"y","title":null}"#, &Fields::beir()),
            Some(doc("7", "y"))
        );
        // The first id field present is taken, even when a later one holds a string.
        assert_eq!(
            read(br#"{"_id":-2,"id":"b","text":"y"}"#, &Fields::beir()),
            Some(doc("-2", "y"))
        );
    }

    #[test]
    fn declines_what_it_is_not_sure_of() {
        for line in [
            r#"{"text": 5}"#,
            r#"{"title": "t"}"#,
            r#"{"text": "x", "id": 1.0}"#,
            r#"{"text": "x", "id": 123456789012345678901234567890}"#,
            r#"{"text": "x", "id": ""}"#,
            r#"{"text": "x", "id": null}"#,
            r#"{"text": "\ud800"}"#,
            r#"{"text": NaN}"#,
            "\u{feff}{\"text\": \"x\"}",
        ] {
            assert_eq!(read(line.as_bytes(), &Fields::beir()), None, "{line}");
        }
        // Not UTF-8, in a field that is skipped.
        assert_eq!(
            read(b"{\"text\":\"a\",\"x\":\"\xff\"}", &Fields::beir()),
            None
        );
    }

    #[test]
    fn a_missing_named_id_field_is_declined() {
        let named = Fields::new(&[("text".into(), true)], &["key".into()], false);
        assert_eq!(read(br#"{"text":"a"}"#, &named), None);
        assert_eq!(
            read(br#"{"text":"a","key":3}"#, &named),
            Some(doc("3", "a"))
        );
    }

    #[test]
    fn a_field_may_be_both_text_and_id() {
        let both = Fields::new(&[("x".into(), true)], &["x".into()], false);
        assert_eq!(read(br#"{"x":"k"}"#, &both), Some(doc("k", "k")));
    }
}

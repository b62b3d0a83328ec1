//! The fast path of bm25x's JSONL corpus reader: documents (id, text, line) out of a buffer of
//! JSONL bytes, parsed without Python.
//!
//! It accepts only the lines whose document it is sure of, and stops at the first line it is
//! not: a line that is not valid JSON to `serde_json`, not an object, or whose text fields or id
//! are anything but what the plain rules below take (a string or null text, a non-empty string
//! or 64-bit integer id). The Python reader then reads that one line with its own rules, which
//! decide everything this module declines (errors and their wording, NaN, integers beyond 64
//! bits, lone surrogates, Unicode blank lines) and are the reference: on every line accepted
//! here, both give the same document.
//!
//! Lines end at `\n`, `\r\n` or a lone `\r`, as in Python's universal newlines, so line numbers
//! agree with the Python reader's.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// Which fields make a document, as the corpus reader was asked.
#[derive(Clone, Debug)]
pub struct Fields {
    /// The distinct field names read from a record (text and id fields); others are skipped.
    names: Vec<String>,
    /// Text fields as indices into `names`, in joining order, each with whether a string there
    /// counts as the document having a text.
    text: Vec<(usize, bool)>,
    /// Id fields as indices into `names`, the first present one taken.
    ids: Vec<usize>,
    /// With no id field present: the line number is the id (else the line is declined).
    line_ids: bool,
}

impl Fields {
    /// `text`: the text fields in joining order, each with whether a string there counts as
    /// the document having a text; `ids`: the id fields in order of preference; `line_ids`:
    /// whether a record without any id field takes its line number as id.
    pub fn new(text: &[(String, bool)], ids: &[String], line_ids: bool) -> Self {
        let mut names: Vec<String> = Vec::new();
        let mut slot = |name: &String| {
            names.iter().position(|n| n == name).unwrap_or_else(|| {
                names.push(name.clone());
                names.len() - 1
            })
        };
        let text = text.iter().map(|(n, counts)| (slot(n), *counts)).collect();
        let ids = ids.iter().map(&mut slot).collect();
        Fields {
            names,
            text,
            ids,
            line_ids,
        }
    }
}

/// One document of a line, its strings borrowed from the line where they hold no escape.
pub struct Document<'a> {
    pub id: Cow<'a, str>,
    parts: Vec<Cow<'a, str>>,
    pub line: u64,
}

impl Document<'_> {
    /// The text: the non-empty text fields joined with a space.
    pub fn text(&self) -> String {
        self.parts.join(" ")
    }
}

/// Where reading a buffer stopped.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Bytes of the buffer consumed: whole lines, up to and including a declined one.
    pub end: usize,
    /// The line number of the next line after `end`.
    pub next_line: u64,
    /// The first line left to the caller: its number and its byte range (without the line
    /// end). Reading stopped after it.
    pub declined: Option<(u64, usize, usize)>,
}

/// What [`parse`] read from a buffer.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The documents, in file order: `(id, text, line)`.
    pub docs: Vec<(String, String, u64)>,
    pub cursor: Cursor,
}

/// Read whole lines of `buf` from `start`, the first being line `line`, handing each document
/// to `on_doc`, until the buffer ends, a line is declined, or `on_doc` returns
/// false. Without `at_eof`, a last line with no line end (or ending in `\r`, which a `\n` in
/// the next buffer may complete) is left for the next call.
pub fn each_document(
    buf: &[u8],
    start: usize,
    line: u64,
    at_eof: bool,
    fields: &Fields,
    mut on_doc: impl FnMut(Document<'_>) -> bool,
) -> Cursor {
    let mut out = Cursor {
        end: start,
        next_line: line,
        declined: None,
    };
    let mut at = start;
    while at < buf.len() {
        let Some((stop, next)) = line_end(buf, at, at_eof) else {
            break;
        };
        let n = out.next_line;
        out.next_line += 1;
        out.end = next;
        let text = &buf[at..stop];
        at = next;
        if is_blank(text) {
            continue;
        }
        if let Some(doc) = document(text, n, fields) {
            if !on_doc(doc) {
                break;
            }
        } else {
            out.declined = Some((n, stop - text.len(), stop));
            break;
        }
    }
    out
}

/// [`each_document`] collecting the documents, at most `max_docs` of them.
pub fn parse(
    buf: &[u8],
    start: usize,
    line: u64,
    at_eof: bool,
    max_docs: usize,
    fields: &Fields,
) -> Parsed {
    let mut docs = Vec::new();
    if max_docs == 0 {
        let cursor = Cursor {
            end: start,
            next_line: line,
            declined: None,
        };
        return Parsed { docs, cursor };
    }
    let cursor = each_document(buf, start, line, at_eof, fields, |doc| {
        let text = doc.text();
        docs.push((doc.id.into_owned(), text, doc.line));
        docs.len() < max_docs
    });
    Parsed { docs, cursor }
}

/// The ids of a corpus seen so far, each with the line it was first on: the duplicate check of
/// a whole file without a Python object per document.
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

/// `(end of the line's content, start of the next line)` of the line starting at `at`, or None
/// when the line may continue in the next buffer.
fn line_end(buf: &[u8], at: usize, at_eof: bool) -> Option<(usize, usize)> {
    match memchr::memchr2(b'\n', b'\r', &buf[at..]) {
        Some(i) => {
            let stop = at + i;
            if buf[stop] == b'\n' {
                Some((stop, stop + 1))
            } else if stop + 1 < buf.len() {
                Some((stop, stop + 1 + usize::from(buf[stop + 1] == b'\n')))
            } else if at_eof {
                Some((stop, stop + 1))
            } else {
                None // "\r" last: a "\n" may follow in the next buffer
            }
        }
        None if at_eof => Some((buf.len(), buf.len())),
        None => None,
    }
}

/// Empty or only ASCII blanks: a line Python's reader skips too (it skips every line of
/// Unicode white space; other blank lines are declined and left to it).
fn is_blank(text: &[u8]) -> bool {
    text.iter().all(|b| matches!(b, b' ' | b'\t' | 0x0b | 0x0c))
}

/// The document of one line, or None to decline it.
fn document<'a>(text: &'a [u8], line: u64, fields: &Fields) -> Option<Document<'a>> {
    // serde_json checks UTF-8 only in the strings it decodes, not in those it skips
    let text = std::str::from_utf8(text).ok()?;
    let mut de = serde_json::Deserializer::from_str(text);
    let slots = Record(&fields.names).deserialize(&mut de).ok()?;
    de.end().ok()?;
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

/// A field's value, as far as a document needs it.
#[derive(Clone)]
enum Slot<'a> {
    Null,
    Str(Cow<'a, str>),
    /// An integer that fits 64 bits (signed or not); larger ones arrive as floats: `Other`.
    Int(i128),
    Other,
}

/// A record (a JSON object): the values of the fields named, by index (the last of repeated
/// keys wins, as in Python's json); every other value is checked as JSON and skipped
/// ([`Skip`]).
struct Record<'f>(&'f [String]);

impl<'de> DeserializeSeed<'de> for Record<'_> {
    type Value = Vec<Option<Slot<'de>>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Record<'_> {
    type Value = Vec<Option<Slot<'de>>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut slots = vec![None; self.0.len()];
        while let Some(Key(key)) = map.next_key()? {
            if let Some(i) = self.0.iter().position(|n| *n == key) {
                slots[i] = Some(map.next_value()?);
            } else {
                map.next_value::<Skip>()?;
            }
        }
        Ok(slots)
    }
}

/// An object key, borrowed from the line unless it holds an escape.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor).map(Key)
    }
}

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

impl<'de> Deserialize<'de> for Slot<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SlotVisitor)
    }
}

struct SlotVisitor;

impl<'de> Visitor<'de> for SlotVisitor {
    type Value = Slot<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Slot::Null)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Slot::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Slot::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Slot::Int(i128::from(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Slot::Int(i128::from(v)))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Slot::Other)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Slot::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Slot::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Slot::Other)
    }
}

/// A value parsed and dropped. Not `serde::de::IgnoredAny`: `serde_json` skips those without
/// its nesting limit, and a line nested deeper than Python's json can read must be declined
/// (Python's reader reports it); parsed as any value, nesting past 128 levels is an error.
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SkipVisitor)
    }
}

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields {
        Fields::new(
            &[("title".into(), false), ("text".into(), true)],
            &["_id".into(), "id".into()],
            true,
        )
    }

    fn docs(buf: &str) -> Parsed {
        parse(buf.as_bytes(), 0, 1, true, usize::MAX, &fields())
    }

    #[test]
    fn reads_documents_with_their_lines() {
        let buf = "{\"_id\":\"a\",\"title\":\"T\",\"text\":\"x\"}\n\n{\"id\":7,\"text\":\"\"}\r\n{\"text\":\"y\"}";
        let p = docs(buf);
        assert_eq!(
            p.docs,
            vec![
                ("a".into(), "T x".into(), 1),
                ("7".into(), String::new(), 3),
                ("4".into(), "y".into(), 4)
            ]
        );
        assert_eq!(
            p.cursor,
            Cursor {
                end: buf.len(),
                next_line: 5,
                declined: None
            }
        );
    }

    #[test]
    fn declines_what_it_is_not_sure_of_and_stops_there() {
        for line in [
            "[1]",
            "{\"text\": 5}",
            "{\"title\": \"t\"}",
            "{\"text\": \"x\", \"id\": 1.0}",
            "{\"text\": \"x\", \"id\": 123456789012345678901234567890}",
            "{\"text\": \"x\", \"id\": \"\"}",
            "{\"text\": \"\\ud800\"}",
            "{\"text\": NaN}",
            "{\"text\": \"x\"} x",
            "\u{feff}{\"text\": \"x\"}",
            "\u{a0}",
        ] {
            let p = docs(&format!("{{\"text\":\"a\"}}\n{line}\n{{\"text\":\"b\"}}\n"));
            assert_eq!(p.docs.len(), 1, "{line}");
            assert_eq!(p.cursor.declined, Some((2, 13, 13 + line.len())), "{line}");
            assert_eq!(
                (p.cursor.end, p.cursor.next_line),
                (14 + line.len(), 3),
                "{line}"
            );
        }
    }

    #[test]
    fn a_lone_cr_ends_a_line_and_a_split_crlf_waits_for_the_next_buffer() {
        let p = docs("{\"text\":\"a\"}\r{\"text\":\"b\"}");
        assert_eq!(p.docs.iter().map(|d| d.2).collect::<Vec<_>>(), vec![1, 2]);
        let buf = b"{\"text\":\"a\"}\r";
        let waiting = parse(buf, 0, 1, false, usize::MAX, &fields());
        assert_eq!((waiting.docs.len(), waiting.cursor.end), (0, 0));
        let tail = parse(b"{\"text\":\"a\"}", 0, 1, false, usize::MAX, &fields());
        assert_eq!((tail.docs.len(), tail.cursor.end), (0, 0));
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_as_python_does() {
        let p = docs("{\"text\":\"a\",\"text\":\"b\",\"id\":1,\"id\":\"z\"}\n");
        assert_eq!(p.docs, vec![("z".into(), "b".into(), 1)]);
    }

    #[test]
    fn max_docs_bounds_a_call_and_the_next_call_resumes() {
        let buf = b"{\"text\":\"a\"}\n{\"text\":\"b\"}\n";
        let first = parse(buf, 0, 1, true, 1, &fields());
        assert_eq!(first.docs.len(), 1);
        let second = parse(
            buf,
            first.cursor.end,
            first.cursor.next_line,
            true,
            1,
            &fields(),
        );
        assert_eq!(second.docs, vec![("2".into(), "b".into(), 2)]);
    }

    #[test]
    fn a_missing_named_id_field_is_declined() {
        let named = Fields::new(&[("text".into(), true)], &["key".into()], false);
        let p = parse(b"{\"text\":\"a\"}\n", 0, 1, true, usize::MAX, &named);
        assert_eq!(p.cursor.declined, Some((1, 0, 12)));
    }

    #[test]
    fn check_stops_at_the_first_repeated_id_and_keeps_the_ids_across_calls() {
        let mut ids = Ids::default();
        let buf = b"{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"b\",\"text\":\"x\"}\n";
        let (cursor, repeat) = check(buf, 0, 1, true, &fields(), &mut ids);
        assert_eq!((cursor.next_line, repeat, ids.len()), (3, None, 2));
        let again =
            b"{\"text\":\"y\"}\n{\"id\":\"b\",\"text\":\"y\"}\n{\"id\":\"c\",\"text\":\"z\"}\n";
        let (cursor, repeat) = check(again, 0, 3, true, &fields(), &mut ids);
        assert_eq!(repeat, Some((4, "b".into(), 2)));
        assert_eq!((cursor.end, cursor.next_line), (again.len() - 22, 5));
        assert_eq!(ids.insert("3", 9), Some(3)); // line 3's id is its line number
        assert_eq!(ids.insert("new", 9), None);
    }

    #[test]
    fn zero_max_docs_reads_nothing() {
        let p = parse(b"{\"text\":\"a\"}\n", 0, 1, true, 0, &fields());
        assert_eq!((p.docs.len(), p.cursor.end), (0, 0));
    }

    #[test]
    fn escaped_keys_name_their_field_and_skipped_values_are_still_checked() {
        let p = docs("{\"te\\u0078t\":\"a\\n\",\"x\":[1,{\"y\":\"\\u00e9\"}]}\n");
        assert_eq!(p.docs, vec![("1".into(), "a\n".into(), 1)]);
        for bad in [
            &b"{\"text\":\"a\",\"x\":\"\xff\"}"[..], // not UTF-8, in a skipped field
            b"{\"text\":\"a\",\"x\":\"\x01\"}",      // a raw control character
            b"{\"text\":\"a\",\"x\":\"\\q\"}",       // an invalid escape
            b"{\"text\":\"a\",\"x\":01}",            // a leading zero
            b"{\"text\":\"a\",\"x\":\"\\ud800\"}",   // a lone surrogate (Python takes it)
        ] {
            let p = parse(bad, 0, 1, true, usize::MAX, &fields());
            assert_eq!(p.cursor.declined, Some((1, 0, bad.len())), "{bad:?}");
        }
    }

    #[test]
    fn a_field_may_be_both_text_and_id() {
        let both = Fields::new(&[("x".into(), true)], &["x".into()], false);
        let p = parse(b"{\"x\":\"k\"}", 0, 1, true, usize::MAX, &both);
        assert_eq!(p.docs, vec![("k".into(), "k".into(), 1)]);
    }

    #[test]
    fn nesting_deeper_than_128_levels_is_declined() {
        for depth in [120, 200, 100_000] {
            let line = format!(
                "{{\"text\":\"a\",\"x\":{}{}}}",
                "[".repeat(depth),
                "]".repeat(depth)
            );
            let p = docs(&line);
            assert_eq!(p.docs.len(), usize::from(depth < 128), "{depth}");
        }
    }
}

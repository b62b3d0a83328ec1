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

use std::collections::hash_map::{Entry, HashMap};

use serde_json::{Map, Value};

/// Which fields make a document, as the corpus reader was asked.
#[derive(Clone, Debug)]
pub struct Fields {
    /// Text fields, joined with a space in this order (missing, null and empty ones skipped),
    /// each with whether a string there counts as the document having a text.
    pub text: Vec<(String, bool)>,
    /// Id fields, the first present one taken.
    pub ids: Vec<String>,
    /// With no id field present: the line number is the id (else the line is declined).
    pub line_ids: bool,
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
/// to `on_doc(id, text, line)`, until the buffer ends, a line is declined, or `on_doc` returns
/// false. Without `at_eof`, a last line with no line end (or ending in `\r`, which a `\n` in
/// the next buffer may complete) is left for the next call.
pub fn each_document(
    buf: &[u8],
    start: usize,
    line: u64,
    at_eof: bool,
    fields: &Fields,
    mut on_doc: impl FnMut(String, String, u64) -> bool,
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
        if let Some((id, body)) = document(text, n, fields) {
            if !on_doc(id, body, n) {
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
    let cursor = each_document(buf, start, line, at_eof, fields, |id, text, n| {
        docs.push((id, text, n));
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
    /// Record `id` on `line`; if it was seen before, the line it was first on.
    pub fn insert(&mut self, id: String, line: u64) -> Option<u64> {
        match self.first.entry(id) {
            Entry::Occupied(e) => Some(*e.get()),
            Entry::Vacant(e) => {
                e.insert(line);
                None
            }
        }
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
    let cursor = each_document(buf, start, line, at_eof, fields, |id, _, n| {
        if let Some(&first) = ids.first.get(&id) {
            repeat = Some((n, id, first));
            false
        } else {
            ids.first.insert(id, n);
            true
        }
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
fn document(text: &[u8], line: u64, fields: &Fields) -> Option<(String, String)> {
    let record: Map<String, Value> = serde_json::from_slice(text).ok()?;
    let mut parts: Vec<&str> = Vec::with_capacity(fields.text.len());
    let mut found = false;
    for (name, counts) in &fields.text {
        match record.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                found |= *counts;
                if !s.is_empty() {
                    parts.push(s);
                }
            }
            Some(_) => return None,
        }
    }
    if !found {
        return None;
    }
    let id = match fields.ids.iter().find_map(|f| record.get(f)) {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
        None if fields.line_ids => line.to_string(),
        Some(_) | None => return None,
    };
    Some((id, parts.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields {
        Fields {
            text: vec![("title".into(), false), ("text".into(), true)],
            ids: vec!["_id".into(), "id".into()],
            line_ids: true,
        }
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
        let named = Fields {
            ids: vec!["key".into()],
            line_ids: false,
            ..fields()
        };
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
        assert_eq!(ids.insert("3".into(), 9), Some(3)); // line 3's id is its line number
        assert_eq!(ids.insert("new".into(), 9), None);
    }

    #[test]
    fn zero_max_docs_reads_nothing() {
        let p = parse(b"{\"text\":\"a\"}\n", 0, 1, true, 0, &fields());
        assert_eq!((p.docs.len(), p.cursor.end), (0, 0));
    }
}

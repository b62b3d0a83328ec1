//! Reading a buffer of JSONL line by line: each line's document handed on, stopping at the first
//! declined line, with where to resume. [`parse`] collects the documents in the shape the caller
//! asks for ([`Collect`]).

use super::document::Document;
use super::fields::Fields;
use super::lines::{is_blank, line_end};

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
        if let Some(doc) = Document::from_line(text, n, fields) {
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

/// A shape [`parse`] collects documents in, so that one reading loop serves every caller.
pub trait Collect: Default {
    /// Keep `doc`, the next document in file order.
    fn add(&mut self, doc: Document<'_>);
}

/// Documents as `(id, text, line)`, in file order.
pub type Rows = Vec<(String, String, u64)>;

impl Collect for Rows {
    fn add(&mut self, doc: Document<'_>) {
        let text = doc.text();
        self.push((doc.id.into_owned(), text, doc.line));
    }
}

/// Documents as two lists in file order, ids and texts (what an ingest writes needs no line
/// numbers).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Columns {
    pub ids: Vec<String>,
    pub texts: Vec<String>,
}

impl Collect for Columns {
    fn add(&mut self, doc: Document<'_>) {
        self.texts.push(doc.text());
        self.ids.push(doc.id.into_owned());
    }
}

/// [`each_document`] collecting every document it reads, in the shape `C`.
pub fn parse<C: Collect>(
    buf: &[u8],
    start: usize,
    line: u64,
    at_eof: bool,
    fields: &Fields,
) -> (C, Cursor) {
    let mut docs = C::default();
    let cursor = each_document(buf, start, line, at_eof, fields, |doc| {
        docs.add(doc);
        true
    });
    (docs, cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(buf: &[u8], at_eof: bool) -> (Rows, Cursor) {
        parse(buf, 0, 1, at_eof, &Fields::beir())
    }

    #[test]
    fn reads_documents_with_their_lines() {
        let buf = "{\"_id\":\"a\",\"title\":\"T\",\"text\":\"x\"}\n\n{\"id\":7,\"text\":\"\"}\r\n \t\n{\"text\":\"y\"}";
        let (docs, cursor) = rows(buf.as_bytes(), true);
        assert_eq!(
            docs,
            vec![
                ("a".into(), "T x".into(), 1),
                ("7".into(), String::new(), 3),
                ("5".into(), "y".into(), 5)
            ]
        );
        let all = Cursor {
            end: buf.len(),
            next_line: 6,
            declined: None,
        };
        assert_eq!(cursor, all);
        let (columns, cursor) = parse::<Columns>(buf.as_bytes(), 0, 1, true, &Fields::beir());
        assert_eq!(columns.ids, ["a", "7", "5"]);
        assert_eq!(columns.texts, ["T x", "", "y"]);
        assert_eq!(cursor, all);
    }

    #[test]
    fn stops_after_the_first_declined_line() {
        for line in ["[1]", "{\"text\": 5}", "{\"text\": \"x\"} x", "\u{a0}"] {
            let buf = format!("{{\"text\":\"a\"}}\n{line}\n{{\"text\":\"b\"}}\n");
            let (docs, cursor) = rows(buf.as_bytes(), true);
            assert_eq!(docs.len(), 1, "{line}");
            let declined = Some((2, 13, 13 + line.len()));
            let after = 14 + line.len();
            let expected = Cursor {
                end: after,
                next_line: 3,
                declined,
            };
            assert_eq!(cursor, expected, "{line}");
        }
    }

    #[test]
    fn a_lone_cr_ends_a_line_and_a_split_crlf_waits_for_the_next_buffer() {
        let (docs, _) = rows(b"{\"text\":\"a\"}\r{\"text\":\"b\"}", true);
        assert_eq!(docs.iter().map(|d| d.2).collect::<Vec<_>>(), vec![1, 2]);
        let (waiting, cursor) = rows(b"{\"text\":\"a\"}\r", false);
        assert_eq!((waiting.len(), cursor.end, cursor.next_line), (0, 0, 1));
        let (tail, cursor) = rows(b"{\"text\":\"a\"}", false);
        assert_eq!((tail.len(), cursor.end), (0, 0));
    }

    #[test]
    fn a_caller_may_stop_early_and_the_next_call_resumes() {
        let buf = b"{\"text\":\"a\"}\n{\"text\":\"b\"}\n";
        let mut seen = Vec::new();
        let first = each_document(buf, 0, 1, true, &Fields::beir(), |doc| {
            seen.push(doc.text());
            false
        });
        assert_eq!((seen.len(), first.end, first.next_line), (1, 13, 2));
        let (rest, _) = parse::<Rows>(buf, first.end, first.next_line, true, &Fields::beir());
        assert_eq!(rest, vec![("2".into(), "b".into(), 2)]);
    }

    #[test]
    fn reading_from_the_end_reads_nothing() {
        let buf = b"{\"text\":\"a\"}\n";
        let (docs, cursor) = parse::<Rows>(buf, buf.len(), 4, true, &Fields::beir());
        let unmoved = Cursor {
            end: buf.len(),
            next_line: 4,
            declined: None,
        };
        assert_eq!((docs.len(), cursor), (0, unmoved));
    }
}

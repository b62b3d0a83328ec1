//! Where a line of a buffer ends, and which lines are blank. Lines end at `\n`, `\r\n` or a lone
//! `\r`, as in Python's universal newlines, so line numbers agree with the Python reader's.

/// `(end of the line's content, start of the next line)` of the line starting at `at`, or None
/// when the line may continue in the next buffer.
pub(super) fn line_end(buf: &[u8], at: usize, at_eof: bool) -> Option<(usize, usize)> {
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
pub(super) fn is_blank(text: &[u8]) -> bool {
    text.iter().all(|b| matches!(b, b' ' | b'\t' | 0x0b | 0x0c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_line_end_python_knows_ends_a_line() {
        let buf = b"a\nb\r\nc\rd";
        assert_eq!(line_end(buf, 0, true), Some((1, 2)));
        assert_eq!(line_end(buf, 2, true), Some((3, 5)));
        assert_eq!(line_end(buf, 5, true), Some((6, 7)));
        assert_eq!(line_end(buf, 7, true), Some((8, 8)));
        // Without the end of the input, a last line may go on in the next buffer.
        assert_eq!(line_end(buf, 7, false), None);
        assert_eq!(line_end(b"a\r", 0, false), None);
        assert_eq!(line_end(b"a\r", 0, true), Some((1, 2)));
    }

    #[test]
    fn only_ascii_blanks_are_blank() {
        assert!(is_blank(b""));
        assert!(is_blank(b" \t\x0b\x0c"));
        assert!(!is_blank("\u{a0}".as_bytes()));
        assert!(!is_blank(b" x"));
    }
}

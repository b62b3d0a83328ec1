//! Maximal runs of "word" chars, the segmentation under the word, prefix and fastembed
//! tokenizers. ASCII bytes are classified by table; other chars are decoded and passed to the
//! tokenizer's predicate. Only non-empty runs are yielded.

/// ASCII letters and digits.
pub const ASCII_ALNUM: [bool; 128] = ascii_table(false);
/// ASCII letters, digits and `_` (Python's `\w` on ASCII).
pub const ASCII_ALNUM_UNDERSCORE: [bool; 128] = ascii_table(true);

const fn ascii_table(underscore: bool) -> [bool; 128] {
    let mut t = [false; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || (underscore && c == b'_');
        b += 1;
    }
    t
}

pub struct Runs<'a, P> {
    text: &'a str,
    pos: usize,
    ascii: &'static [bool; 128],
    other: P,
}

impl<'a, P: Fn(char) -> bool> Runs<'a, P> {
    pub fn new(text: &'a str, ascii: &'static [bool; 128], other: P) -> Self {
        Runs {
            text,
            pos: 0,
            ascii,
            other,
        }
    }

    /// Whether the char at `pos` is a word char, and its length in bytes.
    #[inline]
    fn classify(&self, pos: usize) -> (bool, usize) {
        let b = self.text.as_bytes()[pos];
        if b < 0x80 {
            (self.ascii[usize::from(b)], 1)
        } else {
            let c = self.text[pos..].chars().next().unwrap_or('\u{FFFD}');
            ((self.other)(c), c.len_utf8())
        }
    }
}

impl<'a, P: Fn(char) -> bool> Iterator for Runs<'a, P> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        let len = self.text.len();
        while self.pos < len {
            let (word, width) = self.classify(self.pos);
            if word {
                break;
            }
            self.pos += width;
        }
        if self.pos >= len {
            return None;
        }
        let start = self.pos;
        while self.pos < len {
            let (word, width) = self.classify(self.pos);
            if !word {
                break;
            }
            self.pos += width;
        }
        Some(&self.text[start..self.pos])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_str_split_without_empties() {
        let texts = [
            "",
            "a",
            "  a  b ",
            "héllo, wörld_x!",
            "日本語 テキスト",
            "__",
            "a\u{301}b",
        ];
        for t in texts {
            let want: Vec<&str> = t
                .split(|c: char| !c.is_alphanumeric())
                .filter(|s| !s.is_empty())
                .collect();
            let got: Vec<&str> = Runs::new(t, &ASCII_ALNUM, char::is_alphanumeric).collect();
            assert_eq!(got, want, "{t:?}");
        }
        let got: Vec<&str> = Runs::new("a_b c", &ASCII_ALNUM_UNDERSCORE, |_| false).collect();
        assert_eq!(got, vec!["a_b", "c"]);
    }
}

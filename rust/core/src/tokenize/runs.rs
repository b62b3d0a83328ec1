//! Maximal runs of "word" chars, the segmentation under the word, prefix and pyword (the
//! fastembed flavour's) tokenizers. ASCII bytes are classified by table; other chars are decoded
//! and passed to the tokenizer's predicate. Only non-empty runs are yielded.

/// ASCII letters and digits.
pub const ASCII_ALNUM: [bool; 128] = ascii_table(false);
/// ASCII letters, digits and `_` (Python's `\w` on ASCII).
pub const ASCII_ALNUM_UNDERSCORE: [bool; 128] = ascii_table(true);

// `b < 128`, so it fits u8 (`u8::try_from` is not const).
#[allow(clippy::cast_possible_truncation)]
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

/// Bit masks of one window of up to 64 bytes: bit `i` describes byte `base + i`.
#[derive(Clone, Copy)]
struct Window {
    base: usize,
    /// One past the window's last byte (`base + 64`, or the end of the text).
    end: usize,
    /// ASCII word bytes.
    word: u64,
    /// Non-ASCII bytes (classified one char at a time by the tokenizer's predicate).
    high: u64,
}

/// Maximal runs of word chars. ASCII is classified 64 bytes at a time into bit masks (SSE2 on
/// x86_64, which every x86_64 CPU has; a table elsewhere), so finding the next boundary is a
/// count of trailing zeros instead of a loop over bytes.
pub struct Runs<'a, P> {
    text: &'a str,
    pos: usize,
    ascii: &'static [bool; 128],
    underscore: bool,
    other: P,
    window: Window,
}

impl<'a, P: Fn(char) -> bool> Runs<'a, P> {
    pub fn new(text: &'a str, ascii: &'static [bool; 128], other: P) -> Self {
        let underscore = ascii[usize::from(b'_')];
        debug_assert!(
            *ascii == ascii_table(underscore),
            "Runs supports the two ASCII tables of this module"
        );
        Runs {
            text,
            pos: 0,
            ascii,
            underscore,
            other,
            window: Window {
                base: 0,
                end: 0,
                word: 0,
                high: 0,
            },
        }
    }

    /// Whether the char starting at byte `pos` (non-ASCII) is a word char, and its length.
    #[inline]
    fn classify_char(&self, pos: usize) -> (bool, usize) {
        let c = self.text[pos..].chars().next().unwrap_or('\u{FFFD}');
        ((self.other)(c), c.len_utf8())
    }

    /// The masks of the window that holds `pos` (`pos < text.len()`).
    #[inline(always)]
    fn window_at(&mut self, pos: usize) -> Window {
        if pos >= self.window.end {
            self.window = self.fill(pos);
        }
        self.window
    }

    fn fill(&self, base: usize) -> Window {
        let bytes = &self.text.as_bytes()[base..];
        if let Some(block) = bytes.first_chunk::<64>() {
            let (word, high) = masks64(block, self.underscore);
            return Window {
                base,
                end: base + 64,
                word,
                high,
            };
        }
        let (mut word, mut high) = (0u64, 0u64);
        for (i, &b) in bytes.iter().enumerate() {
            if b >= 0x80 {
                high |= 1 << i;
            } else if self.ascii[usize::from(b)] {
                word |= 1 << i;
            }
        }
        Window {
            base,
            end: base + bytes.len(),
            word,
            high,
        }
    }

    /// Advance `pos` to the first byte at or after it whose bit is set in `interesting(window)`
    /// (within the window's bytes), or to the end of the text; returns whether one was found.
    #[inline(always)]
    fn seek(&mut self, interesting: impl Fn(&Window) -> u64) -> bool {
        let len = self.text.len();
        while self.pos < len {
            let w = self.window_at(self.pos);
            let span = w.end - w.base;
            let valid = if span == 64 { !0 } else { (1u64 << span) - 1 };
            let m = (interesting(&w) & valid) >> (self.pos - w.base);
            if m != 0 {
                self.pos += m.trailing_zeros() as usize;
                return true;
            }
            self.pos = w.end;
        }
        false
    }

    #[inline(always)]
    fn is_high(&self, pos: usize) -> bool {
        self.text.as_bytes()[pos] >= 0x80
    }
}

/// ASCII word-byte and non-ASCII masks of 64 bytes.
#[inline]
fn masks64(block: &[u8; 64], underscore: bool) -> (u64, u64) {
    let (mut word, mut high) = (0u64, 0u64);
    for (k, chunk) in block.chunks_exact(16).enumerate() {
        let chunk: &[u8; 16] = chunk.try_into().expect("16 bytes");
        let (w, h) = masks16(chunk, underscore);
        word |= u64::from(w) << (16 * k);
        high |= u64::from(h) << (16 * k);
    }
    (word, high)
}

#[cfg(target_arch = "x86_64")]
// SSE2 intrinsics: the i8 casts reinterpret byte constants for signed lanes, a 16-lane
// movemask fits u16, and the intrinsics are many and used by their own names.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::wildcard_imports
)]
#[inline]
fn masks16(chunk: &[u8; 16], underscore: bool) -> (u16, u16) {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86_64 baseline; the load is unaligned and reads exactly the
    // 16 bytes of `chunk`.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast());
        // x in [lo, lo + n) <=> (x - lo) mod 256 < n, an unsigned compare done as a signed one
        // after adding 0x80: (x + 0x80 - lo) as i8 < n - 128.
        let in_range = |x: __m128i, lo: u8, n: u8| {
            let shifted = _mm_add_epi8(x, _mm_set1_epi8(0x80u8.wrapping_sub(lo) as i8));
            _mm_cmplt_epi8(shifted, _mm_set1_epi8(n.wrapping_sub(128) as i8))
        };
        let digit = in_range(v, b'0', 10);
        // Setting bit 5 maps A-Z onto a-z and nothing else onto a-z.
        let letter = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', 26);
        let mut word = _mm_or_si128(digit, letter);
        if underscore {
            word = _mm_or_si128(word, _mm_cmpeq_epi8(v, _mm_set1_epi8(b'_' as i8)));
        }
        (_mm_movemask_epi8(word) as u16, _mm_movemask_epi8(v) as u16)
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn masks16(chunk: &[u8; 16], underscore: bool) -> (u16, u16) {
    let table = if underscore {
        &ASCII_ALNUM_UNDERSCORE
    } else {
        &ASCII_ALNUM
    };
    let (mut word, mut high) = (0u16, 0u16);
    for (i, &b) in chunk.iter().enumerate() {
        if b >= 0x80 {
            high |= 1 << i;
        } else if table[usize::from(b)] {
            word |= 1 << i;
        }
    }
    (word, high)
}

impl<'a, P: Fn(char) -> bool> Iterator for Runs<'a, P> {
    type Item = &'a str;

    // Inlined into the caller's loop, so the splitter's state stays in registers.
    #[inline(always)]
    fn next(&mut self) -> Option<&'a str> {
        // Skip to the first word char: an ASCII word byte, or a non-ASCII char that is one.
        loop {
            if !self.seek(|w| w.word | w.high) {
                return None;
            }
            if !self.is_high(self.pos) {
                break;
            }
            let (word, width) = self.classify_char(self.pos);
            if word {
                break;
            }
            self.pos += width;
        }
        let start = self.pos;
        // Extend the run up to the first char that is not a word char.
        while self.seek(|w| !w.word | w.high) && self.is_high(self.pos) {
            let (word, width) = self.classify_char(self.pos);
            if !word {
                break;
            }
            self.pos += width;
        }
        Some(&self.text[start..self.pos])
    }
}

#[cfg(test)]
// A test's pseudo-random index, reduced below the slice length first.
#[allow(clippy::cast_possible_truncation)]
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

    /// The bit-mask splitter against a plain char-by-char split, on texts long enough to cross
    /// many 64-byte windows, with every ASCII byte and multi-byte chars at every offset.
    #[test]
    fn masks_agree_with_char_by_char_split_across_windows() {
        let pieces = [
            "a",
            "Z",
            "0",
            "9",
            "_",
            " ",
            "-",
            "@",
            "[",
            "`",
            "{",
            "/",
            ":",
            "\u{7f}",
            "é",
            "日",
            "\u{301}",
            "\u{1F600}",
            "ab12",
            "__x",
            "\n",
            "ⓐ",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for round in 0..400 {
            let mut t = String::new();
            let n = 1 + round % 200;
            for _ in 0..n {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                t.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            for b in 0u8..128 {
                if round == 0 {
                    t.push(char::from(b));
                }
            }
            for (table, underscore) in [(&ASCII_ALNUM, false), (&ASCII_ALNUM_UNDERSCORE, true)] {
                let is_word = |c: char| c.is_alphanumeric() || (underscore && c == '_');
                let want: Vec<&str> = t
                    .split(|c: char| !is_word(c))
                    .filter(|s| !s.is_empty())
                    .collect();
                let got: Vec<&str> = Runs::new(&t, table, is_word).collect();
                assert_eq!(got, want, "{t:?}");
            }
        }
    }
}

//! Stage 6: the BM25 term-frequency weight of a token that occurs `n` times in a document of
//! `doc_len` tokens. The two references round differently, so each has its own function; both
//! return the f32 that the reference would store.

/// BM25 parameters. `options` validates them as Qdrant does before they get here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub k: f64,
    pub b: f64,
    pub avg_len: f64,
}

impl Default for Params {
    /// Qdrant's and fastembed's defaults.
    fn default() -> Self {
        Params {
            k: 1.2,
            b: 0.75,
            avg_len: 256.0,
        }
    }
}

/// Qdrant: f64 with a fused multiply-add in the denominator, then rounded to f32.
// The casts are the reference's own arithmetic (`doc_len as f64`, the f32 it stores); a
// document has far fewer than 2^53 tokens, so `doc_len` converts exactly.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
#[inline]
pub fn qdrant(n: u32, doc_len: usize, p: &Params) -> f32 {
    let n = f64::from(n);
    let x = 1.0 - p.b + p.b * doc_len as f64 / p.avg_len;
    let tf = n * (p.k + 1.0);
    (tf / p.k.mul_add(x, n)) as f32
}

/// fastembed: Python floats, separate multiply and add (no FMA); rounded to f32 on output.
// As in `qdrant`: the reference's own casts, exact for any real document length.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
#[inline]
pub fn fastembed(n: u32, doc_len: usize, p: &Params) -> f32 {
    fastembed_f64(n, doc_len, p) as f32
}

/// fastembed's weight as its Python code leaves it (a float64), operations in its order:
/// `n * (k + 1) / (n + k * (1 - b + b * doc_len / avg_len))`.
#[inline]
// fastembed's Python converts the length to float the same way (exact below 2^53 tokens).
#[allow(clippy::cast_precision_loss)]
pub fn fastembed_f64(n: u32, doc_len: usize, p: &Params) -> f64 {
    let n = f64::from(n);
    let num = n * (p.k + 1.0);
    let x = (1.0 - p.b) + ((p.b * doc_len as f64) / p.avg_len);
    let denom = n + p.k * x;
    num / denom
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_example() {
        // "Recipe for baking chocolate chip cookies": five tokens once each.
        let p = Params::default();
        assert_eq!(qdrant(1, 5, &p), 1.669_730_2_f32);
        assert_eq!(fastembed(1, 5, &p), 1.669_730_2_f32);
    }

    #[test]
    fn fma_differs_in_f64_but_not_after_rounding() {
        let p = Params::default();
        for doc_len in 0..2000 {
            for n in 1..20u32 {
                assert_eq!(qdrant(n, doc_len, &p), fastembed(n, doc_len, &p));
            }
        }
    }
}

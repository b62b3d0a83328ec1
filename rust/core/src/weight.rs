//! Stage 6: the BM25 term-frequency weight of a token that occurs `n` times in a document of
//! `doc_len` tokens. The two references round differently, so each has its own function; both
//! return the f32 that the reference would store.

use crate::options::Params;

/// Qdrant: f64 with a fused multiply-add in the denominator, then rounded to f32.
#[inline]
pub fn qdrant(n: u32, doc_len: usize, p: &Params) -> f32 {
    let n = f64::from(n);
    let x = 1.0 - p.b + p.b * doc_len as f64 / p.avg_len;
    let tf = n * (p.k + 1.0);
    (tf / p.k.mul_add(x, n)) as f32
}

/// fastembed: Python floats, separate multiply and add (no FMA); rounded to f32 on output.
#[inline]
pub fn fastembed(n: u32, doc_len: usize, p: &Params) -> f32 {
    fastembed_f64(n, doc_len, p) as f32
}

/// fastembed's weight as its Python code leaves it (a float64), operations in its order:
/// `n * (k + 1) / (n + k * (1 - b + b * doc_len / avg_len))`.
#[inline]
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

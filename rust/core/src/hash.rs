//! Stage 5: token ids. MurmurHash3 x86_32 of the token's UTF-8 bytes, seed 0, read as `i32` and
//! folded with `unsigned_abs` (so `i32::MIN` becomes 2^31), exactly as Qdrant and fastembed do.

#[inline]
fn mix(mut k: u32) -> u32 {
    k = k.wrapping_mul(0xcc9e_2d51);
    k = k.rotate_left(15);
    k.wrapping_mul(0x1b87_3593)
}

/// MurmurHash3 x86_32.
#[inline]
// MurmurHash3 mixes in the length modulo 2^32: the truncation is the algorithm's.
#[allow(clippy::cast_possible_truncation)]
pub fn murmur3_x86_32(bytes: &[u8], seed: u32) -> u32 {
    let mut h = seed;
    let mut blocks = bytes.chunks_exact(4);
    for block in &mut blocks {
        let k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        h ^= mix(k);
        h = h.rotate_left(13);
        h = h.wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let mut k = 0u32;
        for (i, byte) in tail.iter().enumerate() {
            k |= u32::from(*byte) << (8 * i);
        }
        h ^= mix(k);
    }
    h ^= bytes.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// MurmurHash3 x86_32 (seed 0) of every prefix of a byte string, one byte at a time: the block
/// state is shared by all prefixes, so each prefix's hash costs O(1) instead of O(its length).
#[derive(Clone, Copy, Default)]
pub struct PrefixHasher {
    h: u32,
    pending: u32,
    len: usize,
}

impl PrefixHasher {
    #[inline]
    pub fn push(&mut self, byte: u8) {
        self.pending |= u32::from(byte) << (8 * (self.len % 4));
        self.len += 1;
        if self.len.is_multiple_of(4) {
            self.h ^= mix(self.pending);
            self.h = self.h.rotate_left(13);
            self.h = self.h.wrapping_mul(5).wrapping_add(0xe654_6b64);
            self.pending = 0;
        }
    }

    /// The token id ([`token_id`]) of the bytes pushed so far.
    #[inline]
    // As `murmur3_x86_32` (length mod 2^32), and the `as i32` of `token_id`.
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    pub fn token_id(&self) -> u32 {
        let mut h = self.h;
        if !self.len.is_multiple_of(4) {
            h ^= mix(self.pending);
        }
        h ^= self.len as u32;
        h ^= h >> 16;
        h = h.wrapping_mul(0x85eb_ca6b);
        h ^= h >> 13;
        h = h.wrapping_mul(0xc2b2_ae35);
        ((h ^ (h >> 16)) as i32).unsigned_abs()
    }
}

/// The sparse-vector index of a token: `|murmur3(token) as i32|`, in `0..=2^31`.
#[inline]
// `as i32` reinterprets the hash's bits, exactly as Qdrant and fastembed read it.
#[allow(clippy::cast_possible_wrap)]
pub fn token_id(token: &str) -> u32 {
    (murmur3_x86_32(token.as_bytes(), 0) as i32).unsigned_abs()
}

#[cfg(test)]
// Ids as the references print them; `as i32` as in `token_id`.
#[allow(clippy::unreadable_literal, clippy::cast_possible_wrap)]
mod tests {
    use super::*;

    #[test]
    fn known_ids() {
        // Values published by Qdrant for "Recipe for baking chocolate chip cookies".
        assert_eq!(token_id("recip"), 1617337648);
        assert_eq!(token_id("bake"), 662344706);
        assert_eq!(token_id("cooki"), 112174620);
        // -2^31 folds to 2^31, not to an overflow.
        assert_eq!(token_id("akqlrggi"), 2147483648);
        // "hello" and "ccphujgn" hash to h and -h.
        assert_eq!(token_id("hello"), 613153351);
        assert_eq!(token_id("ccphujgn"), 613153351);
        assert_eq!(token_id(""), 0);
    }

    #[test]
    fn prefix_hasher_equals_hashing_each_prefix() {
        let text = "héllo wörld, ünïcode 𝄞 text of some length";
        let mut h = PrefixHasher::default();
        assert_eq!(h.token_id(), token_id(""));
        for (i, &b) in text.as_bytes().iter().enumerate() {
            h.push(b);
            let want = (murmur3_x86_32(&text.as_bytes()[..=i], 0) as i32).unsigned_abs();
            assert_eq!(h.token_id(), want, "prefix of {} bytes", i + 1);
        }
    }

    #[test]
    fn reference_vectors() {
        // Test vectors of MurmurHash3_x86_32 (seed 0 and others).
        assert_eq!(murmur3_x86_32(b"", 1), 0x514e_28b7);
        assert_eq!(murmur3_x86_32(b"", 0xffff_ffff), 0x81f1_6f39);
        assert_eq!(murmur3_x86_32(&[0xff, 0xff, 0xff, 0xff], 0), 0x7629_3b50);
        assert_eq!(murmur3_x86_32(&[0x21, 0x43, 0x65, 0x87], 0), 0xf55b_516b);
        assert_eq!(murmur3_x86_32(&[0x21, 0x43, 0x65], 0), 0x7e4a_8634);
        assert_eq!(murmur3_x86_32(&[0x21, 0x43], 0), 0xa0f7_b07a);
        assert_eq!(murmur3_x86_32(&[0x21], 0), 0x7266_1cf4);
    }
}

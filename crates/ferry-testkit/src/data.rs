//! Deterministic test data.

/// `len` bytes of a pattern that depends on `seed`, cheap to make and unlikely to repeat at
/// block boundaries (so a misplaced block changes the hash).
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let word = state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        let take = (len - out.len()).min(8);
        out.extend_from_slice(&word[..take]);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn pattern_is_deterministic_and_seeded() {
        assert_eq!(super::pattern(100, 1), super::pattern(100, 1));
        assert_ne!(super::pattern(100, 1), super::pattern(100, 2));
        assert_eq!(super::pattern(13, 5).len(), 13);
    }
}

//! The MD5 compression function (RFC 1321, 3.4), arranged for the shortest dependency chain.

/// MD5's block: 64 bytes.
pub(crate) const BLOCK: usize = 64;

/// The sine-derived constant of each of the 64 steps.
static STEP_CONSTANTS: [u32; 64] = [
    0xd76a_a478,
    0xe8c7_b756,
    0x2420_70db,
    0xc1bd_ceee,
    0xf57c_0faf,
    0x4787_c62a,
    0xa830_4613,
    0xfd46_9501,
    0x6980_98d8,
    0x8b44_f7af,
    0xffff_5bb1,
    0x895c_d7be,
    0x6b90_1122,
    0xfd98_7193,
    0xa679_438e,
    0x49b4_0821,
    0xf61e_2562,
    0xc040_b340,
    0x265e_5a51,
    0xe9b6_c7aa,
    0xd62f_105d,
    0x0244_1453,
    0xd8a1_e681,
    0xe7d3_fbc8,
    0x21e1_cde6,
    0xc337_07d6,
    0xf4d5_0d87,
    0x455a_14ed,
    0xa9e3_e905,
    0xfcef_a3f8,
    0x676f_02d9,
    0x8d2a_4c8a,
    0xfffa_3942,
    0x8771_f681,
    0x6d9d_6122,
    0xfde5_380c,
    0xa4be_ea44,
    0x4bde_cfa9,
    0xf6bb_4b60,
    0xbebf_bc70,
    0x289b_7ec6,
    0xeaa1_27fa,
    0xd4ef_3085,
    0x0488_1d05,
    0xd9d4_d039,
    0xe6db_99e5,
    0x1fa2_7cf8,
    0xc4ac_5665,
    0xf429_2244,
    0x432a_ff97,
    0xab94_23a7,
    0xfc93_a039,
    0x655b_59c3,
    0x8f0c_cc92,
    0xffef_f47d,
    0x8584_5dd1,
    0x6fa8_7e4f,
    0xfe2c_e6e0,
    0xa301_4314,
    0x4e08_11a1,
    0xf753_7e82,
    0xbd3a_f235,
    0x2ad7_d2bb,
    0xeb86_d391,
];

/// One step: `w` becomes `x + rotl(w + input + f(x, y, z), s)`, where `input` is the message
/// word plus the step's constant. Every term but `f` is ready before `x` is, and `f` is written
/// so that the part not involving `x` is computed early too (for G, `y & !z` goes into the sum
/// before `x & z`, the two never sharing a bit).
macro_rules! step {
    (F, $w:ident, $x:ident, $y:ident, $z:ident, $input:expr, $s:expr) => {
        $w = $w.wrapping_add($input).wrapping_add((($y ^ $z) & $x) ^ $z).rotate_left($s).wrapping_add($x)
    };
    (G, $w:ident, $x:ident, $y:ident, $z:ident, $input:expr, $s:expr) => {
        $w = $w.wrapping_add($input).wrapping_add($y & !$z).wrapping_add($x & $z).rotate_left($s).wrapping_add($x)
    };
    (H, $w:ident, $x:ident, $y:ident, $z:ident, $input:expr, $s:expr) => {
        $w = $w.wrapping_add($input).wrapping_add($x ^ ($y ^ $z)).rotate_left($s).wrapping_add($x)
    };
    (I, $w:ident, $x:ident, $y:ident, $z:ident, $input:expr, $s:expr) => {
        $w = $w.wrapping_add($input).wrapping_add($y ^ ($x | !$z)).rotate_left($s).wrapping_add($x)
    };
}

/// Hashes one block into `state`.
pub(crate) fn compress(state: &mut [u32; 4], block: &[u8; BLOCK]) {
    let mut words = [0u32; 16];
    for (word, bytes) in words.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_le_bytes(bytes.try_into().expect("chunks_exact gives 4 bytes"));
    }
    // Seen through `black_box`, the constants are values the compiler cannot fold, so it keeps
    // `word + constant` off the chain instead of adding the constant last (see the crate's doc).
    let constants: &[u32; 64] = std::hint::black_box(&STEP_CONSTANTS);
    let [mut a, mut b, mut c, mut d] = *state;
    macro_rules! round {
        ($f:ident, $first:expr, $order:expr, $shifts:expr) => {
            let order: [usize; 16] = $order;
            let shifts: [u32; 4] = $shifts;
            let input = |i: usize| words[order[i]].wrapping_add(constants[$first + i]);
            for quarter in 0..4 {
                let i = quarter * 4;
                step!($f, a, b, c, d, input(i), shifts[0]);
                step!($f, d, a, b, c, input(i + 1), shifts[1]);
                step!($f, c, d, a, b, input(i + 2), shifts[2]);
                step!($f, b, c, d, a, input(i + 3), shifts[3]);
            }
        };
    }
    round!(F, 0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [7, 12, 17, 22]);
    round!(G, 16, [1, 6, 11, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12], [5, 9, 14, 20]);
    round!(H, 32, [5, 8, 11, 14, 1, 4, 7, 10, 13, 0, 3, 6, 9, 12, 15, 2], [4, 11, 16, 23]);
    round!(I, 48, [0, 7, 14, 5, 12, 3, 10, 1, 8, 15, 6, 13, 4, 11, 2, 9], [6, 10, 15, 21]);
    for (kept, new) in state.iter_mut().zip([a, b, c, d]) {
        *kept = kept.wrapping_add(new);
    }
}

//! Ferry's MD5 gives the RFC's answers and the same digest as the md-5 crate for every length
//! and every way of cutting the input into updates.

use ferry_md5::Md5;
use md5::Digest as _;

fn hex(d: [u8; 16]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn rfc_1321_test_suite() {
    let cases = [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
        (
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(hex(Md5::digest(input)), want, "MD5 of {input:?}");
    }
}

#[test]
fn every_length_around_the_padding_boundaries_matches_md_5() {
    let data: Vec<u8> = (0..300u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8).collect();
    for len in 0..data.len() {
        let want: [u8; 16] = md5::Md5::digest(&data[..len]).into();
        assert_eq!(Md5::digest(&data[..len]), want, "length {len}");
    }
}

#[test]
fn any_cutting_into_updates_gives_the_same_digest() {
    let mut rng = fastrand::Rng::with_seed(19);
    for _ in 0..200 {
        let len = rng.usize(0..5_000);
        let data: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        let want: [u8; 16] = md5::Md5::digest(&data).into();
        let mut md5 = Md5::new();
        let mut at = 0;
        while at < len {
            let take = rng.usize(0..=(len - at).min(200));
            md5.update(&data[at..at + take]);
            at += take;
        }
        assert_eq!(md5.clone().finalize(), want, "{len} bytes cut at random");
        md5.update([]);
        assert_eq!(md5.finalize(), want);
    }
}

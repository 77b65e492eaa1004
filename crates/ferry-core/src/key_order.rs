//! The one order in which keys are listed and merged: UTF-16 code units.
//!
//! Azure Storage (and Azurite, which compares JavaScript strings) lists names in the order of
//! their UTF-16 code units. That differs from UTF-8 byte order only between characters
//! U+E000–U+FFFF and those above U+FFFF (emoji, for instance): in UTF-16 the latter come first
//! (surrogates are 0xD800–0xDFFF), in UTF-8 last. Every `Store` lists in this order and the sync
//! planner merges by it, so a container's pages and a local tree line up key for key.

use std::cmp::Ordering;

/// Compares two keys by their UTF-16 code units, as the Blob service orders names. Runs at the
/// speed of a byte comparison: only the first differing byte decides, and it needs correcting
/// only when it separates a U+E000–U+FFFF character (lead byte 0xEE or 0xEF) from one above
/// U+FFFF (lead byte 0xF0–0xF4).
pub fn cmp_keys(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let Some(i) = x.iter().zip(y).position(|(p, q)| p != q) else {
        return x.len().cmp(&y.len());
    };
    let high_bmp = |byte: u8| (0xEE..=0xEF).contains(&byte);
    let supplementary = |byte: u8| byte >= 0xF0;
    match (x[i], y[i]) {
        (p, q) if high_bmp(p) && supplementary(q) => Ordering::Greater,
        (p, q) if supplementary(p) && high_bmp(q) => Ordering::Less,
        (p, q) => p.cmp(&q),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(a: &str, b: &str) -> Ordering {
        a.encode_utf16().cmp(b.encode_utf16())
    }

    #[test]
    fn agrees_with_utf16_code_units() {
        let names = [
            "",
            "a",
            "a/",
            "a-b",
            "a/b",
            "a0",
            "ab",
            "é",
            "\u{e000}",
            "\u{ff5e}x",
            "～x",
            "\u{ffff}",
            "😀-0000",
            "😀-4999",
            "😀",
            "\u{10000}",
            "z",
            "\u{7f}",
            "\u{80}",
            "\u{7ff}",
            "\u{800}",
            "\u{d7ff}",
        ];
        for a in names {
            for b in names {
                assert_eq!(cmp_keys(a, b), utf16(a, b), "{a:?} vs {b:?}");
            }
        }
        // The case that broke listing across pages: an emoji sorts before a full-width tilde.
        assert_eq!(cmp_keys("😀-4999", "～x"), Ordering::Less);
        assert_eq!("😀-4999".as_bytes().cmp("～x".as_bytes()), Ordering::Greater, "byte order disagrees");
    }
}

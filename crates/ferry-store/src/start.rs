//! Listings that start at a key, the primitive of range plans: each worker of a split run lists
//! only its part of the name space instead of all of it.
//!
//! A service is asked to start near the key (Azure's `startFrom`, S3's `start-after`, GCS's
//! `startOffset`) and whatever it returns before the key is dropped here, so a service that
//! ignores the parameter costs listing time but never changes the result.

use std::cmp::Ordering;

use futures::{StreamExt, TryStreamExt, future};

use crate::EntryStream;

/// The entries of `listing` (in the contract's order) from `start` on, inclusive.
pub fn skip_before<'a>(listing: EntryStream<'a>, start: String) -> EntryStream<'a> {
    listing.try_skip_while(move |e| future::ready(Ok(crate::cmp_keys(&e.key, &start) == Ordering::Less))).boxed()
}

/// A key a service may start listing at (inclusive) and miss nothing at or after `start` in the
/// contract's order, whether the service orders names by UTF-8 bytes (S3, GCS) or by UTF-16
/// code units (Blob): `start` cut before its first character at or above U+E000, the only
/// characters on which the two orders disagree. It is a prefix of `start`, so it never comes
/// after it in either order, and any key at or after `start` in one order is at or after it in
/// both.
pub fn service_floor(start: &str) -> &str {
    let end = start.char_indices().find(|(_, c)| *c >= '\u{E000}').map_or(start.len(), |(i, _)| i);
    &start[..end]
}

/// An exclusive start (S3's `start-after`) that lets through every key at or after `floor` in
/// UTF-8 byte order: `floor`'s last character one lower, followed by U+10FFFF, the greatest
/// character; the keys it lets through early (ones that continue it) are dropped by
/// [`skip_before`]. `None` for an empty floor (list from the beginning).
pub fn exclusive_floor(floor: &str) -> Option<String> {
    let mut chars = floor.chars();
    let last = chars.next_back()?;
    let mut before = chars.as_str().to_owned();
    if last != '\0' {
        // One below `last`; below U+E000 only U+D800–U+DFFF are not characters.
        let lower = char::from_u32(u32::from(last) - 1).unwrap_or('\u{D7FF}');
        before.push(lower);
        before.push(char::MAX);
    }
    Some(before)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Entry;

    #[test]
    fn the_floor_never_passes_a_key_in_either_order() {
        assert_eq!(service_floor("photos/2024/x"), "photos/2024/x");
        assert_eq!(service_floor("a/😀b"), "a/", "above U+FFFF too");
        assert_eq!(service_floor("a/\u{FF5E}b"), "a/");
        let names = ["a", "a/\u{E000}", "a/\u{FFFF}", "a/😀", "a/z", "b", "\u{E001}", "😀"];
        for start in names {
            let floor = service_floor(start);
            for name in names {
                if crate::cmp_keys(name, start) != Ordering::Less {
                    assert!(name >= floor, "{name:?} ≥ {start:?} (UTF-16) but below the floor {floor:?} (UTF-8)");
                }
            }
        }
    }

    #[test]
    fn the_exclusive_floor_lets_the_floor_through() {
        assert_eq!(exclusive_floor(""), None);
        let before = exclusive_floor("m5").unwrap();
        assert!(before.as_str() < "m5" && before.as_str() > "m4zzz" && before.as_str() < "m4\u{10FFFF}a");
        assert_eq!(exclusive_floor("a\0").unwrap(), "a");
        let wide = exclusive_floor("a\u{E000}").unwrap();
        assert!(wide.as_str() < "a\u{E000}" && wide.starts_with("a\u{D7FF}"));
    }

    #[tokio::test]
    async fn skipping_keeps_the_start_and_what_follows() {
        let listing = futures::stream::iter(["a", "b", "c", "d"].map(|k| Ok(Entry::object(k, 0)))).boxed();
        let kept: Vec<String> = skip_before(listing, "b".into()).map_ok(|e| e.key).try_collect().await.unwrap();
        assert_eq!(kept, ["b", "c", "d"]);
    }
}

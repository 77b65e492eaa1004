//! One shard of a transfer split over many workers: the names whose hash falls in it.
//!
//! The hash is rclone's `--hash-filter K/N`, exactly, so rclone can check which names a Ferry
//! shard holds and the two tools can share one partition: the path relative to the source root,
//! normalised to NFC, lower-cased one character at a time by the simple case mapping (`İ` → `i`,
//! as Go's `strings.ToLower`; never `str::to_lowercase`, whose final-sigma rule and full mappings
//! differ), its MD5, the first 8 bytes read as a little-endian `u64`, modulo N. Normalising first
//! puts names that a case-insensitive or normalising destination would merge into one shard.

use std::fmt;

use ferry_md5::Md5;
use serde::{Deserialize, Serialize};

/// Shard `index` of `count` (`0 <= index < count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shard {
    /// K.
    pub index: u64,
    /// N.
    pub count: u64,
}

/// A `--shard` value that is not `K/N` with `0 <= K < N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ShardError(pub String);

impl Shard {
    /// Shard `index` of `count`; refused unless `0 <= index < count`.
    pub fn new(index: u64, count: u64) -> Result<Self, ShardError> {
        if count == 0 {
            return Err(ShardError("the number of shards must be at least 1".into()));
        }
        if index >= count {
            return Err(ShardError(format!(
                "shard {index} of {count} does not exist: shards are numbered from 0 to {}",
                count - 1
            )));
        }
        Ok(Self { index, count })
    }

    /// Parses `K/N`.
    pub fn parse(text: &str) -> Result<Self, ShardError> {
        let bad = || ShardError(format!("`{text}` is not K/N (for example 3/16: shard 3 of 16, counted from 0)"));
        let (k, n) = text.trim().split_once('/').ok_or_else(bad)?;
        Self::new(k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?)
    }

    /// Whether `path` (relative to the source root) is in this shard.
    pub fn holds(&self, path: &str) -> bool {
        hash(path) % self.count == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// rclone's hash of a path (see the module's notes).
pub fn hash(path: &str) -> u64 {
    let nfc = icu_normalizer::ComposingNormalizerBorrowed::new_nfc().normalize(path);
    let mut lower = String::with_capacity(nfc.len());
    for c in nfc.chars() {
        lower.push(simple_lowercase(c));
    }
    let digest = Md5::digest(lower.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

/// The simple (one-to-one) lower case of `c`, as Go's `unicode.ToLower`: Rust's
/// `char::to_lowercase` is the full mapping, which differs only where it gives more than one
/// character (`İ`, U+0130, whose simple lower case is `i`).
fn simple_lowercase(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(one), None) => one,
        _ if c == '\u{130}' => 'i',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_refuse_what_does_not_exist() {
        assert_eq!(Shard::parse("3/16").unwrap(), Shard { index: 3, count: 16 });
        assert_eq!(Shard::parse("3/16").unwrap().to_string(), "3/16");
        assert!(Shard::parse("16/16").unwrap_err().0.contains("from 0 to 15"));
        assert!(Shard::parse("1/0").is_err());
        assert!(Shard::parse("x").is_err());
        assert!(Shard::parse("-1/4").is_err());
    }

    #[test]
    fn every_name_is_in_exactly_one_shard() {
        let names: Vec<String> = (0..5000).map(|i| format!("dir{}/file-{i}.bin", i % 13)).collect();
        for count in [1, 2, 7, 32] {
            let mut sizes = vec![0usize; count as usize];
            for name in &names {
                let holders: Vec<u64> = (0..count).filter(|k| Shard { index: *k, count }.holds(name)).collect();
                assert_eq!(holders.len(), 1, "{name} in {holders:?} of {count}");
                sizes[holders[0] as usize] += 1;
            }
            // A hash spreads them: no shard holds more than twice its share.
            assert!(sizes.iter().all(|s| *s <= 2 * names.len() / count as usize + 10), "{sizes:?}");
        }
    }

    #[test]
    fn case_and_normalisation_twins_share_a_shard() {
        assert_eq!(hash("Photos/IMG.JPG"), hash("photos/img.jpg"));
        assert_eq!(hash("caf\u{e9}.txt"), hash("cafe\u{301}.txt"), "NFC and NFD forms");
        assert_eq!(hash("\u{130}stanbul.txt"), hash("istanbul.txt"), "simple lower case of İ");
        assert_eq!(hash("\u{3a3}\u{3a3}.txt"), hash("\u{3c3}\u{3c3}.txt"), "every Σ is σ, final or not");
        assert_ne!(hash("a.txt"), hash("b.txt"));
    }
}

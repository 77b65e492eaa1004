//! Range plans: a run split into shards of consecutive names, so each worker lists only its own
//! part of the name space (Azure `startFrom`, S3 `start-after`, GCS `startOffset`, a local walk
//! that skips what comes before) instead of every worker listing everything, as hash shards must.
//!
//! Shard K of M holds the names `from <= name < to` in key order ([`ferry_core::cmp_keys`]),
//! the first from `""`, the last to the end, each ending where the next begins, so every name
//! is in exactly one shard whatever was added since the plan was made. Bounds are chosen from a
//! listing (or the last run's evidence) by count or by bytes; a stale plan costs balance, never
//! correctness. The range is always checked again on each name, so a service that ignores where
//! a listing should start costs time but never puts a name in two shards.

use std::cmp::Ordering;

use ferry_core::cmp_keys;
use serde::{Deserialize, Serialize};

use crate::ShardError;

/// The names `from <= name < to` (no `to`: to the end), relative to the source root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRange {
    /// The first name in the range (inclusive; `""` for the start).
    pub from: String,
    /// The first name after it (exclusive), none for the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

impl KeyRange {
    /// Whether `path` is in the range.
    pub fn holds(&self, path: &str) -> bool {
        cmp_keys(path, &self.from) != Ordering::Less && !self.is_past(path)
    }

    /// Whether `path` comes at or after the end of the range (so nothing after it, in key
    /// order, is in it either: a listing can stop there).
    pub fn is_past(&self, path: &str) -> bool {
        self.to.as_deref().is_some_and(|to| cmp_keys(path, to) != Ordering::Less)
    }
}

impl std::fmt::Display for KeyRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.to {
            Some(to) => write!(f, "[{:?}, {:?})", self.from, to),
            None => write!(f, "[{:?}, end)", self.from),
        }
    }
}

/// What a plan balances: the number of objects or their bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Balance {
    /// About as many objects in each shard.
    #[default]
    Count,
    /// About as many bytes in each shard (a file is never split).
    Bytes,
}

/// One shard of a plan: its range and what it held when the plan was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedShard {
    /// K.
    pub index: u64,
    /// Its range.
    #[serde(flatten)]
    pub range: KeyRange,
    /// Objects in it when planned (for information).
    #[serde(default)]
    pub objects: u64,
    /// Their bytes (for information).
    #[serde(default)]
    pub bytes: u64,
}

/// The format's version, in every plan file.
const PLAN_FORMAT: u32 = 1;

/// A range plan, as `ferry shards plan` writes it and `--shard-plan` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangePlan {
    /// Always 1: the format.
    pub ferry_shard_plan: u32,
    /// What was balanced.
    #[serde(default)]
    pub balance: Balance,
    /// What was listed to make it (secrets removed; for information).
    #[serde(default)]
    pub source: String,
    /// The shards, in order.
    pub shards: Vec<PlannedShard>,
}

impl RangePlan {
    /// Reads a plan, refusing one whose ranges do not cover every name exactly once.
    pub fn parse(text: &str) -> Result<Self, ShardError> {
        let plan: Self = serde_json::from_str(text).map_err(|e| ShardError(format!("not a shard plan: {e}")))?;
        if plan.ferry_shard_plan != PLAN_FORMAT {
            return Err(ShardError(format!(
                "a shard plan of format {} (this Ferry reads format {PLAN_FORMAT})",
                plan.ferry_shard_plan
            )));
        }
        plan.check()?;
        Ok(plan)
    }

    /// Checks the ranges chain from `""` to the end without gap or overlap.
    fn check(&self) -> Result<(), ShardError> {
        let bad = |why: String| Err(ShardError(format!("the plan's ranges do not cover every name once: {why}")));
        let Some(last) = self.shards.last() else { return bad("it has no shards".into()) };
        if !self.shards[0].range.from.is_empty() {
            return bad("the first range must start at \"\"".into());
        }
        if last.range.to.is_some() {
            return bad("the last range must run to the end (no \"to\")".into());
        }
        for (k, shard) in self.shards.iter().enumerate() {
            if shard.index != k as u64 {
                return bad(format!("shard {} is listed where shard {k} should be", shard.index));
            }
            if let Some(to) = &shard.range.to {
                if cmp_keys(&shard.range.from, to) == Ordering::Greater {
                    return bad(format!("shard {k} ends before it begins"));
                }
                if self.shards.get(k + 1).is_some_and(|next| &next.range.from != to) {
                    return bad(format!("shard {} does not begin where shard {k} ends", k + 1));
                }
            } else if k + 1 < self.shards.len() {
                return bad(format!("shard {k} runs to the end but is not the last"));
            }
        }
        Ok(())
    }

    /// M, the number of shards.
    pub fn count(&self) -> u64 {
        self.shards.len() as u64
    }

    /// Shard `index`'s range.
    pub fn range(&self, index: u64) -> Option<&KeyRange> {
        self.shards.get(usize::try_from(index).ok()?).map(|s| &s.range)
    }

    /// The shard whose range holds `name`: a binary search over the ranges' starts (they are in
    /// key order and chain from `""`, so exactly one holds any name).
    pub fn owner(&self, name: &str) -> u64 {
        let after = self.shards.partition_point(|s| cmp_keys(&s.range.from, name) != Ordering::Greater);
        // Empty ranges share their start with the next; the last range starting at or before
        // `name` is the one that holds it.
        after.saturating_sub(1) as u64
    }

    /// The plan's identity: SHA-256 of its bounds alone (not of its counts or its layout), so
    /// every shard of a run can show it used the same plan.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for shard in &self.shards {
            hash.update(shard.range.from.as_bytes());
            hash.update([0u8]);
        }
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Chooses a plan's bounds from a listing in key order, given the totals of an earlier pass
/// over it: shard K begins at the first name whose middle (its index plus a half, or the bytes
/// before it plus half its own) reaches K/M of the total. Names added since the first pass fall in the last shards; names
/// removed leave some shards lighter. Holds one name at a time.
#[derive(Debug)]
pub struct BoundPicker {
    balance: Balance,
    total: u64,
    seen: u64,
    shards: Vec<PlannedShard>,
    count: u64,
}

impl BoundPicker {
    /// A picker for `count` shards of a listing of `objects` objects holding `bytes` bytes.
    pub fn new(count: u64, balance: Balance, objects: u64, bytes: u64) -> Self {
        // With no bytes to balance (only empty files), balance the count.
        let (balance, total) = match balance {
            Balance::Bytes if bytes > 0 => (Balance::Bytes, bytes),
            _ => (Balance::Count, objects),
        };
        let first = PlannedShard { index: 0, range: KeyRange { from: String::new(), to: None }, objects: 0, bytes: 0 };
        Self { balance, total, seen: 0, shards: vec![first], count: count.max(1) }
    }

    /// The next name of the listing (in key order) and its size.
    pub fn push(&mut self, name: &str, size: u64) {
        let weight = match self.balance {
            Balance::Count => 1,
            Balance::Bytes => size,
        };
        // The shard of the name's middle: a big file goes where most of it falls.
        let due = if self.total == 0 {
            0
        } else {
            let middle = 2 * u128::from(self.seen) + u128::from(weight);
            (middle * u128::from(self.count) / (2 * u128::from(self.total))).min(u128::from(self.count - 1)) as u64
        };
        // A name that moves the position past several shards' starts leaves those empty.
        while (self.shards.len() as u64) <= due {
            let index = self.shards.len() as u64;
            if let Some(last) = self.shards.last_mut() {
                last.range.to = Some(name.to_owned());
            }
            let range = KeyRange { from: name.to_owned(), to: None };
            self.shards.push(PlannedShard { index, range, objects: 0, bytes: 0 });
        }
        let current = self.shards.last_mut().expect("a picker always has a shard");
        current.objects += 1;
        current.bytes += size;
        self.seen += weight;
    }

    /// The plan: shards not yet begun (a listing shorter than its first pass) begin, empty,
    /// where the last one began, so there are always `count` of them.
    pub fn finish(mut self, source: String) -> RangePlan {
        while (self.shards.len() as u64) < self.count {
            let index = self.shards.len() as u64;
            let last = self.shards.last_mut().expect("a picker always has a shard");
            let from = last.range.from.clone();
            // The last shard keeps what it has and the rest run empty from its start: that
            // would overlap, so the empty ones take the end of the chain instead.
            last.range.to = Some(from.clone());
            let (objects, bytes) = (std::mem::take(&mut last.objects), std::mem::take(&mut last.bytes));
            self.shards.push(PlannedShard { index, range: KeyRange { from, to: None }, objects, bytes });
        }
        RangePlan { ferry_shard_plan: PLAN_FORMAT, balance: self.balance, source, shards: self.shards }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(names: &[(&str, u64)], count: u64, balance: Balance) -> RangePlan {
        let (objects, bytes) = (names.len() as u64, names.iter().map(|(_, s)| s).sum());
        let mut picker = BoundPicker::new(count, balance, objects, bytes);
        for (name, size) in names {
            picker.push(name, *size);
        }
        picker.finish("test".into())
    }

    fn owners(plan: &RangePlan, name: &str) -> Vec<u64> {
        plan.shards.iter().filter(|s| s.range.holds(name)).map(|s| s.index).collect()
    }

    #[test]
    fn count_plans_split_evenly_and_every_name_has_one_shard() {
        let names: Vec<String> = (0..1000).map(|i| format!("d{}/f{i:04}", i % 7)).collect();
        let mut sorted: Vec<&str> = names.iter().map(String::as_str).collect();
        sorted.sort_by(|a, b| cmp_keys(a, b));
        let listing: Vec<(&str, u64)> = sorted.iter().map(|n| (*n, 1)).collect();
        let plan = plan_of(&listing, 8, Balance::Count);
        assert_eq!(plan.count(), 8);
        assert!(plan.shards.iter().all(|s| s.objects == 125), "{:?}", plan.shards);
        RangePlan::parse(&serde_json::to_string(&plan).unwrap()).expect("a picked plan is valid");
        for name in sorted.iter().copied().chain(["", "a", "d3/", "zzz", "\u{1F600}", "\u{FF5E}"]) {
            assert_eq!(owners(&plan, name).len(), 1, "{name:?}");
        }
    }

    #[test]
    fn byte_plans_follow_the_bytes_and_tiny_listings_leave_empty_shards() {
        let listing = [("a", 10), ("b", 10), ("c", 80), ("d", 10), ("e", 10)];
        let plan = plan_of(&listing, 4, Balance::Bytes);
        let spans: Vec<(String, Option<String>, u64)> =
            plan.shards.iter().map(|s| (s.range.from.clone(), s.range.to.clone(), s.bytes)).collect();
        // Middles 5, 15, 60, 105, 115 of 120; shard K starts at K*30: c alone in shard 2.
        assert_eq!(spans[0], (String::new(), Some("c".into()), 20));
        assert_eq!(spans[1], ("c".into(), Some("c".into()), 0));
        assert_eq!(spans[2], ("c".into(), Some("d".into()), 80));
        assert_eq!(plan.shards.iter().map(|s| s.bytes).sum::<u64>(), 120);
        for name in ["a", "b", "c", "d", "e", "f", ""] {
            assert_eq!(owners(&plan, name).len(), 1, "{name:?}: {spans:?}");
        }
        let tiny = plan_of(&[("only", 5)], 3, Balance::Count);
        assert_eq!(tiny.count(), 3);
        RangePlan::parse(&serde_json::to_string(&tiny).unwrap()).unwrap();
        assert_eq!(tiny.shards.iter().map(|s| s.objects).sum::<u64>(), 1);
        let empty = plan_of(&[], 2, Balance::Count);
        assert_eq!(owners(&empty, "x").len(), 1);
    }

    #[test]
    fn plans_that_miss_or_repeat_names_are_refused() {
        let shard = |index: u64, from: &str, to: Option<&str>| PlannedShard {
            index,
            range: KeyRange { from: from.into(), to: to.map(Into::into) },
            objects: 0,
            bytes: 0,
        };
        let text = |shards: Vec<PlannedShard>| {
            serde_json::to_string(&RangePlan {
                ferry_shard_plan: 1,
                balance: Balance::Count,
                source: String::new(),
                shards,
            })
            .unwrap()
        };
        assert!(RangePlan::parse(&text(vec![shard(0, "", Some("m")), shard(1, "m", None)])).is_ok());
        for (shards, why) in [
            (vec![shard(0, "a", Some("m")), shard(1, "m", None)], "start at"),
            (vec![shard(0, "", Some("m")), shard(1, "n", None)], "does not begin where"),
            (vec![shard(0, "", Some("m")), shard(1, "m", Some("z"))], "run to the end"),
            (vec![shard(0, "", Some("m")), shard(2, "m", None)], "should be"),
            (vec![shard(0, "", Some("m")), shard(1, "m", Some("c")), shard(2, "c", None)], "ends before"),
            (vec![], "no shards"),
        ] {
            let err = RangePlan::parse(&text(shards)).unwrap_err();
            assert!(err.0.contains(why), "{err}");
        }
        assert!(RangePlan::parse("{\"ferry_shard_plan\": 2, \"shards\": []}").unwrap_err().0.contains("format 2"));
    }

    #[test]
    fn the_digest_is_the_bounds() {
        let a = plan_of(&[("a", 1), ("b", 1), ("c", 1), ("d", 1)], 2, Balance::Count);
        let mut b = a.clone();
        b.shards[0].objects = 99;
        b.source = "elsewhere".into();
        assert_eq!(a.digest(), b.digest());
        let c = plan_of(&[("a", 1), ("b", 1), ("c", 1), ("d", 1)], 4, Balance::Count);
        assert_ne!(a.digest(), c.digest());
        assert_eq!(a.range(1), Some(&KeyRange { from: "c".into(), to: None }));
        assert!(!a.range(1).unwrap().is_past("zz") && a.range(0).unwrap().is_past("c"));
        for name in ["", "a", "b", "bz", "c", "d", "zzz"] {
            assert!(a.range(a.owner(name)).unwrap().holds(name), "{name}");
        }
        let tiny = plan_of(&[("only", 5)], 4, Balance::Count);
        for name in ["", "a", "only", "zz"] {
            assert!(tiny.range(tiny.owner(name)).unwrap().holds(name), "{name} (empty ranges)");
        }
    }
}

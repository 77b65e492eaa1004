//! The sync planner: a streaming merge-join of two listings in key order.
//!
//! Both inputs are streams of entries in ascending key order ([`ferry_core::cmp_keys`], UTF-16
//! code units, as the Blob service lists: the `Store` contract), with keys already made relative to what is being synced. The planner walks them
//! together like the merge step of merge sort, so memory does not depend on how many objects
//! there are, and yields one [`Decision`] per key with the reason for it. A listing that is out
//! of order is an error, not a guess: a planner that mis-pairs keys could delete the wrong data.

use std::time::SystemTime;

use ferry_core::{Entry, ErrorKind, StoreError, cmp_keys};
use futures::{Stream, StreamExt};

/// How an object present on both sides is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum ComparePolicy {
    /// Copy when the source is newer **or the sizes differ** (AzCopy compares time only, so a
    /// truncated destination is never repaired).
    #[default]
    TimeAndSize,
    /// Compare stored MD5s when both sides have one (and sizes always); otherwise as `TimeAndSize`.
    Md5,
    /// Always copy (`--mirror-mode`).
    Mirror,
}

/// What to do with one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Copy the source object over.
    Copy,
    /// Leave it.
    Skip,
    /// It exists only at the destination (a delete candidate).
    Extra,
}

/// Why a decision was made; the text is what dry runs and logs show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Not at the destination.
    MissingAtDestination,
    /// The source was modified after the destination.
    SourceNewer,
    /// The sizes differ.
    SizesDiffer,
    /// The stored MD5s differ.
    HashesDiffer,
    /// `--mirror-mode`.
    Mirror,
    /// Only at the destination.
    ExtraAtDestination,
    /// Same size and not newer (or same hash).
    UpToDate,
}

impl Reason {
    /// The words used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingAtDestination => "missing at destination",
            Self::SourceNewer => "source newer",
            Self::SizesDiffer => "sizes differ",
            Self::HashesDiffer => "hashes differ",
            Self::Mirror => "mirror mode",
            Self::ExtraAtDestination => "extra at destination",
            Self::UpToDate => "up to date",
        }
    }
}

/// One planned key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The key, relative to both roots.
    pub key: String,
    /// What to do.
    pub action: Action,
    /// Why.
    pub reason: Reason,
    /// The source entry (absent for extras).
    pub source: Option<Entry>,
    /// The destination entry (absent when missing there).
    pub destination: Option<Entry>,
}

fn seconds(t: Option<SystemTime>) -> Option<u64> {
    t.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok()).map(|d| d.as_secs())
}

/// Decides for an object present on both sides.
pub fn compare(source: &Entry, destination: &Entry, policy: ComparePolicy) -> (Action, Reason) {
    if policy == ComparePolicy::Mirror {
        return (Action::Copy, Reason::Mirror);
    }
    if source.size != destination.size {
        return (Action::Copy, Reason::SizesDiffer);
    }
    if policy == ComparePolicy::Md5
        && let (Some(a), Some(b)) = (source.content_md5, destination.content_md5)
    {
        return if a == b { (Action::Skip, Reason::UpToDate) } else { (Action::Copy, Reason::HashesDiffer) };
    }
    // Whole seconds: HTTP dates carry no more, so a file uploaded in the same second as its last
    // change must not look newer than its blob.
    match (seconds(source.last_modified), seconds(destination.last_modified)) {
        (Some(s), Some(d)) if s > d => (Action::Copy, Reason::SourceNewer),
        _ => (Action::Skip, Reason::UpToDate),
    }
}

fn out_of_order(side: &str, previous: &str, next: &str) -> StoreError {
    StoreError::new(
        ErrorKind::Other,
        next,
        format!(
            "the {side} listing is not in key order (`{next}` came after `{previous}`); nothing is decided from it"
        ),
    )
}

/// Merges two ordered listings into decisions, in key order. Errors from either listing are
/// passed through (the caller decides whether a partial plan may delete anything: it may not).
pub fn plan<'a>(
    source: impl Stream<Item = Result<Entry, StoreError>> + Send + 'a,
    destination: impl Stream<Item = Result<Entry, StoreError>> + Send + 'a,
    policy: ComparePolicy,
) -> impl Stream<Item = Result<Decision, StoreError>> + Send + 'a {
    struct State<S, D> {
        source: S,
        destination: D,
        next_source: Option<Entry>,
        next_destination: Option<Entry>,
        last_source: Option<String>,
        last_destination: Option<String>,
        failed: bool,
    }
    // Fused, so an exhausted side keeps answering `None` when asked again.
    let state = State {
        source: source.boxed().fuse(),
        destination: destination.boxed().fuse(),
        next_source: None,
        next_destination: None,
        last_source: None,
        last_destination: None,
        failed: false,
    };
    futures::stream::unfold(state, move |mut st| async move {
        if st.failed {
            return None;
        }
        // Keep one look-ahead entry from each side. An error about one entry alone (an
        // unrepresentable name) is passed on and the merge goes on; any other stops it.
        if st.next_source.is_none() {
            match pull(&mut st.source, &mut st.last_source, "source").await {
                Some(Ok(entry)) => st.next_source = Some(entry),
                Some(Err(e)) if e.is_entry_only() => return Some((Err(e), st)),
                Some(Err(e)) => {
                    st.failed = true;
                    return Some((Err(e), st));
                }
                None => {}
            }
        }
        if st.next_destination.is_none() {
            match pull(&mut st.destination, &mut st.last_destination, "destination").await {
                Some(Ok(entry)) => st.next_destination = Some(entry),
                Some(Err(e)) if e.is_entry_only() => return Some((Err(e), st)),
                Some(Err(e)) => {
                    st.failed = true;
                    return Some((Err(e), st));
                }
                None => {}
            }
        }
        let decision = match (st.next_source.take(), st.next_destination.take()) {
            (None, None) => return None,
            (Some(s), None) => missing(s),
            (None, Some(d)) => extra(d),
            (Some(s), Some(d)) => match cmp_keys(&s.key, &d.key) {
                std::cmp::Ordering::Less => {
                    st.next_destination = Some(d);
                    missing(s)
                }
                std::cmp::Ordering::Greater => {
                    st.next_source = Some(s);
                    extra(d)
                }
                std::cmp::Ordering::Equal => {
                    let (action, reason) = compare(&s, &d, policy);
                    Decision { key: s.key.clone(), action, reason, source: Some(s), destination: Some(d) }
                }
            },
        };
        Some((Ok(decision), st))
    })
}

fn missing(source: Entry) -> Decision {
    Decision {
        key: source.key.clone(),
        action: Action::Copy,
        reason: Reason::MissingAtDestination,
        source: Some(source),
        destination: None,
    }
}

fn extra(destination: Entry) -> Decision {
    Decision {
        key: destination.key.clone(),
        action: Action::Extra,
        reason: Reason::ExtraAtDestination,
        source: None,
        destination: Some(destination),
    }
}

/// The next entry of one side, checking that keys strictly increase.
async fn pull(
    stream: &mut (impl Stream<Item = Result<Entry, StoreError>> + Unpin),
    last: &mut Option<String>,
    side: &str,
) -> Option<Result<Entry, StoreError>> {
    let item = stream.next().await?;
    Some(item.and_then(|entry| {
        if let Some(previous) = last.as_deref()
            && cmp_keys(&entry.key, previous) != std::cmp::Ordering::Greater
        {
            return Err(out_of_order(side, previous, &entry.key));
        }
        *last = Some(entry.key.clone());
        Ok(entry)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;
    use std::time::Duration;

    fn entry(key: &str, size: u64, secs: u64) -> Entry {
        Entry { last_modified: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)), ..Entry::object(key, size) }
    }

    fn run(
        source: Vec<Entry>,
        destination: Vec<Entry>,
        policy: ComparePolicy,
    ) -> Result<Vec<(String, Action, Reason)>, StoreError> {
        let s = futures::stream::iter(source.into_iter().map(Ok));
        let d = futures::stream::iter(destination.into_iter().map(Ok));
        futures::executor::block_on(plan(s, d, policy).map_ok(|x| (x.key, x.action, x.reason)).try_collect())
    }

    #[test]
    fn merge_join_with_reasons() {
        let source =
            vec![entry("a", 1, 100), entry("b", 2, 200), entry("c", 3, 100), entry("e", 5, 100), entry("f", 6, 100)];
        let dest =
            vec![entry("b", 2, 100), entry("c", 3, 100), entry("d", 4, 100), entry("e", 4, 900), entry("g", 1, 1)];
        let got = run(source, dest, ComparePolicy::TimeAndSize).unwrap();
        let want = vec![
            ("a".to_owned(), Action::Copy, Reason::MissingAtDestination),
            ("b".to_owned(), Action::Copy, Reason::SourceNewer),
            ("c".to_owned(), Action::Skip, Reason::UpToDate),
            ("d".to_owned(), Action::Extra, Reason::ExtraAtDestination),
            ("e".to_owned(), Action::Copy, Reason::SizesDiffer),
            ("f".to_owned(), Action::Copy, Reason::MissingAtDestination),
            ("g".to_owned(), Action::Extra, Reason::ExtraAtDestination),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn a_truncated_destination_with_a_newer_time_is_repaired() {
        let got = run(vec![entry("x", 100, 100)], vec![entry("x", 40, 999)], ComparePolicy::TimeAndSize).unwrap();
        assert_eq!(got, [("x".to_owned(), Action::Copy, Reason::SizesDiffer)]);
    }

    #[test]
    fn md5_and_mirror_policies() {
        let mut s = entry("x", 3, 999);
        let mut d = entry("x", 3, 100);
        s.content_md5 = Some([1; 16]);
        d.content_md5 = Some([1; 16]);
        assert_eq!(compare(&s, &d, ComparePolicy::Md5), (Action::Skip, Reason::UpToDate), "same hash wins over time");
        d.content_md5 = Some([2; 16]);
        assert_eq!(compare(&s, &d, ComparePolicy::Md5), (Action::Copy, Reason::HashesDiffer));
        d.content_md5 = None;
        assert_eq!(compare(&s, &d, ComparePolicy::Md5), (Action::Copy, Reason::SourceNewer), "falls back to time");
        assert_eq!(compare(&s, &s, ComparePolicy::Mirror), (Action::Copy, Reason::Mirror));
    }

    #[test]
    fn same_second_is_not_newer() {
        let s = Entry {
            last_modified: Some(SystemTime::UNIX_EPOCH + Duration::from_millis(100_900)),
            ..Entry::object("x", 1)
        };
        let d = entry("x", 1, 100);
        assert_eq!(compare(&s, &d, ComparePolicy::TimeAndSize).1, Reason::UpToDate);
    }

    #[test]
    fn empty_sides() {
        assert_eq!(run(vec![], vec![], ComparePolicy::default()).unwrap(), []);
        assert_eq!(run(vec![], vec![entry("z", 1, 1)], ComparePolicy::default()).unwrap().len(), 1);
    }

    #[test]
    fn out_of_order_listings_are_errors() {
        let err = run(vec![entry("b", 1, 1), entry("a", 1, 1)], vec![], ComparePolicy::default()).unwrap_err();
        assert!(err.to_string().contains("not in key order"), "{err}");
        let err = run(vec![], vec![entry("b", 1, 1), entry("b", 1, 1)], ComparePolicy::default()).unwrap_err();
        assert!(err.to_string().contains("destination listing"), "{err}");
    }

    /// Finding 7: one undecodable file name stopped the whole sync.
    #[test]
    fn an_error_about_one_entry_does_not_stop_the_plan() {
        let bad = StoreError::new(ErrorKind::InvalidInput, "bad\u{fffd}.txt", "not UTF-8").for_one_entry();
        let s = futures::stream::iter(vec![Ok(entry("a", 1, 1)), Err(bad), Ok(entry("c", 1, 1))]);
        let d = futures::stream::iter(vec![Ok(entry("b", 1, 1))]);
        let items: Vec<_> = futures::executor::block_on(plan(s, d, ComparePolicy::default()).collect());
        let keys: Vec<String> = items.iter().filter_map(|i| i.as_ref().ok().map(|d| d.key.clone())).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!(items.iter().filter(|i| i.is_err()).count(), 1);
    }

    #[test]
    fn listing_errors_stop_the_plan() {
        let s =
            futures::stream::iter(vec![Ok(entry("a", 1, 1)), Err(StoreError::not_found("src")), Ok(entry("c", 1, 1))]);
        let d = futures::stream::iter(Vec::<Result<Entry, StoreError>>::new());
        let items: Vec<_> = futures::executor::block_on(plan(s, d, ComparePolicy::default()).collect());
        assert!(items.iter().any(Result::is_err));
        assert!(items.last().unwrap().is_err(), "nothing is decided after a listing error");
    }
}

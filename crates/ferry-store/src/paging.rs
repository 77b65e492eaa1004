//! A listing read page by page from a service, kept in the [`crate::Store`] contract's order and
//! kept from looping: one place for what every paged backend (Blob, S3) must guard against.

use std::future::Future;

use futures::{StreamExt, TryStreamExt, stream};

use crate::{Entry, EntryStream, ErrorKind, Result, StoreError};

/// One page of a listing: its entries and where the next page starts (none after the last).
#[derive(Debug, Default)]
pub struct Page {
    /// The entries, in the service's order.
    pub entries: Vec<Entry>,
    /// The continuation marker or token for the next page.
    pub next: Option<String>,
}

/// The entries of the pages `fetch` returns (it is given each page's marker, `None` for the
/// first), in the contract's order. Each page is sorted by [`crate::cmp_keys`] (a service may
/// group prefixes apart from objects, or order by UTF-8 bytes); pages partition the name space in
/// order, so the stream stays sorted. A page that goes back before the previous one's last key
/// (or, unless `repeats_keys`, repeats it), or a marker handed back unchanged, fails the listing
/// — better than looping, or letting a sync misjudge what is missing. `repeats_keys` admits
/// several entries under one key (versions, snapshots), kept in the service's order.
pub fn paged<'a, F, Fut>(target: String, repeats_keys: bool, fetch: F) -> EntryStream<'a>
where
    F: Fn(Option<String>) -> Fut + Send + Sync + 'a,
    Fut: Future<Output = Result<Page>> + Send + 'a,
{
    let fetch = std::sync::Arc::new(fetch);
    let pages = stream::try_unfold((Some(None::<String>), None::<String>), move |(state, last)| {
        let (fetch, target) = (fetch.clone(), target.clone());
        async move {
            let Some(marker) = state else { return Ok(None) };
            let mut page = fetch(marker.clone()).await?;
            if marker.is_some() && page.next == marker {
                return Err(StoreError::new(
                    ErrorKind::Other,
                    target,
                    "the service returned the same continuation marker twice; stopping the listing rather than looping",
                ));
            }
            page.entries.sort_by(|a, b| crate::cmp_keys(&a.key, &b.key));
            if let (Some(last), Some(first)) = (&last, page.entries.first()) {
                let forward = match crate::cmp_keys(&first.key, last) {
                    std::cmp::Ordering::Greater => true,
                    std::cmp::Ordering::Equal => repeats_keys,
                    std::cmp::Ordering::Less => false,
                };
                if !forward {
                    return Err(StoreError::new(
                        ErrorKind::Other,
                        target,
                        format!(
                            "the listing went backwards (`{}` after `{last}`): the service's order differs from the one Ferry merges by (UTF-16 code units); stopping rather than looping or misjudging what is missing",
                            first.key
                        ),
                    ));
                }
            }
            let last = page.entries.last().map(|e| e.key.clone()).or(last);
            let next = page.next.map(Some);
            Ok(Some((stream::iter(page.entries.into_iter().map(Ok)), (next, last))))
        }
    });
    pages.try_flatten().boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pages(spec: Vec<(Vec<&'static str>, Option<&'static str>)>, repeats: bool) -> Result<Vec<String>> {
        let spec = std::sync::Arc::new(spec);
        let listing = paged("t".into(), repeats, move |marker: Option<String>| {
            let spec = spec.clone();
            async move {
                let i = marker.map_or(0, |m| m.parse::<usize>().unwrap());
                let (keys, next) = &spec[i];
                Ok(Page { entries: keys.iter().map(|k| Entry::object(*k, 0)).collect(), next: next.map(str::to_owned) })
            }
        });
        listing.map_ok(|e| e.key).try_collect().await
    }

    #[tokio::test]
    async fn pages_are_sorted_and_guarded() {
        assert_eq!(pages(vec![(vec!["b", "a"], Some("1")), (vec!["c"], None)], false).await.unwrap(), ["a", "b", "c"]);
        let back = pages(vec![(vec!["b"], Some("1")), (vec!["a"], None)], false).await.unwrap_err();
        assert!(back.to_string().contains("went backwards"), "{back}");
        assert!(pages(vec![(vec!["a"], Some("1")), (vec!["a"], None)], false).await.is_err());
        assert_eq!(pages(vec![(vec!["a"], Some("1")), (vec!["a"], None)], true).await.unwrap(), ["a", "a"]);
        let looping = pages(vec![(vec!["a"], Some("1")), (vec!["b"], Some("1"))], false).await.unwrap_err();
        assert!(looping.to_string().contains("same continuation marker"), "{looping}");
    }
}

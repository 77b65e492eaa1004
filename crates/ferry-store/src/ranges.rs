//! The [`crate::Store::read`] contract's rules for ranges, for backends that read over HTTP: one
//! place for what every service's `read` must do alike.

use std::ops::Range;

use crate::{ErrorKind, Result, StoreError};

/// How a ranged read goes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeRead {
    /// No range: the whole object.
    Whole,
    /// An empty range: nothing to fetch, but the object must exist (check it with a stat).
    Nothing,
    /// A `bytes=FIRST-LAST` value for the service's range header.
    Bytes(String),
}

/// How to read `range` of the object `target` names; a range that ends before it starts is
/// `InvalidInput`.
pub fn plan(target: &str, range: Option<&Range<u64>>) -> Result<RangeRead> {
    match range {
        None => Ok(RangeRead::Whole),
        Some(r) if r.start > r.end => {
            Err(StoreError::new(ErrorKind::InvalidInput, target, "the range ends before it starts"))
        }
        Some(r) if r.start == r.end => Ok(RangeRead::Nothing),
        Some(r) => Ok(RangeRead::Bytes(format!("bytes={}-{}", r.start, r.end - 1))),
    }
}

/// Whether `err` may be a service refusing any range on an empty object (416 for a range from
/// 0), which the contract reads as empty once a stat shows the object is.
pub fn maybe_empty_object(err: &StoreError, range: Option<&Range<u64>>) -> bool {
    err.status() == Some(416) && range.is_some_and(|r| r.start == 0)
}

/// Sends a read of `range` of the object `target` names, as the contract says: `send` makes the
/// request, given the range header's value (`None`: the whole object); `size` stats the object.
/// `None` means the read is empty: an empty range of an object that exists, or a range from 0 of
/// an empty object (which services refuse with 416).
pub async fn fetch<R, S, SF, Z, ZF>(target: &str, range: Option<&Range<u64>>, send: S, size: Z) -> Result<Option<R>>
where
    S: FnOnce(Option<String>) -> SF,
    SF: std::future::Future<Output = Result<R>>,
    Z: Fn() -> ZF,
    ZF: std::future::Future<Output = Result<u64>>,
{
    let bytes = match plan(target, range)? {
        RangeRead::Whole => None,
        RangeRead::Nothing => {
            size().await?;
            return Ok(None);
        }
        RangeRead::Bytes(bytes) => Some(bytes),
    };
    match send(bytes).await {
        Ok(response) => Ok(Some(response)),
        Err(e) if maybe_empty_object(&e, range) => match size().await? {
            0 => Ok(None),
            _ => Err(e),
        },
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_plan_as_the_contract_says() {
        assert_eq!(plan("k", None).unwrap(), RangeRead::Whole);
        assert_eq!(plan("k", Some(&(3..3))).unwrap(), RangeRead::Nothing);
        assert_eq!(plan("k", Some(&(0..10))).unwrap(), RangeRead::Bytes("bytes=0-9".into()));
        #[allow(clippy::reversed_empty_ranges)]
        let backwards = 5..2;
        assert_eq!(plan("k", Some(&backwards)).unwrap_err().kind(), ErrorKind::InvalidInput);
    }
}

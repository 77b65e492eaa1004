//! AzCopy's rules for S3 names at a Blob destination: keys Blob Storage cannot hold as they are
//! are passed over with AzCopy's warning, and (unlike AzCopy, issue #2221) counted as skipped;
//! each object's properties are read (one HEAD, as AzCopy does) and metadata keys Azure cannot
//! hold are excluded, renamed, or fail the object, as `--s2s-handle-invalid-metadata` says.

use std::sync::atomic::{AtomicU64, Ordering};

use ferry_engine::Transfer;
use ferry_store::{ErrorKind, Store, StoreError};
use futures::StreamExt;
use futures::stream::BoxStream;

use crate::{JobContext, JobEvent};

/// Whether Blob Storage cannot hold `key` as a name: it ends in `.` or has a segment that does
/// (`./` anywhere), which the service would trim or refuse.
pub(crate) fn invalid_blob_name(key: &str) -> bool {
    key.ends_with('.') || key.contains("./")
}

/// `transfers` less those whose key Blob Storage cannot hold, each reported with AzCopy's
/// warning and counted in `skipped`.
pub(crate) fn skipping_invalid<'a>(
    transfers: BoxStream<'a, Result<Transfer, StoreError>>,
    skipped: &'a AtomicU64,
    ctx: &'a JobContext,
) -> BoxStream<'a, Result<Transfer, StoreError>> {
    transfers
        .filter(move |t| {
            let keep = match t {
                Ok(t) if invalid_blob_name(&t.source_key) => {
                    skipped.fetch_add(1, Ordering::Relaxed);
                    ctx.events.event(&JobEvent::Warning(&format!(
                        "Skipping S3 object {}, as it is not a valid Blob name. Rename the object and retry the transfer",
                        t.source_key
                    )));
                    false
                }
                _ => true,
            };
            futures::future::ready(keep)
        })
        .boxed()
}

/// `transfers` of a whole S3 service (or GCS project) with each bucket's objects going to the container AzCopy's
/// rules name for it (`my.bucket` → `my-bucket`); each renamed bucket is reported once, and a
/// bucket that cannot be named fails its objects.
pub(crate) fn into_containers<'a>(
    transfers: BoxStream<'a, Result<Transfer, StoreError>>,
    names: &'a ferry_core::BucketNames,
    service: ferry_core::LocationKind,
    ctx: &'a JobContext,
) -> BoxStream<'a, Result<Transfer, StoreError>> {
    for (bucket, container) in names.renamed() {
        ctx.events.event(&JobEvent::Warning(&format!(
            "the {service} bucket `{bucket}` is not a valid container name: its objects go to the container `{container}`"
        )));
    }
    transfers
        .map(move |t| {
            let mut t = t?;
            let (bucket, rest) = t.dest_key.split_once('/').unwrap_or((&t.dest_key, ""));
            let Some(container) = names.container(bucket) else {
                return Err(StoreError::new(
                    ErrorKind::InvalidInput,
                    &t.source_key,
                    format!("the bucket name `{bucket}` is not a valid container name, and Ferry could not make it one (too long)"),
                )
                .with_hint("copy this bucket on its own, into a container you name"));
            };
            t.dest_key = format!("{container}/{rest}");
            Ok(t)
        })
        .boxed()
}

/// What `--s2s-handle-invalid-metadata` does with metadata keys Azure cannot hold (Azure keys
/// are C# identifiers; S3 allows `original-filename`, `123abc`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum InvalidMetadata {
    /// Leave such keys out (AzCopy's default), noting it in the job log.
    #[default]
    Exclude,
    /// Fail the object.
    Fail,
    /// Store the value as `rename_KEY` and the original key as `rename_key_KEY`, with every
    /// character other than a letter, digit or `_` made `_`.
    Rename,
}

/// HEADs fetched at once while listing.
const HEADS_IN_FLIGHT: usize = 16;

/// `transfers` with each object's content headers and metadata read from `source` (one HEAD
/// each, 16 at a time, in order), its metadata made fit for Azure as `rule` says. A failed HEAD
/// or a `Fail` fails that object only.
pub(crate) fn with_properties<'a>(
    transfers: BoxStream<'a, Result<Transfer, StoreError>>,
    source: &'a dyn Store,
    rule: InvalidMetadata,
) -> BoxStream<'a, Result<Transfer, StoreError>> {
    transfers
        .map(move |t| async move {
            let mut t = t?;
            let entry = source.stat(&t.source_key).await?;
            let mut props = entry.properties.unwrap_or_default();
            props.metadata = fit_metadata(&t.source_key, std::mem::take(&mut props.metadata), rule)?;
            t.properties = Some(props);
            Ok(t)
        })
        .buffered(HEADS_IN_FLIGHT)
        .boxed()
}

/// `transfers` from another cloud made fit for a Blob destination: from S3, names Blob cannot
/// hold skipped (and counted in `invalid_names`) and, when properties are kept, each object's
/// read (one HEAD each); from GCS (no such names, and listings carry every property) the listed
/// metadata fitted. Other transfers pass as they are.
pub(crate) fn for_blob<'a>(
    (source, dest): (&'a crate::open::Side, &crate::open::Side),
    properties: Option<InvalidMetadata>,
    transfers: BoxStream<'a, Result<Transfer, StoreError>>,
    invalid_names: &'a AtomicU64,
    ctx: &'a JobContext,
) -> BoxStream<'a, Result<Transfer, StoreError>> {
    use ferry_core::LocationKind::{Blob, Gcs, S3};
    match (source.kind, dest.kind, properties) {
        (S3, Blob, properties) => {
            let named = skipping_invalid(transfers, invalid_names, ctx);
            match properties {
                Some(rule) => with_properties(named, &*source.store, rule),
                None => named,
            }
        }
        (Gcs, Blob, Some(rule)) => fitting_metadata(transfers, rule),
        _ => transfers,
    }
}

/// `transfers` whose listed properties already hold the metadata (GCS), with it made fit for
/// Azure as `rule` says.
fn fitting_metadata(
    transfers: BoxStream<'_, Result<Transfer, StoreError>>,
    rule: InvalidMetadata,
) -> BoxStream<'_, Result<Transfer, StoreError>> {
    transfers
        .map(move |t| {
            let mut t = t?;
            if let Some(props) = t.properties.as_mut() {
                props.metadata = fit_metadata(&t.source_key, std::mem::take(&mut props.metadata), rule)?;
            }
            Ok(t)
        })
        .boxed()
}

/// Whether Azure takes `key` as a metadata name: a C# identifier.
fn valid_metadata_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `metadata` with its invalid keys handled by `rule`, AzCopy's way and with its words.
fn fit_metadata(
    source_key: &str,
    metadata: std::collections::BTreeMap<String, String>,
    rule: InvalidMetadata,
) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
    let invalid: Vec<String> = metadata.keys().filter(|k| !valid_metadata_key(k)).cloned().collect();
    if invalid.is_empty() {
        return Ok(metadata);
    }
    let listed = invalid.join(",");
    match rule {
        InvalidMetadata::Exclude => {
            tracing::warn!(target: crate::JOB_TARGET, "METADATAWARNING: For source \"{source_key}\", invalid metadata with keys '{listed}' are excluded");
            Ok(metadata.into_iter().filter(|(k, _)| valid_metadata_key(k)).collect())
        }
        InvalidMetadata::Fail => Err(StoreError::new(
            ErrorKind::InvalidInput,
            source_key,
            format!("metadata with keys '{listed}' in source is invalid, and application parameters specify that error should be reported when invalid keys are found"),
        )
        .with_hint("rename the keys at the source, or use --s2s-handle-invalid-metadata ExcludeIfInvalid or RenameIfInvalid")),
        InvalidMetadata::Rename => {
            let mut fit = metadata.clone();
            for key in &invalid {
                let value = fit.remove(key).unwrap_or_default();
                let word: String = key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
                let (name, original) = (format!("rename_{word}"), format!("rename_key_{word}"));
                if fit.contains_key(&name) || fit.contains_key(&original) {
                    return Err(StoreError::new(
                        ErrorKind::InvalidInput,
                        source_key,
                        format!("failed to rename invalid metadata key \"{key}\""),
                    ));
                }
                fit.insert(name, value);
                fit.insert(original, key.clone());
            }
            Ok(fit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_metadata_keys_are_excluded_renamed_or_fail() {
        let metadata: std::collections::BTreeMap<String, String> =
            [("fine_key", "1"), ("123-invalid", "2"), ("has-dash", "3")].map(|(k, v)| (k.into(), v.into())).into();
        let kept = fit_metadata("k", metadata.clone(), InvalidMetadata::Exclude).unwrap();
        assert_eq!(kept.keys().collect::<Vec<_>>(), ["fine_key"]);
        let renamed = fit_metadata("k", metadata.clone(), InvalidMetadata::Rename).unwrap();
        assert_eq!(renamed["rename_123_invalid"], "2");
        assert_eq!(renamed["rename_key_123_invalid"], "123-invalid");
        assert_eq!(renamed["rename_has_dash"], "3");
        let failed = fit_metadata("k", metadata, InvalidMetadata::Fail).unwrap_err();
        assert!(failed.to_string().contains("metadata with keys '123-invalid,has-dash' in source is invalid"));
    }

    #[test]
    fn trailing_dots_in_any_segment_are_invalid() {
        for bad in ["a.", "dir./x", "a/b/c.", "./x"] {
            assert!(invalid_blob_name(bad), "{bad}");
        }
        for good in ["a.txt", ".hidden", "a..b", "dir/.x", "a//b"] {
            assert!(!invalid_blob_name(good), "{good}");
        }
    }
}

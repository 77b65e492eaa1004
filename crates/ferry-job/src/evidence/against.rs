//! `ferry jobs evidence verify FILE --against DESTINATION`: the destination still holds every
//! object the evidence says was copied, with the recorded size and MD5.

use std::path::Path;

use futures::StreamExt;

use super::check::{EvidenceCheck, check_evidence, check_records};
use super::records::Object;
use crate::{Endpoint, JobContext, JobError, JobEvent, Role};

/// What a check against the destination found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgainstSummary {
    /// Copied objects checked.
    pub checked: u64,
    /// Those the destination holds as recorded.
    pub held: u64,
    /// Those it does not (missing, another size, another MD5).
    pub differ: u64,
}

/// How many objects are checked at once.
const AT_ONCE: usize = 16;

/// How many differences are named one by one (the rest are counted).
const NAMED: u64 = 50;

/// Checks the evidence in `path`, then that `destination` (the evidence's own when `None`) holds
/// every copied object as recorded. Differences are an error of class differences (exit 3).
pub async fn check_against(
    path: &Path,
    destination: Option<Endpoint>,
    ctx: &JobContext,
) -> Result<(EvidenceCheck, AgainstSummary), JobError> {
    // The header names the destination; the chain is checked as the records stream past.
    let named = check_evidence(path)?;
    let endpoint = match destination {
        Some(endpoint) => endpoint,
        None => {
            let location = ferry_core::Location::parse(&named.destination, ferry_core::LocationHint::Infer)?;
            Endpoint::from_location(&location).0
        }
    };
    let location = endpoint.to_location(ctx.secrets.sas(Role::Destination))?;
    let side = crate::open::root_side(&location, Role::Destination, ctx)?;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Object>(AT_ONCE * 4);
    let file = path.to_owned();
    let reading = tokio::task::spawn_blocking(move || {
        check_records(&file, |object| {
            if object.outcome == "copied" {
                let _ = sender.blocking_send(object.clone());
            }
        })
    });
    let mut summary = AgainstSummary::default();
    let mut checks = tokio_stream::wrappers::ReceiverStream::new(receiver)
        .map(|object| {
            let store = side.store.clone();
            async move {
                let found = held(&*store, &object).await;
                (object, found)
            }
        })
        .buffer_unordered(AT_ONCE);
    while let Some((object, found)) = checks.next().await {
        summary.checked += 1;
        match found {
            Ok(()) => summary.held += 1,
            Err(why) => {
                summary.differ += 1;
                if summary.differ <= NAMED {
                    ctx.events.event(&JobEvent::Warning(&format!("{}{}: {why}", side.shown_base, object.destination)));
                }
            }
        }
    }
    let check = reading.await.map_err(|e| JobError::failed(e.to_string()))??;
    if summary.differ > 0 {
        return Err(JobError::differences(format!(
            "{} of {} copied objects are not at {} as the evidence records them",
            summary.differ, summary.checked, side.shown_base
        )));
    }
    Ok((check, summary))
}

/// Whether `store` holds `object` with its recorded size and MD5; why not, if not.
async fn held(store: &dyn ferry_store::Store, object: &Object) -> Result<(), String> {
    let entry = store.stat(&object.destination).await.map_err(|e| match e.kind() {
        ferry_store::ErrorKind::NotFound => "missing".to_owned(),
        _ => format!("cannot be checked: {e}"),
    })?;
    if entry.size != object.size {
        return Err(format!("{} bytes, the evidence records {}", entry.size, object.size));
    }
    let Some(recorded) = object.md5_bytes() else { return Ok(()) };
    let actual = match entry.content_md5 {
        Some(stored) => stored,
        None => crate::verify::hash(store, &object.destination).await.map_err(|e| format!("cannot be read: {e}"))?,
    };
    if actual != recorded {
        return Err("its MD5 is not the one the evidence records".into());
    }
    Ok(())
}

//! A remove job: delete a blob, or the blobs under a prefix, each deletion journaled. A resumed
//! job lists again: what an earlier run deleted is no longer there, and what is gone already
//! counts as deleted.

use ferry_store::{Entry, StoreError};
use futures::future::BoxFuture;

use crate::delete::{Deleter, Deletion};
use crate::lifecycle::Run;
use crate::spec::RemoveSpec;
use crate::targets::{PerBlob, Scope, run_per_blob, split_version_key};
use crate::{JobContext, JobEvent};

/// Deletes each blob through the journaled deleter.
struct Remove<'a>(Deleter<'a>);

impl PerBlob for Remove<'_> {
    const VERB: &'static str = "removing";
    const ACTION: &'static str = "remove";

    fn apply<'a>(&'a self, entry: &'a Entry) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            match self.0.delete(&entry.key, entry.size, String::new).await {
                Deletion::Deleted | Deletion::Kept => Ok(()),
                Deletion::Failed(error) => Err(error),
            }
        })
    }

    fn planned(&self, target: &str, ctx: &JobContext) {
        ctx.events.event(&JobEvent::PlannedDelete { target, extra: false });
    }

    fn done(&self, target: &str, ctx: &JobContext) {
        ctx.events.event(&JobEvent::Deleted { target, extra: false });
    }

    fn failed(&self, target: &str, error: &StoreError, ctx: &JobContext) {
        ctx.events.event(&JobEvent::DeleteFailed { target, error });
    }
}

/// Runs a remove job.
pub(crate) async fn run(run: Run<'_>, remove: &RemoveSpec) -> Result<(), crate::JobError> {
    let scope = Scope {
        target: &remove.target,
        recursive: remove.recursive,
        filter: &remove.filter,
        dry_run: remove.dry_run,
        versions: &remove.versions,
    };
    let snapshots = remove.delete_snapshots.clone();
    let versions = !remove.versions.is_empty();
    run_per_blob(run, scope, move |store, journal| {
        Remove(Deleter {
            delete: Box::new(move |key| {
                let (store, snapshots) = (store.clone(), snapshots.clone());
                Box::pin(async move {
                    match split_version_key(&key).filter(|_| versions) {
                        Some((name, version)) => store.at_version(name, version).delete_blob(name, None).await,
                        None => store.delete_blob(&key, snapshots.as_deref()).await,
                    }
                })
            }),
            journal,
            prompt: None,
        })
    })
    .await
}

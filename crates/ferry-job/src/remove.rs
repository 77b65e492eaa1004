//! A remove job: delete a blob, or the blobs under a prefix, each deletion journaled. A resumed
//! job lists again: what an earlier run deleted is no longer there, and what is gone already
//! counts as deleted.

use ferry_store::{Entry, Store as _, StoreError};
use futures::future::BoxFuture;

use crate::delete::{Deleter, Deletion};
use crate::lifecycle::Run;
use crate::spec::RemoveSpec;
use crate::targets::{Opened, PerBlob, Point, Scope, run_per_blob, split_point_key};
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
        purge: remove.permanent_delete,
        files: remove.files,
    };
    let snapshots = remove.delete_snapshots.clone();
    // The keys name snapshots or versions only when the job is about them (a snapshot or
    // version URL, a version list, a purge): a blob's own name may hold `?versionid=`.
    let pointed = ferry_core::Location::parse(&remove.target.location, ferry_core::LocationHint::Infer)
        .ok()
        .and_then(|l| l.as_blob().map(|u| u.point_in_time().is_some()))
        .unwrap_or(false);
    let points = pointed || !remove.versions.is_empty() || remove.permanent_delete.is_some();
    let purge = remove.permanent_delete.is_some();
    if purge {
        // AzCopy's warning, word for word: scripts look for it.
        run.ctx.events.event(&JobEvent::Info(
            "Permanent delete is a PREVIEW feature and soft-deleted snapshots/versions will be deleted PERMANENTLY. Please proceed with caution.",
        ));
    }
    let ctx = run.ctx;
    let tidy = remove.target.kind == crate::EndpointKind::Files && remove.recursive && !remove.dry_run;
    run_per_blob(run, scope, move |opened, journal| {
        let delete: crate::delete::DeleteFn<'_> = match opened {
            Opened::Files(store) => Box::new(move |key| {
                let store = store.clone();
                Box::pin(async move { store.delete(&key).await })
            }),
            Opened::Blob(store) => Box::new(move |key| {
                let (store, snapshots) = (store.clone(), snapshots.clone());
                Box::pin(async move {
                    let at = |name: &str, point: Point<'_>| match point {
                        Point::Snapshot(time) => store.at_snapshot(name, time),
                        Point::Version(id) => store.at_version(name, id),
                    };
                    match split_point_key(&key).filter(|_| points) {
                        Some((name, point)) if purge => at(name, point).purge(name).await,
                        Some((name, point)) => at(name, point).delete_blob(name, None).await,
                        None => store.delete_blob(&key, snapshots.as_deref()).await,
                    }
                })
            }),
        };
        Ok(Remove(Deleter { delete, journal, prompt: None }))
    })
    .await?;
    if tidy {
        remove_emptied_directories(remove, ctx).await?;
    }
    Ok(())
}

/// After a recursive remove on Azure Files: the directories left empty go too, as AzCopy removes
/// a share's folders with their files (a directory that still holds anything — a file the
/// filters kept — is kept).
async fn remove_emptied_directories(remove: &RemoveSpec, ctx: &JobContext) -> Result<(), crate::JobError> {
    let Ok(ferry_core::Location::Files(url)) = remove.target.to_location(ctx.secrets.sas(crate::Role::Source)) else {
        return Ok(());
    };
    let options = crate::open::SideOptions { files: remove.files, ..crate::open::SideOptions::default() };
    let (side, store) = crate::open::files_side(&url, crate::Role::Source, ctx, options)?;
    let removed =
        store.remove_empty_directories(url.path(), !url.contents_only()).await.map_err(|e| side.explain(e.into()))?;
    if removed > 0 {
        ctx.events.event(&JobEvent::Info(&format!("Removed {removed} empty directories")));
    }
    Ok(())
}

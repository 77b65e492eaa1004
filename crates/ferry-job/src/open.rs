//! The one place that turns a location into a store: the only `match` over the kinds of place
//! Ferry knows. A new backend is one arm here (and a [`crate::CredentialRef`] if it needs one).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferry_azure::AzureStore;
use ferry_core::{BlobUrl, FileUrl, GcsUrl, Location, LocationKind, S3Url};
use ferry_store::{ErrorKind, ListDepth, LocalStore, Store};
use futures::TryStreamExt;

use crate::credentials::{CredentialSource, client_for, explain_auth};
use crate::naming::{DestShape, SourceShape};
use crate::{JobContext, JobError, JobEvent, Role};

/// One side of a job, opened.
pub(crate) struct Side {
    /// Where its credential came from.
    pub(crate) credential: CredentialSource,
    /// The token source, when it signs in with Microsoft Entra ID (for messages).
    pub(crate) token: Option<Arc<dyn ferry_azure::TokenSource>>,
    /// The store.
    pub(crate) store: Arc<dyn Store>,
    /// How keys of this store are shown: a path or a URL (no secrets) ending in `/`.
    pub(crate) shown_base: String,
    /// What kind of place it is.
    pub(crate) kind: LocationKind,
    /// The directory a local side is rooted at.
    pub(crate) local_root: Option<PathBuf>,
    /// For a whole S3 service: the container name each bucket becomes at a Blob destination.
    pub(crate) bucket_names: Option<ferry_core::BucketNames>,
}

impl Side {
    /// Adds which credential was used to an authentication or permission failure.
    pub(crate) fn explain(&self, err: JobError) -> JobError {
        explain_auth(err, self.credential, self.token.as_deref())
    }
}

/// A local side rooted at `root`, whose listings pass over symbolic links.
pub(crate) fn local_side(root: &Path) -> Side {
    local_side_with(root, SideOptions::default())
}

/// How a side is opened: a local source's links and POSIX properties, and an Azure Files side's
/// flags.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SideOptions {
    pub(crate) links: ferry_store::Links,
    pub(crate) posix: Option<ferry_store::PosixStyle>,
    pub(crate) skip_hardlinks: bool,
    pub(crate) files: crate::FilesFlags,
    /// An Azure Files source's entries carry their permissions as SDDL.
    pub(crate) read_permissions: bool,
}

/// How a local source's links are listed: followed (`--follow-symlinks`), kept as links
/// (`--preserve-symlinks`), or passed over and counted.
pub(crate) fn links(follow: bool, preserve: bool) -> ferry_store::Links {
    match (follow, preserve) {
        (true, _) => ferry_store::Links::Follow,
        (false, true) => ferry_store::Links::Preserve,
        (false, false) => ferry_store::Links::Skip,
    }
}

/// A local side rooted at `root` that lists as `listing` says.
pub(crate) fn local_side_with(root: &Path, listing: SideOptions) -> Side {
    let shown = root.display().to_string();
    let shown_base = if shown.ends_with('/') { shown } else { format!("{shown}/") };
    Side {
        credential: CredentialSource::Local,
        token: None,
        store: Arc::new(
            LocalStore::new(root)
                .with_links(listing.links)
                .with_posix(listing.posix)
                .skipping_hardlinks(listing.skip_hardlinks),
        ),
        shown_base,
        kind: LocationKind::Local,
        local_root: Some(root.to_path_buf()),
        bucket_names: None,
    }
}

/// Opens a Blob container: its store, and the side that shows and explains it.
pub(crate) fn blob_side(url: &BlobUrl, role: Role, ctx: &JobContext) -> Result<(Side, AzureStore), JobError> {
    check_plain_http(url, ctx)?;
    if role == Role::Destination && url.point_in_time().is_some() {
        return Err(JobError::usage(format!("`{url}` names a snapshot or version, which cannot be written"))
            .with_hint("give the blob's URL without snapshot= or versionid="));
    }
    let Some(container) = url.container() else {
        return Err(JobError::usage(format!("`{url}` names no container")).with_hint("add the container to the URL"));
    };
    let (client, credential) = signed_client(url, role, ctx)?;
    let store = AzureStore::new(client, url)?.with_cpk(ctx.secrets.cpk.clone());
    let side = azure_side(url, container, credential, ctx, Arc::new(store.clone()), LocationKind::Blob);
    Ok((side, store))
}

/// Opens an Azure Files share: its store, and the side that shows and explains it. Signing is
/// Blob's (the same account key, SAS and Entra rules), so the credential is found the same way.
pub(crate) fn files_side(
    url: &FileUrl,
    role: Role,
    ctx: &JobContext,
    options: SideOptions,
) -> Result<(Side, ferry_files::FilesStore), JobError> {
    let azure = url.azure();
    check_plain_http(azure, ctx)?;
    let Some(share) = url.share() else {
        return Err(JobError::usage(format!("`{url}` names no file share")).with_hint("add the share to the URL"));
    };
    let (client, credential) = signed_client(azure, role, ctx)?;
    let store = ferry_files::FilesStore::new(client, azure)?
        .with_trailing_dot(options.files.trailing_dot)
        .forcing_read_only(options.files.force_if_read_only)
        .reading_permissions(options.read_permissions && role == Role::Source);
    let side = azure_side(azure, share, credential, ctx, Arc::new(store.clone()), LocationKind::Files);
    Ok((side, store))
}

/// The client for an Azure service (Blob or Files) and where its credential came from; says so
/// when the side signs in with Microsoft Entra ID.
fn signed_client(
    url: &BlobUrl,
    role: Role,
    ctx: &JobContext,
) -> Result<(ferry_azure::BlobClient, CredentialSource), JobError> {
    let (client, credential) = client_for(url, role, ctx)?;
    if credential == CredentialSource::Entra {
        // AzCopy's line, which scripts and people look for to see how a side is signed in.
        ctx.events.event(&JobEvent::Info(&format!("Authenticating to {} using Azure AD", role.as_str())));
    }
    Ok((client, credential))
}

/// The side of an Azure container or share `top` at `url`'s account, shown without secrets.
fn azure_side(
    url: &BlobUrl,
    top: &str,
    credential: CredentialSource,
    ctx: &JobContext,
    store: Arc<dyn Store>,
    kind: LocationKind,
) -> Side {
    let shown_base = format!("{}/", url.with_sas(None).with_container_and_path(Some(top), ""));
    let token = (credential == CredentialSource::Entra).then(|| ctx.secrets.token.clone()).flatten();
    Side { credential, token, store, shown_base, kind, local_root: None, bucket_names: None }
}

/// A client for `url`'s service with the context's AWS credentials and region.
fn s3_client(url: &S3Url, ctx: &JobContext) -> Result<ferry_s3::S3Client, JobError> {
    if let Some(problem) = &ctx.secrets.aws_problem {
        return Err(JobError::usage(format!("the AWS credentials cannot be used: {problem}"))
            .with_hint(format!("set {}", ferry_s3::credentials::SOURCES)));
    }
    let region = url.region().map(str::to_owned).or_else(|| ctx.secrets.aws_region.clone());
    Ok(ferry_s3::S3Client::new(ctx.http.clone(), ctx.secrets.aws.clone(), region.as_deref().unwrap_or("us-east-1"))?)
}

/// Opens a whole S3 service (every bucket, less those in `exclude`) as one tree whose keys start
/// with the bucket's name, with the container name each bucket takes at a Blob destination
/// (AzCopy's rules, applied to every bucket so that leaving some out changes no other's name).
async fn s3_service_side(url: &S3Url, exclude: &[String], ctx: &JobContext) -> Result<Side, JobError> {
    check_http(url.endpoint(), &url.to_string(), ctx)?;
    let client = s3_client(url, ctx)?;
    let credential = if ctx.secrets.aws.is_some() { CredentialSource::AwsKey } else { CredentialSource::Anonymous };
    let buckets = ferry_s3::list_buckets(&client, url)
        .await
        .map_err(|e| crate::credentials::explain_auth(e.into(), credential, None))?;
    let names = ferry_s3::BucketNames::new(&buckets);
    let buckets = buckets.into_iter().filter(|b| !exclude.contains(b)).collect();
    let store = ferry_s3::service_store(client, url, buckets);
    Ok(Side {
        credential,
        token: None,
        store: Arc::new(store),
        shown_base: format!("{}/", url.endpoint().as_str().trim_end_matches('/')),
        kind: LocationKind::S3,
        local_root: None,
        bucket_names: Some(names),
    })
}

/// Opens an S3 bucket: its store (signed with the context's AWS key pair, or anonymous), and
/// the side that shows and explains it.
pub(crate) fn s3_side(url: &S3Url, ctx: &JobContext) -> Result<(Side, ferry_s3::S3Store), JobError> {
    check_http(url.endpoint(), &url.to_string(), ctx)?;
    let Some(bucket) = url.bucket() else {
        return Err(JobError::usage(format!("`{url}` names no bucket")).with_hint("add the bucket to the URL"));
    };
    let client = s3_client(url, ctx)?;
    // A destination service reads objects by presigned URL when the job copies server-side.
    let mut store = ferry_s3::S3Store::new(client, url)?.readable_by_url(true);
    if let Some(seconds) = ctx.limits.presign_seconds {
        store = store.with_presign_seconds(seconds);
    }
    let credential = if ctx.secrets.aws.is_some() { CredentialSource::AwsKey } else { CredentialSource::Anonymous };
    let shown_base = url.bucket_url(bucket).to_string();
    let side = Side {
        credential,
        token: None,
        store: Arc::new(store.clone()),
        shown_base,
        kind: LocationKind::S3,
        local_root: None,
        bucket_names: None,
    };
    Ok((side, store))
}

/// A GCS client as the environment says: its endpoint, and the service account (if a key file
/// is named) that signs in and signs URLs.
fn gcs_client(ctx: &JobContext) -> Result<(ferry_gcs::GcsClient, CredentialSource), JobError> {
    let env = &ctx.secrets.gcs;
    let endpoint = env.endpoint().map_err(|e| {
        JobError::usage(e)
            .with_hint("set STORAGE_EMULATOR_HOST=HOST:PORT for an emulator, or unset it for Google's endpoint")
    })?;
    let account = env.account().map_err(JobError::from)?.map(Arc::new);
    let credential = if account.is_some() && !endpoint.is_emulator() {
        CredentialSource::GcsKey
    } else {
        CredentialSource::Anonymous
    };
    Ok((ferry_gcs::GcsClient::new(ctx.http.clone(), endpoint, account)?, credential))
}

/// Opens every bucket of a GCS project (less those in `exclude`) as one tree whose keys start
/// with the bucket's name, with the container name each bucket takes at a Blob destination.
async fn gcs_service_side(url: &GcsUrl, exclude: &[String], ctx: &JobContext) -> Result<Side, JobError> {
    let (client, credential) = gcs_client(ctx)?;
    check_http(client.endpoint().base(), &url.to_string(), ctx)?;
    let Some(project) = ctx.secrets.gcs.project_of(client.account()) else {
        return Err(JobError::usage("copying every bucket of GCS needs the project whose buckets to list")
            .with_hint("set GOOGLE_CLOUD_PROJECT to the project id, or name a bucket in the URL"));
    };
    let buckets = ferry_gcs::list_buckets(&client, &project)
        .await
        .map_err(|e| crate::credentials::explain_auth(e.into(), credential, None))?;
    let names = ferry_core::BucketNames::for_gcs(&buckets);
    let buckets = buckets.into_iter().filter(|b| !exclude.contains(b)).collect();
    let seconds = ctx.limits.presign_seconds.unwrap_or(ferry_gcs::signing::MAX_SIGNED_SECONDS);
    Ok(Side {
        credential,
        token: None,
        store: Arc::new(ferry_gcs::service_store(client, buckets, seconds)),
        shown_base: "https://storage.cloud.google.com/".to_owned(),
        kind: LocationKind::Gcs,
        local_root: None,
        bucket_names: Some(names),
    })
}

/// The refusal of GCS as a destination.
fn gcs_destination(url: &GcsUrl) -> JobError {
    JobError::usage(format!("`{url}`: GCS as a destination is not supported"))
        .with_hint("copy from GCS to Blob Storage or a local folder")
}

/// Opens a GCS bucket as a source: its store and the side that shows and explains it.
pub(crate) fn gcs_side(url: &GcsUrl, role: Role, ctx: &JobContext) -> Result<(Side, ferry_gcs::GcsStore), JobError> {
    if role == Role::Destination {
        return Err(gcs_destination(url));
    }
    let Some(bucket) = url.bucket() else {
        return Err(JobError::usage(format!("`{url}` names no bucket")).with_hint("add the bucket to the URL"));
    };
    let (client, credential) = gcs_client(ctx)?;
    check_http(client.endpoint().base(), &url.to_string(), ctx)?;
    let mut store = ferry_gcs::GcsStore::new(client, bucket).readable_by_url(true);
    if let Some(seconds) = ctx.limits.presign_seconds {
        store = store.with_signed_seconds(seconds);
    }
    let side = Side {
        credential,
        token: None,
        store: Arc::new(store.clone()),
        shown_base: format!("{}/", url.with_bucket_and_object(Some(bucket), "").to_string().trim_end_matches('/')),
        kind: LocationKind::Gcs,
        local_root: None,
        bucket_names: None,
    };
    Ok((side, store))
}

/// Opens a whole account (its containers, less `exclude`) as one tree whose keys start with the
/// container's name: an account-level copy's source or destination.
pub(crate) fn account_side(url: &BlobUrl, role: Role, ctx: &JobContext, exclude: &[String]) -> Result<Side, JobError> {
    check_plain_http(url, ctx)?;
    let (client, credential) = client_for(url, role, ctx)?;
    if credential == CredentialSource::Entra {
        ctx.events.event(&JobEvent::Info(&format!("Authenticating to {} using Azure AD", role.as_str())));
    }
    let store = ferry_azure::AccountStore::new(client, url, exclude.to_vec()).with_cpk(ctx.secrets.cpk.clone());
    let token = (credential == CredentialSource::Entra).then(|| ctx.secrets.token.clone()).flatten();
    Ok(Side {
        credential,
        token,
        store: Arc::new(store),
        shown_base: format!(
            "{}/",
            url.with_sas(None).with_container_and_path(None, "").to_string().trim_end_matches('/')
        ),
        kind: LocationKind::Blob,
        local_root: None,
        bucket_names: None,
    })
}

/// A client for an account or container URL, for commands that are not jobs (`list`, `make`):
/// the same credential rules and plain-HTTP check as a job's.
pub fn blob_client(url: &BlobUrl, ctx: &JobContext) -> Result<(ferry_azure::BlobClient, CredentialUse), JobError> {
    check_plain_http(url, ctx)?;
    let (client, credential) = client_for(url, Role::Source, ctx)?;
    let token = (credential == CredentialSource::Entra).then(|| ctx.secrets.token.clone()).flatten();
    Ok((client, CredentialUse(credential, token)))
}

/// Which credential a [`blob_client`] uses, to explain a refusal.
#[derive(Debug, Clone)]
pub struct CredentialUse(CredentialSource, Option<Arc<dyn ferry_azure::TokenSource>>);

impl CredentialUse {
    /// Adds which credential was used to an authentication or permission failure.
    pub fn explain(&self, err: JobError) -> JobError {
        explain_auth(err, self.0, self.1.as_deref())
    }
}

/// Refuses plain `http://` to anything but this machine: data and credentials (a SAS, a Shared
/// Key signature) would cross the network unencrypted, unless the context allows it (with a
/// warning). Loopback (an emulator) is always allowed.
fn check_plain_http(url: &BlobUrl, ctx: &JobContext) -> Result<(), JobError> {
    check_http(&url.with_sas(None).service_url(), &url.to_string(), ctx)
}

/// [`check_plain_http`] for any endpoint: `endpoint` is checked, `shown` names it.
fn check_http(endpoint: &url::Url, shown: &str, ctx: &JobContext) -> Result<(), JobError> {
    if endpoint.scheme() != "http" || ferry_core::is_loopback_url(endpoint) {
        return Ok(());
    }
    if !ctx.allow_plain_http {
        return Err(JobError::usage(format!(
            "`{shown}` uses plain http://, which would send data and credentials unencrypted"
        ))
        .with_hint("use https://; if this network is trusted, set FERRY_ALLOW_HTTP=true to allow it"));
    }
    ctx.events.event(&JobEvent::Warning(&format!(
        "`{shown}` uses plain http://: data and credentials cross the network unencrypted (FERRY_ALLOW_HTTP=true)"
    )));
    Ok(())
}

/// Opens a copy's source and works out what it names.
pub(crate) async fn copy_source(
    location: &Location,
    exclude_containers: &[String],
    listing: SideOptions,
    ctx: &JobContext,
) -> Result<(Side, SourceShape), JobError> {
    match location {
        Location::Local(path) => {
            let root = path.root();
            let local_side = |root: &Path| local_side_with(root, listing);
            if path.pattern().is_some() {
                // The wildcard itself is applied as a filter (see `Selection`).
                return Ok((local_side(root), SourceShape::Contents { prefix: String::new() }));
            }
            let meta =
                std::fs::metadata(root).map_err(|e| ferry_store::StoreError::from_io(e, root.display().to_string()))?;
            let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if meta.is_dir() {
                Ok((local_side(root), SourceShape::Directory { prefix: String::new(), name }))
            } else {
                let parent = root.parent().unwrap_or(Path::new("/"));
                Ok((local_side(parent), SourceShape::Object { key: name.clone(), name }))
            }
        }
        Location::Blob(url) => {
            if url.container().is_none() {
                // Every container, each as a top-level folder of the copy (AzCopy's account copy).
                let side = account_side(url, Role::Source, ctx, exclude_containers)?;
                return Ok((side, SourceShape::Contents { prefix: String::new() }));
            }
            let (side, store) = blob_side(url, Role::Source, ctx)?;
            let shape = blob_source_shape(url, &store, &side).await?;
            Ok((side, shape))
        }
        Location::S3(url) if url.bucket().is_none() => {
            // Every bucket, each as a top-level folder of the copy (AzCopy's service-level copy).
            Ok((s3_service_side(url, exclude_containers, ctx).await?, SourceShape::Contents { prefix: String::new() }))
        }
        Location::S3(url) => {
            let (side, store) = s3_side(url, ctx)?;
            let shape =
                source_shape(&url.to_string(), url.key(), url.contents_only(), store.bucket(), &store, &side, "object")
                    .await?;
            Ok((side, shape))
        }
        Location::Gcs(url) if url.bucket().is_none() => {
            Ok((gcs_service_side(url, exclude_containers, ctx).await?, SourceShape::Contents { prefix: String::new() }))
        }
        Location::Files(url) => {
            let (side, store) = files_side(url, Role::Source, ctx, listing)?;
            let share = url.share().unwrap_or_default();
            let shape =
                source_shape(&url.to_string(), url.path(), url.contents_only(), share, &store, &side, "file").await?;
            Ok((side, shape))
        }
        Location::Gcs(url) => {
            let (side, store) = gcs_side(url, Role::Source, ctx)?;
            let (path, contents) = (url.object(), url.contents_only());
            let shape = source_shape(&url.to_string(), path, contents, store.bucket(), &store, &side, "object").await?;
            Ok((side, shape))
        }
    }
}

/// Opens the source of `copy --list-of-versions`: versions of the one blob `location` names,
/// as a directory of files named after them (`VERSION-NAME`, as AzCopy names them).
pub(crate) fn versions_source(
    location: &Location,
    versions: &[String],
    ctx: &JobContext,
) -> Result<(Side, SourceShape), JobError> {
    let not_a_blob = || {
        JobError::usage("--list-of-versions downloads versions of one blob: the source must be that blob's URL")
            .with_hint("give the blob's URL, without snapshot= or versionid=")
    };
    let Location::Blob(url) = location else { return Err(not_a_blob()) };
    let path = url.path();
    if url.container().is_none() || path.is_empty() || path.ends_with('/') || url.contents_only() {
        return Err(not_a_blob());
    }
    if url.point_in_time().is_some() {
        return Err(not_a_blob());
    }
    let (mut side, store) = blob_side(url, Role::Source, ctx)?;
    side.store = Arc::new(ferry_azure::VersionsStore::new(&store, path, versions));
    let parent = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    if !parent.is_empty() {
        side.shown_base = format!("{}{parent}/", side.shown_base);
    }
    Ok((side, SourceShape::Contents { prefix: String::new() }))
}

/// What a Blob URL names: one blob, a virtual directory, or a directory's contents.
async fn blob_source_shape(url: &BlobUrl, store: &AzureStore, side: &Side) -> Result<SourceShape, JobError> {
    let root = url.container().unwrap_or_default();
    source_shape(&url.to_string(), url.path(), url.contents_only(), root, store, side, "blob").await
}

/// What a service URL names, from its path (decoded, relative to the container or bucket
/// `root`): one object (a `noun`, for messages), a virtual directory, or a directory's contents.
async fn source_shape(
    shown: &str,
    path: &str,
    contents_only: bool,
    root: &str,
    store: &dyn Store,
    side: &Side,
    noun: &str,
) -> Result<SourceShape, JobError> {
    let last = |p: &str| p.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_owned();
    if contents_only {
        return Ok(SourceShape::Contents { prefix: path.to_owned() });
    }
    if path.is_empty() {
        return Ok(SourceShape::Directory { prefix: String::new(), name: root.to_owned() });
    }
    if path.ends_with('/') {
        return Ok(SourceShape::Directory { prefix: path.to_owned(), name: last(path) });
    }
    match store.stat(path).await {
        Ok(_) => Ok(SourceShape::Object { key: path.to_owned(), name: last(path) }),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let prefix = format!("{path}/");
            let any = store.list(&prefix, ListDepth::Recursive).try_next().await;
            match any.map_err(|e| side.explain(e.into()))? {
                Some(_) => Ok(SourceShape::Directory { prefix, name: last(path) }),
                None => Err(JobError::failed(format!("no {noun} or virtual directory `{path}` in {shown}"))
                    .with_hint("check the path; names are case-sensitive")),
            }
        }
        Err(e) => Err(side.explain(e.into())),
    }
}

/// Opens a copy's destination and works out whether it is a directory or an object's name.
pub(crate) async fn copy_destination(
    location: &Location,
    source: &SourceShape,
    from_account: bool,
    ctx: &JobContext,
    options: SideOptions,
) -> Result<(Side, DestShape), JobError> {
    let single = matches!(source, SourceShape::Object { .. });
    match location {
        Location::Local(path) => {
            if path.pattern().is_some() {
                return Err(JobError::usage("a destination cannot contain wildcards"));
            }
            let root = path.root();
            let is_dir = root.is_dir();
            if !single && root.exists() && !is_dir {
                return Err(JobError::usage(format!(
                    "`{}` is a file, but the source is a directory; name a directory",
                    root.display()
                )));
            }
            if single && !is_dir {
                let parent = root.parent().unwrap_or(Path::new("/"));
                let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                return Ok((local_side(parent), DestShape { base: name, is_directory: false }));
            }
            Ok((local_side(root), DestShape { base: String::new(), is_directory: true }))
        }
        Location::Blob(url) if url.container().is_none() => {
            if !from_account {
                return Err(JobError::usage(format!("`{url}` names no container"))
                    .with_hint("name the container to copy into; an account URL is a destination only when the source is an account too"));
            }
            let side = account_side(url, Role::Destination, ctx, &[])?;
            Ok((side, DestShape { base: String::new(), is_directory: true }))
        }
        Location::S3(url) => {
            let (side, store) = s3_side(url, ctx)?;
            create_root(&store).await;
            Ok((side, object_dest_shape(&store, url.key(), single).await))
        }
        Location::Gcs(url) => Err(gcs_destination(url)),
        Location::Files(url) => {
            let (side, store) = files_side(url, Role::Destination, ctx, options)?;
            share_must_exist(url, &store, &side).await?;
            Ok((side, object_dest_shape(&store, url.path(), single).await))
        }
        Location::Blob(url) => {
            let (side, store) = blob_side(url, Role::Destination, ctx)?;
            create_root(&store).await;
            Ok((side, object_dest_shape(&store, url.path(), single).await))
        }
    }
}

/// A share is never created by a copy or a sync (as AzCopy 10.30+: a share has a quota and
/// settings someone should choose): a missing one stops the job before it starts.
async fn share_must_exist(url: &FileUrl, store: &ferry_files::FilesStore, side: &Side) -> Result<(), JobError> {
    match store.check_share().await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(JobError::failed(format!(
            "the file share `{}` does not exist at {}",
            store.share(),
            url.azure().with_sas(None).service_url()
        ))
        .with_hint("create it first: ferry make https://ACCOUNT.file.core.windows.net/SHARE [--quota-gb N]")),
        Err(e) if e.kind() == ErrorKind::InvalidInput => Err(JobError::failed(format!(
            "`{url}` refused a File service request ({}): it does not look like an Azure Files endpoint",
            e.message()
        ))
        .with_hint("check that the URL names a file share (ACCOUNT.file.core.windows.net), not a Blob container")),
        Err(e) => Err(side.explain(e.into())),
    }
}

/// Creates a destination container (or bucket) on demand, as AzCopy does; a failure here (no
/// permission, already there) is left for the transfers themselves to report.
async fn create_root(store: &dyn Store) {
    if let Err(e) = store.create_root().await {
        tracing::debug!(error = %e, "not creating the destination container");
    }
}

/// What an object store destination's `path` names: a directory when it ends in `/`, is empty,
/// receives more than one object, or already holds objects below it; else one object's name.
async fn object_dest_shape(store: &dyn Store, path: &str, single: bool) -> DestShape {
    let is_directory = path.is_empty()
        || path.ends_with('/')
        || !single
        || store.list(&format!("{path}/"), ListDepth::Recursive).try_next().await.ok().flatten().is_some();
    DestShape { base: path.trim_end_matches('/').to_owned(), is_directory }
}

/// The store a job's keys are relative to on `location`'s side (its directory, container or
/// bucket): where a job's evidence is checked against.
pub(crate) fn root_side(location: &Location, role: Role, ctx: &JobContext) -> Result<Side, JobError> {
    match location {
        Location::Local(path) => Ok(local_side(path.root())),
        Location::Blob(url) => blob_side(url, role, ctx).map(|(side, _)| side),
        Location::S3(url) => s3_side(url, ctx).map(|(side, _)| side),
        Location::Gcs(url) => gcs_side(url, role, ctx).map(|(side, _)| side),
        Location::Files(url) => files_side(url, role, ctx, SideOptions::default()).map(|(side, _)| side),
    }
}

/// Opens one side of a sync or verify: the store and the key prefix of the tree. `create`
/// makes a missing destination container (a missing local folder is made as files land).
pub(crate) async fn tree(
    location: &Location,
    role: Role,
    ctx: &JobContext,
    create: bool,
    listing: SideOptions,
) -> Result<(Side, String), JobError> {
    match location {
        Location::Local(path) => {
            if path.pattern().is_some_and(|p| p != "*") {
                return Err(JobError::usage("sync takes directories, not wildcards; use --include-pattern"));
            }
            let root = path.root();
            if root.is_file() {
                return Err(JobError::usage(format!("`{}` is a file; sync works on directories", root.display())));
            }
            if !create && !root.is_dir() {
                return Err(JobError::failed(format!("the source directory `{}` does not exist", root.display())));
            }
            Ok((local_side_with(root, listing), String::new()))
        }
        Location::Blob(url) => {
            let (side, store) = blob_side(url, role, ctx)?;
            if create {
                create_root(&store).await;
            }
            let path = url.path().trim_end_matches('/');
            let prefix = if path.is_empty() { String::new() } else { format!("{path}/") };
            Ok((side, prefix))
        }
        Location::S3(url) => {
            let (side, store) = s3_side(url, ctx)?;
            if create {
                create_root(&store).await;
            }
            let key = url.key().trim_end_matches('/');
            let prefix = if key.is_empty() { String::new() } else { format!("{key}/") };
            Ok((side, prefix))
        }
        Location::Gcs(url) => {
            let (side, _) = gcs_side(url, role, ctx)?;
            let name = url.object().trim_end_matches('/');
            let prefix = if name.is_empty() { String::new() } else { format!("{name}/") };
            Ok((side, prefix))
        }
        Location::Files(url) => {
            let (side, store) = files_side(url, role, ctx, listing)?;
            share_must_exist(url, &store, &side).await?;
            let path = url.path().trim_end_matches('/');
            let prefix = if path.is_empty() { String::new() } else { format!("{path}/") };
            Ok((side, prefix))
        }
    }
}

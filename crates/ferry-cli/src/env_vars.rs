//! The environment variables Ferry reads: one registry, which `ferry env` prints and the README
//! documents.

/// One environment variable Ferry reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvVar {
    /// Its name.
    pub name: &'static str,
    /// What it does.
    pub description: &'static str,
    /// Whether its value is a secret (shown as `REDACTED`).
    pub secret: bool,
}

/// Every variable Ferry reads, in the order `ferry env` prints them.
pub const ENV_VARS: &[EnvVar] = &[
    EnvVar {
        name: "AZURE_STORAGE_ACCOUNT",
        description: "Storage account name for Shared Key authorisation, used with AZURE_STORAGE_KEY when a URL carries no SAS.",
        secret: false,
    },
    EnvVar {
        name: "AZURE_STORAGE_KEY",
        description: "Account key for Shared Key authorisation of the account named by AZURE_STORAGE_ACCOUNT.",
        secret: true,
    },
    EnvVar {
        name: "AZURE_STORAGE_CONNECTION_STRING",
        description: "A storage connection string (AccountName and AccountKey, or SharedAccessSignature) used when a URL carries no SAS.",
        secret: true,
    },
    EnvVar {
        name: "AWS_ACCESS_KEY_ID",
        description: "Access key id for S3 sources, with AWS_SECRET_ACCESS_KEY; with neither set (and no shared credentials file), S3 is read anonymously (public buckets).",
        secret: false,
    },
    EnvVar {
        name: "AWS_SECRET_ACCESS_KEY",
        description: "The secret of AWS_ACCESS_KEY_ID, for signing S3 requests (SigV4).",
        secret: true,
    },
    EnvVar { name: "AWS_SESSION_TOKEN", description: "The session token of temporary AWS credentials.", secret: true },
    EnvVar {
        name: "AWS_PROFILE",
        description: "The profile of the shared AWS credentials file to use when AWS_ACCESS_KEY_ID is not set (default `default`).",
        secret: false,
    },
    EnvVar {
        name: "AWS_SHARED_CREDENTIALS_FILE",
        description: "The shared AWS credentials file (default ~/.aws/credentials).",
        secret: false,
    },
    EnvVar {
        name: "AWS_REGION",
        description: "The region to sign S3 requests for when the URL names none (custom endpoints, s3.amazonaws.com); default us-east-1. AWS_DEFAULT_REGION is read too.",
        secret: false,
    },
    EnvVar { name: "AWS_DEFAULT_REGION", description: "Read when AWS_REGION is not set.", secret: false },
    EnvVar {
        name: "FERRY_RUN_ID",
        description: "The run a sharded command belongs to, when --run-id is not given.",
        secret: false,
    },
    EnvVar {
        name: "FERRY_SHARD_INDEX",
        description: "This shard's index K (from 0) for --shards N; read only with --shards.",
        secret: false,
    },
    EnvVar {
        name: "FERRY_METRICS_ADDR",
        description: "Serve Prometheus metrics while a job runs at HOST:PORT/metrics (a bare PORT: 127.0.0.1), when --metrics-addr is not given.",
        secret: false,
    },
    EnvVar {
        name: "FERRY_SERVE_TOKEN",
        description: "The access token `ferry serve` requires of every request (Authorization: Bearer, or ?token= once); needed to listen on an address other than loopback.",
        secret: true,
    },
    EnvVar {
        name: "JOB_COMPLETION_INDEX",
        description: "A Kubernetes Indexed Job's index, read as K for --shards N when FERRY_SHARD_INDEX is not set.",
        secret: false,
    },
    EnvVar {
        name: "SLURM_ARRAY_TASK_ID",
        description: "A Slurm array task's index, read as K for --shards N when neither variable above is set (use --array=0-(N-1)).",
        secret: false,
    },
    EnvVar {
        name: "GOOGLE_APPLICATION_CREDENTIALS",
        description: "A Google service account's JSON key file, for GCS sources: Ferry signs in with it (an access token) and signs the URLs Azure fetches in a server-side copy. Unset: GCS is read anonymously (public buckets).",
        secret: false,
    },
    EnvVar {
        name: "GOOGLE_CLOUD_PROJECT",
        description: "The project whose buckets a service-level GCS copy (no bucket in the URL) lists; default the key file's project.",
        secret: false,
    },
    EnvVar {
        name: "STORAGE_EMULATOR_HOST",
        description: "Send GCS requests to an emulator at HOST:PORT (or a URL) instead of Google, as Google's clients do; no token is sent to it.",
        secret: false,
    },
    EnvVar {
        name: "FERRY_GCS_ENDPOINT",
        description: "Another https endpoint of the GCS service (a Private Service Connect endpoint, say), sent the access token.",
        secret: false,
    },
    EnvVar {
        name: "AZCOPY_AUTO_LOGIN_TYPE",
        description: "Sign in to Microsoft Entra ID for each command, without `ferry login`: SPN (a service principal and its secret), MSI (a managed identity) or WORKLOAD (workload identity). Used when a URL has no SAS and no key applies.",
        secret: false,
    },
    EnvVar {
        name: "AZCOPY_TENANT_ID",
        description: "The Entra tenant for auto-login (SPN; WORKLOAD falls back to AZURE_TENANT_ID).",
        secret: false,
    },
    EnvVar {
        name: "AZCOPY_ACTIVE_DIRECTORY_ENDPOINT",
        description: "The Entra authority host for auto-login (default https://login.microsoftonline.com; https only).",
        secret: false,
    },
    EnvVar {
        name: "AZCOPY_SPA_APPLICATION_ID",
        description: "The service principal's application (client) id, for SPN auto-login.",
        secret: false,
    },
    EnvVar {
        name: "AZCOPY_SPA_CLIENT_SECRET",
        description: "The service principal's client secret, for SPN auto-login.",
        secret: true,
    },
    EnvVar {
        name: "CPK_ENCRYPTION_KEY",
        description: "The AES-256 key (base64) for --cpk-by-value: blobs are written with it and read with it; never recorded.",
        secret: true,
    },
    EnvVar {
        name: "CPK_ENCRYPTION_KEY_SHA256",
        description: "The key's SHA-256 (base64), for --cpk-by-value; computed from the key when not given.",
        secret: false,
    },
    EnvVar {
        name: "AZCOPY_SPA_CERT_PATH",
        description: "A service principal certificate (a PEM file with the certificate and its RSA key, or a PKCS#12 file), for SPN auto-login instead of a secret.",
        secret: false,
    },
    EnvVar {
        name: "AZCOPY_SPA_CERT_PASSWORD",
        description: "The PKCS#12 certificate's password (read when a token is needed; never saved).",
        secret: true,
    },
    EnvVar {
        name: "AZCOPY_MSI_CLIENT_ID",
        description: "A user-assigned managed identity, by client id, for MSI auto-login.",
        secret: false,
    },
    EnvVar {
        name: "AZCOPY_MSI_OBJECT_ID",
        description: "Deprecated by AzCopy and refused: use AZCOPY_MSI_CLIENT_ID or AZCOPY_MSI_RESOURCE_STRING.",
        secret: false,
    },
    EnvVar {
        name: "AZCOPY_MSI_RESOURCE_STRING",
        description: "A user-assigned managed identity, by ARM resource id, for MSI auto-login.",
        secret: false,
    },
    EnvVar {
        name: "FERRY_LOGIN_LOCATION",
        description: "Folder for the saved sign-in of `ferry login` and the Entra access tokens this user's Ferry processes share, so processes started together make one token request (default ~/.ferry/login; 0700, files 0600; no client secret is ever kept).",
        secret: false,
    },
    EnvVar {
        name: "IDENTITY_ENDPOINT",
        description: "The App Service / Functions managed identity endpoint (set by the platform).",
        secret: false,
    },
    EnvVar {
        name: "IDENTITY_HEADER",
        description: "The App Service / Functions managed identity header (set by the platform).",
        secret: true,
    },
    EnvVar {
        name: "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        description: "Another host for the VM's instance metadata service (default http://169.254.169.254).",
        secret: false,
    },
    EnvVar {
        name: "AZURE_FEDERATED_TOKEN_FILE",
        description: "The federated token file of workload identity (set by AKS); read again for every token.",
        secret: false,
    },
    EnvVar { name: "AZURE_CLIENT_ID", description: "The application (client) id of workload identity.", secret: false },
    EnvVar { name: "AZURE_TENANT_ID", description: "The tenant of workload identity.", secret: false },
    EnvVar {
        name: "AZURE_AUTHORITY_HOST",
        description: "The Entra authority host of workload identity (default https://login.microsoftonline.com).",
        secret: false,
    },
    EnvVar {
        name: "FERRY_SOURCE_SAS_COMMAND",
        description: "A command (run by sh -c) that prints a fresh SAS for the source, run before the current one expires and when the service refuses it; the same as --source-sas-command.",
        secret: false,
    },
    EnvVar {
        name: "FERRY_DESTINATION_SAS_COMMAND",
        description: "A command that prints a fresh SAS for the destination; the same as --destination-sas-command.",
        secret: false,
    },
    EnvVar {
        name: "AZCOPY_CONCURRENCY_VALUE",
        description: "How many HTTP requests run at once, and connections kept open to each host. Default: 16 per CPU, at least 32, at most 300.",
        secret: false,
    },
    EnvVar {
        name: "AZCOPY_CONCURRENT_FILES",
        description: "How many files a copy has in flight at once. Default: 64.",
        secret: false,
    },
    EnvVar {
        name: "AZCOPY_BUFFER_GB",
        description: "Gigabytes of memory for data buffers, a hard cap across all transfers (decimals allowed). Default: 0.5 per CPU, at most 16.",
        secret: false,
    },
    EnvVar {
        name: "AZCOPY_REQUEST_TRY_TIMEOUT",
        description: "Minutes one request attempt may wait for a response before it is abandoned and retried. Default: 1 (plus time to send the body).",
        secret: false,
    },
    EnvVar {
        name: "FERRY_ALLOW_HTTP",
        description: "Set to true to allow plain http:// to hosts other than this machine (refused by default: data and credentials would cross the network unencrypted).",
        secret: false,
    },
    EnvVar {
        name: "FERRY_MAX_RETRIES",
        description: "Retries of one failed request (network errors and 408/429/500/502/503/504). Default: 8.",
        secret: false,
    },
    EnvVar {
        name: "FERRY_PRESIGN_SECONDS",
        description: "Testing: how long a presigned S3 URL lives (default 7 days, SigV4's most), to see a source URL expire before the destination fetches it.",
        secret: false,
    },
    EnvVar {
        name: "FERRY_RETRY_MAX_SECONDS",
        description: "No retry starts once this many seconds have passed since a request's first attempt. Default: 180.",
        secret: false,
    },
    EnvVar {
        name: "FERRY_LOG_LOCATION",
        description: "Folder for job log files (JOBID.log). Default: ~/.ferry/logs; AZCOPY_LOG_LOCATION is used when this is unset.",
        secret: false,
    },
    EnvVar {
        name: "AZCOPY_LOG_LOCATION",
        description: "Folder for job log files, when FERRY_LOG_LOCATION is unset.",
        secret: false,
    },
    EnvVar {
        name: "FERRY_LOG_MAX_MB",
        description: "The largest a job log may grow, in MiB; later lines are left out, with a note. Default: 512.",
        secret: false,
    },
    EnvVar {
        name: "FERRY_JOB_PLAN_LOCATION",
        description: "Folder for job journals (JOBID.db), used by `ferry jobs`. Default: ~/.ferry/plans; AZCOPY_JOB_PLAN_LOCATION is used when this is unset.",
        secret: false,
    },
    EnvVar {
        name: "AZCOPY_JOB_PLAN_LOCATION",
        description: "Folder for job journals, when FERRY_JOB_PLAN_LOCATION is unset.",
        secret: false,
    },
    EnvVar {
        name: "FERRY_LOG",
        description: "What is logged to standard error, as a tracing filter (e.g. `debug`, `ferry::http=info`). Default: warn.",
        secret: false,
    },
];

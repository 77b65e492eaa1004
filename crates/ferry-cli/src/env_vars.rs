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

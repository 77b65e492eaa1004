//! What the user can type. Flag names and spellings follow AzCopy v10 where they overlap.

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand, ValueEnum};
use ferry_report::OutputFormat;

/// An AzCopy-style boolean: `--flag`, `--flag=true` and `--flag=false` all work.
macro_rules! azcopy_bool {
    () => {
        ArgAction::Set
    };
}

mod groups;
mod other;
mod transfer;

pub(crate) use groups::*;
pub(crate) use other::*;
use other::{BENCH_EXAMPLES, ENV_EXAMPLES, LIST_EXAMPLES, LOGIN_EXAMPLES, MAKE_EXAMPLES};
pub(crate) use transfer::*;
use transfer::{COPY_EXAMPLES, REMOVE_EXAMPLES, SET_PROPERTIES_EXAMPLES, SYNC_EXAMPLES, VERIFY_EXAMPLES};

/// Ferry copies and syncs data between local disks and Azure Blob Storage as resumable jobs.
#[derive(Debug, Parser)]
#[command(
    name = "ferry",
    version = env!("CARGO_PKG_VERSION"),
    disable_version_flag = true,
    arg_required_else_help = true,
    after_help = "Exit codes: 0 success, 1 failure, 2 usage error (nothing was done).\n\
                  Authentication: a SAS in the URL, or AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY, or\n\
                  AZURE_STORAGE_CONNECTION_STRING; public containers need none. See `ferry env`."
)]
pub struct Cli {
    /// Print the version (under the name `azcopy`, in AzCopy's shape).
    #[arg(short = 'v', long, action = clap::ArgAction::Version)]
    pub version: (),

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,

    /// Format of the command's output: `text`, or `json` (AzCopy's JSON envelope, one message per line).
    #[arg(long, global = true, value_enum, ignore_case = true, default_value = "text")]
    pub output_type: OutputType,

    /// How much is printed: default, essential (no progress or notes), quiet (nothing on standard output).
    #[arg(long, global = true, value_enum, ignore_case = true, default_value = "default")]
    pub output_level: OutputLevelArg,

    /// Serve Prometheus metrics of the job at http://HOST:PORT/metrics while it runs (a bare
    /// PORT listens on 127.0.0.1); or FERRY_METRICS_ADDR.
    #[arg(long, global = true, value_name = "HOST:PORT")]
    pub metrics_addr: Option<String>,

    /// Cap throughput at this many megabits per second (base 10); 0 means no cap.
    #[arg(long, global = true, default_value_t = 0.0)]
    pub cap_mbps: f64,

    /// How much a job writes to its log file: DEBUG, INFO, WARNING, ERROR, or NONE for no file.
    #[arg(long, global = true, value_enum, ignore_case = true, default_value = "INFO")]
    pub log_level: crate::LogLevel,

    /// More host suffixes (`;`-separated, port included when given) that may receive a Microsoft
    /// Entra ID token, besides Azure Storage's own (`*.core.windows.net`, `*.storage.azure.net`, …).
    #[arg(long, global = true)]
    pub trusted_microsoft_suffixes: Option<String>,

    /// A command that prints a fresh SAS for the source (run by `sh -c` before the current one
    /// expires and when the service refuses it); or FERRY_SOURCE_SAS_COMMAND.
    #[arg(long, global = true)]
    pub source_sas_command: Option<String>,

    /// A command that prints a fresh SAS for the destination; or FERRY_DESTINATION_SAS_COMMAND.
    #[arg(long, global = true)]
    pub destination_sas_command: Option<String>,

    /// Version checks and AzCopy's testing hooks.
    #[command(flatten)]
    pub process: ProcessArgs,
}

impl Cli {
    /// Parses the process's arguments, naming the program as it was invoked (`azcopy` through a
    /// link gets AzCopy's usage lines and `--version`); exits on `--help`, `--version` and
    /// usage errors (2).
    pub fn parse_invoked() -> Self {
        let name = crate::version::invoked_name();
        let command =
            Self::command().name(name.clone()).bin_name(name.clone()).version(crate::version::version_text(&name));
        let matches = command.get_matches();
        Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// `--output-type` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputType {
    /// Human-readable text.
    Text,
    /// One JSON message per line.
    Json,
}

impl From<OutputType> for OutputFormat {
    fn from(t: OutputType) -> Self {
        match t {
            OutputType::Text => Self::Text,
            OutputType::Json => Self::Json,
        }
    }
}

/// `--output-level` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputLevelArg {
    /// Everything.
    Default,
    /// Results, warnings and errors; no progress or notes.
    Essential,
    /// Nothing on standard output.
    Quiet,
}

impl From<OutputLevelArg> for ferry_report::OutputLevel {
    fn from(l: OutputLevelArg) -> Self {
        match l {
            OutputLevelArg::Default => Self::Default,
            OutputLevelArg::Essential => Self::Essential,
            OutputLevelArg::Quiet => Self::Quiet,
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Copy files and blobs: local to Blob, Blob to local, Blob to Blob (server-side), local to local.
    #[command(visible_aliases = ["cp", "c"], after_help = COPY_EXAMPLES)]
    Copy(Box<CopyArgs>),
    /// Make the destination hold the source's current files: copy what is missing, newer or a
    /// different size; optionally delete what the source no longer has (guarded).
    #[command(visible_aliases = ["sc"], after_help = SYNC_EXAMPLES)]
    Sync(Box<SyncArgs>),
    /// Prove that a destination matches its source: presence, size and MD5 of every object, with
    /// a report of each difference (JSON Lines and CSV). Exit 0 when identical, 3 when not.
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify(Box<VerifyArgs>),
    /// Delete blobs: one, or those under a virtual directory or container (`--recursive`).
    #[command(visible_aliases = ["rm"], after_help = REMOVE_EXAMPLES)]
    Remove(Box<RemoveArgs>),
    /// Change the access tier, metadata or index tags of a blob, or of the blobs under a
    /// virtual directory or container, as a resumable job.
    #[command(visible_aliases = ["set-props", "sp", "setprops"], after_help = SET_PROPERTIES_EXAMPLES)]
    SetProperties(Box<SetPropertiesArgs>),
    /// List the blobs under a container, virtual directory or account URL.
    #[command(visible_alias = "ls", after_help = LIST_EXAMPLES)]
    List(ListArgs),
    /// Create a container.
    #[command(visible_aliases = ["mk", "mkdir"], after_help = MAKE_EXAMPLES)]
    Make(MakeArgs),
    /// List, show, resume and remove jobs (every copy is a job with a journal).
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// A run split over many machines (`--shard`, `--shards`): where its shards stand.
    #[command(subcommand)]
    Shards(ShardsCommand),
    /// Show the environment variables Ferry reads and their current values (secrets redacted).
    #[command(after_help = ENV_EXAMPLES)]
    Env(EnvArgs),
    /// Measure upload or download speed to a container with generated data, without the local
    /// disk; prints the throughput, the likely bottleneck and advice.
    #[command(visible_aliases = ["ben", "benchmark"], after_help = BENCH_EXAMPLES)]
    Bench(BenchArgs),
    /// A dashboard of the jobs in the journals folder, in the browser: each job's status,
    /// progress (live, for jobs running in other processes), counts and throughput; a page per
    /// job with its failures, its resume command, its evidence and log; /metrics for all jobs.
    /// Read-only; loopback unless FERRY_SERVE_TOKEN sets an access token.
    #[command(
        after_help = "Examples:\n  ferry serve\n  ferry serve --addr 127.0.0.1:9000\n  FERRY_SERVE_TOKEN=$(openssl rand -hex 16) ferry serve --addr 0.0.0.0:8650"
    )]
    Serve(ServeArgs),
    /// Sign in to Microsoft Entra ID and save the sign-in (never a secret) for later commands in
    /// any process; `ferry login status` shows it.
    #[command(after_help = LOGIN_EXAMPLES)]
    Login(LoginArgs),
    /// Forget the saved sign-in and the access tokens kept for it.
    Logout,
    /// Print a shell completion script (bash, zsh, fish, powershell), generated from the
    /// command-line definition.
    #[command(subcommand)]
    Completion(CompletionCommand),
    /// Write the documentation of every command: Markdown pages (as AzCopy's `doc`) or man pages.
    Doc(DocArgs),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn azcopy_style_booleans() {
        for (args, expected) in [
            (vec!["ferry", "list", "u"], false),
            (vec!["ferry", "list", "u", "--running-tally"], true),
            (vec!["ferry", "list", "u", "--running-tally=true"], true),
            (vec!["ferry", "list", "u", "--running-tally=false"], false),
        ] {
            let cli = Cli::try_parse_from(&args).unwrap();
            let Command::List(list) = cli.command else { panic!("list") };
            assert_eq!(list.running_tally, expected, "{args:?}");
        }
    }

    #[test]
    fn aliases_and_global_output_type() {
        let cli = Cli::try_parse_from(["ferry", "ls", "u", "--output-type", "JSON"]).unwrap();
        assert!(matches!(cli.command, Command::List(_)));
        assert_eq!(cli.output_type, OutputType::Json);
        assert!(matches!(Cli::try_parse_from(["ferry", "mk", "u"]).unwrap().command, Command::Make(_)));
        assert!(matches!(Cli::try_parse_from(["ferry", "mkdir", "u"]).unwrap().command, Command::Make(_)));
    }

    #[test]
    fn unknown_flags_and_bad_values_are_usage_errors() {
        let err = Cli::try_parse_from(["ferry", "list", "u", "--no-such-flag"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let err = Cli::try_parse_from(["ferry", "list", "u", "--output-type", "xml"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let err = Cli::try_parse_from(["ferry", "list", "u", "--running-tally=maybe"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}

//! Command-line definitions.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::job::OutputFormat;
use crate::manifest::Manifest;
use crate::net::Cloud;

/// Creates a Temporary Access Pass for one Microsoft Entra ID user through Microsoft Graph.
#[derive(Debug, Parser)]
#[command(name = "tap-runbook", about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the process's command line. `--version` prints the manifest's version, the one
    /// the result records carry.
    pub fn parse_args() -> Result<Self, clap::Error> {
        let matches = Self::command()
            .version(Manifest::get().version.as_str())
            .try_get_matches()?;
        Self::from_arg_matches(&matches)
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the job: validate, preflight, replace the user's pass, optionally notify.
    Run(RunArgs),
    /// Merge and validate the inputs and print every resolved parameter with its source.
    /// Makes no network call.
    Validate(InputArgs),
    /// Serve a simulated tenant on loopback for dry runs and tests.
    Simulator(SimulatorArgs),
    /// Print the runbook manifest (runbook.json).
    Manifest,
    /// Print the customization JSON Schema (customization.schema.json), or with --records
    /// the schema of every record `run` and `validate` write (job-record.schema.json).
    Schema(SchemaArgs),
    /// Print a script a job host runs, rendered from the manifest (the files under
    /// hosts/azure-automation/).
    HostScript {
        /// Which script.
        #[arg(value_enum)]
        script: crate::hosts::HostScript,
    },
}

/// Arguments of `schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Print job-record.schema.json instead: every log and result record.
    #[arg(long)]
    pub records: bool,
}

/// Where the inputs come from and how to write events.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// The invocation document (parameter values), or `-` for standard input.
    #[arg(long, value_name = "FILE|-")]
    pub invocation: PathBuf,
    /// The tenant's RealmJoin-style customization document (JSON with comments).
    #[arg(long, value_name = "FILE")]
    pub customization: Option<PathBuf>,
    /// Output format: text on a terminal and NDJSON otherwise (auto), or as named.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: OutputFormat,
    /// Show Verbose lines in text format (NDJSON always carries them).
    #[arg(short, long)]
    pub verbose: bool,
}

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Microsoft Graph base URL (http only for loopback hosts).
    #[arg(long, env = "TAP_RUNBOOK_GRAPH_URL", value_name = "URL")]
    pub graph_url: Option<String>,
    /// The national cloud: picks the Graph and sign-in hosts.
    #[arg(long, value_enum, default_value = "global")]
    pub cloud: Cloud,
    /// Run against a simulated tenant served in-process on loopback.
    #[arg(long, value_name = "TENANT.json", conflicts_with = "graph_url")]
    pub simulate: Option<PathBuf>,
    /// Do every read and check, report the plan, change nothing and send nothing.
    #[arg(long)]
    pub what_if: bool,
    /// Write each notification as N.html and N.json into this folder.
    #[arg(long, value_name = "DIR")]
    pub outbox: Option<PathBuf>,
    /// Download the branding images (public addresses only) also for a simulated or what-if
    /// run, so the outbox preview shows them.
    #[arg(long, requires = "outbox")]
    pub outbox_images: bool,
    /// Also write the final result record to this file (atomically).
    #[arg(long, value_name = "FILE")]
    pub result_file: Option<PathBuf>,
    /// The whole job's time budget in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub deadline: u64,
}

/// Arguments of `simulator`.
#[derive(Debug, Args)]
pub struct SimulatorArgs {
    /// The tenant file to serve.
    #[arg(long, value_name = "TENANT.json")]
    pub tenant: PathBuf,
    /// Loopback address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Serve HTTPS with a certificate from a CA made at start, so the client-secret path
    /// works too; the CA's certificate is written for `TAP_RUNBOOK_CA_FILE`.
    #[arg(long)]
    pub https: bool,
    /// Where --https writes the CA certificate (default: a new file in the temporary folder,
    /// removed when the simulator stops).
    #[arg(long, value_name = "FILE", requires = "https")]
    pub ca_file: Option<PathBuf>,
}

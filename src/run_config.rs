//! The `run` command's configuration, built once from its parsed arguments: where Graph is,
//! the deadline, the time the pass replacement keeps in reserve, and what the job may change
//! and write. Everything after this reads typed values, never the raw flags.

use std::path::PathBuf;
use std::time::Duration;

use graph_sim::TenantFile;
use reqwest::Url;
use tokio::time::Instant;

use crate::cli::RunArgs;
use crate::input::TapRequest;
use crate::job::{ErrorCode, JobError, Problem};
use crate::net::{Cloud, validate_graph_url};

/// The time a pass replacement is given at least before the deadline (half the budget for
/// very short deadlines).
const REPLACE_RESERVE: Duration = Duration::from_secs(5);

/// The whole job's time budget and the moment it runs out.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    /// The budget as given (`--deadline`).
    pub budget: Duration,
    /// When it ends.
    pub at: Instant,
}

impl Deadline {
    /// A budget of `seconds` that starts now.
    pub fn starting_now(seconds: u64) -> Self {
        let budget = Duration::from_secs(seconds);
        Self {
            budget,
            at: Instant::now() + budget,
        }
    }
}

/// Where the job's Graph calls and token requests go.
#[derive(Debug)]
pub enum Target {
    /// Microsoft Graph of `cloud`, or the Graph URL given for it.
    Graph {
        /// Graph's base URL.
        url: Url,
        /// The cloud whose sign-in host and token scope the credential uses.
        cloud: Cloud,
    },
    /// A simulated tenant served in-process on loopback.
    Simulated {
        /// The tenant to serve.
        tenant: TenantFile,
        /// The cloud whose token scope is asked for, as against the real service.
        cloud: Cloud,
    },
}

impl Target {
    /// Whether this is a rehearsal against a simulated tenant.
    pub fn is_simulated(&self) -> bool {
        matches!(self, Self::Simulated { .. })
    }
}

/// The `run` command's settings beside the request. The result file is not among them: the
/// job's log takes it before anything can fail, so even a refused command line writes it.
#[derive(Debug)]
pub struct RunConfig {
    /// Graph or a simulated tenant.
    pub target: Target,
    /// The whole job's budget.
    pub deadline: Deadline,
    /// The least time left before the deadline with which the old pass may still be removed.
    pub replace_reserve: Duration,
    /// Read and check only; change nothing, send nothing.
    pub what_if: bool,
    /// Where each notification is also written.
    pub outbox: Option<PathBuf>,
    /// Download the branding images for the outbox preview, also in a rehearsal.
    pub outbox_images: bool,
}

impl RunConfig {
    /// Checks the Graph URL (`--graph-url` is input too: refused before any network) and loads
    /// the simulated tenant, if any. The deadline started when the job did.
    pub fn from_args(args: &RunArgs, deadline: Deadline) -> Result<Self, JobError> {
        let graph_url = args
            .graph_url
            .as_deref()
            .map(validate_graph_url)
            .transpose()
            .map_err(|problem| {
                invalid(
                    "--graph-url",
                    problem,
                    Some("an https URL, or http for a loopback host"),
                )
            })?;
        let cloud = args.cloud;
        let target = match &args.simulate {
            Some(path) => Target::Simulated {
                tenant: TenantFile::load(path)
                    .map_err(|e| invalid("--simulate", e.to_string(), None))?,
                cloud,
            },
            None => Target::Graph {
                url: graph_url.unwrap_or_else(|| cloud.graph_url()),
                cloud,
            },
        };
        Ok(Self {
            target,
            deadline,
            replace_reserve: REPLACE_RESERVE.min(deadline.budget / 2),
            what_if: args.what_if,
            outbox: args.outbox.clone(),
            outbox_images: args.outbox_images,
        })
    }

    /// Whether the job downloads branding images: not in a rehearsal, against a simulated
    /// tenant or under what-if (it reaches nothing beyond loopback), unless `--outbox-images`
    /// asks for them for the preview.
    pub fn downloads_branding(&self) -> bool {
        (!self.target.is_simulated() && !self.what_if) || self.outbox_images
    }

    /// Whether the job needs the image client, which costs a few milliseconds of start-up:
    /// only when it will download branding images for a notification.
    pub fn fetches_images(&self, request: &TapRequest) -> bool {
        let branding = &request.branding;
        self.downloads_branding()
            && request.notify_user
            && (branding.header_image_url.is_some() || branding.footer_image_url.is_some())
    }
}

/// An input error in one command-line flag.
fn invalid(flag: &str, problem: String, allowed: Option<&str>) -> JobError {
    let mut error = JobError::new(ErrorCode::InvalidInput, format!("{flag}: {problem}"));
    error.problems.push(Problem {
        field: flag.into(),
        problem,
        allowed: allowed.map(Into::into),
    });
    error
}

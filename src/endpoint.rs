//! Opening the job's way to Graph: the simulated tenant when asked for, the environment the
//! credential is chosen from, the HTTP clients, the credential and its first token.

use std::net::SocketAddr;
use std::sync::Arc;

use graph_sim::{Simulator, TenantFile};
use reqwest::Url;

use crate::auth::Credential;
use crate::graph::{GraphClient, GraphConfig};
use crate::job::{ErrorCode, JobError, JobLog};
use crate::net::{
    CA_FILE_VARIABLE, Environment, HttpSettings, HttpSetupError, TRUST_STORE_VARIABLES,
    build_http_client,
};
use crate::notify::ImageFetcher;
use crate::run_config::{Deadline, Target};

/// Where Graph is and how to authenticate, ready for the workflow.
pub struct Endpoint {
    /// The Graph client, with a credential that has already got a token.
    pub graph: GraphClient,
    /// The branding image client, when the job downloads images.
    pub images: Option<ImageFetcher>,
    simulator: Option<Simulator>,
}

impl Endpoint {
    /// Starts the simulated tenant if the target is one, builds the clients and gets a first
    /// token, so a credential problem is reported as such, before any Graph call.
    pub async fn open(
        target: Target,
        fetches_images: bool,
        what_if: bool,
        deadline: Deadline,
        log: &JobLog,
    ) -> Result<Self, JobError> {
        let (env, base_url, cloud, simulator) = match target {
            Target::Graph { url, cloud } => (Environment::capture(), url, cloud, None),
            Target::Simulated { tenant, cloud } => {
                let (env, url, sim) = simulate(tenant, what_if, log).await?;
                (env, url, cloud, Some(sim))
            }
        };
        let settings = HttpSettings::from_environment(&env);
        let setup_error = |e: HttpSetupError| JobError::new(ErrorCode::InvalidInput, e.to_string());
        let http = build_http_client(&settings).map_err(setup_error)?;
        let images = fetches_images
            .then(|| ImageFetcher::new(&settings))
            .transpose()
            .map_err(setup_error)?;
        if let Some(variable) = TRUST_STORE_VARIABLES.iter().find(|v| env.has(v)) {
            log.verbose(format!("{variable} is set: on Linux its certificates replace the system's trusted roots ({CA_FILE_VARIABLE} adds roots instead)"));
        }
        let credential =
            Credential::from_environment(&env, cloud, &http).map_err(|e| e.to_job_error())?;
        log.verbose(format!("Credential: {}", credential.kind()));
        log.verbose(format!("Microsoft Graph at {base_url}"));
        first_token(&credential, deadline).await?;
        let graph = GraphClient::new(
            GraphConfig::new(base_url, deadline.at),
            http,
            Arc::new(credential),
            log.clone(),
        );
        Ok(Self {
            graph,
            images,
            simulator,
        })
    }

    /// Stops the simulated tenant, if one was started.
    pub async fn close(self) {
        if let Some(sim) = self.simulator {
            let _ = sim.shutdown().await;
        }
    }
}

/// Serves `tenant` on loopback and says so on the Output stream. The environment handed back
/// holds only the simulator's managed-identity endpoint: real credentials on this machine must
/// never be sent to it, nor its tokens to the real service.
async fn simulate(
    tenant: TenantFile,
    what_if: bool,
    log: &JobLog,
) -> Result<(Environment, Url, Simulator), JobError> {
    let sim = Simulator::start(tenant, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .map_err(|e| {
            JobError::new(
                ErrorCode::Unexpected,
                format!("cannot start the simulated tenant: {e}"),
            )
        })?;
    log.set_simulated();
    let prefix = if what_if {
        "What if: running"
    } else {
        "Running"
    };
    log.output(format!(
        "{prefix} against a SIMULATED tenant at {} (not Microsoft Graph; no real tenant is changed)",
        sim.base_url()
    ));
    let env: Environment = sim.managed_identity_env().into_iter().collect();
    let url = Url::parse(&sim.base_url())
        .map_err(|e| JobError::new(ErrorCode::Unexpected, e.to_string()))?;
    Ok((env, url, sim))
}

/// Gets the credential's first token within the deadline; it stays in the credential's cache.
async fn first_token(credential: &Credential, deadline: Deadline) -> Result<(), JobError> {
    match tokio::time::timeout_at(deadline.at, credential.token(false)).await {
        Ok(token) => token.map(drop).map_err(|e| e.to_job_error()),
        Err(_) => Err(JobError::new(
            ErrorCode::Timeout,
            format!(
                "no access token within the job's deadline of {} seconds",
                deadline.budget.as_secs()
            ),
        )),
    }
}

//! Choosing the one credential the job uses and keeping its token for the job.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;
use tokio::sync::Mutex;

use super::azure_arc::ArcTokensFolder;
use super::azure_identity::AzureIdentity;
use super::identity_endpoint::{IdentityEndpoint, Protocol};
use super::{AccessToken, AuthError};
use crate::net::{Cloud, Environment, is_always_direct, is_loopback, redacted_url};
use crate::secret::Secret;

/// How long a token request may take before the job gives up on it.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);
/// The instance metadata service answers within milliseconds on Azure; off Azure it never
/// answers, and the job should say so quickly rather than hang.
const INSTANCE_METADATA_TIMEOUT: Duration = Duration::from_secs(5);

/// Which credential was chosen, for the log. Shows client ids, never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialKind {
    /// `IDENTITY_ENDPOINT` + `IDENTITY_HEADER`: Azure Automation or App Service.
    AutomationManagedIdentity {
        /// The user-assigned identity, if `AZURE_CLIENT_ID` chose one.
        client_id: Option<String>,
    },
    /// `MSI_ENDPOINT` + `MSI_SECRET`: a hybrid worker's legacy endpoint.
    HybridWorkerManagedIdentity {
        /// The user-assigned identity, if `AZURE_CLIENT_ID` chose one.
        client_id: Option<String>,
    },
    /// `IDENTITY_ENDPOINT` + `IMDS_ENDPOINT` without a header: an Azure Arc-enabled server's
    /// own (system-assigned) identity, through the Connected Machine agent.
    AzureArcManagedIdentity,
    /// `AZURE_FEDERATED_TOKEN_FILE`: workload identity federation.
    WorkloadIdentity {
        /// The app registration or user-assigned identity.
        client_id: String,
    },
    /// `AZURE_CLIENT_SECRET`: an app registration's client secret.
    ClientSecret {
        /// The app registration.
        client_id: String,
    },
    /// Nothing configured: the Azure VM instance metadata service.
    InstanceMetadata {
        /// The user-assigned identity, if `AZURE_CLIENT_ID` chose one.
        client_id: Option<String>,
    },
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn identity(client_id: &Option<String>) -> String {
            match client_id {
                Some(id) => format!("user-assigned, client id {id}"),
                None => "system-assigned".to_owned(),
            }
        }
        match self {
            Self::AutomationManagedIdentity { client_id } => write!(
                f,
                "managed identity (Azure Automation / App Service endpoint, {})",
                identity(client_id)
            ),
            Self::HybridWorkerManagedIdentity { client_id } => write!(
                f,
                "managed identity (hybrid worker, legacy MSI endpoint, {})",
                identity(client_id)
            ),
            Self::AzureArcManagedIdentity => {
                f.write_str("managed identity (Azure Arc-enabled server, system-assigned)")
            }
            Self::WorkloadIdentity { client_id } => {
                write!(f, "workload identity federation (client id {client_id})")
            }
            Self::ClientSecret { client_id } => {
                write!(f, "client secret (client id {client_id})")
            }
            Self::InstanceMetadata { client_id } => write!(
                f,
                "managed identity (Azure instance metadata service, {})",
                identity(client_id)
            ),
        }
    }
}

enum Source {
    Endpoint(IdentityEndpoint),
    Azure(AzureIdentity),
}

/// The job's credential: one source, its Graph scope, and the token cached for the job.
pub struct Credential {
    kind: CredentialKind,
    source: Source,
    scope: String,
    timeout: Duration,
    cache: Mutex<Option<AccessToken>>,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("kind", &self.kind)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// Chooses the credential from the captured environment, first match wins:
    /// `IDENTITY_ENDPOINT`+`IDENTITY_HEADER`, `MSI_ENDPOINT`+`MSI_SECRET`,
    /// `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_CLIENT_SECRET` (both with `AZURE_CLIENT_ID` and
    /// `AZURE_TENANT_ID`), `IDENTITY_ENDPOINT`+`IMDS_ENDPOINT` (Azure Arc, its key files read
    /// only from the agent's fixed [`ArcTokensFolder::agent`]), else the instance metadata
    /// service.
    /// `AZURE_CLIENT_ID` alone picks a user-assigned managed identity. A set that is only
    /// partly present is an error unless a complete one follows, rather than a silent
    /// fall-through to a different identity. `AZURE_AUTHORITY_HOST` overrides the cloud's
    /// sign-in host. Requests go through `http`.
    pub fn from_environment(
        env: &Environment,
        cloud: Cloud,
        http: &reqwest::Client,
    ) -> Result<Self, AuthError> {
        Self::from_environment_with(env, cloud, http, ArcTokensFolder::agent())
    }

    /// As [`Credential::from_environment`], with the Azure Arc agent's key files expected in
    /// `arc_tokens` (a simulated agent's folder in tests).
    pub fn from_environment_with(
        env: &Environment,
        cloud: Cloud,
        http: &reqwest::Client,
        arc_tokens: ArcTokensFolder,
    ) -> Result<Self, AuthError> {
        let mut partial = Vec::new();
        let (kind, source, timeout) = match choose(env, cloud, http, arc_tokens, &mut partial)? {
            Some((kind, source)) => (kind, source, TOKEN_TIMEOUT),
            None if !partial.is_empty() => {
                return Err(AuthError::Configuration(partial.join("; ")));
            }
            None => {
                let client_id = env.get(CLIENT_ID).map(str::to_owned);
                let source = AzureIdentity::instance_metadata(client_id.clone(), http)
                    .map_err(AuthError::Configuration)?;
                (
                    CredentialKind::InstanceMetadata { client_id },
                    Source::Azure(source),
                    INSTANCE_METADATA_TIMEOUT,
                )
            }
        };
        Ok(Self {
            kind,
            source,
            scope: cloud.graph_scope(),
            timeout,
            cache: Mutex::new(None),
        })
    }

    /// Replaces the time a token request may take (30 s, or 5 s for the instance metadata
    /// service).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Which credential this is, for the log.
    pub fn kind(&self) -> &CredentialKind {
        &self.kind
    }

    /// The scope tokens are requested for, e.g. `https://graph.microsoft.com/.default`.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// A token for Graph: the cached one while it is fresh, else a new one. `force_refresh`
    /// skips every cache, for when Graph has just refused the cached token.
    pub async fn token(&self, force_refresh: bool) -> Result<AccessToken, AuthError> {
        let mut cache = self.cache.lock().await;
        if !force_refresh
            && let Some(token) = cache.as_ref()
            && token.is_fresh()
        {
            return Ok(token.clone());
        }
        let request = async {
            match &self.source {
                Source::Endpoint(endpoint) => {
                    let resource = self.scope.trim_end_matches("/.default");
                    endpoint.request_token(resource).await
                }
                Source::Azure(azure) => azure.request_token(&self.scope, force_refresh).await,
            }
        };
        let token = match tokio::time::timeout(self.timeout, request).await {
            Ok(Ok(token)) => token,
            Ok(Err(reason)) => return Err(self.failure(reason)),
            Err(_) if matches!(self.kind, CredentialKind::InstanceMetadata { .. }) => {
                return Err(AuthError::NoCredential(format!(
                    "did not answer within {} s",
                    self.timeout.as_secs_f64()
                )));
            }
            Err(_) => {
                return Err(AuthError::Timeout {
                    credential: self.kind.to_string(),
                    seconds: self.timeout.as_secs(),
                });
            }
        };
        *cache = Some(token.clone());
        Ok(token)
    }

    fn failure(&self, reason: String) -> AuthError {
        let reason = match self.kind {
            CredentialKind::InstanceMetadata { .. } => format!(
                "{reason} (off Azure, set IDENTITY_ENDPOINT+IDENTITY_HEADER, MSI_ENDPOINT+MSI_SECRET, IDENTITY_ENDPOINT+IMDS_ENDPOINT (Azure Arc) or AZURE_CLIENT_ID+AZURE_TENANT_ID+AZURE_CLIENT_SECRET)"
            ),
            _ => reason,
        };
        AuthError::TokenRequest {
            credential: self.kind.to_string(),
            reason,
        }
    }
}

const CLIENT_ID: &str = "AZURE_CLIENT_ID";
const TENANT_ID: &str = "AZURE_TENANT_ID";

/// The first complete credential setting in the documented order, noting partial ones.
fn choose(
    env: &Environment,
    cloud: Cloud,
    http: &reqwest::Client,
    arc_tokens: ArcTokensFolder,
    partial: &mut Vec<String>,
) -> Result<Option<(CredentialKind, Source)>, AuthError> {
    let client_id = env.get(CLIENT_ID).map(str::to_owned);
    // The value is not quoted back: a mistyped endpoint may still hold a password.
    let endpoint = |variable: &str,
                    url: &str,
                    protocol,
                    client_id: Option<String>|
     -> Result<Source, AuthError> {
        let endpoint = Url::parse(url)
            .map_err(|e| AuthError::Configuration(format!("{variable} is not a URL ({e})")))?;
        // The identity secret goes in a header: unencrypted only to this machine.
        if endpoint.scheme() != "https" && !is_always_direct(&endpoint) {
            return Err(AuthError::Configuration(format!(
                "{variable} is {}, which is neither https nor on this machine or its link-local network; the identity secret would cross the network unencrypted",
                redacted_url(&endpoint)
            )));
        }
        Ok(Source::Endpoint(IdentityEndpoint {
            protocol,
            endpoint,
            client_id,
            http: http.clone(),
        }))
    };
    // Without the header, IDENTITY_ENDPOINT belongs to the Arc agent when IMDS_ENDPOINT is set.
    let arc = !env.has("IDENTITY_HEADER") && env.has("IMDS_ENDPOINT");
    if !arc && let Some((url, header)) = pair(env, "IDENTITY_ENDPOINT", "IDENTITY_HEADER", partial)
    {
        let kind = CredentialKind::AutomationManagedIdentity {
            client_id: client_id.clone(),
        };
        let protocol = Protocol::AppService(Secret::new(header));
        return Ok(Some((
            kind,
            endpoint("IDENTITY_ENDPOINT", url, protocol, client_id)?,
        )));
    }
    if let Some((url, secret)) = pair(env, "MSI_ENDPOINT", "MSI_SECRET", partial) {
        let kind = CredentialKind::HybridWorkerManagedIdentity {
            client_id: client_id.clone(),
        };
        let protocol = Protocol::LegacyMsi(Secret::new(secret));
        return Ok(Some((
            kind,
            endpoint("MSI_ENDPOINT", url, protocol, client_id)?,
        )));
    }
    if let Some((file, client_id, tenant_id)) =
        app_registration(env, "AZURE_FEDERATED_TOKEN_FILE", partial)
    {
        let source = AzureIdentity::workload_identity(
            tenant_id.to_owned(),
            client_id.to_owned(),
            PathBuf::from(file),
            authority_host(env, cloud)?,
            http,
        )
        .map_err(AuthError::Configuration)?;
        let kind = CredentialKind::WorkloadIdentity {
            client_id: client_id.to_owned(),
        };
        return Ok(Some((kind, Source::Azure(source))));
    }
    if let Some((secret, client_id, tenant_id)) =
        app_registration(env, "AZURE_CLIENT_SECRET", partial)
    {
        let source = AzureIdentity::client_secret(
            tenant_id.to_owned(),
            client_id.to_owned(),
            Secret::new(secret),
            authority_host(env, cloud)?,
            http,
        )
        .map_err(AuthError::Configuration)?;
        let kind = CredentialKind::ClientSecret {
            client_id: client_id.to_owned(),
        };
        return Ok(Some((kind, Source::Azure(source))));
    }
    // The Arc agent sets its pair for every process on the machine, so a job that names an
    // app registration of its own means that one.
    if arc {
        match env.get("IDENTITY_ENDPOINT") {
            None => partial.push("IMDS_ENDPOINT is set but IDENTITY_ENDPOINT is not".into()),
            Some(url) => return arc_agent(url, client_id.as_deref(), arc_tokens, http).map(Some),
        }
    }
    Ok(None)
}

/// The Arc agent's endpoint: on this machine, for the system-assigned identity only.
fn arc_agent(
    url: &str,
    client_id: Option<&str>,
    tokens: ArcTokensFolder,
    http: &reqwest::Client,
) -> Result<(CredentialKind, Source), AuthError> {
    if client_id.is_some() {
        return Err(AuthError::Configuration(format!(
            "IDENTITY_ENDPOINT and IMDS_ENDPOINT select the Azure Arc-enabled server's own \
             identity, which is system-assigned only; unset {CLIENT_ID}"
        )));
    }
    // Only the host is quoted back: the rest of a mistyped URL may hold a password.
    let endpoint = Url::parse(url)
        .map_err(|e| AuthError::Configuration(format!("IDENTITY_ENDPOINT is not a URL ({e})")))?;
    if !is_loopback(&endpoint) {
        // The agent listens on this machine; its key must never travel further.
        return Err(AuthError::Configuration(format!(
            "IDENTITY_ENDPOINT names the host {}, not this machine, as the Azure Arc agent's endpoint is",
            endpoint.host_str().unwrap_or("(none)")
        )));
    }
    let source = Source::Endpoint(IdentityEndpoint {
        protocol: Protocol::AzureArc(tokens),
        endpoint,
        client_id: None,
        http: http.clone(),
    });
    Ok((CredentialKind::AzureArcManagedIdentity, source))
}

/// Both variables of a pair, or `None`; one without the other is noted as partial.
fn pair<'e>(
    env: &'e Environment,
    first: &str,
    second: &str,
    partial: &mut Vec<String>,
) -> Option<(&'e str, &'e str)> {
    match (env.get(first), env.get(second)) {
        (Some(a), Some(b)) => Some((a, b)),
        (Some(_), None) if first == "IDENTITY_ENDPOINT" => {
            partial.push(format!(
                "{first} is set but {second} is not (nor IMDS_ENDPOINT, for an Azure Arc-enabled server)"
            ));
            None
        }
        (Some(_), None) => {
            partial.push(format!("{first} is set but {second} is not"));
            None
        }
        (None, Some(_)) => {
            partial.push(format!("{second} is set but {first} is not"));
            None
        }
        (None, None) => None,
    }
}

/// An app-registration setting (`variable`) with `AZURE_CLIENT_ID` and `AZURE_TENANT_ID`.
fn app_registration<'e>(
    env: &'e Environment,
    variable: &str,
    partial: &mut Vec<String>,
) -> Option<(&'e str, &'e str, &'e str)> {
    let value = env.get(variable)?;
    match (env.get(CLIENT_ID), env.get(TENANT_ID)) {
        (Some(client_id), Some(tenant_id)) => Some((value, client_id, tenant_id)),
        _ => {
            partial.push(format!(
                "{variable} is set but {CLIENT_ID} and {TENANT_ID} are not both set"
            ));
            None
        }
    }
}

/// The sign-in host: `AZURE_AUTHORITY_HOST` as the other Azure SDKs honour it, else the
/// cloud's. azure_identity accepts only https; saying so here gives the clearer message.
fn authority_host(env: &Environment, cloud: Cloud) -> Result<String, AuthError> {
    let Some(host) = env.get("AZURE_AUTHORITY_HOST") else {
        return Ok(cloud.authority_host().to_owned());
    };
    // Shown only in its redacted form: a user part or query may hold a secret.
    let refused = |why: String| {
        Err(AuthError::Configuration(format!(
            "AZURE_AUTHORITY_HOST {why}"
        )))
    };
    match Url::parse(host) {
        Err(e) => refused(format!("must be an https URL ({e})")),
        Ok(url) if url.scheme() != "https" => {
            refused(format!("must be an https URL, got {}", redacted_url(&url)))
        }
        Ok(url)
            if !url.username().is_empty() || url.password().is_some() || url.query().is_some() =>
        {
            refused("must not hold a user name, password or query".to_owned())
        }
        Ok(_) => Ok(host.trim_end_matches('/').to_owned()),
    }
}

//! Credentials azure_identity provides: client secret, workload identity federation, and the
//! virtual-machine instance metadata service (IMDS). Each sends through the job's one reqwest
//! client and gets its authority host from us, so nothing here reads the process environment.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::TokenCredential;
use azure_core::http::{
    AsyncRawResponse, ClientOptions, ExponentialRetryOptions, HttpClient, Request, RetryOptions,
    Transport,
};
use azure_identity::{
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use futures_util::StreamExt;

use super::AccessToken;
use super::token::is_bearer_token;
use crate::net::MAX_RESPONSE_BYTES;
use crate::secret::Secret;
use crate::text::cut;

type Build = Box<dyn Fn() -> azure_core::Result<Arc<dyn TokenCredential>> + Send + Sync>;

/// An azure_identity credential, rebuilt when a fresh token is needed: azure_identity 1.0
/// caches tokens inside each credential and has no way to bypass that cache after Graph
/// refused a token.
pub(crate) struct AzureIdentity {
    build: Build,
    current: Mutex<Arc<dyn TokenCredential>>,
}

impl AzureIdentity {
    fn new(build: Build) -> Result<Self, String> {
        let current = build().map_err(|e| one_line(&e))?;
        Ok(Self {
            build,
            current: Mutex::new(current),
        })
    }

    /// A client-secret credential for an app registration.
    pub(crate) fn client_secret(
        tenant_id: String,
        client_id: String,
        secret: Secret,
        authority_host: String,
        http: &reqwest::Client,
    ) -> Result<Self, String> {
        let http = http.clone();
        Self::new(Box::new(move || {
            let options = ClientSecretCredentialOptions {
                client_options: client_options(&http, Some(&authority_host)),
            };
            let credential = ClientSecretCredential::new(
                &tenant_id,
                client_id.clone(),
                secret.expose().to_owned().into(),
                Some(options),
            )?;
            Ok(credential as Arc<dyn TokenCredential>)
        }))
    }

    /// Workload identity federation: a Kubernetes (or other) token file exchanged for an
    /// Entra token.
    pub(crate) fn workload_identity(
        tenant_id: String,
        client_id: String,
        token_file: PathBuf,
        authority_host: String,
        http: &reqwest::Client,
    ) -> Result<Self, String> {
        let http = http.clone();
        Self::new(Box::new(move || {
            let options = WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions {
                    client_options: client_options(&http, Some(&authority_host)),
                },
                client_id: Some(client_id.clone()),
                tenant_id: Some(tenant_id.clone()),
                token_file_path: Some(token_file.clone()),
            };
            let credential = WorkloadIdentityCredential::new(Some(options))?;
            Ok(credential as Arc<dyn TokenCredential>)
        }))
    }

    /// The instance metadata service of an Azure VM (or Arc-less hybrid host), system- or
    /// user-assigned.
    pub(crate) fn instance_metadata(
        client_id: Option<String>,
        http: &reqwest::Client,
    ) -> Result<Self, String> {
        let http = http.clone();
        Self::new(Box::new(move || {
            let options = ManagedIdentityCredentialOptions {
                user_assigned_id: client_id.clone().map(UserAssignedId::ClientId),
                client_options: client_options(&http, None),
            };
            let credential = ManagedIdentityCredential::new(Some(options))?;
            Ok(credential as Arc<dyn TokenCredential>)
        }))
    }

    /// A token for `scope`; `fresh` bypasses azure_identity's cache.
    pub(crate) async fn request_token(
        &self,
        scope: &str,
        fresh: bool,
    ) -> Result<AccessToken, String> {
        let credential = {
            let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
            if fresh {
                *current = (self.build)().map_err(|e| one_line(&e))?;
            }
            Arc::clone(&current)
        };
        let token = credential
            .get_token(&[scope], None)
            .await
            .map_err(|e| one_line(&e))?;
        if !is_bearer_token(token.token.secret()) {
            return Err(
                "the sign-in service answered with an access token that is not a bearer token"
                    .to_owned(),
            );
        }
        Ok(AccessToken {
            token: Secret::new(token.token.secret()),
            expires_at: token.expires_on,
        })
    }
}

/// The job's reqwest client as azure_core's transport, with the job's rules for answers:
/// a body is read up to [`MAX_RESPONSE_BYTES`] (decompressed) and no further, and a transport
/// error loses the URL reqwest puts in its message, whose user part or query may hold a secret.
#[derive(Debug)]
struct BoundedTransport(reqwest::Client);

#[async_trait::async_trait]
impl HttpClient for BoundedTransport {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let response = HttpClient::execute_request(&self.0, request)
            .await
            .map_err(without_url)?;
        let (status, headers, body) = response.deconstruct();
        let mut read = 0usize;
        let bounded = body.map(move |chunk| {
            let chunk = chunk.map_err(without_url)?;
            read += chunk.len();
            if read > MAX_RESPONSE_BYTES {
                return Err(azure_core::Error::with_message(
                    azure_core::error::ErrorKind::Io,
                    format!(
                        "the answer is larger than {} KiB and was not read",
                        MAX_RESPONSE_BYTES / 1024
                    ),
                ));
            }
            Ok(chunk)
        });
        Ok(AsyncRawResponse::new(status, headers, Box::pin(bounded)))
    }
}

/// azure_core keeps reqwest's error as the cause; this one says the same without the URL.
fn without_url(error: azure_core::Error) -> azure_core::Error {
    let kind = error.kind().clone();
    match error.into_downcast::<reqwest::Error>() {
        Ok(e) => azure_core::Error::with_error(kind, e.without_url(), "the request failed"),
        Err(error) => error,
    }
}

/// The job's reqwest client as azure_core's transport (see [`BoundedTransport`]), and our authority host as a custom
/// cloud so azure_identity never falls back to reading `AZURE_AUTHORITY_HOST` itself. Retries
/// are fewer than azure_core's default (8 over a minute): a sign-in endpoint that cannot be
/// reached, e.g. a TLS-inspecting proxy whose root is not trusted, should surface its cause
/// within seconds, not end as a bare timeout. (The IMDS credential sets its own retries.)
fn client_options(http: &reqwest::Client, authority_host: Option<&str>) -> ClientOptions {
    ClientOptions {
        transport: Some(Transport::new(Arc::new(BoundedTransport(http.clone())))),
        retry: RetryOptions::exponential(ExponentialRetryOptions {
            initial_delay: azure_core::time::Duration::milliseconds(500),
            max_retries: 3,
            max_total_elapsed: azure_core::time::Duration::seconds(10),
            max_delay: azure_core::time::Duration::seconds(4),
        }),
        cloud: authority_host.map(|host| {
            let mut cloud = CustomConfiguration::default();
            cloud.authority_host = host.to_owned();
            Arc::new(CloudConfiguration::from(cloud))
        }),
        ..ClientOptions::default()
    }
}

/// The most of a sign-in error the job repeats: azure_identity quotes the token endpoint's
/// answer, which the endpoint chooses.
const MAX_ERROR_BYTES: usize = 2048;

/// The error and its causes on one line: azure_identity's messages span lines (a
/// troubleshooting link on its own line), and the cause of "retry policy expired" (a refused
/// connection, an untrusted certificate) sits deeper in the chain.
fn one_line(e: &azure_core::Error) -> String {
    cut(&causes(e), MAX_ERROR_BYTES)
}

fn causes(e: &azure_core::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&dyn std::error::Error> = Some(e);
    while let Some(error) = next {
        let text = error
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = error.source();
    }
    parts.join(": ")
}

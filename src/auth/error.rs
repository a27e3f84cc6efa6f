//! Why no token could be had. Messages name variables and endpoints, never a secret.

use crate::job::{ErrorCode, JobError};

/// A credential could not be chosen or could not produce a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The environment names a credential but is incomplete or invalid.
    #[error("the credential settings are incomplete: {0}")]
    Configuration(String),
    /// Nothing configured a credential and the instance metadata service did not help.
    #[error(
        "no credential found: none of IDENTITY_ENDPOINT+IDENTITY_HEADER, MSI_ENDPOINT+MSI_SECRET, \
         IDENTITY_ENDPOINT+IMDS_ENDPOINT, AZURE_FEDERATED_TOKEN_FILE or AZURE_CLIENT_SECRET (with AZURE_CLIENT_ID and AZURE_TENANT_ID) \
         is set, and the Azure instance metadata service {0}; this does not look like an Azure host"
    )]
    NoCredential(String),
    /// The token endpoint refused or failed.
    #[error("{credential} could not get a token: {reason}")]
    TokenRequest {
        /// The credential, as [`super::CredentialKind`] displays it.
        credential: String,
        /// What went wrong.
        reason: String,
    },
    /// The token endpoint did not answer in time.
    #[error("{credential} did not get a token within {seconds} s")]
    Timeout {
        /// The credential, as [`super::CredentialKind`] displays it.
        credential: String,
        /// The time allowed.
        seconds: u64,
    },
}

impl AuthError {
    /// The job's error record: always `AuthenticationFailed`.
    pub fn to_job_error(&self) -> JobError {
        JobError::new(ErrorCode::AuthenticationFailed, self.to_string())
    }
}

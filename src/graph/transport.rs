//! The one HTTP client of the job, shared by Graph calls and token requests.

use std::path::PathBuf;
use std::time::Duration;

use crate::auth::Environment;

/// The environment variable naming a PEM bundle of extra trusted root certificates, for
/// networks whose TLS-inspecting proxy re-signs traffic with a private CA.
pub const CA_FILE_VARIABLE: &str = "TAP_RUNBOOK_CA_FILE";

/// How the HTTP client connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// The longest wait for a TCP and TLS connection.
    pub connect_timeout: Duration,
    /// A PEM bundle of roots trusted in addition to the platform's.
    pub ca_file: Option<PathBuf>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            ca_file: None,
        }
    }
}

impl HttpSettings {
    /// Production settings, with `TAP_RUNBOOK_CA_FILE` from the captured environment.
    pub fn from_environment(env: &Environment) -> Self {
        Self {
            ca_file: env.get(CA_FILE_VARIABLE).map(PathBuf::from),
            ..Self::default()
        }
    }
}

/// The HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum HttpSetupError {
    /// The extra CA bundle could not be read or holds no certificate.
    #[error("cannot use the CA bundle {path} ({CA_FILE_VARIABLE}): {reason}")]
    CaFile {
        /// The bundle's path.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The TLS stack refused the configuration.
    #[error("cannot set up the HTTP client: {0}")]
    Build(String),
}

/// Builds the client every request of the job goes through: rustls with the platform's roots
/// plus the extra bundle, the system proxy settings, no redirects (Graph does not redirect, and
/// a redirect must never carry a bearer token elsewhere).
pub fn build_http_client(settings: &HttpSettings) -> Result<reqwest::Client, HttpSetupError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(settings.connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tap-runbook/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &settings.ca_file {
        let ca_error = |reason: String| HttpSetupError::CaFile {
            path: path.clone(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
        let roots =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ca_error(e.to_string()))?;
        if roots.is_empty() {
            return Err(ca_error("no PEM certificate in the file".into()));
        }
        builder = builder.tls_certs_merge(roots);
    }
    builder
        .build()
        .map_err(|e| HttpSetupError::Build(e.to_string()))
}

//! The one HTTP client of the job, shared by Graph calls and token requests, and the rules
//! every answer is read by.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use super::environment::Environment;
use super::proxy::ProxySettings;

/// The environment variable naming a PEM bundle of extra trusted root certificates, for
/// networks whose TLS-inspecting proxy re-signs traffic with a private CA.
pub const CA_FILE_VARIABLE: &str = "TAP_RUNBOOK_CA_FILE";

/// The variables with which the TLS library on Linux replaces the system's trust store
/// (rustls-native-certs reads them). They are honoured as the platform convention; the job
/// says so at Verbose, since [`CA_FILE_VARIABLE`] is the documented way to add a root.
pub const TRUST_STORE_VARIABLES: [&str; 2] = ["SSL_CERT_FILE", "SSL_CERT_DIR"];

/// The most of an answer's body the job reads, after decompression. A Graph answer or a token
/// response is a few kilobytes; anything near this is not one, and reading on would let a
/// server (or a gzip bomb) fill the memory of the host.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// How the HTTP client connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// The longest wait for a TCP and TLS connection.
    pub connect_timeout: Duration,
    /// A PEM bundle of roots trusted in addition to the platform's.
    pub ca_file: Option<PathBuf>,
    /// The proxies for public hosts (loopback and link-local are always direct).
    pub proxies: ProxySettings,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            ca_file: None,
            proxies: ProxySettings::default(),
        }
    }
}

impl HttpSettings {
    /// Production settings: `TAP_RUNBOOK_CA_FILE` and the proxy variables from the captured
    /// environment.
    pub fn from_environment(env: &Environment) -> Self {
        Self {
            ca_file: env.get(CA_FILE_VARIABLE).map(PathBuf::from),
            proxies: ProxySettings::from_environment(env),
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
    /// A proxy variable holds something that is not a usable proxy URL.
    #[error("cannot use the proxy in {variable}: {reason}")]
    Proxy {
        /// The variable, e.g. `HTTPS_PROXY`.
        variable: &'static str,
        /// What was wrong, without the value (it may hold a password).
        reason: String,
    },
    /// The TLS stack refused the configuration.
    #[error("cannot set up the HTTP client: {0}")]
    Build(String),
}

/// Builds the client every request of the job goes through (see [`client_builder`]).
pub fn build_http_client(settings: &HttpSettings) -> Result<reqwest::Client, HttpSetupError> {
    client_builder(settings)?
        .build()
        .map_err(|e| HttpSetupError::Build(e.to_string()))
}

/// The settings every client of the job shares: rustls with the platform's roots plus the
/// extra bundle, the proxies of [`ProxySettings`], and no redirects. Graph and the token
/// endpoints do not redirect, and a redirect must never carry a bearer token, an identity
/// header or a client secret to another host.
pub(crate) fn client_builder(
    settings: &HttpSettings,
) -> Result<reqwest::ClientBuilder, HttpSetupError> {
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
    settings.proxies.apply(builder)
}

/// Why an answer's body was not read in full.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body (decompressed) passed [`MAX_RESPONSE_BYTES`]; the rest was not read.
    #[error("the answer is larger than {} KiB and was not read", MAX_RESPONSE_BYTES / 1024)]
    TooLarge,
    /// The transfer broke off or could not be decoded.
    #[error("{0}")]
    Transfer(String),
}

/// Reads a body chunk by chunk and stops as soon as it passes `limit` bytes, so neither a
/// lying Content-Length nor a compressed body that expands a thousandfold can make the job
/// hold more than the limit.
pub(crate) async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|declared| declared > limit as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() > limit => return Err(BodyError::TooLarge),
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => return Ok(body),
            Err(e) => return Err(BodyError::Transfer(error_chain(&e))),
        }
    }
}

/// A URL as messages may show it: scheme, host, port and path, without a user name, password,
/// query or fragment, any of which may hold a secret.
pub fn redacted_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// A transport error with its causes ("connection reset by peer" sits deep in the chain),
/// without the URL reqwest would add: its query or user part may hold a secret.
pub(crate) fn error_chain(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.is_empty() {
        parts.push(if e.is_timeout() {
            "timed out".to_owned()
        } else {
            "transport error".to_owned()
        });
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_urls_keep_where_but_not_who_or_what() {
        let url =
            Url::parse("http://svc:hunter2@127.0.0.1:40342/metadata/identity?sig=abc#f").unwrap();
        assert_eq!(
            redacted_url(&url),
            "http://127.0.0.1:40342/metadata/identity"
        );
    }
}

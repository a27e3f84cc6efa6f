//! Loopback HTTPS: a certificate authority made when the simulator starts, and a server
//! certificate it issues for the loopback names. A client trusts the CA's certificate (as
//! `TAP_RUNBOOK_CA_FILE` adds it) and nothing else has to change. The private keys exist only
//! in this process's memory.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::aws_lc_rs;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::SimulatorError;

/// A throwaway certificate authority and a TLS acceptor presenting a certificate it issued
/// for `127.0.0.1`, `::1` and `localhost`.
#[derive(Clone)]
pub struct LoopbackCa {
    certificate_pem: String,
    acceptor: TlsAcceptor,
}

impl LoopbackCa {
    /// Generates the CA and the server certificate.
    pub fn generate() -> Result<LoopbackCa, SimulatorError> {
        Self::build().map_err(|e| SimulatorError::Tls(e.to_string()))
    }

    fn build() -> Result<LoopbackCa, Box<dyn std::error::Error>> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "graph-sim loopback CA (test data only)");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

        let server_key = KeyPair::generate()?;
        let server_names = ["127.0.0.1", "::1", "localhost"].map(str::to_owned);
        let server_cert =
            CertificateParams::new(server_names.to_vec())?.signed_by(&server_key, &ca)?;
        let config = ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![server_cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
            )?;
        Ok(LoopbackCa {
            certificate_pem: ca.pem(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// The CA's certificate in PEM: what a client adds to its trusted roots. It holds no key.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The acceptor that completes the server side of a TLS handshake.
    pub fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }
}

impl std::fmt::Debug for LoopbackCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopbackCa").finish_non_exhaustive()
    }
}

//! A loopback HTTPS server signed by a throwaway CA, so the https-only image fetcher can
//! be tested for real: the fetcher trusts that CA on top of the platform's, and the https rule
//! stays on. The job refuses loopback addresses for branding; these tests use the library's
//! `Destinations::PublicOrLoopback`, which nothing in the binary can select.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tap_runbook::net::HttpSettings;
use tap_runbook::notify::{Destinations, ImageFetcher};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};

/// What the server answers for a path.
pub enum Reply {
    /// 200 with this body; `declare_length: false` streams it until the connection closes.
    Body {
        content_type: &'static str,
        body: Vec<u8>,
        declare_length: bool,
    },
    /// An empty answer with this status.
    Status(u16),
    /// 302 to this location.
    Redirect(String),
    /// Read the request, then never answer.
    Hang,
}

type Router = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

/// A running server; it stops with the test's runtime.
pub struct TestServer {
    base: String,
    connections: Arc<AtomicUsize>,
    /// Settings that trust the test CA, as `TAP_RUNBOOK_CA_FILE` would.
    pub settings: HttpSettings,
    /// A fetcher that trusts the test CA and may connect to loopback.
    pub fetcher: ImageFetcher,
    /// Keeps the CA file the settings name.
    _ca_file: Option<tempfile::NamedTempFile>,
}

impl TestServer {
    /// An HTTPS server on 127.0.0.1 answering each path through `route`.
    pub async fn https(route: impl Fn(&str) -> Reply + Send + Sync + 'static) -> TestServer {
        let (acceptor, ca_pem) = test_tls();
        let mut ca_file = tempfile::NamedTempFile::new().unwrap();
        ca_file.write_all(ca_pem.as_bytes()).unwrap();
        let settings = HttpSettings {
            ca_file: Some(ca_file.path().to_owned()),
            ..HttpSettings::default()
        };
        Self::start(
            "https",
            Some(acceptor),
            settings,
            Some(ca_file),
            Arc::new(route),
        )
        .await
    }

    /// A plain-HTTP server, for requests that must never be made.
    pub async fn http(route: impl Fn(&str) -> Reply + Send + Sync + 'static) -> TestServer {
        Self::start("http", None, HttpSettings::default(), None, Arc::new(route)).await
    }

    async fn start(
        scheme: &str,
        tls: Option<TlsAcceptor>,
        settings: HttpSettings,
        ca_file: Option<tempfile::NamedTempFile>,
        route: Router,
    ) -> TestServer {
        let fetcher =
            ImageFetcher::with_destinations(&settings, Destinations::PublicOrLoopback).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("{scheme}://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let (tls, route) = (tls.clone(), route.clone());
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(tcp).await {
                                serve(stream, route).await;
                            }
                        }
                        None => serve(tcp, route).await,
                    }
                });
            }
        });
        TestServer {
            base,
            connections,
            settings,
            fetcher,
            _ca_file: ca_file,
        }
    }

    /// The absolute URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// How many TCP connections reached the server.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn serve(mut stream: impl AsyncRead + AsyncWrite + Unpin, route: Router) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let response = match route(&path) {
        Reply::Hang => return std::future::pending().await,
        Reply::Status(status) => {
            format!("HTTP/1.1 {status} Test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .into_bytes()
        }
        Reply::Redirect(location) => format!(
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .into_bytes(),
        Reply::Body {
            content_type,
            body,
            declare_length,
        } => {
            let length = if declare_length {
                format!("Content-Length: {}\r\n", body.len())
            } else {
                String::new()
            };
            let mut response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n{length}Connection: close\r\n\r\n"
            )
            .into_bytes();
            response.extend_from_slice(&body);
            response
        }
    };
    // The client may hang up early (a refused download); that is not the server's problem.
    let _ = stream.write_all(&response).await;
    let _ = stream.shutdown().await;
}

/// A CA and a certificate for 127.0.0.1 signed by it: the acceptor and the CA's PEM.
fn test_tls() -> (TlsAcceptor, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "tap-runbook test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let key = pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key)
        .unwrap();
    (TlsAcceptor::from(Arc::new(config)), ca_cert.pem())
}

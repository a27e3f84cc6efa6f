//! A loopback HTTPS server signed by the test CA, so the https-only image fetcher can be
//! tested for real: the fetcher trusts that CA on top of the platform's, and the https rule
//! stays on. The job refuses loopback addresses for branding; these tests use the library's
//! `Destinations::PublicOrLoopback`, which nothing in the binary can select.

use std::pin::Pin;
use std::sync::Arc;

use tap_runbook::net::HttpSettings;
use tap_runbook::notify::{Destinations, ImageFetcher};
use tokio::io::AsyncWriteExt;

use crate::common::loopback::{Connection, Loopback, TestCa, read_request, respond};

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

/// A running server; it stops with the test's runtime.
pub struct TestServer {
    server: Loopback,
    /// Settings that trust the test CA, as `TAP_RUNBOOK_CA_FILE` would.
    pub settings: HttpSettings,
    /// A fetcher that trusts the test CA and may connect to loopback.
    pub fetcher: ImageFetcher,
    /// Keeps the CA file the settings name.
    _ca: Option<TestCa>,
}

impl TestServer {
    /// An HTTPS server on 127.0.0.1 answering each path through `route`.
    pub async fn https(route: impl Fn(&str) -> Reply + Send + Sync + 'static) -> TestServer {
        let ca = TestCa::new();
        let settings = HttpSettings {
            ca_file: Some(ca.file().to_owned()),
            ..HttpSettings::default()
        };
        let server = Loopback::start(Some(ca.acceptor()), serving(route)).await;
        Self::with(server, settings, Some(ca))
    }

    /// A plain-HTTP server, for requests that must never be made.
    pub async fn http(route: impl Fn(&str) -> Reply + Send + Sync + 'static) -> TestServer {
        let server = Loopback::start(None, serving(route)).await;
        Self::with(server, HttpSettings::default(), None)
    }

    fn with(server: Loopback, settings: HttpSettings, ca: Option<TestCa>) -> TestServer {
        let fetcher =
            ImageFetcher::with_destinations(&settings, Destinations::PublicOrLoopback).unwrap();
        TestServer {
            server,
            settings,
            fetcher,
            _ca: ca,
        }
    }

    /// The absolute URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// How many TCP connections reached the server.
    pub fn connections(&self) -> usize {
        self.server.connections()
    }
}

/// A connection handler answering each path through `route`.
fn serving(
    route: impl Fn(&str) -> Reply + Send + Sync + 'static,
) -> impl Fn(Box<dyn Connection>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync {
    let route: Arc<dyn Fn(&str) -> Reply + Send + Sync> = Arc::new(route);
    move |stream| Box::pin(serve(stream, Arc::clone(&route)))
}

async fn serve(mut stream: Box<dyn Connection>, route: Arc<dyn Fn(&str) -> Reply + Send + Sync>) {
    let Some(request) = read_request(stream.as_mut()).await else {
        return;
    };
    match route(&request.path_and_query()) {
        Reply::Hang => std::future::pending().await,
        Reply::Status(status) => respond(stream.as_mut(), status, &[], b"").await,
        Reply::Redirect(location) => {
            let headers = [("Location".to_owned(), location)];
            respond(stream.as_mut(), 302, &headers, b"").await;
        }
        Reply::Body {
            content_type,
            body,
            declare_length: true,
        } => {
            let headers = [("Content-Type".to_owned(), content_type.to_owned())];
            respond(stream.as_mut(), 200, &headers, &body).await;
        }
        Reply::Body {
            content_type, body, ..
        } => {
            // No length: the body ends when the connection does.
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n"
            );
            // The client may hang up early (a refused download); that is not the server's problem.
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&body).await;
            let _ = stream.shutdown().await;
        }
    }
}

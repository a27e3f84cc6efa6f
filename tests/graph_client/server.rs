//! A scripted HTTP/1.1 server on a loopback port: records each request and answers from a
//! per-route script, including transport faults (reset, truncated body, no answer) that a
//! framework server cannot produce on purpose. It runs on the tests' one loopback server.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio_rustls::TlsAcceptor;

pub use crate::common::loopback::Request as Recorded;
use crate::common::loopback::{Connection, Loopback, read_request, reason, respond};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete response.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Read the request, then drop the connection with a TCP reset: sent, no answer.
    Reset,
    /// Send the status line and headers promising more body than follows, then close.
    Truncated { status: u16 },
    /// Read the request and never answer.
    Hang,
}

impl Reply {
    /// A JSON response.
    pub fn json(status: u16, body: Value) -> Self {
        Self::Respond {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    /// A response without a body.
    pub fn empty(status: u16) -> Self {
        Self::Respond {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// A raw body, e.g. broken JSON.
    pub fn raw(status: u16, body: &str) -> Self {
        Self::Respond {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
        }
    }

    /// Graph's error envelope.
    pub fn graph_error(status: u16, code: &str, message: &str) -> Self {
        Self::json(
            status,
            serde_json::json!({"error": {"code": code, "message": message,
                "innerError": {"date": "2026-11-29T10:00:00", "request-id": format!("req-{code}"),
                               "client-request-id": "c-1"}}}),
        )
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let Self::Respond { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

struct Route {
    method: String,
    prefix: String,
    replies: VecDeque<Reply>,
}

#[derive(Default)]
struct State {
    routes: Vec<Route>,
    requests: Vec<Recorded>,
}

/// The server. Dropping it stops nothing by itself; the test's runtime ends its tasks.
#[derive(Clone)]
pub struct MockServer {
    server: Loopback,
    state: Arc<Mutex<State>>,
}

impl MockServer {
    /// A plain-HTTP server on 127.0.0.1.
    pub async fn start() -> Self {
        Self::serve(None).await
    }

    /// An HTTPS server on 127.0.0.1 presenting `acceptor`'s certificate.
    pub async fn start_tls(acceptor: TlsAcceptor) -> Self {
        Self::serve(Some(acceptor)).await
    }

    async fn serve(tls: Option<TlsAcceptor>) -> Self {
        let state: Arc<Mutex<State>> = Arc::default();
        let served = Arc::clone(&state);
        let server = Loopback::start(tls, move |mut stream| {
            let state = Arc::clone(&served);
            async move {
                if connection(&mut stream, &state).await == Ending::Reset {
                    // RST instead of FIN, as a crashed peer or a middlebox does.
                    let _ = stream.tcp().set_zero_linger();
                }
            }
        })
        .await;
        Self { server, state }
    }

    /// `http(s)://127.0.0.1:port`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Scripts the answers for `method` on paths starting with `prefix` (the longest matching
    /// prefix wins). Replies are used in order; the last one repeats.
    pub fn route(&self, method: &str, prefix: &str, replies: Vec<Reply>) {
        assert!(!replies.is_empty());
        self.state.lock().unwrap().routes.push(Route {
            method: method.into(),
            prefix: prefix.into(),
            replies: replies.into(),
        });
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Requests for `method` on paths starting with `prefix`.
    pub fn requests_to(&self, method: &str, prefix: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.starts_with(prefix))
            .collect()
    }

    fn next_reply(state: &Mutex<State>, request: &Recorded) -> Reply {
        let mut state = state.lock().unwrap();
        state.requests.push(request.clone());
        let route = state
            .routes
            .iter_mut()
            .filter(|r| r.method == request.method && request.path.starts_with(&r.prefix))
            .max_by_key(|r| r.prefix.len());
        match route {
            Some(route) if route.replies.len() > 1 => route.replies.pop_front().unwrap(),
            Some(route) => route.replies[0].clone(),
            None => Reply::graph_error(404, "NoRoute", "the mock server has no route for this"),
        }
    }
}

/// How a connection should end.
#[derive(PartialEq, Eq)]
enum Ending {
    Close,
    Reset,
}

/// Serves one request on a connection; the caller then closes it.
async fn connection(stream: &mut Box<dyn Connection>, state: &Mutex<State>) -> Ending {
    let Some(request) = read_request(stream.as_mut()).await else {
        return Ending::Close;
    };
    match MockServer::next_reply(state, &request) {
        Reply::Respond {
            status,
            headers,
            body,
        } => respond(stream.as_mut(), status, &headers, body.as_bytes()).await,
        Reply::Truncated { status } => {
            let head = format!(
                "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: 500\r\nconnection: close\r\n\r\n{{\"id\":\"tru",
                reason(status)
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.flush().await;
        }
        Reply::Reset => return Ending::Reset,
        Reply::Hang => std::future::pending::<()>().await,
    }
    Ending::Close
}

//! A scripted HTTP/1.1 server on a loopback port: records each request and answers from a
//! per-route script, including transport faults (reset, truncated body, no answer) that a
//! framework server cannot produce on purpose.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

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

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The request target as sent (absolute-form when the client used us as a proxy).
    pub target: String,
    /// The path, without query.
    pub path: String,
    /// The query, if any.
    pub query: Option<String>,
    /// Header names in lowercase.
    pub headers: BTreeMap<String, String>,
    pub body: String,
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
    addr: SocketAddr,
    scheme: &'static str,
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
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = Self {
            addr: listener.local_addr().unwrap(),
            scheme: if tls.is_some() { "https" } else { "http" },
            state: Arc::default(),
        };
        let state = Arc::clone(&server.state);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&state);
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            if let Ok(mut stream) = acceptor.accept(stream).await {
                                connection(&mut stream, &state).await;
                            }
                        }
                        None => {
                            let mut stream = stream;
                            if connection(&mut stream, &state).await == Ending::Reset {
                                // RST instead of FIN, as a crashed peer or a middlebox does.
                                let _ = stream.set_zero_linger();
                            }
                        }
                    }
                });
            }
        });
        server
    }

    /// `http(s)://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
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
async fn connection<S>(stream: &mut S, state: &Mutex<State>) -> Ending
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Some(request) = read_request(stream).await else {
        return Ending::Close;
    };
    match MockServer::next_reply(state, &request) {
        Reply::Respond {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\ncontent-length: {}\r\nconnection: close\r\n",
                reason(status),
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
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

async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Recorded> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = find(&buffer, b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let origin_form = match target.find("://") {
        Some(i) => target[i + 3..]
            .find('/')
            .map_or("/".to_owned(), |j| target[i + 3 + j..].to_owned()),
        None => target.clone(),
    };
    let (path, query) = match origin_form.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (origin_form, None),
    };
    Some(Recorded {
        method,
        target,
        path,
        query,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

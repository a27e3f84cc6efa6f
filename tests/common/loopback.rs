//! The tests' one loopback server and one test CA. [`Loopback`] listens on 127.0.0.1, plain
//! or behind TLS, and hands each connection to the caller, who scripts the protocol with the
//! one request reader ([`read_request`]) and response writer ([`respond`]); that is how the
//! scripted Graph, the image server, the recording proxy and the flood are built. [`TestCa`]
//! is the simulator's own loopback CA with its certificate in a file, as
//! `TAP_RUNBOOK_CA_FILE` names it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use graph_sim::LoopbackCa;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// The test CA: the certificate in a file for `TAP_RUNBOOK_CA_FILE`, and the acceptor that
/// presents a certificate it issued for 127.0.0.1 and localhost.
pub struct TestCa {
    ca: LoopbackCa,
    file: tempfile::NamedTempFile,
}

impl TestCa {
    pub fn new() -> TestCa {
        let ca = LoopbackCa::generate().unwrap();
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), ca.certificate_pem()).unwrap();
        TestCa { ca, file }
    }

    /// The file holding the CA's certificate.
    pub fn file(&self) -> &Path {
        self.file.path()
    }

    pub fn acceptor(&self) -> TlsAcceptor {
        self.ca.acceptor()
    }
}

/// One accepted connection, plain or TLS.
pub trait Connection: AsyncRead + AsyncWrite + Unpin + Send {
    /// The TCP socket under it.
    fn tcp(&self) -> &TcpStream;
}

impl Connection for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Connection for TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

/// A listener on 127.0.0.1; its tasks end with the test's runtime.
#[derive(Clone)]
pub struct Loopback {
    addr: SocketAddr,
    scheme: &'static str,
    connections: Arc<AtomicUsize>,
}

impl Loopback {
    /// Serves each connection with `handle`, behind TLS when `tls` is given (a connection
    /// whose handshake fails is dropped).
    pub async fn start<F, Fut>(tls: Option<TlsAcceptor>, handle: F) -> Loopback
    where
        F: Fn(Box<dyn Connection>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = Loopback {
            addr: listener.local_addr().unwrap(),
            scheme: if tls.is_some() { "https" } else { "http" },
            connections: Arc::default(),
        };
        let connections = Arc::clone(&server.connections);
        let handle = Arc::new(handle);
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                connections.fetch_add(1, Ordering::SeqCst);
                let (tls, handle) = (tls.clone(), Arc::clone(&handle));
                tokio::spawn(async move {
                    match tls {
                        None => handle(Box::new(tcp)).await,
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(tcp).await {
                                handle(Box::new(stream)).await;
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

    /// How many TCP connections reached the server.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Request {
    /// The request line and headers as sent.
    pub head: String,
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

impl Request {
    /// The path with its query, as the client sent it.
    pub fn path_and_query(&self) -> String {
        match &self.query {
            Some(query) => format!("{}?{query}", self.path),
            None => self.path.clone(),
        }
    }
}

/// Reads one request: the head, then as much body as its Content-Length says. `None` when
/// the client hung up before the head was complete.
pub async fn read_request<S: AsyncRead + Unpin + ?Sized>(stream: &mut S) -> Option<Request> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end + 4]).into_owned();
    let mut lines = head.trim_end().split("\r\n");
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
    Some(Request {
        head,
        method,
        target,
        path,
        query,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Writes a whole response (`Content-Length` set, `Connection: close`) and closes the write
/// side. A client that hung up early is not the server's problem.
pub async fn respond<S: AsyncWrite + Unpin + ?Sized>(
    stream: &mut S,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) {
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
    let _ = stream.write_all(body).await;
    let _ = stream.shutdown().await;
}

/// The reason phrase for `status`.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

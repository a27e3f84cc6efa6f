//! Raw loopback servers for attacks a framework server cannot stage, on the tests' one
//! loopback server: a "proxy" that only records what reaches it, and a server that answers
//! with a flood or a gzip bomb.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;

use crate::common::loopback::{Connection, Loopback, read_request, respond};

/// A listener that records the request head of every connection and answers 502. Set as a
/// proxy, it shows which requests the job sent through it.
#[derive(Clone)]
pub struct RecordingProxy {
    url: String,
    heads: Arc<Mutex<Vec<String>>>,
}

impl RecordingProxy {
    pub async fn start() -> Self {
        let heads: Arc<Mutex<Vec<String>>> = Arc::default();
        let recorded = Arc::clone(&heads);
        let server = Loopback::start(None, move |mut stream| {
            let heads = Arc::clone(&recorded);
            async move {
                if let Some(request) = read_request(stream.as_mut()).await {
                    heads.lock().unwrap().push(request.head);
                }
                respond(stream.as_mut(), 502, &[], b"").await;
            }
        })
        .await;
        Self {
            url: server.url(),
            heads,
        }
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The request heads received so far, one per connection.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// What [`Flood`] sends for requests that are not token requests.
#[derive(Clone, Copy)]
pub enum Body {
    /// A Graph error envelope whose message is `size` bytes of `A`, streamed without a length.
    Huge { status: u16, size: usize },
    /// The same envelope gzip-compressed: a few hundred KiB that expand to `size` bytes.
    GzipBomb { status: u16, size: usize },
}

/// A managed-identity endpoint (`/msi/token`: a normal token, or with `huge_token` a 400 MiB
/// answer) and a Graph (any other path) that answers with `body`.
pub struct Flood {
    url: String,
}

impl Flood {
    pub async fn start(body: Body, huge_token: bool) -> Self {
        let gzip = match body {
            Body::GzipBomb { size, .. } => Arc::new(gzip_envelope(size)),
            Body::Huge { .. } => Arc::new(Vec::new()),
        };
        let server = Loopback::start(None, move |mut stream| {
            let gzip = Arc::clone(&gzip);
            async move {
                let Some(request) = read_request(stream.as_mut()).await else {
                    return;
                };
                if request.path.starts_with("/msi/token") && !huge_token {
                    let token = format!(
                        "{{\"access_token\":\"flood-token\",\"expires_on\":\"{}\"}}",
                        time::OffsetDateTime::now_utc().unix_timestamp() + 3600
                    );
                    let json = [("content-type".to_owned(), "application/json".to_owned())];
                    respond(stream.as_mut(), 200, &json, token.as_bytes()).await;
                    return;
                }
                match body {
                    _ if huge_token => stream_envelope(stream.as_mut(), 200, 400 << 20).await,
                    Body::Huge { status, size } => {
                        stream_envelope(stream.as_mut(), status, size).await
                    }
                    Body::GzipBomb { status, .. } => {
                        let headers = [
                            ("content-type".to_owned(), "application/json".to_owned()),
                            ("content-encoding".to_owned(), "gzip".to_owned()),
                        ];
                        respond(stream.as_mut(), status, &headers, &gzip).await;
                    }
                }
            }
        })
        .await;
        Self { url: server.url() }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Streams `{"error":{"code":"Flood","message":"AAAA…"}}` without a Content-Length until the
/// client hangs up or `size` bytes went out.
async fn stream_envelope(stream: &mut dyn Connection, status: u16, size: usize) {
    let head = format!(
        "HTTP/1.1 {status} Error\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{{\"error\":{{\"code\":\"Flood\",\"message\":\""
    );
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let chunk = vec![b'A'; 64 * 1024];
    let mut sent = 0;
    while sent < size {
        if stream.write_all(&chunk).await.is_err() {
            return;
        }
        sent += chunk.len();
    }
    let _ = stream.write_all(b"\"}}").await;
}

fn gzip_envelope(size: usize) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(b"{\"error\":{\"code\":\"Bomb\",\"message\":\"")
        .unwrap();
    let chunk = vec![b'A'; 1 << 20];
    for _ in 0..size / chunk.len() {
        encoder.write_all(&chunk).unwrap();
    }
    encoder.write_all(b"\"}}").unwrap();
    encoder.finish().unwrap()
}

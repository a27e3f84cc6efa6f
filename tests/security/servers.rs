//! Raw loopback listeners for attacks a framework server cannot stage: a "proxy" that only
//! records what reaches it, and a server that answers with a flood or a gzip bomb.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A listener that records the request head of every connection and answers 502. Set as a
/// proxy, it shows which requests the job sent through it.
#[derive(Clone)]
pub struct RecordingProxy {
    url: String,
    heads: Arc<Mutex<Vec<String>>>,
}

impl RecordingProxy {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Self {
            url: format!("http://{}", listener.local_addr().unwrap()),
            heads: Arc::default(),
        };
        let heads = Arc::clone(&proxy.heads);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let heads = Arc::clone(&heads);
                tokio::spawn(async move {
                    let head = read_head(&mut stream).await;
                    heads.lock().unwrap().push(head);
                    let _ = stream
                        .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                });
            }
        });
        proxy
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

async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
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
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let gzip = match body {
            Body::GzipBomb { size, .. } => Arc::new(gzip_envelope(size)),
            Body::Huge { .. } => Arc::new(Vec::new()),
        };
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let gzip = Arc::clone(&gzip);
                tokio::spawn(async move {
                    let head = read_head(&mut stream).await;
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    if path.starts_with("/msi/token") && !huge_token {
                        let token = format!(
                            "{{\"access_token\":\"flood-token\",\"expires_on\":\"{}\"}}",
                            time::OffsetDateTime::now_utc().unix_timestamp() + 3600
                        );
                        let _ = stream
                            .write_all(
                                format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{token}", token.len())
                                    .as_bytes(),
                            )
                            .await;
                        return;
                    }
                    match body {
                        _ if huge_token => stream_envelope(&mut stream, 200, 400 << 20).await,
                        Body::Huge { status, size } => {
                            stream_envelope(&mut stream, status, size).await
                        }
                        Body::GzipBomb { status, .. } => {
                            let head = format!(
                                "HTTP/1.1 {status} Error\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                                gzip.len()
                            );
                            let _ = stream.write_all(head.as_bytes()).await;
                            let _ = stream.write_all(&gzip).await;
                        }
                    }
                });
            }
        });
        Self { url }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Streams `{"error":{"code":"Flood","message":"AAAA…"}}` without a Content-Length until the
/// client hangs up or `size` bytes went out.
async fn stream_envelope(stream: &mut TcpStream, status: u16, size: usize) {
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

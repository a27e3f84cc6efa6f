//! Connections that a request handler can sever, to model "the request was sent but no
//! response ever came back", over plain TCP or behind TLS.
//!
//! axum offers no way for a handler to drop its connection. Instead the listener wraps each
//! socket in a [`SeverableStream`] whose switch travels with the request as connect info; once
//! thrown, every write fails, so hyper abandons the response and closes the socket (with
//! `SO_LINGER` 0, so the client sees a reset rather than a polite close).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client may take over its TLS handshake before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A loopback listener whose connections can be severed.
pub(crate) enum SeverableListener {
    Plain(TcpListener),
    /// Handshakes run on tasks of their own, so a client that stalls in one holds up nobody;
    /// finished ones arrive on `handshaken`.
    Tls {
        local_addr: SocketAddr,
        handshaken: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
        _accepting: AcceptLoop,
    },
}

impl SeverableListener {
    /// Serves `listener` behind TLS with `acceptor`'s certificate.
    pub fn tls(listener: TcpListener, acceptor: TlsAcceptor) -> io::Result<SeverableListener> {
        let local_addr = listener.local_addr()?;
        let (handshakes, handshaken) = mpsc::channel(64);
        let accepting = tokio::spawn(async move {
            loop {
                let (tcp, addr) = accept_tcp(&listener).await;
                let (acceptor, handshakes) = (acceptor.clone(), handshakes.clone());
                tokio::spawn(async move {
                    // A client that gives up on the handshake, or does not speak TLS, never
                    // becomes a connection.
                    if let Ok(Ok(tls)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
                    {
                        let _ = handshakes.send((tls, addr)).await;
                    }
                });
            }
        });
        Ok(SeverableListener::Tls {
            local_addr,
            handshaken,
            _accepting: AcceptLoop(accepting),
        })
    }
}

/// The task accepting TLS connections; it ends (closing the port) with the listener.
pub(crate) struct AcceptLoop(JoinHandle<()>);

impl Drop for AcceptLoop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn accept_tcp(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                // Small request/response exchanges: don't let Nagle add latency.
                let _ = stream.set_nodelay(true);
                return (stream, addr);
            }
            // Out of file descriptors and the like: back off instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

impl Listener for SeverableListener {
    type Io = SeverableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (inner, addr) = match self {
            SeverableListener::Plain(listener) => {
                let (tcp, addr) = accept_tcp(listener).await;
                (Transport::Plain(tcp), addr)
            }
            SeverableListener::Tls { handshaken, .. } => match handshaken.recv().await {
                Some((tls, addr)) => (Transport::Tls(Box::new(tls)), addr),
                // The accept loop is gone only when the listener is: nothing more arrives.
                None => std::future::pending().await,
            },
        };
        let stream = SeverableStream {
            inner,
            switch: ConnectionSwitch::default(),
        };
        (stream, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        match self {
            SeverableListener::Plain(listener) => listener.local_addr(),
            SeverableListener::Tls { local_addr, .. } => Ok(*local_addr),
        }
    }
}

/// The switch that severs one connection; handed to each request as connect info.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnectionSwitch(Arc<AtomicBool>);

impl ConnectionSwitch {
    /// Drops the connection instead of sending the response being prepared.
    pub fn sever(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn is_severed(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl Connected<IncomingStream<'_, SeverableListener>> for ConnectionSwitch {
    fn connect_info(stream: IncomingStream<'_, SeverableListener>) -> Self {
        stream.io().switch.clone()
    }
}

/// A connection, plain or behind TLS.
pub(crate) enum Transport {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Transport {
    fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(tcp) => tcp,
            Transport::Tls(tls) => tls.get_ref().0,
        }
    }
}

/// Both kinds of connection read and write alike.
macro_rules! delegate {
    ($self:ident, $io:ident => $call:expr) => {
        match $self.get_mut() {
            Transport::Plain($io) => {
                let $io = Pin::new($io);
                $call
            }
            Transport::Tls($io) => {
                let $io = Pin::new($io.as_mut());
                $call
            }
        }
    };
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        delegate!(self, io => io.poll_read(cx, buf))
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, io => io.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, io => io.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Transport::Plain(tcp) => tcp.is_write_vectored(),
            Transport::Tls(tls) => tls.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, io => io.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, io => io.poll_shutdown(cx))
    }
}

/// A connection that fails every operation once its switch is thrown.
pub(crate) struct SeverableStream {
    inner: Transport,
    switch: ConnectionSwitch,
}

impl SeverableStream {
    fn severed(&self) -> io::Error {
        let _ = self.inner.tcp().set_zero_linger();
        io::Error::new(
            io::ErrorKind::ConnectionReset,
            "connection severed by a simulated fault",
        )
    }
}

impl AsyncRead for SeverableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.switch.is_severed() {
            return Poll::Ready(Err(self.severed()));
        }
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for SeverableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.switch.is_severed() {
            return Poll::Ready(Err(self.severed()));
        }
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.switch.is_severed() {
            return Poll::Ready(Err(self.severed()));
        }
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.switch.is_severed() {
            return Poll::Ready(Err(self.severed()));
        }
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

//! Connections that a request handler can sever, to model "the request was sent but no
//! response ever came back".
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

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A TCP listener whose connections can be severed.
pub(crate) struct SeverableListener(pub TcpListener);

impl Listener for SeverableListener {
    type Io = SeverableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    // Small request/response exchanges: don't let Nagle add latency.
                    let _ = stream.set_nodelay(true);
                    let stream = SeverableStream {
                        inner: stream,
                        switch: ConnectionSwitch::default(),
                    };
                    return (stream, addr);
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
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

/// A TCP stream that fails every operation once its switch is thrown.
pub(crate) struct SeverableStream {
    inner: TcpStream,
    switch: ConnectionSwitch,
}

impl SeverableStream {
    fn severed(&self) -> io::Error {
        let _ = self.inner.set_zero_linger();
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

//! Why the simulator could not start or serve.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Errors from loading a tenant file or running the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    /// The tenant file could not be read.
    #[error("cannot read tenant file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The tenant file is not a valid tenant.
    #[error("{origin}: {field}: {message}")]
    InvalidTenant {
        /// The file (or "tenant document" for JSON held in memory).
        origin: String,
        /// Path of the bad field, e.g. `users[2].userPrincipalName`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A fault added at run time is not valid.
    #[error("invalid fault: {field}: {message}")]
    InvalidFault {
        /// The bad field of the fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The listen address is not a loopback address.
    #[error(
        "refusing to listen on {addr}: the simulated tenant serves loopback addresses only \
         (127.0.0.1 or [::1]), because it hands out tokens to anyone who asks"
    )]
    NotLoopback {
        /// The refused address.
        addr: SocketAddr,
    },
    /// Binding the listen address failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The loopback CA or the TLS set-up could not be made.
    #[error("cannot set up loopback HTTPS: {0}")]
    Tls(String),
    /// The CA certificate could not be written.
    #[error("cannot write the CA certificate to {}: {source}", path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The server stopped with an error.
    #[error("simulated tenant server failed: {0}")]
    Serve(#[source] std::io::Error),
}

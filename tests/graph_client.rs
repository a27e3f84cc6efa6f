//! Integration tests: graph_client — the Graph client and the credentials against scripted
//! loopback servers (plain HTTP for Graph and managed identity, HTTPS with a test CA for the
//! Entra token endpoint).

mod arc;
mod credentials;
mod errors;
pub mod fixture;
mod paths;
mod retries;
pub mod server;

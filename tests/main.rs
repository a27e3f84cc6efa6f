//! All integration tests, compiled into one test binary.

mod common;
mod graph_client;
mod notify;
mod simulator;
mod validate;

//! All integration tests, compiled into one test binary.

mod graph_client;
mod notify;
mod simulator;

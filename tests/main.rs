//! All integration tests, compiled into one test binary.

mod common;
mod concurrency;
mod edges;
mod email_layout;
mod faults;
mod graph_client;
mod hosts;
mod input_hardening;
mod notify;
mod run;
mod security;
mod simulator;
#[cfg(unix)]
mod stops;
mod ux;
mod validate;

//! All integration tests, compiled into one test binary.

mod common;
mod concurrency;
mod edges;
mod faults;
mod graph_client;
mod graph_routes;
mod hosts;
mod input_hardening;
mod notify;
mod run;
mod security;
#[cfg(unix)]
mod stops;
mod time_zone;
mod ux;
mod validate;

//! All integration tests, compiled into one test binary.

mod common;
mod concurrency;
mod edges;
mod email_layout;
mod faults;
mod graph_client;
mod graph_routes;
mod hosts;
mod input_hardening;
mod layers;
mod notify;
mod run;
mod security;
#[cfg(unix)]
mod stops;
mod time_zone;
mod ux;
mod validate;

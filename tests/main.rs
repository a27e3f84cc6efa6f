//! All integration tests, compiled into one test binary.

mod common;
mod faults;
mod graph_client;
mod input_hardening;
mod notify;
mod run;
mod security;
mod simulator;
mod validate;

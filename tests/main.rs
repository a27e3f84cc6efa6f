//! All integration tests, compiled into one test binary.

mod common;
mod faults;
mod graph_client;
mod hosts;
mod input_hardening;
mod notify;
mod run;
mod simulator;
mod validate;

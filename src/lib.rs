//! tap-runbook: create a Temporary Access Pass for one Microsoft Entra ID user through
//! Microsoft Graph, as a job-host runbook. See ARCHITECTURE.md for the code map.

pub mod address;
pub mod app;
pub mod auth;
pub mod cli;
pub mod documents;
pub mod endpoint;
pub mod graph;
pub mod hosts;
pub mod input;
pub mod job;
pub mod manifest;
pub mod net;
pub mod notify;
pub mod private_file;
pub mod readme;
pub mod run_config;
pub mod secret;
pub mod signals;
pub mod supervise;
pub mod text;
pub mod usage;
pub mod user_lock;
pub mod workflow;

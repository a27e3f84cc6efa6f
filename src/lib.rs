//! tap-runbook: create a Temporary Access Pass for one Microsoft Entra ID user through
//! Microsoft Graph, as a job-host runbook. See ARCHITECTURE.md for the code map.

pub mod auth;
pub mod graph;
pub mod job;
pub mod notify;
pub mod secret;
pub mod simulate;

//! The simulated tenant: a small, faithful Microsoft Graph on loopback.
//!
//! A [`TenantFile`] describes users, their passes, the Temporary Access Pass policy, the app's
//! credentials and roles, and faults to inject. [`Simulator::start`] serves it with axum on a
//! loopback port: Graph's user, TAP-method, policy and sendMail routes under `/v1.0` and
//! `/beta`, the managed-identity and client-credentials token endpoints, and test-only
//! inspection routes under `/_sim`, over plain HTTP or over HTTPS with a CA of its own
//! ([`LoopbackCa`]). It checks the tokens it issued and the app's roles,
//! enforces the policy, and answers in Graph's shapes (error envelope, request ids,
//! `@odata.context`).

mod connection;
mod envelope;
mod error;
mod faults;
mod pass;
mod pipeline;
mod records;
mod routes;
mod secret;
mod server;
mod state;
mod tenant;
mod tenant_file;
mod time_format;
mod tls;
mod tokens;

pub use error::SimulatorError;
pub use records::{OutboxEntry, RecordedRequest};
pub use secret::Secret;
pub use server::{CaFile, Simulator, banner, serve_forever};
pub use tenant_file::{
    AppRegistration, ExistingPassRule, ExpiresOnFormat, FaultSpec, PassRecord, PolicyState,
    RetryAfter, TapPolicy, TenantFile, ThrottleSpec, UserRecord, UserType,
};
pub use tls::LoopbackCa;

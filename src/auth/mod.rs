//! Credential selection and token acquisition (DESIGN.md §6): one credential, chosen
//! explicitly from the environment captured at start, its token cached for the job.

mod azure_identity;
mod credential;
mod environment;
mod error;
mod expiry;
mod identity_endpoint;
mod token;

pub use credential::{Credential, CredentialKind};
pub use environment::Environment;
pub use error::AuthError;
pub use token::AccessToken;

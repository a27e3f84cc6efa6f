//! Credential selection and token acquisition: one credential, chosen
//! explicitly from the environment captured at start, its token cached for the job.

mod azure_arc;
mod azure_identity;
mod credential;
mod error;
mod expiry;
mod identity_endpoint;
mod token;

pub use azure_arc::{ArcTokensFolder, MAX_KEY_FILE_BYTES};
pub use credential::{Credential, CredentialKind};
pub use error::AuthError;
pub use token::AccessToken;

//! The one Microsoft Graph client: base URL per cloud, bearer
//! token, one retry policy, one error-envelope parser, and the typed calls of the workflow.

mod calls;
mod client;
mod cloud;
mod error;
mod model;
mod path;
mod proxy;
mod retry;
mod transport;

pub use calls::Deleted;
pub use client::{GraphAttempt, GraphClient, GraphConfig};
pub(crate) use cloud::is_loopback;
pub use cloud::{Cloud, validate_graph_url};
pub use error::{GraphCall, GraphError, GraphErrorKind};
pub use model::{CreatePass, CreatedPass, GraphUser, TapMethod, TapPolicy};
pub use path::UserRef;
pub use proxy::{ALWAYS_DIRECT, ProxySettings, is_always_direct};
pub use retry::RetryPolicy;
pub(crate) use retry::retry_after;
pub use transport::{
    BodyError, CA_FILE_VARIABLE, HttpSettings, HttpSetupError, MAX_RESPONSE_BYTES,
    TRUST_STORE_VARIABLES, build_http_client, redacted_url,
};
pub(crate) use transport::{client_builder, error_chain, read_body};

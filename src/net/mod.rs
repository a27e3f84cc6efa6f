//! What Graph calls and token requests share, below both: the one HTTP client and the rules
//! its answers are read by, the proxy rule, the retry policy, the national clouds and the
//! environment captured at start. Nothing here knows Graph's calls or how a token is got.

mod cloud;
mod environment;
mod proxy;
mod retry;
mod transport;

pub(crate) use cloud::is_loopback;
pub use cloud::{Cloud, validate_graph_url};
pub use environment::Environment;
pub use proxy::{ALWAYS_DIRECT, ProxySettings, is_always_direct};
pub use retry::RetryPolicy;
pub(crate) use retry::retry_after;
pub use transport::{
    BodyError, CA_FILE_VARIABLE, HttpSettings, HttpSetupError, MAX_RESPONSE_BYTES,
    TRUST_STORE_VARIABLES, build_http_client, redacted_url,
};
pub(crate) use transport::{client_builder, error_chain, read_body};

//! An access token and how long it is good for.

use std::time::Duration;

use time::OffsetDateTime;

use crate::secret::Secret;

/// Refresh this long before expiry, so a token never runs out in flight.
const EXPIRY_MARGIN: Duration = Duration::from_secs(120);

/// A bearer token for Graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The token itself.
    pub token: Secret,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

impl AccessToken {
    /// Whether the token is still good for a request started now.
    pub fn is_fresh(&self) -> bool {
        OffsetDateTime::now_utc() + EXPIRY_MARGIN < self.expires_at
    }
}

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

/// Whether `token` can be sent as `Authorization: Bearer …`: RFC 6750's token characters
/// (letters, digits and `- . _ ~ + /`, then `=` padding). A token endpoint that answers with
/// anything else (a line break, a space, a quote) is refused rather than put into a header.
pub(crate) fn is_bearer_token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

impl AccessToken {
    /// Whether the token is still good for a request started now.
    pub fn is_fresh(&self) -> bool {
        OffsetDateTime::now_utc() + EXPIRY_MARGIN < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rfc_6750_tokens_are_bearer_tokens() {
        assert!(is_bearer_token("eyJ0eXAi.eyJhdWQi.c2ln-_~+/=="));
        for bad in ["", "==", "a b", "a\r\nX-Injected: 1", "tok\"en", "tök"] {
            assert!(!is_bearer_token(bad), "{bad:?}");
        }
    }
}
